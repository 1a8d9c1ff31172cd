"""EventBridge Scheduler objects envctl owns: names, targets and their shape.

Schedules cannot be tagged, so ownership is marked twice: they live in a schedule
group ``envctl-<composition>`` tagged ``envctl:managed=true``, and their
description starts with ``envctl:``. Pruning only ever removes schedules that
carry both marks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MANAGED_TAG = "envctl:managed"
COMPOSITION_TAG = "envctl:composition"
DEPLOYMENT_TAG = "envctl:deployment"
DEFAULT_DEPLOYMENT = "default"
DESCRIPTION_PREFIX = "envctl:"
GROUP_PREFIX = "envctl-"
START, STOP, AUTO_STOP = "start", "stop", "auto-stop"


def ownership_tags(
    composition: str, deployment: str, *, key: str = "Key", value: str = "Value"
) -> list[dict[str, str]]:
    """The tags that mark an object as envctl's (Step Functions spells them key/value)."""
    pairs = {MANAGED_TAG: "true", COMPOSITION_TAG: composition, DEPLOYMENT_TAG: deployment}
    return [{key: name, value: text} for name, text in pairs.items()]


def group_name(composition: str) -> str:
    return f"{GROUP_PREFIX}{composition}"


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
