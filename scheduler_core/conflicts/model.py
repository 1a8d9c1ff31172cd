"""What a conflict is: another schedule or scheduler acting on a managed resource."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler_core.resources.base import ResourceKind


class ConflictSource(StrEnum):
    """Where the other schedule lives."""

    ASG_SCHEDULED_ACTION = "asg_scheduled_action"
    APPLICATION_AUTOSCALING_SCHEDULED_ACTION = "application_autoscaling_scheduled_action"
    APPLICATION_AUTOSCALING_MIN_CAPACITY = "application_autoscaling_min_capacity"
    EVENTBRIDGE_SCHEDULE = "eventbridge_schedule"
    INSTANCE_SCHEDULER_TAG = "instance_scheduler_tag"


@dataclass(frozen=True, kw_only=True)
class Conflict:
    """Something outside envctl that starts, stops or resizes a resource envctl manages.

    Attributes:
        composition: Name of the composition that manages the resource.
        resource_type: The item's ``type``: its kind's ``type_name``.
        resource_id: The resource as ``status --json`` names it (``shop/api`` for ECS).
        source: Which kind of schedule or scheduler acts on the resource.
        detail: One sentence naming the other schedule and what it does.
        hint: What to do about it.
    """

    composition: str
    resource_type: str
    resource_id: str
    source: ConflictSource
    detail: str
    hint: str

    def as_json(self) -> dict[str, str]:
        """The conflict as a JSON object (``plan --json``, ``windows --json``)."""
        return {
            "composition": self.composition,
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "source": str(self.source),
            "detail": self.detail,
            "hint": self.hint,
        }


@dataclass(frozen=True, kw_only=True)
class ManagedResource:
    """One resource of a composition, as the detectors see it."""

    composition: str
    type: str
    id: str
    params: Any
    kind: ResourceKind

    def conflict(self, source: ConflictSource, *, detail: str, hint: str) -> Conflict:
        return Conflict(
            composition=self.composition,
            resource_type=self.type,
            resource_id=self.id,
            source=source,
            detail=detail,
            hint=hint,
        )


def describe_expression(expression: str, timezone: str | None) -> str:
    """``cron(0 7 * * ? *)`` in UTC -> ``at cron 0 7 * * ? * (UTC)``; rate() and at() too."""
    zone = timezone or "UTC"
    kind, _, rest = expression.partition("(")
    body = rest.removesuffix(")")
    if kind == "cron" and body:
        return f"at cron {body} ({zone})"
    if kind == "at" and body:
        return f"once at {body} ({zone})"
    if kind == "rate" and body:
        return f"every {body}"
    return f"on {expression} ({zone})"


def describe_once(start: datetime | str | None) -> str:
    """A one-time action's moment; boto3 hands datetimes, tables may hand strings."""
    if isinstance(start, datetime):
        moment = start.astimezone(UTC) if start.tzinfo else start
        return f"once at {moment:%Y-%m-%d %H:%M} (UTC)"
    return f"once at {start}" if start else "once"


def describe_sizes(**sizes: int | None) -> str:
    """``sets min 1, max 4, desired 2``, naming only the sizes an action changes."""
    parts = [f"{name} {value}" for name, value in sizes.items() if value is not None]
    return "sets " + ", ".join(parts) if parts else "changes no size"
