"""Which maintenance/backup windows a stop now would run into, uncovered.

A window is uncovered when it opens within the horizon and nothing keeps its
resource up for it: no bracket schedule, and no scheduled start at least the
composition's ``window_margin_minutes`` before it opens. The Slack confirmation of a
stop words these; the decision is here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler_core.aws import Aws
from scheduler_core.config import Composition
from scheduler_core.places import reaching
from scheduler_core.reconcile.windows import has_windows
from scheduler_core.windows import analyse_windows, collect_windows


@dataclass(frozen=True, kw_only=True)
class UncoveredWindow:
    resource_type: str
    resource_id: str
    kind: str
    opens_at: datetime


def uncovered_windows(
    aws: Aws,
    composition: Composition,
    *,
    now: datetime,
    horizon: timedelta,
    next_start: Callable[[], datetime | None],
) -> list[UncoveredWindow]:
    """Windows opening within ``horizon`` that a stop at ``now`` leaves uncovered.

    ``next_start`` gives the next scheduled start (None when on demand); it is only
    asked when the composition has windows.
    """
    if not has_windows(composition):
        return []
    windows = collect_windows(reaching(composition, aws), composition)
    bracketed = {
        (a.resource_type, a.resource_id, a.window)
        for a in analyse_windows(composition, windows, now=now, weeks=1)
        if a.brackets
    }
    margin = timedelta(minutes=composition.window_margin_minutes)
    start = next_start()
    found = []
    for window in windows:
        if (
            window.spec is None
            or (window.resource_type, window.resource_id, window.window) in bracketed
        ):
            continue
        opening = next(iter(window.spec.occurrences(begin=now, end=now + horizon)), None)
        if opening is None or (start is not None and start <= opening[0] - margin):
            continue
        found.append(
            UncoveredWindow(
                resource_type=str(window.resource_type),
                resource_id=window.resource_id,
                kind=str(window.kind),
                opens_at=opening[0],
            )
        )
    return found
