"""The week at a glance: the coming days of a composition as a day × hour grid.

Pure: no AWS calls, ``now`` is injected. The inputs are what ``schedule --json``
shows (the recorded runs of the next 7 days, the pending auto-stop, the pause) plus
the composition's windows and their analyses. ``week_text`` draws the grid.

A row is one local day and has one cell per local hour, so a day on which the clocks
go forward has 23 cells and one on which they go back has 25. A cell says what
happens in that hour: running on schedule, kept up past the schedule (an auto-stop
or an extended stop), stopped, a start that does nothing, or a window (covered or
not). Past hours of today are ``past``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from scheduler_core.actions import Action
from scheduler_core.config.models import Composition
from scheduler_core.upcoming import HORIZON, UpcomingRun
from scheduler_core.windows.analysis import WindowAnalysis
from scheduler_core.windows.resource_window import ResourceWindow
from scheduler_core.windows.running import scheduled_running
from scheduler_core.windows.specs import WindowKind

DAYS = 7
_HOUR = timedelta(hours=1)
_START, _STOP = 0, 1  # at the same instant the start comes first: the stop is the later word
Span = tuple[datetime, datetime]


class Mark(StrEnum):
    """What one hour of the grid shows, most telling first when several apply."""

    MAINTENANCE_UNCOVERED = "maintenance_uncovered"
    BACKUP_UNCOVERED = "backup_uncovered"
    MAINTENANCE = "maintenance"
    BACKUP = "backup"
    START_SKIPPED = "start_skipped"
    KEPT_UP = "kept_up"
    RUNNING = "running"
    STOPPED = "stopped"
    PAST = "past"


class Coverage(StrEnum):
    COVERED = "covered"  # the composition runs through it (with the margin)
    BRACKETED = "bracketed"  # apply's bracket schedules keep the resource up for it
    UNCOVERED = "uncovered"


@dataclass(frozen=True, kw_only=True)
class HourCell:
    """One local hour: ``at`` is its local start (with the offset), ``hour`` its clock hour."""

    at: datetime
    hour: int
    mark: Mark


@dataclass(frozen=True, kw_only=True)
class DayRow:
    day: date
    cells: tuple[HourCell, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class WindowOccurrence:
    """One occurrence of a window within the week, in the composition's local time."""

    resource_type: str
    resource_id: str
    kind: WindowKind
    window: str
    opens: datetime
    closes: datetime
    coverage: Coverage


@dataclass(frozen=True, kw_only=True)
class Week:
    composition: str
    timezone: str
    paused: bool
    days: tuple[DayRow, ...]
    windows: tuple[WindowOccurrence, ...]
    window_problems: tuple[str, ...]
    windows_unread: str | None = None  # why the windows could not be read, if they could not


def week_at_a_glance(
    composition: Composition,
    *,
    now: datetime,
    runs: Sequence[UpcomingRun],
    auto_stop_at: datetime | None,
    running_now: bool | None = None,
    paused: bool = False,
    windows: Sequence[tuple[ResourceWindow, WindowAnalysis]] = (),
    windows_unread: str | None = None,
    days: int = DAYS,
) -> Week:
    """The grid of today and the ``days - 1`` days after it, in the composition's zone.

    Args:
        composition: the composition (zone, holidays, window margin).
        now: aware datetime; hours before it are ``past``.
        runs: ``upcoming.recorded_runs`` (or ``upcoming_runs``) from ``now``.
        auto_stop_at: the pending auto-stop, if any (an on-demand run, or an extend).
        running_now: whether the composition runs now (its recorded state); None:
            as the schedule has it, or running when an auto-stop is pending.
        paused: every scheduled run is paused (then no note repeats it per day).
        windows: each window of its resources with its analysis (``analyse_windows``).
        windows_unread: why the windows could not be read (the grid is drawn without).
        days: how many rows, today first.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    zone = composition.zone
    today = now.astimezone(zone).date()
    end = now + HORIZON
    planned = scheduled_running(composition, at=now)
    if running_now is None:
        running_now = auto_stop_at is not None or planned
    actual = _spans(running_now, _events(runs, auto_stop_at, planned=False), begin=now, end=end)
    scheduled = _spans(planned, _events(runs, None, planned=True), begin=now, end=end)
    occurrences = _occurrences(composition, windows, actual, now=now, end=end)
    skipped = [
        run.at.astimezone(UTC) for run in runs if run.action is Action.START and not run.runs
    ]
    rows = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        cells = tuple(
            HourCell(
                at=begin.astimezone(zone),
                hour=begin.astimezone(zone).hour,
                mark=_mark(
                    (begin, finish),
                    now=now,
                    actual=actual,
                    scheduled=scheduled,
                    skipped=skipped,
                    occurrences=occurrences,
                ),
            )
            for begin, finish in _hours(day, zone)
        )
        notes = _notes(composition, day, cells, runs, auto_stop_at=auto_stop_at, paused=paused)
        rows.append(DayRow(day=day, cells=cells, notes=notes))
    return Week(
        composition=composition.name,
        timezone=composition.timezone,
        paused=paused,
        days=tuple(rows),
        windows=tuple(occurrences),
        window_problems=tuple(
            f"{window.resource_id} {window.kind} window: {analysis.problem or window.problem}"
            for window, analysis in windows
            if window.spec is None or (analysis.problem and analysis.occurrences == 0)
        ),
        windows_unread=windows_unread,
    )


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) of the local ``day``, also where midnight does not exist."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _hours(day: date, zone: ZoneInfo) -> Iterable[Span]:
    """The local hours of ``day`` as UTC spans: 23, 24 or 25 of them."""
    begin, finish = day_start(day, zone), day_start(day + timedelta(days=1), zone)
    while begin < finish:
        yield begin, min(begin + _HOUR, finish)
        begin += _HOUR


def _events(
    runs: Sequence[UpcomingRun], auto_stop_at: datetime | None, *, planned: bool
) -> list[tuple[datetime, int]]:
    """Starts and stops that will happen; ``planned``: the schedule's own, unextended."""
    kinds = {Action.START: _START, Action.STOP: _STOP}
    events = [
        (run.at.astimezone(UTC), kinds[run.action])
        for run in runs
        if run.runs or (planned and run.reason == "extended")
    ]
    if auto_stop_at is not None:
        events.append((auto_stop_at.astimezone(UTC), _STOP))
    return sorted(events)


def _spans(
    running: bool, events: list[tuple[datetime, int]], *, begin: datetime, end: datetime
) -> list[Span]:
    """Running spans from ``begin`` (running or not then) through the events to ``end``."""
    spans: list[Span] = []
    since = begin if running else None
    for moment, event in events:
        if event == _START and since is None:
            since = moment
        elif event == _STOP and since is not None:
            if moment > since:
                spans.append((since, moment))
            since = None
    if since is not None:
        spans.append((since, end))
    return spans


def _overlaps(spans: Iterable[Span], begin: datetime, end: datetime) -> bool:
    return any(start < end and begin < finish for start, finish in spans)


def _outside(spans: Sequence[Span], others: Sequence[Span], begin: datetime, end: datetime) -> bool:
    """Whether some moment of [begin, end) lies in ``spans`` but in none of ``others``."""
    for start, finish in spans:
        low, high = max(start, begin), min(finish, end)
        for other_start, other_finish in sorted(others):
            if low >= high:
                break
            if other_start <= low < other_finish:
                low = other_finish
        if low < high:
            return True
    return False


def _mark(
    hour: Span,
    *,
    now: datetime,
    actual: Sequence[Span],
    scheduled: Sequence[Span],
    skipped: Sequence[datetime],
    occurrences: Sequence[WindowOccurrence],
) -> Mark:
    begin, end = hour
    if end <= now:
        return Mark.PAST
    begin = max(begin, now)
    marks = [
        _window_mark(occurrence)
        for occurrence in occurrences
        if occurrence.opens < end and begin < occurrence.closes
    ]
    if any(begin <= moment < end for moment in skipped):
        marks.append(Mark.START_SKIPPED)
    if _outside(actual, scheduled, begin, end):
        marks.append(Mark.KEPT_UP)
    elif _overlaps(actual, begin, end):
        marks.append(Mark.RUNNING)
    marks.append(Mark.STOPPED)
    order = list(Mark)
    return min(marks, key=order.index)


def _window_mark(occurrence: WindowOccurrence) -> Mark:
    maintenance = occurrence.kind is WindowKind.MAINTENANCE
    if occurrence.coverage is Coverage.UNCOVERED:
        return Mark.MAINTENANCE_UNCOVERED if maintenance else Mark.BACKUP_UNCOVERED
    return Mark.MAINTENANCE if maintenance else Mark.BACKUP


def _occurrences(
    composition: Composition,
    windows: Sequence[tuple[ResourceWindow, WindowAnalysis]],
    actual: Sequence[Span],
    *,
    now: datetime,
    end: datetime,
) -> list[WindowOccurrence]:
    """Each window occurrence open at some time in [now, end), and whether it is covered."""
    margin = timedelta(minutes=composition.window_margin_minutes)
    found = []
    for window, analysis in windows:
        if window.spec is None:
            continue
        for opens, closes in window.spec.occurrences(begin=now - window.spec.longest, end=end):
            if closes <= now:
                continue
            needed = (max(opens - margin, now), closes + margin)
            # A span still running at the end of what is known counts as going on.
            held = any(
                start <= needed[0] and (needed[1] <= finish or finish >= end)
                for start, finish in actual
            )
            coverage = (
                Coverage.COVERED
                if held
                else Coverage.BRACKETED
                if analysis.brackets
                else Coverage.UNCOVERED
            )
            found.append(
                WindowOccurrence(
                    resource_type=window.resource_type,
                    resource_id=window.resource_id,
                    kind=window.kind,
                    window=window.window,
                    opens=opens.astimezone(composition.zone),
                    closes=closes.astimezone(composition.zone),
                    coverage=coverage,
                )
            )
    return sorted(found, key=lambda occurrence: occurrence.opens)


def _notes(
    composition: Composition,
    day: date,
    cells: Sequence[HourCell],
    runs: Sequence[UpcomingRun],
    *,
    auto_stop_at: datetime | None,
    paused: bool,
) -> tuple[str, ...]:
    """What the row's cells cannot say: why a run does nothing, the auto-stop, DST."""
    zone = composition.zone
    on_day = [run for run in runs if run.at.astimezone(zone).date() == day]
    notes = []
    if day in composition.holidays and not any(run.reason == "holiday" for run in on_day):
        notes.append("holiday")
    notes += [
        f"{run.action.value} {run.at.astimezone(zone):%H:%M} {_why(run, day, zone, auto_stop_at)}"
        for run in on_day
        if not run.runs and not (paused and run.reason == "paused")
    ]
    extended = any(run.reason == "extended" for run in runs)
    if auto_stop_at is not None and not extended and auto_stop_at.astimezone(zone).date() == day:
        notes.append(f"auto-stop {auto_stop_at.astimezone(zone):%H:%M}")
    return (*notes, *_clock_change(len(cells)))


def _clock_change(hours: int) -> tuple[str, ...]:
    if hours < 24:
        return (f"{hours} h: clocks go forward",)
    if hours > 24:
        return (f"{hours} h: clocks go back",)
    return ()


def _why(run: UpcomingRun, day: date, zone: ZoneInfo, auto_stop_at: datetime | None) -> str:
    if run.reason == "extended":
        if auto_stop_at is None:
            return "extended"
        local = auto_stop_at.astimezone(zone)
        return (
            f"extended to {local:%H:%M}" if local.date() == day else f"extended to {local:%a %H:%M}"
        )
    if run.reason == "holiday":
        return "skipped (holiday)"
    return "paused" if run.reason == "paused" else "skipped"
