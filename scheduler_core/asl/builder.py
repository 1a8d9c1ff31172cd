"""Generate the start and stop state machines of a composition (pure, no AWS calls)."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from scheduler_core.asl.fragments import States
from scheduler_core.asl.naming import StateNamer
from scheduler_core.config.models import Composition, ParallelGroup, ResourceItem, Step
from scheduler_core.resources import Action

STATE_MACHINE_PREFIX = "envctl"


def state_machine_name(composition: str, action: Action) -> str:
    """``envctl-staging-start``: the name both the generator and the runtime use."""
    return f"{STATE_MACHINE_PREFIX}-{composition}-{action.value}"


def step_order(composition: Composition, action: Action) -> list[Step]:
    """Start runs the steps as listed; stop runs them in reverse, group by group."""
    steps = list(composition.resources)
    return steps if action is Action.START else steps[::-1]


def build_state_machine(composition: Composition, action: Action) -> dict[str, Any]:
    """Return the ASL document that drives every resource of ``composition`` to ``action``."""
    namer = StateNamer()
    begin = namer.claim(f"Begin {action.value} of {{}}", composition.name)
    finish = namer.claim(f"{composition.name} {'started' if action is Action.START else 'stopped'}")
    states: States = {}
    next_state = finish
    # Build back to front so every fragment knows the state that follows it.
    for step in reversed(step_order(composition, action)):
        entry, fragment = _step_states(step, action=action, next_state=next_state, namer=namer)
        states.update(fragment)
        next_state = entry
    states[begin] = {
        "Type": "Pass",
        "Comment": "Replace the input with a small, known document.",
        "Result": {"composition": composition.name, "action": action.value},
        "Next": next_state,
    }
    states[finish] = {"Type": "Succeed"}
    return {
        "Comment": (
            f"envctl: {action.value} composition {composition.name} "
            f"({len(composition.items())} resource(s)). Generated; do not edit."
        ),
        "StartAt": begin,
        "States": _in_execution_order(states, begin),
    }


def _step_states(
    step: Step, *, action: Action, next_state: str | None, namer: StateNamer
) -> tuple[str, States]:
    if isinstance(step, ParallelGroup):
        return _parallel_states(step, action=action, next_state=next_state, namer=namer)
    return _item_states(step, action=action, next_state=next_state, namer=namer)


def _item_states(
    item: ResourceItem, *, action: Action, next_state: str | None, namer: StateNamer
) -> tuple[str, States]:
    return item.kind.build_states(
        item.params,
        action=action,
        wait_until_ready=item.wait_until_ready,
        ready_timeout_seconds=item.ready_timeout_seconds,
        next_state=next_state,
        namer=namer,
    )


def _parallel_states(
    group: ParallelGroup, *, action: Action, next_state: str | None, namer: StateNamer
) -> tuple[str, States]:
    labels = ", ".join(item.label for item in group.parallel)
    name = namer.claim(f"{action.value.capitalize()} in parallel: {{}}", labels)
    branches = []
    for item in group.parallel:
        entry, states = _item_states(item, action=action, next_state=None, namer=namer)
        branches.append({"StartAt": entry, "States": _in_execution_order(states, entry)})
    state: dict[str, Any] = {
        "Type": "Parallel",
        "Branches": branches,
        "ResultPath": None,
    }
    state.update({"Next": next_state} if next_state else {"End": True})
    return name, {name: state}


def _in_execution_order(states: States, start: str) -> States:
    """Order states as they first run, so the rendered document reads top to bottom."""
    ordered: dict[str, dict[str, Any]] = {}
    pending = deque([start])
    while pending:
        name = pending.popleft()
        if name in ordered or name not in states:
            continue
        ordered[name] = states[name]
        pending.extend(_successors(states[name]))
    for name, state in states.items():
        ordered.setdefault(name, state)
    return ordered


def definition_json(definition: dict[str, Any]) -> str:
    """The definition as deployed: compact, since Step Functions caps it at 1 MB."""
    return json.dumps(definition, separators=(",", ":"))


def _successors(state: dict[str, Any]) -> list[str]:
    found = [state[key] for key in ("Next", "Default") if key in state]
    found += [choice["Next"] for choice in state.get("Choices", [])]
    found += [catch["Next"] for catch in state.get("Catch", [])]
    return found
