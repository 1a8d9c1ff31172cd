"""Read-only views: the composition list, the App Home, help, status, schedule, history."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.slack.blocks.kit import (
    ELLIPSIS,
    MAX_DESCRIPTION,
    MAX_HOME_BLOCKS,
    MAX_MESSAGE_BLOCKS,
    STATE_EMOJI,
    Block,
    actions,
    bold,
    button,
    code,
    code_block,
    context,
    error_code,
    escape,
    header,
    local_time,
    mention,
    packed,
    section,
    state_label,
    truncate,
)
from bot.slack.grammar import help_text
from scheduler_core.text import printable

if TYPE_CHECKING:
    from scheduler_core.runtime.status import CompositionStatus
    from scheduler_core.runtime.store import AuditEntry, StateRecord


# --- compositions: list and App Home ---------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CompositionRow:
    """One composition as the list and the App Home show it (times aware, any zone)."""

    name: str
    description: str
    state: str
    zone: ZoneInfo
    next_start: datetime | None
    next_stop: datetime | None
    auto_stop_at: datetime | None = None
    # Why the next scheduled start/stop does nothing ("holiday", "skip", "extended"...).
    next_start_reason: str | None = None
    next_stop_reason: str | None = None


_SKIPPED = {"holiday": "skipped (holiday)", "skip": "skipped", "paused": "paused"}


def _row_text(row: CompositionRow) -> str:
    def when(moment: datetime | None, reason: str | None) -> str:
        if moment is None:
            return "none scheduled"
        shown = local_time(moment, row.zone)
        if reason == "extended":
            return f"{shown} — {_extended_to(moment, row.auto_stop_at, row.zone)}"
        if reason is not None:
            return f"{shown} — {_SKIPPED.get(reason, escape(reason))}"
        return shown

    lines = [f"{bold(row.name)} · {state_label(row.state)}"]
    if row.description:
        lines.append(escape(truncate(row.description, MAX_DESCRIPTION)))
    lines.append(f"Next start: {when(row.next_start, row.next_start_reason)}")
    lines.append(f"Next stop: {when(row.next_stop, row.next_stop_reason)}")
    if row.auto_stop_at is not None and row.next_stop_reason != "extended":
        lines.append(f"Auto-stop: {local_time(row.auto_stop_at, row.zone)}")
    return "\n".join(lines)


def _extended_to(stop: datetime, moved: datetime | None, zone: ZoneInfo) -> str:
    """``extended to 21:00``, with the day when the new stop falls on another one."""
    if moved is None:
        return "extended"
    if moved.astimezone(zone).date() == stop.astimezone(zone).date():
        return f"extended to {moved.astimezone(zone):%H:%M}"
    return f"extended to {local_time(moved, zone)}"


def _rows_shown(count: int, *, room: int, per_row: int) -> int:
    """How many rows fit in ``room`` blocks, keeping one for "and N more" if needed."""
    return count if count * per_row <= room else (room - 1) // per_row


def list_blocks(rows: list[CompositionRow]) -> list[Block]:
    """``/env list``: every composition, its state and next scheduled start/stop."""
    blocks = [header(f"Compositions ({len(rows)})")]
    if not rows:
        return [*blocks, section("No compositions are configured.")]
    shown = _rows_shown(len(rows), room=MAX_MESSAGE_BLOCKS - 1, per_row=1)
    blocks += [section(_row_text(row), block_id=f"list:{row.name}") for row in rows[:shown]]
    if shown < len(rows):
        blocks.append(
            context(f"{ELLIPSIS}and {len(rows) - shown} more: {code('/env status <name>')}")
        )
    return blocks


def home_view(rows: list[CompositionRow], *, user_id: str) -> dict[str, Any]:
    """The App Home tab: every composition with its state, schedule and Start/Stop."""
    blocks = [
        header("Environments"),
        context(f"Hi {mention(user_id)} · type `/env help` for every command"),
    ]
    if not rows:
        blocks.append(section("No compositions are configured."))
        return {"type": "home", "blocks": blocks}
    shown = _rows_shown(len(rows), room=MAX_HOME_BLOCKS - len(blocks), per_row=2)
    for row in rows[:shown]:
        blocks.append(section(_row_text(row), block_id=f"home:{row.name}"))
        blocks.append(
            actions(
                f"home_actions:{row.name}",
                button("Start", action_id="home_start", value=row.name),
                button("Stop", action_id="home_stop", value=row.name),
            )
        )
    if shown < len(rows):
        blocks.append(context(f"{ELLIPSIS}and {len(rows) - shown} more: `/env list`"))
    return {"type": "home", "blocks": blocks}


# --- one composition -------------------------------------------------------------------


def help_blocks() -> list[Block]:
    """``/env help``: every usage line (code) and what it does."""
    lines = []
    for line in help_text().splitlines():
        usage, dash, description = line.partition(" — ")
        lines.append(f"{code(usage)} — {escape(description)}" if dash else escape(line))
    return [header("/env commands"), *packed(lines, max_blocks=10, noun="commands")]


def _last_run(record: StateRecord, zone: ZoneInfo) -> list[Block]:
    try:
        moment = datetime.fromisoformat(record.updated_at)
        when = local_time(moment if moment.tzinfo else moment.replace(tzinfo=UTC), zone)
    except ValueError:
        when = escape(record.updated_at)
    parts = [f"Last run: {state_label(record.state)}"]
    if record.trigger:
        parts.append(f"via {escape(record.trigger)}")
    if when:
        parts.append(when)
    blocks = [context(" · ".join(parts))]
    error = error_code(record.error)
    if record.cause:
        blocks.append(section(code_block(f"{error}\n" if error else "", record.cause)))
    elif error:
        blocks.append(section(error))
    return blocks


def status_blocks(
    status: CompositionStatus, *, zone: ZoneInfo, last_run: StateRecord | None
) -> list[Block]:
    """``/env status``: the composition's state, each resource, and the last run."""
    title = f"{bold(status.composition)} · {state_label(str(status.state))}"
    if status.execution_arn:
        title += "\nA run is in progress."
    tail = _last_run(last_run, zone) if last_run is not None else []
    lines = []
    for resource in status.resources:
        detail = f"{resource.type}: {resource.detail}" if resource.detail else resource.type
        lines.append(
            f"{STATE_EMOJI.get(str(resource.state), STATE_EMOJI['unknown'])} "
            f"{bold(resource.id)} — {escape(str(resource.state))} ({escape(detail)})"
        )
    room = MAX_MESSAGE_BLOCKS - 1 - len(tail)
    empty = [context("No resources with a live state.")]
    body = packed(lines, max_blocks=room, noun="resources") if lines else empty
    return [section(title), *body, *tail]


def schedule_blocks(
    *,
    composition: str,
    zone: ZoneInfo,
    lines: list[str],
    week: list[str] | None = None,
    week_notes: list[str] | None = None,
) -> list[Block]:
    """``/env schedule``: pre-formatted sentences, one bullet each, then the week.

    ``week``: the grid and its legend (monospace lines, drawn as a code block);
    ``week_notes``: the lines under it (windows, what could not be shown).
    """
    blocks = [section(f"{bold(composition)} schedule ({escape(zone.key)})")]
    tail = []
    if week:
        title = "*The week at a glance* (one character an hour, local time)\n"
        tail.append(section(code_block(title, "\n".join(week)), block_id="schedule:week"))
    if week_notes:
        tail.append(context("\n".join(escape(note) for note in week_notes)))
    if not lines:
        return [*blocks, context("No schedule: it runs only when started by hand."), *tail]
    bullets = [f"• {escape(line)}" for line in lines]
    room = MAX_MESSAGE_BLOCKS - 1 - len(tail)
    return blocks + packed(bullets, max_blocks=room, noun="lines") + tail


# The times the audit keeps in details (auto-stop at ...): ISO 8601 with an offset.
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)")


def _local_times(detail: str, zone: ZoneInfo) -> str:
    """``auto-stop at 2026-12-02T15:48:00+00:00`` as ``auto-stop at Wed 2 Dec 16:48 CET``."""

    def local(match: re.Match[str]) -> str:
        try:
            moment = datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))
        except ValueError:
            return match.group(0)
        return local_time(moment, zone)

    return _ISO_TIME.sub(local, detail)


def history_blocks(composition: str, entries: list[AuditEntry], *, zone: ZoneInfo) -> list[Block]:
    """``/env history``: audit entries, newest first as given, in the composition's zone."""
    blocks = [section(f"{bold(composition)} history")]
    if not entries:
        return [*blocks, context("No audit entries yet (they are kept for 90 days).")]
    lines = []
    for entry in entries:
        # Old entries may hold forged newlines or escapes: show them, never obey them.
        who, what, via, detail = (
            printable(text) for text in (entry.who, entry.what, entry.via, entry.detail)
        )
        line = f"{local_time(entry.at, zone)} — *{escape(what)}* by {mention(who)}"
        line += f" via {escape(via)}" if via else ""
        lines.append(line + (f" · {escape(_local_times(detail, zone))}" if detail else ""))
    return blocks + packed(lines, max_blocks=MAX_MESSAGE_BLOCKS - 1, noun="entries")
