"""The envctl command line against the emulator: output, exit codes, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
import yaml

from infra.emulator.server import Emulator, free_port
from scheduler_core.cli.main import main
from tests.functional import moto_resources
from tests.functional.helpers import state_machine_names


def _config(path: Path, name: str, items: list[dict]) -> str:
    path.write_text(yaml.safe_dump({"compositions": {name: {"resources": items}}}))
    return str(path)


def test_stop_and_start_with_wait_print_each_step_and_outcome(
    aws_env: Emulator, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = moto_resources.rds_instance(aws_env, f"cli-{unique}")
    config = _config(tmp_path / "c.yaml", f"c-{unique}", [database.item])
    assert main(["apply", "-c", config]) == 0
    capsys.readouterr()

    assert main(["stop", f"c-{unique}", "--wait", "-c", config]) == 0
    stopped = capsys.readouterr().out
    assert main(["start", f"c-{unique}", "--wait", "-c", config]) == 0
    started = capsys.readouterr().out

    assert f"Stopping c-{unique}: execution arn:aws:states:" in stopped
    assert f"  ✓ rds_instance cli-{unique} stopped (" in stopped
    assert f"c-{unique} stopped in " in stopped
    assert f"  ✓ rds_instance cli-{unique} started (" in started
    assert database.read() == "available"


def test_start_before_apply_or_after_an_unapplied_change_says_to_apply(
    aws_env: Emulator, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"n-{unique}"
    config = _config(tmp_path / "c.yaml", name, [{"type": "wait", "params": {"seconds": 1}}])
    sfn = aws_env.client("stepfunctions")

    assert main(["start", name, "-c", config]) == 1
    assert capsys.readouterr().err == (
        f"envctl: {name} is not deployed: there is no state machine envctl-{name}-start in "
        "us-east-1 (account 123456789012); run `envctl apply` first\n"
    )
    assert f"envctl-{name}-start" not in state_machine_names(sfn)  # nothing was deployed

    assert main(["apply", "-c", config]) == 0
    _config(tmp_path / "c.yaml", name, [{"type": "wait", "params": {"seconds": 2}}])
    capsys.readouterr()

    assert main(["stop", name, "-c", config]) == 1
    assert capsys.readouterr().err == (
        f"envctl: {name} has changed since it was deployed: state machine envctl-{name}-stop "
        "was generated from other resources or another envctl version; "
        "run `envctl apply` first\n"
    )
    machine = f"arn:aws:states:us-east-1:123456789012:stateMachine:envctl-{name}-stop"
    assert sfn.list_executions(stateMachineArn=machine)["executions"] == []
    assert main(["apply", "-c", config]) == 0
    assert main(["stop", name, "-c", config]) == 0


def test_status_json_matches_the_contract(
    aws_env: Emulator, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = moto_resources.rds_cluster(aws_env, f"st-{unique}")
    missing = {"type": "rds_instance", "params": {"id": f"absent-{unique}"}}
    wait = {"type": "wait", "params": {"seconds": 5}}
    config = _config(tmp_path / "c.yaml", f"c-{unique}", [cluster.item, wait, missing])

    assert main(["status", f"c-{unique}", "--json", "-c", config]) == 0

    assert json.loads(capsys.readouterr().out) == {
        "composition": f"c-{unique}",
        "state": "partial",
        "resources": [
            {
                "type": "rds_cluster",
                "id": f"st-{unique}",
                "state": "running",
                "detail": "available",
            },
            {
                "type": "rds_instance",
                "id": f"absent-{unique}",
                "state": "missing",
                "detail": f"DB instance absent-{unique} not found",
            },
        ],
    }


def test_failed_execution_exits_1_naming_the_resource(
    aws_env: Emulator, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(
        tmp_path / "c.yaml",
        f"c-{unique}",
        [{"type": "rds_cluster", "params": {"id": f"x-{unique}"}}],
    )
    assert main(["apply", "-c", config]) == 0
    capsys.readouterr()

    assert main(["start", f"c-{unique}", "--wait", "-c", config]) == 1

    err = capsys.readouterr().err
    assert f"c-{unique} could not be started: rds_cluster x-{unique}: " in err
    assert "Traceback" not in err
    assert main(["status", f"c-{unique}", "-c", config]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("last run: failed (cli, ")
    assert f"): rds_cluster x-{unique}: " in last


def test_unknown_composition_exits_2_listing_known_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path / "c.yaml", "staging", [{"type": "wait", "params": {"seconds": 1}}])

    assert main(["start", "prod", "-c", config]) == 2

    assert capsys.readouterr().err == (
        'envctl: unknown composition "prod"; known compositions: staging\n'
    )


def test_missing_role_exits_1_naming_it_and_changes_nothing(
    aws_env: Emulator,
    unique: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _config(
        tmp_path / "c.yaml", f"c-{unique}", [{"type": "wait", "params": {"seconds": 1}}]
    )
    monkeypatch.setenv("ENVCTL_STATE_MACHINE_ROLE_ARN", "not-an-arn")

    assert main(["start", f"c-{unique}", "-c", config]) == 1

    err = capsys.readouterr().err
    assert err.startswith("envctl: the role not-an-arn does not exist (account 123456789012); ")
    assert "ENVCTL_STATE_MACHINE_ROLE_ARN" in err
    assert "Traceback" not in err and err.count("\n") == 1
    assert f"envctl-c-{unique}-start" not in state_machine_names(aws_env.client("stepfunctions"))


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    config = _config(tmp_path / "c.yaml", "staging", [{"type": "wait", "params": {"seconds": 1}}])

    with pytest.raises(Exception, match="unknown composition"):
        main(["start", "prod", "-c", config, "--debug"])


def test_render_prints_the_state_machine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(
        tmp_path / "c.yaml", "staging", [{"type": "rds_cluster", "params": {"id": "db"}}]
    )

    assert main(["render", "staging", "--action", "stop", "-c", config]) == 0

    document = json.loads(capsys.readouterr().out)
    assert document["StartAt"] in document["States"]
    assert "Begin stop of staging" in document["States"]
    body = document["States"]["Run stop of staging"]["Branches"][0]["States"]
    assert "Stop rds_cluster db" in body


def test_console_script_honours_aws_endpoint_url(
    aws_env: Emulator, unique: str, tmp_path: Path
) -> None:
    cluster = moto_resources.rds_cluster(aws_env, f"sub-{unique}")
    config = _config(tmp_path / "c.yaml", f"c-{unique}", [cluster.item])
    envctl = Path(sys.executable).with_name("envctl")

    done = subprocess.run(
        [str(envctl), "-c", config, "status", f"c-{unique}", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["resources"][0]["detail"] == "available"


def test_local_serves_an_emulator_until_told_to_stop(capsys: pytest.CaptureFixture[str]) -> None:
    from infra.emulator.cli import run_local

    port, stop = free_port(), threading.Event()
    thread = threading.Thread(target=run_local, kwargs={"port": port, "stop": stop})
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while f"127.0.0.1:{port}" not in capsys.readouterr().out and time.monotonic() < deadline:
            time.sleep(0.1)
        iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
        roles = {role["RoleName"] for role in iam.list_roles()["Roles"]}
    finally:
        stop.set()
        thread.join(timeout=20)
    assert {"envctl-state-machine", "envctl-scheduler"} <= roles
    assert not thread.is_alive()


def test_local_speed_option_reaches_the_emulator() -> None:
    port = free_port()
    command = ["local", "--port", str(port), "--speed", "7"]
    local = subprocess.Popen(
        [sys.executable, "-m", "scheduler_core.cli.main", *command],
        stdout=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "ENVCTL_EMULATOR_SPEED"},
    )
    try:
        assert local.stdout is not None
        lines = []
        for line in local.stdout:
            lines.append(line)
            if "times faster" in line or len(lines) > 20:
                break
    finally:
        local.terminate()
        local.wait(timeout=20)
    assert any("7 times faster than in AWS" in line for line in lines), lines
