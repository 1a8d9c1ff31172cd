"""AWS cron expressions evaluated in an IANA timezone, the way EventBridge Scheduler does.

pyawscron only knows naive times tagged UTC, so an expression is evaluated on the
wall clock of its timezone and each wall time is then converted with zoneinfo.
Daylight saving time follows the EventBridge Scheduler User Guide ("Daylight savings
time on EventBridge Scheduler"): a wall time that spring-forward skips does not run
that day, and a wall time that fall-back repeats runs once, at its first instance.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pyawscron import AWSCron  # type: ignore[import-untyped]  # no stubs, no py.typed

from scheduler_core.cron.expression import cron_fields
from scheduler_core.cron.stepping import MINUTE, CronExpressionError, step

# Wall times run in order, but a moment's wall time can lie up to one DST shift
# (at most two hours anywhere in the tz database) after earlier-running wall times.
_DST_SLACK = timedelta(hours=3)


@dataclass(frozen=True, kw_only=True)
class Occurrence:
    """One run of a cron schedule: the wall-clock time and the same instant in UTC."""

    local: datetime
    utc: datetime


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
        while (found := step(self._cron, cursor, forward=True)) is not None:
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
        cursor = self._wall(moment) + _DST_SLACK + MINUTE
        while (found := step(self._cron, cursor, forward=False)) is not None:
            cursor = found
            instant = self.to_utc(found)
            if instant is not None and instant <= moment:
                return Occurrence(local=instant.astimezone(self.zone), utc=instant)
        return None

    def _wall(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone).replace(tzinfo=None, second=0, microsecond=0)


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
