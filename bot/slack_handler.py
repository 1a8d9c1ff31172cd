"""Lambda entry point of the Slack app (API Gateway → slack-bolt).

The app is built on the first request of a process and kept: a warm function
answers from memory (secrets included).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.adapter.aws_lambda import SlackRequestHandler

from bot.settings import BotSettings
from bot.slack.app import build_app

_handler: SlackRequestHandler | None = None


def request_handler() -> SlackRequestHandler:
    global _handler
    if _handler is None:
        _handler = SlackRequestHandler(build_app(BotSettings.from_env()))
    return _handler


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda handler for ``POST /slack/events`` and the app's own lazy invocations."""
    return request_handler().handle(event, context)  # type: ignore[no-any-return]
