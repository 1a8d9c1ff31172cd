"""AWS cron expressions (EventBridge Scheduler dialect), validated with pyawscron."""

from __future__ import annotations

from datetime import UTC, datetime

from pyawscron import AWSCron

FIELDS = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")


def cron_problem(expression: str) -> str | None:
    """Return why ``expression`` is not a valid AWS cron expression, or None.

    pyawscron parses the fields but accepts five-field and both-days expressions
    that EventBridge rejects, so the shape rules are checked here first.
    """
    if expression.strip().startswith("cron("):
        return 'write the six fields without the "cron(...)" wrapper, e.g. "0 8 ? * MON-FRI *"'
    fields = expression.split()
    if len(fields) != len(FIELDS):
        return (
            f"expected 6 fields ({' '.join(FIELDS)}), got {len(fields)}; "
            'for example "0 8 ? * MON-FRI *"'
        )
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return "exactly one of day-of-month and day-of-week must be ?"
    try:
        AWSCron(expression).occurrence(datetime(2026, 1, 1, tzinfo=UTC)).next()
    except Exception as exc:  # pyawscron raises bare ValueError/IndexError/KeyError
        return f"a field is out of range or malformed ({exc})"
    return None
