"""AWS cron expressions evaluated in an IANA timezone, the way EventBridge Scheduler does.

pyawscron only knows naive times tagged UTC, so an expression is evaluated on the
wall clock of its timezone and each wall time is then converted with zoneinfo.
Daylight saving time follows the EventBridge Scheduler User Guide ("Daylight savings
time on EventBridge Scheduler"): a wall time that spring-forward skips does not run
that day, and a wall time that fall-back repeats runs once, at its first instance.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pyawscron import AWSCron

from scheduler_core.config.cron import cron_problem
from scheduler_core.exceptions import BadInputError

_WRAPPED = re.compile(r"^\s*cron\((?P<fields>.*)\)\s*$", re.DOTALL)
# Wall times run in order, but a moment's wall time can lie up to one DST shift
# (at most two hours anywhere in the tz database) after earlier-running wall times.
_DST_SLACK = timedelta(hours=3)
_MINUTE = timedelta(minutes=1)
# pyawscron fails on days that a month lacks (31 in April, 29 in February) and on
# sparse expressions; the search then resumes a month later, at most this often.
_MAX_MONTH_SKIPS = 120


class CronExpressionError(BadInputError):
    """A cron expression or timezone that cannot be evaluated."""


@dataclass(frozen=True, kw_only=True)
class Occurrence:
    """One run of a cron schedule: the wall-clock time and the same instant in UTC."""

    local: datetime
    utc: datetime


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


def evaluation_problem(cron: AWSCron) -> str | None:
    """Why no time matches the expression, or None. pyawscron alone rejects valid
    expressions it stumbles on (29 February, the 31st of a month); this retries."""
    try:
        _step(cron, datetime(2000, 1, 1), forward=True)
    except CronExpressionError:
        try:  # for pyawscron's own words on what is wrong, if it has any
            cron.occurrence(datetime(2000, 1, 1, tzinfo=UTC)).next()
            detail = ""
        except Exception as exc:  # pyawscron raises bare ValueError/IndexError/Exception
            detail = f" ({exc})"
        return f"a field is out of range or malformed{detail}"
    return None


def zone_of(timezone: str) -> ZoneInfo:
    """The ZoneInfo of an IANA name.

    Raises:
        CronExpressionError: the name is not a known IANA timezone.
    """
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise CronExpressionError(
            f'unknown timezone "{timezone}"; expected an IANA name such as Europe/Amsterdam'
        ) from exc


class LocalCron:
    """An AWS cron expression read as wall-clock time in one timezone."""

    def __init__(self, expression: str, timezone: str) -> None:
        self.fields = cron_fields(expression)
        self.timezone = timezone
        self.zone = zone_of(timezone)
        self._cron = AWSCron(self.fields)

    def to_utc(self, wall: datetime) -> datetime | None:
        """The instant a naive wall time runs at, or None when DST skips that wall time."""
        # fold=0 picks the first of two instances of a repeated wall time.
        instant = wall.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
        if instant.astimezone(self.zone).replace(tzinfo=None) != wall:
            return None
        return instant

    def after(self, moment: datetime) -> Iterator[Occurrence]:
        """Every occurrence strictly after ``moment`` (aware), in order."""
        cursor = self._wall(moment) - _DST_SLACK
        while (found := _step(self._cron, cursor, forward=True)) is not None:
            cursor = found
            instant = self.to_utc(found)
            if instant is not None and instant > moment:
                yield Occurrence(local=instant.astimezone(self.zone), utc=instant)

    def between(self, begin: datetime, end: datetime) -> Iterator[Occurrence]:
        """Occurrences at or after ``begin`` and before ``end``."""
        for occurrence in self.after(begin - timedelta(microseconds=1)):
            if occurrence.utc >= end:
                return
            yield occurrence

    def latest(self, moment: datetime) -> Occurrence | None:
        """The last occurrence at or before ``moment``, or None if there is none."""
        cursor = self._wall(moment) + _DST_SLACK + _MINUTE
        while (found := _step(self._cron, cursor, forward=False)) is not None:
            cursor = found
            instant = self.to_utc(found)
            if instant is not None and instant <= moment:
                return Occurrence(local=instant.astimezone(self.zone), utc=instant)
        return None

    def _wall(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone).replace(tzinfo=None, second=0, microsecond=0)


def _step(cron: AWSCron, wall: datetime, *, forward: bool) -> datetime | None:
    """Next (or previous) matching naive wall time strictly after (before) ``wall``."""
    cursor = wall
    for _ in range(_MAX_MONTH_SKIPS):
        occurrence = cron.occurrence(cursor.replace(tzinfo=UTC))
        try:
            found = occurrence.next() if forward else occurrence.prev()
        except Exception:  # pyawscron raises bare ValueError/IndexError/Exception
            # Resume the search in the next (previous) month; each retry moves on.
            if forward:
                cursor = _next_month(cursor + _MINUTE) - _MINUTE
            else:
                cursor = _month_start(cursor - _MINUTE)
            continue
        return None if found is None else found.replace(tzinfo=None)
    raise CronExpressionError(
        f'cannot evaluate AWS cron expression "{cron.cron}" near {wall:%Y-%m-%d}'
    )


def _month_start(wall: datetime) -> datetime:
    return datetime(wall.year, wall.month, 1)


def _next_month(wall: datetime) -> datetime:
    return datetime(wall.year + wall.month // 12, wall.month % 12 + 1, 1)


def next_occurrences(
    expression: str, timezone: str, *, after: datetime, count: int
) -> list[Occurrence]:
    """The next runs of an AWS cron expression in a timezone, DST-correct.

    Args:
        expression: six AWS cron fields, with or without ``cron(...)`` around them.
        timezone: IANA name the expression is evaluated in (as EventBridge Scheduler does).
        after: an aware datetime; only runs strictly after it are returned.
        count: how many runs at most.

    Returns:
        Up to ``count`` occurrences in order (fewer when the year field runs out).

    Raises:
        CronExpressionError: invalid expression or timezone.
    """
    if after.tzinfo is None:
        raise ValueError("after must be an aware datetime")
    return list(islice(LocalCron(expression, timezone).after(after), max(count, 0)))
