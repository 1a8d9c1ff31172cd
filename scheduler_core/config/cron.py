"""AWS cron expressions (EventBridge Scheduler dialect): shape rules and validation."""

from __future__ import annotations

from pyawscron import AWSCron

FIELDS = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")


def shape_problem(fields: str) -> str | None:
    """The EventBridge rules pyawscron does not check: six fields, exactly one ``?`` day."""
    parts = fields.split()
    if len(parts) != len(FIELDS):
        return (
            f"expected 6 fields ({' '.join(FIELDS)}), got {len(parts)}; "
            'for example "0 8 ? * MON-FRI *"'
        )
    if (parts[2] == "?") == (parts[4] == "?"):
        return "exactly one of day-of-month and day-of-week must be ?"
    return None


def cron_problem(expression: str) -> str | None:
    """Return why ``expression`` (six fields, no ``cron()``) is not valid AWS cron, or None."""
    if expression.strip().startswith("cron("):
        return 'write the six fields without the "cron(...)" wrapper, e.g. "0 8 ? * MON-FRI *"'
    problem = shape_problem(expression)
    if problem:
        return problem
    try:
        cron = AWSCron(expression)
    except Exception as exc:  # pyawscron raises bare ValueError/IndexError/KeyError
        return f"a field is out of range or malformed ({exc})"
    # Imported here: the windows package itself builds on the config package.
    from scheduler_core.windows.cron_time import evaluation_problem

    return evaluation_problem(cron)
