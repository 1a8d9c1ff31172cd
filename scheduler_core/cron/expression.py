"""What a valid AWS cron expression is (EventBridge Scheduler dialect)."""

from __future__ import annotations

import re

from pyawscron import AWSCron  # type: ignore[import-untyped]  # no stubs, no py.typed

from scheduler_core.cron.stepping import CronExpressionError, evaluation_problem
from scheduler_core.cron.values import value_problem

FIELDS = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")
# A composition's schedule is six cron fields or this word: run only when asked.
ON_DEMAND = "on-demand"

_WRAPPED = re.compile(r"^\s*cron\((?P<fields>.*)\)\s*$", re.DOTALL)


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
    problem = shape_problem(expression) or value_problem(expression.split())
    if problem:
        return problem
    try:
        cron = AWSCron(expression)
    except Exception as exc:  # pyawscron raises bare ValueError/IndexError/KeyError
        return f"a field is out of range or malformed ({exc})"
    return evaluation_problem(cron)


def cron_fields(expression: str) -> str:
    """The six fields of an AWS cron expression, with or without ``cron(...)`` around them.

    Raises:
        CronExpressionError: the expression is not a valid six-field AWS cron expression.
    """
    match = _WRAPPED.match(expression)
    fields = " ".join((match.group("fields") if match else expression).split())
    problem = cron_problem(fields)
    if problem:
        raise CronExpressionError(f'invalid AWS cron expression "{expression}": {problem}')
    return fields
