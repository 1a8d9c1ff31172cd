"""The next 7 days of scheduled runs: which run, which don't and why."""

from __future__ import annotations

from datetime import UTC, date, datetime

from scheduler_core.actions import Action
from scheduler_core.config import Composition
from scheduler_core.runtime.store import Overrides
from scheduler_core.upcoming import UpcomingRun, next_runs, upcoming_runs
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


def test_next_runs_marks_the_first_run_of_each_action_only() -> None:
    # Monday 30 March is a holiday: the next start (that day, 08:00) does nothing.
    holiday = office().model_copy(update={"holidays": (date(2026, 3, 30),)})

    found = next_runs(holiday, now=NOW, overrides=Overrides(), skipped_starts={})

    start, stop = found[Action.START], found[Action.STOP]
    assert (start.at.isoformat(), start.runs, start.reason) == (
        "2026-03-30T08:00:00+02:00",
        False,
        "holiday",
    )
    assert (stop.at.isoformat(), stop.runs, stop.reason) == (
        "2026-03-27T19:00:00+01:00",
        True,
        None,
    )


def test_next_runs_reads_skip_rows_extended_stops_and_skip_next() -> None:
    overrides = Overrides(skip_next_start=True, extended_stop="2026-03-27T18:00:00Z")
    found = next_runs(office(), now=NOW, overrides=overrides, skipped_starts={})
    assert (found[Action.START].reason, found[Action.STOP].reason) == ("skip", "extended")

    rows = {"2026-03-30T06:00:00Z": "skip"}
    found = next_runs(office(), now=NOW, overrides=Overrides(), skipped_starts=rows)
    assert (found[Action.START].reason, found[Action.STOP].reason) == ("skip", None)

    rows = {"2026-03-30T06:00:00Z": "calendar"}
    found = next_runs(office(), now=NOW, overrides=Overrides(), skipped_starts=rows)
    assert found[Action.START].reason == "holiday"


def test_next_runs_of_an_on_demand_composition_is_empty() -> None:
    demand = composition("lab", WAIT)
    assert next_runs(demand, now=NOW, overrides=Overrides(), skipped_starts={}) == {}
