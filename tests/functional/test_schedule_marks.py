"""What ``/env list``, the App Home and ``/env schedule`` show of a skipped or extended run.

The Slack app behind its Lambda handler with signed requests against the mock Web API
(the fixtures of ``test_slack_app``), the table and schedules in the emulator. The
``app`` composition starts daily 6 hours from now and stops 3 hours from now (UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduler_core.cli.main import main as envctl
from tests.functional.test_slack_app import (  # noqa: F401 (fixtures)
    Slack,
    app_home_opened_body,
    block_texts,
    decoded,
    last_reply,
    mock,
    slack,
)


@pytest.fixture
def team(slack: Slack) -> Slack:  # noqa: F811 (the imported fixture)
    return slack


def next_at(hour: int) -> datetime:
    """The next time the clock (UTC) reads ``hour``:00."""
    now = datetime.now(UTC)
    at = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


def shown(at: datetime) -> str:
    return f"{at:%a} {at.day} {at:%b} {at:%H:%M} UTC"


def skip_next_start_day(team: Slack) -> datetime:
    start = next_at(team.start_hour)
    team.command(f"skip {team.names.app} {start.date().isoformat()}")
    assert "will do nothing" in last_reply(team.mock)["text"]
    team.mock.clear()
    return start


def test_list_marks_a_skipped_next_start_and_leaves_the_others(team: Slack) -> None:
    start = skip_next_start_day(team)

    team.command("list")

    text = block_texts(last_reply(team.mock))
    assert f"Next start: {shown(start)} — skipped" in text
    assert text.count("— skipped") == 1
    assert f"Next stop: {shown(next_at(team.stop_hour))}\n" in text + "\n"


def test_app_home_marks_a_skipped_next_start(team: Slack) -> None:
    start = skip_next_start_day(team)

    team.deliver(app_home_opened_body("U1"), headers={"Content-Type": "application/json"})

    [published] = team.mock.calls("views.publish")
    text = block_texts(decoded(published.body["view"]))
    assert f"Next start: {shown(start)} — skipped" in text


def test_list_shows_an_extended_scheduled_stop_with_its_new_time(team: Slack) -> None:
    assert envctl(["apply", "-c", str(team.config_path)]) == 0
    stop = next_at(team.stop_hour)
    moved = stop + timedelta(hours=2)

    team.command(f"extend {team.names.app} 2h")
    assert last_reply(team.mock)["text"] == f"*{team.names.app}* now stops at {shown(moved)}."
    team.mock.clear()
    team.command("list")

    text = block_texts(last_reply(team.mock))
    new_time = f"{moved:%H:%M}" if moved.date() == stop.date() else shown(moved)
    assert f"Next stop: {shown(stop)} — extended to {new_time}" in text
    # The extension is the stop, not a second line about an auto-stop.
    assert "Auto-stop:" not in text


def test_schedule_draws_the_week_with_the_skipped_start(team: Slack) -> None:
    start = skip_next_start_day(team)

    team.command(f"schedule {team.names.app}")

    [week] = [
        block
        for block in decoded(last_reply(team.mock)["blocks"])
        if block.get("block_id") == "schedule:week"
    ]
    text = week["text"]["text"]
    grid = text[text.index("```") + 3 : text.rindex("```")].splitlines()
    assert grid[0].endswith("00 03 06 09 12 15 18 21")
    label = f"{start:%a} {start.day:>2} {start:%b}"
    [row] = [line for line in grid if line.startswith(label)]
    hours = row[12:36]
    assert hours[start.hour] == "x", row
    assert f"start {start:%H:%M} skipped" in row
    # The other days start as scheduled: they run at some hour, and no other start is skipped.
    days = grid[1:8]
    assert len(days) == 7
    assert sum("█" in line[12:36] for line in days if line != row) >= 5
    assert sum("x" in line[12:36] for line in days) == 1
    assert "x scheduled start skipped" in text
