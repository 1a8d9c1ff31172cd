"""Window coverage from any instant: ``now`` is never special.

Hypothesis draws ``now`` (any minute of 2026, DST change days of the composition's
zone, minutes around midnight, weekdays other than Monday), the zone, the window,
the margin and the schedule, and the analysis must agree exactly with the
minute-by-minute oracle of ``window_oracle`` on ``covered`` and
``uncovered_occurrences``. ``now`` comes in UTC or in the composition's zone, on a
whole minute or up to a minute before one. Most examples look a few weeks ahead
(the oracle walks every minute); a few look the contract's 52 weeks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_core.config.models import ON_DEMAND, Composition
from scheduler_core.windows import WindowAnalysis, analyse_windows
from tests.unit.window_oracle import (
    DAYS,
    WindowSpec,
    brute_force,
    composition,
    resource_window,
)

TIMEZONES = (
    "Europe/Amsterdam",
    "America/New_York",
    "Australia/Sydney",  # southern hemisphere: summer time over the new year
    "Asia/Kolkata",  # +05:30, no DST
    "Pacific/Chatham",  # +12:45 / +13:45, DST at 02:45 local
    "UTC",
    "America/St_Johns",  # -03:30 / -02:30
)
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_MINUTES = 365 * 1440
# Wall hours that DST skips or repeats somewhere among TIMEZONES.
DST_HOURS = (0, 1, 2, 3)
# (day-of-month, day-of-week) fields of a schedule.
WEEKDAY_FIELDS = (
    ("?", "MON-FRI"),
    ("?", "TUE-SAT"),
    ("?", "SUN-THU"),
    ("?", "MON,WED-FRI"),
    ("?", "TUE,THU"),
    ("?", "SAT"),
    ("?", "SUN"),
    ("?", "*"),
    ("*", "?"),
)
MONTH_DAY_FIELDS = (("1,15", "?"), ("2-6", "?"), ("10-28", "?"))
# A day-of-month schedule may last fire weeks before ``now``.
MONTH_DAY_WARM_UP = 40


def transitions(timezone: str) -> tuple[datetime, ...]:
    """The UTC instants in 2026 at which the zone's UTC offset changes."""
    zone = ZoneInfo(timezone)

    def offset(minute: int) -> timedelta | None:
        return (YEAR_START + timedelta(minutes=minute)).astimezone(zone).utcoffset()

    found = []
    for day in range(365):
        low, high = day * 1440, (day + 1) * 1440
        if offset(low) == offset(high):
            continue
        while high - low > 1:  # the first minute with the new offset
            middle = (low + high) // 2
            low, high = (middle, high) if offset(middle) == offset(low) else (low, middle)
        found.append(YEAR_START + timedelta(minutes=high))
    return tuple(found)


TRANSITIONS = {timezone: transitions(timezone) for timezone in TIMEZONES}


def test_the_sampled_zones_change_offset_as_expected_in_2026() -> None:
    # Guards the strategies below: DST days must exist where they are looked for.
    assert {zone: len(found) for zone, found in TRANSITIONS.items()} == {
        "Europe/Amsterdam": 2,
        "America/New_York": 2,
        "Australia/Sydney": 2,
        "Asia/Kolkata": 0,
        "Pacific/Chatham": 2,
        "UTC": 0,
        "America/St_Johns": 2,
    }


# --- strategies -----------------------------------------------------------------


@st.composite
def instants(draw: st.DrawFn, timezone: str) -> datetime:
    """A whole minute of 2026 (or just after it), as an aware datetime."""
    zone = ZoneInfo(timezone)
    changes = TRANSITIONS[timezone]
    kinds = ["any", "utc midnight", "local midnight"]
    if changes:
        kinds += ["dst day", "just before dst"]
    kind = draw(st.sampled_from(kinds))
    if kind == "any":
        moment = YEAR_START + timedelta(minutes=draw(st.integers(0, YEAR_MINUTES - 1)))
    elif kind == "utc midnight":
        day = YEAR_START + timedelta(days=draw(st.integers(0, 364)))
        moment = day + timedelta(minutes=draw(st.integers(-3, 3)))
    elif kind == "local midnight":
        day = (YEAR_START + timedelta(days=draw(st.integers(0, 364)))).astimezone(zone)
        midnight = day.replace(hour=0, minute=0).astimezone(UTC)
        moment = midnight + timedelta(minutes=draw(st.integers(-3, 3)))
    elif kind == "dst day":
        # Any minute of the local day on which the clocks change.
        change = draw(st.sampled_from(changes)).astimezone(zone)
        midnight = change.replace(hour=0, minute=0).astimezone(UTC)
        moment = midnight + timedelta(minutes=draw(st.integers(0, 1439)))
    else:
        # Up to ten days before a change (the change falls inside the horizon) or
        # a few hours after it.
        change = draw(st.sampled_from(changes))
        moment = change + timedelta(minutes=draw(st.integers(-10 * 1440, 180)))
    # Whatever zone ``now`` comes in, the instant is what counts.
    shown_in = draw(st.sampled_from((UTC, UTC, zone)))
    return moment.astimezone(shown_in)


def clock_times(*, hours: st.SearchStrategy[int]) -> st.SearchStrategy[tuple[int, int]]:
    minutes = st.one_of(st.sampled_from((0, 15, 30, 45, 59)), st.integers(0, 59))
    return st.tuples(hours, minutes)


ANY_HOUR = st.integers(0, 23)
SCHEDULE_HOURS = st.one_of(ANY_HOUR, st.sampled_from(DST_HOURS))


@st.composite
def schedules(draw: st.DrawFn) -> tuple[str, str, int]:
    """(start, stop, warm-up days for the oracle)."""
    days = draw(st.one_of(st.sampled_from(WEEKDAY_FIELDS), st.sampled_from(MONTH_DAY_FIELDS)))
    stop_days = draw(st.sampled_from((days, days, *WEEKDAY_FIELDS)))
    (start_hour, start_minute), (stop_hour, stop_minute) = (
        draw(clock_times(hours=SCHEDULE_HOURS)),
        draw(clock_times(hours=SCHEDULE_HOURS)),
    )
    start = f"{start_minute} {start_hour} {days[0]} * {days[1]} *"
    stop = f"{stop_minute} {stop_hour} {stop_days[0]} * {stop_days[1]} *"
    on_demand = draw(st.sampled_from(("neither",) * 6 + ("start", "stop")))
    if on_demand == "start":
        start = ON_DEMAND
    elif on_demand == "stop":
        stop = ON_DEMAND
    month_days = any(fields in MONTH_DAY_FIELDS for fields in (days, stop_days))
    return start, stop, MONTH_DAY_WARM_UP if month_days else 8


def clock(minute_of_day: int) -> str:
    return f"{minute_of_day // 60 % 24:02d}:{minute_of_day % 60:02d}"


@st.composite
def weekly_windows(draw: st.DrawFn) -> WindowSpec:
    """``ddd:hh:mm-ddd:hh:mm``, 30 minutes to a day, some across midnight or Sunday night."""
    shape = draw(st.sampled_from(("any", "across midnight", "across sunday night")))
    day = 6 if shape == "across sunday night" else draw(st.integers(0, 6))
    if shape == "any":
        start = draw(st.integers(0, 1439))
        length = draw(st.one_of(st.sampled_from((30, 60, 180)), st.integers(30, 1440)))
    else:
        start = draw(st.integers(1439 - 180, 1439))
        length = draw(st.integers(1440 - start + 1, 1440 - start + 240))
    end = day * 1440 + start + length
    return ("maintenance", f"{DAYS[day]}:{clock(start)}-{DAYS[end // 1440 % 7]}:{clock(end)}")


@st.composite
def daily_windows(draw: st.DrawFn) -> WindowSpec:
    """``hh:mm-hh:mm``, 30 minutes to 8 hours, some across midnight."""
    if draw(st.booleans()):
        start = draw(st.integers(0, 1439))
        length = draw(st.integers(30, 480))
    else:
        start = draw(st.integers(1439 - 120, 1439))
        length = draw(st.integers(1440 - start + 1, 1440 - start + 120))
    return ("backup", f"{clock(start)}-{clock(start + length)}")


@st.composite
def backup_rules(draw: st.DrawFn) -> WindowSpec:
    """An AWS Backup rule at a fixed time in one of the zones."""
    hour, minute = draw(clock_times(hours=SCHEDULE_HOURS))
    days = draw(st.sampled_from(WEEKDAY_FIELDS))
    expression = f"cron({minute} {hour} {days[0]} * {days[1]} *)"
    return ("aws_backup", expression, draw(st.sampled_from(TIMEZONES)), draw(st.integers(60, 480)))


WINDOWS = st.one_of(weekly_windows(), weekly_windows(), daily_windows(), backup_rules())
MARGINS = st.one_of(st.sampled_from((0, 15, 30)), st.integers(0, 120))


@st.composite
def cases(draw: st.DrawFn) -> dict[str, object]:
    timezone = draw(st.sampled_from(TIMEZONES))
    start, stop, warm_up_days = draw(schedules())
    return {
        "timezone": timezone,
        "start": start,
        "stop": stop,
        "margin": draw(MARGINS),
        "window": draw(WINDOWS),
        "now": draw(instants(timezone)),
        "warm_up_days": warm_up_days,
    }


# --- the comparison ---------------------------------------------------------------


def target_of(case: dict[str, object]) -> Composition:
    holidays = case.get("holidays", ())
    assert isinstance(holidays, tuple)
    return composition(
        str(case["timezone"]),
        str(case["start"]),
        str(case["stop"]),
        int(case["margin"]),
        holidays=holidays,
    )


def assert_agrees_with_oracle(
    analysis: WindowAnalysis, case: dict[str, object], weeks: int
) -> None:
    uncovered, total = brute_force(**case, weeks=weeks)
    assert (analysis.uncovered_occurrences, analysis.occurrences) == (uncovered, total)
    assert analysis.covered is (uncovered == 0)
    assert analysis.as_json()["covered"] is (uncovered == 0)
    assert analysis.as_json()["uncovered_occurrences"] == uncovered
    if case["start"] == ON_DEMAND:
        assert uncovered == total > 0


# A real clock is rarely on a whole minute. Windows and schedules are, so the
# analysis from up to a minute before ``now`` must count exactly what the oracle
# counts from ``now``.
EARLY = st.one_of(st.just(timedelta(0)), st.timedeltas(timedelta(0), timedelta(seconds=59.999999)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), weeks=st.integers(1, 3), early=EARLY)
def test_coverage_from_any_instant_equals_brute_force(
    case: dict[str, object], weeks: int, early: timedelta
) -> None:
    window = resource_window(case["window"])
    # Subtract in UTC: on a local wall clock the second 01:00 of a fall-back night,
    # minus nothing, would come back as the first one.
    shown = case["now"]
    assert isinstance(shown, datetime)
    now = (shown.astimezone(UTC) - early).astimezone(shown.tzinfo)
    [analysis] = analyse_windows(target_of(case), [window], now=now, weeks=weeks)
    assert_agrees_with_oracle(analysis, case, weeks)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_coverage_over_the_contracts_52_weeks_equals_brute_force(case: dict[str, object]) -> None:
    window = resource_window(case["window"])
    [analysis] = analyse_windows(target_of(case), [window], now=case["now"], weeks=52)
    assert_agrees_with_oracle(analysis, case, 52)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), others=st.lists(WINDOWS, min_size=1, max_size=3), weeks=st.integers(1, 2))
def test_several_windows_at_once_each_equal_brute_force(
    case: dict[str, object], others: list[WindowSpec], weeks: int
) -> None:
    # One running time serves all windows of a composition; the longest sets its end.
    specs = [case["window"], *others]
    analyses = analyse_windows(
        target_of(case), [resource_window(spec) for spec in specs], now=case["now"], weeks=weeks
    )
    for analysis, spec in zip(analyses, specs, strict=True):
        assert_agrees_with_oracle(analysis, {**case, "window": spec}, weeks)


@st.composite
def cases_with_holidays(draw: st.DrawFn) -> dict[str, object]:
    """A case whose composition follows a calendar: dates around ``now``, in its zone."""
    case = draw(cases())
    now = case["now"]
    assert isinstance(now, datetime)
    today = now.astimezone(ZoneInfo(str(case["timezone"]))).date()
    offsets = draw(st.lists(st.integers(-9, 24), max_size=6, unique=True))
    return {**case, "holidays": tuple(sorted(today + timedelta(days=o) for o in offsets))}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases_with_holidays(), weeks=st.integers(1, 3))
def test_coverage_with_holidays_equals_brute_force(case: dict[str, object], weeks: int) -> None:
    # On a holiday the scheduled start does nothing; stops still run: fewer running hours.
    window = resource_window(case["window"])
    [analysis] = analyse_windows(target_of(case), [window], now=case["now"], weeks=weeks)
    assert_agrees_with_oracle(analysis, case, weeks)


# --- the review's example -----------------------------------------------------------

OFFICE_HOURS = ("0 8 ? * MON-FRI *", "0 19 ? * MON-FRI *")
# One instant on each day of the week, none at midnight: Monday 5 January 2026 onwards.
EVERY_WEEKDAY = tuple(
    datetime(2026, 1, 5 + day, hour, minute, tzinfo=UTC)
    for day, (hour, minute) in enumerate(
        ((9, 41), (13, 37), (23, 59), (0, 1), (17, 5), (10, 15), (21, 30))
    )
)


@pytest.mark.parametrize("now", EVERY_WEEKDAY, ids=lambda now: f"{now:%a-%H%M}")
def test_saturday_window_is_not_covered_by_weekday_office_hours_whatever_day_it_is_now(
    now: datetime,
) -> None:
    # 10:00 UTC on a Saturday is 11:00 in Amsterdam, office hours on any weekday.
    target = composition("Europe/Amsterdam", *OFFICE_HOURS, margin=15)
    window = resource_window(("maintenance", "sat:10:00-sat:10:30"))
    [analysis] = analyse_windows(target, [window], now=now, weeks=6)
    assert (analysis.uncovered_occurrences, analysis.occurrences) == (6, 6)
    assert analysis.covered is False
    assert analysis.next_uncovered_at is not None
    assert analysis.next_uncovered_at.weekday() == 5  # a Saturday
    assert now <= analysis.next_uncovered_at < now + timedelta(weeks=1)


@pytest.mark.parametrize("now", EVERY_WEEKDAY, ids=lambda now: f"{now:%a-%H%M}")
def test_wednesday_window_is_covered_by_weekday_office_hours_whatever_day_it_is_now(
    now: datetime,
) -> None:
    target = composition("Europe/Amsterdam", *OFFICE_HOURS, margin=15)
    window = resource_window(("maintenance", "wed:10:00-wed:10:30"))
    [analysis] = analyse_windows(target, [window], now=now, weeks=6)
    assert (analysis.uncovered_occurrences, analysis.occurrences) == (0, 6)
    assert analysis.covered is True


# --- regressions -------------------------------------------------------------------


def test_now_in_the_compositions_zone_counts_the_same_weeks_as_now_in_utc() -> None:
    # Saturday 28 March 2026 23:00 UTC is midnight in Amsterdam, hours before the
    # clocks go forward. One week on is 4 April 22:00 UTC; adding the week to the
    # Amsterdam wall clock instead ended it an hour early and lost the 22:00 window.
    zone = ZoneInfo("Europe/Amsterdam")
    target = composition("Europe/Amsterdam", *OFFICE_HOURS, margin=0)
    window = resource_window(("backup", "22:00-00:01"))
    in_utc = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    counts = {
        str(now.tzinfo): (analysis.uncovered_occurrences, analysis.occurrences)
        for now in (in_utc, in_utc.astimezone(zone))
        for analysis in analyse_windows(target, [window], now=now, weeks=1)
    }
    assert counts == {"UTC": (7, 7), "Europe/Amsterdam": (7, 7)}
