"""The heads-up's buttons: Keep up 1h, Keep up 3h and Stop now.

A click works like ``/env extend`` (or ``/env stop``): the composition's access rules
apply, the action (or its refusal) is audited, and the answer goes into the
heads-up's thread so that the channel sees who kept it up or stopped it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from bot.slack import blocks
from bot.slack.actions import (
    ForeignButtonError,
    clicked,
    execution_name,
    foreign,
    post_progress,
    shown,
)
from bot.slack.blocks.heads_up import KEEP_UP, clock, heads_up_blocks
from bot.slack.commands import Request, may_operate, refuse, reply
from bot.slack.services import Services, actor
from scheduler_core.config import Composition
from scheduler_core.exceptions import ConflictError


def parse_heads_up(services: Services, raw: Any) -> tuple[Composition, datetime]:
    """The composition and the stop time a heads-up button carries, checked.

    Raises:
        ForeignButtonError: the value is not one ``heads_up_value`` makes.
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
    if set(value) != {"c", "t"}:
        raise ForeignButtonError(
            f"unexpected fields {sorted(set(value) - {'c', 't'})}", composition=composition
        )
    stamp = value["t"]
    if type(stamp) is not int or not 0 < stamp < 2**33:
        raise ForeignButtonError(f"unexpected stop time {shown(stamp)}", composition=composition)
    return composition, datetime.fromtimestamp(stamp, UTC)


def _heads_up(
    services: Services, body: dict[str, Any], request: Request, *, attempted: str
) -> tuple[Composition, datetime, str | None] | None:
    """The checked heads-up button and its message's ts; None once a refusal is said."""
    try:
        composition, stop_at = parse_heads_up(services, clicked(body).get("value"))
    except ForeignButtonError as exc:
        foreign(services, request, exc, attempted=attempted)
        return None
    message = body.get("message")
    ts = message.get("ts") if isinstance(message, dict) else None
    return composition, stop_at, ts if isinstance(ts, str) else None


def _in_thread(request: Request, ts: str | None, text: str) -> None:
    """Answer in the heads-up's thread (everyone in the channel sees who did what)."""
    if ts is None:
        reply(request, text)
        return
    request.client.chat_postMessage(channel=request.channel_id, thread_ts=ts, text=text)


def heads_up_keep(services: Services, body: dict[str, Any], request: Request) -> None:
    """Keep up 1h / 3h: extend as ``/env extend`` does, answered in the thread."""
    hours = KEEP_UP.get(str(clicked(body).get("action_id")), 1)
    checked = _heads_up(services, body, request, attempted="extend")
    if checked is None:
        return
    composition, stop_at, ts = checked
    if not may_operate(services, request, composition, action="extend"):
        return
    if request.now >= stop_at:
        refuse(
            services,
            request,
            composition=composition.name,
            action="extend",
            why=f"heads-up button clicked after its stop at {stop_at.isoformat()}",
            text=(
                f"*{composition.name}* was due to stop at {clock(stop_at, composition.zone)}, "
                f"before this click; nothing was done. `/env start {composition.name}` "
                "starts it again."
            ),
        )
        return
    moved = services.runtime.extend(
        composition,
        timedelta(hours=hours),
        actor=actor(request.user_id, request.user_name),
        now=request.now,
    )
    until = blocks.local_time(moved, composition.zone)
    _in_thread(
        request,
        ts,
        f"<@{request.user_id}> kept *{composition.name}* up {hours}h: it now stops at {until}.",
    )
    if ts is not None:
        minutes = max(0, int((moved - request.now).total_seconds() // 60))
        message = heads_up_blocks(
            composition=composition.name,
            stop_at=moved,
            zone=composition.zone,
            minutes=minutes,
            protected=bool(composition.access and composition.access.protected),
            note=f"Kept up {hours}h by {request.user_name or request.user_id}",
        )
        request.client.chat_update(
            channel=request.channel_id,
            ts=ts,
            text=blocks.plain_text_fallback(message),
            blocks=message,
        )


def heads_up_stop(services: Services, body: dict[str, Any], request: Request) -> None:
    """Stop now: start the stop (Slack asked protected ones in a dialog), in the thread."""
    checked = _heads_up(services, body, request, attempted="stop")
    if checked is None:
        return
    composition, _, ts = checked
    if not may_operate(services, request, composition, action="stop"):
        return
    try:
        run = services.runtime.stop(
            composition,
            actor=actor(request.user_id, request.user_name),
            now=request.now,
            execution_name=execution_name(body),
        )
    except ConflictError as exc:
        busy = exc.execution_arn.rsplit(":", 1)[-1]
        _in_thread(
            request,
            ts,
            f"⚠️ *{composition.name}* is starting right now (execution `{blocks.escape(busy)}`), "
            f"so nothing was stopped; run `/env stop {composition.name}` when it has finished.",
        )
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise
        return  # the same click delivered again after its stop ended: done once
    if services.runtime.store.message_ref(run.execution_arn) is None:
        post_progress(services, composition, "stop", run, request, thread_ts=ts)
