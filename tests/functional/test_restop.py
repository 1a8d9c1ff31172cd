"""RDS 7-day auto-start events: stopped compositions stop the database again.

Each test puts a database in the state RDS leaves it in after an auto-start (stopped
by envctl, then started by "RDS"), sends the sample EventBridge event from
``tests/events`` and checks the database with boto3 after following the execution.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from bot import restop
from infra.emulator.server import Emulator
from infra.slack.mock_api import MockSlackApi
from scheduler_core.aws import Aws
from scheduler_core.config import Composition
from scheduler_core.resources import Action
from scheduler_core.runtime import follow, state_machine_arn
from scheduler_core.runtime.store import Store
from tests.functional import moto_resources
from tests.functional.helpers import composition, run

EVENTS = Path(__file__).parents[1] / "events"
CHANNEL = "C0RESTOP1"


def rds_event(file: str, identifier: str) -> dict[str, Any]:
    """The sample event with the emulator resource's identifier in every field."""
    event = json.loads((EVENTS / file).read_text())
    detail = event["detail"]
    arn = detail["SourceArn"].rsplit(":", 1)[0] + f":{identifier}"
    detail.update(SourceIdentifier=identifier, SourceArn=arn)
    event["resources"] = [arn]
    return event


def instance_event(identifier: str) -> dict[str, Any]:
    return rds_event("rds_instance_autostart.json", identifier)


@pytest.fixture
def use_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Write the bundled compositions file from Composition-shaped bodies."""
    path = tmp_path / "compositions.yaml"
    monkeypatch.setenv("ENVCTL_CONFIG", str(path))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("SLACK_API_URL", raising=False)

    def write(compositions: dict[str, dict[str, Any]]) -> None:
        path.write_text(yaml.safe_dump({"compositions": compositions}))

    return write


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockSlackApi]:
    with MockSlackApi() as mock:
        monkeypatch.setenv("SLACK_BOT_TOKEN", mock.bot_token)
        monkeypatch.setenv("SLACK_API_URL", mock.url)
        yield mock
    assert mock.invalid == []  # no Block Kit Slack would refuse


def stop_executions(aws: Aws, name: str) -> list[dict[str, Any]]:
    try:
        found = aws.client("stepfunctions").list_executions(
            stateMachineArn=state_machine_arn(aws, name, Action.STOP)
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "StateMachineDoesNotExist":
            return []
        raise
    return list(found["executions"])


def auto_started(
    aws: Aws, database: moto_resources.Created, name: str, **settings: Any
) -> tuple[Composition, dict[str, Any]]:
    """A composition envctl stopped, whose database RDS has just started again."""
    target = composition(name, [database.item], **settings)
    assert run(aws, target, Action.STOP).succeeded
    assert database.read() == "stopped"
    params = database.item["params"]
    if database.item["type"] == "rds_cluster":
        aws.client("rds").start_db_cluster(DBClusterIdentifier=params["id"])
    else:
        aws.client("rds").start_db_instance(DBInstanceIdentifier=params["id"])
    # RDS takes its time to start (the emulator too, only faster).
    deadline = time.monotonic() + 30
    while database.read() == "starting" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert database.read() == "available"
    return target, {"resources": [database.item], **settings}


def test_stopped_composition_stops_the_auto_started_instance_again(
    aws_env: Emulator, aws: Aws, unique: str, use_config: Any
) -> None:
    database = moto_resources.rds_instance(aws_env, f"db-{unique}")
    target, body = auto_started(aws, database, f"q{unique}")
    use_config({target.name: body})
    stops_before = len(stop_executions(aws, target.name))

    result = restop.handler(instance_event(f"db-{unique}"), None)

    assert result["handled"] is True
    assert result["compositions"] == {target.name: "stopped"}
    assert follow(aws, result["execution_arn"], poll_seconds=0.1, timeout_seconds=60).succeeded
    assert database.read() == "stopped"
    assert len(stop_executions(aws, target.name)) == stops_before + 1
    store = Store(aws, "envctl")
    assert store.state(target.name).state == "stopped"
    # Every run audits itself: the setup's own stop, then the re-stop (newest first).
    entry, *_ = store.history(target.name)
    assert [e.via for e in store.history(target.name)].count("restop") == 1
    assert (entry.who, entry.what, entry.via) == ("aws rds auto-start", "stop", "restop")
    assert f"db-{unique}" in entry.detail


def test_running_composition_is_left_alone(
    aws_env: Emulator, aws: Aws, unique: str, use_config: Any
) -> None:
    database = moto_resources.rds_instance(aws_env, f"db-{unique}")
    target = composition(f"g{unique}", [database.item])
    assert run(aws, target, Action.START).succeeded
    use_config({target.name: {"resources": [database.item]}})

    result = restop.handler(instance_event(f"db-{unique}"), None)

    assert result["outcome"] == f"left running: {target.name} is running"
    assert "execution_arn" not in result
    assert stop_executions(aws, target.name) == []
    assert database.read() == "available"
    assert [e.via for e in Store(aws, "envctl").history(target.name)] == ["cli"]  # the start


def test_shared_database_stays_up_while_any_composition_using_it_runs(
    aws_env: Emulator, aws: Aws, unique: str, use_config: Any
) -> None:
    database = moto_resources.rds_instance(aws_env, f"db-{unique}")
    stopped, body = auto_started(aws, database, f"a{unique}")
    running = composition(f"b{unique}", [database.item])
    assert run(aws, running, Action.START).succeeded
    use_config({stopped.name: body, running.name: body})
    stops_before = len(stop_executions(aws, stopped.name))

    result = restop.handler(instance_event(f"db-{unique}"), None)

    assert result["outcome"] == f"left running: {running.name} is running"
    assert len(stop_executions(aws, stopped.name)) == stops_before
    assert database.read() == "available"


def test_cluster_event_stops_the_auto_started_cluster_again(
    aws_env: Emulator, aws: Aws, unique: str, use_config: Any
) -> None:
    database = moto_resources.rds_cluster(aws_env, f"aurora-{unique}")
    target, body = auto_started(aws, database, f"c{unique}")
    use_config({target.name: body})

    result = restop.handler(rds_event("rds_cluster_autostart.json", f"aurora-{unique}"), None)

    assert result["resource"] == f"DB cluster aurora-{unique}"
    assert follow(aws, result["execution_arn"], poll_seconds=0.1, timeout_seconds=60).succeeded
    assert database.read() == "stopped"


def test_instance_event_does_not_match_a_cluster_with_the_same_id(
    aws_env: Emulator, aws: Aws, unique: str, use_config: Any
) -> None:
    database = moto_resources.rds_cluster(aws_env, f"same-{unique}")
    target, body = auto_started(aws, database, f"m{unique}")
    use_config({target.name: body})

    result = restop.handler(instance_event(f"same-{unique}"), None)

    assert result["outcome"] == "not in any composition; left alone"
    assert database.read() == "available"


def test_unrelated_resource_and_other_events_do_nothing(
    aws_env: Emulator, aws: Aws, unique: str, use_config: Any
) -> None:
    database = moto_resources.rds_instance(aws_env, f"db-{unique}")
    target, body = auto_started(aws, database, f"z{unique}")
    use_config({target.name: body})
    stops_before = len(stop_executions(aws, target.name))
    other_event = instance_event(f"db-{unique}")
    other_event["detail"]["EventID"] = "RDS-EVENT-0088"  # "DB instance has been started"

    unrelated = restop.handler(instance_event(f"elsewhere-{unique}"), None)
    ignored = restop.handler(other_event, None)

    assert unrelated == {
        "handled": True,
        "resource": f"DB instance elsewhere-{unique}",
        "compositions": {},
        "outcome": "not in any composition; left alone",
        "slack": [],
    }
    assert ignored == {"handled": False}
    assert len(stop_executions(aws, target.name)) == stops_before
    assert database.read() == "available"


def test_notify_channel_hears_that_the_database_is_stopped_again(
    aws_env: Emulator, aws: Aws, unique: str, use_config: Any, slack: MockSlackApi
) -> None:
    database = moto_resources.rds_instance(aws_env, f"db-{unique}")
    target, body = auto_started(aws, database, f"n{unique}", notify={"slack_channel": CHANNEL})
    use_config({target.name: body})

    result = restop.handler(instance_event(f"db-{unique}"), None)

    assert result["slack"] == [CHANNEL]
    [call] = slack.calls("chat.postMessage")
    assert call.body["channel"] == CHANNEL
    assert call.body["text"] == (
        f"RDS restarted DB instance db-{unique} after 7 days stopped; "
        f"envctl is stopping it again ({target.name} is stopped)."
    )
    assert follow(aws, result["execution_arn"], poll_seconds=0.1, timeout_seconds=60).succeeded


def test_notify_channel_hears_why_the_database_was_left_running(
    aws_env: Emulator, aws: Aws, unique: str, use_config: Any, slack: MockSlackApi
) -> None:
    database = moto_resources.rds_instance(aws_env, f"db-{unique}")
    target = composition(f"l{unique}", [database.item])
    assert run(aws, target, Action.START).succeeded
    use_config({target.name: {"resources": [database.item], "notify": {"slack_channel": CHANNEL}}})

    restop.handler(instance_event(f"db-{unique}"), None)

    [call] = slack.calls("chat.postMessage")
    assert call.body["text"].endswith(f"; left running because {target.name} is running.")


def test_slack_failure_does_not_fail_the_restop(
    aws_env: Emulator,
    aws: Aws,
    unique: str,
    use_config: Any,
    slack: MockSlackApi,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked")  # the mock answers invalid_auth
    database = moto_resources.rds_instance(aws_env, f"db-{unique}")
    target, body = auto_started(aws, database, f"f{unique}", notify={"slack_channel": CHANNEL})
    use_config({target.name: body})

    result = restop.handler(instance_event(f"db-{unique}"), None)

    assert result["slack"] == []
    assert follow(aws, result["execution_arn"], poll_seconds=0.1, timeout_seconds=60).succeeded
    assert database.read() == "stopped"
