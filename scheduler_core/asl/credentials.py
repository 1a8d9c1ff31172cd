"""Reach resources in another account: ``Credentials`` on every Task that touches one.

The run's own bookkeeping (the table, its schedules, Step Functions itself) stays in
the deployment's account, so only the calls of the resource steps carry the role.
"""

from __future__ import annotations

from typing import Any

from scheduler_core.asl.fragments import States

SDK = "arn:aws:states:::aws-sdk:"
# Services the run calls for itself, in the deployment's account.
BOOKKEEPING = frozenset({"dynamodb", "scheduler", "sfn"})


def touches_a_resource(state: dict[str, Any]) -> bool:
    resource = str(state.get("Resource", ""))
    if state.get("Type") != "Task" or not resource.startswith(SDK):
        return False
    return resource[len(SDK) :].split(":", 1)[0] not in BOOKKEEPING


def with_credentials(states: States, role_arn: str | None) -> States:
    """``states`` with ``Credentials.RoleArn`` on each resource Task (Parallel branches too)."""
    if role_arn is None:
        return states
    found: States = {}
    for name, state in states.items():
        if touches_a_resource(state):
            state = {**state, "Credentials": {"RoleArn": role_arn}}
        elif state.get("Type") == "Parallel":
            branches = [
                {**branch, "States": with_credentials(branch["States"], role_arn)}
                for branch in state["Branches"]
            ]
            state = {**state, "Branches": branches}
        found[name] = state
    return found
