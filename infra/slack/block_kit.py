"""Block Kit checked as Slack checks it, with slack_sdk's own models.

``payload_problems`` takes a Web API call's (or a ``response_url`` post's) parameters
and returns what Slack would refuse in them: a block of an unknown type, a field over
its limit (slack_sdk's models carry Slack's limits: 3,000 characters of section text,
75 of a button's label, 2,000 of a button's value...), too many blocks. Each problem
is one sentence naming the block. The local mock Web API answers ``invalid_blocks``
for such a call, as Slack does, and the tests fail on it.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100


def payload_problems(params: dict[str, Any]) -> list[str]:
    """What Slack would refuse in ``params``' ``blocks`` or ``view``; [] when none."""
    problems = []
    blocks = _decoded(params.get("blocks"))
    if blocks is not None:
        problems += block_problems(blocks, limit=MAX_MESSAGE_BLOCKS)
    view = _decoded(params.get("view"))
    if view is not None:
        problems += view_problems(view)
    return problems


def block_problems(blocks: Any, *, limit: int) -> list[str]:
    if not isinstance(blocks, list):
        return ["blocks: expected a list"]
    problems = [f"blocks: {len(blocks)} blocks, at most {limit}"] if len(blocks) > limit else []
    for index, raw in enumerate(blocks):
        kind = raw.get("type") if isinstance(raw, dict) else repr(raw)
        where = f"blocks[{index}] ({kind})"
        parsed = Block.parse(raw) if isinstance(raw, dict) else None
        if parsed is None:
            problems.append(f"{where}: not a block type Slack knows")
            continue
        try:
            parsed.to_dict()  # validates the block and every element in it
        except SlackObjectFormationError as exc:
            problems.append(f"{where}: {exc}")
    return problems


def view_problems(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["view: expected an object"]
    problems = block_problems(view.get("blocks", []), limit=MAX_VIEW_BLOCKS)
    if problems:
        return problems  # named per block; the view's own check would repeat them
    try:
        View(**view).to_dict()
    except (SlackObjectFormationError, TypeError) as exc:
        problems.append(f"view: {exc}")
    return problems


def _decoded(value: Any) -> Any:
    """Form-encoded calls carry blocks/views as JSON text; JSON calls as objects."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
