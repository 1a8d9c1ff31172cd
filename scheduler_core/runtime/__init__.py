"""Runtime operations on compositions: start, stop, follow, status.

Every entry point (CLI, Slack, webhooks) goes through this package, never boto3.
"""

from scheduler_core.runtime.deploy import deployed_state_machine, state_machine_arn
from scheduler_core.runtime.executions import (
    ExecutionConflictError,
    ExecutionResult,
    StepEvent,
    begin,
    follow,
    in_progress,
)
from scheduler_core.runtime.status import CompositionState, CompositionStatus, read_status

__all__ = [
    "CompositionState",
    "CompositionStatus",
    "ExecutionConflictError",
    "ExecutionResult",
    "StepEvent",
    "begin",
    "deployed_state_machine",
    "follow",
    "in_progress",
    "read_status",
    "state_machine_arn",
]
