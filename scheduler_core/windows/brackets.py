"""Bracket schedules: start a composition before a window opens, stop it after it closes.

Brackets are EventBridge Scheduler cron schedules (``cron(m h dom mon dow year)`` plus
a timezone). RDS and Redshift windows are in UTC, so their brackets are too; AWS
Backup rule brackets use the rule's own timezone so that they follow its DST.
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduler_core.actions import Action

_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")  # index = minute_of_week // 1440
_WEEKDAY_WORDS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


@dataclass(frozen=True, kw_only=True)
class Bracket:
    """One schedule of a bracket pair, as the reconciler creates it."""

    action: Action
    expression: str
    timezone: str
    run_at: str  # in words, for plans and Slack: "every Sunday at 02:45 UTC, ..."

    def as_json(self) -> dict[str, str]:
        """The ``schedules[]`` item of ``windows --json`` (README "Commands")."""
        return {
            "action": str(self.action),
            "expression": self.expression,
            "timezone": self.timezone,
        }


def clock(minute_of_day: int) -> str:
    """``hh:mm`` of a minute of the day."""
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def weekly_bracket(action: Action, minute_of_week: int, *, relation: str) -> Bracket:
    """A bracket at a minute of the UTC week (0 = Monday 00:00), wrapping round the week."""
    minute_of_week %= MINUTES_PER_WEEK
    day, minute_of_day = divmod(minute_of_week, MINUTES_PER_DAY)
    hour, minute = divmod(minute_of_day, 60)
    return Bracket(
        action=action,
        expression=f"cron({minute} {hour} ? * {_WEEKDAYS[day]} *)",
        timezone="UTC",
        run_at=f"every {_WEEKDAY_WORDS[day]} at {clock(minute_of_day)} UTC, {relation}",
    )


def daily_bracket(action: Action, minute_of_day: int, *, relation: str) -> Bracket:
    """A bracket at a minute of the UTC day, wrapping round the day."""
    minute_of_day %= MINUTES_PER_DAY
    hour, minute = divmod(minute_of_day, 60)
    return Bracket(
        action=action,
        expression=f"cron({minute} {hour} * * ? *)",
        timezone="UTC",
        run_at=f"every day at {clock(minute_of_day)} UTC, {relation}",
    )


def cron_bracket(action: Action, fields: str, timezone: str, *, relation: str) -> Bracket:
    """A bracket from six already-shifted cron fields in ``timezone``."""
    minute, hour, day_of_month, month, day_of_week, year = fields.split()
    return Bracket(
        action=action,
        expression=f"cron({fields})",
        timezone=timezone,
        run_at=(
            f"{int(hour):02d}:{int(minute):02d} {timezone} "
            f"({describe_days(day_of_month, month, day_of_week, year)}), {relation}"
        ),
    )


def describe_days(day_of_month: str, month: str, day_of_week: str, year: str) -> str:
    """The day fields of a cron expression in a few words: "MON-FRI", "every day"."""
    if day_of_week not in ("?", "*"):
        words = [f"on {day_of_week}"]
    elif day_of_month not in ("?", "*"):
        words = [f"on day {day_of_month} of the month"]
    else:
        words = ["every day"]
    if month != "*":
        words.append(f"in months {month}")
    if year != "*":
        words.append(f"in years {year}")
    return " ".join(words)


def margin_words(minutes: int, *, before: bool, what: str) -> str:
    """How a bracket relates to its window: "15 min before the window opens"."""
    if minutes == 0:
        return f"when {what}"
    return f"{minutes} min {'before' if before else 'after'} {what}"
