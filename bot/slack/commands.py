"""The work behind each ``/env`` command (runs in a lazy listener, after the ack)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.slack import blocks
from bot.slack.access import Decision
from bot.slack.grammar import SKIP_TARGETS, Command, Verb, help_text
from bot.slack.services import Services, actor, next_run
from bot.slack.warnings import confirmation_warnings
from scheduler_core.actions import Action
from scheduler_core.config import Composition
from scheduler_core.config.models import ON_DEMAND
from scheduler_core.cron.words import describe_cron
from scheduler_core.durations import format_duration
from scheduler_core.holidays import scheduled_time
from scheduler_core.schedule_view import read_schedule, read_windows
from scheduler_core.upcoming import UpcomingRun, next_runs
from scheduler_core.week_text import grid_lines, legend_lines, window_lines
from scheduler_core.windows import analyse_windows, collect_windows


@dataclass(frozen=True, kw_only=True)
class Request:
    """Who asked, where, and how to answer."""

    user_id: str
    user_name: str | None
    channel_id: str
    respond: Callable[..., Any]
    client: Any
    now: datetime


def reply(request: Request, text: str, blocks_: list[dict[str, Any]] | None = None) -> None:
    """An ephemeral answer through the response_url."""
    request.respond(text=text, blocks=blocks_, response_type="ephemeral", replace_original=False)


def refuse(
    services: Services,
    request: Request,
    *,
    composition: str,
    action: str,
    why: str,
    text: str,
    replace_original: bool = False,
) -> None:
    """Audit a refusal like an action (who, what, when, via) and tell the user ``text``.

    Every path that declines to act goes through here, so none can forget the audit.
    ``replace_original`` swaps the clicked message (a confirmation) for ``text``.
    """
    services.runtime.refused(
        composition,
        action=action,
        actor=actor(request.user_id, request.user_name),
        why=why,
        now=request.now,
    )
    if replace_original:
        request.respond(text=text, replace_original=True)
    else:
        reply(request, text)


def not_allowed(composition: Composition, decision: Decision) -> str:
    return f"You may not operate *{composition.name}* here: {decision.reason}."


def may_operate(
    services: Services,
    request: Request,
    composition: Composition,
    *,
    action: str,
    answer: Request | None = None,
    replace_original: bool = False,
) -> bool:
    """Whether the requester may operate ``composition`` from where they asked.

    If not, the refusal is audited and said to ``answer`` (default: the request).
    """
    decision = services.authorize(
        composition, user_id=request.user_id, channel_id=request.channel_id, client=request.client
    )
    if not decision.allowed:
        refuse(
            services,
            answer or request,
            composition=composition.name,
            action=action,
            why=decision.reason,
            text=not_allowed(composition, decision),
            replace_original=replace_original,
        )
    return decision.allowed


def run(services: Services, command: Command, request: Request) -> None:
    composition = services.config.get(command.composition) if command.composition else None
    if (
        composition is not None
        and command.verb in GUARDED
        and not may_operate(services, request, composition, action=str(command.verb))
    ):
        return
    HANDLERS[command.verb](services, command, composition, request)


def _help(services: Services, command: Command, _: Composition | None, request: Request) -> None:
    reply(request, help_text(), blocks.help_blocks())


def _list(services: Services, command: Command, _: Composition | None, request: Request) -> None:
    rows = [
        row(services, composition, now=request.now)
        for composition in services.config.compositions.values()
    ]
    reply(request, f"{len(rows)} compositions", blocks.list_blocks(rows))


def row(services: Services, composition: Composition, *, now: datetime) -> blocks.CompositionRow:
    """One composition for the list and the App Home: two reads, and one Query if scheduled."""
    store = services.runtime.store
    record = store.state(composition.name)
    overrides = store.overrides(composition.name)
    skipped = (
        store.skipped_starts(composition.name, after=scheduled_time(now))
        if composition.start_resources_at != ON_DEMAND
        else {}
    )
    upcoming = next_runs(composition, now=now, overrides=overrides, skipped_starts=skipped)
    start, stop = upcoming.get(Action.START), upcoming.get(Action.STOP)
    return blocks.CompositionRow(
        name=composition.name,
        description=composition.description,
        state=record.state if record else "unknown",
        zone=composition.zone,
        next_start=start.at if start else None,
        next_stop=stop.at if stop else None,
        auto_stop_at=overrides.auto_stop_at,
        next_start_reason=start.reason if start else None,
        next_stop_reason=stop.reason if stop else None,
    )


def _status(
    services: Services, command: Command, composition: Composition | None, request: Request
) -> None:
    assert composition is not None
    status = services.runtime.status(composition)
    last = services.runtime.store.state(composition.name)
    reply(
        request,
        f"{composition.name}: {status.state}",
        blocks.status_blocks(status, zone=composition.zone, last_run=last),
    )


def confirmation_value(
    composition: str, action: str, *, duration: timedelta | None, seen: str
) -> str:
    """What the Confirm button carries: enough to act, and the state it was shown in."""
    value: dict[str, Any] = {"c": composition, "a": action, "s": seen}
    if duration is not None:
        # Whole seconds, rounded up: "until" a minute away must not become 0 (no duration).
        value["d"] = math.ceil(duration.total_seconds())
    return json.dumps(value, separators=(",", ":"))


def ask_confirmation(
    services: Services,
    composition: Composition,
    action: str,
    request: Request,
    *,
    duration: timedelta | None,
) -> None:
    record = services.runtime.store.state(composition.name)
    seen = record.state if record else "unknown"
    duration = duration if action == "start" else None
    if action == "start" and duration is None:
        duration = composition.auto_stop_after
    detail = f"It stops again after {format_duration(duration)}." if duration else ""
    warnings = confirmation_warnings(services, composition, action, now=request.now)
    reply(
        request,
        f"{action.capitalize()} {composition.name}?",
        blocks.confirmation_blocks(
            composition=composition.name,
            action=action,
            detail=detail,
            warnings=warnings,
            protected=bool(composition.access and composition.access.protected),
            value=confirmation_value(composition.name, action, duration=duration, seen=seen),
        ),
    )


def _start(
    services: Services, command: Command, composition: Composition | None, request: Request
) -> None:
    assert composition is not None
    duration = command.duration
    if command.until is not None:
        duration = command.until.astimezone(UTC) - request.now
    ask_confirmation(services, composition, "start", request, duration=duration)


def _stop(
    services: Services, command: Command, composition: Composition | None, request: Request
) -> None:
    assert composition is not None
    ask_confirmation(services, composition, "stop", request, duration=None)


def _extend(
    services: Services, command: Command, composition: Composition | None, request: Request
) -> None:
    assert composition is not None and command.duration is not None
    moved = services.runtime.extend(
        composition,
        command.duration,
        actor=actor(request.user_id, request.user_name),
        now=request.now,
    )
    reply(
        request, f"*{composition.name}* now stops at {blocks.local_time(moved, composition.zone)}."
    )


def _skip(
    services: Services, command: Command, composition: Composition | None, request: Request
) -> None:
    assert composition is not None
    if command.which and command.which not in SKIP_TARGETS:
        starts = services.runtime.skip_dates(
            composition,
            command.which,
            actor=actor(request.user_id, request.user_name),
            now=request.now,
        )
        if not starts:
            reply(request, f"No scheduled start of *{composition.name}* falls on {command.which}.")
            return
        listed = ", ".join(blocks.local_time(start.utc, composition.zone) for start in starts)
        reply(request, f"These scheduled starts of *{composition.name}* will do nothing: {listed}.")
        return
    which = command.which or _next_scheduled(composition, request.now)
    services.runtime.skip(
        composition, which, actor=actor(request.user_id, request.user_name), now=request.now
    )
    action = which.removeprefix("next-")
    when = next_run(composition, action, now=request.now)
    shown = f" ({blocks.local_time(when, composition.zone)})" if when else ""
    reply(request, f"The next scheduled {action} of *{composition.name}*{shown} will be skipped.")


def _next_scheduled(composition: Composition, now: datetime) -> str:
    """Without next-start/next-stop, skip whichever scheduled run comes first."""
    start, stop = next_run(composition, "start", now=now), next_run(composition, "stop", now=now)
    if start and (stop is None or start <= stop):
        return "next-start"
    return "next-stop"


def _pause(
    services: Services, command: Command, composition: Composition | None, request: Request
) -> None:
    assert composition is not None
    paused = command.verb is Verb.PAUSE
    services.runtime.set_paused(
        composition, paused, actor=actor(request.user_id, request.user_name), now=request.now
    )
    word = "paused" if paused else "resumed"
    reply(request, f"Scheduled runs of *{composition.name}* {word}.")


def _schedule(
    services: Services, command: Command, composition: Composition | None, request: Request
) -> None:
    assert composition is not None
    facts = read_schedule(services.runtime, composition, now=request.now)
    lines = []
    for action in ("start", "stop"):
        expression = (
            composition.start_resources_at if action == "start" else composition.stop_resources_at
        )
        when = next_run(composition, action, now=request.now)
        line = f"*{action}*: {describe_cron(expression)}"
        if when:
            line += f" — next {blocks.local_time(when, composition.zone)}"
        lines.append(line)
    if facts.auto_stop_at:
        lines.append(
            f"*auto-stop* pending at {blocks.local_time(facts.auto_stop_at, composition.zone)}"
        )
    lines.extend(_not_running(facts.runs, composition))
    windows, unread = read_windows(services.aws, composition, now=request.now)
    week = facts.week(windows, windows_unread=unread)
    reply(
        request,
        f"Schedule of {composition.name}",
        blocks.schedule_blocks(
            composition=composition.name,
            zone=composition.zone,
            lines=lines,
            week=[*grid_lines(week), "", *legend_lines(week)],
            week_notes=window_lines(week),
        ),
    )


def _not_running(runs: list[UpcomingRun], composition: Composition) -> list[str]:
    """The scheduled runs of the next 7 days that will do nothing, and why."""
    return [
        f"*{run.action.value}* {blocks.local_time(run.at, composition.zone)} does nothing "
        f"({run.reason})"
        for run in runs
        if not run.runs
    ]


def _windows(
    services: Services, command: Command, composition: Composition | None, request: Request
) -> None:
    assert composition is not None
    analyses = analyse_windows(
        composition, collect_windows(services.aws, composition), now=request.now
    )
    reply(
        request, f"Windows of {composition.name}", blocks.windows_blocks(composition.name, analyses)
    )


def _history(
    services: Services, command: Command, composition: Composition | None, request: Request
) -> None:
    assert composition is not None
    entries = services.runtime.store.history(composition.name)
    reply(
        request,
        f"History of {composition.name}",
        blocks.history_blocks(composition.name, entries, zone=composition.zone),
    )


GUARDED = frozenset({Verb.START, Verb.STOP, Verb.EXTEND, Verb.SKIP, Verb.PAUSE, Verb.RESUME})
HANDLERS: dict[Verb, Callable[[Services, Command, Composition | None, Request], None]] = {
    Verb.HELP: _help,
    Verb.LIST: _list,
    Verb.STATUS: _status,
    Verb.START: _start,
    Verb.STOP: _stop,
    Verb.EXTEND: _extend,
    Verb.SKIP: _skip,
    Verb.PAUSE: _pause,
    Verb.RESUME: _pause,
    Verb.SCHEDULE: _schedule,
    Verb.WINDOWS: _windows,
    Verb.HISTORY: _history,
}
