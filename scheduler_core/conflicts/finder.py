"""``find_conflicts``: every source of conflicts, for every resource of a composition."""

from __future__ import annotations

from scheduler_core.aws_calls import ClientFactory
from scheduler_core.config.models import Composition
from scheduler_core.conflicts.model import Conflict, ManagedResource
from scheduler_core.conflicts.reading import SourceReader
from scheduler_core.conflicts.schedules import (
    ForeignSchedule,
    list_foreign_schedules,
    schedule_conflicts,
)
from scheduler_core.conflicts.tags import INSTANCE_SCHEDULER_TAG_KEY, instance_scheduler_tag


def find_conflicts(
    clients: ClientFactory,
    composition: Composition,
    *,
    foreign_schedules: tuple[ForeignSchedule, ...] | list[ForeignSchedule] | None = None,
    instance_scheduler_tag_key: str = INSTANCE_SCHEDULER_TAG_KEY,
) -> list[Conflict]:
    """Find schedules outside envctl that act on the composition's resources.

    Reads only (no write calls). A resource that does not exist gives no conflict;
    an API the caller may not use (AccessDenied) skips that source and records
    nothing, logged at INFO. Other AWS errors propagate. Calls are bounded: one or
    two reads per resource and source, each resource read once even if listed twice,
    and the Scheduler listed at most once per call.

    Args:
        clients: Returns a boto3 client for a service name (``Aws()`` is one).
        composition: The composition whose resources to check.
        foreign_schedules: The result of ``list_foreign_schedules``, to share one
            listing between compositions; listed here when omitted.
        instance_scheduler_tag_key: The tag key the Instance Scheduler stack uses.

    Returns:
        The conflicts in the composition's resource order.
    """
    reader = SourceReader(clients)
    schedules = None if foreign_schedules is None else tuple(foreign_schedules)
    conflicts: list[Conflict] = []
    for resource in _resources(composition):
        # Sources only some kinds have; tags and other schedules apply to every kind.
        for detect in resource.kind.conflict_detectors:
            conflicts.extend(detect(reader, resource))
        conflicts.extend(
            instance_scheduler_tag(reader, resource, tag_key=instance_scheduler_tag_key)
        )
        identity = resource.kind.schedule_identity(resource.params)
        if identity is None:
            continue
        if schedules is None:
            schedules = list_foreign_schedules(clients)
        conflicts.extend(schedule_conflicts(resource, identity, schedules))
    return conflicts


def _resources(composition: Composition) -> list[ManagedResource]:
    """Each resource once, in start order (a composition may list one twice)."""
    unique: dict[tuple[str, str], ManagedResource] = {}
    for item in composition.items():
        resource_id = item.kind.label(item.params)
        unique.setdefault(
            (item.type, resource_id),
            ManagedResource(
                composition=composition.name,
                type=item.type,
                id=resource_id,
                params=item.params,
                kind=item.kind,
            ),
        )
    return list(unique.values())
