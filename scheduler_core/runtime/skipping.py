"""``envctl skip NAME DATE[..DATE]``: every scheduled start on those local dates does nothing.

The dates become ``skip#<due time>`` rows, the same the calendars make (source
``skip``), so the start machine needs nothing new; ``apply`` leaves them alone. The
next-start / next-stop flags are in ``Runtime.skip``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler_core.config.models import ON_DEMAND, Composition
from scheduler_core.cron import Occurrence
from scheduler_core.exceptions import BadInputError
from scheduler_core.holidays import scheduled_time, skip_range, starts_between
from scheduler_core.runtime.store import Store

KEEP_AFTER = timedelta(days=2)


def skip_dates(
    store: Store,
    composition: Composition,
    text: str,
    *,
    who: str,
    via: str,
    now: datetime | None = None,
) -> list[Occurrence]:
    """Skip the scheduled starts on ``text``'s local dates; the starts skipped."""
    now = now or datetime.now(UTC)
    if composition.start_resources_at == ON_DEMAND:
        raise BadInputError(
            f"{composition.name} has no scheduled start (start is on-demand); nothing to skip"
        )
    first, last = skip_range(text, today=now.astimezone(composition.zone).date())
    starts = starts_between(composition, first, last, now=now)
    store.require()  # a missing table: nothing half written
    for start in starts:
        store.put_skip(
            composition.name,
            due=scheduled_time(start.utc),
            reason=f"skip {start.local.date().isoformat()}",
            expires_at=int((start.utc + KEEP_AFTER).timestamp()),
        )
    store.audit(
        composition.name,
        who=who,
        what=f"skip {text}",
        via=via,
        detail=f"{len(starts)} scheduled start(s)",
        now=now,
    )
    return starts
