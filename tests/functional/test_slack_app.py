"""The Slack app end to end: signed requests through the Lambda handler, Slack as a mock.

Built like slack-bolt's own adapter tests: slash commands are signed form bodies,
button clicks are ``payload=`` JSON, events are signed JSON, all wrapped in API Gateway
events and given to the very handler Lambda runs (lazy listeners run inline, before
the response). Every Web API call and response_url post lands in ``MockSlackApi``;
AWS effects are read back with boto3 from the emulator, never through envctl.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import yaml
from slack_bolt.request import BoltRequest

from bot import notifier
from bot.lambda_adapter import LambdaHandler
from bot.settings import BotSettings
from bot.slack.app import build_app
from bot.slack.commands import confirmation_value
from bot.slack.services import Services
from bot.slack_handler import VerifiedHandler, verified
from infra.emulator.server import Emulator
from infra.serve import LocalContext, LocalServer, local_slack_handler
from infra.slack.mock_api import MockSlackApi
from infra.slack.signing import (
    API_APP_ID,
    TEAM_ID,
    VERIFICATION_TOKEN,
    api_gateway_event,
    block_actions_body,
    retry_headers,
    signature,
    signed_headers,
    slash_command_body,
)
from scheduler_core.aws import Aws
from scheduler_core.cli.main import main as envctl
from scheduler_core.exceptions import ConflictError, NotDeployedError
from scheduler_core.resources import Action
from scheduler_core.runtime import follow
from scheduler_core.runtime.lease import Lease
from scheduler_core.runtime.operations import Run, Runtime
from tests.functional import moto_resources
from tests.functional.helpers import deploy_when_first_started

SECRET = "test-secret"
TABLE = "envctl"
ALERTS = "CALERTS"
USER_NAMES = {"U1": "alice", "U2": "bob", "U7": "grace"}

Message = dict[str, Any]


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def mock() -> Iterator[MockSlackApi]:
    with MockSlackApi(usergroups={"S1": ["U7"], "S2": []}) as running:
        yield running
    # Nothing the app sent was Block Kit that Slack would refuse (invalid_blocks).
    assert running.invalid == []


@dataclass
class Names:
    """The compositions of one test; unique because tests share one emulator."""

    app: str  # rds_instance + ecs_service, scheduled, open to everyone
    users: str  # only <@U2>
    channel: str  # only from C9
    group: str  # only members of S1
    protected: str  # protected: danger dialog
    broken: str  # its database does not exist; notifies ALERTS

    def all(self) -> list[str]:
        return [self.app, self.users, self.channel, self.group, self.protected, self.broken]


@dataclass
class Slack:
    """The app behind its Lambda handler, Slack's Web API mock, and the emulator."""

    em: Emulator
    mock: MockSlackApi
    settings: BotSettings
    config_path: Path
    names: Names
    database: str
    cluster: str
    start_hour: int
    stop_hour: int
    handler: Any = None
    _ids: Iterator[int] = field(default_factory=count)

    def __post_init__(self) -> None:
        # The Lambda entry point's own wrapper: the signature is checked before Bolt parses.
        self.handler = verified(local_slack_handler(self.settings, inline=True), self.settings)

    # requests

    def deliver(
        self,
        body: str,
        *,
        secret: str = SECRET,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Sign ``body`` and hand it to the Lambda handler as API Gateway would."""
        signed = {**signed_headers(body, secret, timestamp=timestamp), **(headers or {})}
        return self.handler.handle(api_gateway_event(body, signed), LocalContext())

    def command(
        self, text: str, *, user_id: str = "U1", channel_id: str = "C1", **options: Any
    ) -> dict[str, Any]:
        body = slash_command_body(
            text=text,
            user_id=user_id,
            user_name=USER_NAMES.get(user_id, user_id.lower()),
            channel_id=channel_id,
            response_url=self.mock.response_url(f"cmd{next(self._ids)}"),
        )
        return self.deliver(body, **options)

    def click_body(
        self, action_id: str, value: str, *, user_id: str = "U1", channel_id: str = "C1"
    ) -> str:
        """A click on an ephemeral confirmation (Slack sends no ``message`` then)."""
        return block_actions_body(
            action_id=action_id,
            value=value,
            user_id=user_id,
            user_name=USER_NAMES.get(user_id, user_id.lower()),
            channel_id=channel_id,
            response_url=self.mock.response_url(f"click{next(self._ids)}"),
            is_ephemeral=True,
        )

    def click(self, action_id: str, value: str, **options: Any) -> dict[str, Any]:
        headers = options.pop("headers", None)
        return self.deliver(self.click_body(action_id, value, **options), headers=headers)

    def confirmation(self, text: str, **options: Any) -> Message:
        """Run a start/stop command and return the confirmation it answered with."""
        self.mock.clear()
        assert self.command(text, **options)["statusCode"] == 200
        return last_reply(self.mock)

    def confirm(self, text: str, **options: Any) -> str:
        """Confirm a start/stop and wait for the execution; returns its ARN."""
        value = buttons(self.confirmation(text, **options))["env_confirm"]["value"]
        self.mock.clear()
        assert self.click("env_confirm", value, **options)["statusCode"] == 200
        composition = text.split()[1]
        action = text.split()[0]
        [arn] = executions(self.em, composition, action)
        follow(Aws(), arn, poll_seconds=0.1, timeout_seconds=120)
        return arn


@pytest.fixture
def slack(
    aws_env: Emulator,
    mock: MockSlackApi,
    unique: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Slack:
    database = moto_resources.rds_instance(aws_env, f"db-{unique}")
    service = moto_resources.ecs_service(aws_env, f"svc-{unique}")
    names = Names(
        app=f"app-{unique}",
        users=f"users-{unique}",
        channel=f"chan-{unique}",
        group=f"group-{unique}",
        protected=f"prot-{unique}",
        broken=f"broken-{unique}",
    )
    now = datetime.now(UTC)
    # Scheduled start in 6 h, stop in 3 h (UTC): both always within the 12 h horizon.
    start_hour, stop_hour = (now.hour + 6) % 24, (now.hour + 3) % 24
    resources = [database.item, service.item]

    def composition(**settings: Any) -> dict[str, Any]:
        return {"resources": resources, **settings}

    compositions = {
        names.app: composition(
            description="The web shop",
            start_resources_at=f"0 {start_hour} ? * * *",
            stop_resources_at=f"0 {stop_hour} ? * * *",
        ),
        names.users: composition(access={"users": ["U2"]}),
        names.channel: composition(access={"channels": ["C9"]}),
        names.group: composition(access={"usergroups": ["S1"]}),
        names.protected: composition(access={"protected": True}),
        names.broken: {
            "notify": {"slack_channel": ALERTS},
            "resources": [{"type": "rds_instance", "params": {"id": f"gone-{unique}"}}],
        },
    }
    config_path = tmp_path / "compositions.yaml"
    config_path.write_text(yaml.safe_dump({"compositions": compositions}))
    deploy_when_first_started(monkeypatch)
    variables = {
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-mock",
        "SLACK_API_URL": mock.url,
        "ENVCTL_CONFIG": str(config_path),
    }
    for name, value in variables.items():  # the notifier Lambda reads os.environ
        monkeypatch.setenv(name, value)
    settings = BotSettings.from_env({**os.environ, **variables})
    return Slack(
        em=aws_env,
        mock=mock,
        settings=settings,
        config_path=config_path,
        names=names,
        database=f"db-{unique}",
        cluster=f"svc-{unique}",
        start_hour=start_hour,
        stop_hour=stop_hour,
    )


# --- reading what the app said -------------------------------------------------------


def decoded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def replies(mock: MockSlackApi) -> list[Message]:
    """What was posted to response_urls, in order."""
    return [call.body for call in mock.calls("response_url")]


def last_reply(mock: MockSlackApi) -> Message:
    found = replies(mock)
    assert found, f"no response_url post; calls: {[c.method for c in mock.calls()]}"
    return found[-1]


def block_texts(message: Message) -> str:
    """Every text of a message's blocks (sections, headers, contexts, buttons)."""
    texts = []
    for block in decoded(message.get("blocks")) or []:
        if "text" in block:
            texts.append(block["text"]["text"])
        for element in block.get("elements", []):
            text = element.get("text")
            texts.append(text["text"] if isinstance(text, dict) else text or "")
    return "\n".join(texts)


def buttons(message: Message) -> dict[str, dict[str, Any]]:
    """The buttons of a message by action_id."""
    return {
        element["action_id"]: element
        for block in decoded(message.get("blocks")) or []
        if block["type"] == "actions"
        for element in block["elements"]
    }


def ack_body(response: dict[str, Any]) -> Message:
    return json.loads(response["body"])


# --- reading AWS with boto3 ------------------------------------------------------------


def executions(em: Emulator, composition: str, action: str) -> list[str]:
    """ARNs of every execution of the composition's start/stop state machine."""
    sfn = em.client("stepfunctions")
    # Paginate: the shared emulator holds far more than one page of state machines.
    wanted = f"envctl-{composition}-{action}"
    found = []
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"] == wanted:
                pages = sfn.get_paginator("list_executions").paginate(
                    stateMachineArn=machine["stateMachineArn"]
                )
                found += [e["executionArn"] for page_ in pages for e in page_["executions"]]
    return found


def audit_whats(em: Emulator, composition: str) -> list[dict[str, str]]:
    items = em.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"audit#{composition}"}},
    )["Items"]
    return [{name: value.get("S", "") for name, value in item.items()} for item in items]


def table_item(em: Emulator, pk: str, sk: str) -> dict[str, Any]:
    found = em.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
    )
    return found.get("Item", {})


def schedule(em: Emulator, composition: str, name: str) -> dict[str, Any]:
    return em.client("scheduler").get_schedule(GroupName=f"envctl-{composition}", Name=name)


def database_status(em: Emulator, identifier: str) -> str:
    found = em.client("rds").describe_db_instances(DBInstanceIdentifier=identifier)
    return str(found["DBInstances"][0]["DBInstanceStatus"])


def desired_count(em: Emulator, cluster: str) -> int:
    found = em.client("ecs").describe_services(cluster=cluster, services=["api"])
    return int(found["services"][0]["desiredCount"])


def status_change_event(em: Emulator, execution_arn: str) -> dict[str, Any]:
    """The EventBridge event Step Functions emits when an execution ends."""
    described = em.client("stepfunctions").describe_execution(executionArn=execution_arn)

    def epoch_ms(moment: datetime) -> int:
        return int(moment.timestamp() * 1000)

    return {
        "version": "0",
        "id": str(uuid4()),
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": execution_arn.split(":")[4],
        "time": described["stopDate"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": execution_arn.split(":")[3],
        "resources": [execution_arn],
        "detail": {
            "executionArn": execution_arn,
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


def app_home_opened_body(user_id: str = "U1") -> str:
    """The Events API callback Slack POSTs (JSON) when a user opens the App Home."""
    now = time.time()
    return json.dumps(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "api_app_id": API_APP_ID,
            "event": {
                "type": "app_home_opened",
                "user": user_id,
                "channel": "D0HOME",
                "tab": "home",
                "event_ts": f"{now:.6f}",
            },
            "type": "event_callback",
            "event_id": f"Ev{uuid4().hex[:10].upper()}",
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": "U0BOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
    )


def stop_resources(slack: Slack) -> None:
    """Put the composition's resources in the stopped state, behind envctl's back."""
    slack.em.client("rds").stop_db_instance(DBInstanceIdentifier=slack.database)
    slack.em.client("ecs").update_service(cluster=slack.cluster, service="api", desiredCount=0)


# --- commands ------------------------------------------------------------------------


def test_help_is_answered_in_the_ack_with_every_command(slack: Slack) -> None:
    response = slack.command("help")

    assert response["statusCode"] == 200
    answer = ack_body(response)
    assert answer["response_type"] == "ephemeral"
    text = block_texts(answer)
    assert text.startswith("/env commands")
    # mrkdwn escapes "<" and ">" even in code spans; Slack shows them as typed.
    for usage in ("/env list", "/env start &lt;name&gt;", "/env history &lt;name&gt;"):
        assert f"`{usage}" in text
    assert slack.mock.calls() == []


def test_cold_start_makes_no_auth_test_round_trip(slack: Slack) -> None:
    # A single-workspace app knows its token: Bolt's auth.test on the first request of a
    # process would put a Slack round trip on the ack path of every cold start.
    response = slack.command("help")

    assert response["statusCode"] == 200
    assert slack.mock.calls("auth.test") == []


def test_list_shows_every_composition_with_its_next_runs(slack: Slack) -> None:
    slack.command("list")

    [answer] = replies(slack.mock)
    assert answer["response_type"] == "ephemeral"
    text = block_texts(answer)
    assert "Compositions (6)" in text
    for name in slack.names.all():
        assert f"*{name}*" in text
    assert "The web shop" in text
    assert f"Next start: {_hour_text(slack.start_hour)}" in text
    assert f"Next stop: {_hour_text(slack.stop_hour)}" in text


def _hour_text(hour: int) -> str:
    now = datetime.now(UTC)
    at = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    at = at if at > now else at + timedelta(days=1)
    return f"{at:%a} {at.day} {at:%b} {hour:02d}:00 UTC"


def test_status_shows_the_live_state_of_each_resource(slack: Slack) -> None:
    slack.command(f"status {slack.names.app}")

    answer = last_reply(slack.mock)
    assert answer["text"] == f"{slack.names.app}: running"
    text = block_texts(answer)
    assert f"*{slack.database}* — running (rds_instance: available)" in text
    assert f"*{slack.cluster}/api*" in text


def test_start_asks_confirmation_with_buttons_and_scheduled_stop_warning(slack: Slack) -> None:
    answer = slack.confirmation(f"start {slack.names.app} for 2h")

    assert answer["response_type"] == "ephemeral"
    text = block_texts(answer)
    assert f"Start *{slack.names.app}*?\nIt stops again after 2h." in text
    assert f"⚠️ Scheduled stop at {_hour_text(slack.stop_hour)} in " in text
    found = buttons(answer)
    assert set(found) == {"env_confirm", "env_cancel"}
    assert found["env_confirm"]["style"] == "primary"
    assert "confirm" not in found["env_confirm"]
    assert json.loads(found["env_confirm"]["value"]) == {
        "c": slack.names.app,
        "a": "start",
        "s": "unknown",
        "d": 7200,
    }
    assert executions(slack.em, slack.names.app, "start") == []


def test_confirmed_start_starts_the_resources_in_aws(slack: Slack) -> None:
    stop_resources(slack)

    slack.confirm(f"start {slack.names.app}")

    assert database_status(slack.em, slack.database) == "available"
    assert desired_count(slack.em, slack.cluster) == 2


def test_confirmed_start_posts_progress_in_channel_and_stores_its_ref(slack: Slack) -> None:
    arn = slack.confirm(f"start {slack.names.app}")

    assert last_reply(slack.mock) == {
        "text": f"Start of *{slack.names.app}* requested.",
        "replace_original": True,
    }
    [posted] = slack.mock.calls("chat.postMessage")
    assert posted.body["channel"] == "C1"
    assert posted.body["text"] == f"<@U1> is starting *{slack.names.app}*"
    assert f"🔄 <@U1> is starting *{slack.names.app}*…" in block_texts(posted.body)
    ref = table_item(slack.em, f"execution#{arn}", "slack")
    assert ref["channel"]["S"] == "C1"
    assert ref["ts"]["S"] == posted.response["ts"]
    assert ref["user_id"]["S"] == "U1"


def test_cancel_replaces_the_confirmation_and_starts_nothing(slack: Slack) -> None:
    value = buttons(slack.confirmation(f"start {slack.names.app}"))["env_cancel"]["value"]
    slack.mock.clear()

    slack.click("env_cancel", value)

    assert replies(slack.mock) == [
        {"text": "Cancelled; nothing was done.", "replace_original": True}
    ]
    assert executions(slack.em, slack.names.app, "start") == []


def test_stop_asks_confirmation_and_confirmed_stop_stops_the_resources(slack: Slack) -> None:
    answer = slack.confirmation(f"stop {slack.names.app}")
    assert f"Stop *{slack.names.app}*?" in block_texts(answer)
    assert f"⚠️ Scheduled start at {_hour_text(slack.start_hour)} in " in block_texts(answer)

    slack.confirm(f"stop {slack.names.app}")

    assert database_status(slack.em, slack.database) == "stopped"
    assert desired_count(slack.em, slack.cluster) == 0
    assert "stop" in [entry["what"] for entry in audit_whats(slack.em, slack.names.app)]


def test_extend_after_start_for_moves_the_auto_stop_schedule(slack: Slack) -> None:
    slack.confirm(f"start {slack.names.app} for 2h")
    before = schedule(slack.em, slack.names.app, "auto-stop")["ScheduleExpression"]
    slack.mock.clear()

    slack.command(f"extend {slack.names.app} 1h")

    planned = datetime.fromisoformat(before.removeprefix("at(").removesuffix(")"))
    moved = planned + timedelta(hours=1)
    after = schedule(slack.em, slack.names.app, "auto-stop")["ScheduleExpression"]
    assert after == f"at({moved:%Y-%m-%dT%H:%M:%S})"
    assert last_reply(slack.mock)["text"] == (
        f"*{slack.names.app}* now stops at {moved:%a} {moved.day} {moved:%b} {moved:%H:%M} UTC."
    )
    assert "extend" in [entry["what"] for entry in audit_whats(slack.em, slack.names.app)]


def test_skip_next_stop_sets_the_skip_flag_and_names_the_run(slack: Slack) -> None:
    slack.command(f"skip {slack.names.app} next-stop")

    assert last_reply(slack.mock)["text"] == (
        f"The next scheduled stop of *{slack.names.app}* ({_hour_text(slack.stop_hour)}) "
        "will be skipped."
    )
    item = table_item(slack.em, f"composition#{slack.names.app}", "override")
    assert item["skip_next_stop"] == {"BOOL": True}
    assert "skip_next_start" not in item


def test_skip_dates_makes_the_starts_of_that_day_do_nothing_and_lists_them(slack: Slack) -> None:
    day = (datetime.now(UTC) + timedelta(days=1)).date()  # UTC is the composition's zone
    due = datetime(day.year, day.month, day.day, slack.start_hour, tzinfo=UTC)

    slack.command(f"skip {slack.names.app} {day.isoformat()}")

    assert last_reply(slack.mock)["text"] == (
        f"These scheduled starts of *{slack.names.app}* will do nothing: "
        f"{due:%a} {due.day} {due:%b} {due:%H:%M} UTC."
    )
    row = table_item(slack.em, f"composition#{slack.names.app}", f"skip#{due:%Y-%m-%dT%H:%M:%SZ}")
    assert (row["source"], row["reason"]) == ({"S": "skip"}, {"S": f"skip {day.isoformat()}"})
    assert f"skip {day.isoformat()}" in [e["what"] for e in audit_whats(slack.em, slack.names.app)]


def test_schedule_names_the_runs_of_the_week_that_do_nothing(slack: Slack) -> None:
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    due = datetime(day.year, day.month, day.day, slack.start_hour, tzinfo=UTC)
    slack.command(f"skip {slack.names.app} {day.isoformat()}")

    slack.command(f"schedule {slack.names.app}")

    texts = block_texts(last_reply(slack.mock))
    assert f"*start* {due:%a} {due.day} {due:%b} {due:%H:%M} UTC does nothing (skip)" in texts
    assert texts.count("does nothing") == 1


def test_skip_of_a_past_date_is_refused_and_writes_nothing(slack: Slack) -> None:
    slack.command(f"skip {slack.names.app} 2020-01-01")

    assert "is in the past" in last_reply(slack.mock)["text"]
    assert all(
        not e["what"].startswith("skip 2020") for e in audit_whats(slack.em, slack.names.app)
    )


def _apply(slack: Slack) -> None:
    assert envctl(["apply", "-c", str(slack.config_path)]) == 0


def test_pause_disables_the_scheduled_start_and_stop(slack: Slack) -> None:
    _apply(slack)

    slack.command(f"pause {slack.names.app}")

    assert last_reply(slack.mock)["text"] == f"Scheduled runs of *{slack.names.app}* paused."
    assert schedule(slack.em, slack.names.app, "start")["State"] == "DISABLED"
    assert schedule(slack.em, slack.names.app, "stop")["State"] == "DISABLED"


def test_resume_re_enables_paused_schedules(slack: Slack) -> None:
    _apply(slack)
    slack.command(f"pause {slack.names.app}")
    slack.mock.clear()

    slack.command(f"resume {slack.names.app}")

    assert last_reply(slack.mock)["text"] == f"Scheduled runs of *{slack.names.app}* resumed."
    assert schedule(slack.em, slack.names.app, "start")["State"] == "ENABLED"
    assert schedule(slack.em, slack.names.app, "stop")["State"] == "ENABLED"
    whats = [entry["what"] for entry in audit_whats(slack.em, slack.names.app)]
    assert sorted(whats) == ["pause", "resume"]


def test_pause_before_apply_says_to_run_apply(slack: Slack) -> None:
    slack.command(f"pause {slack.names.app}")

    assert "run `envctl apply` first" in last_reply(slack.mock)["text"]


def test_schedule_describes_start_and_stop_with_next_local_times(slack: Slack) -> None:
    slack.command(f"schedule {slack.names.app}")

    text = block_texts(last_reply(slack.mock))
    assert f"*{slack.names.app}* schedule (UTC)" in text
    assert f"• *start*: At {slack.start_hour:02d}:00" in text
    assert f"next {_hour_text(slack.start_hour)}" in text
    assert f"• *stop*: At {slack.stop_hour:02d}:00" in text
    assert f"next {_hour_text(slack.stop_hour)}" in text


def test_windows_reports_the_database_windows_and_their_coverage(slack: Slack) -> None:
    described = slack.em.client("rds").describe_db_instances(DBInstanceIdentifier=slack.database)
    maintenance = described["DBInstances"][0]["PreferredMaintenanceWindow"]

    slack.command(f"windows {slack.names.app}")

    text = block_texts(last_reply(slack.mock))
    assert f"*{slack.names.app}* windows: " in text
    assert f"*{slack.database}* (rds_instance) · maintenance window `{maintenance}`" in text


def test_history_lists_a_confirmed_start_with_who_and_via(slack: Slack) -> None:
    slack.confirm(f"start {slack.names.app}")
    slack.mock.clear()

    slack.command(f"history {slack.names.app}")

    text = block_texts(last_reply(slack.mock))
    assert f"*{slack.names.app}* history" in text
    assert "*start* by <@U1> via slack" in text


# --- result messages (notifier) ------------------------------------------------------


def test_notifier_updates_the_progress_message_with_result_and_buttons(slack: Slack) -> None:
    arn = slack.confirm(f"start {slack.names.app}")
    [progress] = slack.mock.calls("chat.postMessage")
    slack.mock.clear()

    result = notifier.handler(status_change_event(slack.em, arn), LocalContext())

    assert result["handled"] is True
    [update] = slack.mock.calls("chat.update")
    assert update.body["channel"] == "C1"
    assert update.body["ts"] == progress.response["ts"]
    assert f"✅ *{slack.names.app}* started in " in update.body["text"]
    assert "(by <@U1>)" in block_texts(update.body)
    found = buttons(update.body)
    assert [found["env_stop"]["text"]["text"], found["env_extend"]["text"]["text"]] == [
        "Stop",
        "Extend 1h",
    ]
    assert json.loads(found["env_stop"]["value"])["c"] == slack.names.app
    assert slack.mock.calls("chat.postMessage") == []  # a Slack-started success: no alert


def test_notifier_outcome_of_reads_a_succeeded_start(slack: Slack) -> None:
    arn = slack.confirm(f"start {slack.names.app}")
    event = status_change_event(slack.em, arn)

    outcome = notifier.outcome_of(
        event["detail"], slack.em.client("stepfunctions").describe_execution
    )

    assert outcome is not None
    assert (outcome.composition, outcome.action, outcome.status) == (
        slack.names.app,
        "start",
        "SUCCEEDED",
    )
    assert outcome.trigger == "slack"
    assert outcome.seconds >= 0


def test_failed_start_update_names_the_missing_resource_and_alerts_channel(
    slack: Slack, unique: str
) -> None:
    arn = slack.confirm(f"start {slack.names.broken}")
    [progress] = slack.mock.calls("chat.postMessage")
    slack.mock.clear()

    notifier.handler(status_change_event(slack.em, arn), LocalContext())

    [update] = slack.mock.calls("chat.update")
    assert update.body["ts"] == progress.response["ts"]
    text = block_texts(update.body)
    assert f"❌ *{slack.names.broken}* could not be started" in text
    assert f"rds_instance gone-{unique}" in text
    assert "env_stop" not in buttons(update.body)
    [alert] = slack.mock.calls("chat.postMessage")
    assert alert.body["channel"] == ALERTS
    assert f"rds_instance gone-{unique}" in block_texts(alert.body)


def test_extend_button_on_the_result_moves_the_auto_stop_by_an_hour(slack: Slack) -> None:
    arn = slack.confirm(f"start {slack.names.app} for 2h")
    before = schedule(slack.em, slack.names.app, "auto-stop")["ScheduleExpression"]
    slack.mock.clear()
    notifier.handler(status_change_event(slack.em, arn), LocalContext())
    [update] = slack.mock.calls("chat.update")
    slack.mock.clear()

    slack.click("env_extend", buttons(update.body)["env_extend"]["value"])

    planned = datetime.fromisoformat(before.removeprefix("at(").removesuffix(")"))
    moved = planned + timedelta(hours=1)
    after = schedule(slack.em, slack.names.app, "auto-stop")["ScheduleExpression"]
    assert after == f"at({moved:%Y-%m-%dT%H:%M:%S})"
    assert last_reply(slack.mock)["text"].startswith(f"*{slack.names.app}* now stops at ")


def test_stop_button_on_the_result_asks_for_stop_confirmation(slack: Slack) -> None:
    arn = slack.confirm(f"start {slack.names.app}")
    slack.mock.clear()
    notifier.handler(status_change_event(slack.em, arn), LocalContext())
    [update] = slack.mock.calls("chat.update")
    slack.mock.clear()

    slack.click("env_stop", buttons(update.body)["env_stop"]["value"])

    answer = last_reply(slack.mock)
    assert f"Stop *{slack.names.app}*?" in block_texts(answer)
    assert json.loads(buttons(answer)["env_confirm"]["value"])["a"] == "stop"
    assert executions(slack.em, slack.names.app, "stop") == []


# --- access ----------------------------------------------------------------------------


def test_user_not_listed_is_refused_naming_who_may_and_audited(slack: Slack) -> None:
    slack.command(f"start {slack.names.users}")

    answer = last_reply(slack.mock)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == (
        f"You may not operate *{slack.names.users}* here: only <@U2> may operate it."
    )
    assert "env_confirm" not in buttons(answer)
    [entry] = audit_whats(slack.em, slack.names.users)
    assert (entry["what"], entry["who"], entry["via"]) == ("refused start", "alice (U1)", "slack")


def test_listed_user_gets_the_confirmation(slack: Slack) -> None:
    answer = slack.confirmation(f"start {slack.names.users}", user_id="U2")

    assert "env_confirm" in buttons(answer)


def test_channel_not_listed_is_refused_naming_the_channel(slack: Slack) -> None:
    slack.command(f"stop {slack.names.channel}", channel_id="C1")

    assert last_reply(slack.mock)["text"] == (
        f"You may not operate *{slack.names.channel}* here: it can only be operated from <#C9>."
    )
    assert [e["what"] for e in audit_whats(slack.em, slack.names.channel)] == ["refused stop"]


def test_user_outside_the_usergroup_is_refused(slack: Slack) -> None:
    slack.command(f"start {slack.names.group}", user_id="U1")

    assert last_reply(slack.mock)["text"] == (
        f"You may not operate *{slack.names.group}* here: "
        "only members of <!subteam^S1> may operate it."
    )
    [lookup] = slack.mock.calls("usergroups.users.list")
    assert lookup.body["usergroup"] == "S1"
    assert [e["what"] for e in audit_whats(slack.em, slack.names.group)] == ["refused start"]


def test_usergroup_member_gets_the_confirmation(slack: Slack) -> None:
    answer = slack.confirmation(f"start {slack.names.group}", user_id="U7")

    assert f"Start *{slack.names.group}*?" in block_texts(answer)
    assert "env_confirm" in buttons(answer)
    assert audit_whats(slack.em, slack.names.group) == []


def test_confirm_click_by_a_user_not_listed_starts_nothing(slack: Slack) -> None:
    value = buttons(slack.confirmation(f"start {slack.names.users}", user_id="U2"))["env_confirm"][
        "value"
    ]
    slack.mock.clear()

    slack.click("env_confirm", value, user_id="U1")

    assert "only <@U2> may operate it" in last_reply(slack.mock)["text"]
    assert executions(slack.em, slack.names.users, "start") == []
    assert slack.mock.calls("chat.postMessage") == []


def test_protected_composition_confirm_is_danger_behind_a_dialog(slack: Slack) -> None:
    answer = slack.confirmation(f"stop {slack.names.protected}")

    confirm = buttons(answer)["env_confirm"]
    assert confirm["style"] == "danger"
    dialog = confirm["confirm"]
    assert dialog["style"] == "danger"
    assert dialog["title"]["text"] == f"Stop {slack.names.protected}?"
    assert "protected" in dialog["text"]["text"]
    assert dialog["confirm"]["text"] == "Yes, stop"


# --- retries, duplicates, stale buttons ----------------------------------------------


def test_retried_confirm_click_is_acknowledged_and_does_nothing(slack: Slack) -> None:
    value = buttons(slack.confirmation(f"start {slack.names.app}"))["env_confirm"]["value"]
    slack.mock.clear()

    response = slack.click("env_confirm", value, headers=retry_headers(1))

    assert response["statusCode"] == 200
    assert slack.mock.calls() == []
    assert executions(slack.em, slack.names.app, "start") == []


def test_retried_command_is_acknowledged_and_does_nothing(slack: Slack) -> None:
    response = slack.command(f"start {slack.names.app}", headers=retry_headers(2))

    assert response["statusCode"] == 200
    assert slack.mock.calls() == []


def test_same_confirm_click_delivered_twice_starts_one_execution(slack: Slack) -> None:
    value = buttons(slack.confirmation(f"start {slack.names.app}"))["env_confirm"]["value"]
    slack.mock.clear()
    body = slack.click_body("env_confirm", value)

    first = slack.deliver(body)
    second = slack.deliver(body)

    assert first["statusCode"] == second["statusCode"] == 200
    assert len(executions(slack.em, slack.names.app, "start")) == 1
    assert len(slack.mock.calls("chat.postMessage")) == 1


def test_click_redelivered_after_its_run_ended_starts_no_second_execution(
    slack: Slack,
) -> None:
    slack.confirm(f"start {slack.names.app}")  # seen "running" from now on
    value = buttons(slack.confirmation(f"start {slack.names.app}"))["env_confirm"]["value"]
    body = slack.click_body("env_confirm", value)
    slack.deliver(body)
    for arn in executions(slack.em, slack.names.app, "start"):
        follow(Aws(), arn, poll_seconds=0.1, timeout_seconds=120)
    slack.mock.clear()

    slack.deliver(body)

    assert len(executions(slack.em, slack.names.app, "start")) == 2
    assert slack.mock.calls("chat.postMessage") == []
    assert replies(slack.mock) == [
        {
            "text": f"This was already done; *{slack.names.app}* is running now.",
            "replace_original": True,
        }
    ]


def test_confirm_after_the_state_changed_replies_current_state(slack: Slack) -> None:
    stale = buttons(slack.confirmation(f"start {slack.names.app}"))["env_confirm"]["value"]
    slack.confirm(f"start {slack.names.app}")  # someone else started it meanwhile
    slack.mock.clear()

    slack.click("env_confirm", stale)

    assert replies(slack.mock) == [
        {"text": f"*{slack.names.app}* is running now; nothing was done.", "replace_original": True}
    ]
    assert len(executions(slack.em, slack.names.app, "start")) == 1
    assert slack.mock.calls("chat.postMessage") == []


def test_confirm_stop_after_it_was_already_stopped_replies_current_state(slack: Slack) -> None:
    stale = buttons(slack.confirmation(f"stop {slack.names.app}"))["env_confirm"]["value"]
    slack.confirm(f"stop {slack.names.app}")
    slack.mock.clear()

    slack.click("env_confirm", stale)

    assert replies(slack.mock) == [
        {"text": f"*{slack.names.app}* is stopped now; nothing was done.", "replace_original": True}
    ]
    assert len(executions(slack.em, slack.names.app, "stop")) == 1


# --- request verification ------------------------------------------------------------


def test_bad_signature_is_refused_with_401_and_does_nothing(slack: Slack) -> None:
    value = buttons(slack.confirmation(f"start {slack.names.app}"))["env_confirm"]["value"]
    slack.mock.clear()

    response = slack.deliver(slack.click_body("env_confirm", value), secret="not-the-secret")

    assert response["statusCode"] == 401
    assert slack.mock.calls() == []
    assert executions(slack.em, slack.names.app, "start") == []


def test_stale_timestamp_is_refused_with_401(slack: Slack) -> None:
    six_minutes_ago = int(time.time()) - 360

    response = slack.command("list", timestamp=six_minutes_ago)

    assert response["statusCode"] == 401
    assert slack.mock.calls() == []


# --- bad input -------------------------------------------------------------------------


def test_text_of_2001_characters_is_refused_in_the_ack(slack: Slack) -> None:
    response = slack.command("list " + "x" * 1996)

    answer = ack_body(response)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "the command is too long (2,001 characters; at most 2,000)"
    assert slack.mock.calls() == []


def test_control_character_is_refused_in_the_ack(slack: Slack) -> None:
    response = slack.command(f"start {slack.names.app}\x07")

    assert ack_body(response)["text"] == "the command contains control characters"
    assert slack.mock.calls() == []


def test_unknown_composition_is_answered_with_the_known_names(slack: Slack) -> None:
    slack.command(f"start nope-{slack.names.app}")

    answer = last_reply(slack.mock)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith(f'unknown composition "nope-{slack.names.app}"; known: ')
    for name in slack.names.all():
        assert name in answer["text"]


def test_unknown_command_suggests_the_closest_and_help(slack: Slack) -> None:
    response = slack.command(f"strat {slack.names.app}")

    assert ack_body(response)["text"] == (
        'unknown command "strat" (did you mean "start"?); try /env help'
    )
    assert slack.mock.calls() == []


# --- App Home --------------------------------------------------------------------------


def test_app_home_opened_publishes_every_composition(slack: Slack) -> None:
    body = app_home_opened_body("U1")

    response = slack.deliver(body, headers={"Content-Type": "application/json"})

    assert response["statusCode"] == 200
    [published] = slack.mock.calls("views.publish")
    assert published.body["user_id"] == "U1"
    view = decoded(published.body["view"])
    assert view["type"] == "home"
    block_ids = {block.get("block_id") for block in view["blocks"]}
    for name in slack.names.all():
        assert f"home:{name}" in block_ids
        assert f"home_actions:{name}" in block_ids


def test_app_home_start_button_sends_the_confirmation_by_direct_message(slack: Slack) -> None:
    slack.click("home_start", slack.names.app, user_id="U1")

    [opened] = slack.mock.calls("conversations.open")
    assert opened.body["users"] == "U1"
    [posted] = slack.mock.calls("chat.postMessage")
    assert posted.body["channel"] == "D1"
    assert f"Start *{slack.names.app}*?" in block_texts(posted.body)
    assert "env_confirm" in buttons(posted.body)
    assert executions(slack.em, slack.names.app, "start") == []


# --- over real HTTP --------------------------------------------------------------------


@pytest.fixture
def server(slack: Slack) -> Iterator[LocalServer]:
    running = LocalServer(slack.handler).start()
    yield running
    running.stop()


def _post(server: LocalServer, body: str, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(
        server.url + "/slack/events", data=body.encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_http_start_command_answers_with_the_confirmation(
    slack: Slack, server: LocalServer
) -> None:
    body = slash_command_body(
        text=f"start {slack.names.app}", response_url=slack.mock.response_url("http")
    )

    status, _ = _post(server, body, signed_headers(body, SECRET))

    assert status == 200
    answer = last_reply(slack.mock)
    assert answer["text"] == f"Start {slack.names.app}?"
    assert set(buttons(answer)) == {"env_confirm", "env_cancel"}


def test_http_bad_signature_gets_401_and_nothing_is_done(slack: Slack, server: LocalServer) -> None:
    body = slash_command_body(text="list", response_url=slack.mock.response_url("http"))

    status, _ = _post(server, body, signed_headers(body, "not-the-secret"))

    assert status == 401
    assert slack.mock.calls() == []


# --- verification before parsing -----------------------------------------------------


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The raw bodies slack-bolt built a request from (BoltRequest parses on creation)."""
    bodies: list[str] = []
    original = BoltRequest.__init__

    def counting(self: BoltRequest, *args: Any, **kwargs: Any) -> None:
        bodies.append(str(kwargs.get("body")))
        original(self, *args, **kwargs)

    monkeypatch.setattr(BoltRequest, "__init__", counting)
    return bodies


def unsigned(slack: Slack, body: str, headers: dict[str, str]) -> dict[str, Any]:
    """``body`` with exactly ``headers``, to the Lambda handler as API Gateway would."""
    return slack.handler.handle(api_gateway_event(body, headers), LocalContext())


UNSIGNED_BODIES = [
    "payload=%7Bx",
    "{x",
    "[" * 50_000 + "]" * 50_000,
    "payload=" + "%5B" * 50_000,
    "",
]


@pytest.mark.parametrize("body", UNSIGNED_BODIES, ids=["payload", "json", "deep", "form", "empty"])
def test_unsigned_garbage_is_401_before_anything_parses_it(
    slack: Slack, parsed: list[str], body: str
) -> None:
    response = unsigned(slack, body, {"Content-Type": "application/x-www-form-urlencoded"})

    assert response["statusCode"] == 401
    assert response["body"] == ""
    assert parsed == []
    assert slack.mock.calls() == []


@pytest.mark.parametrize(
    "timestamp", ["abc", "", " 1", "1_700_000_000", "١٧٠٠٠٠٠٠٠٠", "9" * 5000, "-5"]
)
def test_a_timestamp_that_is_not_plain_digits_is_401(
    slack: Slack, parsed: list[str], timestamp: str
) -> None:
    body = slash_command_body(text="list", response_url=slack.mock.response_url("ts"))
    headers = signed_headers(body, SECRET)
    headers["X-Slack-Signature"] = signature(body, SECRET, timestamp=timestamp)  # type: ignore[arg-type]
    headers["X-Slack-Request-Timestamp"] = timestamp

    response = unsigned(slack, body, headers)

    assert response["statusCode"] == 401
    assert parsed == []
    assert slack.mock.calls() == []


@pytest.mark.parametrize(
    "value", ["", "v0=", "v1=" + "0" * 64, "v0=" + "é" * 64, "v0=" + "A" * 64, "sha256=x"]
)
def test_a_malformed_signature_is_401(slack: Slack, parsed: list[str], value: str) -> None:
    body = slash_command_body(text="list", response_url=slack.mock.response_url("sig"))
    headers = {**signed_headers(body, SECRET), "X-Slack-Signature": value}

    response = unsigned(slack, body, headers)

    assert response["statusCode"] == 401
    assert parsed == []


def test_a_valid_signature_on_a_different_body_is_401(slack: Slack, parsed: list[str]) -> None:
    body = slash_command_body(text="list", response_url=slack.mock.response_url("other"))
    headers = signed_headers(body, SECRET)

    response = unsigned(slack, body.replace("list", "help"), headers)

    assert response["statusCode"] == 401
    assert parsed == []


def test_a_signed_body_slack_bolt_cannot_read_is_400_not_500(
    slack: Slack, parsed: list[str]
) -> None:
    response = slack.deliver("payload=%7Bx")

    assert response["statusCode"] == 400
    assert parsed == ["payload=%7Bx"]
    assert slack.mock.calls() == []


def test_a_base64_encoded_signed_body_is_verified_decoded(slack: Slack) -> None:
    body = slash_command_body(text="list", response_url=slack.mock.response_url("b64"))
    event = api_gateway_event(body, signed_headers(body, SECRET), base64_encoded=True)

    response = slack.handler.handle(event, LocalContext())

    assert response["statusCode"] == 200
    assert "Compositions (6)" in block_texts(last_reply(slack.mock))


def test_a_base64_flag_on_a_body_that_is_not_base64_is_401(slack: Slack, parsed: list[str]) -> None:
    body = slash_command_body(text="list", response_url=slack.mock.response_url("b64"))
    event = api_gateway_event(body, signed_headers(body, SECRET))
    event["isBase64Encoded"] = True

    response = slack.handler.handle(event, LocalContext())

    assert response["statusCode"] == 401
    assert parsed == []


def test_a_signed_request_from_outside_with_bolts_lazy_headers_is_401(
    slack: Slack, parsed: list[str]
) -> None:
    body = slash_command_body(
        text=f"status {slack.names.app}", response_url=slack.mock.response_url("lazy")
    )
    headers = {
        **signed_headers(body, SECRET),
        "X-Slack-Bolt-Lazy-Only": "1",
        "X-Slack-Bolt-Lazy-Function-Name": "lazy__run_command",
    }

    response = unsigned(slack, body, headers)

    assert response["statusCode"] == 401
    assert parsed == []
    assert slack.mock.calls() == []


@dataclass
class CapturingLambda:
    """Stands in for the Lambda client: keeps what the lazy runner invokes."""

    invocations: list[dict[str, Any]] = field(default_factory=list)

    def invoke(self, **request: Any) -> dict[str, Any]:
        self.invocations.append(request)
        return {"StatusCode": 202}


def lambda_handler(slack: Slack) -> tuple[VerifiedHandler, CapturingLambda]:
    """The handler exactly as Lambda runs it: lazy listeners re-invoke the function."""
    captured = CapturingLambda()
    inner = LambdaHandler(build_app(slack.settings), lambda_client=captured)
    return verified(inner, slack.settings), captured


def test_lazy_self_invocation_is_verified_and_runs_the_listener(slack: Slack) -> None:
    handler, captured = lambda_handler(slack)
    body = slash_command_body(text="list", response_url=slack.mock.response_url("lazy"))

    ack = handler.handle(api_gateway_event(body, signed_headers(body, SECRET)), LocalContext())
    assert ack["statusCode"] == 200
    assert replies(slack.mock) == []  # the work waits for the self-invocation
    [invocation] = captured.invocations
    assert invocation["InvocationType"] == "Event"

    lazy = handler.handle(json.loads(invocation["Payload"]), LocalContext())

    assert lazy["statusCode"] == 200
    assert "Compositions (6)" in block_texts(last_reply(slack.mock))
    assert captured.invocations == [invocation]  # a lazy run starts no further one


def test_a_lazy_invocation_with_a_changed_body_is_401(slack: Slack) -> None:
    handler, captured = lambda_handler(slack)
    body = slash_command_body(text="list", response_url=slack.mock.response_url("lazy"))
    handler.handle(api_gateway_event(body, signed_headers(body, SECRET)), LocalContext())
    event = json.loads(captured.invocations[0]["Payload"])
    event["body"] = event["body"].replace("text=list", f"text=stop+{slack.names.app}")

    response = handler.handle(event, LocalContext())

    assert response["statusCode"] == 401
    assert slack.mock.calls() == []
    assert audit_whats(slack.em, slack.names.app) == []


# --- refusals are audited ------------------------------------------------------------


def refusals(slack: Slack, composition: str) -> list[tuple[str, str, str, str]]:
    return [
        (entry["what"], entry["who"], entry["via"], entry["detail"])
        for entry in audit_whats(slack.em, composition)
        if entry["what"].startswith("refused ")
    ]


def test_denied_confirm_click_is_audited(slack: Slack) -> None:
    value = buttons(slack.confirmation(f"start {slack.names.users}", user_id="U2"))["env_confirm"][
        "value"
    ]
    slack.mock.clear()

    slack.click("env_confirm", value, user_id="U1")

    assert replies(slack.mock) == [
        {
            "text": f"You may not operate *{slack.names.users}* here: only <@U2> may operate it.",
            "replace_original": True,
        }
    ]
    assert refusals(slack, slack.names.users) == [
        ("refused start", "alice (U1)", "slack", "only <@U2> may operate it")
    ]
    assert executions(slack.em, slack.names.users, "start") == []


def test_confirm_click_from_another_channel_is_refused_and_audited(slack: Slack) -> None:
    value = buttons(slack.confirmation(f"stop {slack.names.channel}", channel_id="C9"))[
        "env_confirm"
    ]["value"]
    slack.mock.clear()

    slack.click("env_confirm", value, channel_id="C1")

    assert "it can only be operated from <#C9>" in last_reply(slack.mock)["text"]
    assert refusals(slack, slack.names.channel) == [
        ("refused stop", "alice (U1)", "slack", "it can only be operated from <#C9>")
    ]
    assert executions(slack.em, slack.names.channel, "stop") == []


def test_denied_app_home_start_is_answered_in_the_dm_and_audited(slack: Slack) -> None:
    slack.click("home_start", slack.names.users, user_id="U1")

    [posted] = slack.mock.calls("chat.postMessage")
    assert posted.body["channel"] == "D1"
    assert posted.body["text"] == (
        f"You may not operate *{slack.names.users}* here: only <@U2> may operate it."
    )
    assert "env_confirm" not in buttons(posted.body)
    assert refusals(slack, slack.names.users) == [
        ("refused start", "alice (U1)", "slack", "only <@U2> may operate it")
    ]


def test_denied_extend_click_is_audited_and_moves_nothing(slack: Slack) -> None:
    value = confirmation_value(slack.names.users, "stop", duration=None, seen="running")

    slack.click("env_extend", value, user_id="U1")

    assert last_reply(slack.mock)["text"] == (
        f"You may not operate *{slack.names.users}* here: only <@U2> may operate it."
    )
    assert refusals(slack, slack.names.users) == [
        ("refused extend", "alice (U1)", "slack", "only <@U2> may operate it")
    ]
    assert "extend" not in [entry["what"] for entry in audit_whats(slack.em, slack.names.users)]


def test_stale_confirm_click_is_audited(slack: Slack) -> None:
    stale = buttons(slack.confirmation(f"start {slack.names.app}"))["env_confirm"]["value"]
    slack.confirm(f"start {slack.names.app}")
    slack.mock.clear()

    slack.click("env_confirm", stale)

    stale_why = "stale button: shown when unknown, running by the click"
    assert refusals(slack, slack.names.app) == [("refused start", "alice (U1)", "slack", stale_why)]


# --- tampered button values ------------------------------------------------------------

NOT_OURS = (
    "This button is not one envctl made, so nothing was done; "
    "run the /env command again for a fresh one."
)


def tampered(name: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("huge", {"c": name, "a": "start", "s": "unknown", "d": 10**30}),
        ("past", {"c": name, "a": "start", "s": "unknown", "d": -3600}),
        ("zero", {"c": name, "a": "start", "s": "unknown", "d": 0}),
        ("7 days and 1 s", {"c": name, "a": "start", "s": "unknown", "d": 7 * 86400 + 1}),
        ("float", {"c": name, "a": "start", "s": "unknown", "d": 60.5}),
        ("bool", {"c": name, "a": "start", "s": "unknown", "d": True}),
        ("text", {"c": name, "a": "start", "s": "unknown", "d": "3600"}),
        ("on a stop", {"c": name, "a": "stop", "s": "unknown", "d": 3600}),
        ("action", {"c": name, "a": "delete", "s": "unknown"}),
        ("state", {"c": name, "a": "start", "s": "<!channel>"}),
        ("no state", {"c": name, "a": "start"}),
        ("extra", {"c": name, "a": "start", "s": "unknown", "x": 1}),
    ]


@pytest.mark.parametrize("case", range(12), ids=[case for case, _ in tampered("x")])
def test_tampered_confirm_value_is_refused_audited_and_starts_nothing(
    slack: Slack, case: int
) -> None:
    why, value = tampered(slack.names.app)[case]

    slack.click("env_confirm", json.dumps(value))

    answer = last_reply(slack.mock)
    assert (answer["text"], answer["response_type"]) == (NOT_OURS, "ephemeral"), why
    [(what, who, via, detail)] = refusals(slack, slack.names.app)
    attempted = value["a"] if value["a"] in ("start", "stop") else "click"
    assert (what, who, via) == (f"refused {attempted}", "alice (U1)", "slack")
    assert detail.startswith("button not made by envctl: ")
    assert executions(slack.em, slack.names.app, "start") == []
    assert executions(slack.em, slack.names.app, "stop") == []
    assert slack.mock.calls("chat.postMessage") == []
    assert table_item(slack.em, f"composition#{slack.names.app}", "override") == {}


@pytest.mark.parametrize(
    "raw",
    ['{"c": "nope", "a": "start", "s": "unknown"}', "not json", "[1, 2]", '"x"', "[" * 5000],
    ids=["unknown composition", "not json", "list", "string", "deep"],
)
def test_confirm_value_naming_no_composition_is_refused(slack: Slack, raw: str) -> None:
    slack.click("env_confirm", raw)

    assert last_reply(slack.mock)["text"] == NOT_OURS
    assert slack.mock.calls("chat.postMessage") == []
    for name in slack.names.all():
        assert audit_whats(slack.em, name) == []


def test_tampered_extend_value_is_refused_and_audited(slack: Slack) -> None:
    value = confirmation_value(slack.names.app, "start", duration=None, seen="running")

    slack.click("env_extend", value)

    assert last_reply(slack.mock)["text"] == NOT_OURS
    [(what, _, _, detail)] = refusals(slack, slack.names.app)
    assert what == "refused extend"
    assert detail == 'button not made by envctl: unexpected action "start"'


def test_tampered_stop_value_gets_no_confirmation(slack: Slack) -> None:
    value = json.dumps({"c": slack.names.app, "a": "stop", "s": "running", "d": 60})

    slack.click("env_stop", value)

    answer = last_reply(slack.mock)
    assert answer["text"] == NOT_OURS
    assert "env_confirm" not in buttons(answer)
    assert [what for what, *_ in refusals(slack, slack.names.app)] == ["refused stop"]


def test_app_home_button_for_an_unknown_composition_is_refused_in_the_dm(slack: Slack) -> None:
    slack.click("home_stop", f"nope-{slack.names.app}")

    [posted] = slack.mock.calls("chat.postMessage")
    assert (posted.body["channel"], posted.body["text"]) == ("D1", NOT_OURS)


# --- what the runtime answers: joined, conflict, not deployed ---------------------------


class ScriptedRuntime(Runtime):
    """The real runtime (store, extend, ...) but start/stop answer as told.

    The Slack layer is tested against the runtime's contract (Run.joined, ConflictError,
    NotDeployedError), whatever produces those answers.
    """

    def __init__(self, services: Services, answer: Callable[[Any, Action], Run]) -> None:
        super().__init__(services.aws, services.settings.core)
        self.answer = answer
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def start(self, composition: Any, **options: Any) -> Run:  # type: ignore[override]
        self.calls.append(("start", options))
        return self.answer(composition, Action.START)

    def stop(self, composition: Any, **options: Any) -> Run:  # type: ignore[override]
        self.calls.append(("stop", options))
        return self.answer(composition, Action.STOP)


def scripted(slack: Slack, answer: Callable[[Any, Action], Run]) -> ScriptedRuntime:
    """Put a ScriptedRuntime behind the Slack handler of ``slack``."""
    services = Services(slack.settings)
    runtime = ScriptedRuntime(services, answer)
    services.runtime = runtime  # type: ignore[misc]
    slack.handler = verified(
        local_slack_handler(slack.settings, inline=True, services=services), slack.settings
    )
    return runtime


def arn_of(slack: Slack, action: str, name: str) -> str:
    machine = f"envctl-{slack.names.app}-{action}"
    return f"arn:aws:states:us-east-1:123456789012:execution:{machine}:{name}"


def test_joined_run_with_a_message_points_to_it_and_posts_no_second(slack: Slack) -> None:
    running = arn_of(slack, "start", "cli-1")
    runtime = scripted(slack, lambda c, a: Run(execution_arn=running, action=a, joined=True))
    runtime.store.put_message_ref(running, channel="C5", ts="1.000001", user_id="U2")
    value = buttons(slack.confirmation(f"start {slack.names.app}"))["env_confirm"]["value"]
    slack.mock.clear()

    slack.click("env_confirm", value)

    assert replies(slack.mock) == [
        {
            "text": f"*{slack.names.app}* is already starting; "
            "its message in <#C5> will show the result.",
            "replace_original": True,
        }
    ]
    assert slack.mock.calls("chat.postMessage") == []
    ref = table_item(slack.em, f"execution#{running}", "slack")
    assert (ref["channel"]["S"], ref["user_id"]["S"]) == ("C5", "U2")
    [(action, options)] = runtime.calls
    assert action == "start"
    assert options["execution_name"].startswith("slack-U1-")


def test_joined_run_without_a_message_gets_one_that_will_show_the_result(slack: Slack) -> None:
    running = arn_of(slack, "stop", "schedule-1")
    scripted(slack, lambda c, a: Run(execution_arn=running, action=a, joined=True))
    value = buttons(slack.confirmation(f"stop {slack.names.app}"))["env_confirm"]["value"]
    slack.mock.clear()

    slack.click("env_confirm", value)

    assert last_reply(slack.mock)["text"] == (
        f"*{slack.names.app}* is already stopping; the message below will show the result."
    )
    [posted] = slack.mock.calls("chat.postMessage")
    assert posted.body["channel"] == "C1"
    assert f"🔄 *{slack.names.app}* is already stopping (<@U1> asked too)…" in block_texts(
        posted.body
    )
    ref = table_item(slack.em, f"execution#{running}", "slack")
    assert (ref["channel"]["S"], ref["ts"]["S"]) == ("C1", posted.response["ts"])


@pytest.mark.parametrize(
    ("action", "busy_action", "doing", "done"),
    [("start", "stop", "stopping", "started"), ("stop", "start", "starting", "stopped")],
)
def test_conflict_names_the_running_execution_and_starts_nothing(
    slack: Slack, action: str, busy_action: str, doing: str, done: str
) -> None:
    busy = arn_of(slack, busy_action, "cli-20261201T101500")

    def conflict(composition: Any, _: Action) -> Run:
        raise ConflictError(f"{composition.name} is still {doing}", execution_arn=busy)

    scripted(slack, conflict)
    value = buttons(slack.confirmation(f"{action} {slack.names.app}"))["env_confirm"]["value"]
    slack.mock.clear()

    slack.click("env_confirm", value)

    assert replies(slack.mock) == [
        {
            "text": f"⚠️ *{slack.names.app}* is {doing} right now "
            f"(execution `cli-20261201T101500`), so nothing was {done}; "
            f"run `/env {action} {slack.names.app}` again when it has finished.",
            "replace_original": True,
        }
    ]
    assert slack.mock.calls("chat.postMessage") == []


def test_not_deployed_is_answered_with_its_sentence(slack: Slack) -> None:
    sentence = (
        "the envctl table envctl does not exist in us-east-1 (account 123456789012); "
        "deploy envctl (sam deploy) first"
    )

    def missing(composition: Any, action: Action) -> Run:
        raise NotDeployedError(sentence)

    scripted(slack, missing)
    value = buttons(slack.confirmation(f"start {slack.names.app}"))["env_confirm"]["value"]
    slack.mock.clear()

    slack.click("env_confirm", value)

    answer = last_reply(slack.mock)
    assert (answer["text"], answer["response_type"]) == (sentence, "ephemeral")
    assert slack.mock.calls("chat.postMessage") == []


def test_start_for_a_duration_hands_the_checked_duration_to_the_runtime(slack: Slack) -> None:
    started = arn_of(slack, "start", "x")
    runtime = scripted(slack, lambda c, a: Run(execution_arn=started, action=a))
    value = buttons(slack.confirmation(f"start {slack.names.app} for 1h30m"))["env_confirm"][
        "value"
    ]

    slack.click("env_confirm", value)

    [(_, options)] = runtime.calls
    assert options["duration"] == timedelta(minutes=90)


@pytest.mark.parametrize(("busy", "doing"), [(Action.STOP, "stopping"), (Action.START, "starting")])
def test_a_confirmation_warns_of_the_run_in_progress(
    slack: Slack, busy: Action, doing: str
) -> None:
    # A caller has just reserved the lease for its run: Confirm would join or be refused.
    running = arn_of(slack, busy.value, "cli-20261202T081500")
    lease = Lease(Aws(), slack.settings.core.table_name, slack.names.app)
    assert lease.reserve(execution_arn=running, action=busy, now=datetime.now(UTC)) is None

    answer = slack.confirmation(f"start {slack.names.app}")

    assert (
        f"*{slack.names.app}* is already {doing} (execution `cli-20261202T081500`)."
        in block_texts(answer)
    )


def test_a_lease_left_by_a_run_that_ended_is_no_warning(slack: Slack) -> None:
    # Reserved long ago for an execution that never ran (its caller died): lapsed.
    gone = arn_of(slack, "stop", "cli-20261202T060000")
    lease = Lease(Aws(), slack.settings.core.table_name, slack.names.app)
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    assert lease.reserve(execution_arn=gone, action=Action.STOP, now=long_ago) is None

    answer = slack.confirmation(f"start {slack.names.app}")

    assert f"Start *{slack.names.app}*?" in block_texts(answer)
    assert not any("is already" in text for text in block_texts(answer))


def test_one_start_command_parses_authorizes_and_looks_up_runs_once(
    slack: Slack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One ``/env start``: its text parsed once, access decided once, each run looked up once."""
    import sys

    from bot.slack import access, grammar
    from scheduler_core.runtime import executions as runs

    calls: dict[str, list[tuple[Any, ...]]] = {"parse": [], "authorize": [], "running": []}

    def spy(name: str, original: Callable[..., Any]) -> None:
        def counted(*args: Any, **kwargs: Any) -> Any:
            calls[name].append(args)
            return original(*args, **kwargs)

        for module in list(sys.modules.values()):
            for attribute, value in list(getattr(module, "__dict__", {}).items()):
                if value is original:
                    monkeypatch.setattr(module, attribute, counted)

    spy("parse", grammar.parse_command)
    spy("authorize", access.decide)
    spy("running", runs.in_progress)

    answer = slack.confirmation(f"start {slack.names.app}")

    assert f"Start *{slack.names.app}*?" in block_texts(answer)
    assert len(calls["parse"]) == 1
    assert len(calls["authorize"]) == 1
    # One look-up of the run in progress (start or stop alike) for the warnings.
    assert [args[2] for args in calls["running"]] == [slack.names.app]
