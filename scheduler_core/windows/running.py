"""When a composition's schedule has its resources running.

The resources run from each occurrence of ``start_resources_at`` until the next
occurrence of ``stop_resources_at`` (both evaluated in the composition's timezone).
Further starts while running and stops while stopped change nothing. A start and a
stop at the same minute leave the resources stopped: both executions are started and
the stop is the later word. Without a start schedule nothing ever runs; without a
stop schedule the resources keep running from the first start on. A start on one of
the composition's holidays (its calendars, local dates) does nothing, as the start
machine makes it do (``asl.dates``); stops run every day.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, lru_cache
from typing import Protocol

from scheduler_core.cron import ON_DEMAND, LocalCron
from scheduler_core.windows.expansion import runs_between
from scheduler_core.windows.instants import microseconds

_START, _STOP = 0, 1  # sort key: at the same instant the start is applied first


class Schedule(Protocol):
    """What running time needs of a composition (``config.Composition`` fits)."""

    @property
    def timezone(self) -> str: ...

    @property
    def start_resources_at(self) -> str: ...

    @property
    def stop_resources_at(self) -> str: ...

    @property
    def holidays(self) -> Collection[date]: ...


@dataclass(frozen=True, kw_only=True)
class Interval:
    """A half-open span [start, end) of UTC time in which the resources run."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, kw_only=True)
class RunningTime:
    """The scheduled running intervals of a composition between ``begin`` and ``end``.

    An interval still open at ``end`` is cut off there, so ask only about moments
    before ``end``. The first interval may start before ``begin``.
    """

    begin: datetime
    end: datetime
    intervals: tuple[Interval, ...]
    _starts: tuple[datetime, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", tuple(span.start for span in self.intervals))

    @cached_property
    def microsecond_bounds(self) -> tuple[list[int], list[int]]:
        """Starts and ends of the intervals in microseconds since the epoch (``instants``).

        For loops that ask about many moments: with ``bisect`` on the starts, the same
        answers as ``interval_at`` at integer cost. Computed once, on first use.
        """
        return (
            [microseconds(span.start) for span in self.intervals],
            [microseconds(span.end) for span in self.intervals],
        )

    def interval_at(self, moment: datetime) -> Interval | None:
        """The running interval that contains ``moment``, if any."""
        index = bisect_right(self._starts, moment) - 1
        if index >= 0 and self.intervals[index].contains(moment):
            return self.intervals[index]
        return None

    def is_running(self, moment: datetime) -> bool:
        """Whether the schedule has the resources running at ``moment``."""
        return self.interval_at(moment) is not None

    def covers(self, start: datetime, end: datetime) -> bool:
        """Whether one running interval holds all of [start, end)."""
        interval = self.interval_at(start)
        return interval is not None and end <= interval.end


def running_time(schedule: Schedule, *, begin: datetime, end: datetime) -> RunningTime:
    """Running intervals of ``schedule`` that overlap [begin, end).

    Args:
        schedule: the composition (timezone, start_resources_at, stop_resources_at).
        begin: aware datetime; the state at ``begin`` follows from the last start and
            stop at or before it, however long ago.
        end: aware datetime after ``begin``.

    Raises:
        CronExpressionError: a schedule expression or the timezone is invalid.
    """
    if schedule.start_resources_at == ON_DEMAND:
        return RunningTime(begin=begin, end=end, intervals=())
    starts = LocalCron(schedule.start_resources_at, schedule.timezone)
    stops = (
        None
        if schedule.stop_resources_at == ON_DEMAND
        else LocalCron(schedule.stop_resources_at, schedule.timezone)
    )
    holidays = frozenset(schedule.holidays)
    running_since = _running_since(starts, stops, begin, holidays)
    intervals: list[Interval] = []
    for moment, event in _events(starts, stops, begin=begin, end=end, holidays=holidays):
        if event == _START and running_since is None:
            running_since = moment
        elif event == _STOP and running_since is not None:
            if moment > running_since:
                intervals.append(Interval(start=running_since, end=moment))
            running_since = None
    if running_since is not None:
        intervals.append(Interval(start=running_since, end=end))
    return RunningTime(begin=begin, end=end, intervals=tuple(intervals))


@dataclass(frozen=True, kw_only=True)
class _ScheduleKey:
    """The parts of a schedule its running time depends on, as a cache key."""

    timezone: str
    start_resources_at: str
    stop_resources_at: str
    holidays: frozenset[date]


def shared_running_time(schedule: Schedule, *, begin: datetime, end: datetime) -> RunningTime:
    """``running_time`` over at least [begin, end), shared by equal schedules.

    Cached per (timezone, start, stop, holidays) and the UTC days the span covers:
    the compositions of one plan that share a schedule, and the analyses of one day,
    compute it once. The span is widened to whole UTC days (plus one at the end);
    the intervals do not depend on where the span begins (the state at ``begin``
    follows from the last start and stop before it), so every answer about a moment
    in [begin, end) is the same.
    """
    key = _ScheduleKey(
        timezone=schedule.timezone,
        start_resources_at=schedule.start_resources_at,
        stop_resources_at=schedule.stop_resources_at,
        holidays=frozenset(schedule.holidays),
    )
    return _running_over_days(key, _midnight(begin), _midnight(end) + timedelta(days=1))


@lru_cache(maxsize=64)
def _running_over_days(key: _ScheduleKey, begin: datetime, end: datetime) -> RunningTime:
    return running_time(key, begin=begin, end=end)


def _midnight(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _running_since(
    starts: LocalCron, stops: LocalCron | None, moment: datetime, holidays: frozenset[date]
) -> datetime | None:
    """When the run going on at ``moment`` began, or None when stopped at ``moment``."""
    last_start = starts.latest(moment)
    # Back past the starts that fell on a holiday (finitely many: the calendars are).
    while last_start is not None and last_start.local.date() in holidays:
        last_start = starts.latest(last_start.utc - timedelta(minutes=1))
    if last_start is None:
        return None
    last_stop = stops.latest(moment) if stops else None
    if last_stop is not None and last_stop.utc >= last_start.utc:
        return None
    return last_start.utc


def _events(
    starts: LocalCron,
    stops: LocalCron | None,
    *,
    begin: datetime,
    end: datetime,
    holidays: frozenset[date] = frozenset(),
) -> Iterator[tuple[datetime, int]]:
    """Start and stop instants after ``begin`` and before ``end``, in order."""
    working = [
        (moment, _START)
        for moment in runs_between(starts, after=begin, before=end)
        if not holidays or moment.astimezone(starts.zone).date() not in holidays
    ]
    if stops is None:
        return iter(working)
    stopping = [(moment, _STOP) for moment in runs_between(stops, after=begin, before=end)]
    return heapq.merge(working, stopping)


def scheduled_running(schedule: Schedule, *, at: datetime) -> bool:
    """Whether the schedule has the resources running at ``at`` (aware datetime).

    Meant for the target of a bracket stop: stopping is wrong while the
    composition's own schedule wants it running.
    """
    at = at.astimezone(UTC)  # a minute later is a real minute, even in a repeated hour
    return running_time(schedule, begin=at, end=at + timedelta(minutes=1)).is_running(at)
