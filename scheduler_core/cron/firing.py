"""Whether a composition's schedule will ever run: EventBridge takes a cron that never fires.

EventBridge Scheduler accepts ``0 8 30 2 ? *`` (30 February) and a year field in the
past; the schedule then simply never runs. A composition refuses both at load, so a
schedule that was meant to switch an environment off cannot silently do nothing.
"""

from __future__ import annotations

from datetime import datetime

from pyawscron import AWSCron  # type: ignore[import-untyped]  # no stubs, no py.typed

from scheduler_core.cron.expression import shape_problem
from scheduler_core.cron.local_time import LocalCron, zone_of
from scheduler_core.cron.stepping import step
from scheduler_core.cron.values import impossible_dates, value_problem


def never_runs(expression: str, timezone: str, *, now: datetime) -> str | None:
    """Why the six-field ``expression`` never runs after ``now`` (aware), or None.

    None too when it is not valid AWS cron: ``cron_problem`` says what is wrong. Made
    at every config load, so pyawscron (about 0.1 ms a step) is asked only when a
    year field can run out, and only for the next run.

    Returns:
        ``never runs: February has no day 30`` or
        ``never runs again: its last run was 2020-12-28 08:00 (UTC)``.
    """
    parts = expression.split()
    if shape_problem(expression) or value_problem(parts):
        return None
    impossible = impossible_dates(parts)
    if impossible:
        return f"never runs: {impossible}"
    if parts[-1] == "*":
        return None  # a date that comes once comes again: only a year field runs out
    try:
        wall = now.astimezone(zone_of(timezone)).replace(tzinfo=None)
        if step(AWSCron(expression), wall, forward=True) is not None:
            return None
        last = LocalCron(expression, timezone).latest(now)
    except Exception:  # pyawscron raises bare ValueError/IndexError/KeyError
        return None  # not valid AWS cron, or not evaluable: cron_problem names it
    if last is None:
        return "never runs: no time it names is after now"
    return f"never runs again: its last run was {last.local:%Y-%m-%d %H:%M} ({timezone})"
