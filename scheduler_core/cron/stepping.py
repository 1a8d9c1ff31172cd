"""Stepping through the matching times of an AWS cron expression, with pyawscron.

pyawscron only knows naive times tagged UTC; callers pass naive wall times and read
naive wall times back. It fails on days that a month lacks (31 in April, 29 in
February) and on sparse expressions; the search then resumes a month later.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pyawscron import AWSCron  # type: ignore[import-untyped]  # no stubs, no py.typed

from scheduler_core.exceptions import BadInputError

MINUTE = timedelta(minutes=1)
# How often at most the search resumes a month later (or earlier) before giving up.
_MAX_MONTH_SKIPS = 120


class CronExpressionError(BadInputError):
    """A cron expression or timezone that cannot be evaluated."""


def step(cron: AWSCron, wall: datetime, *, forward: bool) -> datetime | None:
    """Next (or previous) matching naive wall time strictly after (before) ``wall``.

    Raises:
        CronExpressionError: no match found within ``_MAX_MONTH_SKIPS`` months.
    """
    cursor = wall
    for _ in range(_MAX_MONTH_SKIPS):
        occurrence = cron.occurrence(cursor.replace(tzinfo=UTC))
        try:
            found = occurrence.next() if forward else occurrence.prev()
        except Exception:  # pyawscron raises bare ValueError/IndexError/Exception
            # Resume the search in the next (previous) month; each retry moves on.
            if forward:
                cursor = _next_month(cursor + MINUTE) - MINUTE
            else:
                cursor = _month_start(cursor - MINUTE)
            continue
        return None if found is None else found.replace(tzinfo=None)
    raise CronExpressionError(
        f'cannot evaluate AWS cron expression "{cron.cron}" near {wall:%Y-%m-%d}'
    )


def evaluation_problem(cron: AWSCron) -> str | None:
    """Why no time matches the expression, or None. pyawscron alone rejects valid
    expressions it stumbles on (29 February, the 31st of a month); this retries."""
    try:
        step(cron, datetime(2000, 1, 1), forward=True)
    except CronExpressionError:
        try:  # for pyawscron's own words on what is wrong, if it has any
            cron.occurrence(datetime(2000, 1, 1, tzinfo=UTC)).next()
            detail = ""
        except Exception as exc:  # pyawscron raises bare ValueError/IndexError/Exception
            detail = f" ({exc})"
        return f"a field is out of range or malformed{detail}"
    return None


def _month_start(wall: datetime) -> datetime:
    return datetime(wall.year, wall.month, 1)


def _next_month(wall: datetime) -> datetime:
    return datetime(wall.year + wall.month // 12, wall.month % 12 + 1, 1)
