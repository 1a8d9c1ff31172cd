"""Block Kit rendering for the Slack app (README "Slack"): pure, no Slack or AWS calls.

Every function returns plain dicts and lists as Slack's Web API expects them. Times
are passed in, shown in the composition's timezone with its abbreviation, and every
string that comes from users, config or AWS is mrkdwn-escaped so that it can never
ping ``@channel`` or forge a link. Slack's limits are kept here, in one place: section
text ≤ 3000 characters, ≤ 50 blocks per message (100 in the App Home), button text
≤ 75 characters and button values ≤ 2000 characters.

The data types are imported for type checking only: this module sits on the ack path
and must not pull in boto3.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.slack.grammar import help_text
from scheduler_core.durations import format_duration
from scheduler_core.text import printable

if TYPE_CHECKING:
    from scheduler_core.runtime.status import CompositionStatus
    from scheduler_core.runtime.store import AuditEntry, StateRecord
    from scheduler_core.windows.analysis import WindowAnalysis

Block = dict[str, Any]

MAX_TEXT = 3000
MAX_MESSAGE_BLOCKS = 50
MAX_HOME_BLOCKS = 100
MAX_BUTTON_TEXT = 75
MAX_VALUE = 2000
MAX_HEADER = 150
MAX_BLOCK_ID = 255
MAX_DESCRIPTION = 300
MAX_ERROR_NAME = 200
ELLIPSIS = "…"

STATE_EMOJI: dict[str, str] = {
    "running": "🟢",
    "stopped": "⚪",
    "partial": "🟡",
    "starting": "🔄",
    "stopping": "🔄",
    "transitioning": "🔄",
    "failed": "🔴",
    "missing": "❓",
    "unknown": "❔",
}

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_VERB_FORMS = {"start": ("starting", "started"), "stop": ("stopping", "stopped")}
_WINDOW_KINDS = {"maintenance": "maintenance", "backup": "backup", "aws_backup": "AWS Backup"}
# Slack user ids (U…, or W… on Enterprise Grid); anything else is shown as text.
_USER_ID = re.compile(r"[UW][A-Z0-9]+")
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,4}$")


# --- text ---------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` for mrkdwn, so ``<!channel>`` stays literal text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _truncate(text: str, limit: int = MAX_TEXT) -> str:
    """Cut to ``limit`` characters with "…", never inside an entity or a ``<…>`` token."""
    if len(text) <= limit:
        return text
    cut = _PARTIAL_ENTITY.sub("", text[: limit - len(ELLIPSIS)])
    opening = cut.rfind("<")
    if opening > cut.rfind(">"):
        cut = cut[:opening]
    return cut + ELLIPSIS


def _code(text: str) -> str:
    # A backtick inside would end the code span early; U+02CB looks the same.
    return "`" + escape(text).replace("`", "ˋ") + "`"


def _code_block(prefix: str, text: str) -> str:
    """``prefix`` then ``text`` preformatted, truncated inside the fence to fit MAX_TEXT."""
    budget = MAX_TEXT - len(prefix) - len("``````")
    body = _truncate(escape(text).replace("`", "ˋ"), budget)
    return f"{prefix}```{body}```"


def _error_code(error: str | None) -> str:
    """An error name such as ``States.Timeout`` as code; "" when there is none."""
    return _code(_truncate(error, MAX_ERROR_NAME)) if error else ""


def _bold(name: str) -> str:
    return f"*{escape(name)}*"


def _mention(user_id: str) -> str:
    return f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else escape(user_id)


def state_label(state: str) -> str:
    """A state as emoji and word, e.g. ``🟢 running``; unknown states get ❔."""
    return f"{STATE_EMOJI.get(state, STATE_EMOJI['unknown'])} {escape(state)}"


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """``moment`` on ``zone``'s clock with its abbreviation: ``Fri 27 Nov 19:00 CET``.

    Raises:
        ValueError: ``moment`` is naive.
    """
    if moment.utcoffset() is None:
        raise ValueError("moment must be timezone-aware")
    local = moment.astimezone(zone)
    day, month = _DAYS[local.weekday()], _MONTHS[local.month - 1]
    return f"{day} {local.day} {month} {local:%H:%M} {local.tzname()}"


def _elapsed(seconds: float) -> str:
    # format_duration drops seconds; a run of a few minutes reads better with them.
    total = max(0, round(seconds))
    minutes, rest = divmod(total, 60)
    if total < 60 or total >= 3600:
        return format_duration(timedelta(seconds=total))
    return f"{minutes}m {rest}s" if rest else f"{minutes}m"


def _forms(action: str) -> tuple[str, str]:
    if action in _VERB_FORMS:
        return _VERB_FORMS[action]
    stem = action.removesuffix("e")
    return f"{stem}ing", f"{stem}ed"


# --- block builders -------------------------------------------------------------------


def _section(text: str, *, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": _truncate(text)}}
    if block_id is not None:
        block["block_id"] = block_id[:MAX_BLOCK_ID]
    return block


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _truncate(text)}]}


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _truncate(text, limit), "emoji": True}


def _header(text: str) -> Block:
    return {"type": "header", "text": _plain(text, MAX_HEADER)}


def _button(
    text: str,
    *,
    action_id: str,
    value: str,
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if len(value) > MAX_VALUE:
        raise ValueError(f"a button value holds at most {MAX_VALUE} characters, got {len(value)}")
    button: dict[str, Any] = {
        "type": "button",
        "text": _plain(text, MAX_BUTTON_TEXT),
        "action_id": action_id,
        "value": value,
    }
    if style is not None:
        button["style"] = style
    if confirm is not None:
        button["confirm"] = confirm
    return button


def _actions(block_id: str, *buttons: dict[str, Any]) -> Block:
    return {"type": "actions", "block_id": block_id[:MAX_BLOCK_ID], "elements": list(buttons)}


def _packed(items: list[str], *, max_blocks: int, noun: str, separator: str = "\n") -> list[Block]:
    """Pack items into as few sections as fit MAX_TEXT; past ``max_blocks``, say how many."""
    chunks: list[list[str]] = []
    size = 0
    for item in (_truncate(item) for item in items):
        if chunks and size + len(separator) + len(item) <= MAX_TEXT:
            chunks[-1].append(item)
            size += len(separator) + len(item)
        else:
            chunks.append([item])
            size = len(item)
    shown = chunks if len(chunks) <= max_blocks else chunks[: max_blocks - 1]
    blocks = [_section(separator.join(chunk)) for chunk in shown]
    if hidden := len(items) - sum(len(chunk) for chunk in shown):
        blocks.append(_context(f"{ELLIPSIS}and {hidden} more {noun}"))
    return blocks


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


def _row_text(row: CompositionRow) -> str:
    def when(moment: datetime | None) -> str:
        return local_time(moment, row.zone) if moment is not None else "none scheduled"

    lines = [f"{_bold(row.name)} · {state_label(row.state)}"]
    if row.description:
        lines.append(escape(_truncate(row.description, MAX_DESCRIPTION)))
    lines.append(f"Next start: {when(row.next_start)}")
    lines.append(f"Next stop: {when(row.next_stop)}")
    if row.auto_stop_at is not None:
        lines.append(f"Auto-stop: {local_time(row.auto_stop_at, row.zone)}")
    return "\n".join(lines)


def _rows_shown(count: int, *, room: int, per_row: int) -> int:
    """How many rows fit in ``room`` blocks, keeping one for "and N more" if needed."""
    return count if count * per_row <= room else (room - 1) // per_row


def list_blocks(rows: list[CompositionRow]) -> list[Block]:
    """``/env list``: every composition, its state and next scheduled start/stop."""
    blocks = [_header(f"Compositions ({len(rows)})")]
    if not rows:
        return [*blocks, _section("No compositions are configured.")]
    shown = _rows_shown(len(rows), room=MAX_MESSAGE_BLOCKS - 1, per_row=1)
    blocks += [_section(_row_text(row), block_id=f"list:{row.name}") for row in rows[:shown]]
    if shown < len(rows):
        blocks.append(
            _context(f"{ELLIPSIS}and {len(rows) - shown} more: {_code('/env status <name>')}")
        )
    return blocks


def home_view(rows: list[CompositionRow], *, user_id: str) -> dict[str, Any]:
    """The App Home tab: every composition with its state, schedule and Start/Stop."""
    blocks = [
        _header("Environments"),
        _context(f"Hi {_mention(user_id)} · type `/env help` for every command"),
    ]
    if not rows:
        blocks.append(_section("No compositions are configured."))
        return {"type": "home", "blocks": blocks}
    shown = _rows_shown(len(rows), room=MAX_HOME_BLOCKS - len(blocks), per_row=2)
    for row in rows[:shown]:
        blocks.append(_section(_row_text(row), block_id=f"home:{row.name}"))
        blocks.append(
            _actions(
                f"home_actions:{row.name}",
                _button("Start", action_id="home_start", value=row.name),
                _button("Stop", action_id="home_stop", value=row.name),
            )
        )
    if shown < len(rows):
        blocks.append(_context(f"{ELLIPSIS}and {len(rows) - shown} more: `/env list`"))
    return {"type": "home", "blocks": blocks}


# --- one composition -------------------------------------------------------------------


def help_blocks() -> list[Block]:
    """``/env help``: every usage line (code) and what it does."""
    lines = []
    for line in help_text().splitlines():
        usage, dash, description = line.partition(" — ")
        lines.append(f"{_code(usage)} — {escape(description)}" if dash else escape(line))
    return [_header("/env commands"), *_packed(lines, max_blocks=10, noun="commands")]


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
    blocks = [_context(" · ".join(parts))]
    error = _error_code(record.error)
    if record.cause:
        blocks.append(_section(_code_block(f"{error}\n" if error else "", record.cause)))
    elif error:
        blocks.append(_section(error))
    return blocks


def status_blocks(
    status: CompositionStatus, *, zone: ZoneInfo, last_run: StateRecord | None
) -> list[Block]:
    """``/env status``: the composition's state, each resource, and the last run."""
    title = f"{_bold(status.composition)} · {state_label(str(status.state))}"
    if status.execution_arn:
        title += "\nA run is in progress."
    tail = _last_run(last_run, zone) if last_run is not None else []
    lines = []
    for resource in status.resources:
        detail = f"{resource.type}: {resource.detail}" if resource.detail else resource.type
        lines.append(
            f"{STATE_EMOJI.get(str(resource.state), STATE_EMOJI['unknown'])} "
            f"{_bold(resource.id)} — {escape(str(resource.state))} ({escape(detail)})"
        )
    room = MAX_MESSAGE_BLOCKS - 1 - len(tail)
    empty = [_context("No resources with a live state.")]
    body = _packed(lines, max_blocks=room, noun="resources") if lines else empty
    return [_section(title), *body, *tail]


def schedule_blocks(*, composition: str, zone: ZoneInfo, lines: list[str]) -> list[Block]:
    """``/env schedule``: pre-formatted sentences, one bullet each."""
    blocks = [_section(f"{_bold(composition)} schedule ({escape(zone.key)})")]
    if not lines:
        return [*blocks, _context("No schedule: it runs only when started by hand.")]
    bullets = [f"• {escape(line)}" for line in lines]
    return blocks + _packed(bullets, max_blocks=MAX_MESSAGE_BLOCKS - 1, noun="lines")


def _analysis_text(analysis: WindowAnalysis) -> str:
    unanalysed = analysis.problem is not None and analysis.occurrences == 0
    mark = "✅" if analysis.covered else "❔" if unanalysed else "⚠️"
    kind = _WINDOW_KINDS.get(str(analysis.kind), escape(str(analysis.kind)))
    lines = [
        f"{mark} {_bold(analysis.resource_id)} ({escape(analysis.resource_type)}) · "
        f"{kind} window {_code(analysis.window)}"
    ]
    if analysis.covered:
        lines.append(f"Covered: all {analysis.occurrences} occurrences")
    elif not unanalysed:
        line = f"{analysis.uncovered_occurrences} of {analysis.occurrences} occurrences not covered"
        if analysis.next_uncovered_at is not None:
            line += f"; next {local_time(analysis.next_uncovered_at, ZoneInfo('UTC'))}"
        lines.append(line)
    lines += [
        f"Bracket {bracket.action}: {escape(bracket.run_at)}" for bracket in analysis.brackets
    ]
    if analysis.stop_conflicts:
        lines.append(
            f"{analysis.stop_conflicts} occurrences fall in scheduled running time; "
            "the stop bracket is skipped then"
        )
    if analysis.problem:
        lines.append(f"{'Not analysed' if unanalysed else 'Note'}: {escape(analysis.problem)}")
    return "\n".join(lines)


def windows_blocks(composition: str, analyses: list[WindowAnalysis]) -> list[Block]:
    """``/env windows``: each maintenance/backup window, its coverage and brackets (UTC)."""
    if not analyses:
        return [_section(f"{_bold(composition)} has no maintenance or backup windows.")]
    covered = sum(analysis.covered for analysis in analyses)
    mark = "✅" if covered == len(analyses) else "⚠️"
    title = f"{mark} {_bold(composition)} windows: {covered} of {len(analyses)} covered"
    texts = [_analysis_text(analysis) for analysis in analyses]
    room = MAX_MESSAGE_BLOCKS - 1
    return [_section(title), *_packed(texts, max_blocks=room, noun="windows", separator="\n\n")]


def history_blocks(composition: str, entries: list[AuditEntry], *, zone: ZoneInfo) -> list[Block]:
    """``/env history``: audit entries, newest first as given, in the composition's zone."""
    blocks = [_section(f"{_bold(composition)} history")]
    if not entries:
        return [*blocks, _context("No audit entries yet (they are kept for 90 days).")]
    lines = []
    for entry in entries:
        # Old entries may hold forged newlines or escapes: show them, never obey them.
        who, what, via, detail = (
            printable(text) for text in (entry.who, entry.what, entry.via, entry.detail)
        )
        line = f"{local_time(entry.at, zone)} — *{escape(what)}* by {_mention(who)}"
        line += f" via {escape(via)}" if via else ""
        lines.append(line + (f" · {escape(detail)}" if detail else ""))
    return blocks + _packed(lines, max_blocks=MAX_MESSAGE_BLOCKS - 1, noun="entries")


# --- start/stop: confirm, progress, result ---------------------------------------------


def confirmation_blocks(
    *,
    composition: str,
    action: str,
    detail: str,
    warnings: list[str],
    protected: bool,
    value: str,
) -> list[Block]:
    """The ephemeral "Start *staging*?" with warnings and Confirm/Cancel buttons.

    Protected compositions get a danger Confirm button behind a confirm dialog.

    Raises:
        ValueError: ``value`` is longer than Slack allows (2000 characters).
    """
    question = f"{escape(action.capitalize())} {_bold(composition)}?"
    blocks = [_section(f"{question}\n{escape(detail)}" if detail else question)]
    room = MAX_MESSAGE_BLOCKS - 3
    shown = warnings if len(warnings) <= room + 1 else warnings[:room]
    blocks += [_section(f"⚠️ {escape(warning)}") for warning in shown]
    if len(shown) < len(warnings):
        blocks.append(_context(f"{ELLIPSIS}and {len(warnings) - len(shown)} more warnings"))
    dialog = None
    if protected:
        dialog = {
            "title": _plain(f"{action.capitalize()} {composition}?", 100),
            "text": _plain(f"{composition} is protected. Do you really want to {action} it?", 300),
            "confirm": _plain(f"Yes, {action}", 30),
            "deny": _plain("Cancel", 30),
            "style": "danger",
        }
    confirm = _button(
        "Confirm",
        action_id="env_confirm",
        value=value,
        style="danger" if protected else "primary",
        confirm=dialog,
    )
    cancel = _button("Cancel", action_id="env_cancel", value=value)
    return [*blocks, _actions("env_confirmation", confirm, cancel)]


def progress_blocks(
    *, user_id: str, composition: str, action: str, joined: bool = False
) -> list[Block]:
    """``<@U1> is starting *staging*…`` while the execution runs.

    ``joined``: the user asked while a run of the same action was already going (not
    started by them): ``*staging* is already starting (<@U1> asked too)…``.
    """
    doing, _ = _forms(action)
    if joined:
        text = f"🔄 {_bold(composition)} is already {escape(doing)} ({_mention(user_id)} asked too)"
    else:
        text = f"🔄 {_mention(user_id)} is {escape(doing)} {_bold(composition)}"
    return [_section(text + ELLIPSIS), _context("This message is updated when the run ends.")]


def result_blocks(
    *,
    user_id: str | None,
    composition: str,
    action: str,
    succeeded: bool,
    seconds: float,
    error: str | None,
    cause: str | None,
    running: bool,
    value: str,
) -> list[Block]:
    """The outcome of a run; on a running composition, Stop and Extend 1h buttons.

    Raises:
        ValueError: ``value`` is longer than Slack allows (2000 characters).
    """
    _, done = _forms(action)
    by = f" (by {_mention(user_id)})" if user_id else ""
    if succeeded:
        blocks = [_section(f"✅ {_bold(composition)} {escape(done)} in {_elapsed(seconds)}{by}")]
    else:
        prefix = f"❌ {_bold(composition)} could not be {escape(done)}"
        code = _error_code(error)
        if cause:
            text = _code_block(f"{prefix}: {code}\n" if code else f"{prefix}: ", cause)
        else:
            text = f"{prefix}: {code}" if code else f"{prefix}."
        blocks = [_section(text), _context(f"after {_elapsed(seconds)}{by}")]
    if running:
        stop = _button("Stop", action_id="env_stop", value=value, style="danger")
        extend = _button("Extend 1h", action_id="env_extend", value=value)
        blocks.append(_actions("env_running", stop, extend))
    return blocks


def _texts(block: Block) -> Iterable[str]:
    if block.get("type") in ("section", "header") and "text" in block:
        yield block["text"]["text"]
    yield from (field["text"] for field in block.get("fields", ()))
    if block.get("type") == "context":
        yield from (element["text"] for element in block["elements"] if "text" in element)


def plain_text_fallback(blocks: list[Block]) -> str:
    """The ``text`` Slack wants next to ``blocks``: their texts, for notifications."""
    text = "\n".join(text for block in blocks for text in _texts(block))
    return _truncate(text) if text else "envctl"
