"""Generated state machines: order, names, structure, SDK calls, readiness loop, tracking.

The oracles here are independent of how the builder names or orders states: the
structural validator checks the ASL graph rules, and the execution order of resources
is read from the graph itself (a state that can reach another runs before it).

A machine has two levels. The top level records the composition's state in the envctl
table (optimized DynamoDB integrations), lets a scheduled run be skipped once, and
runs the body: one Parallel state, ``Run <action> of <composition>``, whose single
branch holds the resource steps (aws-sdk integrations only).
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_core.asl.builder import DEFAULT_TABLE, build_state_machine
from scheduler_core.config import Composition, parse_config
from scheduler_core.resources import REGISTRY, Action
from scheduler_core.runtime.store import Store

GOLDEN = Path(__file__).parent / "golden"
MAX_STATE_NAME = 80
SDK_ARN = re.compile(
    r"^arn:aws:states:::aws-sdk:(?P<service>[a-z0-9]+):(?P<action>[a-z][A-Za-z0-9]*)$"
)
DYNAMODB_ARN = re.compile(r"^arn:aws:states:::dynamodb:(?P<action>updateItem|putItem)$")
UPDATE_ITEM = "arn:aws:states:::dynamodb:updateItem"
PUT_ITEM = "arn:aws:states:::dynamodb:putItem"
BODY_NAME = re.compile(r"^Run (?:start|stop) of .+$")
POLLED_KINDS = sorted(kind for kind in REGISTRY if kind != "wait")

Document = dict[str, Any]
States = dict[str, dict[str, Any]]
StepSignature = str | tuple[str, ...]

# One valid item per kind, with numbers written as strings the way Terraform users do.
SAMPLE_PARAMS: dict[str, dict[str, Any]] = {
    "auto_scaling_group": {"name": "shop-workers", "min": "1", "max": "4", "desired": "2"},
    "ec2_instance": {"id": "i-0123456789abcdef0"},
    "ecs_service": {"cluster_name": "shop", "name": "api", "desired": "2"},
    "efs_file_system": {"id": "fs-1", "provisioned_throughput_in_mibps": "64.5"},
    "fsx_windows_file_system": {"id": "fs-2", "throughput_capacity": "64"},
    "rds_cluster": {"id": "staging-db"},
    "rds_instance": {"id": "db1"},
    "redshift_cluster": {"id": "warehouse"},
    "wait": {"seconds": "30"},
}
SAMPLE_LABELS = {
    "auto_scaling_group": "auto_scaling_group shop-workers",
    "ec2_instance": "ec2_instance i-0123456789abcdef0",
    "ecs_service": "ecs_service shop/api",
    "efs_file_system": "efs_file_system fs-1",
    "fsx_windows_file_system": "fsx_windows_file_system fs-2",
    "rds_cluster": "rds_cluster staging-db",
    "rds_instance": "rds_instance db1",
    "redshift_cluster": "redshift_cluster warehouse",
}
# (kind, action) -> the action Task's Resource and Parameters, in Step Functions casing.
ACTION_CALLS: dict[tuple[str, Action], tuple[str, dict[str, Any]]] = {
    ("auto_scaling_group", Action.START): (
        "arn:aws:states:::aws-sdk:autoscaling:updateAutoScalingGroup",
        {"AutoScalingGroupName": "shop-workers", "MinSize": 1, "MaxSize": 4, "DesiredCapacity": 2},
    ),
    ("auto_scaling_group", Action.STOP): (
        "arn:aws:states:::aws-sdk:autoscaling:updateAutoScalingGroup",
        {"AutoScalingGroupName": "shop-workers", "MinSize": 0, "MaxSize": 0, "DesiredCapacity": 0},
    ),
    ("ec2_instance", Action.START): (
        "arn:aws:states:::aws-sdk:ec2:startInstances",
        {"InstanceIds": ["i-0123456789abcdef0"]},
    ),
    ("ec2_instance", Action.STOP): (
        "arn:aws:states:::aws-sdk:ec2:stopInstances",
        {"InstanceIds": ["i-0123456789abcdef0"]},
    ),
    ("ecs_service", Action.START): (
        "arn:aws:states:::aws-sdk:ecs:updateService",
        {"Cluster": "shop", "Service": "api", "DesiredCount": 2},
    ),
    ("ecs_service", Action.STOP): (
        "arn:aws:states:::aws-sdk:ecs:updateService",
        {"Cluster": "shop", "Service": "api", "DesiredCount": 0},
    ),
    ("efs_file_system", Action.START): (
        "arn:aws:states:::aws-sdk:efs:updateFileSystem",
        {
            "FileSystemId": "fs-1",
            "ThroughputMode": "provisioned",
            "ProvisionedThroughputInMibps": 64.5,
        },
    ),
    ("efs_file_system", Action.STOP): (
        "arn:aws:states:::aws-sdk:efs:updateFileSystem",
        {
            "FileSystemId": "fs-1",
            "ThroughputMode": "provisioned",
            "ProvisionedThroughputInMibps": 1,
        },
    ),
    ("fsx_windows_file_system", Action.START): (
        "arn:aws:states:::aws-sdk:fsx:updateFileSystem",
        {"FileSystemId": "fs-2", "WindowsConfiguration": {"ThroughputCapacity": 64}},
    ),
    ("fsx_windows_file_system", Action.STOP): (
        "arn:aws:states:::aws-sdk:fsx:updateFileSystem",
        {"FileSystemId": "fs-2", "WindowsConfiguration": {"ThroughputCapacity": 32}},
    ),
    ("rds_cluster", Action.START): (
        "arn:aws:states:::aws-sdk:rds:startDBCluster",
        {"DbClusterIdentifier": "staging-db"},
    ),
    ("rds_cluster", Action.STOP): (
        "arn:aws:states:::aws-sdk:rds:stopDBCluster",
        {"DbClusterIdentifier": "staging-db"},
    ),
    ("rds_instance", Action.START): (
        "arn:aws:states:::aws-sdk:rds:startDBInstance",
        {"DbInstanceIdentifier": "db1"},
    ),
    ("rds_instance", Action.STOP): (
        "arn:aws:states:::aws-sdk:rds:stopDBInstance",
        {"DbInstanceIdentifier": "db1"},
    ),
    ("redshift_cluster", Action.START): (
        "arn:aws:states:::aws-sdk:redshift:resumeCluster",
        {"ClusterIdentifier": "warehouse"},
    ),
    ("redshift_cluster", Action.STOP): (
        "arn:aws:states:::aws-sdk:redshift:pauseCluster",
        {"ClusterIdentifier": "warehouse"},
    ),
}


def describe_signature(kind: str, params: dict[str, Any]) -> str:
    """The describe call a resource's loop must make, written out by hand per kind."""
    calls: dict[str, tuple[str, dict[str, Any]]] = {
        "auto_scaling_group": (
            "autoscaling:describeAutoScalingGroups",
            {"AutoScalingGroupNames": [params.get("name")]},
        ),
        "ec2_instance": ("ec2:describeInstances", {"InstanceIds": [params.get("id")]}),
        "ecs_service": (
            "ecs:describeServices",
            {"Cluster": params.get("cluster_name"), "Services": [params.get("name")]},
        ),
        "efs_file_system": ("efs:describeFileSystems", {"FileSystemId": params.get("id")}),
        "fsx_windows_file_system": (
            "fsx:describeFileSystems",
            {"FileSystemIds": [params.get("id")]},
        ),
        "rds_cluster": ("rds:describeDBClusters", {"DbClusterIdentifier": params.get("id")}),
        "rds_instance": ("rds:describeDBInstances", {"DbInstanceIdentifier": params.get("id")}),
        "redshift_cluster": ("redshift:describeClusters", {"ClusterIdentifier": params.get("id")}),
    }
    if kind == "wait":
        return f"wait {int(params['seconds'])}"
    call, parameters = calls[kind]
    return f"{call} {json.dumps(parameters, sort_keys=True)}"


def expected_signature(step: dict[str, Any]) -> StepSignature:
    if "parallel" in step:
        return tuple(sorted(expected_signature(item) for item in step["parallel"]))  # type: ignore[misc]
    return describe_signature(step["type"], step["params"])


# --- building compositions through the real loader ---------------------------------------


def composition_of(resources: list[dict[str, Any]], name: str = "env") -> Composition:
    text = yaml.safe_dump({"compositions": {name: {"resources": resources}}}, sort_keys=False)
    return parse_config(text, path=Path("compositions.yaml")).get(name)


def item(kind: str, **options: Any) -> dict[str, Any]:
    return {"type": kind, "params": dict(SAMPLE_PARAMS[kind]), **options}


def machine_for(kind: str, action: Action, **options: Any) -> Document:
    return build_state_machine(composition_of([item(kind, **options)]), action)


# --- the structural validator (the oracle for every shape of machine) ---------------------


def successors(state: dict[str, Any]) -> list[str]:
    found = [state[key] for key in ("Next", "Default") if key in state]
    found += [choice["Next"] for choice in state.get("Choices", [])]
    found += [catch["Next"] for catch in state.get("Catch", [])]
    return found


def reachable(states: States, starts: list[str]) -> set[str]:
    seen: set[str] = set()
    pending = list(starts)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(successors(states[name]))
    return seen


def is_terminal(state: dict[str, Any]) -> bool:
    return state["Type"] in {"Succeed", "Fail"} or state.get("End") is True


def scopes(scope: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The document and every Parallel branch in it, recursively."""
    yield scope
    for state in scope["States"].values():
        for branch in state.get("Branches", []):
            yield from scopes(branch)


def steps_scope(document: Document) -> dict[str, Any]:
    """The branch of the body (``Run <action> of <name>``): the resource steps."""
    [body] = [name for name in document["States"] if BODY_NAME.match(name)]
    state = document["States"][body]
    assert state["Type"] == "Parallel", body
    [branch] = state["Branches"]
    return branch


def check_state_shape(name: str, state: dict[str, Any], tasks: re.Pattern[str]) -> None:
    kind = state["Type"]
    if kind in {"Succeed", "Fail"}:
        assert "Next" not in state and "End" not in state, name
    elif kind == "Choice":
        assert state["Choices"], name
        assert "Next" not in state and "End" not in state, name
    else:
        assert ("Next" in state) != (state.get("End") is True), name
    if kind == "Parallel":
        assert state["Branches"], name
    if kind == "Task":
        assert tasks.match(state["Resource"]), (name, state["Resource"])


def check_scope(scope: dict[str, Any], tasks: re.Pattern[str]) -> None:
    """ASL graph rules for one scope; its Task states must use ``tasks`` integrations."""
    states: States = scope["States"]
    assert scope["StartAt"] in states
    for name, state in states.items():
        check_state_shape(name, state, tasks)
        for target in successors(state):
            assert target in states, f"{name!r} -> {target!r} is not in the same scope"
        assert bool(successors(state)) != is_terminal(state), name
    assert reachable(states, [scope["StartAt"]]) == set(states), "unreachable states"
    # Walking the edges backwards from the terminal states must reach every state:
    # nothing can loop for ever without a way out.
    predecessors: dict[str, list[str]] = {name: [] for name in states}
    for name, state in states.items():
        for target in successors(state):
            predecessors[target].append(name)
    can_finish: set[str] = set()
    pending = [name for name, state in states.items() if is_terminal(state)]
    while pending:
        name = pending.pop()
        if name not in can_finish:
            can_finish.add(name)
            pending.extend(predecessors[name])
    assert can_finish == set(states), f"no way out from {set(states) - can_finish}"


def state_names(document: Document) -> list[str]:
    return [name for scope in scopes(document) for name in scope["States"]]


def validate_structure(document: Document) -> None:
    """Every rule of ASL that the builder must respect, checked on the whole document.

    The top level only talks to DynamoDB; the body branch and the branches nested in
    it only make aws-sdk calls. Every scope of the document is one of these.
    """
    check_scope(document, tasks=DYNAMODB_ARN)
    body_scopes = list(scopes(steps_scope(document)))
    for scope in body_scopes:
        check_scope(scope, tasks=SDK_ARN)
    assert len(list(scopes(document))) == 1 + len(body_scopes), "a branch outside the body"
    names = state_names(document)
    assert len(names) == len(set(names)), "state names repeat across scopes"
    too_long = [name for name in names if not 1 <= len(name) <= MAX_STATE_NAME]
    assert not too_long, too_long


# --- execution order, read from the graph ---------------------------------------------------


def in_a_loop(states: States, name: str) -> bool:
    return name in reachable(states, successors(states[name]))


def signature_of(states: States, name: str) -> StepSignature | None:
    """What resource step a state stands for, or None for the states around it."""
    state = states[name]
    if state["Type"] == "Task":
        match = SDK_ARN.match(state["Resource"])
        assert match
        if match["action"].startswith("describe"):
            call = f"{match['service']}:{match['action']}"
            return f"{call} {json.dumps(state['Parameters'], sort_keys=True)}"
    if state["Type"] == "Wait" and not in_a_loop(states, name):
        return f"wait {state['Seconds']}"
    if state["Type"] == "Parallel":
        branches = [resource_order(branch) for branch in state["Branches"]]
        assert all(len(branch) == 1 for branch in branches), "one resource per branch"
        return tuple(sorted(branch[0] for branch in branches))  # type: ignore[misc]
    return None


def resource_order(scope: dict[str, Any]) -> list[StepSignature]:
    """Resource steps in execution order: a step runs before every step it can reach."""
    states: States = scope["States"]
    found = [
        (name, signature)
        for name in states
        if (signature := signature_of(states, name)) is not None
    ]
    downstream = {name: reachable(states, [name]) for name, _ in found}
    ordered = sorted(found, key=lambda entry: -len(downstream[entry[0]]))
    for (before, _), (after, _) in pairwise(ordered):
        assert after in downstream[before], f"{before!r} does not lead to {after!r}"
        assert before not in downstream[after], f"{after!r} leads back to {before!r}"
    return [signature for _, signature in ordered]


def task_states(document: Document) -> Iterator[tuple[str, dict[str, Any]]]:
    """The Task states of the resource steps, in the body branch and the branches in it."""
    for scope in scopes(steps_scope(document)):
        for name, state in scope["States"].items():
            if state["Type"] == "Task":
                yield name, state


def action_task(document: Document) -> tuple[str, dict[str, Any]]:
    [found] = [
        (name, state)
        for name, state in task_states(document)
        if not SDK_ARN.match(state["Resource"])["action"].startswith("describe")  # type: ignore[index]
    ]
    return found


def json_kinds(value: Any) -> Any:
    """The JSON type of every leaf: a number must arrive as a number, not a string."""
    if isinstance(value, dict):
        return {key: json_kinds(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_kinds(item) for item in value]
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


# --- the top level: tracking around the body --------------------------------------------------

DYNAMODB_PARAMETERS = {
    "TableName",
    "Key",
    "Item",
    "UpdateExpression",
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
}


def top_names(action: Action, name: str = "env") -> dict[str, str]:
    """The top-level states by role, as the builder names them."""
    verb = action.value
    doing, done = ("starting", "started") if action is Action.START else ("stopping", "stopped")
    return {
        "has_trigger": f"Has {name} a trigger?",
        "begin": f"Begin {verb} of {name}",
        "begin_console": f"Begin console {verb} of {name}",
        "scheduled": f"Is this a scheduled {verb} of {name}?",
        "consume": f"Skip this scheduled {verb} of {name}?",
        "audit_skip": f"Audit skipped {verb} of {name}",
        "skipped": f"Skipped scheduled {verb} of {name}",
        "audit": f"Audit scheduled {verb} of {name}",
        "record_begin": f"Record {name} {doing}",
        "body": f"Run {verb} of {name}",
        "record_done": f"Record {name} {done}",
        "record_failed": f"Record {name} failed",
        "failed": f"{verb.capitalize()} of {name} failed",
        "finish": f"{name} {done}",
    }


def expected_top_level_graph(action: Action, name: str = "env") -> dict[str, tuple[str, list[str]]]:
    """Every top-level state: its type and the states it can go to (Next, Choices, Catch)."""
    n = top_names(action, name)
    edges = {
        "has_trigger": ("Choice", ["begin", "begin_console"]),
        "begin": ("Pass", ["scheduled"]),
        "begin_console": ("Pass", ["scheduled"]),
        "scheduled": ("Choice", ["consume", "record_begin"]),
        "consume": ("Task", ["audit_skip", "audit"]),
        "audit_skip": ("Task", ["skipped"]),
        "skipped": ("Succeed", []),
        "audit": ("Task", ["record_begin"]),
        "record_begin": ("Task", ["body"]),
        "body": ("Parallel", ["record_done", "record_failed"]),
        "record_done": ("Task", ["finish"]),
        # Next and Catch both go to the Fail state: recording must not hide the error.
        "record_failed": ("Task", ["failed", "failed"]),
        "failed": ("Fail", []),
        "finish": ("Succeed", []),
    }
    return {
        n[role]: (kind, sorted(n[t] for t in targets)) for role, (kind, targets) in edges.items()
    }


def top_level_graph(document: Document) -> dict[str, tuple[str, list[str]]]:
    return {
        name: (state["Type"], sorted(successors(state)))
        for name, state in document["States"].items()
    }


def tracking_tasks(action: Action) -> dict[str, str]:
    """The top-level Task states and their optimized DynamoDB integration."""
    n = top_names(action)
    return {
        n["consume"]: UPDATE_ITEM,
        n["audit_skip"]: PUT_ITEM,
        n["audit"]: PUT_ITEM,
        n["record_begin"]: UPDATE_ITEM,
        n["record_done"]: UPDATE_ITEM,
        n["record_failed"]: UPDATE_ITEM,
    }


def top_level_tasks(document: Document) -> dict[str, str]:
    return {
        name: state["Resource"]
        for name, state in document["States"].items()
        if state["Type"] == "Task"
    }


def update_effect(parameters: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """(attributes SET with their values, attributes REMOVEd) by an UpdateItem.

    DynamoDB rejects placeholders that are defined but unused, and reserved words
    (``state``, ``error``...) used bare, so every attribute must go through ``#name``
    and every placeholder must be used.
    """
    names: dict[str, str] = parameters.get("ExpressionAttributeNames", {})
    values: dict[str, Any] = parameters.get("ExpressionAttributeValues", {})
    expressions = [parameters["UpdateExpression"], parameters.get("ConditionExpression", "")]
    for expression in expressions:
        bare = re.sub(r"[#:]\w+|\bSET\b|\bREMOVE\b|[=,]", "", expression)
        assert not bare.strip(), f"bare words in {expression!r}"
    assert set(re.findall(r"#\w+", " ".join(expressions))) == set(names)
    assert set(re.findall(r":\w+", " ".join(expressions))) == set(values)
    clauses = dict(re.findall(r"\b(SET|REMOVE)\s+(.*?)(?=\s+(?:SET|REMOVE)\b|$)", expressions[0]))
    assigned = {}
    for assignment in clauses.get("SET", "").split(",") if "SET" in clauses else []:
        left, right = (part.strip() for part in assignment.split("="))
        assigned[names[left]] = values[right]
    removed = {names[part.strip()] for part in clauses.get("REMOVE", "").split(",") if part.strip()}
    return assigned, removed


# A small interpreter of the top level: enough to follow one execution through the
# Choice, Pass, Task and Parallel states there, with the outcome of each Task (and of
# the body) given by the test. Every JSONPath a state reads must exist at that point.

MISSING = object()


def lookup(data: Any, path: str) -> Any:
    assert path.startswith("$."), path
    for part in path[2:].split("."):
        if not isinstance(data, dict) or part not in data:
            return MISSING
        data = data[part]
    return data


def read(data: Any, path: str) -> Any:
    value = lookup(data, path)
    assert value is not MISSING, f"{path} is not in {data}"
    return value


def apply_template(template: Any, data: Any) -> Any:
    """Parameters applied to the state's input: ``key.$`` paths are read from it."""
    if isinstance(template, list):
        return [apply_template(value, data) for value in template]
    if not isinstance(template, dict):
        return template
    result = {}
    for key, value in template.items():
        if not key.endswith(".$"):
            result[key] = apply_template(value, data)
        elif value.startswith(("$$.", "States.")):
            result[key[:-2]] = f"<{value}>"  # the context object or an intrinsic function
        else:
            result[key[:-2]] = read(data, value)
    return result


def rule_matches(rule: dict[str, Any], data: Any) -> bool:
    value = lookup(data, rule["Variable"])
    if "IsPresent" in rule:
        return (value is not MISSING) == rule["IsPresent"]
    # Step Functions fails the execution when a compared path is missing.
    assert value is not MISSING, f"{rule['Variable']} is compared but not in {data}"
    assert set(rule) == {"Variable", "StringEquals", "Next"}, rule
    return bool(value == rule["StringEquals"])


def run_top_level(
    document: Document, execution_input: dict[str, Any], errors: dict[str, dict[str, str]]
) -> tuple[list[str], tuple[Any, ...]]:
    """The top-level states one execution visits, and how it ends.

    ``errors`` maps a Task or Parallel state to the error it raises; the others succeed.
    Ends in ("succeeded", output), ("failed", error, cause) or ("uncaught", error).
    """
    states = document["States"]
    name, data, visited = document["StartAt"], execution_input, []
    while len(visited) < 50:
        visited.append(name)
        state = states[name]
        kind = state["Type"]
        if kind == "Succeed":
            return visited, ("succeeded", data)
        if kind == "Fail":
            return visited, (
                "failed",
                read(data, state["ErrorPath"]),
                read(data, state["CausePath"]),
            )
        if kind == "Choice":
            matching = [rule["Next"] for rule in state["Choices"] if rule_matches(rule, data)]
            name = matching[0] if matching else state["Default"]
            continue
        if kind == "Pass":
            data = apply_template(state["Parameters"], data)
            name = state["Next"]
            continue
        assert kind in {"Task", "Parallel"}, kind
        if kind == "Task":
            apply_template(state["Parameters"], data)
        error = errors.get(name)
        if error is None:
            assert state["ResultPath"] is None, f"{name} replaces the document"
            name = state["Next"]
            continue
        catcher = next(
            (
                catch
                for catch in state.get("Catch", [])
                if error["Error"] in catch["ErrorEquals"] or "States.ALL" in catch["ErrorEquals"]
            ),
            None,
        )
        if catcher is None:
            return visited, ("uncaught", error)
        if catcher["ResultPath"] is not None:
            assert catcher["ResultPath"].count(".") == 1, catcher["ResultPath"]
            data = {**data, catcher["ResultPath"][2:]: error}
        name = catcher["Next"]
    raise AssertionError(f"no end after {visited}")


# --- order of steps --------------------------------------------------------------------------

THREE_STEPS: list[dict[str, Any]] = [
    {"type": "rds_cluster", "params": {"id": "staging-db"}},
    {"type": "wait", "params": {"seconds": 30}},
    {
        "parallel": [
            {
                "type": "ecs_service",
                "params": {"cluster_name": "shop", "name": "api", "desired": 2},
            },
            {
                "type": "auto_scaling_group",
                "params": {"name": "shop-workers", "min": 1, "max": 4, "desired": 2},
            },
        ]
    },
]
DB = 'rds:describeDBClusters {"DbClusterIdentifier": "staging-db"}'
API = 'ecs:describeServices {"Cluster": "shop", "Services": ["api"]}'
WORKERS = 'autoscaling:describeAutoScalingGroups {"AutoScalingGroupNames": ["shop-workers"]}'


def test_start_runs_steps_in_listed_order() -> None:
    document = build_state_machine(composition_of(THREE_STEPS), Action.START)

    assert resource_order(steps_scope(document)) == [
        DB,
        "wait 30",
        tuple(sorted([API, WORKERS])),
    ]


def test_stop_runs_parallel_group_before_earlier_steps() -> None:
    document = build_state_machine(composition_of(THREE_STEPS), Action.STOP)

    assert resource_order(steps_scope(document)) == [tuple(sorted([API, WORKERS])), "wait 30", DB]


def test_stop_order_is_exact_reverse_of_start_order() -> None:
    composition = composition_of(THREE_STEPS)

    start = resource_order(steps_scope(build_state_machine(composition, Action.START)))
    stop = resource_order(steps_scope(build_state_machine(composition, Action.STOP)))

    assert stop == start[::-1]


@pytest.mark.parametrize("action", list(Action))
def test_parallel_group_becomes_one_parallel_state_with_a_branch_per_item(action: Action) -> None:
    document = build_state_machine(composition_of(THREE_STEPS), action)

    steps = steps_scope(document)["States"]
    parallels = [state for state in steps.values() if state["Type"] == "Parallel"]
    assert len(parallels) == 1
    branch_orders = [resource_order(branch) for branch in parallels[0]["Branches"]]
    assert branch_orders == [[API], [WORKERS]]
    # Besides it, the only Parallel state anywhere is the body, at the top level.
    top = [name for name, state in document["States"].items() if state["Type"] == "Parallel"]
    assert top == [f"Run {action.value} of env"]
    nested = [
        state
        for scope in scopes(steps_scope(document))
        for state in scope["States"].values()
        if state["Type"] == "Parallel"
    ]
    assert nested == parallels


@pytest.mark.parametrize(
    ("action", "last", "kind"),
    [
        (Action.START, "Start in parallel: ", "Parallel"),
        (Action.STOP, "Done rds_cluster staging-db", "Pass"),
    ],
)
def test_last_resource_step_ends_the_body_branch(action: Action, last: str, kind: str) -> None:
    document = build_state_machine(composition_of(THREE_STEPS), action)

    steps = steps_scope(document)["States"]
    ends = [name for name, state in steps.items() if state.get("End") is True]
    assert len(ends) == 1
    assert ends[0].startswith(last)
    assert steps[ends[0]]["Type"] == kind
    # Nothing else leaves the branch: every other way out is a resource's Fail state.
    others = [name for name, state in steps.items() if not successors(state)]
    assert all(steps[name]["Type"] == "Fail" for name in others if name not in ends)


# --- state names ---------------------------------------------------------------------------

LONG_SERVICE = "s" * 200
LONG_ECS = {
    "type": "ecs_service",
    "params": {"cluster_name": "c" * 60, "name": LONG_SERVICE, "desired": 1},
}
REPEATED_RESOURCES: list[dict[str, Any]] = [
    {"type": "rds_instance", "params": {"id": "db1"}},
    {"type": "rds_instance", "params": {"id": "db1"}},
    LONG_ECS,
    LONG_ECS,
    {"parallel": [LONG_ECS, LONG_ECS, {"type": "rds_instance", "params": {"id": "db1"}}]},
    {"parallel": [LONG_ECS, {"type": "wait", "params": {"seconds": 5}}]},
    {"type": "wait", "params": {"seconds": 5}},
    {"type": "wait", "params": {"seconds": 5}},
]


@pytest.mark.parametrize("action", list(Action))
def test_state_names_are_unique_across_branches_for_repeated_resources(action: Action) -> None:
    document = build_state_machine(composition_of(REPEATED_RESOURCES), action)

    names = state_names(document)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("action", list(Action))
def test_state_names_fit_80_characters_with_a_200_character_service_name(action: Action) -> None:
    document = build_state_machine(composition_of(REPEATED_RESOURCES), action)

    assert max(len(name) for name in state_names(document)) <= MAX_STATE_NAME


@pytest.mark.parametrize("action", list(Action))
def test_machine_with_repeated_long_resources_is_structurally_valid(action: Action) -> None:
    document = build_state_machine(composition_of(REPEATED_RESOURCES), action)

    validate_structure(document)


def test_long_service_name_is_kept_whole_in_the_sdk_call() -> None:
    document = build_state_machine(composition_of([LONG_ECS]), Action.START)

    _, task = action_task(document)
    assert task["Parameters"]["Service"] == LONG_SERVICE


# --- structure, for every kind in both directions ----------------------------------------


@pytest.mark.parametrize("wait_until_ready", [True, False])
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_kind_builds_a_structurally_valid_machine(
    kind: str, action: Action, wait_until_ready: bool
) -> None:
    document = machine_for(kind, action, wait_until_ready=wait_until_ready)

    validate_structure(document)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_kind_inside_a_parallel_group_is_structurally_valid(
    kind: str, action: Action
) -> None:
    resources = [{"parallel": [item(kind), item(kind)]}, item("wait")]

    validate_structure(build_state_machine(composition_of(resources), action))


def test_sample_params_cover_every_registered_kind() -> None:
    assert set(SAMPLE_PARAMS) == set(REGISTRY)
    assert {kind for kind, _ in ACTION_CALLS} == set(POLLED_KINDS)


# --- SDK calls ------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "action"), list(ACTION_CALLS))
def test_action_calls_the_sdk_integration_with_step_functions_casing(
    kind: str, action: Action
) -> None:
    resource, parameters = ACTION_CALLS[kind, action]

    _, task = action_task(machine_for(kind, action))

    assert task["Resource"] == resource
    assert task["Parameters"] == parameters


@pytest.mark.parametrize(("kind", "action"), list(ACTION_CALLS))
def test_numbers_written_as_strings_arrive_as_json_numbers(kind: str, action: Action) -> None:
    _, parameters = ACTION_CALLS[kind, action]

    _, task = action_task(machine_for(kind, action))

    assert json_kinds(task["Parameters"]) == json_kinds(parameters)


@pytest.mark.parametrize("kind", POLLED_KINDS)
def test_describe_call_uses_step_functions_casing(kind: str) -> None:
    document = machine_for(kind, Action.START)

    assert resource_order(steps_scope(document)) == [describe_signature(kind, SAMPLE_PARAMS[kind])]


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_task_is_an_aws_sdk_integration_with_pascal_case_parameters(
    kind: str, action: Action
) -> None:
    def keys(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            for key, inner in value.items():
                yield key
                yield from keys(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from keys(inner)

    document = machine_for(kind, action)

    resource_tasks = list(task_states(document))
    assert resource_tasks or kind == "wait"
    for name, task in resource_tasks:
        assert SDK_ARN.match(task["Resource"]), name
        assert all(key[0].isupper() for key in keys(task["Parameters"])), task["Parameters"]
    # The only other tasks are the tracking ones at the top level, all DynamoDB.
    assert top_level_tasks(document) == tracking_tasks(action)
    assert len(list(scopes(document))) == 1 + len(list(scopes(steps_scope(document))))
    for name, task in document["States"].items():
        if task["Type"] == "Task":
            assert set(task["Parameters"]) <= DYNAMODB_PARAMETERS, name


def test_wait_seconds_written_as_string_arrive_as_a_json_number() -> None:
    document = build_state_machine(composition_of([item("wait")]), Action.START)

    [wait] = [
        state for state in steps_scope(document)["States"].values() if state["Type"] == "Wait"
    ]
    assert wait["Seconds"] == 30
    assert type(wait["Seconds"]) is int


# --- the readiness loop -----------------------------------------------------------------------


def polling_wait(document: Document) -> tuple[str, dict[str, Any]]:
    states = steps_scope(document)["States"]
    [found] = [
        (name, state)
        for name, state in states.items()
        if state["Type"] == "Wait" and in_a_loop(states, name)
    ]
    return found


def attempt_bounds(document: Document) -> list[int]:
    return [
        choice["NumericGreaterThanEquals"]
        for state in steps_scope(document)["States"].values()
        if state["Type"] == "Choice"
        for choice in state["Choices"]
        if choice.get("Variable") == "$.attempts.count" and "NumericGreaterThanEquals" in choice
    ]


@pytest.mark.parametrize("timeout", [1, 7, 60, 1800, 86400])
def test_readiness_loop_waits_at_least_the_ready_timeout(timeout: int) -> None:
    document = machine_for("rds_instance", Action.START, ready_timeout_seconds=timeout)

    _, wait = polling_wait(document)
    [bound] = attempt_bounds(document)
    assert bound * wait["Seconds"] >= timeout
    assert (bound - 1) * wait["Seconds"] < timeout  # and not a whole poll longer


@pytest.mark.parametrize("kind", POLLED_KINDS)
def test_readiness_loop_returns_from_wait_to_the_describe_call(kind: str) -> None:
    document = machine_for(kind, Action.START)
    states = steps_scope(document)["States"]

    name, _ = polling_wait(document)

    loop = reachable(states, [name]) & reachable(states, successors(states[name]))
    describes = [
        n for n in loop if states[n]["Type"] == "Task" and ":describe" in states[n]["Resource"]
    ]
    assert len(describes) == 1


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("kind", POLLED_KINDS)
def test_fail_states_name_the_resource_in_their_cause(kind: str, action: Action) -> None:
    document = machine_for(kind, action)

    steps = steps_scope(document)["States"]
    fails = [state for state in steps.values() if state["Type"] == "Fail"]
    assert fails
    for state in fails:
        assert SAMPLE_LABELS[kind] in state.get("CausePath", state.get("Cause", "")), state


def test_timeout_cause_states_the_timeout() -> None:
    document = machine_for("rds_instance", Action.STOP, ready_timeout_seconds=600)

    causes = [
        state["CausePath"]
        for state in steps_scope(document)["States"].values()
        if state["Type"] == "Fail" and state.get("Error") == "envctl.ResourceNotReady"
    ]
    assert causes == [
        "States.Format('rds_instance db1 was not stopped within 600 s; last observed: {}', "
        "States.JsonToString($.poll))"
    ]


def test_fail_cause_escapes_quotes_and_braces_in_the_resource_id() -> None:
    document = machine_for("rds_instance", Action.START)
    odd = build_state_machine(
        composition_of([{"type": "rds_instance", "params": {"id": "it's{x}"}}]), Action.START
    )

    plain = {
        s["Error"]: s["CausePath"]
        for s in steps_scope(document)["States"].values()
        if "CausePath" in s
    }
    escaped = {
        s["Error"]: s["CausePath"] for s in steps_scope(odd)["States"].values() if "CausePath" in s
    }
    assert plain
    assert escaped == {
        error: cause.replace("db1", "it\\'s\\{x\\}") for error, cause in plain.items()
    }


def done_state_of_single_resource(document: Document) -> str:
    """The state that ends the body branch: the resource's "Done" Pass state."""
    states = steps_scope(document)["States"]
    [done] = [name for name, state in states.items() if state.get("End") is True]
    assert states[done]["Type"] == "Pass"
    return done


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("kind", POLLED_KINDS)
def test_without_wait_until_ready_the_action_goes_straight_to_done(
    kind: str, action: Action
) -> None:
    document = machine_for(kind, action, wait_until_ready=False)

    _, task = action_task(document)

    assert task["Next"] == done_state_of_single_resource(document)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("kind", POLLED_KINDS)
def test_with_wait_until_ready_the_action_goes_back_to_describing(
    kind: str, action: Action
) -> None:
    document = machine_for(kind, action)

    _, task = action_task(document)

    after = steps_scope(document)["States"][task["Next"]]
    assert after["Type"] == "Task"
    assert ":describe" in after["Resource"]


# --- tracking around the resource steps ---------------------------------------------------------

ONE_DB = [{"type": "rds_instance", "params": {"id": "db1"}}]
STATES_DONE = {Action.START: ("starting", "running"), Action.STOP: ("stopping", "stopped")}
RESOURCE_ERROR = {
    "Error": "envctl.ResourceNotReady",
    "Cause": "rds_instance db1 was not started within 1800 s; last observed: {}",
}


def tracked_machine(action: Action, table: str = "my-table") -> Document:
    return build_state_machine(composition_of(ONE_DB), action, table=table)


@pytest.mark.parametrize("action", list(Action))
def test_top_level_is_the_tracking_graph_around_one_body(action: Action) -> None:
    document = build_state_machine(composition_of(THREE_STEPS), action)

    assert document["StartAt"] == "Has env a trigger?"
    assert top_level_graph(document) == expected_top_level_graph(action)


@pytest.mark.parametrize("action", list(Action))
def test_body_runs_the_resource_steps_in_one_branch_and_catches_every_error(
    action: Action,
) -> None:
    n = top_names(action)
    document = build_state_machine(composition_of(THREE_STEPS), action)

    body = document["States"][n["body"]]

    assert body["Type"] == "Parallel"
    assert len(body["Branches"]) == 1
    assert body["Branches"][0] is steps_scope(document)
    assert body["ResultPath"] is None  # keeps {composition, action, trigger} for the records
    assert body["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": n["record_failed"]}
    ]
    assert body["Next"] == n["record_done"]
    assert "Retry" not in body  # retrying would run every step again


@pytest.mark.parametrize("action", list(Action))
def test_trigger_choice_keeps_the_trigger_or_names_the_console(action: Action) -> None:
    n = top_names(action)
    states = tracked_machine(action)["States"]

    assert states[n["has_trigger"]]["Choices"] == [
        {"Variable": "$.trigger", "IsPresent": True, "Next": n["begin"]}
    ]
    assert states[n["has_trigger"]]["Default"] == n["begin_console"]
    known = {"composition": "env", "action": action.value}
    assert states[n["begin"]]["Parameters"] == {**known, "trigger.$": "$.trigger"}
    assert states[n["begin_console"]]["Parameters"] == {**known, "trigger": "console"}


@pytest.mark.parametrize("trigger", ["cli", "slack", "webhook", "window", "auto-stop"])
@pytest.mark.parametrize("action", list(Action))
def test_run_not_from_the_schedule_records_its_state_around_the_body(
    action: Action, trigger: str
) -> None:
    n = top_names(action)

    visited, end = run_top_level(
        tracked_machine(action), {"trigger": trigger, "requested_by": "ann"}, errors={}
    )

    assert visited == [
        n["has_trigger"],
        n["begin"],
        n["scheduled"],
        n["record_begin"],
        n["body"],
        n["record_done"],
        n["finish"],
    ]
    assert end == ("succeeded", {"composition": "env", "action": action.value, "trigger": trigger})


@pytest.mark.parametrize("action", list(Action))
def test_run_without_a_trigger_is_recorded_as_a_console_run(action: Action) -> None:
    n = top_names(action)

    visited, end = run_top_level(tracked_machine(action), {"Comment": "Insert your JSON"}, {})

    assert visited[:3] == [n["has_trigger"], n["begin_console"], n["scheduled"]]
    assert visited[3:] == [n["record_begin"], n["body"], n["record_done"], n["finish"]]
    assert end == (
        "succeeded",
        {"composition": "env", "action": action.value, "trigger": "console"},
    )


@pytest.mark.parametrize("action", list(Action))
def test_scheduled_run_with_the_skip_flag_set_is_audited_and_skipped(action: Action) -> None:
    n = top_names(action)

    visited, end = run_top_level(tracked_machine(action), {"trigger": "schedule"}, errors={})

    assert visited == [
        n["has_trigger"],
        n["begin"],
        n["scheduled"],
        n["consume"],
        n["audit_skip"],
        n["skipped"],
    ]
    assert end[0] == "succeeded"


@pytest.mark.parametrize("action", list(Action))
def test_scheduled_run_without_the_skip_flag_is_audited_and_runs(action: Action) -> None:
    n = top_names(action)
    unset = {"Error": "DynamoDB.ConditionalCheckFailedException", "Cause": "condition failed"}

    visited, end = run_top_level(
        tracked_machine(action), {"trigger": "schedule"}, errors={n["consume"]: unset}
    )

    assert visited == [
        n["has_trigger"],
        n["begin"],
        n["scheduled"],
        n["consume"],
        n["audit"],
        n["record_begin"],
        n["body"],
        n["record_done"],
        n["finish"],
    ]
    assert end == (
        "succeeded",
        {"composition": "env", "action": action.value, "trigger": "schedule"},
    )


@pytest.mark.parametrize("action", list(Action))
def test_skip_flag_is_consumed_only_when_set_and_only_for_this_action(action: Action) -> None:
    n = top_names(action)
    flag = f"skip_next_{action.value}"

    consume = tracked_machine(action)["States"][n["consume"]]

    assert consume["Resource"] == UPDATE_ITEM
    assert consume["Parameters"] == {
        "TableName": "my-table",
        "Key": {"pk": {"S": "composition#env"}, "sk": {"S": "override"}},
        "UpdateExpression": "REMOVE #flag",
        "ConditionExpression": "#flag = :yes",
        "ExpressionAttributeNames": {"#flag": flag},
        "ExpressionAttributeValues": {":yes": {"BOOL": True}},
    }
    assert update_effect(consume["Parameters"]) == ({}, {flag})
    assert consume["ResultPath"] is None
    assert consume["Catch"] == [
        {
            "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
            "ResultPath": None,
            "Next": n["audit"],
        }
    ]
    assert consume["Next"] == n["audit_skip"]


class _RecordingDynamoDB:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []

    def update_item(self, **request: Any) -> None:
        self.updates.append(request)


class _FakeAws:
    def __init__(self, dynamodb: _RecordingDynamoDB) -> None:
        self.dynamodb = dynamodb

    def client(self, service: str) -> _RecordingDynamoDB:
        assert service == "dynamodb"
        return self.dynamodb


@pytest.mark.parametrize("action", list(Action))
def test_skip_flag_consumed_is_the_one_envctl_skip_sets(action: Action) -> None:
    dynamodb = _RecordingDynamoDB()
    Store(_FakeAws(dynamodb), "my-table").set_skip("env", action.value)  # type: ignore[arg-type]
    [request] = dynamodb.updates

    consume = tracked_machine(action)["States"][top_names(action)["consume"]]["Parameters"]

    assert (request["TableName"], request["Key"]) == (consume["TableName"], consume["Key"])
    [(flag, value)] = re.findall(r"^SET (\w+) = (:\w+)$", request["UpdateExpression"])
    assert consume["ExpressionAttributeNames"]["#flag"] == flag
    assert (
        request["ExpressionAttributeValues"][value] == consume["ExpressionAttributeValues"][":yes"]
    )


@pytest.mark.parametrize("action", list(Action))
def test_scheduled_runs_are_audited_with_what_happened(action: Action) -> None:
    n = top_names(action)
    states = tracked_machine(action)["States"]

    for name, what in [(n["audit"], action.value), (n["audit_skip"], f"skipped {action.value}")]:
        assert states[name]["Resource"] == PUT_ITEM
        item = states[name]["Parameters"]["Item"]
        assert item["pk"] == {"S": "audit#env"}
        assert item["what"] == {"S": what}
        assert item["who"] == item["via"] == {"S": "schedule"}
        assert item["at"] == {"S.$": "$$.State.EnteredTime"}
        # Two audit entries of one composition never share a sort key.
        assert "$$.Execution.Name" in item["sk"]["S.$"]
        assert states[name]["ResultPath"] is None


@pytest.mark.parametrize("action", list(Action))
def test_record_states_write_doing_then_done_and_clear_an_earlier_error(action: Action) -> None:
    n = top_names(action)
    states = tracked_machine(action)["States"]

    for name, value in zip([n["record_begin"], n["record_done"]], STATES_DONE[action], strict=True):
        parameters = states[name]["Parameters"]
        assert states[name]["Resource"] == UPDATE_ITEM
        assert parameters["Key"] == {"pk": {"S": "composition#env"}, "sk": {"S": "state"}}
        assert update_effect(parameters) == (
            {
                "state": {"S": value},
                "execution": {"S.$": "$$.Execution.Id"},
                "trigger": {"S.$": "$.trigger"},
                "updated_at": {"S.$": "$$.State.EnteredTime"},
            },
            {"error", "cause"},
        )
        assert "ConditionExpression" not in parameters
        assert states[name]["ResultPath"] is None


@pytest.mark.parametrize("action", list(Action))
def test_failure_is_recorded_with_error_and_cause_then_fails_with_them(action: Action) -> None:
    n = top_names(action)
    document = tracked_machine(action)
    record = document["States"][n["record_failed"]]

    assert record["Resource"] == UPDATE_ITEM
    assert record["Parameters"]["Key"] == {"pk": {"S": "composition#env"}, "sk": {"S": "state"}}
    assert update_effect(record["Parameters"]) == (
        {
            "state": {"S": "failed"},
            "execution": {"S.$": "$$.Execution.Id"},
            "trigger": {"S.$": "$.trigger"},
            "updated_at": {"S.$": "$$.State.EnteredTime"},
            "error": {"S.$": "$.error.Error"},
            "cause": {"S.$": "$.error.Cause"},
        },
        set(),
    )
    assert record["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": n["failed"]}
    ]
    assert document["States"][n["failed"]] == {
        "Type": "Fail",
        "ErrorPath": "$.error.Error",
        "CausePath": "$.error.Cause",
    }


@pytest.mark.parametrize("record_fails", [False, True])
@pytest.mark.parametrize("action", list(Action))
def test_failed_body_ends_the_execution_with_the_resource_error(
    action: Action, record_fails: bool
) -> None:
    n = top_names(action)
    errors = {n["body"]: RESOURCE_ERROR}
    if record_fails:
        errors[n["record_failed"]] = {"Error": "DynamoDB.ThrottlingException", "Cause": "slow"}

    visited, end = run_top_level(tracked_machine(action), {"trigger": "cli"}, errors)

    assert visited[-3:] == [n["body"], n["record_failed"], n["failed"]]
    assert n["record_done"] not in visited
    assert end == ("failed", RESOURCE_ERROR["Error"], RESOURCE_ERROR["Cause"])


@pytest.mark.parametrize("action", list(Action))
def test_dynamodb_tasks_retry_throttling_when_recording_state(action: Action) -> None:
    n = top_names(action)
    states = tracked_machine(action)["States"]

    for role in ("record_begin", "record_done", "record_failed"):
        [retry] = states[n[role]]["Retry"]
        assert "DynamoDB.ThrottlingException" in retry["ErrorEquals"]
        assert "States.ALL" not in retry["ErrorEquals"]
        assert retry["MaxAttempts"] >= 1


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("table", ["my-table", "envctl-prod"])
def test_every_dynamodb_task_uses_the_table_it_was_built_for(action: Action, table: str) -> None:
    document = tracked_machine(action, table=table)

    tasks = top_level_tasks(document)

    assert tasks == tracking_tasks(action)
    assert {document["States"][name]["Parameters"]["TableName"] for name in tasks} == {table}


def test_table_defaults_to_the_envctl_table() -> None:
    document = build_state_machine(composition_of(ONE_DB), Action.START)

    tables = {
        document["States"][name]["Parameters"]["TableName"] for name in top_level_tasks(document)
    }
    assert tables == {DEFAULT_TABLE} == {"envctl"}


@pytest.mark.parametrize("action", list(Action))
def test_longest_composition_name_fits_whole_in_every_top_level_name(action: Action) -> None:
    name = "c" * 40  # the loader's limit

    document = build_state_machine(composition_of(ONE_DB, name=name), action)

    validate_structure(document)
    assert top_level_graph(document) == expected_top_level_graph(action, name)


# --- golden file -----------------------------------------------------------------------------


def test_rds_instance_start_machine_matches_golden_file() -> None:
    composition = composition_of([{"type": "rds_instance", "params": {"id": "db1"}}], name="demo")

    document = build_state_machine(composition, Action.START)

    golden = json.loads((GOLDEN / "rds_instance_start.json").read_text(encoding="utf-8"))
    assert document == golden


# --- property: random compositions -------------------------------------------------------------

# Long ids sharing a 199-character prefix make truncated state names collide.
SHORT_IDS = st.sampled_from(["db1", "db2", "shop", "api", "x", "a" * 200, "a" * 199 + "b"])
LONG_IDS = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=200)
IDS = st.one_of(SHORT_IDS, SHORT_IDS, LONG_IDS)


def number(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A number as YAML carries it: as a number or as a numeric string."""
    return st.one_of(values, values.map(str))


def asg_params() -> st.SearchStrategy[dict[str, Any]]:
    sizes = st.lists(st.integers(0, 20), min_size=3, max_size=3).map(sorted)
    return st.builds(
        lambda name, s: {"name": name, "min": s[0], "max": s[2], "desired": s[1]}, IDS, sizes
    )


PARAMS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "auto_scaling_group": asg_params(),
    "ec2_instance": st.fixed_dictionaries({"id": IDS}),
    "ecs_service": st.fixed_dictionaries(
        {"cluster_name": IDS, "name": IDS, "desired": number(st.integers(0, 50))}
    ),
    "efs_file_system": st.fixed_dictionaries(
        {"id": IDS, "provisioned_throughput_in_mibps": number(st.integers(1, 1024))}
    ),
    "fsx_windows_file_system": st.fixed_dictionaries(
        {"id": IDS, "throughput_capacity": number(st.integers(8, 2048))}
    ),
    "rds_cluster": st.fixed_dictionaries({"id": IDS}),
    "rds_instance": st.fixed_dictionaries({"id": IDS}),
    "redshift_cluster": st.fixed_dictionaries({"id": IDS}),
    "wait": st.fixed_dictionaries({"seconds": number(st.integers(0, 3600))}),
}
OPTIONS = {"wait_until_ready": st.booleans(), "ready_timeout_seconds": st.integers(1, 86400)}
ITEMS = st.one_of(
    *(
        st.fixed_dictionaries({"type": st.just(kind), "params": params}, optional=OPTIONS)
        for kind, params in PARAMS.items()
    )
)
STEPS = st.one_of(ITEMS, st.lists(ITEMS, min_size=1, max_size=4).map(lambda xs: {"parallel": xs}))
RESOURCES = st.lists(STEPS, min_size=1, max_size=30)


def test_property_strategy_covers_every_registered_kind() -> None:
    assert set(PARAMS) == set(REGISTRY)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(resources=RESOURCES)
def test_random_compositions_build_valid_machines_with_stop_reversing_start(
    resources: list[dict[str, Any]],
) -> None:
    composition = composition_of(resources)

    start = build_state_machine(composition, Action.START)
    stop = build_state_machine(composition, Action.STOP)

    validate_structure(start)
    validate_structure(stop)
    expected = [expected_signature(step) for step in resources]
    assert resource_order(steps_scope(start)) == expected
    assert resource_order(steps_scope(stop)) == expected[::-1]
    # Whatever the resources, the tracking around them keeps its shape and names.
    assert top_level_graph(start) == expected_top_level_graph(Action.START)
    assert top_level_graph(stop) == expected_top_level_graph(Action.STOP)
