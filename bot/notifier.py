"""Lambda entry point for "Step Functions Execution Status Change" and heads-up events.

For an execution started from Slack it updates the message that reported the start
(with the outcome, the duration and, on failure, the failing resource and cause;
Stop / Extend 1h buttons on a running composition). Scheduled runs and failures of
any run are also posted to the composition's ``notify.slack_channel``. Heads-up
events (before a stop) are posted there by ``bot.heads_up``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from bot.heads_up import is_heads_up, post_heads_up
from bot.secrets import resolve_secret
from bot.settings import BotSettings
from bot.slack import blocks
from bot.slack.commands import confirmation_value
from bot.slack_client import slack_client
from scheduler_core import names
from scheduler_core.config import Config, load_config
from scheduler_core.places import regions_of
from scheduler_core.runtime.store import Store

logger = logging.getLogger(__name__)
FINISHED = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


@dataclass(frozen=True, kw_only=True)
class Outcome:
    composition: str
    action: str
    execution_arn: str
    status: str
    seconds: float
    trigger: str
    error: str | None
    cause: str | None

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"


def outcome_of(detail: dict[str, Any], describe: Any) -> Outcome | None:
    """The outcome an event reports, or None when it is not a finished envctl start/stop."""
    machine = names.parse_state_machine(str(detail.get("stateMachineArn", "")))
    if machine is None or machine.action is None or detail.get("status") not in FINISHED:
        return None  # not envctl's, a window bracket, or not finished
    composition, action = machine.composition, machine.action.value
    if _skipped(detail.get("output")):
        return None  # it did nothing (skip flag, or a run in progress reports its own end)
    error, cause = detail.get("error"), detail.get("cause")
    if detail["status"] != "SUCCEEDED" and not cause:
        # Not every event carries the cause; the execution always has it.
        described = describe(executionArn=detail["executionArn"])
        error, cause = described.get("error"), described.get("cause")
    try:
        trigger = json.loads(detail.get("input") or "{}").get("trigger", "")
    except ValueError:
        trigger = ""
    started, stopped = detail.get("startDate"), detail.get("stopDate")
    seconds = (stopped - started) / 1000 if started and stopped else 0.0
    return Outcome(
        composition=composition,
        action=action,
        execution_arn=detail["executionArn"],
        status=detail["status"],
        seconds=seconds,
        trigger=trigger or "",
        error=error,
        cause=cause,
    )


def _skipped(output: Any) -> bool:
    """True for a run that ended without doing anything (``asl.runs.skipped_end``)."""
    try:
        document = json.loads(output) if isinstance(output, str) else None
    except ValueError:
        return False
    return isinstance(document, dict) and "skipped" in document


def notify(outcome: Outcome, *, config: Config, store: Store, client: Any) -> list[str]:
    """Update or post the Slack messages for an outcome; returns what it did (for logs)."""
    done = []
    running = outcome.succeeded and outcome.action == "start"
    value = confirmation_value(outcome.composition, "stop", duration=None, seen="running")
    ref = store.message_ref(outcome.execution_arn)
    result = blocks.result_blocks(
        user_id=ref.user_id if ref else None,
        composition=outcome.composition,
        action=outcome.action,
        succeeded=outcome.succeeded,
        seconds=outcome.seconds,
        error=outcome.error,
        cause=outcome.cause,
        running=running,
        value=value,
    )
    text = blocks.plain_text_fallback(result)
    if ref is not None:
        client.chat_update(channel=ref.channel, ts=ref.ts, text=text, blocks=result)
        done.append(f"updated {ref.channel}/{ref.ts}")
    composition = config.compositions.get(outcome.composition)
    channel = composition.notify.slack_channel if composition else None
    if (
        channel
        and (outcome.trigger == "schedule" or not outcome.succeeded)
        and (ref is None or ref.channel != channel)
    ):
        client.chat_postMessage(channel=channel, text=text, blocks=result)
        done.append(f"posted to {channel}")
    return done


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda handler for the EventBridge rule on envctl's state machines."""
    settings = BotSettings.from_env()
    aws = settings.core.aws()
    if is_heads_up(event):
        config = load_config(settings.core.config_path)
        result = post_heads_up(
            event.get("detail"),
            config=config,
            store=Store(aws, settings.core.table_name, regions_of(config)),
            client=slack_client(resolve_secret(settings.bot_token), api_url=settings.slack_api_url),
        )
        logger.info("heads-up: %s", result)
        return result
    detail = event.get("detail", {})
    arn = detail.get("executionArn") if isinstance(detail, dict) else None
    # A composition's runs are in its region; their events are forwarded here.
    sfn = aws.at(names.arn_region(arn) if isinstance(arn, str) else None).client("stepfunctions")
    outcome = outcome_of(detail, sfn.describe_execution)
    if outcome is None:
        return {"handled": False}
    client = slack_client(resolve_secret(settings.bot_token), api_url=settings.slack_api_url)
    config = load_config(settings.core.config_path)
    done = notify(
        outcome,
        config=config,
        store=Store(aws, settings.core.table_name, regions_of(config)),
        client=client,
    )
    logger.info("execution %s %s: %s", outcome.execution_arn, outcome.status, done)
    return {"handled": True, "actions": done}
