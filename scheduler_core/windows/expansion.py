"""The runs of a ``LocalCron`` over a span, expanded day by day instead of run by run.

``LocalCron.after`` asks pyawscron for one run at a time, and each answer costs a
pyawscron search; over the 52 weeks of a window analysis that was most of its time.
The schedules compositions and backup rules use name their days with numbers, names,
lists, ranges and steps: for those, whether a wall-clock day runs is a set lookup, and
its runs are the day's date at each of the expression's hours and minutes. That is
what pyawscron computes too, from the same parsed fields (``AWSCron``), so the runs
are the same, in the same order, converted to UTC by ``LocalCron.to_utc`` with the
same DST rules. Expressions with ``L``, ``W`` or ``#`` (and values outside the
fields' ranges, where pyawscron's search misbehaves) go through ``LocalCron.after``.

One difference, on purpose: pyawscron gives up (``CronExpressionError``) when the next
run lies more than ten years ahead, even past the end of the span; the expansion
looks no further than the span and so just finds no run there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from pyawscron import AWSCron  # type: ignore[import-untyped]  # no stubs, no py.typed

from scheduler_core.cron import LocalCron

# As LocalCron.after: a moment's wall time can lie up to one DST shift after the wall
# times of earlier instants.
_DST_SLACK = timedelta(hours=3)
_ONE_DAY = timedelta(days=1)
# (parsed field, smallest and largest value pyawscron's search handles).
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199))


@dataclass(frozen=True, kw_only=True)
class _DayRule:
    """Which wall-clock days run, and at which times of day, as plain sets."""

    years: frozenset[int]
    months: frozenset[int]
    days_of_month: frozenset[int]  # empty: the days of the week decide
    days_of_week: frozenset[int]  # ISO weekday numbers, Monday 1 .. Sunday 7
    times: tuple[time, ...]  # in order

    def runs_on(self, day: date) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        if self.days_of_month:
            return day.day in self.days_of_month
        return day.isoweekday() in self.days_of_week


@lru_cache(maxsize=256)
def _day_rule(fields: str) -> _DayRule | None:
    """The expression as a ``_DayRule``, or None when the expansion does not apply."""
    parsed = AWSCron(fields)
    lists = (
        parsed.minutes,
        parsed.hours,
        parsed.days_of_month,
        parsed.months,
        parsed.days_of_week,
        parsed.years,
    )
    for values, (low, high) in zip(lists, _RANGES, strict=True):
        if not all(isinstance(value, int) and low <= value <= high for value in values):
            return None  # L, W, # or a value pyawscron's search trips over
    if not (parsed.minutes and parsed.hours and parsed.months and parsed.years):
        return None
    if not (parsed.days_of_month or parsed.days_of_week):
        return None
    return _DayRule(
        years=frozenset(parsed.years),
        months=frozenset(parsed.months),
        days_of_month=frozenset(parsed.days_of_month),
        # pyawscron numbers days of the week as AWS does: Sunday 1 .. Saturday 7.
        days_of_week=frozenset((number + 5) % 7 + 1 for number in parsed.days_of_week),
        times=tuple(
            time(hour, minute)
            for hour in sorted(set(parsed.hours))
            for minute in sorted(set(parsed.minutes))
        ),
    )


def runs_between(cron: LocalCron, *, after: datetime, before: datetime) -> list[datetime]:
    """UTC instants of the runs strictly after ``after`` and before ``before``, in order.

    Equal to the ``utc`` of ``cron.after(after)`` up to the first run at or after
    ``before``.

    Raises:
        CronExpressionError: only on the pyawscron path, as ``LocalCron.after`` does.
    """
    rule = _day_rule(cron.fields)
    if rule is None:
        found = []
        for occurrence in cron.after(after):
            if occurrence.utc >= before:
                break
            found.append(occurrence.utc)
        return found
    return list(_expanded(cron, rule, after=after, before=before))


def _expanded(
    cron: LocalCron, rule: _DayRule, *, after: datetime, before: datetime
) -> Iterator[datetime]:
    # The wall times walked are those after the cursor LocalCron.after starts from.
    cursor = after.astimezone(cron.zone).replace(tzinfo=None, second=0, microsecond=0)
    cursor -= _DST_SLACK
    # A wall time two days past ``before``'s runs after it, whatever the offsets.
    last_day = before.astimezone(cron.zone).date() + _ONE_DAY
    day = cursor.date()
    while day <= last_day:
        if rule.runs_on(day):
            for time_of_day in rule.times:
                wall = datetime.combine(day, time_of_day)
                if wall <= cursor:
                    continue
                instant = cron.to_utc(wall)
                if instant is None or instant <= after:
                    continue
                if instant >= before:
                    return
                yield instant
        day += _ONE_DAY
