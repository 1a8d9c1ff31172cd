"""Holiday calendars: local dates on which a composition's scheduled starts do nothing.

EventBridge Scheduler cannot leave dates out of a cron schedule, so the run decides:
every scheduled start passes the time it was scheduled for (``scheduled_time``), and
the start machine looks up ``skip#<that time>`` in the composition's row of the table
before it does anything. ``apply`` keeps those rows current for the occurrences that
fall on a holiday within ``HORIZON`` (docs/calendars.md); scheduled stops still run.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from scheduler_core.config.models import ON_DEMAND, Composition
from scheduler_core.cron import Occurrence, next_occurrences
from scheduler_core.exceptions import BadInputError

HORIZON = timedelta(days=400)
SKIP_PREFIX = "skip#"
# What EventBridge Scheduler replaces by the time a run was scheduled for.
SCHEDULED_TIME_ATTRIBUTE = "<aws.scheduler.scheduled-time>"
# Enough for a start every hour through the horizon; busier starts are cut short.
_MAX_STARTS = 24 * 400


def scheduled_time(moment: datetime) -> str:
    """How EventBridge Scheduler writes ``<aws.scheduler.scheduled-time>``: 2026-12-25T07:00:00Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def holiday_skips(composition: Composition, *, now: datetime) -> dict[str, str]:
    """``skip#<scheduled time>`` → "holiday <local date>" for the starts on a holiday."""
    if not composition.holidays or composition.start_resources_at == ON_DEMAND:
        return {}
    holidays = set(composition.holidays)
    starts = next_occurrences(
        composition.start_resources_at, composition.timezone, after=now, count=_MAX_STARTS
    )
    return {
        SKIP_PREFIX + scheduled_time(start.utc): f"holiday {start.local.date().isoformat()}"
        for start in starts
        if start.utc <= now + HORIZON and start.local.date() in holidays
    }


def skip_range(text: str, *, today: date) -> tuple[date, date]:
    """``2026-12-24`` or ``2026-12-24..2026-12-31`` for ``envctl skip``: checked bounds.

    Raises:
        BadInputError: not a date or a range, a range that ends before it starts, that
            is over before ``today``, or that reaches more than a year ahead.
    """
    from scheduler_core.config.calendars import parse_dates

    dates, problems = parse_dates([text])
    if problems:
        raise BadInputError(f"skip: {problems[0]}")
    first, last = dates[0], dates[-1]
    if last < today:
        raise BadInputError(f"skip: {text} is in the past (today is {today.isoformat()})")
    if last > today + timedelta(days=366):
        raise BadInputError(f"skip: {text} is more than a year ahead; skip at most a year ahead")
    return max(first, today), last


def starts_between(
    composition: Composition, first: date, last: date, *, now: datetime
) -> list[Occurrence]:
    """The scheduled starts due from ``now`` on whose local date is in ``first..last``."""
    if composition.start_resources_at == ON_DEMAND:
        return []
    starts = next_occurrences(
        composition.start_resources_at, composition.timezone, after=now, count=_MAX_STARTS
    )
    return [start for start in starts if first <= start.local.date() <= last]
