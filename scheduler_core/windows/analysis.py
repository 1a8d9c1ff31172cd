"""Does a composition's schedule cover its resources' windows? Brackets where it does not.

Pure: no AWS calls, ``now`` is injected. Every occurrence of a window that opens in
the next ``weeks`` weeks, widened by the composition's ``window_margin_minutes`` on
both sides, must lie inside one scheduled running interval (see ``running``) to
count as covered. RDS and Redshift windows are in UTC while the schedule is local,
so DST can move a window in or out of office hours; each occurrence is checked on
its own.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from scheduler_core.cron import CronExpressionError
from scheduler_core.windows import expansion, specs
from scheduler_core.windows import running as running_module
from scheduler_core.windows.brackets import Bracket
from scheduler_core.windows.instants import MICROSECOND, from_microseconds
from scheduler_core.windows.resource_window import ResourceWindow
from scheduler_core.windows.running import RunningTime, Schedule, shared_running_time
from scheduler_core.windows.specs import WindowKind

DEFAULT_WEEKS = 52
_MINUTE = 60_000_000  # microseconds
_KEY_PREFIX = {WindowKind.MAINTENANCE: "mw", WindowKind.BACKUP: "bw", WindowKind.AWS_BACKUP: "ab"}
_STOP_INTERRUPTS = (
    "the composition is already running when every occurrence of this window (minus the "
    "margin) opens, but its own stop schedule ends that run before the window (plus the "
    "margin) closes; a bracket cannot help: move stop_resources_at or the window"
)


class WindowSchedule(Schedule, Protocol):
    """What the analysis needs of a composition (``config.Composition`` fits)."""

    @property
    def name(self) -> str: ...

    @property
    def window_margin_minutes(self) -> int: ...


@dataclass(frozen=True, kw_only=True)
class WindowAnalysis:
    """Coverage of one window of one resource by one composition's schedule.

    Attributes:
        key: stable short id of (composition, resource, kind, window), usable in an
            EventBridge schedule name (``[0-9a-zA-Z-_.]``, 15 characters).
        occurrences: how many occurrences open within the analysed weeks.
        next_uncovered_at: when the first uncovered occurrence opens (UTC), if any.
        brackets: start/stop schedules that would cover the window; empty when it is
            covered, when they could not help, or when they cannot be expressed.
        stop_conflicts: occurrences at whose bracket stop time the schedule has the
            composition running (e.g. a UTC window that DST moves into office
            hours): whoever runs the stop bracket must skip it then
            (``running.scheduled_running``), or it cuts the working day short.
        problem: why the window was not analysed or has no brackets, else None.
    """

    composition: str
    resource_type: str
    resource_id: str
    kind: WindowKind
    window: str
    key: str
    covered: bool
    occurrences: int
    uncovered_occurrences: int
    next_uncovered_at: datetime | None
    brackets: tuple[Bracket, ...]
    stop_conflicts: int = 0
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        """One item of ``windows --json``; ``problem`` only when there is one."""
        document: dict[str, Any] = {
            "composition": self.composition,
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "kind": str(self.kind),
            "window": self.window,
            "covered": self.covered,
            "uncovered_occurrences": self.uncovered_occurrences,
            "schedules": [bracket.as_json() for bracket in self.brackets],
        }
        if self.problem is not None:
            document["problem"] = self.problem
        return document


def clear_caches() -> None:
    """Forget the cached running times, backup rule runs and parsed day rules.

    For benchmarks that time an analysis from scratch; results never depend on them.
    """
    # Private to this package, the caches are cleared only here.
    running_module._running_over_days.cache_clear()
    specs._runs.cache_clear()
    specs._run_microseconds.cache_clear()
    expansion._day_rule.cache_clear()


def window_key(composition: str, window: ResourceWindow) -> str:
    """A stable short id of a composition's window, such as ``mw-3f2a9c0d81b4``."""
    identity = "\x1f".join(
        (composition, window.resource_type, window.resource_id, window.kind, window.window)
    )
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:12]
    return f"{_KEY_PREFIX[window.kind]}-{digest}"


def analyse_windows(
    composition: WindowSchedule,
    windows: list[ResourceWindow] | tuple[ResourceWindow, ...],
    *,
    now: datetime,
    weeks: int = DEFAULT_WEEKS,
) -> list[WindowAnalysis]:
    """Analyse each window against the composition's scheduled running time.

    Args:
        composition: the composition (name, timezone, start/stop schedules, margin).
        windows: windows of its resources, e.g. from ``collect_windows``.
        now: aware datetime, in any zone; occurrences that open in [now, now + weeks)
            count, the weeks being 7 x 24 hours from the instant ``now``.
        weeks: how far ahead to look (52 in production; shorter in tests).

    Returns:
        One analysis per window, in the order given. Unparsed windows come back
        uncovered with their ``problem``; they never raise.

    Raises:
        CronExpressionError: the composition's own schedule or timezone is invalid
            (the config loader rejects those earlier).
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    # In UTC: adding weeks to a local wall clock would move the horizon across DST.
    now = now.astimezone(UTC)
    margin = timedelta(minutes=composition.window_margin_minutes)
    horizon = now + timedelta(weeks=weeks)
    parsed = [window.spec for window in windows if window.spec is not None]
    begin = now - margin
    # Occurrences opening just before the horizon need the running time past it.
    end = horizon + max((spec.longest for spec in parsed), default=timedelta(0)) + margin
    end += timedelta(days=1)
    running = (
        shared_running_time(composition, begin=begin, end=end)
        if parsed
        else RunningTime(begin=begin, end=end, intervals=())
    )
    return [
        _analyse(composition, window, running=running, now=now, horizon=horizon)
        for window in windows
    ]


def _analyse(
    composition: WindowSchedule,
    window: ResourceWindow,
    *,
    running: RunningTime,
    now: datetime,
    horizon: datetime,
) -> WindowAnalysis:
    def result(**fields: Any) -> WindowAnalysis:
        return WindowAnalysis(
            composition=composition.name,
            resource_type=window.resource_type,
            resource_id=window.resource_id,
            kind=window.kind,
            window=window.window,
            key=window_key(composition.name, window),
            **fields,
        )

    unanalysed = {"covered": False, "occurrences": 0, "uncovered_occurrences": 0}
    if window.spec is None:
        return result(**unanalysed, next_uncovered_at=None, brackets=(), problem=window.problem)
    margin_minutes = composition.window_margin_minutes
    try:
        openings = window.spec.opening_microseconds(begin=now, end=horizon)
    except CronExpressionError as exc:
        return result(**unanalysed, next_uncovered_at=None, brackets=(), problem=str(exc))
    counts = _coverage(
        openings,
        running,
        margin=margin_minutes * _MINUTE,
        length=window.spec.longest // MICROSECOND,
    )
    brackets: tuple[Bracket, ...] = ()
    problem: str | None = None
    if counts.uncovered and counts.start_always_running:
        problem = _STOP_INTERRUPTS
    elif counts.uncovered:
        pair, problem = window.spec.brackets(margin_minutes)
        brackets = pair or ()
    first_uncovered = counts.first_uncovered
    return result(
        covered=counts.uncovered == 0,
        occurrences=counts.total,
        uncovered_occurrences=counts.uncovered,
        next_uncovered_at=None if first_uncovered is None else from_microseconds(first_uncovered),
        brackets=brackets,
        stop_conflicts=counts.stop_conflicts if brackets else 0,
        problem=problem,
    )


@dataclass(frozen=True, kw_only=True)
class _Coverage:
    total: int
    uncovered: int
    first_uncovered: int | None  # when it opens, in microseconds since the epoch
    # True while the bracket's start time lies inside the running time every time.
    start_always_running: bool
    stop_conflicts: int


def _coverage(
    openings: Sequence[int], running: RunningTime, *, margin: int, length: int
) -> _Coverage:
    """Each occurrence, widened by ``margin``, against the running intervals (all in µs).

    Covered: one interval holds [opens - margin, closes + margin]. This loop runs once
    per occurrence of every window, so it works on integers (``instants``).
    """
    starts, ends = running.microsecond_bounds
    uncovered = stop_conflicts = 0
    first_uncovered: int | None = None
    start_always_running = True
    for opens in openings:
        before = opens - margin
        after = opens + length + margin
        index = bisect_right(starts, before) - 1
        if index >= 0 and before < ends[index]:
            if after < ends[index]:
                # Covered, and the same interval still runs when the stop bracket would.
                stop_conflicts += 1
                continue
            covered = ends[index] == after
        else:
            start_always_running = covered = False
        later = bisect_right(starts, after) - 1
        stop_conflicts += later >= 0 and after < ends[later]
        if not covered:
            uncovered += 1
            if first_uncovered is None:
                first_uncovered = opens
    return _Coverage(
        total=len(openings),
        uncovered=uncovered,
        first_uncovered=first_uncovered,
        start_always_running=start_always_running,
        stop_conflicts=stop_conflicts,
    )
