"""The decisions of the window analysis, one behaviour per test.

Exact values throughout: bracket schedules and their ``run_at`` words (shown in plans
and Slack), the whole text of every ``ShiftError`` (it becomes the analysis'
``problem``), the boundaries of running intervals and cron occurrences (at, just
before and just after ``begin``, ``end`` and ``moment``), and what a backup
selection document reads as.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from scheduler_core.aws_calls import tags_of
from scheduler_core.config.models import ON_DEMAND
from scheduler_core.cron.shift import ShiftError, shift_cron
from scheduler_core.resources.base import Action
from scheduler_core.windows import (
    BackupRuleWindow,
    BackupSelection,
    Bracket,
    CronExpressionError,
    DailyWindow,
    Interval,
    LocalCron,
    ResourceWindow,
    RunningTime,
    TagCondition,
    WeeklyWindow,
    WindowAnalysis,
    WindowKind,
    analyse_windows,
    next_occurrences,
    running_time,
    window_key,
)
from scheduler_core.windows.brackets import cron_bracket, daily_bracket, margin_words
from scheduler_core.windows.selection import ConditionOperator

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass(frozen=True)
class Schedule:
    """A composition as far as the window analysis reads it."""

    name: str = "shop"
    timezone: str = "UTC"
    start_resources_at: str = ON_DEMAND
    stop_resources_at: str = ON_DEMAND
    window_margin_minutes: int = 15
    holidays: tuple[date, ...] = ()


OFFICE = Schedule(start_resources_at="0 8 ? * MON-FRI *", stop_resources_at="0 19 ? * MON-FRI *")


# --- brackets: the schedule and its words ---------------------------------------------


def test_a_daily_bracket_names_its_hour_and_minute_in_words() -> None:
    # 05:02 is minute 302 of the day: 302 // 60 = 5 (302 // 61 would be 4).
    assert daily_bracket(Action.START, 302, relation="when the window opens") == Bracket(
        action=Action.START,
        expression="cron(2 5 * * ? *)",
        timezone="UTC",
        run_at="every day at 05:02 UTC, when the window opens",
    )


def test_a_daily_bracket_before_midnight_wraps_to_the_previous_evening() -> None:
    bracket = daily_bracket(Action.START, -15, relation="15 min before the window opens")
    assert (bracket.expression, bracket.run_at) == (
        "cron(45 23 * * ? *)",
        "every day at 23:45 UTC, 15 min before the window opens",
    )


@pytest.mark.parametrize(
    ("fields", "days"),
    [
        ("45 1 ? * MON-FRI *", "on MON-FRI"),
        ("45 1 1,15 * ? *", "on day 1,15 of the month"),
        ("45 1 * * ? *", "every day"),
        ("45 1 ? * * *", "every day"),
        ("45 1 1 1,7 ? *", "on day 1 of the month in months 1,7"),
        ("45 1 ? * SUN *", "on SUN"),
        ("45 1 ? * SAT 2027", "on SAT in years 2027"),
        ("45 1 * 3 ? 2027-2028", "every day in months 3 in years 2027-2028"),
    ],
)
def test_a_cron_bracket_says_on_which_days_it_runs(fields: str, days: str) -> None:
    bracket = cron_bracket(Action.STOP, fields, "Europe/Amsterdam", relation="after the run")
    assert bracket == Bracket(
        action=Action.STOP,
        expression=f"cron({fields})",
        timezone="Europe/Amsterdam",
        run_at=f"01:45 Europe/Amsterdam ({days}), after the run",
    )


@pytest.mark.parametrize(
    ("minutes", "before", "words"),
    [
        (0, True, "when the window opens"),
        (1, True, "1 min before the window opens"),
        (1, False, "1 min after the window opens"),
        (90, False, "90 min after the window opens"),
    ],
)
def test_the_margin_in_words(minutes: int, before: bool, words: str) -> None:
    assert margin_words(minutes, before=before, what="the window opens") == words


def test_backup_rule_brackets_follow_the_rule_in_its_own_timezone() -> None:
    rule = BackupRuleWindow(
        fields="0 3 ? * MON-FRI *", timezone="Europe/Amsterdam", start_window_minutes=60
    )
    assert rule.brackets(15) == (
        (
            Bracket(
                action=Action.START,
                expression="cron(45 2 ? * MON-FRI *)",
                timezone="Europe/Amsterdam",
                run_at=(
                    "02:45 Europe/Amsterdam (on MON-FRI), 15 min before each run of the backup rule"
                ),
            ),
            Bracket(
                action=Action.STOP,
                expression="cron(15 4 ? * MON-FRI *)",
                timezone="Europe/Amsterdam",
                run_at=(
                    "04:15 Europe/Amsterdam (on MON-FRI), "
                    "75 min after each run of the backup rule (start window plus margin)"
                ),
            ),
        ),
        None,
    )


def test_backup_rule_brackets_without_a_margin_start_when_the_rule_runs() -> None:
    rule = BackupRuleWindow(fields="30 22 * * ? *", timezone="UTC", start_window_minutes=120)
    (start, stop), problem = rule.brackets(0)
    assert (start.run_at, stop.run_at, problem) == (
        "22:30 UTC (every day), when each run of the backup rule",
        "00:30 UTC (every day), 120 min after each run of the backup rule "
        "(start window plus margin)",
        None,
    )


def test_backup_rule_brackets_that_cannot_be_shifted_say_why() -> None:
    rule = BackupRuleWindow(fields="5 0 1 * ? *", timezone="UTC", start_window_minutes=60)
    assert rule.brackets(15) == (
        None,
        'no bracket schedules for this backup rule: day-of-month "1" moved by -1 day(s) '
        "would leave the month (only days that stay within 1..28 can move)",
    )


def test_weekly_and_daily_brackets_say_before_opening_and_after_closing() -> None:
    weekly = WeeklyWindow(start_minute=6 * 1440 + 180, duration_minutes=30)  # sun:03:00-03:30
    daily = DailyWindow(start_minute=180, duration_minutes=30)
    assert [bracket.run_at for bracket in weekly.brackets(15)[0]] == [
        "every Sunday at 02:45 UTC, 15 min before the window opens",
        "every Sunday at 03:45 UTC, 15 min after the window closes",
    ]
    assert [bracket.run_at for bracket in daily.brackets(0)[0]] == [
        "every day at 03:00 UTC, when the window opens",
        "every day at 03:30 UTC, when the window closes",
    ]


# --- specs: occurrences start on whole UTC minutes -------------------------------------


def test_daily_occurrences_open_on_the_minute_whatever_the_seconds_of_begin() -> None:
    window = DailyWindow(start_minute=180, duration_minutes=30)
    begin = datetime(2026, 1, 7, 13, 37, 42, 500_000, tzinfo=UTC)
    assert list(window.occurrences(begin=begin, end=utc(2026, 1, 9))) == [
        (utc(2026, 1, 8, 3), utc(2026, 1, 8, 3, 30)),
    ]


def test_weekly_occurrences_count_from_monday_midnight_utc() -> None:
    window = WeeklyWindow(start_minute=6 * 1440 + 180, duration_minutes=30)  # sun:03:00
    begin = datetime(2026, 1, 7, 23, 30, 15, tzinfo=AMSTERDAM)  # Thursday 22:30 UTC
    assert list(window.occurrences(begin=begin, end=utc(2026, 1, 19))) == [
        (utc(2026, 1, 11, 3), utc(2026, 1, 11, 3, 30)),
        (utc(2026, 1, 18, 3), utc(2026, 1, 18, 3, 30)),
    ]


# --- shift: moving a backup rule's cron by the margin ----------------------------------


@pytest.mark.parametrize(
    ("fields", "minutes", "shifted"),
    [
        ("5 0 ? * MON,WED *", -15, "50 23 ? * SUN,TUE *"),
        ("5 0 ? * MON-MON *", -15, "50 23 ? * SUN *"),
        ("5 0 ? * 2-4 *", -15, "50 23 ? * SUN-TUE *"),
        ("5 0 ? * * *", -15, "50 23 ? * * *"),
        ("50 23 ? * * *", 15, "5 0 ? * * *"),
        ("5 0 3-5 * ? *", -15, "50 23 2-4 * ? *"),
        ("5 0 2,10-12 * ? *", -15, "50 23 1,9-11 * ? *"),
        ("5 0 2/10 * ? *", -15, "50 23 1,11,21 * ? *"),
        ("5 0 3-9/3 * ? *", -15, "50 23 2,5,8 * ? *"),
        ("5 0 * * ? *", -15, "50 23 * * ? *"),
        ("0 12 * 3 ? 2027", 90, "30 13 * 3 ? 2027"),
    ],
)
def test_a_shift_across_midnight_moves_the_days(fields: str, minutes: int, shifted: str) -> None:
    assert shift_cron(fields, minutes) == shifted


@pytest.mark.parametrize(
    ("fields", "minutes", "message"),
    [
        (
            "*/5 3 * * ? *",
            15,
            'it runs at more than one time of day (minutes "*/5", hours "3"); '
            "brackets need a single fixed minute and hour",
        ),
        (
            "5 0 ? 1 MON-FRI *",
            -15,
            "the shifted time crosses midnight and the day-of-week schedule is limited to "
            'months "1" and years "*", which would have to move as well',
        ),
        (
            "5 0 * * ? 2027",
            -15,
            "the shifted time crosses midnight and the day-of-month * schedule is limited to "
            'months "*" and years "2027", which would have to move as well',
        ),
        (
            "5 0 ? * MON#1 *",
            -15,
            'day-of-week "MON#1" names an nth or last weekday of the month, '
            "which does not move with the time of day",
        ),
        (
            "5 0 ? * FRI-MON *",
            -15,
            'day-of-week "FRI-MON" has a range the shifter cannot read',
        ),
        (
            "5 0 ? * MON-TUE-WED *",
            -15,
            'day-of-week "MON-TUE-WED" has a range the shifter cannot read',
        ),
        ("5 0 ? * 8 *", -15, 'day-of-week "8" has "8", which the shifter cannot read'),
        ("5 0 ? * 0 *", -15, 'day-of-week "0" has "0", which the shifter cannot read'),
        (
            "5 0 ? * MON-XYZ *",
            -15,
            'day-of-week "MON-XYZ" has "XYZ", which the shifter cannot read',
        ),
        (
            "5 0 1 * ? *",
            -15,
            'day-of-month "1" moved by -1 day(s) would leave the month '
            "(only days that stay within 1..28 can move)",
        ),
        (
            "50 23 20-28 * ? *",
            15,
            'day-of-month "20-28" moved by +1 day(s) would leave the month '
            "(only days that stay within 1..28 can move)",
        ),
        (
            "5 0 L * ? *",
            -15,
            'day-of-month "L" uses "L" (last day, weekday or wildcard step), '
            "which does not move with the time of day",
        ),
    ],
)
def test_a_shift_that_cannot_be_exact_says_why(fields: str, minutes: int, message: str) -> None:
    with pytest.raises(ShiftError) as raised:
        shift_cron(fields, minutes)
    assert str(raised.value) == message


# --- running: half-open intervals ------------------------------------------------------


def test_office_hours_run_from_the_start_up_to_but_not_at_the_stop() -> None:
    running = running_time(OFFICE, begin=utc(2026, 1, 7, 12), end=utc(2026, 1, 9))
    assert running == RunningTime(
        begin=utc(2026, 1, 7, 12),
        end=utc(2026, 1, 9),
        intervals=(
            Interval(start=utc(2026, 1, 7, 8), end=utc(2026, 1, 7, 19)),
            Interval(start=utc(2026, 1, 8, 8), end=utc(2026, 1, 8, 19)),
        ),
    )
    assert running.is_running(utc(2026, 1, 7, 18, 59))
    assert not running.is_running(utc(2026, 1, 7, 19))
    assert running.covers(utc(2026, 1, 8, 8), utc(2026, 1, 8, 19))
    assert not running.covers(utc(2026, 1, 8, 8), utc(2026, 1, 8, 19, 1))


def test_a_start_exactly_at_the_end_is_not_in_the_running_time() -> None:
    running = running_time(OFFICE, begin=utc(2026, 1, 7, 20), end=utc(2026, 1, 8, 8))
    assert running == RunningTime(begin=utc(2026, 1, 7, 20), end=utc(2026, 1, 8, 8), intervals=())


def test_an_on_demand_composition_never_runs() -> None:
    assert running_time(Schedule(), begin=utc(2026, 1, 7), end=utc(2026, 1, 8)) == RunningTime(
        begin=utc(2026, 1, 7), end=utc(2026, 1, 8), intervals=()
    )


# --- cron_time: occurrences at the boundaries ------------------------------------------


DAILY_EIGHT = LocalCron("0 8 * * ? *", "Europe/Amsterdam")  # 07:00 UTC in winter


def test_between_includes_an_occurrence_at_begin_and_excludes_one_at_end() -> None:
    found = list(DAILY_EIGHT.between(utc(2026, 1, 7, 7), utc(2026, 1, 9, 7)))
    assert [occurrence.utc for occurrence in found] == [utc(2026, 1, 7, 7), utc(2026, 1, 8, 7)]


def test_between_excludes_an_occurrence_a_microsecond_before_begin() -> None:
    begin = datetime(2026, 1, 7, 7, 0, 0, 1, tzinfo=UTC)
    found = list(DAILY_EIGHT.between(begin, utc(2026, 1, 9)))
    assert [occurrence.utc for occurrence in found] == [utc(2026, 1, 8, 7)]


@pytest.mark.parametrize(
    ("moment", "latest"),
    [
        (utc(2026, 1, 7, 7), utc(2026, 1, 7, 7)),  # exactly at an occurrence
        (utc(2026, 1, 7, 6, 59), utc(2026, 1, 6, 7)),  # a minute before today's
        (utc(2026, 1, 7, 5), utc(2026, 1, 6, 7)),  # today's is within the DST slack ahead
    ],
)
def test_latest_is_the_last_occurrence_at_or_before_the_moment(
    moment: datetime, latest: datetime
) -> None:
    occurrence = DAILY_EIGHT.latest(moment)
    assert occurrence is not None
    assert (occurrence.local.isoformat(), occurrence.utc.isoformat()) == (
        latest.astimezone(AMSTERDAM).isoformat(),
        latest.isoformat(),
    )
    assert occurrence.local.hour == 8


def test_next_occurrences_give_the_wall_time_and_the_utc_instant() -> None:
    [first, second] = next_occurrences(
        "cron(0 8 * * ? *)", "Europe/Amsterdam", after=utc(2026, 3, 28, 12), count=2
    )
    assert [(o.local.isoformat(), o.utc.isoformat()) for o in (first, second)] == [
        ("2026-03-29T08:00:00+02:00", "2026-03-29T06:00:00+00:00"),
        ("2026-03-30T08:00:00+02:00", "2026-03-30T06:00:00+00:00"),
    ]


def test_next_occurrences_skip_a_month_that_lacks_the_day_to_the_first_of_the_next() -> None:
    # pyawscron fails on 30 February; the search resumes at midnight on 1 March.
    found = next_occurrences("0 0 1,30 2,3 ? *", "UTC", after=utc(2026, 2, 1, 9), count=2)
    assert [occurrence.utc for occurrence in found] == [utc(2026, 3, 1), utc(2026, 3, 30)]


def test_an_expression_that_fails_for_ten_years_on_end_cannot_be_evaluated() -> None:
    # Valid (29 February 2000 ran), but after that only in years without a 29 February.
    with pytest.raises(
        CronExpressionError,
        match=r'^cannot evaluate AWS cron expression "0 8 29 2 \? 2000,2101-2103" '
        r"near 2000-12-31$",
    ):
        next_occurrences("0 8 29 2 ? 2000,2101-2103", "UTC", after=utc(2001, 1, 1), count=1)


def test_an_expression_that_never_runs_is_refused() -> None:
    # 2100 is no leap year, nor are 2101-2103: there is never a 29 February to run on.
    with pytest.raises(
        CronExpressionError,
        match=r'^invalid AWS cron expression "cron\(0 8 29 2 \? 2100-2103\)": '
        r"a field is out of range or malformed \(day is out of range for month\)$",
    ):
        LocalCron("cron(0 8 29 2 ? 2100-2103)", "UTC")


def test_a_local_cron_keeps_its_fields_and_timezone() -> None:
    cron = LocalCron("cron( 0 8  * * ? * )", "Europe/Amsterdam")
    assert (cron.fields, cron.timezone, cron.zone) == ("0 8 * * ? *", "Europe/Amsterdam", AMSTERDAM)


def test_occurrences_are_found_on_the_wall_clock_of_zones_far_from_utc() -> None:
    sydney, new_york = ZoneInfo("Australia/Sydney"), ZoneInfo("America/New_York")
    latest = LocalCron("0 8 * * ? *", "Australia/Sydney").latest(
        datetime(2026, 1, 7, 8, 30, tzinfo=sydney)
    )
    assert latest is not None
    assert latest.local == datetime(2026, 1, 7, 8, tzinfo=sydney)
    [after] = next_occurrences(
        "0 8 * * ? *", "America/New_York", after=datetime(2026, 1, 7, 7, tzinfo=new_york), count=1
    )
    assert after.utc == utc(2026, 1, 7, 13)


@pytest.mark.parametrize("count", [0, -1])
def test_next_occurrences_of_no_count_are_none(count: int) -> None:
    assert next_occurrences("0 8 * * ? *", "UTC", after=utc(2026, 1, 1), count=count) == []


def test_next_occurrences_need_an_aware_moment() -> None:
    with pytest.raises(ValueError, match=r"^after must be an aware datetime$"):
        next_occurrences("0 8 * * ? *", "UTC", after=datetime(2026, 1, 1), count=1)


# --- selection: reading a get_backup_selection document --------------------------------


def test_a_full_backup_selection_document_reads_as_its_scope_and_conditions() -> None:
    document = {
        "SelectionName": "nightly",
        "IamRoleArn": "arn:aws:iam::123456789012:role/backup",
        "Resources": ["arn:aws:rds:*:*:db:shop-*"],
        "NotResources": ["arn:aws:rds:*:*:db:shop-scratch"],
        "ListOfTags": [
            {
                "ConditionType": "STRINGEQUALS",
                "ConditionKey": "aws:ResourceTag/backup",
                "ConditionValue": "nightly",
            },
            {"ConditionKey": "env", "ConditionValue": "prod"},
            {"ConditionType": "STRINGLIKE", "ConditionKey": "team", "ConditionValue": "a*"},
        ],
        "Conditions": {
            "StringEquals": [{"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "prod"}],
            "StringNotLike": [{"ConditionKey": "aws:ResourceTag/tier", "ConditionValue": "t?"}],
            "StringLike": [],
        },
    }
    assert BackupSelection.from_api(document) == BackupSelection(
        name="nightly",
        resources=("arn:aws:rds:*:*:db:shop-*",),
        not_resources=("arn:aws:rds:*:*:db:shop-scratch",),
        list_of_tags=(
            TagCondition(operator=ConditionOperator.STRING_EQUALS, key="backup", value="nightly"),
            TagCondition(operator=ConditionOperator.STRING_EQUALS, key="env", value="prod"),
        ),
        conditions=(
            TagCondition(operator=ConditionOperator.STRING_EQUALS, key="env", value="prod"),
            TagCondition(operator=ConditionOperator.STRING_NOT_LIKE, key="tier", value="t?"),
        ),
    )


def test_a_backup_selection_without_optional_keys_reads_as_empty_strings() -> None:
    document = {
        "ListOfTags": [{}],
        "Conditions": {"StringEquals": [{}], "StringLike": None},
    }
    assert BackupSelection.from_api(document) == BackupSelection(
        name="",
        list_of_tags=(TagCondition(operator=ConditionOperator.STRING_EQUALS, key="", value=""),),
        conditions=(TagCondition(operator=ConditionOperator.STRING_EQUALS, key="", value=""),),
    )


def test_an_empty_backup_selection_document_selects_everything() -> None:
    selection = BackupSelection.from_api({})
    assert selection == BackupSelection()
    assert selection.selects(arn="arn:aws:rds:eu-west-1:123456789012:db:shop", tags={})


def test_tags_without_a_key_are_left_out() -> None:
    tag_list = [{"Value": "orphan"}, "Key=env", {"Key": "env", "Value": "prod"}, {"Key": "x"}]
    assert tags_of(tag_list) == {"env": "prod", "x": ""}


def test_the_local_timezone_of_the_machine_changes_no_result() -> None:
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"  # +05:30: Sunday 20:00 UTC is Monday there
    time.tzset()
    try:
        [occurrence] = next_occurrences("0 8 * * ? *", "UTC", after=utc(2026, 1, 1), count=1)
        weekly = list(
            WeeklyWindow(start_minute=0, duration_minutes=30).occurrences(
                begin=utc(2026, 1, 4, 20), end=utc(2026, 1, 12, 1)
            )
        )
        daily = list(
            DailyWindow(start_minute=60, duration_minutes=30).occurrences(
                begin=utc(2026, 1, 5, 2), end=utc(2026, 1, 6, 2)
            )
        )
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()
    assert occurrence.utc.isoformat() == "2026-01-01T08:00:00+00:00"
    assert weekly == [
        (utc(2026, 1, 5), utc(2026, 1, 5, 0, 30)),
        (utc(2026, 1, 12), utc(2026, 1, 12, 0, 30)),
    ]
    assert daily == [(utc(2026, 1, 6, 1), utc(2026, 1, 6, 1, 30))]


def test_the_last_29_february_is_found_years_back() -> None:
    # Every month since then lacks a 29 February: the search steps back month by month.
    latest = LocalCron("0 8 29 2 ? *", "UTC").latest(utc(2027, 6, 1))
    assert latest is not None
    assert latest.utc == utc(2024, 2, 29, 8)


def test_the_last_30th_of_february_or_april_is_in_april() -> None:
    latest = LocalCron("0 8 30,31 2,4 ? *", "UTC").latest(utc(2026, 4, 29))
    assert latest is not None
    assert latest.utc == utc(2025, 4, 30, 8)


# --- resource_window: the API texts ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("sun:03:00-sun:03:30", WeeklyWindow(start_minute=6 * 1440 + 180, duration_minutes=30)),
        ("mon:00:00-mon:00:01", WeeklyWindow(start_minute=0, duration_minutes=1)),
        (" SAT:23:45-sun:00:15 ", WeeklyWindow(start_minute=5 * 1440 + 1425, duration_minutes=30)),
        ("sun:23:59-mon:00:29", WeeklyWindow(start_minute=6 * 1440 + 1439, duration_minutes=30)),
        ("tue:10:00-mon:10:00", WeeklyWindow(start_minute=1440 + 600, duration_minutes=6 * 1440)),
    ],
)
def test_a_maintenance_window_reads_as_minutes_of_the_utc_week(
    text: str, spec: WeeklyWindow
) -> None:
    assert ResourceWindow.maintenance("rds_instance", "db1", text) == ResourceWindow(
        resource_type="rds_instance",
        resource_id="db1",
        kind=WindowKind.MAINTENANCE,
        window=text,
        spec=spec,
        problem=None,
    )


@pytest.mark.parametrize(
    ("text", "shown", "problem"),
    [
        (
            "garbage",
            "garbage",
            "expected ddd:hh24:mi-ddd:hh24:mi such as sun:03:00-sun:03:30, got 'garbage'",
        ),
        (None, "", "expected ddd:hh24:mi-ddd:hh24:mi such as sun:03:00-sun:03:30, got None"),
        (5, "", "expected ddd:hh24:mi-ddd:hh24:mi such as sun:03:00-sun:03:30, got 5"),
        (
            "sun:03:00-sun:03:30x",
            "sun:03:00-sun:03:30x",
            "expected ddd:hh24:mi-ddd:hh24:mi such as sun:03:00-sun:03:30, "
            "got 'sun:03:00-sun:03:30x'",
        ),
        (
            "xyz:03:00-sun:03:30",
            "xyz:03:00-sun:03:30",
            "unknown day 'xyz' in 'xyz:03:00-sun:03:30'; expected mon..sun",
        ),
        (
            "sun:03:00-Abc:03:30",
            "sun:03:00-Abc:03:30",
            "unknown day 'abc' in 'sun:03:00-Abc:03:30'; expected mon..sun",
        ),
        (
            "Sun:24:00-sun:03:30",
            "Sun:24:00-sun:03:30",
            "time 24:00 out of range in 'Sun:24:00-sun:03:30'",
        ),
        (
            "sun:03:00-sun:03:60",
            "sun:03:00-sun:03:60",
            "time 03:60 out of range in 'sun:03:00-sun:03:60'",
        ),
        ("sun:03:00-sun:03:00", "sun:03:00-sun:03:00", "the window 'sun:03:00-sun:03:00' is empty"),
    ],
)
def test_a_maintenance_window_that_does_not_parse_says_why(
    text: object, shown: str, problem: str
) -> None:
    assert ResourceWindow.maintenance("rds_instance", "db1", text) == ResourceWindow(  # type: ignore[arg-type]
        resource_type="rds_instance",
        resource_id="db1",
        kind=WindowKind.MAINTENANCE,
        window=shown,
        spec=None,
        problem=f"maintenance window not analysed: {problem}",
    )


@pytest.mark.parametrize(
    ("text", "spec", "problem"),
    [
        ("03:00-03:30", DailyWindow(start_minute=180, duration_minutes=30), None),
        (" 23:45-00:15 ", DailyWindow(start_minute=1425, duration_minutes=30), None),
        ("00:00-23:59", DailyWindow(start_minute=0, duration_minutes=1439), None),
        ("3:00-03:30", None, "expected hh24:mi-hh24:mi such as 03:00-03:30, got '3:00-03:30'"),
        ("03:00-03:30 ", DailyWindow(start_minute=180, duration_minutes=30), None),
        (None, None, "expected hh24:mi-hh24:mi such as 03:00-03:30, got None"),
        ("24:00-01:00", None, "time 24:00 out of range in '24:00-01:00'"),
        ("01:00-01:60", None, "time 01:60 out of range in '01:00-01:60'"),
        ("03:00-03:00", None, "the window '03:00-03:00' is empty"),
    ],
)
def test_a_backup_window_reads_as_minutes_of_the_utc_day(
    text: str | None, spec: DailyWindow | None, problem: str | None
) -> None:
    assert ResourceWindow.backup("rds_cluster", "c1", text) == ResourceWindow(
        resource_type="rds_cluster",
        resource_id="c1",
        kind=WindowKind.BACKUP,
        window=text or "",
        spec=spec,
        problem=problem and f"backup window not analysed: {problem}",
    )


@pytest.mark.parametrize(
    ("expression", "timezone", "minutes", "shown", "result"),
    [
        (
            "cron(0 3 * * ? *)",
            None,
            None,
            "cron(0 3 * * ? *) UTC, start within 480 min",
            BackupRuleWindow(fields="0 3 * * ? *", timezone="UTC", start_window_minutes=480),
        ),
        (
            " cron( 0  3 ? * MON *) ",
            "Europe/Amsterdam",
            1,
            " cron( 0  3 ? * MON *)  Europe/Amsterdam, start within 1 min",
            BackupRuleWindow(
                fields="0 3 ? * MON *", timezone="Europe/Amsterdam", start_window_minutes=1
            ),
        ),
        (
            None,
            None,
            None,
            "(no schedule) UTC, start within 480 min",
            "the rule has no schedule expression",
        ),
        (
            "  ",
            "Europe/Amsterdam",
            60,
            "   Europe/Amsterdam, start within 60 min",
            "the rule has no schedule expression",
        ),
        (
            "rate(1 day)",
            None,
            60,
            "rate(1 day) UTC, start within 60 min",
            'only cron(...) schedules are analysed, got "rate(1 day)"',
        ),
        (
            "cron(0 3 * * ? *)",
            None,
            0,
            "cron(0 3 * * ? *) UTC, start within 0 min",
            "StartWindowMinutes must be a positive number, got 0",
        ),
        (
            "cron(0 3 * * ? *)",
            None,
            -5,
            "cron(0 3 * * ? *) UTC, start within -5 min",
            "StartWindowMinutes must be a positive number, got -5",
        ),
        (
            "cron(0 3 * * ? *)",
            None,
            True,
            "cron(0 3 * * ? *) UTC, start within True min",
            "StartWindowMinutes must be a positive number, got True",
        ),
        (
            "cron(0 3 * * ? *)",
            None,
            "60",
            "cron(0 3 * * ? *) UTC, start within 60 min",
            "StartWindowMinutes must be a positive number, got '60'",
        ),
        (
            "cron(0 25 * * ? *)",
            None,
            None,
            "cron(0 25 * * ? *) UTC, start within 480 min",
            'invalid AWS cron expression "cron(0 25 * * ? *)": '
            "a field is out of range or malformed (hour must be in 0..23)",
        ),
        (
            "cron(0 3 * * ? *)",
            "Mars/Base",
            None,
            "cron(0 3 * * ? *) Mars/Base, start within 480 min",
            'unknown timezone "Mars/Base"; expected an IANA name such as Europe/Amsterdam',
        ),
    ],
)
def test_a_backup_rule_reads_as_its_cron_in_its_timezone(
    expression: str | None,
    timezone: str | None,
    minutes: object,
    shown: str,
    result: BackupRuleWindow | str,
) -> None:
    parsed = isinstance(result, BackupRuleWindow)
    assert ResourceWindow.aws_backup(
        "rds_cluster",
        "c1",
        expression=expression,
        timezone=timezone,
        start_window_minutes=minutes,  # type: ignore[arg-type]
    ) == ResourceWindow(
        resource_type="rds_cluster",
        resource_id="c1",
        kind=WindowKind.AWS_BACKUP,
        window=shown,
        spec=result if parsed else None,
        problem=None if parsed else f"backup rule not analysed: {result}",
    )


# --- analysis: coverage, brackets, conflicts and problems ------------------------------

NOW = utc(2026, 1, 7, 12)  # a Wednesday


def analyse(
    schedule: Schedule, *windows: ResourceWindow, now: datetime = NOW, weeks: int = 1
) -> list[WindowAnalysis]:
    return analyse_windows(schedule, list(windows), now=now, weeks=weeks)


def maintenance(text: str) -> ResourceWindow:
    return ResourceWindow.maintenance("rds_instance", "db1", text)


def backup(text: str) -> ResourceWindow:
    return ResourceWindow.backup("rds_instance", "db1", text)


def expected(window: ResourceWindow, **fields: object) -> WindowAnalysis:
    """The analysis of ``window`` for composition "shop"; ``fields`` are the results."""
    return WindowAnalysis(
        composition="shop",
        resource_type=window.resource_type,
        resource_id=window.resource_id,
        kind=window.kind,
        window=window.window,
        key=window_key("shop", window),
        **fields,  # type: ignore[arg-type]
    )


def test_a_window_inside_office_hours_is_covered_and_needs_no_brackets() -> None:
    window = maintenance("thu:09:00-thu:09:30")
    assert analyse(OFFICE, window) == [
        expected(
            window,
            covered=True,
            occurrences=1,
            uncovered_occurrences=0,
            next_uncovered_at=None,
            brackets=(),
            stop_conflicts=0,
            problem=None,
        )
    ]


@pytest.mark.parametrize(
    ("text", "covered"),
    [
        ("thu:08:15-thu:09:00", True),  # opens minus the margin at the start
        ("thu:08:14-thu:09:00", False),
        ("thu:18:00-thu:18:45", True),  # closes plus the margin at the stop
        ("thu:18:00-thu:18:46", False),
    ],
)
def test_the_margin_may_reach_exactly_to_the_start_and_the_stop(text: str, covered: bool) -> None:
    [analysis] = analyse(OFFICE, maintenance(text))
    assert (analysis.covered, analysis.uncovered_occurrences) == (covered, 0 if covered else 1)


def test_an_evening_backup_window_gets_daily_brackets_and_reports_its_first_occurrence() -> None:
    window = backup("20:00-20:30")
    assert analyse(OFFICE, window) == [
        expected(
            window,
            covered=False,
            occurrences=7,
            uncovered_occurrences=7,
            next_uncovered_at=utc(2026, 1, 7, 20),
            brackets=(
                Bracket(
                    action=Action.START,
                    expression="cron(45 19 * * ? *)",
                    timezone="UTC",
                    run_at="every day at 19:45 UTC, 15 min before the window opens",
                ),
                Bracket(
                    action=Action.STOP,
                    expression="cron(45 20 * * ? *)",
                    timezone="UTC",
                    run_at="every day at 20:45 UTC, 15 min after the window closes",
                ),
            ),
            stop_conflicts=0,
            problem=None,
        )
    ]


def test_a_stop_bracket_inside_office_hours_counts_one_conflict_per_working_day() -> None:
    # Opens 07:30, starts 07:15 (stopped), stops 08:00: the working day has begun then.
    [analysis] = analyse(OFFICE, backup("07:30-07:45"))
    assert (
        analysis.occurrences,
        analysis.uncovered_occurrences,
        analysis.next_uncovered_at,
        analysis.stop_conflicts,
        [bracket.expression for bracket in analysis.brackets],
    ) == (7, 7, utc(2026, 1, 8, 7, 30), 5, ["cron(15 7 * * ? *)", "cron(0 8 * * ? *)"])


def test_only_the_uncovered_occurrences_are_counted_and_the_first_of_them_reported() -> None:
    # 18:30-19:00 is covered on working days only (margin 0): Saturday is the first gap.
    schedule = Schedule(
        start_resources_at=OFFICE.start_resources_at,
        stop_resources_at=OFFICE.stop_resources_at,
        window_margin_minutes=0,
    )
    [analysis] = analyse(schedule, backup("18:30-19:00"))
    assert (
        analysis.covered,
        analysis.occurrences,
        analysis.uncovered_occurrences,
        analysis.next_uncovered_at,
    ) == (False, 7, 2, utc(2026, 1, 10, 18, 30))


STOP_INTERRUPTS = (
    "the composition is already running when every occurrence of this window (minus the "
    "margin) opens, but its own stop schedule ends that run before the window (plus the "
    "margin) closes; a bracket cannot help: move stop_resources_at or the window"
)


def test_a_window_cut_by_the_compositions_own_stop_has_no_brackets_and_says_why() -> None:
    # Runs from Saturday 00:10 to the next Saturday 00:00 (the Monday start changes
    # nothing): the window opens while running and is cut by the stop; the run has
    # started again when a stop bracket would run, but without brackets no conflicts.
    schedule = Schedule(
        start_resources_at="10 0 ? * MON,SAT *",
        stop_resources_at="0 0 ? * SAT *",
        window_margin_minutes=0,
    )
    window = maintenance("fri:23:45-sat:00:15")
    assert analyse(schedule, window, weeks=2) == [
        expected(
            window,
            covered=False,
            occurrences=2,
            uncovered_occurrences=2,
            next_uncovered_at=utc(2026, 1, 9, 23, 45),
            brackets=(),
            stop_conflicts=0,
            problem=STOP_INTERRUPTS,
        )
    ]


def test_a_window_that_does_not_parse_is_reported_with_its_problem() -> None:
    window = maintenance("sun:03:00")
    assert analyse(OFFICE, window) == [
        expected(
            window,
            covered=False,
            occurrences=0,
            uncovered_occurrences=0,
            next_uncovered_at=None,
            brackets=(),
            stop_conflicts=0,
            problem=(
                "maintenance window not analysed: expected ddd:hh24:mi-ddd:hh24:mi "
                "such as sun:03:00-sun:03:30, got 'sun:03:00'"
            ),
        )
    ]


def test_a_rule_that_cannot_be_evaluated_is_reported_not_raised() -> None:
    window = ResourceWindow(
        resource_type="rds_cluster",
        resource_id="c1",
        kind=WindowKind.AWS_BACKUP,
        window="cron(0 8 31 2 ? *) UTC, start within 60 min",
        spec=BackupRuleWindow(fields="0 8 31 2 ? *", timezone="UTC", start_window_minutes=60),
    )
    assert analyse(OFFICE, window) == [
        expected(
            window,
            covered=False,
            occurrences=0,
            uncovered_occurrences=0,
            next_uncovered_at=None,
            brackets=(),
            stop_conflicts=0,
            problem=(
                'invalid AWS cron expression "0 8 31 2 ? *": '
                "a field is out of range or malformed (day is out of range for month)"
            ),
        )
    ]


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^now must be an aware datetime$"):
        analyse(OFFICE, backup("03:00-03:30"), now=datetime(2026, 1, 7))


def test_the_horizon_is_weeks_of_real_time_across_a_dst_change() -> None:
    # 12:00 in Amsterdam on 25 March is 11:00 UTC; a week later is 11:00 UTC again,
    # although the wall clock then says 13:00. The 10:30 UTC window of 1 April counts.
    now = datetime(2026, 3, 25, 12, tzinfo=AMSTERDAM)
    [analysis] = analyse(OFFICE, backup("10:30-10:45"), now=now)
    assert (analysis.occurrences, analysis.next_uncovered_at) == (7, utc(2026, 3, 28, 10, 30))


def test_a_composition_that_never_stops_covers_long_windows_and_long_margins() -> None:
    # Started every Monday and never stopped: the running time must reach past the
    # last occurrence of the longest window (six days) plus a margin of over a day.
    schedule = Schedule(start_resources_at="0 0 ? * MON *", window_margin_minutes=2000)
    analyses = analyse(schedule, backup("03:00-03:30"), maintenance("tue:10:00-mon:10:00"), now=NOW)
    assert [(a.covered, a.occurrences, a.problem) for a in analyses] == [
        (True, 7, None),
        (True, 1, None),
    ]


def test_window_keys_are_stable_and_name_the_kind() -> None:
    assert [
        window_key("shop", maintenance("sun:03:00-sun:03:30")),
        window_key("shop", backup("03:00-03:30")),
        window_key(
            "shop",
            ResourceWindow.aws_backup(
                "rds_cluster",
                "c1",
                expression="cron(0 3 * * ? *)",
                timezone=None,
                start_window_minutes=None,
            ),
        ),
    ] == ["mw-6b14cb825ae6", "bw-73944623555b", "ab-9d2fd1b20602"]


def test_the_json_of_an_analysis_has_a_problem_only_when_there_is_one() -> None:
    covered, unparsed = analyse(OFFICE, maintenance("thu:09:00-thu:09:30"), backup("x"))
    assert covered.as_json() == {
        "composition": "shop",
        "resource_type": "rds_instance",
        "resource_id": "db1",
        "kind": "maintenance",
        "window": "thu:09:00-thu:09:30",
        "covered": True,
        "uncovered_occurrences": 0,
        "schedules": [],
    }
    assert unparsed.as_json() == {
        "composition": "shop",
        "resource_type": "rds_instance",
        "resource_id": "db1",
        "kind": "backup",
        "window": "x",
        "covered": False,
        "uncovered_occurrences": 0,
        "schedules": [],
        "problem": "backup window not analysed: expected hh24:mi-hh24:mi such as "
        "03:00-03:30, got 'x'",
    }
    [evening] = analyse(OFFICE, backup("20:00-20:30"))
    assert evening.as_json()["schedules"] == [
        {"action": "start", "expression": "cron(45 19 * * ? *)", "timezone": "UTC"},
        {"action": "stop", "expression": "cron(45 20 * * ? *)", "timezone": "UTC"},
    ]


def test_a_window_opening_just_before_the_stop_is_cut_by_it_from_now_on() -> None:
    # Thursday 18:50: running since 08:00 until the stop at 19:00. The window opens at
    # 18:55 (minus the margin: 18:40, running) and closes at 19:10 (plus: 19:25, stopped).
    window = maintenance("thu:18:55-thu:19:10")
    assert analyse(OFFICE, window, now=utc(2026, 1, 8, 18, 50)) == [
        expected(
            window,
            covered=False,
            occurrences=1,
            uncovered_occurrences=1,
            next_uncovered_at=utc(2026, 1, 8, 18, 55),
            brackets=(),
            stop_conflicts=0,
            problem=STOP_INTERRUPTS,
        )
    ]
