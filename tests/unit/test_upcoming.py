"""The next 7 days of scheduled runs: which run, which don't and why."""

from __future__ import annotations

from datetime import UTC, datetime

from scheduler_core.actions import Action
from scheduler_core.config import Composition
from scheduler_core.upcoming import UpcomingRun, upcoming_runs
from tests.functional.helpers import composition

WAIT = [{"type": "wait", "params": {"seconds": 1}}]
# Friday 27 March 2026, 12:00 UTC: Amsterdam moves to summer time on Sunday the 29th.
NOW = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)


def office(**settings: str) -> Composition:
    return composition(
        "staging",
        WAIT,
        timezone="Europe/Amsterdam",
        start_resources_at="0 8 ? * MON-FRI *",
        stop_resources_at="0 19 ? * MON-FRI *",
        **settings,
    )


def shown(runs: list[UpcomingRun]) -> list[tuple[str, str, bool, str | None]]:
    return [(r.action.value, r.at.isoformat(), r.runs, r.reason) for r in runs]


def test_a_week_of_office_hours_in_local_time_across_the_dst_change() -> None:
    runs = upcoming_runs(office(), now=NOW, paused={}, skip_next={})

    assert shown(runs) == [
        ("stop", "2026-03-27T19:00:00+01:00", True, None),
        ("start", "2026-03-30T08:00:00+02:00", True, None),
        ("stop", "2026-03-30T19:00:00+02:00", True, None),
        ("start", "2026-03-31T08:00:00+02:00", True, None),
        ("stop", "2026-03-31T19:00:00+02:00", True, None),
        ("start", "2026-04-01T08:00:00+02:00", True, None),
        ("stop", "2026-04-01T19:00:00+02:00", True, None),
        ("start", "2026-04-02T08:00:00+02:00", True, None),
        ("stop", "2026-04-02T19:00:00+02:00", True, None),
        ("start", "2026-04-03T08:00:00+02:00", True, None),
    ]


def test_a_skip_drops_only_the_next_run_of_its_action() -> None:
    runs = upcoming_runs(
        office(),
        now=NOW,
        paused={},
        skip_next={Action.START: True, Action.STOP: False},
    )

    starts = [(r.runs, r.reason) for r in runs if r.action is Action.START]
    assert starts[0] == (False, "skip")
    assert all(run == (True, None) for run in starts[1:])
    assert all(r.runs for r in runs if r.action is Action.STOP)


def test_a_paused_schedule_runs_nothing_and_says_so() -> None:
    runs = upcoming_runs(
        office(),
        now=NOW,
        paused={Action.START: True, Action.STOP: True},
        skip_next={Action.START: True},
    )

    assert runs and {(r.runs, r.reason) for r in runs} == {(False, "paused")}


def test_on_demand_compositions_have_no_upcoming_runs() -> None:
    assert upcoming_runs(composition("adhoc", WAIT), now=NOW, paused={}, skip_next={}) == []


def test_a_start_on_a_holiday_does_not_run_and_its_stop_still_does() -> None:
    from datetime import date

    runs = upcoming_runs(
        office().model_copy(update={"holidays": (date(2026, 3, 31),)}),
        now=NOW,
        paused={},
        skip_next={},
    )

    on_the_day = [shown([r])[0] for r in runs if r.at.date() == date(2026, 3, 31)]
    assert on_the_day == [
        ("start", "2026-03-31T08:00:00+02:00", False, "holiday"),
        ("stop", "2026-03-31T19:00:00+02:00", True, None),
    ]
