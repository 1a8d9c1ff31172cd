"""The window analysis's fast paths give exactly what the slow paths they replace give.

* ``expansion.runs_between`` (cron runs expanded day by day) against
  ``LocalCron.after`` (pyawscron, one run at a time), DST and odd offsets included;
* ``shared_running_time`` (cached, widened to whole days) against ``running_time``;
* the analysis's integer loop against the datetime loop it replaced (``interval_at``
  on every occurrence), holidays included.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import islice

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scheduler_core.cron import CronExpressionError, LocalCron, cron_problem
from scheduler_core.windows import ResourceWindow, analyse_windows, running_time
from scheduler_core.windows.analysis import clear_caches
from scheduler_core.windows.expansion import runs_between
from scheduler_core.windows.running import shared_running_time
from tests.unit.window_oracle import composition

# Zones with DST either way, half-hour DST (Lord Howe), and 45-minute offsets.
ZONES = (
    "UTC",
    "Europe/Amsterdam",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/St_Johns",
)
# Around the 2026 DST changes of those zones, and a leap day.
EDGES = (
    datetime(2026, 3, 8, 1, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
    datetime(2026, 4, 4, 12, tzinfo=UTC),
    datetime(2026, 9, 26, 13, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 59, tzinfo=UTC),
    datetime(2026, 11, 1, 5, tzinfo=UTC),
    datetime(2028, 2, 27, tzinfo=UTC),
)
MINUTES = ("0", "30", "59", "0,30", "*/20", "5-7", "15,45")
HOURS = ("0", "2", "8", "23", "1,2,3", "*/6", "9-17", "*")
DAYS_OF_MONTH = ("*", "1", "15,31", "29", "1-7", "*/10", "30,31", "L", "15W", "L-3")
MONTHS = ("*", "JAN-MAR", "2", "*/3", "11,12", "FEB,APR", "OCT-DEC")
DAYS_OF_WEEK = ("*", "MON-FRI", "SUN", "2,4", "SAT,SUN", "TUE-THU", "MON#2", "6L", "FRI")
YEARS = ("*", "2026", "2026-2027", "2027,2028", "2028")
# Whole minutes, and odd instants: seconds and microseconds as datetime.now() has them.
OFFSETS = st.integers(0, 3 * 24 * 60 * 60 * 1_000_000).map(lambda us: timedelta(microseconds=us))


@st.composite
def crons(draw: st.DrawFn) -> str:
    by_week = draw(st.booleans())
    day_of_month = "?" if by_week else draw(st.sampled_from(DAYS_OF_MONTH))
    day_of_week = draw(st.sampled_from(DAYS_OF_WEEK)) if by_week else "?"
    fields = " ".join(
        (
            draw(st.sampled_from(MINUTES)),
            draw(st.sampled_from(HOURS)),
            day_of_month,
            draw(st.sampled_from(MONTHS)),
            day_of_week,
            draw(st.sampled_from(YEARS)),
        )
    )
    assume(cron_problem(fields) is None)
    return fields


def slow_runs(cron: LocalCron, *, after: datetime, before: datetime) -> list[datetime]:
    """What the analysis used before: pyawscron, one run at a time."""
    found = []
    for occurrence in islice(cron.after(after), 5000):
        if occurrence.utc >= before:
            break
        found.append(occurrence.utc)
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fields=crons(),
    zone=st.sampled_from(ZONES),
    edge=st.sampled_from(EDGES),
    offset=OFFSETS,
    days=st.integers(0, 40),
)
def test_runs_expanded_by_day_equal_pyawscron_runs(
    fields: str, zone: str, edge: datetime, offset: timedelta, days: int
) -> None:
    cron = LocalCron(fields, zone)
    after = edge - timedelta(days=1) + offset
    before = after + timedelta(days=days, hours=7)
    try:
        expected = slow_runs(cron, after=after, before=before)
    except CronExpressionError:
        assume(False)  # pyawscron gave up: no run within ten years (module docstring)
    assert runs_between(cron, after=after, before=before) == expected


def test_expressions_with_l_w_or_hash_take_the_pyawscron_path() -> None:
    cron = LocalCron("0 8 ? * MON#2 *", "Europe/Amsterdam")
    after = datetime(2026, 1, 1, tzinfo=UTC)
    before = datetime(2026, 5, 1, tzinfo=UTC)

    runs = runs_between(cron, after=after, before=before)

    assert runs == slow_runs(cron, after=after, before=before)
    assert [run.day for run in runs] == [12, 9, 9, 13]  # second Mondays, Jan-Apr 2026


SCHEDULES = (
    ("0 8 ? * MON-FRI *", "0 19 ? * MON-FRI *"),
    ("0 20 ? * MON-FRI *", "0 7 ? * TUE-SAT *"),
    ("0 0 ? * MON *", "0 0 ? * SAT *"),
    ("30 1 * * ? *", "30 2 * * ? *"),  # inside the hours DST skips or repeats
    ("0 6 * * ? *", "on-demand"),
    ("0 9 1,15 * ? *", "0 17 * * ? *"),
)
HOLIDAY_SETS = ((), (date(2026, 3, 30), date(2026, 3, 31), date(2026, 10, 26), date(2026, 11, 2)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    schedule=st.sampled_from(SCHEDULES),
    zone=st.sampled_from(ZONES),
    holidays=st.sampled_from(HOLIDAY_SETS),
    edge=st.sampled_from(EDGES[:6]),
    offset=OFFSETS,
    probes=st.lists(st.integers(0, 10 * 24 * 60), min_size=1, max_size=30),
)
def test_shared_running_time_answers_as_running_time(
    schedule: tuple[str, str],
    zone: str,
    holidays: tuple[date, ...],
    edge: datetime,
    offset: timedelta,
    probes: list[int],
) -> None:
    target = composition(zone, *schedule, margin=15, holidays=holidays)
    begin = edge - timedelta(days=2) + offset
    end = begin + timedelta(days=10, minutes=1)
    exact = running_time(target, begin=begin, end=end)
    shared = shared_running_time(target, begin=begin, end=end)
    for minutes in probes:
        moment = begin + timedelta(minutes=minutes)
        assert shared.is_running(moment) == exact.is_running(moment)
        for length in (30, 60 * 4):
            later = min(moment + timedelta(minutes=length), end - timedelta(microseconds=1))
            assert shared.covers(moment, later) == exact.covers(moment, later)


WINDOWS = (
    ("maintenance", "sun:03:00-sun:03:30"),
    ("maintenance", "mon:06:45-mon:07:15"),
    ("maintenance", "sat:23:45-sun:00:15"),
    ("backup", "05:50-06:20"),
    ("backup", "17:30-18:30"),
    ("backup", "23:50-00:20"),
)


def datetime_loop(target: object, window: ResourceWindow, *, now: datetime, weeks: int) -> tuple:
    """The coverage loop the analysis had: ``interval_at`` on every occurrence."""
    assert window.spec is not None
    margin = timedelta(minutes=15)
    horizon = now + timedelta(weeks=weeks)
    end = horizon + window.spec.longest + margin + timedelta(days=1)
    running = running_time(target, begin=now - margin, end=end)  # type: ignore[arg-type]
    total = uncovered = conflicts = 0
    first = None
    always = True
    for opens, closes in window.spec.occurrences(begin=now, end=horizon):
        total += 1
        interval = running.interval_at(opens - margin)
        always = always and interval is not None
        conflicts += running.is_running(closes + margin)
        if interval is None or interval.end < closes + margin:
            uncovered += 1
            first = first or opens
    return total, uncovered, first, always and uncovered > 0, conflicts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    schedule=st.sampled_from(SCHEDULES),
    zone=st.sampled_from(ZONES),
    holidays=st.sampled_from(HOLIDAY_SETS),
    window=st.sampled_from(WINDOWS),
    edge=st.sampled_from(EDGES[:6]),
    offset=OFFSETS,
)
def test_analysis_counts_equal_the_datetime_loop(
    schedule: tuple[str, str],
    zone: str,
    holidays: tuple[date, ...],
    window: tuple[str, str],
    edge: datetime,
    offset: timedelta,
) -> None:
    clear_caches()
    target = composition(zone, *schedule, margin=15, holidays=holidays)
    kind, text = window
    parsed = (ResourceWindow.maintenance if kind == "maintenance" else ResourceWindow.backup)(
        "rds_instance", "db", text
    )
    now = edge - timedelta(days=3) + offset

    [analysis] = analyse_windows(target, [parsed], now=now, weeks=3)

    total, uncovered, first, interrupted, conflicts = datetime_loop(
        target, parsed, now=now, weeks=3
    )
    assert (analysis.occurrences, analysis.uncovered_occurrences) == (total, uncovered)
    assert analysis.next_uncovered_at == first
    assert (analysis.problem is not None and "already running" in analysis.problem) is interrupted
    if analysis.brackets:
        assert analysis.stop_conflicts == conflicts


def test_a_bracket_stop_at_the_scheduled_stop_is_no_conflict_as_in_the_datetime_loop() -> None:
    # Weekdays the window plus margin ends at 19:00, when the schedule stops: the
    # interval is half-open, so the composition is not running then.
    target = composition("UTC", "0 8 ? * MON-FRI *", "0 19 ? * MON-FRI *", margin=15)
    window = ResourceWindow.backup("rds_instance", "db", "18:15-18:45")
    now = datetime(2026, 1, 5, tzinfo=UTC)

    [analysis] = analyse_windows(target, [window], now=now, weeks=3)

    assert analysis.brackets  # the weekend occurrences are uncovered
    assert (analysis.occurrences, analysis.uncovered_occurrences) == (21, 6)
    assert analysis.stop_conflicts == 0 == datetime_loop(target, window, now=now, weeks=3)[4]
