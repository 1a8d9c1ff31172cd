"""AWS cron expressions (EventBridge Scheduler dialect), in one place.

- ``expression``: what a valid expression is (six fields, exactly one ``?`` day), and
  the word ``on-demand`` that stands for "no schedule".
- ``stepping``: the next / previous matching wall time, with pyawscron.
- ``local_time``: an expression read in an IANA timezone, DST as EventBridge does it.
- ``values``: the month, day-of-week and year values AWS allows; dates that never come.
- ``firing``: whether a composition's schedule will ever run again (``never_runs``).
- ``words``: an expression in words for people. Not re-exported here, so that the
  window analysis does not load cron-descriptor; import ``scheduler_core.cron.words``.

The submodules import each other only downwards (firing → local_time → expression →
stepping and values) and none imports the rest of envctl except
``scheduler_core.exceptions``.
"""

from scheduler_core.cron.expression import FIELDS, ON_DEMAND, cron_fields, cron_problem
from scheduler_core.cron.local_time import LocalCron, Occurrence, next_occurrences, zone_of
from scheduler_core.cron.stepping import CronExpressionError

__all__ = [
    "FIELDS",
    "ON_DEMAND",
    "CronExpressionError",
    "LocalCron",
    "Occurrence",
    "cron_fields",
    "cron_problem",
    "next_occurrences",
    "zone_of",
]
