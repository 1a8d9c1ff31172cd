"""Block Kit primitives: mrkdwn text, escaping, Slack's limits, and the basic blocks.

Slack's limits are kept here, in one place: section text ≤ 3000 characters, ≤ 50
blocks per message (100 in the App Home), button text ≤ 75 characters and button
values ≤ 2000 characters. Every string that comes from users, config or AWS goes
through ``escape`` so that it can never ping ``@channel`` or forge a link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

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
# Slack user ids (U…, or W… on Enterprise Grid); anything else is shown as text.
_USER_ID = re.compile(r"[UW][A-Z0-9]+")
_NAMED_USER = re.compile(r".+ \(([UW][A-Z0-9]+)\)")
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,4}$")


# --- text ---------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` for mrkdwn, so ``<!channel>`` stays literal text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int = MAX_TEXT) -> str:
    """Cut to ``limit`` characters with "…", never inside an entity or a ``<…>`` token."""
    if len(text) <= limit:
        return text
    cut = _PARTIAL_ENTITY.sub("", text[: limit - len(ELLIPSIS)])
    opening = cut.rfind("<")
    if opening > cut.rfind(">"):
        cut = cut[:opening]
    return cut + ELLIPSIS


def code(text: str) -> str:
    # A backtick inside would end the code span early; U+02CB looks the same.
    return "`" + escape(text).replace("`", "ˋ") + "`"


def code_block(prefix: str, text: str) -> str:
    """``prefix`` then ``text`` preformatted, truncated inside the fence to fit MAX_TEXT."""
    budget = MAX_TEXT - len(prefix) - len("``````")
    body = truncate(escape(text).replace("`", "ˋ"), budget)
    return f"{prefix}```{body}```"


def error_code(error: str | None) -> str:
    """An error name such as ``States.Timeout`` as code; "" when there is none."""
    return code(truncate(error, MAX_ERROR_NAME)) if error else ""


def bold(name: str) -> str:
    return f"*{escape(name)}*"


def mention(user_id: str) -> str:
    """A Slack user as Slack shows them: a bare id, or "name (id)" as the audit keeps it,
    becomes ``<@id>``; anyone else (``alice@laptop`` from the CLI) is shown as written."""
    named = _NAMED_USER.fullmatch(user_id)
    if named:
        user_id = named.group(1)
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


# --- block builders -------------------------------------------------------------------


def section(text: str, *, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text)}}
    if block_id is not None:
        block["block_id"] = block_id[:MAX_BLOCK_ID]
    return block


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text)}]}


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, MAX_HEADER)}


def button(
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
        "text": plain(text, MAX_BUTTON_TEXT),
        "action_id": action_id,
        "value": value,
    }
    if style is not None:
        button["style"] = style
    if confirm is not None:
        button["confirm"] = confirm
    return button


def actions(block_id: str, *buttons: dict[str, Any]) -> Block:
    return {"type": "actions", "block_id": block_id[:MAX_BLOCK_ID], "elements": list(buttons)}


def packed(items: list[str], *, max_blocks: int, noun: str, separator: str = "\n") -> list[Block]:
    """Pack items into as few sections as fit MAX_TEXT; past ``max_blocks``, say how many."""
    chunks: list[list[str]] = []
    size = 0
    for item in (truncate(item) for item in items):
        if chunks and size + len(separator) + len(item) <= MAX_TEXT:
            chunks[-1].append(item)
            size += len(separator) + len(item)
        else:
            chunks.append([item])
            size = len(item)
    shown = chunks if len(chunks) <= max_blocks else chunks[: max_blocks - 1]
    blocks = [section(separator.join(chunk)) for chunk in shown]
    if hidden := len(items) - sum(len(chunk) for chunk in shown):
        blocks.append(context(f"{ELLIPSIS}and {hidden} more {noun}"))
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
    return truncate(text) if text else "envctl"
