"""EventBridge Scheduler schedules outside envctl that act on managed resources.

The account's schedules are listed once (``list_foreign_schedules``) and matched
against every resource in memory, so several compositions can share one listing.
Skipped, because they cannot contradict envctl:

* groups named ``envctl-...`` tagged ``envctl:managed=true`` (envctl's own);
* disabled schedules (they do nothing until someone enables them);
* schedules that start one of envctl's own state machines (``envctl-<name>-start``
  tagged ``envctl:managed=true``), wherever they live: they drive envctl itself;
* targets that cannot start, stop or resize a resource (Lambda, SQS, SNS, ...).
  A Lambda could, but what it does is not visible; this is a documented blind spot.

Details (``GetSchedule``) are fetched only for the schedules left, because the
listing carries neither the Input nor the expression.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from scheduler_core import names
from scheduler_core.aws_calls import ClientFactory
from scheduler_core.conflicts.identity import TargetIdentity, parse_input
from scheduler_core.conflicts.model import (
    Conflict,
    ConflictSource,
    ManagedResource,
    describe_expression,
)
from scheduler_core.conflicts.reading import SourceReader
from scheduler_core.resources import REGISTRY
from scheduler_core.schedules import MANAGED_TAG


@cache
def targeted_services() -> tuple[frozenset[str], frozenset[str]]:
    """(universal-target services, ARN services) that can act on a managed resource.

    Read from every registered kind's identity; the listing fetches details only
    for schedules aimed at these (or at a state machine).
    """
    identities = [
        identity
        for kind in REGISTRY.values()
        if (identity := kind.schedule_identity(kind.example)) is not None
    ]
    sdk = frozenset(service for identity in identities for service in identity.sdk_services)
    return sdk, frozenset(identity.arn_service for identity in identities)


@dataclass(frozen=True, kw_only=True)
class ForeignSchedule:
    """An enabled schedule outside envctl's groups, with what it runs and when."""

    group: str
    name: str
    target_arn: str
    input: str | None
    expression: str
    timezone: str

    @property
    def label(self) -> str:
        return f"{self.group}/{self.name}"


@dataclass(frozen=True, kw_only=True)
class TargetArn:
    """The parts of a schedule target's ARN that matter here."""

    arn: str
    service: str
    resource: str
    universal_service: str | None = None
    universal_action: str = ""

    @classmethod
    def parse(cls, arn: str) -> TargetArn | None:
        parts = arn.split(":", 5)
        if len(parts) < 6 or parts[0] != "arn":
            return None
        service, resource = parts[2], parts[5]
        # arn:aws:scheduler:::aws-sdk:rds:stopDBInstance
        sdk, _, call = resource.partition(":")
        if service == "scheduler" and sdk == "aws-sdk":
            universal_service, _, action = call.partition(":")
            return cls(
                arn=arn,
                service=service,
                resource=resource,
                universal_service=universal_service.lower(),
                universal_action=action,
            )
        return cls(arn=arn, service=service, resource=resource)

    @property
    def state_machine(self) -> str | None:
        if self.service != "states" or not self.resource.startswith("stateMachine:"):
            return None
        return self.resource.removeprefix("stateMachine:")

    def may_act_on_resources(self) -> bool:
        if self.universal_service is not None:
            return self.universal_service in targeted_services()[0]
        return self.state_machine is not None or self.service in targeted_services()[1]


def list_foreign_schedules(clients: ClientFactory) -> tuple[ForeignSchedule, ...]:
    """List the account's EventBridge Scheduler schedules that are not envctl's.

    Call once and pass the result to ``find_conflicts`` for every composition. Costs
    one paginated ListScheduleGroups and ListSchedules, one ListTagsForResource per
    ``envctl-`` group, one GetSchedule per remaining candidate and one Step Functions
    ListTagsForResource per ``envctl-``-named state machine target.

    Args:
        clients: Returns a boto3 client for a service name (``Aws()`` is one).

    Returns:
        The candidate schedules, sorted by group and name. Empty when the Scheduler
        APIs are denied: the source is then skipped, not failed (logged at INFO).
    """
    reader = SourceReader(clients)
    managed = _managed_groups(reader)
    if managed is None:
        return ()
    summaries = reader.collect("scheduler", "list_schedules", "Schedules")
    if summaries is None:
        return ()
    envctl_machines = _EnvctlMachines(reader)
    found: list[ForeignSchedule] = []
    for summary in summaries:
        if not _may_conflict(summary, managed, envctl_machines):
            continue
        schedule = reader.read(
            "scheduler", "get_schedule", Name=summary["Name"], GroupName=summary["GroupName"]
        )
        if schedule is None:
            if reader.was_denied("scheduler", "get_schedule"):
                return ()
            continue  # deleted since the listing
        found.append(
            ForeignSchedule(
                group=schedule["GroupName"],
                name=schedule["Name"],
                target_arn=schedule["Target"]["Arn"],
                input=schedule["Target"].get("Input"),
                expression=schedule.get("ScheduleExpression", ""),
                timezone=schedule.get("ScheduleExpressionTimezone") or "UTC",
            )
        )
    return tuple(sorted(found, key=lambda s: (s.group, s.name)))


def _managed_groups(reader: SourceReader) -> set[str] | None:
    """envctl's own schedule groups; None when they cannot be told apart (denied)."""
    groups = reader.collect("scheduler", "list_schedule_groups", "ScheduleGroups")
    if groups is None:
        return None
    managed: set[str] = set()
    for group in groups:
        if not group["Name"].startswith(names.PREFIX):
            continue
        tags = reader.read("scheduler", "list_tags_for_resource", ResourceArn=group["Arn"])
        if tags is None and reader.was_denied("scheduler", "list_tags_for_resource"):
            # Without tags envctl's own schedules would be reported as conflicts.
            return None
        if {"Key": MANAGED_TAG, "Value": "true"} in (tags or {}).get("Tags", []):
            managed.add(group["Name"])
    return managed


def _may_conflict(
    summary: dict[str, Any], managed: set[str], envctl_machines: _EnvctlMachines
) -> bool:
    """True for an enabled schedule outside envctl's groups aimed at what it manages."""
    target = TargetArn.parse(summary.get("Target", {}).get("Arn", ""))
    return not (
        summary.get("GroupName") in managed
        or summary.get("State") != "ENABLED"
        or target is None
        or not target.may_act_on_resources()
        or envctl_machines.contains(target)
    )


class _EnvctlMachines:
    """Recognises envctl's own state machines, asking Step Functions once per ARN."""

    def __init__(self, reader: SourceReader) -> None:
        self._reader = reader
        self._known: dict[str, bool] = {}

    def contains(self, target: TargetArn) -> bool:
        name = target.state_machine
        if name is None or names.parse_state_machine(name) is None:
            return False
        if target.arn not in self._known:
            self._known[target.arn] = self._is_managed(target.arn)
        return self._known[target.arn]

    def _is_managed(self, arn: str) -> bool:
        tags = self._reader.read("stepfunctions", "list_tags_for_resource", resourceArn=arn)
        if tags is None:
            # Denied: the name alone decides (best effort). Missing: a schedule aimed at
            # a state machine that does not exist runs nothing, so skipping it is right.
            return True
        return {"key": MANAGED_TAG, "value": "true"} in tags.get("tags", [])


def schedule_conflicts(
    resource: ManagedResource, identity: TargetIdentity, schedules: tuple[ForeignSchedule, ...]
) -> list[Conflict]:
    """Conflicts for the schedules among ``schedules`` that act on one resource."""
    conflicts = []
    for schedule in schedules:
        action = _what_it_does(schedule, identity)
        if action is None:
            continue
        when = describe_expression(schedule.expression, schedule.timezone)
        conflicts.append(
            resource.conflict(
                ConflictSource.EVENTBRIDGE_SCHEDULE,
                detail=f'EventBridge Scheduler schedule "{schedule.label}" {action} {when}',
                hint=(
                    "Delete or disable the schedule (aws scheduler delete-schedule "
                    f"--group-name {schedule.group} --name {schedule.name}) or take the "
                    "resource out of the composition, so that only one of them starts "
                    "and stops it."
                ),
            )
        )
    return conflicts


def _what_it_does(schedule: ForeignSchedule, identity: TargetIdentity) -> str | None:
    """How the schedule acts on the resource, as a verb phrase; None when it does not."""
    target = TargetArn.parse(schedule.target_arn)
    if target is None:
        return None
    if target.universal_service is not None:
        payload = parse_input(schedule.input)
        if identity.called_by(target.universal_service, target.universal_action, payload):
            return f"calls {target.universal_service}:{target.universal_action} on it"
        return None
    if target.state_machine is not None:
        if identity.mentioned_in(parse_input(schedule.input)):
            return f'starts state machine "{target.state_machine}" with it in the input'
        return None
    if identity.is_arn(target.arn):
        return "targets it by ARN"
    return None
