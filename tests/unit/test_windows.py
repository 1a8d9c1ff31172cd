"""Window coverage, checked against the brute-force oracle of ``window_oracle``.

The oracle walks every minute and shares no code with ``scheduler_core.windows``.
Its functions are also imported from here by ``benchmarks/windows.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_core.config.models import ON_DEMAND
from scheduler_core.windows import WindowAnalysis, analyse_windows
from tests.unit.window_oracle import (
    DAYS,
    WEEK,
    WindowSpec,
    brute_force,
    composition,
    first_instances,
    resource_window,
    running_minutes,
    wall_minutes,
)

__all__ = ["WindowSpec", "brute_force", "first_instances", "running_minutes", "wall_minutes"]

# No instant is special: a Wednesday afternoon and a Saturday a minute before midnight.
NOWS = (
    datetime(2026, 1, 7, 13, 37, tzinfo=UTC),
    datetime(2026, 5, 16, 23, 59, tzinfo=UTC),
)
NOW = NOWS[0]
TIMEZONES = ("Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC")
OFFICE_HOURS = ("0 8 ? * MON-FRI *", "0 19 ? * MON-FRI *")


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
    nows: tuple[datetime, ...] = NOWS


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
        window=("backup", "03:00-03:30"),  # until 12 January miss, then always running
        expect="partly",
        # Both before the one start: the oracle's warm-up cannot see a start long past.
        nows=(datetime(2026, 1, 7, 13, 37, tzinfo=UTC), datetime(2026, 1, 10, 0, 1, tzinfo=UTC)),
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


@pytest.mark.parametrize(
    ("case", "now"),
    [(case, now) for case in CASES for now in case.nows],
    ids=lambda value: value.name if isinstance(value, Case) else f"{value:%a-%Y%m%dT%H%M}",
)
def test_coverage_equals_brute_force(case: Case, now: datetime) -> None:
    arguments = {
        "timezone": case.timezone,
        "start": case.start,
        "stop": case.stop,
        "margin": case.margin,
        "window": case.window,
    }
    analysis = analyse(**arguments, now=now)
    uncovered, total = brute_force(**arguments, now=now, weeks=52)
    assert (analysis.uncovered_occurrences, analysis.occurrences) == (uncovered, total)
    assert analysis.covered is (uncovered == 0)
    expected = {
        "covered": uncovered == 0,
        "uncovered": uncovered == total,
        "partly": 0 < uncovered < total,
    }
    assert expected[case.expect], f"oracle says {uncovered} of {total} uncovered"


# --- property: random office hours and windows ------------------------------------

# Each a few days before DST changes; the property adds up to a week of minutes to it,
# so that ``now`` falls on any weekday at any time of day.
DST_EDGES = (
    datetime(2026, 1, 7, 13, 37, tzinfo=UTC),  # no change within 6 weeks
    datetime(2026, 3, 1, 11, 5, tzinfo=UTC),  # US and EU spring forward within 6 weeks
    datetime(2026, 3, 21, 23, 59, tzinfo=UTC),  # EU spring forward, Sydney falls back
    datetime(2026, 9, 26, 0, 1, tzinfo=UTC),  # Sydney springs forward
    datetime(2026, 10, 18, 7, 30, tzinfo=UTC),  # EU and US fall back
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
    edge=st.sampled_from(DST_EDGES),
    offset=st.integers(0, WEEK - 1),
)
def test_random_office_hours_equal_brute_force(
    schedule: tuple[str, str, str], window: WindowSpec, margin: int, edge: datetime, offset: int
) -> None:
    now = edge + timedelta(minutes=offset)
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
