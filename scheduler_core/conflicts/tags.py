"""AWS Instance Scheduler: a ``Schedule`` tag hands a resource to another scheduler.

Instance Scheduler acts on EC2 instances, RDS instances and clusters and Auto
Scaling groups that carry its tag (key ``Schedule`` unless the stack was deployed
with another key). It does not schedule Redshift, ECS, EFS or FSx, so those are not
read: a ``Schedule`` tag there would be someone else's convention, not a scheduler.
Each kind costs one read, which tolerates the resource being gone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scheduler_core.conflicts.model import Conflict, ConflictSource, ManagedResource
from scheduler_core.conflicts.reading import SourceReader

INSTANCE_SCHEDULER_TAG_KEY = "Schedule"

# (reader, params, tag key) -> the tag's value, or None when untagged, missing or denied.
TagReader = Callable[[SourceReader, Any, str], str | None]


def _ec2_instance(reader: SourceReader, params: Any, key: str) -> str | None:
    tags = reader.collect(
        "ec2",
        "describe_tags",
        "Tags",
        Filters=[
            {"Name": "resource-id", "Values": [params.id]},
            {"Name": "key", "Values": [key]},
        ],
    )
    return _value(tags, key)


def _auto_scaling_group(reader: SourceReader, params: Any, key: str) -> str | None:
    tags = reader.collect(
        "autoscaling",
        "describe_tags",
        "Tags",
        Filters=[
            {"Name": "auto-scaling-group", "Values": [params.name]},
            {"Name": "key", "Values": [key]},
        ],
    )
    return _value(tags, key)


def _rds_instance(reader: SourceReader, params: Any, key: str) -> str | None:
    # DescribeDBInstances returns the TagList, which saves building the ARN.
    found = reader.read("rds", "describe_db_instances", DBInstanceIdentifier=params.id)
    instances = (found or {}).get("DBInstances", [])
    return _value(instances[0].get("TagList") if instances else None, key)


def _rds_cluster(reader: SourceReader, params: Any, key: str) -> str | None:
    found = reader.read("rds", "describe_db_clusters", DBClusterIdentifier=params.id)
    clusters = (found or {}).get("DBClusters", [])
    return _value(clusters[0].get("TagList") if clusters else None, key)


TAG_READERS: dict[str, TagReader] = {
    "auto_scaling_group": _auto_scaling_group,
    "ec2_instance": _ec2_instance,
    "rds_cluster": _rds_cluster,
    "rds_instance": _rds_instance,
}


def instance_scheduler_tag(
    reader: SourceReader, resource: ManagedResource, *, tag_key: str = INSTANCE_SCHEDULER_TAG_KEY
) -> list[Conflict]:
    """A conflict when the resource carries Instance Scheduler's tag."""
    read_tag = TAG_READERS.get(resource.type)
    value = read_tag(reader, resource.params, tag_key) if read_tag else None
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


def _value(tags: list[dict[str, Any]] | None, key: str) -> str | None:
    # Tag keys are case-sensitive, as Instance Scheduler compares them.
    return next((str(tag.get("Value", "")) for tag in tags or [] if tag.get("Key") == key), None)
