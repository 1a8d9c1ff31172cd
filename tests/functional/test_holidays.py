"""Holiday calendars for real: apply writes the rows, the start machine reads them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.emulator.server import Emulator
from scheduler_core import names
from scheduler_core.actions import Action
from scheduler_core.aws import Aws
from scheduler_core.cli.main import main
from scheduler_core.cron import next_occurrences
from scheduler_core.holidays import scheduled_time
from scheduler_core.runtime import state_machine_arn
from scheduler_core.runtime.store import Store
from tests.functional import moto_resources

START = "0 8 ? * MON-FRI *"
ZONE = "Europe/Amsterdam"


def run_scheduled_start(aws: Aws, name: str, due: datetime) -> dict[str, Any]:
    """The start machine run as its schedule runs it at ``due``; its DescribeExecution."""
    sfn = aws.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=state_machine_arn(aws, name, Action.START),
        name=f"schedule-{due:%Y%m%dT%H%M}",
        input=json.dumps({"trigger": "schedule", "scheduled_time": scheduled_time(due)}),
    )["executionArn"]
    deadline = time.monotonic() + 60
    described = sfn.describe_execution(executionArn=arn)
    while described["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.1)
        described = sfn.describe_execution(executionArn=arn)
    return dict(described)


def test_a_scheduled_start_on_a_holiday_does_nothing_and_on_another_day_starts(
    aws_env: Emulator,
    aws: Aws,
    unique: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, second = next_occurrences(START, ZONE, after=datetime.now(UTC), count=2)
    holiday = first.local.date().isoformat()
    database = moto_resources.rds_instance(aws_env, f"hol-{unique}")
    name = f"hol-{unique}"
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "calendars": {"office": {"dates": [holiday, "2031-12-24..2031-12-26"]}},
                "compositions": {
                    name: {
                        "timezone": ZONE,
                        "start_resources_at": START,
                        "stop_resources_at": "0 19 ? * MON-FRI *",
                        "calendar": "office",
                        "resources": [database.item],
                    }
                },
            }
        )
    )

    def envctl(*argv: str) -> str:
        code = main([*argv, "-c", str(config)])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        return captured.out

    planned = envctl("plan")
    envctl("apply")
    again = envctl("plan")
    envctl("stop", name, "--wait")

    skipped = run_scheduled_start(aws, name, first.utc)
    still = database.read()
    started = run_scheduled_start(aws, name, second.utc)

    assert f"+ holidays {name} (skipped starts: 0 → 1)" in planned
    assert "holidays" not in again
    assert skipped["status"] == "SUCCEEDED"
    assert json.loads(skipped["output"]) == {"composition": name, "skipped": f"holiday {holiday}"}
    assert still == "stopped"
    assert started["status"] == "SUCCEEDED", started.get("cause")
    assert database.read() == "available"
    entries = Store(aws, "envctl").history(name)
    holiday_entry = next(e for e in entries if e.what == "skipped start")
    assert (holiday_entry.who, holiday_entry.via) == ("schedule", "schedule")
    assert holiday_entry.detail == f"skipped: holiday {holiday}"
    # The start schedule passes the time it was due.
    schedule = aws.client("scheduler").get_schedule(
        GroupName=names.schedule_group(name), Name=names.scheduled(Action.START)
    )
    assert json.loads(schedule["Target"]["Input"])["scheduled_time"] == (
        "<aws.scheduler.scheduled-time>"
    )


def test_removing_a_date_from_the_calendar_removes_its_row(
    aws_env: Emulator, aws: Aws, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = next_occurrences(START, ZONE, after=datetime.now(UTC), count=2)
    dates = [first.local.date().isoformat(), second.local.date().isoformat()]
    name = f"cal-{unique}"
    config = tmp_path / "c.yaml"

    def write(holidays: list[str]) -> None:
        body = {
            "timezone": ZONE,
            "start_resources_at": START,
            "calendar": ["a"],
            "resources": [{"type": "wait", "params": {"seconds": 1}}],
        }
        config.write_text(
            yaml.safe_dump({"calendars": {"a": {"dates": holidays}}, "compositions": {name: body}})
        )

    write(dates)
    assert main(["apply", "-c", str(config)]) == 0
    write(dates[1:])
    assert main(["plan", "-c", str(config)]) == 0
    planned = capsys.readouterr().out
    assert main(["apply", "-c", str(config)]) == 0

    assert f"~ holidays {name} (skipped starts: 2 → 1)" in planned
    rows = aws.client("dynamodb").query(
        TableName="envctl",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :skip)",
        ExpressionAttributeValues={":pk": {"S": f"composition#{name}"}, ":skip": {"S": "skip#"}},
    )["Items"]
    assert [row["sk"]["S"] for row in rows] == [f"skip#{scheduled_time(second.utc)}"]
    assert rows[0]["reason"]["S"] == f"holiday {dates[1]}"


def test_skip_dates_makes_the_starts_of_those_days_do_nothing(
    aws_env: Emulator, aws: Aws, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = next_occurrences(START, ZONE, after=datetime.now(UTC), count=2)
    day = first.local.date().isoformat()
    database = moto_resources.rds_instance(aws_env, f"skd-{unique}")
    name = f"skd-{unique}"
    config = tmp_path / "c.yaml"
    body = {"timezone": ZONE, "start_resources_at": START, "resources": [database.item]}
    config.write_text(yaml.safe_dump({"compositions": {name: body}}))
    c = str(config)
    assert main(["apply", "-c", c]) == 0
    assert main(["stop", name, "--wait", "-c", c]) == 0
    capsys.readouterr()

    assert main(["skip", name, day, "-c", c]) == 0
    said = capsys.readouterr().out
    assert main(["schedule", name, "--json", "-c", c]) == 0
    document = json.loads(capsys.readouterr().out)
    skipped = run_scheduled_start(aws, name, first.utc)
    still = database.read()
    started = run_scheduled_start(aws, name, second.utc)

    assert said.splitlines() == [
        f"{name}: 1 scheduled start(s) will do nothing:",
        f"  {first.local:%a %d %b %Y %H:%M %Z}",
    ]
    runs = [(r["at"], r["runs"], r["reason"]) for r in document["next"] if r["action"] == "start"]
    assert runs[0] == (first.local.isoformat(), False, "skip")
    assert all(run[1] for run in runs[1:])
    assert json.loads(skipped["output"]) == {"composition": name, "skipped": f"skip {day}"}
    assert still == "stopped"
    assert started["status"] == "SUCCEEDED" and database.read() == "available"
    audit = [e for e in Store(aws, "envctl").history(name) if e.what.startswith("skip")]
    assert [(e.what, e.detail) for e in audit] == [
        ("skipped start", f"skipped: skip {day}"),
        (f"skip {day}", "1 scheduled start(s)"),
    ]
    # apply keeps what skip wrote: only the calendar's rows are its own.
    assert main(["plan", "-c", c]) == 0
    assert "holidays" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("2026-02-30", "expected a date YYYY-MM-DD"),
        ("2026-12-31..2026-12-01", "the range ends before it starts"),
        ("2020-01-01..2020-01-05", "is in the past"),
        ("2099-01-01", "more than a year ahead"),
        ("tomorrow", "expected a date YYYY-MM-DD"),
    ],
)
def test_skip_refuses_impossible_past_and_far_dates_and_writes_nothing(
    aws_env: Emulator,
    aws: Aws,
    unique: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argument: str,
    message: str,
) -> None:
    name = f"skr-{unique}"
    config = tmp_path / "c.yaml"
    body = {
        "timezone": ZONE,
        "start_resources_at": START,
        "resources": [{"type": "wait", "params": {"seconds": 1}}],
    }
    config.write_text(yaml.safe_dump({"compositions": {name: body}}))

    code = main(["skip", name, argument, "-c", str(config)])
    err = capsys.readouterr().err

    assert code == 2
    assert err.startswith("envctl: skip: ") and message in err and "Traceback" not in err
    assert Store(aws, "envctl").skipped_starts(name, after="") == {}
    assert Store(aws, "envctl").history(name) == []


def test_extend_of_a_scheduled_run_moves_its_stop_then_a_stop_clears_it(
    aws_env: Emulator, aws: Aws, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import timedelta

    from scheduler_core.runtime.operations import Actor, Runtime
    from scheduler_core.settings import Settings

    stop_cron = "0 19 ? * MON-FRI *"
    now = datetime.now(UTC)
    (due,) = next_occurrences(stop_cron, ZONE, after=now, count=1)
    database = moto_resources.rds_instance(aws_env, f"ext-{unique}")
    name = f"ext-{unique}"
    config = tmp_path / "c.yaml"
    body = {
        "timezone": ZONE,
        "start_resources_at": START,
        "stop_resources_at": stop_cron,
        "resources": [database.item],
    }
    config.write_text(yaml.safe_dump({"compositions": {name: body}}))
    assert main(["apply", "-c", str(config)]) == 0
    capsys.readouterr()
    from scheduler_core.config import load_config

    target = load_config(str(config)).get(name)
    runtime = Runtime(aws, Settings())
    ann = Actor(who="ann", via="cli")

    first = runtime.extend(target, timedelta(hours=2), actor=ann)
    again = runtime.extend(target, timedelta(minutes=30), actor=ann)
    marked = runtime.store.overrides(name).extended_stop
    assert main(["schedule", name, "--json", "-c", str(config)]) == 0
    document = json.loads(capsys.readouterr().out)
    sfn = aws.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=state_machine_arn(aws, name, Action.STOP),
        name=f"schedule-{due.utc:%Y%m%dT%H%M}",
        input=json.dumps({"trigger": "schedule", "scheduled_time": scheduled_time(due.utc)}),
    )["executionArn"]
    deadline = time.monotonic() + 60
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    skipped = sfn.describe_execution(executionArn=arn)
    after_skip = database.read()
    assert main(["stop", name, "--wait", "-c", str(config)]) == 0

    assert first == due.utc + timedelta(hours=2)
    assert again == first + timedelta(minutes=30)
    assert runtime.pending_auto_stop(target) is None  # the stop removed it
    assert marked == scheduled_time(due.utc)
    stops = [r for r in document["next"] if r["action"] == "stop"]
    assert (stops[0]["runs"], stops[0]["reason"]) == (False, "extended")
    assert all(r["runs"] for r in stops[1:])
    assert datetime.fromisoformat(document["auto_stop_at"]) == again
    assert json.loads(skipped["output"]) == {"composition": name, "skipped": "extended"}
    assert after_skip == "available"  # the replaced stop did nothing
    assert database.read() == "stopped"
    assert runtime.store.overrides(name).extended_stop is None


def test_a_new_stop_schedule_clears_the_mark_of_an_extended_stop(
    aws_env: Emulator, aws: Aws, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import timedelta

    from scheduler_core.config import load_config
    from scheduler_core.runtime.operations import Actor, Runtime
    from scheduler_core.settings import Settings

    name = f"exn-{unique}"
    config = tmp_path / "c.yaml"

    def write(stop_cron: str) -> None:
        body = {
            "timezone": ZONE,
            "start_resources_at": START,
            "stop_resources_at": stop_cron,
            "resources": [{"type": "wait", "params": {"seconds": 1}}],
        }
        config.write_text(yaml.safe_dump({"compositions": {name: body}}))

    write("0 19 ? * MON-FRI *")
    assert main(["apply", "-c", str(config)]) == 0
    runtime = Runtime(aws, Settings())
    runtime.extend(
        load_config(str(config)).get(name), timedelta(hours=1), actor=Actor(who="ann", via="cli")
    )
    assert runtime.store.overrides(name).extended_stop is not None
    assert main(["apply", "-c", str(config)]) == 0  # the same schedule: the mark stays
    assert runtime.store.overrides(name).extended_stop is not None

    write("0 20 ? * MON-FRI *")
    assert main(["apply", "-c", str(config)]) == 0

    assert runtime.store.overrides(name).extended_stop is None
    assert runtime.store.overrides(name).auto_stop_at is not None  # the one-time stop stays
    capsys.readouterr()
