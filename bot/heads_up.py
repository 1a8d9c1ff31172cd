"""Post the heads-up before a stop, when a heads-up schedule's event arrives.

The notifier gets ``envctl heads-up`` events (``scheduler_core.heads_up``) next to
the ends of runs. Nothing is posted when the stop is no longer coming: extended,
skipped, moved, on a day whose start was skipped, or the composition is stopped.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

from bot.slack import blocks
from scheduler_core import heads_up
from scheduler_core.config import Config
from scheduler_core.runtime.store import Store

logger = logging.getLogger(__name__)


def is_heads_up(event: dict[str, Any]) -> bool:
    return (
        event.get("source") == heads_up.EVENT_SOURCE
        and event.get("detail-type") == heads_up.EVENT_DETAIL_TYPE
    )


def post_heads_up(
    detail: Any, *, config: Config, store: Store, client: Any, now: datetime | None = None
) -> dict[str, Any]:
    """Post the heads-up ``detail`` announces, unless its stop is no longer coming."""
    due = heads_up.due_of(
        detail, lead_of={name: c.notify.heads_up for name, c in config.compositions.items()}
    )
    if due is None:
        logger.warning("a heads-up event envctl cannot read: %s", str(detail)[:300])
        return {"handled": False, "why": "not a heads-up envctl made"}
    composition = config.get(due.composition)
    channel = composition.notify.slack_channel
    if not channel or not composition.notify.heads_up:
        return {"handled": True, "sent": False, "why": "heads-ups are off"}
    overrides = store.overrides(composition.name)
    record = store.state(composition.name)
    rows = (
        store.skipped_starts(composition.name, after=heads_up.day_start(due, composition))
        if due.kind == heads_up.SCHEDULED
        else {}
    )
    why = heads_up.silence(
        composition,
        due,
        state=record.state if record else None,
        auto_stop_at=overrides.auto_stop_at,
        extended_stop=overrides.extended_stop,
        skip_next_stop=overrides.skip_next_stop,
        skipped_starts=rows,
    )
    if why is not None:
        logger.info("no heads-up for %s at %s: %s", composition.name, due.stop_at, why)
        return {"handled": True, "sent": False, "why": why}
    now = now or datetime.now(UTC)
    minutes = max(0, math.ceil((due.stop_at - now).total_seconds() / 60))
    message = blocks.heads_up_blocks(
        composition=composition.name,
        stop_at=due.stop_at,
        zone=composition.zone,
        minutes=minutes,
        protected=bool(composition.access and composition.access.protected),
    )
    client.chat_postMessage(
        channel=channel, text=blocks.plain_text_fallback(message), blocks=message
    )
    return {"handled": True, "sent": True, "channel": channel}
