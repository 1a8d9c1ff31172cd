"""EventBridge Scheduler objects envctl owns: names, targets and their shape.

Schedules cannot be tagged, so ownership is marked twice: they live in a schedule
group ``envctl-<composition>`` tagged ``envctl:managed=true``, and their
description starts with ``envctl:``. Pruning only ever removes schedules that
carry both marks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scheduler_core import names

MANAGED_TAG = "envctl:managed"
COMPOSITION_TAG = "envctl:composition"
DEPLOYMENT_TAG = "envctl:deployment"
DEFAULT_DEPLOYMENT = "default"
DESCRIPTION_PREFIX = "envctl:"


def ownership_tags(
    composition: str, deployment: str, *, key: str = "Key", value: str = "Value"
) -> list[dict[str, str]]:
    """The tags that mark an object as envctl's (Step Functions spells them key/value)."""
    pairs = {MANAGED_TAG: "true", COMPOSITION_TAG: composition, DEPLOYMENT_TAG: deployment}
    return [{key: name, value: text} for name, text in pairs.items()]


def at_expression(moment: datetime) -> str:
    """The one-time schedule expression ``at(2026-12-01T18:00:00)`` (UTC, seconds)."""
    return f"at({moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})"


def at_moment(expression: str) -> datetime:
    """The instant an ``at(...)`` expression (as ``at_expression`` writes it) stands for."""
    return datetime.fromisoformat(expression.removeprefix("at(").removesuffix(")")).replace(
        tzinfo=UTC
    )


def auto_stop_description(composition: str) -> str:
    return f"{DESCRIPTION_PREFIX} auto-stop of {composition}"


def auto_stop_spec(
    *, composition: str, at: datetime, target_arn: str, role_arn: str
) -> ScheduleSpec:
    """The one-time schedule that stops ``composition`` at ``at`` and then deletes itself.

    Created by the start run itself (``asl.runs``) and moved by ``envctl extend``.
    """
    return ScheduleSpec(
        group=names.schedule_group(composition),
        name=names.AUTO_STOP,
        expression=at_expression(at),
        timezone="UTC",
        target_arn=target_arn,
        role_arn=role_arn,
        input={"trigger": "auto-stop"},
        description=auto_stop_description(composition),
        action_after_completion="DELETE",
    )


def is_owned(description: str | None) -> bool:
    return bool(description) and str(description).startswith(DESCRIPTION_PREFIX)


@dataclass(frozen=True, kw_only=True)
class ScheduleSpec:
    """A schedule as envctl wants it; compared field by field with the live one."""

    group: str
    name: str
    expression: str
    timezone: str
    target_arn: str
    role_arn: str
    input: dict[str, Any]
    description: str
    action_after_completion: str = "NONE"
    state: str | None = None  # None: keep whatever is live (pause survives apply)
    extra: dict[str, Any] = field(default_factory=dict)
    # An event bus target: {"Source": ..., "DetailType": ...}; the input is the detail.
    event: dict[str, str] | None = None

    @property
    def full_name(self) -> str:
        return f"{self.group}/{self.name}"

    def request(self, *, state: str) -> dict[str, Any]:
        """Arguments for scheduler.create_schedule / update_schedule."""
        return {
            "GroupName": self.group,
            "Name": self.name,
            "ScheduleExpression": self.expression,
            "ScheduleExpressionTimezone": self.timezone,
            "Description": self.description,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": state,
            "ActionAfterCompletion": self.action_after_completion,
            "Target": {
                "Arn": self.target_arn,
                "RoleArn": self.role_arn,
                "Input": json.dumps(self.input, sort_keys=True),
                "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10},
                **({"EventBridgeParameters": self.event} if self.event else {}),
            },
        }

    def differences(self, live: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        """Fields where the live schedule (get_schedule output) differs: {field: (live, wanted)}."""
        wanted = self.request(state=self.state or live.get("State", "ENABLED"))
        target, live_target = wanted["Target"], live.get("Target", {})
        pairs = {
            "expression": (live.get("ScheduleExpression"), wanted["ScheduleExpression"]),
            "timezone": (
                live.get("ScheduleExpressionTimezone") or "UTC",
                wanted["ScheduleExpressionTimezone"],
            ),
            "description": (live.get("Description"), wanted["Description"]),
            "state": (live.get("State"), wanted["State"]),
            "target": (live_target.get("Arn"), target["Arn"]),
            "role": (live_target.get("RoleArn"), target["RoleArn"]),
            "input": (_json(live_target.get("Input")), self.input),
            "event": (live_target.get("EventBridgeParameters"), self.event),
            "after completion": (
                live.get("ActionAfterCompletion") or "NONE",
                wanted["ActionAfterCompletion"],
            ),
        }
        return {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}


def _json(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text
