"""Conflicts: other schedules acting on the resources envctl manages.

The Terraform module envctl replaces could not see Auto Scaling scheduled actions,
Application Auto Scaling, other EventBridge Scheduler schedules or AWS Instance
Scheduler acting on the same resources, so their schedules contradicted each other
silently. ``find_conflicts`` reads (never writes) and reports them for ``plan``,
``windows`` and Slack.
"""

from scheduler_core.conflicts.finder import find_conflicts
from scheduler_core.conflicts.model import Conflict, ConflictSource
from scheduler_core.conflicts.schedules import ForeignSchedule, list_foreign_schedules
from scheduler_core.conflicts.tags import INSTANCE_SCHEDULER_TAG_KEY

__all__ = [
    "INSTANCE_SCHEDULER_TAG_KEY",
    "Conflict",
    "ConflictSource",
    "ForeignSchedule",
    "find_conflicts",
    "list_foreign_schedules",
]
