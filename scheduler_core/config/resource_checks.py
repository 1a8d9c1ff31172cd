"""Checks on a composition's resource list as a whole, which no single item can make.

* A resource listed twice (also inside ``parallel``) would be started and stopped
  twice per run, and with two ``desired`` counts the last one listed would win. A
  resource is known by its schedule identity (``ResourceKind.schedule_identity``):
  the service and resource part of its ARN, the same way the conflict detectors
  recognise it, so ``rds_cluster`` and ``docdb_cluster`` of one id are one cluster.
* The waits of a start run one after the other (those of a parallel group side by
  side), and one Step Functions execution runs at most a year.
"""

from __future__ import annotations

from collections.abc import Iterator

from scheduler_core.config.models import ParallelGroup, ResourceItem, Step
from scheduler_core.fields import MAX_EXECUTION_SECONDS


def resource_list_problems(steps: tuple[Step, ...]) -> list[tuple[str, str]]:
    """(field, message) for every duplicate resource and for waits that outlast a run."""
    problems: list[tuple[str, str]] = []
    first: dict[tuple[str, str], tuple[str, str]] = {}
    for field, item in _located(steps):
        identity = item.kind.schedule_identity(item.params)
        if identity is None:
            continue
        key = (identity.arn_service, identity.arn_resource)
        if key not in first:
            first[key] = (field, item.label)
            continue
        where, label = first[key]
        same = f"is also {where}" if label == item.label else f"is {label}, {where}"
        problems.append((field, f"duplicate: {item.label} {same}; list each resource once"))
    waited = sum(_step_wait(step) for step in steps)
    if waited > MAX_EXECUTION_SECONDS:
        problems.append(
            (
                "resources",
                f"the waits add up to {waited} seconds; a Step Functions execution runs at "
                f"most {MAX_EXECUTION_SECONDS} seconds (365 days)",
            )
        )
    return problems


def _located(steps: tuple[Step, ...]) -> Iterator[tuple[str, ResourceItem]]:
    """Every item with its field path (``resources[2].parallel[0]``), in start order."""
    for index, step in enumerate(steps):
        if isinstance(step, ParallelGroup):
            for member, item in enumerate(step.parallel):
                yield f"resources[{index}].parallel[{member}]", item
        else:
            yield f"resources[{index}]", step


def _step_wait(step: Step) -> int:
    items = step.parallel if isinstance(step, ParallelGroup) else (step,)
    return max((item.kind.pause_seconds(item.params) for item in items), default=0)
