"""A brute-force, minute-by-minute oracle of window coverage, shared by the window tests.

The oracle shares no code with ``scheduler_core.windows``. It walks every UTC minute
from a warm-up point before ``now`` to past the horizon, converts each minute to the
composition's wall clock, and applies a start or stop when that wall minute is an
occurrence of the schedule (computed with pyawscron on naive local time) and has not
been seen before: wall minutes that spring-forward skips never turn up, and those
that fall-back repeats only count the first time — the EventBridge Scheduler rules.
Each window occurrence, widened by the margin, is then covered when every one of its
minutes is a running minute.

Assumptions, which the callers keep:

* ``now`` is a whole minute (occurrences are counted from the minute it names);
* the schedule's state at the warm-up point is "stopped" and the schedule fires at
  least once during the warm-up (``warm_up_days``), so the state at ``now`` minus
  the margin follows from what the oracle sees; weekly and daily schedules need the
  default 8 days, day-of-month schedules about a month and a half;
* every UTC offset change of the timezones used falls on a quarter hour of UTC
  (true for every zone in the tz database the tests use, Chatham and St John's too).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from pyawscron import AWSCron

from scheduler_core.config.models import ON_DEMAND, Composition, Notify
from scheduler_core.windows import ResourceWindow

WARM_UP_DAYS = 8  # weekly schedules have settled by then
WEEK = 7 * 1440
EPOCH = datetime(1970, 1, 1)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

WindowSpec = tuple[str, ...] | tuple[str, str, str, int]
"""("maintenance", "sun:03:00-sun:03:30"), ("backup", "03:00-03:30") or
("aws_backup", "cron(...)", timezone, start window minutes)."""


def epoch_minute(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


@lru_cache(maxsize=32)
def wall_minutes(timezone: str, base: int, size: int) -> tuple[int, ...]:
    """Wall-clock minute (minutes since 1970-01-01 local) of each UTC minute.

    The UTC offset is read once per quarter hour of UTC (minute 0, 15, 30, 45): every
    transition in the tz database for the zones used falls on one.
    """
    zone = ZoneInfo(timezone)
    first_quarter = base // 15
    offsets = [
        int(datetime.fromtimestamp(quarter * 15 * 60, zone).utcoffset().total_seconds()) // 60
        for quarter in range(first_quarter, (base + size) // 15 + 1)
    ]
    return tuple(
        minute + offsets[minute // 15 - first_quarter] for minute in range(base, base + size)
    )


def cron_walls(expression: str, first: int, last: int) -> set[int]:
    """Wall minutes in [first, last] at which the cron fires, by pyawscron on naive time."""
    cron = AWSCron(expression)
    moment = (EPOCH + timedelta(minutes=first - 1)).replace(tzinfo=UTC)
    found: set[int] = set()
    while True:
        moment = cron.occurrence(moment).next()
        wall = epoch_minute(moment) if moment else last + 1
        if wall > last:
            return found
        found.add(wall)


@lru_cache(maxsize=32)
def first_instances(timezone: str, base: int, size: int) -> tuple[bool, ...]:
    """For each UTC minute: is its wall minute seen for the first time (not a fall-back repeat)?"""
    flags, highest = [], -1
    for wall in wall_minutes(timezone, base, size):
        flags.append(wall > highest)
        highest = max(highest, wall)
    return tuple(flags)


def firing_minutes(expression: str, timezone: str, base: int, size: int) -> list[int]:
    """Indexes of the UTC minutes at which the cron fires (first instance of a wall minute)."""
    walls = wall_minutes(timezone, base, size)
    fires = cron_walls(expression, walls[0] - 1440, walls[-1] + 1440)
    first = first_instances(timezone, base, size)
    return [index for index, wall in enumerate(walls) if wall in fires and first[index]]


@lru_cache(maxsize=64)
def running_minutes(
    timezone: str,
    start: str,
    stop: str,
    base: int,
    size: int,
    holidays: tuple[date, ...] = (),
) -> bytes:
    """1 for each UTC minute in which the schedule has the composition running.

    A start whose wall-clock date is a holiday does not fire.
    """
    running = bytearray(size)
    if start == ON_DEMAND:
        return bytes(running)
    walls = wall_minutes(timezone, base, size)
    starts = [
        index
        for index in firing_minutes(start, timezone, base, size)
        if (EPOCH + timedelta(minutes=walls[index])).date() not in holidays
    ]
    events = sorted(
        [(index, 0) for index in starts]
        + (
            []
            if stop == ON_DEMAND
            else [(index, 1) for index in firing_minutes(stop, timezone, base, size)]
        )
    )
    # A start and a stop in the same minute: the start first, so the stop wins.
    state, since = 0, 0
    for index, event in [*events, (size, 1)]:
        running[since:index] = bytes([state]) * (index - since)
        since = index
        state = 1 if event == 0 else 0
    return bytes(running)


def minute_of_week(minute: int) -> int:
    return ((minute // 1440 + 3) % 7) * 1440 + minute % 1440  # 1970-01-01 was a Thursday


def window_minutes(
    window: WindowSpec, now: int, horizon: int, base: int, size: int
) -> list[tuple[int, int]]:
    """(first minute, minutes) of each window occurrence opening in [now, horizon)."""
    kind = window[0]
    if kind == "aws_backup":
        _, expression, timezone, start_window = window
        fires = firing_minutes(expression[5:-1], timezone, base, size)
        return [(base + i, start_window) for i in fires if now <= base + i < horizon]
    period = WEEK if kind == "maintenance" else 1440
    opens, closes = (part.strip().lower() for part in window[1].split("-"))

    def position(text: str) -> int:
        *day, hour, minute = text.split(":")
        return (DAYS.index(day[0]) * 1440 if day else 0) + int(hour) * 60 + int(minute)

    def phase(minute: int) -> int:
        return minute_of_week(minute) % period

    first = next(m for m in range(now, now + period) if phase(m) == position(opens))
    length = next(n for n in range(1, period + 1) if phase(first + n) == position(closes))
    return [(m, length) for m in range(first, horizon, period)]


def brute_force(
    *,
    timezone: str,
    start: str,
    stop: str,
    margin: int,
    window: WindowSpec,
    now: datetime,
    weeks: int,
    warm_up_days: int = WARM_UP_DAYS,
    holidays: tuple[date, ...] = (),
) -> tuple[int, int]:
    """(uncovered occurrences, occurrences) by walking minutes."""
    if now.second or now.microsecond:
        raise ValueError("the oracle counts from whole minutes")
    warm_up = warm_up_days * 1440
    now_minute = epoch_minute(now)
    base = now_minute - warm_up
    # One week past the horizon holds the longest occurrence (a day) plus its margin.
    size = warm_up + (weeks + 1) * WEEK
    running = running_minutes(timezone, start, stop, base, size, holidays)
    occurrences = window_minutes(window, now_minute, now_minute + weeks * WEEK, base, size)
    uncovered = sum(
        0 in running[first - margin - base : first + length + margin - base]
        for first, length in occurrences
    )
    return uncovered, len(occurrences)


# --- what the analysis is given -------------------------------------------------------


def composition(
    timezone: str, start: str, stop: str, margin: int = 15, holidays: tuple[date, ...] = ()
) -> Composition:
    return Composition(
        name="staging",
        description="",
        timezone=timezone,
        start_resources_at=start,
        stop_resources_at=stop,
        auto_stop_after=None,
        window_margin_minutes=margin,
        notify=Notify(),
        access=None,
        holidays=holidays,
        resources=(),
    )


def resource_window(window: WindowSpec) -> ResourceWindow:
    kind = window[0]
    if kind == "maintenance":
        return ResourceWindow.maintenance("rds_instance", "db1", str(window[1]))
    if kind == "backup":
        return ResourceWindow.backup("rds_instance", "db1", str(window[1]))
    _, expression, timezone, start_window = window
    return ResourceWindow.aws_backup(
        "rds_instance",
        "db1",
        expression=str(expression),
        timezone=str(timezone),
        start_window_minutes=int(start_window),
    )
