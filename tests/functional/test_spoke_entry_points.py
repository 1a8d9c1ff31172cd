"""Slack and webhooks for compositions away from the deployment's own account and region.

The requests are the real ones: slash commands and clicks signed as Slack signs them,
through the Lambda handler (Slack's Web API is ``MockSlackApi``); webhook calls through
``WebhookApi.handle`` and over HTTP through ``LocalServer``. The executions run for
real in the emulator, in the composition's region, as the spoke role; their effects
are read back with boto3 in each account and region, never through envctl.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import yaml

from bot import notifier
from bot.settings import BotSettings, WebhookSettings
from bot.slack_handler import verified
from bot.webhook_handler import build_api
from infra.emulator.server import Emulator
from infra.serve import LocalContext, LocalServer, local_slack_handler
from infra.slack.mock_api import MockSlackApi
from infra.slack.signing import (
    api_gateway_event,
    block_actions_body,
    signed_headers,
    slash_command_body,
)
from scheduler_core import names
from scheduler_core.aws import Aws
from scheduler_core.runtime import ExecutionResult, follow
from tests.functional import moto_resources
from tests.functional.helpers import deploy_when_first_started
from tests.functional.test_slack_app import block_texts, buttons, last_reply, replies
from tests.functional.test_spoke import HUB, Spoke, new_account

SECRET = "test-secret"
TABLE = "envctl"
HOME = "us-east-1"
AWAY = "eu-west-1"
API_KEY = "spoke-key-4b9e2d7a1c6f"
SPOKE_ROLE = names.SPOKE_ROLE

Message = dict[str, Any]


# --- where things are ------------------------------------------------------------------


@dataclass
class Databases:
    """The composition's database and a same-named one that must never be touched."""

    name: str
    there: moto_resources.Created  # the composition's (in its account and region)
    here: moto_resources.Created  # the same identifier elsewhere
    region: str  # where the composition's machines, schedules and rows are

    def states(self) -> tuple[str, str]:
        return self.there.read(), self.here.read()


def regional(region: str, service: str) -> Any:
    """A client of the hub account in ``region`` (whatever the environment says)."""
    return Aws().at(region).client(service)


def write_config(tmp_path: Path, name: str, body: dict[str, Any]) -> Path:
    path = tmp_path / "compositions.yaml"
    path.write_text(yaml.safe_dump({"compositions": {name: body}}))
    return path


def database(aws_env: Emulator, account: str, region: str, name: str) -> moto_resources.Created:
    """An RDS instance ``name`` in that account and region of the emulator."""
    place: Any = Spoke(aws_env, account, region)  # moto_resources takes it as an Emulator
    return moto_resources.rds_instance(place, name)


def spoke_databases(aws_env: Emulator, unique: str) -> tuple[Spoke, Databases]:
    """A spoke account (with its role) in eu-west-1; a same-named database in the hub."""
    spoke = Spoke(aws_env, new_account(), AWAY)
    spoke.create_role()
    there = database(aws_env, spoke.account, AWAY, f"db-{unique}")
    here = database(aws_env, HUB, HOME, f"db-{unique}")
    return spoke, Databases(name=f"db-{unique}", there=there, here=here, region=AWAY)


def executions(region: str, composition: str, action: str) -> list[str]:
    """ARNs of every execution of the composition's machine, as deployed in ``region``."""
    sfn = Aws().at(region).client("stepfunctions")
    wanted = f"envctl-{composition}-{action}"
    found = []
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"] == wanted:
                runs = sfn.get_paginator("list_executions").paginate(
                    stateMachineArn=machine["stateMachineArn"]
                )
                found += [e["executionArn"] for run in runs for e in run["executions"]]
    return found


def machine_regions(composition: str, action: str) -> dict[str, bool]:
    """For each of the two regions: does the composition's machine exist there?"""
    found = {}
    for region in (HOME, AWAY):
        sfn = Aws().at(region).client("stepfunctions")
        listed = {
            machine["name"]
            for page in sfn.get_paginator("list_state_machines").paginate()
            for machine in page["stateMachines"]
        }
        found[region] = f"envctl-{composition}-{action}" in listed
    return found


def finished(arn: str) -> ExecutionResult:
    result = follow(Aws(), arn, poll_seconds=0.1, timeout_seconds=120)
    assert result.succeeded, result.cause
    return result


def table_rows(region: str, pk: str) -> list[dict[str, Any]]:
    found = regional(region, "dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
        ConsistentRead=True,
    )
    return [{k: v.get("S", v) for k, v in item.items()} for item in found["Items"]]


def state_row(region: str, composition: str) -> dict[str, Any]:
    """The composition's state row in the envctl table of ``region`` ({} when none)."""
    found = regional(region, "dynamodb").get_item(
        TableName=TABLE,
        Key={"pk": {"S": f"composition#{composition}"}, "sk": {"S": "state"}},
        ConsistentRead=True,
    )
    return {k: v.get("S", v) for k, v in found.get("Item", {}).items()}


def resource_calls_as(region: str, arn: str) -> list[Any]:
    """The credentials of every resource call (not bookkeeping) of the execution."""
    history = (
        Aws()
        .at(region)
        .client("stepfunctions")
        .get_execution_history(executionArn=arn, maxResults=1000)["events"]
    )
    bookkeeping = {"dynamodb", "aws-sdk:dynamodb", "aws-sdk:sfn", "aws-sdk:scheduler"}
    return [
        e["taskScheduledEventDetails"].get("taskCredentials")
        for e in history
        if e["type"] == "TaskScheduled"
        and e["taskScheduledEventDetails"]["resourceType"] not in bookkeeping
    ]


def status_change_event(arn: str) -> dict[str, Any]:
    """The EventBridge event of an ended execution, as forwarded to the hub's bus."""
    region = names.arn_region(arn)
    described = Aws().at(region).client("stepfunctions").describe_execution(executionArn=arn)

    def epoch_ms(moment: datetime) -> int:
        return int(moment.timestamp() * 1000)

    return {
        "version": "0",
        "id": str(uuid4()),
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": arn.split(":")[4],
        "time": described["stopDate"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [arn],
        "detail": {
            "executionArn": arn,
            "stateMachineArn": described["stateMachineArn"],
            "name": described["name"],
            "status": described["status"],
            "startDate": epoch_ms(described["startDate"]),
            "stopDate": epoch_ms(described["stopDate"]),
            "input": described["input"],
            "output": described.get("output"),
            "inputDetails": {"included": True},
            "error": described.get("error"),
            "cause": described.get("cause"),
        },
    }


# --- Slack -----------------------------------------------------------------------------


@pytest.fixture
def mock() -> Iterator[MockSlackApi]:
    with MockSlackApi() as running:
        yield running
    # Nothing the app sent was Block Kit that Slack would refuse (invalid_blocks).
    assert running.invalid == []


@dataclass
class Bot:
    """The Slack app behind its Lambda handler, on a one-composition config."""

    mock: MockSlackApi
    settings: BotSettings
    composition: str
    databases: Databases
    handler: Any = None
    _ids: Iterator[int] = field(default_factory=count)

    def __post_init__(self) -> None:
        self.handler = verified(local_slack_handler(self.settings, inline=True), self.settings)

    def deliver(self, body: str) -> dict[str, Any]:
        event = api_gateway_event(body, signed_headers(body, SECRET))
        response: dict[str, Any] = self.handler.handle(event, LocalContext())
        assert response["statusCode"] == 200, response
        return response

    def command(self, text: str) -> Message:
        self.mock.clear()
        self.deliver(
            slash_command_body(
                text=text,
                user_id="U1",
                user_name="alice",
                channel_id="C1",
                response_url=self.mock.response_url(f"cmd{next(self._ids)}"),
            )
        )
        return last_reply(self.mock)

    def click(self, action_id: str, value: str) -> None:
        self.mock.clear()
        self.deliver(
            block_actions_body(
                action_id=action_id,
                value=value,
                user_id="U1",
                user_name="alice",
                channel_id="C1",
                response_url=self.mock.response_url(f"click{next(self._ids)}"),
                is_ephemeral=True,
            )
        )

    def confirm(self, text: str, *, succeeds: bool = True) -> tuple[str, Message]:
        """``/env <text>``, Confirm clicked; the run followed to its end.

        Returns the execution's ARN and the progress message posted in the channel.
        """
        action = text.split()[0]
        asked = self.command(text)
        assert f"{action.capitalize()} *{self.composition}*?" in block_texts(asked)
        self.click("env_confirm", buttons(asked)["env_confirm"]["value"])
        assert replies(self.mock) == [
            {
                "text": f"{action.capitalize()} of *{self.composition}* requested.",
                "replace_original": True,
            }
        ]
        [progress] = self.mock.calls("chat.postMessage")
        [arn] = executions(self.databases.region, self.composition, action)
        result = follow(Aws(), arn, poll_seconds=0.1, timeout_seconds=120)
        assert result.succeeded is succeeds, result.cause
        return arn, progress.body | {"ts": progress.response["ts"]}

    def notified(self, arn: str, *, cause_in_event: bool = True) -> Any:
        """The notifier Lambda on the execution's end event; the one message it updated."""
        self.mock.clear()
        event = status_change_event(arn)
        if not cause_in_event:  # not every event carries it: the notifier describes the run
            event["detail"].pop("error")
            event["detail"].pop("cause")
        result = notifier.handler(event, LocalContext())
        assert result["handled"] is True, result
        [update] = self.mock.calls("chat.update")
        return update


def bot(
    mock: MockSlackApi,
    config: Path,
    composition: str,
    databases: Databases,
    monkeypatch: pytest.MonkeyPatch,
) -> Bot:
    deploy_when_first_started(monkeypatch)
    variables = {
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-mock",
        "SLACK_API_URL": mock.url,
        "ENVCTL_CONFIG": str(config),
    }
    for name, value in variables.items():  # the notifier Lambda reads os.environ
        monkeypatch.setenv(name, value)
    settings = BotSettings.from_env({**os.environ, **variables})
    return Bot(mock=mock, settings=settings, composition=composition, databases=databases)


def stop_status_start(bot: Bot) -> None:
    """What a user does: stop, look, start for an hour; the effects where they belong."""
    name, databases, region = bot.composition, bot.databases, bot.databases.region
    assert databases.states() == ("available", "available")

    stop_arn, progress = bot.confirm(f"stop {name}")

    assert names.arn_region(stop_arn) == region
    assert stop_arn.split(":")[4] == HUB
    assert databases.states() == ("stopped", "available")
    assert progress["channel"] == "C1"
    assert progress["text"] == f"<@U1> is stopping *{name}*"
    update = bot.notified(stop_arn)
    assert (update.body["channel"], update.body["ts"]) == ("C1", progress["ts"])
    assert f"✅ *{name}* stopped in " in update.body["text"]
    assert "(by <@U1>)" in block_texts(update.body)
    assert "env_stop" not in buttons(update.body)

    status = bot.command(f"status {name}")

    assert status["text"] == f"{name}: stopped"
    assert f"*{databases.name}* — stopped (rds_instance: stopped)" in block_texts(status)

    start_arn, progress = bot.confirm(f"start {name} for 1h")

    assert names.arn_region(start_arn) == region
    assert databases.states() == ("available", "available")
    update = bot.notified(start_arn)
    assert update.body["ts"] == progress["ts"]
    assert f"✅ *{name}* started in " in update.body["text"]
    assert json.loads(buttons(update.body)["env_stop"]["value"])["c"] == name
    # The auto-stop of "for 1h" is a schedule of the composition's region.
    scheduler = regional(region, "scheduler")
    auto_stop = scheduler.get_schedule(GroupName=names.schedule_group(name), Name=names.AUTO_STOP)
    assert auto_stop["Target"]["Arn"].endswith(f":{region}:{HUB}:stateMachine:envctl-{name}-stop")
    # The rows (state, audit) are in the envctl table of that region.
    audit = [row["what"] for row in table_rows(region, f"audit#{name}")]
    assert {"stop", "start"} <= set(audit), audit
    assert state_row(region, name)["state"] == "running"
    assert bot.command(f"status {name}")["text"] == f"{name}: running"


def test_slack_stop_status_start_of_a_spoke_composition_act_in_the_spoke(
    aws_env: Emulator,
    mock: MockSlackApi,
    unique: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spoke, databases = spoke_databases(aws_env, unique)
    name = f"sp-{unique}"
    config = write_config(
        tmp_path,
        name,
        {"account": spoke.account, "region": AWAY, "resources": [databases.there.item]},
    )

    stop_status_start(bot(mock, config, name, databases, monkeypatch))

    assert machine_regions(name, "stop") == {HOME: False, AWAY: True}
    role = f"arn:aws:iam::{spoke.account}:role/{SPOKE_ROLE}"
    [start_arn] = executions(AWAY, name, "start")
    calls = resource_calls_as(AWAY, start_arn)
    assert calls and all(c == {"roleArn": role} for c in calls), calls
    # Nothing of the composition in the hub's own table.
    assert table_rows(HOME, f"composition#{name}") == []
    assert table_rows(HOME, f"audit#{name}") == []


def test_slack_run_of_a_spoke_whose_role_refuses_reports_the_cause_read_in_its_region(
    aws_env: Emulator,
    mock: MockSlackApi,
    unique: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spoke = Spoke(aws_env, new_account(), AWAY)
    spoke.create_role(trusting=f"arn:aws:iam::{HUB}:role/someone-else")
    there = database(aws_env, spoke.account, AWAY, f"db-{unique}")
    here = database(aws_env, HUB, HOME, f"db-{unique}")
    databases = Databases(name=f"db-{unique}", there=there, here=here, region=AWAY)
    name = f"spr-{unique}"
    config = write_config(
        tmp_path,
        name,
        {
            "account": spoke.account,
            "region": AWAY,
            "notify": {"slack_channel": "CALERTS"},
            "resources": [there.item],
        },
    )
    slack = bot(mock, config, name, databases, monkeypatch)

    arn, progress = slack.confirm(f"stop {name}", succeeds=False)
    update = slack.notified(arn, cause_in_event=False)

    assert databases.states() == ("available", "available")
    role = f"arn:aws:iam::{spoke.account}:role/{SPOKE_ROLE}"
    assert update.body["ts"] == progress["ts"]
    text = block_texts(update.body)
    assert f"❌ *{name}* could not be stopped" in text
    assert role in text and f"account {spoke.account}" in text, text
    [alert] = slack.mock.calls("chat.postMessage")
    assert alert.body["channel"] == "CALERTS"
    assert role in block_texts(alert.body)


@pytest.fixture
def in_eu_west_1(aws_env: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The deployment is in eu-west-1: the environment names that region only."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", AWAY)
    monkeypatch.delenv("AWS_REGION", raising=False)
    assert Aws().region == AWAY
    return aws_env


def test_slack_stop_status_start_of_a_deployment_in_eu_west_1(
    in_eu_west_1: Emulator,
    mock: MockSlackApi,
    unique: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    there = database(in_eu_west_1, HUB, AWAY, f"db-{unique}")
    here = database(in_eu_west_1, HUB, HOME, f"db-{unique}")
    databases = Databases(name=f"db-{unique}", there=there, here=here, region=AWAY)
    name = f"eu-{unique}"
    config = write_config(tmp_path, name, {"resources": [there.item]})

    stop_status_start(bot(mock, config, name, databases, monkeypatch))

    assert machine_regions(name, "start") == {HOME: False, AWAY: True}
    [start_arn] = executions(AWAY, name, "start")
    calls = resource_calls_as(AWAY, start_arn)
    assert calls and all(c is None for c in calls), calls  # its own credentials: no role
    assert table_rows(HOME, f"composition#{name}") == []


# --- webhooks --------------------------------------------------------------------------


def call(api: Any, method: str, path: str, body: str = "") -> tuple[int, Any]:
    headers = {"x-api-key": API_KEY, **({"Content-Type": "application/json"} if body else {})}
    event = api_gateway_event(body, headers, path=path, method=method, source_ip="127.0.0.1")
    result = api.handle(event, LocalContext())
    return result["statusCode"], json.loads(result["body"])


def over_http(server: LocalServer, method: str, path: str, body: str = "") -> tuple[int, Any]:
    headers = {"x-api-key": API_KEY, **({"Content-Type": "application/json"} if body else {})}
    request = urllib.request.Request(
        server.url + path, data=body.encode() or None, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read().decode())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read().decode())


def test_webhooks_stop_status_start_of_a_spoke_composition_act_in_the_spoke(
    aws_env: Emulator, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spoke, databases = spoke_databases(aws_env, unique)
    name = f"wsp-{unique}"
    config = write_config(
        tmp_path,
        name,
        {"account": spoke.account, "region": AWAY, "resources": [databases.there.item]},
    )
    deploy_when_first_started(monkeypatch)
    api = build_api(
        WebhookSettings.from_env(
            {"ENVCTL_CONFIG": str(config), "ENVCTL_WEBHOOK_API_KEYS": f"ci={API_KEY}"}
        )
    )
    path = f"/webhooks/compositions/{name}"

    status, stopped = call(api, "POST", f"{path}/stop")

    assert status == 202, stopped
    assert (stopped["composition"], stopped["action"]) == (name, "stop")
    assert names.arn_region(stopped["executionArn"]) == AWAY
    assert executions(AWAY, name, "stop") == [stopped["executionArn"]]
    finished(stopped["executionArn"])
    assert databases.states() == ("stopped", "available")

    status, document = call(api, "GET", path)

    assert status == 200, document
    assert document["state"] == "stopped", document
    assert (document["account"], document["region"]) == (spoke.account, AWAY)
    [resource] = document["resources"]
    assert resource["state"] == "stopped", resource
    assert databases.name in json.dumps(resource)
    assert state_row(AWAY, name)["state"] == "stopped"
    assert table_rows(HOME, f"composition#{name}") == []

    server = LocalServer(None, webhooks=api.handle).start()
    try:
        status, started = over_http(server, "POST", f"{path}/start", json.dumps({"duration": "1h"}))
        assert status == 202, started
        finished(started["executionArn"])
        status, document = over_http(server, "GET", path)
    finally:
        server.stop()

    assert names.arn_region(started["executionArn"]) == AWAY
    assert "auto_stop_at" in started
    assert databases.states() == ("available", "available")
    assert status == 200, document
    assert (document["state"], document["resources"][0]["state"]) == ("running", "running")
    role = f"arn:aws:iam::{spoke.account}:role/{SPOKE_ROLE}"
    calls = resource_calls_as(AWAY, started["executionArn"])
    assert calls and all(c == {"roleArn": role} for c in calls), calls
