"""Buttons: Confirm/Cancel on confirmations, Stop/Extend on results, App Home buttons.

A button's value comes back from Slack with the click. Only requests signed with the
signing secret get here, yet the values are read as if typed by the user: the
composition must exist, the action be start or stop, a duration whole seconds within
(0, MAX_DURATION] and the state one envctl records. Anything else is refused (and
audited when it names a composition) with a sentence saying to use a fresh button.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError

from bot.slack import blocks
from bot.slack.commands import Request, ask_confirmation, may_operate, refuse, reply
from bot.slack.services import Services, actor
from scheduler_core.config import Composition
from scheduler_core.durations import MAX_DURATION
from scheduler_core.exceptions import ConflictError
from scheduler_core.runtime.operations import Actor, Run

logger = logging.getLogger(__name__)

IN_PROGRESS = {"start": ("running", "starting"), "stop": ("stopped", "stopping")}
DOING = {"start": "starting", "stop": "stopping"}
DONE = {"start": "started", "stop": "stopped"}
OPPOSITE = {"start": "stop", "stop": "start"}
# The states envctl records (and shows): a confirmation carries the one it was shown in.
KNOWN_STATES = frozenset(blocks.STATE_EMOJI)
VALUE_KEYS = frozenset({"c", "a", "s", "d"})
MAX_SECONDS = int(MAX_DURATION.total_seconds())
NOT_OURS = (
    "This button is not one envctl made, so nothing was done; "
    "run the /env command again for a fresh one."
)


class ForeignButtonError(Exception):
    """A button value envctl would not have made; ``composition`` if it names a real one."""

    def __init__(self, why: str, *, composition: Composition | None = None) -> None:
        self.why = why
        self.composition = composition
        super().__init__(why)


@dataclass(frozen=True, kw_only=True)
class ButtonValue:
    """A checked confirmation value: what to do, to what, and what the user saw."""

    composition: Composition
    action: str
    seen: str
    duration: timedelta | None = None


def parse_value(services: Services, raw: Any, *, action: str | None = None) -> ButtonValue:
    """The value of a Confirm, Cancel, Stop or Extend button, checked field by field.

    Args:
        services: For the compositions of the config.
        raw: The button's value as Slack sent it back.
        action: The action the button must carry (Stop and Extend: "stop"); None: either.

    Raises:
        ForeignButtonError: the value is not one ``confirmation_value`` makes.
    """
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except (ValueError, RecursionError) as exc:
        raise ForeignButtonError("the value is not JSON") from exc
    if not isinstance(value, dict):
        raise ForeignButtonError("the value is not a JSON object")
    name = value.get("c")
    composition = services.config.compositions.get(name) if isinstance(name, str) else None
    if composition is None:
        raise ForeignButtonError("the value names no known composition")

    def refuse(why: str) -> ForeignButtonError:
        return ForeignButtonError(why, composition=composition)

    if set(value) - VALUE_KEYS:
        raise refuse(f"unexpected fields {sorted(set(value) - VALUE_KEYS)}")
    kind = value.get("a")
    if kind not in IN_PROGRESS or (action is not None and kind != action):
        raise refuse(f"unexpected action {shown(kind)}")
    seen = value.get("s")
    if seen not in KNOWN_STATES:
        raise refuse(f"unexpected state {shown(seen)}")
    seconds = value.get("d")
    if seconds is None:
        return ButtonValue(composition=composition, action=kind, seen=seen)
    # bool is an int in Python; true/false are no durations.
    if kind != "start" or type(seconds) is not int or not 0 < seconds <= MAX_SECONDS:
        raise refuse(f"unexpected duration {shown(seconds)}")
    return ButtonValue(
        composition=composition, action=kind, seen=seen, duration=timedelta(seconds=seconds)
    )


def shown(value: Any) -> str:
    """A tampered value for the audit detail: JSON, cut short."""
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _checked(
    services: Services,
    body: dict[str, Any],
    request: Request,
    *,
    attempted: str,
    action: str | None = None,
) -> ButtonValue | None:
    """The clicked button's checked value, or None once the refusal is audited and said."""
    raw = clicked(body).get("value")
    try:
        return parse_value(services, raw, action=action)
    except ForeignButtonError as exc:
        foreign(services, request, exc, attempted=attempted)
        return None


def foreign(
    services: Services, request: Request, exc: ForeignButtonError, *, attempted: str
) -> None:
    if exc.composition is None:
        # No composition to file the audit entry under: the log keeps who tried.
        logger.warning("refused a button from %s: %s", request.user_id, exc.why)
        reply(request, NOT_OURS)
        return
    refuse(
        services,
        request,
        composition=exc.composition.name,
        action=attempted,
        why=f"button not made by envctl: {exc.why}",
        text=NOT_OURS,
    )


def clicked(body: dict[str, Any]) -> dict[str, Any]:
    found = body.get("actions")
    first = found[0] if isinstance(found, list) and found else None
    return first if isinstance(first, dict) else {}


def execution_name(body: dict[str, Any]) -> str:
    """Named after the click, so a retried request finds the same execution."""
    action_ts = str(clicked(body).get("action_ts", ""))
    user = body.get("user")
    user_id = str(user.get("id", "")) if isinstance(user, dict) else ""
    return re.sub(r"[^A-Za-z0-9_-]", "", f"slack-{user_id}-{action_ts}")[:80]


def _attempted(body: dict[str, Any]) -> str:
    """The action a Confirm click asks for, for the audit of a refused one."""
    try:
        value = json.loads(str(clicked(body).get("value")))
    except (ValueError, RecursionError):
        return "click"
    kind = value.get("a") if isinstance(value, dict) else None
    return kind if kind in IN_PROGRESS else "click"


def confirm(services: Services, body: dict[str, Any], request: Request) -> None:
    button = _checked(services, body, request, attempted=_attempted(body))
    if button is None:
        return
    composition, action = button.composition, button.action
    if not may_operate(services, request, composition, action=action, replace_original=True):
        return
    record = services.runtime.store.state(composition.name)
    current = record.state if record else "unknown"
    if current != button.seen and current in IN_PROGRESS[action]:
        # The composition changed since the confirmation was shown: say so, do nothing.
        refuse(
            services,
            request,
            composition=composition.name,
            action=action,
            why=f"stale button: shown when {button.seen}, {current} by the click",
            text=f"*{composition.name}* is {current} now; nothing was done.",
            replace_original=True,
        )
        return
    # No check for a run in progress here: the runtime answers that atomically (joined,
    # or ConflictError for the opposite action, which it audits itself).
    try:
        run = _run(
            services,
            button,
            who=actor(request.user_id, request.user_name),
            body=body,
            request=request,
        )
    except ConflictError as exc:
        busy = exc.execution_arn.rsplit(":", 1)[-1]
        request.respond(
            text=(
                f"⚠️ *{composition.name}* is {DOING[OPPOSITE[action]]} right now "
                f"(execution `{blocks.escape(busy)}`), so nothing was {DONE[action]}; "
                f"run `/env {action} {composition.name}` again when it has finished."
            ),
            replace_original=True,
        )
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise
        # The same click delivered again after its run ended: it was done once, that is all.
        request.respond(
            text=f"This was already done; *{composition.name}* is {current} now.",
            replace_original=True,
        )
        return
    # A re-delivered click gets the same execution back, a join gets someone else's run:
    # if a message already reports on it, that one shows the result, no second one.
    ref = services.runtime.store.message_ref(run.execution_arn)
    if not run.joined and ref is not None:
        # The same click delivered again (the execution is named after it).
        text = f"This was already done; *{composition.name}* is {current} now."
    elif not run.joined:
        text = f"{action.capitalize()} of *{composition.name}* requested."
    elif ref is not None:
        text = (
            f"*{composition.name}* is already {DOING[action]}; "
            f"its message in <#{ref.channel}> will show the result."
        )
    else:
        text = (
            f"*{composition.name}* is already {DOING[action]}; "
            "the message below will show the result."
        )
    request.respond(text=text, replace_original=True)
    if ref is None:
        post_progress(services, composition, action, run, request)


def post_progress(
    services: Services,
    composition: Composition,
    action: str,
    run: Run,
    request: Request,
    *,
    thread_ts: str | None = None,
) -> None:
    """The channel message the notifier updates with the result (in a thread if given)."""
    posted = request.client.chat_postMessage(
        channel=request.channel_id,
        **({"thread_ts": thread_ts} if thread_ts else {}),
        text=(
            f"*{composition.name}* is already {DOING[action]}"
            if run.joined
            else f"<@{request.user_id}> is {DOING[action]} *{composition.name}*"
        ),
        blocks=blocks.progress_blocks(
            user_id=request.user_id,
            composition=composition.name,
            action=action,
            joined=run.joined,
        ),
    )
    services.runtime.store.put_message_ref(
        run.execution_arn, channel=posted["channel"], ts=posted["ts"], user_id=request.user_id
    )


def _run(
    services: Services, button: ButtonValue, *, who: Actor, body: dict[str, Any], request: Request
) -> Run:
    name = execution_name(body)
    if button.action == "start":
        return services.runtime.start(
            button.composition,
            actor=who,
            duration=button.duration,
            now=request.now,
            execution_name=name,
        )
    return services.runtime.stop(
        button.composition, actor=who, now=request.now, execution_name=name
    )


def cancel(services: Services, body: dict[str, Any], request: Request) -> None:
    # Cancel acts on nothing, whatever its value says: there is nothing to check.
    request.respond(text="Cancelled; nothing was done.", replace_original=True)


def stop_button(services: Services, body: dict[str, Any], request: Request) -> None:
    button = _checked(services, body, request, attempted="stop", action="stop")
    if button is not None:
        ask_confirmation(services, button.composition, "stop", request, duration=None)


def extend_button(services: Services, body: dict[str, Any], request: Request) -> None:
    button = _checked(services, body, request, attempted="extend", action="stop")
    if button is None:
        return
    composition = button.composition
    if not may_operate(services, request, composition, action="extend"):
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
    """From App Home there is no channel: answers go to a DM with the user."""
    pressed = clicked(body)
    action = "start" if pressed.get("action_id") == "home_start" else "stop"
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
    name = pressed.get("value")
    composition = services.config.compositions.get(name) if isinstance(name, str) else None
    if composition is None:
        foreign(services, in_dm, ForeignButtonError("no known composition"), attempted=action)
        return
    # The App Home has no channel: a composition limited to channels is refused here,
    # as its Confirm in the DM would be.
    if not may_operate(services, request, composition, action=action, answer=in_dm):
        return
    ask_confirmation(services, composition, action, in_dm, duration=None)
