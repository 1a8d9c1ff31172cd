"""Window coverage, checked against a brute-force minute-by-minute oracle.

The oracle below shares no code with ``scheduler_core.windows``. It walks every UTC
minute from a warm-up point before ``now`` to past the horizon, converts each minute
to the composition's wall clock, and applies a start or stop when that wall minute is
an occurrence of the schedule (computed with pyawscron on naive local time) and has
not been seen before: wall minutes that spring-forward skips never turn up, and
those that fall-back repeats only count the first time — the EventBridge Scheduler
rules. Each window occurrence, widened by the margin, is then covered when every one
of its minutes is a running minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyawscron import AWSCron

from scheduler_core.config.models import ON_DEMAND, Composition, Notify
from scheduler_core.windows import ResourceWindow, WindowAnalysis, analyse_windows

NOW = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
TIMEZONES = ("Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC")
OFFICE_HOURS = ("0 8 ? * MON-FRI *", "0 19 ? * MON-FRI *")
WARM_UP = 8 * 1440  # minutes before now: weekly schedules have settled by then
WEEK = 7 * 1440
EPOCH = datetime(1970, 1, 1)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

WindowSpec = tuple[str, ...] | tuple[str, str, str, int]


# --- the oracle ---------------------------------------------------------------


def epoch_minute(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


@lru_cache(maxsize=32)
def wall_minutes(timezone: str, base: int, size: int) -> tuple[int, ...]:
    """Wall-clock minute (minutes since 1970-01-01 local) of each UTC minute.

    The UTC offset is read every 15 minutes: every transition in the tz database
    for these zones falls on a quarter hour.
    """
    zone = ZoneInfo(timezone)
    offsets = [
        int(datetime.fromtimestamp((base + quarter * 15) * 60, zone).utcoffset().total_seconds())
        // 60
        for quarter in range(size // 15 + 1)
    ]
    return tuple(base + index + offsets[index // 15] for index in range(size))


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
def running_minutes(timezone: str, start: str, stop: str, base: int, size: int) -> bytes:
    """1 for each UTC minute in which the schedule has the composition running."""
    running = bytearray(size)
    if start == ON_DEMAND:
        return bytes(running)
    events = sorted(
        [(index, 0) for index in firing_minutes(start, timezone, base, size)]
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
) -> tuple[int, int]:
    """(uncovered occurrences, occurrences) by walking minutes."""
    now_minute = epoch_minute(now)
    base = now_minute - WARM_UP
    size = WARM_UP + (weeks + 1) * WEEK
    running = running_minutes(timezone, start, stop, base, size)
    occurrences = window_minutes(window, now_minute, now_minute + weeks * WEEK, base, size)
    uncovered = sum(
        0 in running[first - margin - base : first + length + margin - base]
        for first, length in occurrences
    )
    return uncovered, len(occurrences)


# --- helpers --------------------------------------------------------------------


def composition(timezone: str, start: str, stop: str, margin: int = 15) -> Composition:
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


def analyse(
    *,
    timezone: str,
    start: str,
    stop: str,
    margin: int,
    window: WindowSpec,
    now: datetime = NOW,
    weeks: int = 52,
) -> WindowAnalysis:
    [analysis] = analyse_windows(
        composition(timezone, start, stop, margin), [resource_window(window)], now=now, weeks=weeks
    )
    return analysis


# --- the table ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Case:
    name: str
    timezone: str
    start: str
    stop: str
    window: WindowSpec
    expect: str  # "covered", "uncovered" (every occurrence) or "partly"
    margin: int = 15


AMS, NYC, KOL, SYD = "Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "Australia/Sydney"
CASES = (
    Case(
        name="sunday_window_not_covered_by_weekday_schedule",
        timezone=AMS,
        start=OFFICE_HOURS[0],
        stop=OFFICE_HOURS[1],
        window=("maintenance", "sun:03:00-sun:03:30"),
        expect="uncovered",
    ),
    Case(
        name="saturday_window_not_covered_by_weekday_schedule",
        timezone=NYC,
        start="0 7 ? * MON-FRI *",
        stop="0 20 ? * MON-FRI *",
        window=("maintenance", "sat:15:00-sat:15:30"),
        expect="uncovered",
    ),
    Case(
        name="weekday_window_inside_office_hours_is_covered",
        timezone=AMS,
        start=OFFICE_HOURS[0],
        stop=OFFICE_HOURS[1],
        window=("maintenance", "wed:10:00-wed:10:30"),
        expect="covered",
    ),
    Case(
        name="summer_time_moves_early_window_into_office_hours",
        timezone=AMS,
        start=OFFICE_HOURS[0],
        stop=OFFICE_HOURS[1],
        window=("maintenance", "wed:06:50-wed:07:20"),
        expect="partly",
    ),
    Case(
        name="summer_time_moves_late_window_out_of_office_hours",
        timezone=AMS,
        start=OFFICE_HOURS[0],
        stop=OFFICE_HOURS[1],
        window=("maintenance", "wed:16:40-wed:17:00"),
        expect="partly",
    ),
    Case(
        name="window_ending_exactly_at_stop_with_margin_is_covered",
        timezone=KOL,
        start="0 22 * * ? *",
        stop="0 6 * * ? *",
        window=("maintenance", "sat:23:45-sun:00:15"),  # 05:15-05:45 IST, +15 → 06:00
        expect="covered",
    ),
    Case(
        name="window_crossing_midnight_inside_overnight_schedule",
        timezone=KOL,
        start="0 22 * * ? *",
        stop="0 6 * * ? *",
        window=("maintenance", "sat:18:15-sat:18:45"),  # 23:45-00:15 IST
        expect="covered",
    ),
    Case(
        name="overnight_weekday_schedule_leaves_weekend_nights_uncovered",
        timezone=SYD,
        start="0 20 ? * MON-FRI *",
        stop="0 7 ? * TUE-SAT *",
        window=("backup", "13:00-13:30"),  # about midnight in Sydney
        expect="partly",
    ),
    Case(
        name="sydney_monday_morning_window_before_office_hours",
        timezone=SYD,
        start="30 7 ? * MON-FRI *",
        stop="0 18 ? * MON-FRI *",
        window=("maintenance", "sun:16:00-sun:16:30"),
        expect="uncovered",
    ),
    Case(
        name="kolkata_office_hours_cover_utc_morning_window",
        timezone=KOL,
        start="0 9 ? * MON-FRI *",
        stop="0 18 ? * MON-FRI *",
        window=("maintenance", "tue:05:00-tue:05:30"),  # 10:30 IST
        expect="covered",
    ),
    Case(
        name="on_demand_composition_never_covers",
        timezone="UTC",
        start=ON_DEMAND,
        stop=ON_DEMAND,
        window=("maintenance", "wed:10:00-wed:10:30"),
        expect="uncovered",
    ),
    Case(
        name="start_on_demand_never_runs",
        timezone="UTC",
        start=ON_DEMAND,
        stop="0 19 ? * MON-FRI *",
        window=("backup", "10:00-10:30"),
        expect="uncovered",
    ),
    Case(
        name="stop_on_demand_runs_from_first_start_on",
        timezone="UTC",
        start="0 8 12 1 ? 2026",
        stop=ON_DEMAND,
        window=("backup", "03:00-03:30"),  # 5 to 12 January miss, then always running
        expect="partly",
    ),
    Case(
        name="stop_on_demand_keeps_running_after_the_last_start",
        timezone="UTC",
        start="0 8 ? * MON *",
        stop=ON_DEMAND,
        window=("backup", "03:00-03:30"),
        expect="covered",
    ),
    Case(
        name="daily_backup_window_crossing_midnight_outside_schedule",
        timezone="UTC",
        start="0 6 * * ? *",
        stop="0 23 * * ? *",
        window=("backup", "23:50-00:20"),
        expect="uncovered",
    ),
    Case(
        name="daily_backup_window_inside_daily_schedule",
        timezone=NYC,
        start="0 5 * * ? *",
        stop="0 22 * * ? *",
        window=("backup", "14:00-14:30"),
        expect="covered",
    ),
    Case(
        name="new_york_fall_back_runs_repeated_stop_once",
        timezone=NYC,
        start="0 0 * * ? *",
        stop="30 1 * * ? *",  # on 1 November at the first 01:30 (EDT) only
        window=("backup", "05:45-06:00"),  # 00:45 EST (covered), 01:45 EDT (not)
        expect="partly",
        margin=0,
    ),
    Case(
        name="new_york_spring_forward_skips_start_that_day",
        timezone=NYC,
        start="30 2 * * ? *",
        stop="0 6 * * ? *",
        window=("backup", "08:30-08:45"),  # 03:30/04:30 local
        expect="partly",
        margin=0,
    ),
    Case(
        name="aws_backup_rule_inside_office_hours_is_covered",
        timezone=AMS,
        start=OFFICE_HOURS[0],
        stop=OFFICE_HOURS[1],
        window=("aws_backup", "cron(0 12 ? * MON-FRI *)", AMS, 60),
        expect="covered",
    ),
    Case(
        name="aws_backup_default_start_window_runs_past_office_hours",
        timezone=AMS,
        start=OFFICE_HOURS[0],
        stop=OFFICE_HOURS[1],
        window=("aws_backup", "cron(0 12 ? * MON-FRI *)", AMS, 480),
        expect="uncovered",
    ),
    Case(
        name="aws_backup_rule_in_other_timezone_covered_only_between_dst_switches",
        timezone=NYC,
        start="0 8 ? * MON-FRI *",
        stop="0 20 ? * MON-FRI *",
        window=("aws_backup", "cron(30 12 ? * MON-FRI *)", "Europe/London", 60),
        expect="partly",
    ),
    Case(
        name="aws_backup_rule_in_utc_every_day",
        timezone=SYD,
        start="0 8 ? * MON-FRI *",
        stop="0 18 ? * MON-FRI *",
        window=("aws_backup", "cron(0 0 * * ? *)", "UTC", 120),
        expect="partly",
    ),
    Case(
        name="week_long_schedule_covers_friday_night_window",
        timezone="UTC",
        start="0 0 ? * MON *",
        stop="0 0 ? * SAT *",
        window=("maintenance", "fri:23:00-fri:23:30"),
        expect="covered",
    ),
    Case(
        name="redshift_capitalised_window_parses",
        timezone="UTC",
        start="0 0 ? * MON *",
        stop="0 0 ? * SAT *",
        window=("maintenance", "Mon:04:00-Mon:04:30"),
        expect="covered",
    ),
)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_coverage_equals_brute_force(case: Case) -> None:
    arguments = {
        "timezone": case.timezone,
        "start": case.start,
        "stop": case.stop,
        "margin": case.margin,
        "window": case.window,
    }
    analysis = analyse(**arguments)
    uncovered, total = brute_force(**arguments, now=NOW, weeks=52)
    assert (analysis.uncovered_occurrences, analysis.occurrences) == (uncovered, total)
    assert analysis.covered is (uncovered == 0)
    expected = {
        "covered": uncovered == 0,
        "uncovered": uncovered == total,
        "partly": 0 < uncovered < total,
    }
    assert expected[case.expect], f"oracle says {uncovered} of {total} uncovered"


# --- property: random office hours and windows ------------------------------------

DST_EDGES = (
    NOW,
    datetime(2026, 3, 2, tzinfo=UTC),  # US and EU spring forward within 6 weeks
    datetime(2026, 3, 23, tzinfo=UTC),  # EU spring forward, Sydney falls back
    datetime(2026, 9, 28, tzinfo=UTC),  # Sydney springs forward
    datetime(2026, 10, 19, 7, 30, tzinfo=UTC),  # EU and US fall back
)
CLOCK = st.tuples(st.integers(0, 23), st.sampled_from((0, 5, 15, 30, 45, 50)))
DAY_LISTS = ("MON-FRI", "MON-SAT", "SUN-THU", "*", "TUE,THU", "SAT", "MON,WED-FRI")


@st.composite
def schedules(draw: st.DrawFn) -> tuple[str, str, str]:
    timezone = draw(st.sampled_from(TIMEZONES))
    (start_hour, start_minute), (stop_hour, stop_minute) = draw(CLOCK), draw(CLOCK)
    days = draw(st.sampled_from(DAY_LISTS))
    stop_days = draw(st.sampled_from((days, *DAY_LISTS)))
    start = f"{start_minute} {start_hour} ? * {days} *"
    stop = f"{stop_minute} {stop_hour} ? * {stop_days} *"
    on_demand = draw(st.sampled_from(("neither", "neither", "neither", "start", "stop")))
    if on_demand == "start":
        start = ON_DEMAND
    elif on_demand == "stop":
        stop = ON_DEMAND
    return timezone, start, stop


@st.composite
def windows(draw: st.DrawFn) -> WindowSpec:
    kind = draw(st.sampled_from(("maintenance", "backup", "aws_backup")))
    hour, minute = draw(CLOCK)
    length = draw(st.sampled_from((30, 45, 60, 120, 180)))
    end = hour * 60 + minute + length
    if kind == "aws_backup":
        days = draw(st.sampled_from(DAY_LISTS))
        timezone = draw(st.sampled_from(TIMEZONES))
        return ("aws_backup", f"cron({minute} {hour} ? * {days} *)", timezone, length)
    if kind == "backup":
        return ("backup", f"{hour:02d}:{minute:02d}-{end // 60 % 24:02d}:{end % 60:02d}")
    day = draw(st.integers(0, 6))
    end_day = (day + end // 1440) % 7
    return (
        "maintenance",
        f"{DAYS[day]}:{hour:02d}:{minute:02d}-{DAYS[end_day]}:{end // 60 % 24:02d}:{end % 60:02d}",
    )


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    schedule=schedules(),
    window=windows(),
    margin=st.sampled_from((0, 10, 15, 30)),
    now=st.sampled_from(DST_EDGES),
)
def test_random_office_hours_equal_brute_force(
    schedule: tuple[str, str, str], window: WindowSpec, margin: int, now: datetime
) -> None:
    timezone, start, stop = schedule
    arguments = {
        "timezone": timezone,
        "start": start,
        "stop": stop,
        "margin": margin,
        "window": window,
    }
    analysis = analyse(**arguments, now=now, weeks=6)
    uncovered, total = brute_force(**arguments, now=now, weeks=6)
    assert (analysis.uncovered_occurrences, analysis.occurrences) == (uncovered, total)
    assert analysis.covered is (uncovered == 0)
    assert (analysis.brackets == ()) or not analysis.covered
