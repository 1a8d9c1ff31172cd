"""Buttons: Confirm/Cancel on confirmations, Stop/Extend on results, App Home buttons."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError

from bot.slack import blocks
from bot.slack.commands import Request, ask_confirmation, reply
from bot.slack.services import Services, actor
from scheduler_core.config import Composition
from scheduler_core.exceptions import BadInputError
from scheduler_core.resources import Action
from scheduler_core.runtime import running_execution
from scheduler_core.runtime.operations import Actor

IN_PROGRESS = {"start": ("running", "starting"), "stop": ("stopped", "stopping")}


def parse_value(raw: str) -> dict[str, Any]:
    """The Confirm button's value; anything else is refused, never trusted blindly."""
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise BadInputError("this button is not one envctl made") from exc
    if not isinstance(value, dict) or value.get("a") not in ("start", "stop"):
        raise BadInputError("this button is not one envctl made")
    return value


def execution_name(body: dict[str, Any]) -> str:
    """Named after the click, so a retried request finds the same execution."""
    action_ts = str(body.get("actions", [{}])[0].get("action_ts", ""))
    user = str(body.get("user", {}).get("id", ""))
    return re.sub(r"[^A-Za-z0-9_-]", "", f"slack-{user}-{action_ts}")[:80]


def confirm(services: Services, body: dict[str, Any], request: Request) -> None:
    value = parse_value(body["actions"][0]["value"])
    composition = services.config.get(value["c"])
    action = value["a"]
    decision = services.authorize(
        composition, user_id=request.user_id, channel_id=request.channel_id, client=request.client
    )
    if not decision.allowed:
        request.respond(
            text=f"You may not operate *{composition.name}* here: {decision.reason}.",
            replace_original=True,
        )
        return
    record = services.runtime.store.state(composition.name)
    current = record.state if record else "unknown"
    busy = running_execution(services.aws, composition.name, Action(action))
    if current != value.get("s") and (current in IN_PROGRESS[action] or busy):
        # The composition changed since the confirmation was shown: say so, do nothing.
        request.respond(
            text=f"*{composition.name}* is {current} now; nothing was done.",
            replace_original=True,
        )
        return
    who = actor(request.user_id, request.user_name)
    name = execution_name(body)
    try:
        execution = _run(services, composition, action, value, who=who, name=name, request=request)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise
        # The same click delivered again after its run ended: it was done once, that is all.
        request.respond(
            text=f"This was already done; *{composition.name}* is {current} now.",
            replace_original=True,
        )
        return
    request.respond(
        text=f"{action.capitalize()} of *{composition.name}* requested.", replace_original=True
    )
    posted = request.client.chat_postMessage(
        channel=request.channel_id,
        text=f"<@{request.user_id}> is {action}ing *{composition.name}*",
        blocks=blocks.progress_blocks(
            user_id=request.user_id, composition=composition.name, action=action
        ),
    )
    services.runtime.store.put_message_ref(
        execution, channel=posted["channel"], ts=posted["ts"], user_id=request.user_id
    )


def _run(
    services: Services,
    composition: Composition,
    action: str,
    value: dict[str, Any],
    *,
    who: Actor,
    name: str,
    request: Request,
) -> str:
    if action == "start":
        seconds = value.get("d")
        started = services.runtime.start(
            composition,
            actor=who,
            duration=timedelta(seconds=seconds) if seconds else None,
            now=request.now,
            execution_name=name,
        )
        return started.execution_arn
    stopped = services.runtime.stop(composition, actor=who, now=request.now, execution_name=name)
    return stopped.execution_arn


def cancel(services: Services, body: dict[str, Any], request: Request) -> None:
    request.respond(text="Cancelled; nothing was done.", replace_original=True)


def stop_button(services: Services, body: dict[str, Any], request: Request) -> None:
    value = parse_value(body["actions"][0]["value"])
    composition = services.config.get(value["c"])
    ask_confirmation(services, composition, "stop", request, duration=None)


def extend_button(services: Services, body: dict[str, Any], request: Request) -> None:
    value = parse_value(body["actions"][0]["value"])
    composition = services.config.get(value["c"])
    decision = services.authorize(
        composition, user_id=request.user_id, channel_id=request.channel_id, client=request.client
    )
    if not decision.allowed:
        reply(request, f"You may not operate *{composition.name}* here: {decision.reason}.")
        return
    moved = services.runtime.extend(
        composition,
        timedelta(hours=1),
        actor=actor(request.user_id, request.user_name),
        now=request.now,
    )
    reply(
        request, f"*{composition.name}* now stops at {blocks.local_time(moved, composition.zone)}."
    )


def home_button(services: Services, body: dict[str, Any], request: Request) -> None:
    """From App Home there is no channel: the confirmation goes to a DM with the user."""
    action = "start" if body["actions"][0]["action_id"] == "home_start" else "stop"
    composition = services.config.get(body["actions"][0]["value"])
    dm = request.client.conversations_open(users=request.user_id)["channel"]["id"]

    def respond_in_dm(**message: Any) -> None:
        message.pop("response_type", None)
        message.pop("replace_original", None)
        request.client.chat_postMessage(channel=dm, **message)

    in_dm = Request(
        user_id=request.user_id,
        user_name=request.user_name,
        channel_id=dm,
        respond=respond_in_dm,
        client=request.client,
        now=request.now,
    )
    ask_confirmation(services, composition, action, in_dm, duration=None)
