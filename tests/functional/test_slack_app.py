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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import yaml

from bot import notifier
from bot.settings import BotSettings
from bot.slack_handler import verified
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
    signed_headers,
    slash_command_body,
)
from scheduler_core.aws import Aws
from scheduler_core.cli.main import main as envctl
from scheduler_core.runtime import follow
from tests.functional import moto_resources

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
    assert "*start* by alice (U1) via slack" in text


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
