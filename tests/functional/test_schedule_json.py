"""``envctl schedule NAME --json`` against the emulator: the contract's document."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from infra.emulator.server import Emulator
from scheduler_core.cli.main import main


def _envctl(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_schedule_json_shows_skips_pauses_and_the_pending_auto_stop(
    aws_env: Emulator, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"sj-{unique}"
    config = tmp_path / "c.yaml"
    body = {
        "timezone": "Europe/Amsterdam",
        "start_resources_at": "0 8 ? * MON-FRI *",
        "stop_resources_at": "0 19 ? * MON-FRI *",
        "resources": [{"type": "wait", "params": {"seconds": 1}}],
    }
    config.write_text(yaml.safe_dump({"compositions": {name: body}}))
    c = str(config)
    _envctl(capsys, "apply", "-c", c)

    plain = json.loads(_envctl(capsys, "schedule", name, "--json", "-c", c))
    _envctl(capsys, "skip", name, "next-start", "-c", c)
    skipped = json.loads(_envctl(capsys, "schedule", name, "--json", "-c", c))
    _envctl(capsys, "start", name, "--for", "2h", "--wait", "-c", c)
    extended = json.loads(_envctl(capsys, "schedule", name, "--json", "-c", c))
    _envctl(capsys, "pause", name, "-c", c)
    paused = json.loads(_envctl(capsys, "schedule", name, "--json", "-c", c))

    assert set(plain) == {"composition", "timezone", "paused", "auto_stop_at", "next"}
    assert (plain["composition"], plain["timezone"], plain["paused"]) == (
        name,
        "Europe/Amsterdam",
        False,
    )
    assert plain["auto_stop_at"] is None
    times = [datetime.fromisoformat(run["at"]) for run in plain["next"]]
    assert times == sorted(times) and len(times) == 10  # five weekdays, start and stop
    assert {run["action"] for run in plain["next"]} == {"start", "stop"}
    assert all(run["runs"] and run["reason"] is None for run in plain["next"])
    starts = [run for run in skipped["next"] if run["action"] == "start"]
    assert (starts[0]["runs"], starts[0]["reason"]) == (False, "skip")
    assert all(run["runs"] for run in starts[1:])
    # The started run consumed nothing scheduled; its auto-stop is pending, in local time.
    pending = datetime.fromisoformat(extended["auto_stop_at"])
    assert pending.utcoffset() is not None
    assert paused["paused"] is True
    assert {(run["runs"], run["reason"]) for run in paused["next"]} == {(False, "paused")}


def test_schedule_draws_the_week_with_a_holiday_in_local_time(
    aws_env: Emulator, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"sg-{unique}"
    zone = ZoneInfo("Europe/Amsterdam")
    today = datetime.now(zone).date()
    holiday = next(
        today + timedelta(days=n) for n in range(2, 9) if (today + timedelta(days=n)).weekday() < 5
    )
    config = tmp_path / "c.yaml"
    document = {
        "calendars": {"office": {"dates": [holiday.isoformat()]}},
        "compositions": {
            name: {
                "timezone": "Europe/Amsterdam",
                "calendar": "office",
                "start_resources_at": "0 8 ? * MON-FRI *",
                "stop_resources_at": "0 19 ? * MON-FRI *",
                "resources": [{"type": "wait", "params": {"seconds": 1}}],
            }
        },
    }
    config.write_text(yaml.safe_dump(document))
    _envctl(capsys, "apply", "-c", str(config))

    out = _envctl(capsys, "schedule", name, "-c", str(config))

    assert "The week at a glance (Europe/Amsterdam, one character an hour):" in out
    rows = {line[2:12]: line[14:] for line in out.splitlines() if line[2:5] in DAY_NAMES}
    assert len(rows) == 7
    label = f"{holiday:%a} {holiday.day:>2} {holiday:%b}"
    assert rows[label] == "·" * 8 + "x" + "·" * 15 + "  start 08:00 skipped (holiday)"
    # The other weekdays after today run 08:00-19:00 (Europe's clocks change on Sundays).
    for day in (today + timedelta(days=n) for n in range(1, 7)):
        if day != holiday and day.weekday() < 5:
            hours = rows[f"{day:%a} {day.day:>2} {day:%b}"][:24]
            assert hours == "·" * 8 + "█" * 11 + "·" * 5, day


DAY_NAMES = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
