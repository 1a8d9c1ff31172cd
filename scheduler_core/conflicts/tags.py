"""AWS Instance Scheduler: a ``Schedule`` tag hands a resource to another scheduler.

Instance Scheduler acts on EC2 instances, RDS instances and clusters and Auto
Scaling groups that carry its tag (key ``Schedule`` unless the stack was deployed
with another key). Those kinds read the tag (``ResourceKind.scheduler_tag``); the
others do not: a ``Schedule`` tag there would be someone else's convention, not a
scheduler. Each kind costs one read, which tolerates the resource being gone.
"""

from __future__ import annotations

from typing import Any

from scheduler_core.conflicts.model import Conflict, ConflictSource, ManagedResource
from scheduler_core.conflicts.reading import SourceReader

INSTANCE_SCHEDULER_TAG_KEY = "Schedule"


def instance_scheduler_tag(
    reader: SourceReader, resource: ManagedResource, *, tag_key: str = INSTANCE_SCHEDULER_TAG_KEY
) -> list[Conflict]:
    """A conflict when the resource carries Instance Scheduler's tag."""
    value = resource.kind.scheduler_tag(reader, resource.params, tag_key)
    if value is None:
        return []
    return [
        resource.conflict(
            ConflictSource.INSTANCE_SCHEDULER_TAG,
            detail=(
                f'Tag "{tag_key}" = "{value}" puts this resource under AWS Instance '
                f'Scheduler\'s "{value}" schedule, which starts and stops it on its own'
            ),
            hint=(
                f'Remove the "{tag_key}" tag so that Instance Scheduler leaves the resource '
                "to envctl, or take the resource out of the composition."
            ),
        )
    ]


def tag_value(tags: list[dict[str, Any]] | None, key: str) -> str | None:
    """The value of tag ``key`` in an AWS tag list; None when it is not there."""
    # Tag keys are case-sensitive, as Instance Scheduler compares them.
    return next((str(tag.get("Value", "")) for tag in tags or [] if tag.get("Key") == key), None)
