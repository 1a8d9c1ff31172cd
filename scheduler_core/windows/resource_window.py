"""One window of one resource, parsed from what the AWS APIs return, never raising.

* RDS/Redshift ``PreferredMaintenanceWindow``: weekly, UTC, ``ddd:hh24:mi-ddd:hh24:mi``
  (may wrap round the week end: ``sat:23:45-sun:00:15``).
* RDS ``PreferredBackupWindow``: daily, UTC, ``hh24:mi-hh24:mi`` (may wrap midnight).
* AWS Backup plan rule: ``cron(...)`` in ``ScheduleExpressionTimezone`` (default UTC),
  ``StartWindowMinutes`` (default 480).

A text that cannot be parsed (None, "", garbage, ``rate(...)``) gives a
``ResourceWindow`` with ``spec`` None and a ``problem`` sentence: the analysis
reports it instead of failing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from scheduler_core.cron import CronExpressionError, LocalCron
from scheduler_core.windows.brackets import MINUTES_PER_DAY, MINUTES_PER_WEEK
from scheduler_core.windows.specs import BackupRuleWindow, DailyWindow, WeeklyWindow, WindowKind

DEFAULT_START_WINDOW_MINUTES = 480
DEFAULT_BACKUP_TIMEZONE = "UTC"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKLY = re.compile(r"^(\w{3}):(\d{2}):(\d{2})-(\w{3}):(\d{2}):(\d{2})$")
_DAILY = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


@dataclass(frozen=True, kw_only=True)
class ResourceWindow:
    """One window of one resource: its API text and, when it parses, its spec."""

    resource_type: str
    resource_id: str
    kind: WindowKind
    window: str
    spec: WeeklyWindow | DailyWindow | BackupRuleWindow | None
    problem: str | None = None

    @classmethod
    def maintenance(cls, resource_type: str, resource_id: str, text: str | None) -> ResourceWindow:
        """From ``PreferredMaintenanceWindow`` (weekly, UTC)."""
        return cls._parsed(resource_type, resource_id, WindowKind.MAINTENANCE, text, _weekly)

    @classmethod
    def backup(cls, resource_type: str, resource_id: str, text: str | None) -> ResourceWindow:
        """From RDS ``PreferredBackupWindow`` (daily, UTC)."""
        return cls._parsed(resource_type, resource_id, WindowKind.BACKUP, text, _daily)

    @classmethod
    def aws_backup(
        cls,
        resource_type: str,
        resource_id: str,
        *,
        expression: str | None,
        timezone: str | None,
        start_window_minutes: int | None,
    ) -> ResourceWindow:
        """From an AWS Backup plan rule (``ScheduleExpression`` and friends)."""
        zone = timezone or DEFAULT_BACKUP_TIMEZONE
        minutes = (
            DEFAULT_START_WINDOW_MINUTES if start_window_minutes is None else start_window_minutes
        )
        shown = f"{expression or '(no schedule)'} {zone}, start within {minutes} min"
        spec: BackupRuleWindow | None = None
        problem: str | None = None
        try:
            spec = _backup_rule(expression, zone, minutes)
        except ValueError as exc:
            problem = f"backup rule not analysed: {exc}"
        return cls(
            resource_type=resource_type,
            resource_id=resource_id,
            kind=WindowKind.AWS_BACKUP,
            window=shown,
            spec=spec,
            problem=problem,
        )

    @classmethod
    def _parsed(
        cls,
        resource_type: str,
        resource_id: str,
        kind: WindowKind,
        text: str | None,
        parse: Callable[[object], WeeklyWindow | DailyWindow],
    ) -> ResourceWindow:
        spec: WeeklyWindow | DailyWindow | None
        try:
            spec, problem = parse(text), None
        except ValueError as exc:
            spec, problem = None, f"{kind} window not analysed: {exc}"
        return cls(
            resource_type=resource_type,
            resource_id=resource_id,
            kind=kind,
            window=text if isinstance(text, str) else "",
            spec=spec,
            problem=problem,
        )


def _weekly(text: object) -> WeeklyWindow:
    match = _WEEKLY.match(text.strip().lower()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"expected ddd:hh24:mi-ddd:hh24:mi such as sun:03:00-sun:03:30, got {text!r}"
        )
    start_day, start_hour, start_minute, end_day, end_hour, end_minute = match.groups()
    start = _day(start_day, text) * MINUTES_PER_DAY + _clock(start_hour, start_minute, text)
    end = _day(end_day, text) * MINUTES_PER_DAY + _clock(end_hour, end_minute, text)
    return WeeklyWindow(
        start_minute=start, duration_minutes=_length(start, end, MINUTES_PER_WEEK, text)
    )


def _daily(text: object) -> DailyWindow:
    match = _DAILY.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"expected hh24:mi-hh24:mi such as 03:00-03:30, got {text!r}")
    start = _clock(match.group(1), match.group(2), text)
    end = _clock(match.group(3), match.group(4), text)
    return DailyWindow(
        start_minute=start, duration_minutes=_length(start, end, MINUTES_PER_DAY, text)
    )


def _backup_rule(expression: str | None, timezone: str, minutes: object) -> BackupRuleWindow:
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError("the rule has no schedule expression")
    if not expression.strip().startswith("cron("):
        raise ValueError(f'only cron(...) schedules are analysed, got "{expression}"')
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
        raise ValueError(f"StartWindowMinutes must be a positive number, got {minutes!r}")
    try:
        cron = LocalCron(expression, timezone)
    except CronExpressionError as exc:
        raise ValueError(str(exc)) from exc
    return BackupRuleWindow(fields=cron.fields, timezone=timezone, start_window_minutes=minutes)


def _day(name: str, text: object) -> int:
    if name not in _DAYS:
        raise ValueError(f"unknown day {name!r} in {text!r}; expected mon..sun")
    return _DAYS.index(name)


def _clock(hour: str, minute: str, text: object) -> int:
    if int(hour) > 23 or int(minute) > 59:
        raise ValueError(f"time {hour}:{minute} out of range in {text!r}")
    return int(hour) * 60 + int(minute)


def _length(start: int, end: int, period: int, text: object) -> int:
    # A window may wrap round midnight or the week end: sat:23:45-sun:00:15.
    length = (end - start) % period
    if length == 0:
        raise ValueError(f"the window {text!r} is empty")
    return length
