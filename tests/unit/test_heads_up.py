"""Heads-ups before stops: the shifted cron, the events' detail, and when none is sent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from scheduler_core.config import Composition, parse_config
from scheduler_core.cron import next_occurrences
from scheduler_core.cron.lead import HeadsUpError, heads_up_cron, problem
from scheduler_core.heads_up import (
    AUTO_STOP,
    SCHEDULED,
    Due,
    auto_stop_heads_up_spec,
    due_of,
    scheduled_spec,
    silence,
)


@pytest.mark.parametrize(
    ("stop", "lead", "heads_up"),
    [
        ("0 19 ? * MON-FRI *", 15, "45 18 ? * MON-FRI *"),
        ("30 19 ? * MON-FRI *", 15, "15 19 ? * MON-FRI *"),
        # Across midnight the weekdays move back with it.
        ("0 0 ? * TUE-SAT *", 15, "45 23 ? * MON-FRI *"),
        ("10 0 ? * MON *", 15, "55 23 ? * SUN *"),
        ("0 0 ? * SUN,WED *", 60, "0 23 ? * TUE,SAT *"),
        ("0 0 ? * * *", 15, "45 23 ? * * *"),
        ("0 0 * * ? *", 15, "45 23 * * ? *"),
        ("0 0 2,15 * ? *", 30, "30 23 1,14 * ? *"),
        # L and # do not move with the time of day, but need not move the same day.
        ("0 19 ? * 6#3 *", 15, "45 18 ? * 6#3 *"),
        ("0 19 L * ? *", 15, "45 18 L * ? *"),
        ("0 19 ? * MON-FRI *", 720, "0 7 ? * MON-FRI *"),
    ],
)
def test_heads_up_cron_runs_the_lead_before_the_stop(stop: str, lead: int, heads_up: str) -> None:
    assert heads_up_cron(stop, lead) == heads_up


@pytest.mark.parametrize(
    ("stop", "lead", "message"),
    [
        (
            "0 18,19 ? * MON-FRI *",
            15,
            'the stop runs at more than one time of day (minutes "0", hours "18,19")',
        ),
        (
            "*/30 19 ? * MON-FRI *",
            15,
            'the stop runs at more than one time of day (minutes "*/30", hours "19")',
        ),
        ("0 0 ? * 6#3 *", 15, 'day-of-week "6#3" names an nth or last weekday'),
        ("0 0 L * ? *", 15, 'day-of-month "L"'),
        ("0 0 ? 12 MON *", 15, "limited to months"),
    ],
)
def test_heads_up_cron_refuses_what_cannot_move_exactly(stop: str, lead: int, message: str) -> None:
    with pytest.raises(HeadsUpError) as raised:
        heads_up_cron(stop, lead)
    assert message in str(raised.value)


def test_problem_names_the_lead_the_cron_and_the_way_out() -> None:
    assert problem("0 0 ? * 6#3 *", 15) == (
        'no heads-up can be scheduled 15 min before stop_resources_at "0 0 ? * 6#3 *": '
        'day-of-week "6#3" names an nth or last weekday of the month, which does not move '
        "with the time of day; set heads_up_minutes: 0 or stop at one fixed time"
    )
    assert problem("0 0 ? * 6#3 *", 0) is None
    assert problem("on-demand", 15) is None


@pytest.mark.parametrize(
    ("stop", "after"),
    [
        ("0 19 ? * MON-FRI *", datetime(2027, 3, 24, tzinfo=UTC)),  # spring forward 28 Mar
        ("0 19 ? * MON-FRI *", datetime(2026, 10, 21, tzinfo=UTC)),  # fall back 25 Oct
        ("0 0 ? * TUE-SAT *", datetime(2027, 3, 24, tzinfo=UTC)),
        ("0 0 ? * TUE-SAT *", datetime(2026, 10, 21, tzinfo=UTC)),
        ("15 3 ? * * *", datetime(2026, 10, 21, tzinfo=UTC)),
    ],
)
def test_each_heads_up_is_the_lead_before_a_stop_through_dst(stop: str, after: datetime) -> None:
    zone = "Europe/Amsterdam"
    stops = next_occurrences(stop, zone, after=after, count=12)
    warnings = next_occurrences(heads_up_cron(stop, 15), zone, after=after, count=12)

    assert [s.utc - w.utc for s, w in zip(stops, warnings, strict=True)] == [
        timedelta(minutes=15)
    ] * 12


def composition(tmp_path: Path, notify: str = "{slack_channel: C0123456789}") -> Composition:
    text = (
        "calendars:\n  nl: {dates: ['2026-12-25']}\n"
        "compositions:\n  staging:\n"
        "    timezone: Europe/Amsterdam\n"
        "    calendar: nl\n"
        '    start_resources_at: "0 8 ? * MON-FRI *"\n'
        '    stop_resources_at: "0 19 ? * MON-FRI *"\n'
        f"    notify: {notify}\n"
        "    resources: [{type: wait, params: {seconds: 1}}]\n"
    )
    return parse_config(text, path=tmp_path / "c.yaml", now=datetime(2026, 12, 1, tzinfo=UTC)).get(
        "staging"
    )


def test_scheduled_spec_puts_an_event_on_the_bus_in_the_composition_timezone(
    tmp_path: Path,
) -> None:
    spec = scheduled_spec(composition(tmp_path), bus="arn:bus", role_arn="arn:role")

    assert spec is not None
    request = spec.request(state="ENABLED")
    assert (request["GroupName"], request["Name"]) == ("envctl-staging", "heads-up")
    assert request["ScheduleExpression"] == "cron(45 18 ? * MON-FRI *)"
    assert request["ScheduleExpressionTimezone"] == "Europe/Amsterdam"
    assert request["Target"]["Arn"] == "arn:bus"
    assert request["Target"]["EventBridgeParameters"] == {
        "Source": "envctl",
        "DetailType": "envctl heads-up",
    }
    assert '"scheduled_time": "<aws.scheduler.scheduled-time>"' in request["Target"]["Input"]
    off = composition(tmp_path, "{slack_channel: C0123456789, heads_up_minutes: 0}")
    assert scheduled_spec(off, bus="arn:bus", role_arn="arn:role") is None
    assert scheduled_spec(composition(tmp_path, "{}"), bus="b", role_arn="r") is None


def test_auto_stop_heads_up_is_one_time_and_none_when_too_late(tmp_path: Path) -> None:
    staging = composition(tmp_path)
    stop_at = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
    spec = auto_stop_heads_up_spec(
        staging, stop_at=stop_at, now=stop_at - timedelta(hours=1), bus="b", role_arn="r"
    )

    assert spec is not None
    assert spec.expression == "at(2026-12-02T16:45:00)"
    assert spec.action_after_completion == "DELETE"
    assert spec.input == {
        "composition": "staging",
        "kind": "auto-stop",
        "stop_at": "2026-12-02T17:00:00+00:00",
    }
    late = stop_at - timedelta(minutes=10)
    assert (
        auto_stop_heads_up_spec(staging, stop_at=stop_at, now=late, bus="b", role_arn="r") is None
    )


def test_due_of_finds_the_stop_from_the_heads_up_time_and_refuses_the_rest() -> None:
    leads = {"staging": 15}
    scheduled = due_of(
        {"composition": "staging", "kind": SCHEDULED, "scheduled_time": "2026-12-02T17:45:00Z"},
        lead_of=leads,
    )
    assert scheduled == Due(
        composition="staging", kind=SCHEDULED, stop_at=datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
    )
    auto = due_of(
        {"composition": "staging", "kind": AUTO_STOP, "stop_at": "2026-12-02T18:00:00+00:00"},
        lead_of=leads,
    )
    assert auto is not None and auto.stop_at == datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
    for bad in (
        None,
        [],
        {"composition": "other", "kind": SCHEDULED, "scheduled_time": "2026-12-02T17:45:00Z"},
        {"composition": "staging", "kind": "later", "scheduled_time": "2026-12-02T17:45:00Z"},
        {"composition": "staging", "kind": SCHEDULED, "scheduled_time": "tomorrow"},
        {"composition": "staging", "kind": SCHEDULED, "scheduled_time": "2026-12-02T17:45:00"},
        {"composition": "staging", "kind": AUTO_STOP},
    ):
        assert due_of(bad, lead_of=leads) is None


def _silence(staging: Composition, due: Due, **changes: object) -> str | None:
    known: dict[str, object] = {
        "state": "running",
        "auto_stop_at": None,
        "extended_stop": None,
        "skip_next_stop": False,
        "skipped_starts": {},
    }
    known.update(changes)
    return silence(staging, due, **known)  # type: ignore[arg-type]


def test_silence_says_why_no_heads_up_goes_out(tmp_path: Path) -> None:
    staging = composition(tmp_path)
    thursday = Due(
        composition="staging", kind=SCHEDULED, stop_at=datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    )
    christmas = Due(
        composition="staging", kind=SCHEDULED, stop_at=datetime(2026, 12, 25, 18, 0, tzinfo=UTC)
    )

    assert _silence(staging, thursday) is None
    assert _silence(staging, thursday, state=None) is None
    assert _silence(staging, thursday, state="stopped") == "staging is stopped"
    assert _silence(staging, thursday, extended_stop="2026-12-03T18:00:00Z") == (
        "the stop was extended"
    )
    assert _silence(staging, thursday, extended_stop="2026-12-04T18:00:00Z") is None
    assert _silence(staging, thursday, skip_next_stop=True) == "the next scheduled stop is skipped"
    assert _silence(staging, christmas) == "holiday 2026-12-25: the day's start was skipped"
    assert staging.holidays == (date(2026, 12, 25),)
    assert _silence(staging, thursday, skipped_starts={"2026-12-03T07:00:00Z": "skip"}) == (
        "the start of 2026-12-03 was skipped"
    )
    assert _silence(staging, thursday, skipped_starts={"2026-12-04T07:00:00Z": "skip"}) is None


def test_silence_of_an_auto_stop_heads_up_follows_the_pending_auto_stop(tmp_path: Path) -> None:
    staging = composition(tmp_path)
    at = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    due = Due(composition="staging", kind=AUTO_STOP, stop_at=at)

    assert _silence(staging, due, auto_stop_at=at) is None
    assert _silence(staging, due, auto_stop_at=at + timedelta(hours=1)) == (
        "the auto-stop was moved or removed"
    )
    assert _silence(staging, due) == "the auto-stop was moved or removed"


@pytest.mark.parametrize(("minutes", "left"), [(15, "15 min"), (59, "59 min"), (65, "1h 05m")])
def test_heads_up_text_says_the_local_stop_time_and_how_long_is_left(
    minutes: int, left: str
) -> None:
    from zoneinfo import ZoneInfo

    from bot.slack.blocks.heads_up import heads_up_text

    stop_at = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
    text = heads_up_text(
        "staging", stop_at=stop_at, zone=ZoneInfo("Europe/Amsterdam"), minutes=minutes
    )
    assert text == f"*staging* stops at 19:00 CET (in {left})"
