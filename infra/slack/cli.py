"""``envctl slack "/env start staging" [--confirm]``: talk to the app as Slack would.

Sends a slash command signed exactly as Slack signs it, over HTTP, to the Slack
app (``envctl serve`` at ``--url``, or one started in this process), clicks the
first Confirm button when asked, and prints every message the bot answered with.
In-process, a local mock of the Slack Web API records the bot's messages, and the
end of an execution is delivered to the notifier as EventBridge would deliver it.
"""

from __future__ import annotations

import html
import json
import os
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.notifier import notify, outcome_of
from bot.settings import BotSettings
from bot.slack.blocks import plain_text_fallback
from bot.slack_handler import verified
from infra.serve import LocalServer, local_slack_handler
from infra.slack.mock_api import MockSlackApi, RecordedCall
from infra.slack.signing import block_actions_body, signed_headers, slash_command_body
from scheduler_core.actions import Action
from scheduler_core.aws import Aws
from scheduler_core.config import load_config
from scheduler_core.exceptions import BadInputError, OperationFailedError
from scheduler_core.runtime import follow, state_machine_arn
from scheduler_core.runtime.store import Store

LOCAL_TOKEN = "xoxb-local"


@dataclass(frozen=True, kw_only=True)
class SlackSession:
    """Where requests go and how they are signed."""

    url: str
    signing_secret: str
    mock: MockSlackApi


def run_slack(
    text: str,
    *,
    user: str = "U0LOCAL",
    channel: str = "C0LOCAL",
    confirm: bool = False,
    url: str | None = None,
    config_path: str | None = None,
    say: Callable[[str], None] = print,
) -> int:
    """Send one command (and maybe the Confirm click); print the bot's messages."""
    command, _, rest = text.strip().partition(" ")
    if not command.startswith("/"):
        command, rest = "/env", text.strip()
    with MockSlackApi(bot_token=LOCAL_TOKEN) as mock:
        if url is None:
            secret = secrets.token_hex(16)
            settings = _local_settings(mock, secret, config_path)
            handler = verified(local_slack_handler(settings, inline=True), settings)
            server = LocalServer(handler).start()
            try:
                session = SlackSession(url=server.url, signing_secret=secret, mock=mock)
                return _conversation(session, command, rest, user, channel, confirm, settings, say)
            finally:
                server.stop()
        served_secret = os.environ.get("SLACK_SIGNING_SECRET")
        if not served_secret:
            raise BadInputError("--url needs SLACK_SIGNING_SECRET: the secret `envctl serve` uses")
        session = SlackSession(url=url.rstrip("/"), signing_secret=served_secret, mock=mock)
        return _conversation(session, command, rest, user, channel, confirm, None, say)


def _conversation(
    session: SlackSession,
    command: str,
    text: str,
    user: str,
    channel: str,
    confirm: bool,
    settings: BotSettings | None,
    say: Callable[[str], None],
) -> int:
    say(f"» {command} {text}   (as <@{user}> in <#{channel}>)")
    body = slash_command_body(
        command=command,
        text=text,
        user_id=user,
        user_name=user.lower(),
        channel_id=channel,
        response_url=session.mock.response_url("command"),
    )
    acked = _post(session, body)
    if acked:
        say(f"  [ack] {_describe(json.loads(acked))}")
    _print_new(session.mock, 0, say)
    if not confirm:
        return 0
    seen = len(session.mock.calls())
    value = _confirm_value(session.mock)
    if value is None:
        say("  (no Confirm button to click)")
        return 1
    say("» clicks Confirm")
    click = block_actions_body(
        action_id="env_confirm",
        value=value,
        user_id=user,
        user_name=user.lower(),
        channel_id=channel,
        message_ts="1700000000.000001",
        response_url=session.mock.response_url("confirm"),
        is_ephemeral=True,
    )
    _post(session, click)
    seen = _print_new(session.mock, seen, say)
    if settings is not None:
        _deliver_outcome(settings, session.mock, value)
        _print_new(session.mock, seen, say)
    return 0


def _deliver_outcome(settings: BotSettings, mock: MockSlackApi, value: str) -> None:
    """Follow the execution, then hand its end to the notifier as EventBridge would."""
    from slack_sdk import WebClient

    wanted = json.loads(value)
    aws = Aws()
    store = Store(aws, settings.core.table_name)
    machine = state_machine_arn(aws, wanted["c"], Action(wanted["a"]))
    executions = aws.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]
    if not executions:
        return
    execution = max(executions, key=lambda found: found["startDate"])["executionArn"]
    result = follow(aws, execution, poll_seconds=0.2, timeout_seconds=300)
    described = aws.client("stepfunctions").describe_execution(executionArn=execution)
    detail = {
        "executionArn": execution,
        "stateMachineArn": described["stateMachineArn"],
        "name": described["name"],
        "status": result.status,
        "startDate": int(described["startDate"].timestamp() * 1000),
        "stopDate": int(described["stopDate"].timestamp() * 1000),
        "input": described.get("input"),
    }
    outcome = outcome_of(detail, aws.client("stepfunctions").describe_execution)
    if outcome is not None:
        client = WebClient(token=LOCAL_TOKEN, base_url=mock.url)
        notify(outcome, config=load_config(settings.core.config_path), store=store, client=client)


def _post(session: SlackSession, body: str) -> str:
    request = urllib.request.Request(
        f"{session.url}/slack/events",
        data=body.encode("utf-8"),
        headers=signed_headers(body, session.signing_secret),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return str(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise OperationFailedError(f"the Slack app answered HTTP {exc.code}") from exc
    except urllib.error.URLError as exc:
        raise OperationFailedError(
            f"cannot reach the Slack app at {session.url}: {exc.reason}"
        ) from exc


def _print_new(mock: MockSlackApi, seen: int, say: Callable[[str], None]) -> int:
    calls = mock.calls()
    for call in calls[seen:]:
        if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url"):
            say(f"  [{_where(call)}] {_describe(call.body)}")
    return len(calls)


def _where(call: RecordedCall) -> str:
    if call.method == "response_url":
        return "reply, replaces the original" if call.body.get("replace_original") else "reply"
    channel = call.body.get("channel", "")
    if call.method == "chat.postMessage" and call.body.get("thread_ts"):
        return f"reply in its thread in {channel}"
    return {"chat.postMessage": f"message in {channel}", "chat.update": f"update in {channel}"}.get(
        call.method, call.method
    )


def _describe(body: dict[str, Any]) -> str:
    blocks = body.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    text = plain_text_fallback(blocks) if blocks else str(body.get("text", ""))
    buttons = [
        element["text"]["text"]
        for block in blocks or []
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]
    # Slack shows &lt; as <: so does the terminal (the mrkdwn escaping stays in the payload).
    shown = html.unescape(text).replace("\n", " / ")
    return shown + "".join(f"  [{label}]" for label in buttons)


def _confirm_value(mock: MockSlackApi) -> str | None:
    for message in reversed(mock.messages()):
        blocks = message.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        for block in blocks:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == "env_confirm":
                    return str(element["value"])
    return None


def run_heads_up(
    composition: str,
    *,
    user: str = "U0LOCAL",
    config_path: str | None = None,
    say: Callable[[str], None] = print,
) -> int:
    """Deliver the heads-up before the composition's next stop, then click Keep up 1h.

    The pending auto-stop if there is one, else the next scheduled stop. The event is
    handed to the notifier as its schedule would deliver it, at its time (so the
    message says "in 15 min"); the click goes to the Slack app, signed, over HTTP.
    """
    from datetime import UTC, datetime, timedelta

    from slack_sdk import WebClient

    from bot.heads_up import post_heads_up
    from scheduler_core.heads_up import AUTO_STOP, SCHEDULED
    from scheduler_core.holidays import scheduled_time
    from scheduler_core.places import regions_of
    from scheduler_core.runtime.operations import next_scheduled_stop

    with MockSlackApi(bot_token=LOCAL_TOKEN) as mock:
        secret = secrets.token_hex(16)
        settings = _local_settings(mock, secret, config_path)
        config = load_config(settings.core.config_path)
        target = config.get(composition)
        lead, channel = target.notify.heads_up, target.notify.slack_channel
        if not lead or not channel:
            raise BadInputError(
                f"{composition} gets no heads-ups: set notify.slack_channel (and heads_up_minutes)"
            )
        store = Store(Aws(), settings.core.table_name, regions_of(config))
        pending = store.overrides(composition).auto_stop_at
        stop_at = pending or next_scheduled_stop(target, now=datetime.now(UTC))
        if stop_at is None:
            raise BadInputError(f"{composition} has no stop coming to give a heads-up for")
        fired = stop_at - timedelta(minutes=lead)
        if pending:
            detail = {"composition": composition, "kind": AUTO_STOP, "stop_at": pending.isoformat()}
        else:
            detail = {"composition": composition, "kind": SCHEDULED}
            detail["scheduled_time"] = scheduled_time(fired)
        what = "auto-stop" if pending else "scheduled stop"
        say(f"» the heads-up schedule fires, {lead} min before the {what}")
        client = WebClient(token=LOCAL_TOKEN, base_url=mock.url)
        result = post_heads_up(detail, config=config, store=store, client=client, now=fired)
        if not result.get("sent"):
            say(f"  (no heads-up: {result.get('why')})")
            return 0
        seen = _print_new(mock, 0, say)
        [posted] = mock.calls("chat.postMessage")
        value = _button_value(posted.body, "heads_up_keep_1h")
        handler = verified(local_slack_handler(settings, inline=True), settings)
        server = LocalServer(handler).start()
        try:
            session = SlackSession(url=server.url, signing_secret=secret, mock=mock)
            say(f"» <@{user}> clicks Keep up 1h")
            click = block_actions_body(
                action_id="heads_up_keep_1h",
                value=value,
                user_id=user,
                user_name=user.lower(),
                channel_id=channel,
                message_ts=str(posted.response["ts"]),
                response_url=mock.response_url("heads-up"),
            )
            _post(session, click)
            _print_new(mock, seen, say)
        finally:
            server.stop()
    return 0


def _local_settings(mock: MockSlackApi, secret: str, config_path: str | None) -> BotSettings:
    """Settings of a Slack app that talks to ``mock`` and is signed with ``secret``."""
    return BotSettings.from_env(
        {
            **os.environ,
            "SLACK_SIGNING_SECRET": secret,
            "SLACK_BOT_TOKEN": LOCAL_TOKEN,
            "SLACK_API_URL": mock.url,
            **({"ENVCTL_CONFIG": config_path} if config_path else {}),
        }
    )


def _button_value(body: dict[str, Any], action_id: str) -> str:
    blocks = body.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    for block in blocks or []:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise OperationFailedError(f"the message has no {action_id} button")
