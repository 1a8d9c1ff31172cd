"""The heads-up before a stop: "*staging* stops at 19:00 CET (in 15 min)" and its buttons.

Each button's value names the composition and the stop it was shown for (epoch
seconds), so a click after that stop can be told apart from one before it.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.slack.blocks.kit import Block, actions, bold, button, context, escape, plain, section

KEEP_UP = {"heads_up_keep_1h": 1, "heads_up_keep_3h": 3}  # action_id → hours
STOP_NOW = "heads_up_stop"


def clock(moment: datetime, zone: ZoneInfo) -> str:
    """``19:00 CET``: the time of day on the composition's clock."""
    local = moment.astimezone(zone)
    return f"{local:%H:%M} {local.tzname()}"


def heads_up_text(composition: str, *, stop_at: datetime, zone: ZoneInfo, minutes: int) -> str:
    """``*staging* stops at 19:00 CET (in 15 min)``; from an hour on ``(in 1h 05m)``."""
    hours, rest = divmod(minutes, 60)
    left = f"{hours}h {rest:02d}m" if hours else f"{minutes} min"
    return f"{bold(composition)} stops at {clock(stop_at, zone)} (in {left})"


def heads_up_value(composition: str, stop_at: datetime) -> str:
    return json.dumps({"c": composition, "t": int(stop_at.timestamp())}, separators=(",", ":"))


def heads_up_blocks(
    *,
    composition: str,
    stop_at: datetime,
    zone: ZoneInfo,
    minutes: int,
    protected: bool,
    note: str | None = None,
) -> list[Block]:
    """The message with Keep up 1h, Keep up 3h and Stop now (behind a dialog if protected).

    ``note``: who kept it up, shown under the text once someone clicked.
    """
    value = heads_up_value(composition, stop_at)
    dialog = None
    if protected:
        dialog = {
            "title": plain(f"Stop {composition}?", 100),
            "text": plain(f"{composition} is protected. Do you really want to stop it now?", 300),
            "confirm": plain("Yes, stop", 30),
            "deny": plain("Cancel", 30),
            "style": "danger",
        }
    blocks = [section(heads_up_text(composition, stop_at=stop_at, zone=zone, minutes=minutes))]
    if note:
        blocks.append(context(escape(note)))
    keep = [
        button(f"Keep up {hours}h", action_id=action_id, value=value)
        for action_id, hours in KEEP_UP.items()
    ]
    stop = button("Stop now", action_id=STOP_NOW, value=value, style="danger", confirm=dialog)
    blocks.append(actions("env_heads_up", *keep, stop))
    return blocks
