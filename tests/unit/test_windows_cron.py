"""Cron evaluation in a timezone (DST as EventBridge Scheduler does it), running time, shifts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler_core.config.models import ON_DEMAND, Composition, Notify
from scheduler_core.cron.shift import ShiftError, shift_cron
from scheduler_core.windows import CronExpressionError, next_occurrences, running_time
from scheduler_core.windows.running import scheduled_running


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_next_occurrences_gives_local_and_utc_times() -> None:
    runs = next_occurrences(
        "0 8 ? * MON-FRI *", "Europe/Amsterdam", after=utc(2026, 3, 27), count=3
    )
    assert [run.utc for run in runs] == [
        utc(2026, 3, 27, 7),
        utc(2026, 3, 30, 6),
        utc(2026, 3, 31, 6),
    ]
    assert [run.local.hour for run in runs] == [8, 8, 8]
    assert runs[0].local.tzinfo == ZoneInfo("Europe/Amsterdam")


def test_wall_time_skipped_by_spring_forward_does_not_run_that_day() -> None:
    # User Guide example: cron(30 2 * * ? *) in Los Angeles; 14 March 2027 has no 02:30.
    runs = next_occurrences(
        "cron(30 2 * * ? *)", "America/Los_Angeles", after=utc(2027, 3, 13, 12), count=2
    )
    assert [run.utc for run in runs] == [utc(2027, 3, 15, 9, 30), utc(2027, 3, 16, 9, 30)]


def test_wall_time_repeated_by_fall_back_runs_once_at_its_first_instance() -> None:
    runs = next_occurrences(
        "30 1 * * ? *", "America/New_York", after=utc(2026, 10, 31, 12), count=2
    )
    # 1 November 2026: 01:30 EDT (05:30 UTC) runs, 01:30 EST (06:30 UTC) does not.
    assert [run.utc for run in runs] == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]


def test_after_inside_the_repeated_hour_skips_the_first_instance() -> None:
    runs = next_occurrences("45 1 * * ? *", "America/New_York", after=utc(2026, 11, 1, 6), count=1)
    assert [run.utc for run in runs] == [utc(2026, 11, 2, 6, 45)]


def test_occurrences_are_strictly_after() -> None:
    runs = next_occurrences("0 8 * * ? *", "UTC", after=utc(2026, 1, 5, 8), count=1)
    assert runs[0].utc == utc(2026, 1, 6, 8)


def test_days_some_months_lack_are_skipped_not_fatal() -> None:
    # pyawscron itself raises on 31 April; the evaluation moves on to May.
    runs = next_occurrences("0 8 31 * ? *", "UTC", after=utc(2026, 3, 1), count=3)
    assert [run.utc.date().isoformat() for run in runs] == [
        "2026-03-31",
        "2026-05-31",
        "2026-07-31",
    ]
    leap = next_occurrences("0 8 29 2 ? *", "UTC", after=utc(2026, 3, 1), count=1)
    assert leap[0].utc == utc(2028, 2, 29, 8)


def test_expression_whose_years_have_passed_has_no_occurrences() -> None:
    assert next_occurrences("0 8 1 1 ? 2020", "UTC", after=utc(2026, 1, 1), count=5) == []


@pytest.mark.parametrize(
    ("expression", "timezone"),
    [
        ("rate(1 hour)", "UTC"),
        ("0 8 * * *", "UTC"),
        ("0 8 * * * *", "UTC"),
        ("0 8 ? * FRI-MON *", "UTC"),
        ("0 8 ? * MON-FRI *", "Europe/Amsterdm"),
    ],
)
def test_invalid_expression_or_timezone_raises(expression: str, timezone: str) -> None:
    with pytest.raises(CronExpressionError):
        next_occurrences(expression, timezone, after=utc(2026, 1, 1), count=1)


def test_naive_after_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_occurrences("0 8 * * ? *", "UTC", after=datetime(2026, 1, 1), count=1)


# --- running time ---------------------------------------------------------------


def schedule(start: str, stop: str, timezone: str = "Europe/Amsterdam") -> Composition:
    return Composition(
        name="staging",
        description="",
        timezone=timezone,
        start_resources_at=start,
        stop_resources_at=stop,
        auto_stop_after=None,
        window_margin_minutes=15,
        notify=Notify(),
        access=None,
        resources=(),
    )


@pytest.mark.parametrize(
    ("begin", "days"),
    [
        (utc(2026, 1, 5), (5, 6, 7, 8, 9)),
        # The run going on at begin started before it; the one going on at end stops there.
        (utc(2026, 1, 7, 13, 37), (7, 8, 9, 12, 13, 14)),
        (utc(2026, 1, 10, 23, 59), (12, 13, 14, 15, 16)),
    ],
    ids=lambda value: f"{value:%a-%H%M}" if isinstance(value, datetime) else None,
)
def test_running_time_spans_each_start_to_the_next_stop(
    begin: datetime, days: tuple[int, ...]
) -> None:
    office = schedule("0 8 ? * MON-FRI *", "0 19 ? * MON-FRI *")
    end = begin + timedelta(weeks=1)
    time = running_time(office, begin=begin, end=end)
    assert [(span.start, span.end) for span in time.intervals] == [
        (utc(2026, 1, day, 7), min(utc(2026, 1, day, 18), end)) for day in days
    ]
    first = days[0]
    assert time.covers(utc(2026, 1, first, 7), utc(2026, 1, first, 18))
    assert not time.covers(utc(2026, 1, first, 7), utc(2026, 1, first, 18, 1))


def test_schedule_crossing_midnight_is_running_at_the_start_of_the_span() -> None:
    night = schedule("0 22 * * ? *", "0 6 * * ? *", "UTC")
    time = running_time(night, begin=utc(2026, 1, 7, 1, 37), end=utc(2026, 1, 8))
    assert time.intervals[0].start == utc(2026, 1, 6, 22)
    assert time.intervals[0].end == utc(2026, 1, 7, 6)
    assert time.is_running(utc(2026, 1, 7, 23))


def test_start_and_stop_in_the_same_minute_leave_it_stopped() -> None:
    same = schedule("0 8 * * ? *", "0 8 * * ? *", "UTC")
    assert running_time(same, begin=utc(2026, 1, 7, 13, 37), end=utc(2026, 2, 5)).intervals == ()


@pytest.mark.parametrize(("start", "stop"), [(ON_DEMAND, ON_DEMAND), (ON_DEMAND, "0 19 * * ? *")])
def test_without_start_schedule_nothing_runs(start: str, stop: str) -> None:
    time = running_time(schedule(start, stop), begin=utc(2026, 1, 10, 23, 59), end=utc(2026, 3, 5))
    assert time.intervals == ()


def test_scheduled_running_answers_for_one_moment() -> None:
    office = schedule("0 8 ? * MON-FRI *", "0 19 ? * MON-FRI *")
    assert scheduled_running(office, at=utc(2026, 7, 1, 7, 35))  # 09:35 in Amsterdam
    assert not scheduled_running(office, at=utc(2026, 7, 4, 7, 35))  # a Saturday


# --- shifting a cron expression -------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "minutes", "shifted"),
    [
        ("0 5 ? * * *", -15, "45 4 ? * * *"),
        ("5 0 ? * MON-FRI *", -15, "50 23 ? * SUN-THU *"),
        ("0 20 ? * MON-FRI *", 495, "15 4 ? * TUE-SAT *"),
        ("0 23 ? * SAT,SUN *", 120, "0 1 ? * SUN-MON *"),
        ("0 23 ? * 1,7 *", 120, "0 1 ? * SUN-MON *"),
        ("30 12 ? * SUN-SAT *", 1440, "30 12 ? * * *"),
        ("0 0 * * ? *", -1, "59 23 * * ? *"),
        ("10 0 2-6/2,15 * ? *", -15, "55 23 1,3,5,14 * ? *"),
        ("0 5 ? 3 MON 2027", 30, "30 5 ? 3 MON 2027"),
        ("0 5 1 * ? *", -15, "45 4 1 * ? *"),
    ],
)
def test_shift_cron(fields: str, minutes: int, shifted: str) -> None:
    assert shift_cron(fields, minutes) == shifted


@pytest.mark.parametrize(
    ("fields", "minutes", "reason"),
    [
        ("0/30 1 * * ? *", -15, "single fixed minute and hour"),
        ("0 1-3 * * ? *", -15, "single fixed minute and hour"),
        ("5 0 ? * MON#1 *", -15, "nth or last weekday"),
        ("5 0 ? * 6L *", -15, "nth or last weekday"),
        ("5 0 ? 3 MON *", -15, "months"),
        ("5 0 * 1-6 ? *", -15, "months"),
        ("5 0 1,15 * ? *", -15, "leave the month"),
        ("0 20 28 * ? *", 480, "leave the month"),
        ("5 0 L * ? *", -15, "last day, weekday"),
        ("5 0 15W * ? *", -15, "last day, weekday"),
    ],
)
def test_shift_cron_refuses_what_it_cannot_shift_exactly(
    fields: str, minutes: int, reason: str
) -> None:
    with pytest.raises(ShiftError, match=reason):
        shift_cron(fields, minutes)


def test_shifted_expression_runs_exactly_shifted_in_utc() -> None:
    # Away from DST switches, a local shift is the same shift in absolute time.
    original = next_occurrences(
        "5 0 ? * MON-FRI *", "Europe/Amsterdam", after=utc(2026, 1, 4), count=10
    )
    moved = next_occurrences(
        shift_cron("5 0 ? * MON-FRI *", -15), "Europe/Amsterdam", after=utc(2026, 1, 3), count=10
    )
    assert [run.utc - timedelta(minutes=15) for run in original] == [run.utc for run in moved]


def test_the_cron_package_and_the_config_agree_on_the_on_demand_word() -> None:
    # The window analysis reads ON_DEMAND from scheduler_core.cron so as not to load
    # the resource kinds through the config models; both must mean the same word.
    from scheduler_core import cron
    from scheduler_core.config import models

    assert cron.ON_DEMAND == models.ON_DEMAND == "on-demand"


def test_cron_validation_and_stepping_are_one_package_that_loads_no_config() -> None:
    import subprocess
    import sys

    code = (
        "import sys, scheduler_core.cron, scheduler_core.cron.words; "
        "print(sorted(m for m in sys.modules if m.startswith('scheduler_core.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "scheduler_core.config" not in loaded
    assert "scheduler_core.resources" not in loaded
