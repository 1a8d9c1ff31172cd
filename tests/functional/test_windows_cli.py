"""`envctl windows`, and plan/apply with window brackets and conflicts, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infra.emulator.server import Emulator
from scheduler_core.cli.main import main


def _write(tmp_path: Path, name: str, resources: list[dict], **settings: object) -> str:
    body = {
        "timezone": "Europe/Amsterdam",
        "start_resources_at": "0 8 ? * MON-FRI *",
        "stop_resources_at": "0 19 ? * MON-FRI *",
        "resources": resources,
        **settings,
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"compositions": {name: body}}))
    return str(path)


def _database(em: Emulator, name: str, maintenance: str, backup: str) -> dict:
    em.client("rds").create_db_instance(
        DBInstanceIdentifier=name,
        Engine="postgres",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="envctl",
        MasterUserPassword="password-123",
        PreferredMaintenanceWindow=maintenance,
        PreferredBackupWindow=backup,
    )
    return {"type": "rds_instance", "params": {"id": name}}


def test_windows_json_is_the_design_contract(
    aws_env: Emulator, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _database(aws_env, f"w-{unique}", "sun:03:00-sun:03:30", "10:00-10:30")
    config = _write(tmp_path, f"c{unique}", [db])

    assert main(["windows", f"c{unique}", "--json", "-c", config]) == 0

    entries = json.loads(capsys.readouterr().out)
    assert entries[0] == {
        "composition": f"c{unique}",
        "resource_type": "rds_instance",
        "resource_id": f"w-{unique}",
        "kind": "maintenance",
        "window": "sun:03:00-sun:03:30",
        "covered": False,
        "uncovered_occurrences": 52,
        "schedules": [
            {"action": "start", "expression": "cron(45 2 ? * SUN *)", "timezone": "UTC"},
            {"action": "stop", "expression": "cron(45 3 ? * SUN *)", "timezone": "UTC"},
        ],
    }
    backup = entries[1]
    assert (backup["kind"], backup["window"]) == ("backup", "10:00-10:30")
    # 10:00 UTC is 11:00/12:00 in Amsterdam: covered on weekdays, not at weekends.
    assert not backup["covered"] and backup["uncovered_occurrences"] in (104, 105)


def test_on_demand_composition_covers_no_window(
    aws_env: Emulator, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _database(aws_env, f"o-{unique}", "wed:10:00-wed:10:30", "12:00-12:30")
    config = _write(
        tmp_path, f"c{unique}", [db], start_resources_at="on-demand", stop_resources_at="on-demand"
    )

    assert main(["windows", f"c{unique}", "--json", "-c", config]) == 0

    entries = json.loads(capsys.readouterr().out)
    assert [entry["covered"] for entry in entries] == [False, False]


def test_apply_creates_guarded_brackets_and_plan_reports_conflicts(
    aws_env: Emulator, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _database(aws_env, f"b-{unique}", "sat:22:00-sat:22:30", "12:00-12:30")
    autoscaling = aws_env.client("autoscaling")
    from tests.functional import moto_resources

    group = moto_resources.auto_scaling_group(aws_env, f"g-{unique}")
    autoscaling.put_scheduled_update_group_action(
        AutoScalingGroupName=f"g-{unique}",
        ScheduledActionName="morning",
        Recurrence="0 7 * * 1-5",
        DesiredCapacity=3,
    )
    config = _write(tmp_path, f"c{unique}", [db, group.item])

    assert main(["apply", "-c", config]) == 0
    applied = capsys.readouterr().out
    assert main(["plan", "-c", config]) == 0
    planned = capsys.readouterr().out

    assert f"+ state machine envctl-c{unique}-windows" in applied
    schedules = aws_env.client("scheduler").list_schedules(GroupName=f"envctl-c{unique}")
    names = sorted(s["Name"] for s in schedules["Schedules"])
    assert names[:2] == ["start", "stop"] and len(names) == 6
    assert all(name.startswith("window-") for name in names[2:])
    assert planned.startswith("No changes: AWS matches the config.\n")
    assert (
        f'note: c{unique}: auto_scaling_group g-{unique}: Auto Scaling scheduled action "morning"'
        in planned
    )


def test_windows_for_an_unknown_composition_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write(tmp_path, "staging", [{"type": "wait", "params": {"seconds": 1}}])

    assert main(["windows", "prod", "-c", config]) == 2
    assert "known compositions: staging" in capsys.readouterr().err


def test_schedule_prints_words_and_next_local_times(
    aws_env: Emulator, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write(tmp_path, f"s{unique}", [{"type": "wait", "params": {"seconds": 1}}])
    assert main(["apply", "-c", config]) == 0
    capsys.readouterr()

    assert main(["schedule", f"s{unique}", "-c", config]) == 0

    out = capsys.readouterr().out
    assert "start: At 08:00, Monday through Friday (cron 0 8 ? * MON-FRI *)" in out
    assert "stop: At 19:00, Monday through Friday" in out
    assert out.count("    next: ") == 6
    assert " 08:00 CET" in out or " 08:00 CEST" in out
    assert "schedule: active" in out
