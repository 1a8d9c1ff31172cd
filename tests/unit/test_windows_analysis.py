"""Window analysis results: bracket expressions, the JSON contract, keys, unparsed input."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler_core.config.models import ON_DEMAND, Composition
from scheduler_core.windows import ResourceWindow, WindowAnalysis, analyse_windows, window_key
from tests.unit import window_oracle

# No instant is special: a Wednesday afternoon, a Saturday a minute before midnight
# and a Sunday just after midnight, on the day Europe falls back.
NOWS = (
    datetime(2026, 1, 7, 13, 37, tzinfo=UTC),
    datetime(2026, 5, 16, 23, 59, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 1, tzinfo=UTC),
)
NOW = NOWS[0]
ANY_NOW = pytest.mark.parametrize("now", NOWS, ids=lambda now: f"{now:%a-%Y%m%dT%H%M}")
AMS, NYC = "Europe/Amsterdam", "America/New_York"
OFFICE_HOURS = ("0 8 ? * MON-FRI *", "0 19 ? * MON-FRI *")
JSON_KEYS = [
    "composition",
    "resource_type",
    "resource_id",
    "kind",
    "window",
    "covered",
    "uncovered_occurrences",
    "schedules",
]


def composition(
    *,
    timezone: str = AMS,
    start: str = OFFICE_HOURS[0],
    stop: str = OFFICE_HOURS[1],
    margin: int = 15,
) -> Composition:
    return window_oracle.composition(timezone, start, stop, margin)


ON_DEMAND_ONLY = composition(start=ON_DEMAND, stop=ON_DEMAND)


def analyse_one(
    window: ResourceWindow, target: Composition = ON_DEMAND_ONLY, *, now: datetime = NOW
) -> WindowAnalysis:
    [analysis] = analyse_windows(target, [window], now=now)
    return analysis


def maintenance(text: str | None) -> ResourceWindow:
    return ResourceWindow.maintenance("rds_instance", "db1", text)


def backup(text: str | None) -> ResourceWindow:
    return ResourceWindow.backup("rds_instance", "db1", text)


def aws_backup(
    expression: str | None, timezone: str | None = AMS, minutes: int | None = 60
) -> ResourceWindow:
    return ResourceWindow.aws_backup(
        "rds_cluster",
        "aurora",
        expression=expression,
        timezone=timezone,
        start_window_minutes=minutes,
    )


@pytest.mark.parametrize(
    ("window", "margin", "start", "stop"),
    [
        (maintenance("sun:03:00-sun:03:30"), 15, "cron(45 2 ? * SUN *)", "cron(45 3 ? * SUN *)"),
        (maintenance("mon:00:05-mon:00:35"), 15, "cron(50 23 ? * SUN *)", "cron(50 0 ? * MON *)"),
        (maintenance("sat:23:45-sun:00:15"), 15, "cron(30 23 ? * SAT *)", "cron(30 0 ? * SUN *)"),
        (maintenance("sun:23:50-mon:00:20"), 30, "cron(20 23 ? * SUN *)", "cron(50 0 ? * MON *)"),
        (maintenance("Mon:04:00-Mon:04:30"), 0, "cron(0 4 ? * MON *)", "cron(30 4 ? * MON *)"),
        (backup("03:00-03:30"), 15, "cron(45 2 * * ? *)", "cron(45 3 * * ? *)"),
        (backup("23:50-00:20"), 15, "cron(35 23 * * ? *)", "cron(35 0 * * ? *)"),
        (backup("00:05-00:35"), 10, "cron(55 23 * * ? *)", "cron(45 0 * * ? *)"),
    ],
    ids=lambda value: value.window if isinstance(value, ResourceWindow) else None,
)
def test_utc_window_brackets(window: ResourceWindow, margin: int, start: str, stop: str) -> None:
    analysis = analyse_one(window, composition(start=ON_DEMAND, stop=ON_DEMAND, margin=margin))
    assert analysis.as_json()["schedules"] == [
        {"action": "start", "expression": start, "timezone": "UTC"},
        {"action": "stop", "expression": stop, "timezone": "UTC"},
    ]


@pytest.mark.parametrize(
    ("window", "start", "stop"),
    [
        # Shifting across midnight moves the day-of-week list: MON-FRI 00:05 → SUN-THU 23:50.
        (
            aws_backup("cron(5 0 ? * MON-FRI *)"),
            "cron(50 23 ? * SUN-THU *)",
            "cron(20 1 ? * MON-FRI *)",
        ),
        (aws_backup("cron(0 5 ? * * *)", minutes=480), "cron(45 4 ? * * *)", "cron(15 13 ? * * *)"),
        (
            aws_backup("cron(0 20 1,15 * ? *)", NYC, 480),
            "cron(45 19 1,15 * ? *)",
            "cron(15 4 2,16 * ? *)",
        ),
        (
            aws_backup("cron(0 22 ? * SAT *)", NYC, 180),
            "cron(45 21 ? * SAT *)",
            "cron(15 1 ? * SUN *)",
        ),
    ],
    ids=lambda value: value.window if isinstance(value, ResourceWindow) else None,
)
def test_aws_backup_brackets_shift_the_rule_in_its_timezone(
    window: ResourceWindow, start: str, stop: str
) -> None:
    timezone = window.window.split()[-5].rstrip(",")
    analysis = analyse_one(window)
    assert analysis.as_json()["schedules"] == [
        {"action": "start", "expression": start, "timezone": timezone},
        {"action": "stop", "expression": stop, "timezone": timezone},
    ]


@pytest.mark.parametrize(
    ("now", "next_uncovered_at"),
    [
        (datetime(2026, 1, 7, 13, 37, tzinfo=UTC), datetime(2026, 1, 11, 3, 0, tzinfo=UTC)),
        # An occurrence opening at now counts; one that opened a minute ago does not.
        (datetime(2026, 1, 11, 3, 0, tzinfo=UTC), datetime(2026, 1, 11, 3, 0, tzinfo=UTC)),
        (datetime(2026, 1, 11, 3, 1, tzinfo=UTC), datetime(2026, 1, 18, 3, 0, tzinfo=UTC)),
        (datetime(2026, 10, 24, 23, 59, tzinfo=UTC), datetime(2026, 10, 25, 3, 0, tzinfo=UTC)),
    ],
    ids=lambda value: f"{value:%a-%Y%m%dT%H%M}",
)
def test_sunday_window_with_weekday_schedule_matches_the_design_example(
    now: datetime, next_uncovered_at: datetime
) -> None:
    analysis = analyse_one(maintenance("sun:03:00-sun:03:30"), composition(), now=now)
    assert analysis.as_json() == {
        "composition": "staging",
        "resource_type": "rds_instance",
        "resource_id": "db1",
        "kind": "maintenance",
        "window": "sun:03:00-sun:03:30",
        "covered": False,
        "uncovered_occurrences": 52,
        "schedules": [
            {"action": "start", "expression": "cron(45 2 ? * SUN *)", "timezone": "UTC"},
            {"action": "stop", "expression": "cron(45 3 ? * SUN *)", "timezone": "UTC"},
        ],
    }
    assert analysis.next_uncovered_at == next_uncovered_at
    assert [bracket.run_at for bracket in analysis.brackets] == [
        "every Sunday at 02:45 UTC, 15 min before the window opens",
        "every Sunday at 03:45 UTC, 15 min after the window closes",
    ]


@ANY_NOW
def test_covered_window_has_no_schedules(now: datetime) -> None:
    analysis = analyse_one(maintenance("wed:10:00-wed:10:30"), composition(), now=now)
    assert analysis.covered
    assert analysis.as_json()["schedules"] == []
    assert list(analysis.as_json()) == JSON_KEYS


@ANY_NOW
def test_no_brackets_when_the_composition_already_runs_at_every_bracket_start(
    now: datetime,
) -> None:
    # Running Monday 00:00 to Saturday 00:00: the window opens while running, but the
    # composition's own stop at Saturday 00:00 cuts it; a start bracket cannot help.
    week = composition(timezone="UTC", start="0 0 ? * MON *", stop="0 0 ? * SAT *", margin=0)
    analysis = analyse_one(maintenance("fri:23:45-sat:00:15"), week, now=now)
    assert analysis.uncovered_occurrences == 52
    assert analysis.brackets == ()
    assert analysis.problem is not None and "stop" in analysis.problem
    assert analysis.as_json()["problem"] == analysis.problem


@ANY_NOW
def test_stop_bracket_inside_office_hours_is_counted_as_conflict(now: datetime) -> None:
    # 06:50 UTC is 07:50 (winter) or 08:50 (summer) in Amsterdam: the stop bracket at
    # 07:35 UTC always falls in office hours, so its runner must skip it.
    analysis = analyse_one(maintenance("wed:06:50-wed:07:20"), composition(), now=now)
    assert 0 < analysis.uncovered_occurrences < 52
    assert len(analysis.brackets) == 2
    assert analysis.stop_conflicts == 52


@ANY_NOW
def test_rule_with_several_times_a_day_has_a_problem_instead_of_brackets(now: datetime) -> None:
    analysis = analyse_one(aws_backup("cron(0 */6 ? * * *)", "UTC", 60), now=now)
    assert analysis.uncovered_occurrences == 4 * 364
    assert analysis.brackets == ()
    assert analysis.problem is not None and "single fixed minute and hour" in analysis.problem


def test_rule_whose_shift_leaves_the_month_has_a_problem() -> None:
    analysis = analyse_one(aws_backup("cron(5 0 1 * ? *)", "UTC", 60))
    assert analysis.brackets == ()
    assert analysis.problem is not None and "day-of-month" in analysis.problem


def test_aws_backup_window_text_is_readable() -> None:
    analysis = analyse_one(aws_backup("cron(0 5 ? * * *)", None, None))
    assert analysis.window == "cron(0 5 ? * * *) UTC, start within 480 min"


@pytest.mark.parametrize(
    "window",
    [
        maintenance(None),
        maintenance(""),
        maintenance("garbage"),
        maintenance("sun:25:00-sun:03:00"),
        maintenance("xyz:03:00-sun:03:30"),
        maintenance("sun:03:00-sun:03:00"),
        backup("rate(1 day)"),
        backup("3:00-3:30"),
        aws_backup("rate(12 hours)"),
        aws_backup(None),
        aws_backup("cron(0 5 * * * *)"),
        aws_backup("cron(0 5 ? * * *)", "Mars/Olympus_Mons"),
        aws_backup("cron(0 5 ? * * *)", AMS, 0),
    ],
    ids=lambda window: f"{window.kind}:{window.window}",
)
def test_unparsed_window_is_reported_not_raised(window: ResourceWindow) -> None:
    analysis = analyse_one(window, composition())
    document = analysis.as_json()
    assert list(document) == [*JSON_KEYS, "problem"]
    assert document["covered"] is False
    assert document["schedules"] == []
    assert document["problem"]


@settings(max_examples=50, deadline=None)
@given(
    text=st.one_of(st.none(), st.text(max_size=30)),
    timezone=st.one_of(st.none(), st.text(max_size=20), st.sampled_from((AMS, "UTC"))),
    minutes=st.one_of(st.none(), st.integers(-10, 2000)),
)
def test_any_api_text_never_crashes(
    text: str | None, timezone: str | None, minutes: int | None
) -> None:
    windows = [
        maintenance(text),
        backup(text),
        aws_backup(text, timezone, minutes),
        aws_backup(f"cron({text})", timezone, minutes),
    ]
    for analysis in analyse_windows(composition(), windows, now=NOW, weeks=2):
        assert (analysis.problem is not None) or analysis.occurrences >= 0
        assert set(analysis.as_json()) <= {*JSON_KEYS, "problem"}


def test_key_is_short_stable_and_usable_in_schedule_names() -> None:
    window = maintenance("sun:03:00-sun:03:30")
    key = window_key("staging", window)
    assert re.fullmatch(r"[0-9a-zA-Z_.-]{1,29}", key)
    assert key == window_key("staging", maintenance("sun:03:00-sun:03:30"))
    assert key != window_key("production", window)
    assert key != window_key("staging", maintenance("sun:04:00-sun:04:30"))
    assert analyse_one(window).key == key


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        analyse_windows(composition(), [], now=datetime(2026, 1, 5))
