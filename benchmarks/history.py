"""History events of one happy-path execution of a generated state machine.

Step Functions keeps at most 25,000 events in one execution's history; the render
benchmark estimates how many resources one start can handle. The happy path walked
here:

* at a resource's readiness Choice, the first visit takes the resource's action (the
  Task option that leads back to the Choice, or on to another of its options, such as
  "Done"); later visits take the shortest way out: ready on the first describe after
  the action;
* at every other Choice (the trigger, schedule, lease and audit checks), the way with
  the fewest events to the scope's Succeed state, or in a Parallel branch to its end:
  the machine does its work, rather than ending in one of the Pass states that skip it
  (a skipped date, a start left alone);
* Catch edges are never taken: nothing fails.
"""

from __future__ import annotations

import heapq
from typing import Any

# History events Step Functions records for one pass through a state of each type,
# e.g. TaskStateEntered, TaskScheduled, TaskStarted, TaskSucceeded, TaskStateExited.
EVENTS_PER_STATE = {"Task": 5, "Parallel": 4, "Pass": 2, "Choice": 2, "Wait": 2, "Succeed": 2}
EXECUTION_EVENTS = 2  # ExecutionStarted, ExecutionSucceeded
_MAX_VISITS = 100_000

States = dict[str, dict[str, Any]]


def successors(state: dict[str, Any]) -> list[str]:
    """Where a state goes when nothing fails: Next, or a Choice's rules and Default."""
    if state["Type"] == "Choice":
        options = [rule["Next"] for rule in state["Choices"]]
        return options + ([state["Default"]] if "Default" in state else [])
    return [state["Next"]] if "Next" in state else []


def happy_path_events(machine: dict[str, Any]) -> int:
    """Events of the states one happy-path run of ``machine`` (or a branch) visits."""
    states: States = machine["States"]
    remaining = _events_to_end(states)
    visits: dict[str, int] = {}
    events = 0
    name: str | None = machine["StartAt"]
    while name is not None:
        if sum(visits.values()) > _MAX_VISITS:
            raise RuntimeError(f"no end of the happy path after {_MAX_VISITS} states")
        state = states[name]
        events += EVENTS_PER_STATE[state["Type"]]
        for branch in state.get("Branches", []):
            events += happy_path_events(branch)
        visits[name] = visits.get(name, 0) + 1
        name = _next(name, states, remaining, first_visit=visits[name] == 1)
    return events


def _next(name: str, states: States, remaining: dict[str, int], *, first_visit: bool) -> str | None:
    state = states[name]
    options = [option for option in successors(state) if option in remaining]
    if not options:
        return None
    if state["Type"] == "Choice" and first_visit:
        action = next((o for o in options if _is_action(o, name, options, states)), None)
        if action is not None:
            return action
    return min(options, key=lambda option: remaining[option])


def _is_action(option: str, choice: str, options: list[str], states: States) -> bool:
    """A Task whose Next chain comes back to ``choice`` or joins another of its options."""
    if states[option]["Type"] != "Task":
        return False
    seen = {option}
    name = states[option].get("Next")
    while name is not None and name not in seen:
        if name == choice or name in options:
            return True
        if states[name]["Type"] == "Choice":
            return False
        seen.add(name)
        name = states[name].get("Next")
    return False


def _events_to_end(states: States) -> dict[str, int]:
    """Fewest events from each state (itself included) to the end of its scope.

    The end is the scope's Succeed state if it has one, else any state with End. States
    that cannot reach it (the Fail states) are left out.
    """
    ends = [name for name, state in states.items() if state["Type"] == "Succeed"] or [
        name for name, state in states.items() if state.get("End")
    ]
    callers: dict[str, list[str]] = {name: [] for name in states}
    for name, state in states.items():
        for following in successors(state):
            callers[following].append(name)
    remaining: dict[str, int] = {}
    queue = [(EVENTS_PER_STATE[states[name]["Type"]], name) for name in ends]
    heapq.heapify(queue)
    while queue:
        events, name = heapq.heappop(queue)
        if name in remaining:
            continue
        remaining[name] = events
        for caller in callers[name]:
            if caller not in remaining:
                cost = EVENTS_PER_STATE[states[caller]["Type"]]
                heapq.heappush(queue, (events + cost, caller))
    return remaining
