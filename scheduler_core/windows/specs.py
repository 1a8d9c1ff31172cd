"""Recurring windows: when each occurrence opens and closes, and its bracket schedules.

* ``WeeklyWindow``: RDS/Redshift maintenance windows, weekly in UTC.
* ``DailyWindow``: RDS backup windows, daily in UTC.
* ``BackupRuleWindow``: an AWS Backup rule; each run of its cron (in its timezone)
  opens a window of ``StartWindowMinutes`` in which the job may start.

``resource_window`` parses the API strings into these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import ClassVar, Protocol

from scheduler_core.actions import Action
from scheduler_core.cron import LocalCron
from scheduler_core.cron.shift import ShiftError, shift_cron
from scheduler_core.windows.brackets import (
    Bracket,
    cron_bracket,
    daily_bracket,
    margin_words,
    weekly_bracket,
)
from scheduler_core.windows.expansion import runs_between
from scheduler_core.windows.instants import MICROSECOND, microseconds

_WINDOW_OPENS = "the window opens"
_WINDOW_CLOSES = "the window closes"


class WindowKind(StrEnum):
    MAINTENANCE = "maintenance"
    BACKUP = "backup"
    AWS_BACKUP = "aws_backup"


BracketPlan = tuple[tuple[Bracket, Bracket] | None, str | None]
"""A start/stop bracket pair, or None and the reason there is none."""


class WindowSpec(Protocol):
    """A recurring window that the analysis can enumerate and bracket."""

    @property
    def longest(self) -> timedelta:
        """The longest a single occurrence lasts."""
        ...

    def occurrences(self, *, begin: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """(opens, closes) in UTC of each occurrence that opens in [begin, end)."""
        ...

    def opening_microseconds(self, *, begin: datetime, end: datetime) -> Sequence[int]:
        """The ``opens`` of ``occurrences`` as microseconds since the epoch (``instants``);
        each closes ``longest`` later."""
        ...

    def brackets(self, margin_minutes: int) -> BracketPlan:
        """Start at opening minus the margin, stop at closing plus the margin."""
        ...


@dataclass(frozen=True, kw_only=True)
class _UtcWindow:
    """A window repeating every ``period`` at a fixed UTC offset from the period's start."""

    start_minute: int
    duration_minutes: int

    period: ClassVar[timedelta]
    bracket: ClassVar[Callable[..., Bracket]]

    @property
    def longest(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    def period_start(self, moment: datetime) -> datetime:
        """The start of the period (day, week) that ``moment`` falls in."""
        return _midnight(moment)

    def occurrences(self, *, begin: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        yield from _periodic(
            self.period_start(begin) + timedelta(minutes=self.start_minute),
            period=self.period,
            length=self.longest,
            begin=begin,
            end=end,
        )

    def opening_microseconds(self, *, begin: datetime, end: datetime) -> Sequence[int]:
        first = self.period_start(begin) + timedelta(minutes=self.start_minute)
        while first < begin:
            first += self.period
        return range(microseconds(first), microseconds(end), self.period // MICROSECOND)

    def brackets(self, margin_minutes: int) -> BracketPlan:
        return _utc_brackets(
            type(self).bracket, self.start_minute, self.duration_minutes, margin_minutes
        )


@dataclass(frozen=True, kw_only=True)
class WeeklyWindow(_UtcWindow):
    """A weekly UTC window; ``start_minute`` counts from Monday 00:00 UTC."""

    period: ClassVar[timedelta] = timedelta(weeks=1)
    bracket: ClassVar[Callable[..., Bracket]] = weekly_bracket

    def period_start(self, moment: datetime) -> datetime:
        return _midnight(moment) - timedelta(days=moment.astimezone(UTC).weekday())


@dataclass(frozen=True, kw_only=True)
class DailyWindow(_UtcWindow):
    """A daily UTC window; ``start_minute`` counts from 00:00 UTC."""

    period: ClassVar[timedelta] = timedelta(days=1)
    bracket: ClassVar[Callable[..., Bracket]] = daily_bracket


@dataclass(frozen=True, kw_only=True)
class BackupRuleWindow:
    """An AWS Backup rule: each run opens a window of ``start_window_minutes``."""

    fields: str
    timezone: str
    start_window_minutes: int

    @property
    def longest(self) -> timedelta:
        return timedelta(minutes=self.start_window_minutes)

    def occurrences(self, *, begin: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        for run in _runs(self.fields, self.timezone, begin, end):
            yield run, run + self.longest

    def opening_microseconds(self, *, begin: datetime, end: datetime) -> Sequence[int]:
        return _run_microseconds(self.fields, self.timezone, begin, end)

    def brackets(self, margin_minutes: int) -> BracketPlan:
        closes = self.start_window_minutes + margin_minutes
        try:
            start = shift_cron(self.fields, -margin_minutes)
            stop = shift_cron(self.fields, closes)
        except ShiftError as exc:
            return None, f"no bracket schedules for this backup rule: {exc}"
        what = "each run of the backup rule"
        return (
            cron_bracket(
                Action.START,
                start,
                self.timezone,
                relation=margin_words(margin_minutes, before=True, what=what),
            ),
            cron_bracket(
                Action.STOP,
                stop,
                self.timezone,
                relation=f"{closes} min after {what} (start window plus margin)",
            ),
        ), None


def _utc_brackets(
    bracket: Callable[..., Bracket], start_minute: int, duration_minutes: int, margin_minutes: int
) -> BracketPlan:
    """Brackets of a UTC window; the bracket builders wrap minutes round the day or week."""
    opens = start_minute - margin_minutes
    closes = start_minute + duration_minutes + margin_minutes
    before = margin_words(margin_minutes, before=True, what=_WINDOW_OPENS)
    after = margin_words(margin_minutes, before=False, what=_WINDOW_CLOSES)
    return (
        bracket(Action.START, opens, relation=before),
        bracket(Action.STOP, closes, relation=after),
    ), None


@lru_cache(maxsize=64)
def _runs(fields: str, timezone: str, begin: datetime, end: datetime) -> tuple[datetime, ...]:
    # One backup plan usually selects many resources: evaluate its cron once per analysis.
    # As LocalCron.between: runs at or after ``begin``.
    cron = LocalCron(fields, timezone)
    return tuple(runs_between(cron, after=begin - timedelta(microseconds=1), before=end))


@lru_cache(maxsize=64)
def _run_microseconds(
    fields: str, timezone: str, begin: datetime, end: datetime
) -> tuple[int, ...]:
    return tuple(microseconds(run) for run in _runs(fields, timezone, begin, end))


def _midnight(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _periodic(
    first: datetime, *, period: timedelta, length: timedelta, begin: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    opens = first
    while opens < begin:
        opens += period
    while opens < end:
        yield opens, opens + length
        opens += period
