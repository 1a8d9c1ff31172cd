"""Generated state machines: order, names, structure, SDK calls, readiness loop, tracking.

The oracles here are independent of how the builder names or orders states: the
structural validator checks the ASL graph rules, and the execution order of resources
is read from the graph itself (a state that can reach another runs before it).

A machine has two levels. The top level keeps who asked for the run, lets a scheduled
run be skipped once, takes the composition's lease (one run at a time), audits the
run, creates or removes its auto-stop, records the composition's state in the envctl
table, runs the body and releases the lease. The body is one Parallel state,
``Run <action> of <composition>``, whose single branch holds the resource steps
(aws-sdk integrations only).
"""

from __future__ import annotations

import itertools
import json
import re
import string
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_core.asl.builder import DEFAULT_TABLE, build_state_machine
from scheduler_core.config import Composition, parse_config
from scheduler_core.resources import REGISTRY, Action
from scheduler_core.resources.fsx_windows_file_system import THROUGHPUTS
from scheduler_core.runtime.executions import RunRequest
from scheduler_core.runtime.executions import _run_input as run_input
from scheduler_core.runtime.lease import Lease
from scheduler_core.runtime.store import Store
from scheduler_core.settings import Settings

GOLDEN = Path(__file__).parent / "golden"
MAX_STATE_NAME = 80
SDK_ARN = re.compile(
    r"^arn:aws:states:::aws-sdk:(?P<service>[a-z0-9]+):(?P<action>[a-z][A-Za-z0-9]*)$"
)
UPDATE_ITEM = "arn:aws:states:::dynamodb:updateItem"
PUT_ITEM = "arn:aws:states:::dynamodb:putItem"
DELETE_ITEM = "arn:aws:states:::dynamodb:deleteItem"
GET_ITEM = "arn:aws:states:::dynamodb:getItem"  # a scheduled start's date (holidays)
QUERY = "arn:aws:states:::aws-sdk:dynamodb:query"
DESCRIBE_EXECUTION = "arn:aws:states:::aws-sdk:sfn:describeExecution"
CREATE_SCHEDULE = "arn:aws:states:::aws-sdk:scheduler:createSchedule"
UPDATE_SCHEDULE = "arn:aws:states:::aws-sdk:scheduler:updateSchedule"
DELETE_SCHEDULE = "arn:aws:states:::aws-sdk:scheduler:deleteSchedule"
# The top level talks to the table (records, lease, audit), to Step Functions (is the
# lease's holder still running?) and to EventBridge Scheduler (the auto-stop).
TOP_LEVEL_ARN = re.compile(
    "^(?:"
    + "|".join(
        re.escape(arn)
        for arn in (
            UPDATE_ITEM,
            PUT_ITEM,
            DELETE_ITEM,
            GET_ITEM,
            QUERY,
            DESCRIBE_EXECUTION,
            CREATE_SCHEDULE,
            UPDATE_SCHEDULE,
            DELETE_SCHEDULE,
        )
    )
    + ")$"
)
BODY_NAME = re.compile(r"^Run (?:start|stop) of .+$")
POLLED_KINDS = sorted(kind for kind in REGISTRY if kind != "wait")

Document = dict[str, Any]
States = dict[str, dict[str, Any]]
StepSignature = str | tuple[str, ...]

# One valid item per kind, with numbers written as strings the way Terraform users do.
SAMPLE_PARAMS: dict[str, dict[str, Any]] = {
    "auto_scaling_group": {"name": "shop-workers", "min": "1", "max": "4", "desired": "2"},
    "docdb_cluster": {"id": "docs"},
    "ec2_instance": {"id": "i-0123456789abcdef0"},
    "ecs_service": {"cluster_name": "shop", "name": "api", "desired": "2"},
    "efs_file_system": {"id": "fs-1", "provisioned_throughput_in_mibps": "64.5"},
    "eks_nodegroup": {
        "cluster_name": "shop",
        "name": "workers",
        "min": "1",
        "max": "3",
        "desired": "2",
    },
    "fsx_windows_file_system": {"id": "fs-2", "throughput_capacity": "64"},
    "neptune_cluster": {"id": "graph"},
    "rds_cluster": {"id": "staging-db"},
    "rds_instance": {"id": "db1"},
    "redshift_cluster": {"id": "warehouse"},
    "sagemaker_notebook_instance": {"name": "research"},
    "wait": {"seconds": "30"},
}
SAMPLE_LABELS = {
    "auto_scaling_group": "auto_scaling_group shop-workers",
    "docdb_cluster": "docdb_cluster docs",
    "ec2_instance": "ec2_instance i-0123456789abcdef0",
    "ecs_service": "ecs_service shop/api",
    "efs_file_system": "efs_file_system fs-1",
    "eks_nodegroup": "eks_nodegroup shop/workers",
    "fsx_windows_file_system": "fsx_windows_file_system fs-2",
    "neptune_cluster": "neptune_cluster graph",
    "rds_cluster": "rds_cluster staging-db",
    "rds_instance": "rds_instance db1",
    "redshift_cluster": "redshift_cluster warehouse",
    "sagemaker_notebook_instance": "sagemaker_notebook_instance research",
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
    ("docdb_cluster", Action.START): (
        "arn:aws:states:::aws-sdk:docdb:startDBCluster",
        {"DbClusterIdentifier": "docs"},
    ),
    ("docdb_cluster", Action.STOP): (
        "arn:aws:states:::aws-sdk:docdb:stopDBCluster",
        {"DbClusterIdentifier": "docs"},
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
    ("eks_nodegroup", Action.START): (
        "arn:aws:states:::aws-sdk:eks:updateNodegroupConfig",
        {
            "ClusterName": "shop",
            "NodegroupName": "workers",
            "ScalingConfig": {"MinSize": 1, "MaxSize": 3, "DesiredSize": 2},
        },
    ),
    ("eks_nodegroup", Action.STOP): (
        "arn:aws:states:::aws-sdk:eks:updateNodegroupConfig",
        {
            "ClusterName": "shop",
            "NodegroupName": "workers",
            "ScalingConfig": {"MinSize": 0, "MaxSize": 3, "DesiredSize": 0},
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
    ("neptune_cluster", Action.START): (
        "arn:aws:states:::aws-sdk:neptune:startDBCluster",
        {"DbClusterIdentifier": "graph"},
    ),
    ("neptune_cluster", Action.STOP): (
        "arn:aws:states:::aws-sdk:neptune:stopDBCluster",
        {"DbClusterIdentifier": "graph"},
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
    ("sagemaker_notebook_instance", Action.START): (
        "arn:aws:states:::aws-sdk:sagemaker:startNotebookInstance",
        {"NotebookInstanceName": "research"},
    ),
    ("sagemaker_notebook_instance", Action.STOP): (
        "arn:aws:states:::aws-sdk:sagemaker:stopNotebookInstance",
        {"NotebookInstanceName": "research"},
    ),
}


def describe_signature(kind: str, params: dict[str, Any]) -> str:
    """The describe call a resource's loop must make, written out by hand per kind."""
    calls: dict[str, tuple[str, dict[str, Any]]] = {
        "auto_scaling_group": (
            "autoscaling:describeAutoScalingGroups",
            {"AutoScalingGroupNames": [params.get("name")]},
        ),
        "docdb_cluster": ("docdb:describeDBClusters", {"DbClusterIdentifier": params.get("id")}),
        "ec2_instance": ("ec2:describeInstances", {"InstanceIds": [params.get("id")]}),
        "ecs_service": (
            "ecs:describeServices",
            {"Cluster": params.get("cluster_name"), "Services": [params.get("name")]},
        ),
        "efs_file_system": ("efs:describeFileSystems", {"FileSystemId": params.get("id")}),
        "eks_nodegroup": (
            "eks:describeNodegroup",
            {"ClusterName": params.get("cluster_name"), "NodegroupName": params.get("name")},
        ),
        "fsx_windows_file_system": (
            "fsx:describeFileSystems",
            {"FileSystemIds": [params.get("id")]},
        ),
        "neptune_cluster": (
            "neptune:describeDBClusters",
            {"DbClusterIdentifier": params.get("id")},
        ),
        "rds_cluster": ("rds:describeDBClusters", {"DbClusterIdentifier": params.get("id")}),
        "rds_instance": ("rds:describeDBInstances", {"DbInstanceIdentifier": params.get("id")}),
        "redshift_cluster": ("redshift:describeClusters", {"ClusterIdentifier": params.get("id")}),
        "sagemaker_notebook_instance": (
            "sagemaker:describeNotebookInstance",
            {"NotebookInstanceName": params.get("name")},
        ),
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


def another(kind: str) -> dict[str, Any]:
    """An item of ``kind`` naming another resource than ``item(kind)`` (a wait is a wait)."""
    params = dict(SAMPLE_PARAMS[kind])
    for key in ("id", "name"):
        if key in params:
            params[key] = f"{params[key]}-2"
    return {"type": kind, "params": params}


def distinct(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The drawn items with ids (or names) suffixed where one repeats: a config lists
    each resource once. A suffix keeps long ids colliding once cut to a state name."""
    seen: set[tuple[Any, str]] = set()
    suffixes = itertools.count(2)

    def one(entry: dict[str, Any]) -> dict[str, Any]:
        params = dict(entry["params"])
        key = next((key for key in ("id", "name") if key in params), None)
        if key is None:
            return entry
        while (params.get("cluster_name"), str(params[key])) in seen:
            params[key] = f"{params[key]}-{next(suffixes)}"
        seen.add((params.get("cluster_name"), str(params[key])))
        return {**entry, "params": params}

    return [
        {"parallel": [one(member) for member in step["parallel"]]}
        if "parallel" in step
        else one(step)
        for step in resources
    ]


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

    The top level makes only the calls of TOP_LEVEL_ARN; the body branch and the
    branches nested in it only make aws-sdk calls. Every scope of the document is one
    of these.
    """
    check_scope(document, tasks=TOP_LEVEL_ARN)
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
        # The describe whose result is the poll; a second one (a cluster's members)
        # lands inside it and is part of the same step.
        if match["action"].startswith("describe") and state["ResultPath"] == "$.poll":
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


# --- the top level: lease, audit, auto-stop and tracking around the body ---------------------

# What the optimized DynamoDB integrations take (the aws-sdk ones are checked apart).
DYNAMODB_PARAMETERS = {
    "TableName",
    "Key",
    "Item",
    "UpdateExpression",
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ConsistentRead",
}
LEASE_KEY = {"pk": {"S": "composition#env"}, "sk": {"S": "lease"}}


def top_templates(action: Action) -> dict[str, str]:
    """The top-level states by role, as the builder names them (``{}``: the composition)."""
    verb = action.value
    doing, done = ("starting", "started") if action is Action.START else ("stopping", "stopped")
    auto_stop = (
        {
            "auto_stop_wanted": "Is an auto-stop of {} asked for?",
            "schedule_auto_stop": "Schedule the auto-stop of {}",
            "move_auto_stop": "Move the existing auto-stop of {}",
            "remember_auto_stop": "Remember the auto-stop time of {}",
            # A scheduled start that says when it was due looks its date up (holidays).
            "dated": "Has this start of {} a date?",
            "look_date": "Is the date of this start of {} skipped?",
            "date_skipped": "Does {} skip this date?",
            "audit_date": "Audit the skipped date of {}",
            "skipped_date": "Skipped date of {}",
        }
        if action is Action.START
        else {
            "remove_auto_stop": "Remove the pending auto-stop of {}",
            "forget_auto_stop": "Forget the auto-stop time of {}",
            # A scheduled stop that says when it was due: was it the one extend moved?
            "dated": "Has this stop of {} a date?",
            "consume_extension": "Was this scheduled stop of {} extended?",
            "audit_extension": "Audit the extended stop of {}",
            "skipped_extension": "Extended stop of {}",
        }
    )
    return {
        "begin_dated": f"Begin scheduled {verb} of {{}}",
        "has_trigger": "Has {} a trigger?",
        "is_request": f"Did someone ask for this {verb} of {{}}?",
        "begin_request": f"Begin requested {verb} of {{}}",
        "begin": f"Begin {verb} of {{}}",
        "begin_console": f"Begin console {verb} of {{}}",
        "scheduled": f"Is this a scheduled {verb} of {{}}?",
        "consume": f"Skip this scheduled {verb} of {{}}?",
        "audit_skip": f"Audit skipped {verb} of {{}}",
        "skipped": f"Skipped scheduled {verb} of {{}}",
        "take": f"Take the lease of {{}} for this {verb}",
        "read_lease": "Who holds the lease of {}?",
        "lease_route": "Is the lease of {} free, reserved or held?",
        "describe_holder": "Is the holder of the lease of {} running?",
        "holder_running": "Does the lease holder of {} still run?",
        "take_over": "Take over the stale lease of {}",
        "busy": f"Audit {verb} of {{}}: run in progress",
        "left_alone": f"{verb.capitalize()} of {{}} left alone",
        "no_lease": "Could not take the lease of {}",
        "audit_expires": "Does the audit entry of this {} expire?",
        "audit_request": f"Audit requested {verb} of {{}}",
        "audit": f"Audit {verb} of {{}}",
        **auto_stop,
        "record_begin": f"Record {{}} {doing}",
        "body": f"Run {verb} of {{}}",
        "record_done": f"Record {{}} {done}",
        "release": f"Release the lease of {{}} ({verb} done)",
        "finish": f"{{}} {done}",
        "record_failed": "Record {} failed",
        "release_failed": f"Release the lease of {{}} (failed {verb})",
        "failed": f"{verb.capitalize()} of {{}} failed",
    }


def fit(template: str, name: str) -> str:
    """A state name within 80 characters: the composition name is cut, with "…", if need be."""
    budget = MAX_STATE_NAME - len(template.replace("{}", ""))
    return template.replace("{}", name if len(name) <= budget else name[: budget - 1] + "…")


def top_names(action: Action, name: str = "env") -> dict[str, str]:
    return {role: fit(template, name) for role, template in top_templates(action).items()}


def auto_stop_entry(action: Action) -> str:
    return "auto_stop_wanted" if action is Action.START else "remove_auto_stop"


def expected_top_level_graph(action: Action, name: str = "env") -> dict[str, tuple[str, list[str]]]:
    """Every top-level state: its type and the states it can go to (Next, Choices, Catch)."""
    n = top_names(action, name)
    auto_stop: dict[str, tuple[str, list[str]]] = (
        {
            # Not asked for: straight on to recording the run.
            "auto_stop_wanted": ("Choice", ["schedule_auto_stop", "record_begin"]),
            # Catch: one exists already (move it), or any other error.
            "schedule_auto_stop": (
                "Task",
                ["remember_auto_stop", "move_auto_stop", "record_failed"],
            ),
            "move_auto_stop": ("Task", ["remember_auto_stop", "record_failed"]),
            "remember_auto_stop": ("Task", ["record_begin", "record_failed"]),
            "dated": ("Choice", ["look_date", "consume"]),
            "look_date": ("Task", ["date_skipped"]),
            "date_skipped": ("Choice", ["audit_date", "consume"]),
            "audit_date": ("Task", ["skipped_date"]),
            "skipped_date": ("Pass", []),
        }
        if action is Action.START
        else {
            # Next and the Catch of ResourceNotFound both go on; any other error fails.
            "remove_auto_stop": ("Task", ["forget_auto_stop", "forget_auto_stop", "record_failed"]),
            "forget_auto_stop": ("Task", ["record_begin", "record_failed"]),
            "dated": ("Choice", ["consume_extension", "consume"]),
            # Next: it was; Catch of the failed condition: it was not.
            "consume_extension": ("Task", ["audit_extension", "consume"]),
            "audit_extension": ("Task", ["skipped_extension"]),
            "skipped_extension": ("Pass", []),
        }
    )
    edges = {
        "has_trigger": ("Choice", ["is_request", "begin_console"]),
        "is_request": ("Choice", ["begin_request", "begin", "begin_dated"]),
        "begin_request": ("Pass", ["scheduled"]),
        "begin_dated": ("Pass", ["scheduled"]),
        "begin": ("Pass", ["scheduled"]),
        "begin_console": ("Pass", ["scheduled"]),
        "scheduled": ("Choice", ["dated", "take"]),
        "consume": ("Task", ["audit_skip", "take"]),
        "audit_skip": ("Task", ["skipped"]),
        "skipped": ("Pass", []),
        # Next: the lease is ours. Catch: someone holds it, or the write failed.
        "take": ("Task", ["audit_expires", "read_lease", "no_lease"]),
        "read_lease": ("Task", ["lease_route", "no_lease"]),
        # Released meanwhile: take it again; reserved by a caller: busy; else ask.
        "lease_route": ("Choice", ["take", "busy", "describe_holder"]),
        # Catch: the holder does not exist (take over), or cannot tell (busy).
        "describe_holder": ("Task", ["holder_running", "take_over", "busy"]),
        "holder_running": ("Choice", ["busy", "take_over"]),
        # Catch: the lease changed hands meanwhile (take again), or the write failed.
        "take_over": ("Task", ["audit_expires", "take", "no_lease"]),
        # Next and Catch: a failed audit of it still leaves the run alone.
        "busy": ("Task", ["left_alone", "left_alone"]),
        "left_alone": ("Pass", []),
        "no_lease": ("Fail", []),
        "audit_expires": ("Choice", ["audit_request", "audit"]),
        "audit_request": ("Task", [auto_stop_entry(action), "record_failed"]),
        "audit": ("Task", [auto_stop_entry(action), "record_failed"]),
        **auto_stop,
        "record_begin": ("Task", ["body", "record_failed"]),
        "body": ("Parallel", ["record_done", "record_failed"]),
        "record_done": ("Task", ["release", "release"]),
        # Next and Catch: a lease that cannot be released is taken over by the next run.
        "release": ("Task", ["finish", "finish"]),
        "finish": ("Succeed", []),
        # Next and Catch: recording or releasing must not hide the error.
        "record_failed": ("Task", ["release_failed", "release_failed"]),
        "release_failed": ("Task", ["failed", "failed"]),
        "failed": ("Fail", []),
    }
    return {
        n[role]: (kind, sorted(n[t] for t in targets)) for role, (kind, targets) in edges.items()
    }


def top_level_graph(document: Document) -> dict[str, tuple[str, list[str]]]:
    return {
        name: (state["Type"], sorted(successors(state)))
        for name, state in document["States"].items()
    }


def expected_top_level_tasks(action: Action) -> dict[str, str]:
    """The top-level Task states and their integration."""
    n = top_names(action)
    auto_stop = (
        {
            "schedule_auto_stop": CREATE_SCHEDULE,
            "move_auto_stop": UPDATE_SCHEDULE,
            "remember_auto_stop": UPDATE_ITEM,
            "look_date": GET_ITEM,
            "audit_date": PUT_ITEM,
        }
        if action is Action.START
        else {
            "remove_auto_stop": DELETE_SCHEDULE,
            "forget_auto_stop": UPDATE_ITEM,
            "consume_extension": UPDATE_ITEM,
            "audit_extension": PUT_ITEM,
        }
    )
    roles = {
        "consume": UPDATE_ITEM,
        "audit_skip": PUT_ITEM,
        "take": UPDATE_ITEM,
        "read_lease": QUERY,
        "describe_holder": DESCRIBE_EXECUTION,
        "take_over": UPDATE_ITEM,
        "busy": PUT_ITEM,
        "audit_request": PUT_ITEM,
        "audit": PUT_ITEM,
        **auto_stop,
        "record_begin": UPDATE_ITEM,
        "record_done": UPDATE_ITEM,
        "release": DELETE_ITEM,
        "record_failed": UPDATE_ITEM,
        "release_failed": DELETE_ITEM,
    }
    return {n[role]: resource for role, resource in roles.items()}


def top_level_tasks(document: Document) -> dict[str, str]:
    return {
        name: state["Resource"]
        for name, state in document["States"].items()
        if state["Type"] == "Task"
    }


def dynamodb_tasks(document: Document) -> dict[str, dict[str, Any]]:
    """The top-level Task states that talk to the table (optimized or aws-sdk)."""
    return {
        name: document["States"][name]
        for name, resource in top_level_tasks(document).items()
        if resource.startswith(("arn:aws:states:::dynamodb:", "arn:aws:states:::aws-sdk:dynamodb:"))
    }


EXPRESSION_WORDS = {
    "UpdateExpression": r"\bSET\b|\bREMOVE\b|[=,]",
    # Conditions may also compare and call DynamoDB's functions.
    "ConditionExpression": r"\battribute_not_exists\b|\battribute_exists\b|\bAND\b|\bOR\b|[=<>()]",
    # The table's key attributes are not reserved words: they may stand bare.
    "KeyConditionExpression": r"\bpk\b|\bsk\b|\bAND\b|=",
}


def check_expressions(parameters: dict[str, Any]) -> None:
    """Every attribute goes through ``#name``, every value through ``:value``; all are used.

    DynamoDB rejects placeholders that are defined but unused, and reserved words
    (``state``, ``error``...) used bare.
    """
    names: dict[str, str] = parameters.get("ExpressionAttributeNames", {})
    values: dict[str, Any] = parameters.get("ExpressionAttributeValues", {})
    expressions = [parameters[key] for key in EXPRESSION_WORDS if key in parameters]
    for key, words in EXPRESSION_WORDS.items():
        if key in parameters:
            bare = re.sub(r"[#:]\w+|" + words, "", parameters[key])
            assert not bare.strip(), f"bare words in {parameters[key]!r}"
    assert set(re.findall(r"#\w+", " ".join(expressions))) == set(names)
    assert set(re.findall(r":\w+", " ".join(expressions))) == set(values)


def update_effect(parameters: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """(attributes SET with their values, attributes REMOVEd) by an UpdateItem."""
    check_expressions(parameters)
    names: dict[str, str] = parameters.get("ExpressionAttributeNames", {})
    values: dict[str, Any] = parameters.get("ExpressionAttributeValues", {})
    expression = parameters["UpdateExpression"]
    clauses = dict(re.findall(r"\b(SET|REMOVE)\s+(.*?)(?=\s+(?:SET|REMOVE)\b|$)", expression))
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
PATH_PART = re.compile(r"\.([A-Za-z_]\w*)|\[(\d+|\*)\]")


def lookup(data: Any, path: str) -> Any:
    """A JSONPath of the kinds the machines use: ``$.a.b``, ``$.a[0]``, ``$.a[*].b``."""
    assert path.startswith("$."), path
    parts = PATH_PART.findall(path[1:])
    assert "".join(f".{key}" if key else f"[{index}]" for key, index in parts) == path[1:], path
    return _walk(data, parts)


def _walk(data: Any, parts: list[tuple[str, str]]) -> Any:
    if not parts:
        return data
    (key, index), rest = parts[0], parts[1:]
    if key:
        if not isinstance(data, dict) or key not in data:
            return MISSING
        return _walk(data[key], rest)
    if not isinstance(data, list):
        return MISSING
    if index == "*":  # a wildcard yields the list of what matched, possibly empty
        return [found for element in data if (found := _walk(element, rest)) is not MISSING]
    return _walk(data[int(index)], rest) if int(index) < len(data) else MISSING


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
            # The context object or an intrinsic function: the paths it reads must exist.
            for path in re.findall(r"(?<!\$)\$\.[A-Za-z_][\w.\[\]*]*", value):
                read(data, path)
            result[key[:-2]] = f"<{value}>"
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


def outcome(given: dict[str, Any], name: str, visit: int) -> Any:
    """What the test gave for a state: one value for every visit, or a list of them."""
    value = given.get(name)
    if not isinstance(value, list):
        return value
    assert visit < len(value), f"{name} is visited {visit + 1} times, only {len(value)} given"
    return value[visit]


def set_path(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    assert path.count(".") == 1 and "[" not in path, path
    return {**data, path[2:]: value}


def catcher_of(state: dict[str, Any], error: dict[str, str]) -> dict[str, Any] | None:
    return next(
        (
            catch
            for catch in state.get("Catch", [])
            if error["Error"] in catch["ErrorEquals"] or "States.ALL" in catch["ErrorEquals"]
        ),
        None,
    )


def run_top_level(
    document: Document,
    execution_input: dict[str, Any],
    errors: dict[str, Any],
    results: dict[str, Any] | None = None,
    calls: list[tuple[str, str, dict[str, Any]]] | None = None,
) -> tuple[list[str], tuple[Any, ...]]:
    """The top-level states one execution visits, and how it ends.

    ``errors`` maps a Task or Parallel state to the error it raises (a list: one outcome
    per visit, None for success); the others succeed. ``results`` maps a Task that
    keeps its result (``ResultPath``) to what the service answers (a list: per visit);
    its ResultSelector is applied. ``calls`` receives (state, Resource, Parameters as
    resolved) for every Task visited. Ends in ("succeeded", output),
    ("failed", error, cause) or ("uncaught", error).
    """
    states, results = document["States"], results or {}
    name, data, visited = document["StartAt"], execution_input, []
    while len(visited) < 50:
        visit = visited.count(name)
        visited.append(name)
        state = states[name]
        kind = state["Type"]
        if kind == "Succeed":
            return visited, ("succeeded", data)
        if kind == "Fail":
            error, cause = read(data, state["ErrorPath"]), read(data, state["CausePath"])
            return visited, ("failed", error, cause)
        if kind == "Choice":
            matching = [rule["Next"] for rule in state["Choices"] if rule_matches(rule, data)]
            name = matching[0] if matching else state["Default"]
            continue
        if kind == "Pass":
            data = apply_template(state["Parameters"], data)
            if state.get("End"):
                return visited, ("succeeded", data)
            name = state["Next"]
            continue
        assert kind in {"Task", "Parallel"}, kind
        if kind == "Task":
            parameters = apply_template(state["Parameters"], data)
            if calls is not None:
                calls.append((name, state["Resource"], parameters))
        error = outcome(errors, name, visit)
        if error is None:
            if state["ResultPath"] is not None:
                answer = outcome(results, name, visit)
                assert answer is not None, f"{name} keeps its result: the test must give one"
                selector = state.get("ResultSelector")
                selected = answer if selector is None else apply_template(selector, answer)
                data = set_path(data, state["ResultPath"], selected)
            name = state["Next"]
            continue
        catcher = catcher_of(state, error)
        if catcher is None:
            return visited, ("uncaught", error)
        if catcher["ResultPath"] is not None:
            data = set_path(data, catcher["ResultPath"], error)
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


def long_ecs(last: str = "s") -> dict[str, Any]:
    """An ECS service whose 200-character name differs from the others' only at the end."""
    name = LONG_SERVICE[:-1] + last
    return {"type": "ecs_service", "params": {"cluster_name": "c" * 60, "name": name, "desired": 1}}


LONG_ECS = long_ecs()
# A config lists each resource once, but labels still repeat: one id in several kinds,
# long names that are the same once cut to fit a state name, and waits.
REPEATED_RESOURCES: list[dict[str, Any]] = [
    {"type": "rds_instance", "params": {"id": "db1"}},
    {"type": "rds_cluster", "params": {"id": "db1"}},
    long_ecs("a"),
    long_ecs("b"),
    {
        "parallel": [
            long_ecs("c"),
            long_ecs("d"),
            {"type": "redshift_cluster", "params": {"id": "db1"}},
        ]
    },
    {"parallel": [long_ecs("e"), {"type": "wait", "params": {"seconds": 5}}]},
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
    resources = [{"parallel": [item(kind), another(kind)]}, item("wait")]

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
    # The only other tasks are those of the top level around the body.
    assert top_level_tasks(document) == expected_top_level_tasks(action)
    assert len(list(scopes(document))) == 1 + len(list(scopes(steps_scope(document))))
    for name, resource in top_level_tasks(document).items():
        parameters = document["States"][name]["Parameters"]
        if SDK_ARN.match(resource):
            assert all(key[0].isupper() for key in parameters), (name, parameters)
        else:
            assert set(parameters) <= DYNAMODB_PARAMETERS, name


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
        n
        for n in loop
        if states[n]["Type"] == "Task"
        and ":describe" in states[n]["Resource"]
        and states[n]["ResultPath"] == "$.poll"
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


# Clusters ready only once every member instance is -> the SDK service they call.
MEMBER_KINDS = {"docdb_cluster": "docdb", "neptune_cluster": "neptune", "rds_cluster": "rds"}


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("kind", sorted(MEMBER_KINDS))
def test_a_cluster_is_ready_only_when_every_member_instance_is(kind: str, action: Action) -> None:
    states = steps_scope(machine_for(kind, action))["States"]
    label, cluster_id = SAMPLE_LABELS[kind], SAMPLE_PARAMS[kind]["id"]
    target = "available" if action is Action.START else "stopped"

    describe, members = states[f"Describe {label}"], states[f"Describe members of {label}"]

    # Every poll: the cluster, then right after it its members not yet in the target status.
    assert describe["Next"] == f"Describe members of {label}"
    assert members["Resource"] == (
        f"arn:aws:states:::aws-sdk:{MEMBER_KINDS[kind]}:describeDBInstances"
    )
    assert members["Parameters"] == {"Filters": [{"Name": "db-cluster-id", "Values": [cluster_id]}]}
    # Every member not in the target status: its status sorts before or after it.
    assert members["ResultSelector"] == {
        "before.$": f"$.DbInstances[?(@.DbInstanceStatus < '{target}')].DbInstanceIdentifier",
        "after.$": f"$.DbInstances[?(@.DbInstanceStatus > '{target}')].DbInstanceIdentifier",
    }
    assert members["ResultPath"] == "$.poll.members"
    assert {catch["Next"] for catch in members["Catch"]} == {f"Fail {label}"}
    check = states[members["Next"]]
    [ready] = [choice for choice in check["Choices"] if choice["Next"] == f"Done {label}"]
    assert ready == {
        "And": [
            {"Variable": "$.poll.status", "StringEquals": target},
            {"Variable": "$.poll.members.before[0]", "IsPresent": False},
            {"Variable": "$.poll.members.after[0]", "IsPresent": False},
        ],
        "Next": f"Done {label}",
    }


# --- the top level: who asked, lease, audit, auto-stop, records ----------------------------------

ONE_DB = [{"type": "rds_instance", "params": {"id": "db1"}}]
STATES_DONE = {Action.START: ("starting", "running"), Action.STOP: ("stopping", "stopped")}
RESOURCE_ERROR = {
    "Error": "envctl.ResourceNotReady",
    "Cause": "rds_instance db1 was not started within 1800 s; last observed: {}",
}
CONDITION_FAILED = {
    "Error": "DynamoDB.ConditionalCheckFailedException",
    "Cause": "The conditional request failed",
}
TABLE_ERROR = {"Error": "DynamoDB.AmazonDynamoDBException", "Cause": "the table said no"}
HOLDER = "arn:aws:states:us-east-1:123456789012:execution:envctl-env-start:slack-ann-1"
HELD = {
    "Items": [
        {
            "pk": {"S": "composition#env"},
            "sk": {"S": "lease"},
            "execution": {"S": HOLDER},
            "action": {"S": "start"},
            "since": {"S": "2026-12-01T08:00:00.000Z"},
        }
    ],
    "Count": 1,
}
RESERVED = {
    "Items": [{**HELD["Items"][0], "pending_until": {"S": "2026-12-01T08:02:00.000Z"}}],
    "Count": 1,
}
RELEASED: dict[str, Any] = {"Items": [], "Count": 0}
EXPIRES_AT = "1798761600"
AUTO_STOP_TARGET = {
    "Arn": "arn:aws:states:us-east-1:123456789012:stateMachine:envctl-env-stop",
    "RoleArn": "arn:aws:iam::123456789012:role/envctl-scheduler",
    "Input": '{"trigger": "auto-stop"}',
}
AUTO_STOP = {
    "at": "2026-12-01T18:00:00+00:00",
    "expression": "at(2026-12-01T18:00:00)",
    "target": AUTO_STOP_TARGET,
}


def described(status: str) -> dict[str, Any]:
    """What sfn:DescribeExecution answers about the holder."""
    return {"ExecutionArn": HOLDER, "Status": status, "StartDate": "2026-12-01T08:00:00Z"}


def request(action: Action, **extra: Any) -> dict[str, Any]:
    """An execution input of a run someone asked for (as runtime.executions writes it)."""
    document: dict[str, Any] = {
        "composition": "env",
        "trigger": "slack",
        "requested_by": "ann",
        "who": "ann",
        "via": "slack",
        "detail": "for the demo",
        "audit_expires_at": EXPIRES_AT,
    }
    if action is Action.START:
        document["auto_stop"] = {}
    return {**document, **extra}


def tracked_machine(action: Action, table: str = "my-table") -> Document:
    return build_state_machine(composition_of(ONE_DB), action, table=table)


def auto_stop_path(action: Action) -> list[str]:
    """The auto-stop states a run without an auto-stop passes."""
    n = top_names(action)
    if action is Action.START:
        return [n["auto_stop_wanted"]]
    return [n["remove_auto_stop"], n["forget_auto_stop"]]


def run_path(action: Action, audit: str = "audit") -> list[str]:
    """From taking the lease to the end of a successful run."""
    n = top_names(action)
    return [
        n["take"],
        n["audit_expires"],
        n[audit],
        *auto_stop_path(action),
        n["record_begin"],
        n["body"],
        n["record_done"],
        n["release"],
        n["finish"],
    ]


def calls_of(calls: list[tuple[str, str, dict[str, Any]]], name: str) -> list[dict[str, Any]]:
    return [parameters for state, _, parameters in calls if state == name]


@pytest.mark.parametrize("action", list(Action))
def test_top_level_is_the_lease_audit_and_tracking_graph_around_one_body(action: Action) -> None:
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
def test_trigger_choices_keep_who_asked_or_name_the_trigger_or_the_console(
    action: Action,
) -> None:
    n = top_names(action)
    states = tracked_machine(action)["States"]

    assert states[n["has_trigger"]]["Choices"] == [
        {"Variable": "$.trigger", "IsPresent": True, "Next": n["is_request"]}
    ]
    assert states[n["has_trigger"]]["Default"] == n["begin_console"]
    # A start from its schedule says when it was due (for holidays and skipped dates).
    dated = [{"Variable": "$.scheduled_time", "IsPresent": True, "Next": n["begin_dated"]}]
    assert states[n["is_request"]]["Choices"] == [
        {"Variable": "$.who", "IsPresent": True, "Next": n["begin_request"]},
        *dated,
    ]
    assert states[n["is_request"]]["Default"] == n["begin"]
    known = {"composition": "env", "action": action.value}
    # Only a start carries an auto-stop; a stop removes any pending one.
    auto_stop = {"auto_stop.$": "$.auto_stop"} if action is Action.START else {}
    assert states[n["begin_request"]]["Parameters"] == {
        **known,
        "trigger.$": "$.trigger",
        "who.$": "$.who",
        "via.$": "$.via",
        "detail.$": "$.detail",
        "audit_expires_at.$": "$.audit_expires_at",
        **auto_stop,
    }
    assert states[n["begin"]]["Parameters"] == {
        **known,
        "trigger.$": "$.trigger",
        "who.$": "$.trigger",
        "via.$": "$.trigger",
        "detail": "",
    }
    assert states[n["begin_console"]]["Parameters"] == {
        **known,
        "trigger": "console",
        "who": "console",
        "via": "console",
        "detail": "",
    }
    # Both actions: a scheduled run says when it was due.
    assert states[n["begin_dated"]]["Parameters"] == {
        **known,
        "trigger.$": "$.trigger",
        "who.$": "$.trigger",
        "via.$": "$.trigger",
        "detail": "",
        "scheduled_time.$": "$.scheduled_time",
    }


@pytest.mark.parametrize("trigger", ["cli", "slack", "webhook", "window", "auto-stop"])
@pytest.mark.parametrize("action", list(Action))
def test_run_not_from_the_schedule_takes_the_lease_and_records_its_state_around_the_body(
    action: Action, trigger: str
) -> None:
    n = top_names(action)

    visited, end = run_top_level(
        tracked_machine(action), {"trigger": trigger, "requested_by": "ann"}, errors={}
    )

    assert visited == [
        n["has_trigger"],
        n["is_request"],
        n["begin"],
        n["scheduled"],
        *run_path(action),
    ]
    assert end == (
        "succeeded",
        {
            "composition": "env",
            "action": action.value,
            "trigger": trigger,
            "who": trigger,
            "via": trigger,
            "detail": "",
        },
    )


@pytest.mark.parametrize("action", list(Action))
def test_run_without_a_trigger_is_recorded_as_a_console_run(action: Action) -> None:
    n = top_names(action)

    visited, end = run_top_level(tracked_machine(action), {"Comment": "Insert your JSON"}, {})

    assert visited[:3] == [n["has_trigger"], n["begin_console"], n["scheduled"]]
    assert visited[3:] == run_path(action)
    assert end == (
        "succeeded",
        {
            "composition": "env",
            "action": action.value,
            "trigger": "console",
            "who": "console",
            "via": "console",
            "detail": "",
        },
    )


@pytest.mark.parametrize("action", list(Action))
def test_requested_run_keeps_who_asked_why_and_until_when_to_audit(action: Action) -> None:
    n = top_names(action)

    visited, end = run_top_level(tracked_machine(action), request(action), errors={})

    assert visited[:4] == [n["has_trigger"], n["is_request"], n["begin_request"], n["scheduled"]]
    assert visited[4:] == run_path(action, audit="audit_request")
    kept = {
        "composition": "env",
        "action": action.value,
        "trigger": "slack",
        "who": "ann",
        "via": "slack",
        "detail": "for the demo",
        "audit_expires_at": EXPIRES_AT,
    }
    # requested_by, and anything else a caller adds, is dropped.
    assert end == ("succeeded", kept | ({"auto_stop": {}} if action is Action.START else {}))


@pytest.mark.parametrize("action", list(Action))
def test_request_is_audited_with_the_requesters_who_via_detail_and_an_expiring_entry(
    action: Action,
) -> None:
    n = top_names(action)
    calls: list[tuple[str, str, dict[str, Any]]] = []

    visited, _ = run_top_level(tracked_machine(action), request(action), {}, calls=calls)

    assert n["audit"] not in visited
    [audit] = calls_of(calls, n["audit_request"])
    assert audit == {
        "TableName": "my-table",
        "Item": {
            "pk": {"S": "audit#env"},
            "sk": {"S": "<States.Format('{}#{}', $$.State.EnteredTime, $$.Execution.Name)>"},
            "at": {"S": "<$$.State.EnteredTime>"},
            "who": {"S": "ann"},
            "what": {"S": action.value},
            "via": {"S": "slack"},
            "detail": {"S": "for the demo"},
            "execution": {"S": "<$$.Execution.Id>"},
            # DynamoDB's TTL deletes the entry after this epoch second.
            "expires_at": {"N": EXPIRES_AT},
        },
    }


@pytest.mark.parametrize("action", list(Action))
def test_scheduled_run_is_audited_as_the_schedule_without_expiry(action: Action) -> None:
    n = top_names(action)
    calls: list[tuple[str, str, dict[str, Any]]] = []

    visited, end = run_top_level(
        tracked_machine(action),
        {"trigger": "schedule"},
        errors={n["consume"]: CONDITION_FAILED},
        calls=calls,
    )

    assert n["audit_request"] not in visited
    assert end[0] == "succeeded"
    [audit] = calls_of(calls, n["audit"])
    item = audit["Item"]
    assert item["who"] == item["via"] == {"S": "schedule"}
    assert item["what"] == {"S": action.value}
    assert item["detail"] == {"S": ""}
    assert "expires_at" not in item


@pytest.mark.parametrize("action", list(Action))
def test_both_audit_entries_are_keyed_by_the_execution_and_differ_only_in_expiry(
    action: Action,
) -> None:
    n = top_names(action)
    states = tracked_machine(action)["States"]

    assert states[n["audit_expires"]]["Choices"] == [
        {"Variable": "$.audit_expires_at", "IsPresent": True, "Next": n["audit_request"]}
    ]
    assert states[n["audit_expires"]]["Default"] == n["audit"]
    expiring, lasting = states[n["audit_request"]], states[n["audit"]]
    assert expiring["Resource"] == lasting["Resource"] == PUT_ITEM
    assert expiring["Parameters"]["Item"] == {
        **lasting["Parameters"]["Item"],
        "expires_at": {"N.$": "$.audit_expires_at"},
    }
    item = lasting["Parameters"]["Item"]
    assert item["pk"] == {"S": "audit#env"}
    # Two audit entries of one composition never share a sort key, and a retried
    # state of one execution writes the same entry again.
    assert "$$.Execution.Name" in item["sk"]["S.$"]
    assert item["execution"] == {"S.$": "$$.Execution.Id"}
    for state in (expiring, lasting):
        assert state["ResultPath"] is None
        assert state["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": n["record_failed"]}
        ]


@pytest.mark.parametrize("action", list(Action))
def test_scheduled_run_with_the_skip_flag_set_is_audited_and_skipped(action: Action) -> None:
    n = top_names(action)

    visited, end = run_top_level(tracked_machine(action), {"trigger": "schedule"}, errors={})

    # Nothing runs, so the lease is not taken either.
    assert visited == [
        n["has_trigger"],
        n["is_request"],
        n["begin"],
        n["scheduled"],
        n["dated"],
        n["consume"],
        n["audit_skip"],
        n["skipped"],
    ]
    assert end[0] == "succeeded"


SCHEDULED = {"trigger": "schedule", "scheduled_time": "2026-12-25T07:00:00Z"}
HOLIDAY = {"Item": {"reason": {"S": "holiday 2026-12-25"}}}


def test_a_scheduled_start_on_a_skipped_date_is_audited_and_does_nothing() -> None:
    n = top_names(Action.START)
    calls: list[tuple[str, str, dict[str, Any]]] = []

    visited, end = run_top_level(
        tracked_machine(Action.START),
        SCHEDULED,
        errors={},
        results={n["look_date"]: [HOLIDAY]},
        calls=calls,
    )

    assert visited == [
        n["has_trigger"],
        n["is_request"],
        n["begin_dated"],
        n["scheduled"],
        n["dated"],
        n["look_date"],
        n["date_skipped"],
        n["audit_date"],
        n["skipped_date"],
    ]
    assert end == ("succeeded", {"composition": "env", "skipped": "holiday 2026-12-25"})
    assert [state for state, _, _ in calls] == [n["look_date"], n["audit_date"]]
    states = tracked_machine(Action.START)["States"]
    look = states[n["look_date"]]["Parameters"]
    assert look["Key"] == {
        "pk": {"S": "composition#env"},
        "sk": {"S.$": "States.Format('skip#{}', $.scheduled_time)"},
    }
    assert look["ConsistentRead"] is True
    item = states[n["audit_date"]]["Parameters"]["Item"]
    assert item["what"] == {"S": "skipped start"}
    assert item["detail"] == {"S.$": "States.Format('skipped: {}', $.skip_date.Item.reason.S)"}


def test_the_scheduled_stop_that_extend_replaced_is_audited_and_does_nothing() -> None:
    n = top_names(Action.STOP)
    calls: list[tuple[str, str, dict[str, Any]]] = []

    visited, end = run_top_level(tracked_machine(Action.STOP), SCHEDULED, errors={}, calls=calls)

    assert visited == [
        n["has_trigger"],
        n["is_request"],
        n["begin_dated"],
        n["scheduled"],
        n["dated"],
        n["consume_extension"],
        n["audit_extension"],
        n["skipped_extension"],
    ]
    assert end == ("succeeded", {"composition": "env", "skipped": "extended"})
    consume = calls[0][2]
    assert consume["UpdateExpression"] == "REMOVE extended_stop"
    assert consume["ConditionExpression"] == "extended_stop = :due"
    assert consume["ExpressionAttributeValues"] == {":due": {"S": "2026-12-25T07:00:00Z"}}


def test_another_scheduled_stop_goes_on_to_the_skip_flag_and_runs() -> None:
    n = top_names(Action.STOP)

    visited, end = run_top_level(
        tracked_machine(Action.STOP),
        SCHEDULED,
        errors={n["consume_extension"]: CONDITION_FAILED, n["consume"]: CONDITION_FAILED},
    )

    assert visited[4:7] == [n["dated"], n["consume_extension"], n["consume"]]
    assert visited[7:] == run_path(Action.STOP)
    assert end[0] == "succeeded"


def test_a_scheduled_start_on_another_date_goes_on_to_the_skip_flag_and_runs() -> None:
    n = top_names(Action.START)

    visited, end = run_top_level(
        tracked_machine(Action.START),
        SCHEDULED,
        errors={n["consume"]: CONDITION_FAILED},
        results={n["look_date"]: [{}]},
    )

    assert visited[:8] == [
        n["has_trigger"],
        n["is_request"],
        n["begin_dated"],
        n["scheduled"],
        n["dated"],
        n["look_date"],
        n["date_skipped"],
        n["consume"],
    ]
    assert visited[8:] == run_path(Action.START)
    assert end[0] == "succeeded"


@pytest.mark.parametrize("action", list(Action))
def test_skipped_scheduled_run_is_audited_as_the_schedule(action: Action) -> None:
    skip = tracked_machine(action)["States"][top_names(action)["audit_skip"]]

    assert skip["Resource"] == PUT_ITEM
    item = skip["Parameters"]["Item"]
    assert item["pk"] == {"S": "audit#env"}
    assert item["what"] == {"S": f"skipped {action.value}"}
    assert item["who"] == item["via"] == {"S": "schedule"}
    assert item["at"] == {"S.$": "$$.State.EnteredTime"}
    assert "$$.Execution.Name" in item["sk"]["S.$"]
    assert skip["ResultPath"] is None


@pytest.mark.parametrize("action", list(Action))
def test_scheduled_run_without_the_skip_flag_takes_the_lease_and_runs(action: Action) -> None:
    n = top_names(action)

    visited, end = run_top_level(
        tracked_machine(action), {"trigger": "schedule"}, errors={n["consume"]: CONDITION_FAILED}
    )

    assert visited == [
        n["has_trigger"],
        n["is_request"],
        n["begin"],
        n["scheduled"],
        n["dated"],
        n["consume"],
        *run_path(action),
    ]
    assert end[0] == "succeeded"
    assert end[1]["who"] == end[1]["via"] == end[1]["trigger"] == "schedule"


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
            "Next": n["take"],
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


# --- the lease ---------------------------------------------------------------------------------


def reachable_avoiding(states: States, start: str, avoid: set[str]) -> set[str]:
    """The states an execution can reach from ``start`` without passing ``avoid``."""
    seen: set[str] = set()
    pending = [start]
    while pending:
        name = pending.pop()
        if name in seen or name in avoid:
            continue
        seen.add(name)
        pending.extend(successors(states[name]))
    return seen


@pytest.mark.parametrize("action", list(Action))
def test_every_way_to_the_audit_and_the_resources_goes_through_taking_the_lease(
    action: Action,
) -> None:
    n = top_names(action)
    document = tracked_machine(action)
    states, start = document["States"], document["StartAt"]
    auto_stop = [name for role, name in n.items() if "auto_stop" in role]
    after_the_audit = [*auto_stop, n["record_begin"], n["body"], n["record_done"]]

    without_lease = reachable_avoiding(states, start, {n["take"], n["take_over"]})
    without_audit = reachable_avoiding(states, start, {n["audit_request"], n["audit"]})
    without_auto_stop = reachable_avoiding(states, start, {n[auto_stop_entry(action)]})

    assert without_lease.isdisjoint([n["audit_request"], n["audit"], *after_the_audit])
    assert without_audit.isdisjoint(after_the_audit)
    assert without_auto_stop.isdisjoint([n["record_begin"], n["body"]])
    # The controls: each of them is reachable at all.
    assert {n["audit_request"], n["audit"], *after_the_audit} <= reachable(states, [start])


@pytest.mark.parametrize("action", list(Action))
def test_lease_is_taken_before_the_audit_and_before_any_resource_step(action: Action) -> None:
    n = top_names(action)

    visited, _ = run_top_level(tracked_machine(action), request(action), errors={})

    order = [n["take"], n["audit_request"], n["record_begin"], n["body"]]
    assert [name for name in visited if name in order] == order


@pytest.mark.parametrize("action", list(Action))
def test_lease_is_a_conditional_write_on_the_composition_lease_row(action: Action) -> None:
    n = top_names(action)
    take = tracked_machine(action)["States"][n["take"]]

    assert take["Resource"] == UPDATE_ITEM
    parameters = take["Parameters"]
    assert parameters["TableName"] == "my-table"
    assert parameters["Key"] == LEASE_KEY
    # Free; or reserved for this very execution by its caller; or a lapsed reservation.
    assert parameters["ConditionExpression"] == (
        "attribute_not_exists(#execution) OR #execution = :me OR #pending_until < :now"
    )
    assert parameters["ExpressionAttributeValues"][":me"] == {"S.$": "$$.Execution.Id"}
    assert parameters["ExpressionAttributeValues"][":now"] == {"S.$": "$$.State.EnteredTime"}
    assert update_effect(parameters) == (
        {
            "execution": {"S.$": "$$.Execution.Id"},
            "action": {"S": action.value},
            "since": {"S.$": "$$.State.EnteredTime"},
        },
        {"pending_until"},  # confirmed: no longer a reservation that can lapse
    )
    assert take["ResultPath"] is None
    assert take["Catch"] == [
        {
            "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
            "ResultPath": None,
            "Next": n["read_lease"],
        },
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": n["no_lease"]},
    ]


class _RecordingLeaseTable(_RecordingDynamoDB):
    def __init__(self) -> None:
        super().__init__()
        self.deletes: list[dict[str, Any]] = []

    def delete_item(self, **request: Any) -> None:
        self.deletes.append(request)


@pytest.mark.parametrize("action", list(Action))
def test_lease_the_machine_takes_is_the_row_its_caller_reserves(action: Action) -> None:
    table = _RecordingLeaseTable()
    lease = Lease(_FakeAws(table), "my-table", "env")  # type: ignore[arg-type]
    lease.reserve(execution_arn=HOLDER, action=action, now=datetime(2026, 12, 1, 8, tzinfo=UTC))
    [reserved] = table.updates

    take = tracked_machine(action)["States"][top_names(action)["take"]]["Parameters"]

    assert (reserved["TableName"], reserved["Key"]) == (take["TableName"], take["Key"])
    # The caller writes the execution it is about to start and a pending_until: the
    # machine's condition accepts its own reservation and removes pending_until.
    caller_sets, _ = update_effect(reserved)
    machine_sets, machine_removes = update_effect(take)
    assert caller_sets["execution"] == {"S": HOLDER}
    assert "pending_until" in caller_sets
    assert set(machine_sets) | machine_removes <= set(caller_sets)
    assert caller_sets["action"] == machine_sets["action"]


@pytest.mark.parametrize("action", list(Action))
def test_lease_holder_is_read_consistently_from_the_same_row(action: Action) -> None:
    n = top_names(action)
    read_lease = tracked_machine(action)["States"][n["read_lease"]]

    assert read_lease["Resource"] == QUERY
    parameters = read_lease["Parameters"]
    assert parameters["ConsistentRead"] is True
    check_expressions(parameters)
    assert parameters["KeyConditionExpression"] == "pk = :pk AND sk = :sk"
    assert parameters["ExpressionAttributeValues"] == {
        ":pk": LEASE_KEY["pk"],
        ":sk": LEASE_KEY["sk"],
    }
    assert read_lease["ResultPath"] == "$.holder"
    assert read_lease["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": n["no_lease"]}
    ]


@pytest.mark.parametrize("who", ["request", "schedule"])
@pytest.mark.parametrize("action", list(Action))
def test_held_lease_whose_holder_runs_is_audited_and_left_alone(action: Action, who: str) -> None:
    n = top_names(action)
    calls: list[tuple[str, str, dict[str, Any]]] = []
    execution_input = request(action) if who == "request" else {"trigger": "schedule"}
    errors = {n["take"]: CONDITION_FAILED, n["consume"]: CONDITION_FAILED}

    visited, end = run_top_level(
        tracked_machine(action),
        execution_input,
        errors,
        results={n["read_lease"]: HELD, n["describe_holder"]: described("RUNNING")},
        calls=calls,
    )

    assert visited[visited.index(n["take"]) :] == [
        n["take"],
        n["read_lease"],
        n["lease_route"],
        n["describe_holder"],
        n["holder_running"],
        n["busy"],
        n["left_alone"],
    ]
    assert end[0] == "succeeded"
    assert calls_of(calls, n["describe_holder"]) == [{"ExecutionArn": HOLDER}]
    [busy] = calls_of(calls, n["busy"])
    item = busy["Item"]
    assert item["what"] == {"S": f"skipped {action.value}"}
    assert item["who"] == {"S": "ann" if who == "request" else "schedule"}
    assert "in progress" in busy["Item"]["detail"]["S"]
    # Nothing but the lease row and the audit log is touched: no release, no record.
    touched = {state for state, _, _ in calls}
    assert touched.isdisjoint(
        [n["record_begin"], n["body"], n["release"], n["release_failed"], n["record_failed"]]
    )
    assert not [r for _, r, _ in calls if ":scheduler:" in r or r.endswith("deleteItem")]


@pytest.mark.parametrize("action", list(Action))
def test_lease_reserved_by_a_caller_is_busy_without_asking_about_the_holder(
    action: Action,
) -> None:
    n = top_names(action)

    visited, end = run_top_level(
        tracked_machine(action),
        request(action),
        errors={n["take"]: CONDITION_FAILED},
        results={n["read_lease"]: RESERVED},
    )

    assert visited[visited.index(n["take"]) :] == [
        n["take"],
        n["read_lease"],
        n["lease_route"],
        n["busy"],
        n["left_alone"],
    ]
    assert end[0] == "succeeded"


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"])
@pytest.mark.parametrize("action", list(Action))
def test_lease_of_a_finished_holder_is_taken_over(action: Action, status: str) -> None:
    n = top_names(action)
    calls: list[tuple[str, str, dict[str, Any]]] = []

    visited, end = run_top_level(
        tracked_machine(action),
        request(action),
        errors={n["take"]: CONDITION_FAILED},
        results={n["read_lease"]: HELD, n["describe_holder"]: described(status)},
        calls=calls,
    )

    taken = visited.index(n["take"])
    assert visited[taken : taken + 6] == [
        n["take"],
        n["read_lease"],
        n["lease_route"],
        n["describe_holder"],
        n["holder_running"],
        n["take_over"],
    ]
    assert visited[taken + 6 :] == run_path(action, audit="audit_request")[1:]
    assert end[0] == "succeeded"
    [take_over] = calls_of(calls, n["take_over"])
    assert take_over["ConditionExpression"] == "#execution = :holder"
    assert take_over["ExpressionAttributeValues"][":holder"] == {"S": HOLDER}


@pytest.mark.parametrize("action", list(Action))
def test_take_over_writes_the_lease_as_taking_it_does_but_only_from_that_holder(
    action: Action,
) -> None:
    n = top_names(action)
    states = tracked_machine(action)["States"]
    take, take_over = states[n["take"]]["Parameters"], states[n["take_over"]]["Parameters"]

    assert take_over["Key"] == LEASE_KEY
    assert update_effect(take_over) == update_effect(take)
    assert take_over["ExpressionAttributeValues"][":holder"] == {"S.$": "$.holder.execution[0]"}
    assert states[n["take_over"]]["Catch"] == [
        # Someone else changed the lease meanwhile: look again.
        {
            "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
            "ResultPath": None,
            "Next": n["take"],
        },
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": n["no_lease"]},
    ]


@pytest.mark.parametrize("action", list(Action))
def test_holder_that_does_not_exist_is_taken_over(action: Action) -> None:
    n = top_names(action)
    gone = {"Error": "Sfn.ExecutionDoesNotExistException", "Cause": "no such execution"}

    visited, end = run_top_level(
        tracked_machine(action),
        request(action),
        errors={n["take"]: CONDITION_FAILED, n["describe_holder"]: gone},
        results={n["read_lease"]: HELD},
    )

    assert visited[visited.index(n["describe_holder"]) + 1] == n["take_over"]
    assert n["body"] in visited
    assert end[0] == "succeeded"


@pytest.mark.parametrize("error", ["Sfn.SfnException", "Sfn.AccessDeniedException"])
@pytest.mark.parametrize("action", list(Action))
def test_holder_that_cannot_be_described_is_left_alone(action: Action, error: str) -> None:
    n = top_names(action)

    visited, end = run_top_level(
        tracked_machine(action),
        request(action),
        errors={n["take"]: CONDITION_FAILED, n["describe_holder"]: {"Error": error, "Cause": ""}},
        results={n["read_lease"]: HELD},
    )

    assert visited[-3:] == [n["describe_holder"], n["busy"], n["left_alone"]]
    assert end[0] == "succeeded"


@pytest.mark.parametrize("action", list(Action))
def test_lease_released_meanwhile_is_taken_again(action: Action) -> None:
    n = top_names(action)

    visited, end = run_top_level(
        tracked_machine(action),
        request(action),
        errors={n["take"]: [CONDITION_FAILED, None]},
        results={n["read_lease"]: RELEASED},
    )

    taken = visited.index(n["take"])
    assert visited[taken : taken + 3] == [n["take"], n["read_lease"], n["lease_route"]]
    assert visited[taken + 3 :] == run_path(action, audit="audit_request")
    assert end[0] == "succeeded"


@pytest.mark.parametrize("action", list(Action))
def test_take_over_that_loses_a_race_looks_at_the_lease_again(action: Action) -> None:
    n = top_names(action)

    visited, end = run_top_level(
        tracked_machine(action),
        request(action),
        errors={n["take"]: [CONDITION_FAILED, CONDITION_FAILED], n["take_over"]: CONDITION_FAILED},
        results={
            n["read_lease"]: [HELD, HELD],
            n["describe_holder"]: [described("SUCCEEDED"), described("RUNNING")],
        },
    )

    # The second look finds a running holder (the one that won the race): busy.
    assert visited.count(n["take"]) == 2
    assert visited[visited.index(n["take_over"]) + 1] == n["take"]
    assert visited[-2:] == [n["busy"], n["left_alone"]]
    assert end[0] == "succeeded"


@pytest.mark.parametrize("failing", ["take", "read_lease", "take_over"])
@pytest.mark.parametrize("action", list(Action))
def test_lease_that_cannot_be_taken_fails_the_run_before_anything_else(
    action: Action, failing: str
) -> None:
    n = top_names(action)
    errors: dict[str, Any] = {n["take"]: CONDITION_FAILED, n[failing]: TABLE_ERROR}

    visited, end = run_top_level(
        tracked_machine(action),
        request(action),
        errors,
        results={n["read_lease"]: HELD, n["describe_holder"]: described("FAILED")},
    )

    assert visited[-2:] == [n[failing], n["no_lease"]]
    # Not ours: nothing is audited, recorded or released.
    assert not {n["audit_request"], n["record_failed"], n["release_failed"]} & set(visited)
    assert end == ("failed", TABLE_ERROR["Error"], TABLE_ERROR["Cause"])


@pytest.mark.parametrize("action", list(Action))
def test_failed_audit_of_a_run_left_alone_still_leaves_it_alone(action: Action) -> None:
    n = top_names(action)

    visited, end = run_top_level(
        tracked_machine(action),
        request(action),
        errors={n["take"]: CONDITION_FAILED, n["busy"]: TABLE_ERROR},
        results={n["read_lease"]: RESERVED},
    )

    assert visited[-2:] == [n["busy"], n["left_alone"]]
    assert end[0] == "succeeded"
    assert "error" not in end[1]


@pytest.mark.parametrize("action", list(Action))
def test_lease_is_released_only_if_still_ours_and_never_fails_the_run(action: Action) -> None:
    n = top_names(action)
    states = tracked_machine(action)["States"]

    for role, then in [("release", "finish"), ("release_failed", "failed")]:
        release = states[n[role]]
        assert release["Resource"] == DELETE_ITEM
        check_expressions(release["Parameters"])
        assert release["Parameters"] == {
            "TableName": "my-table",
            "Key": LEASE_KEY,
            "ConditionExpression": "#execution = :me",
            "ExpressionAttributeNames": {"#execution": "execution"},
            "ExpressionAttributeValues": {":me": {"S.$": "$$.Execution.Id"}},
        }
        assert release["ResultPath"] is None
        assert release["Next"] == n[then]
        # ResultPath None: the run's own error (if any) is what it fails with.
        assert release["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": n[then]}
        ]


@pytest.mark.parametrize("release_fails", [False, True])
@pytest.mark.parametrize("action", list(Action))
def test_lease_is_released_after_a_successful_run(action: Action, release_fails: bool) -> None:
    n = top_names(action)
    errors = {n["release"]: CONDITION_FAILED} if release_fails else {}

    visited, end = run_top_level(tracked_machine(action), request(action), errors)

    assert visited[-4:] == [n["body"], n["record_done"], n["release"], n["finish"]]
    assert end[0] == "succeeded"


@pytest.mark.parametrize("release_fails", [False, True])
@pytest.mark.parametrize("action", list(Action))
def test_lease_is_released_after_a_failed_run(action: Action, release_fails: bool) -> None:
    n = top_names(action)
    errors = {n["body"]: RESOURCE_ERROR}
    if release_fails:
        errors[n["release_failed"]] = TABLE_ERROR

    visited, end = run_top_level(tracked_machine(action), request(action), errors)

    assert visited[-4:] == [n["body"], n["record_failed"], n["release_failed"], n["failed"]]
    assert n["release"] not in visited
    assert end == ("failed", RESOURCE_ERROR["Error"], RESOURCE_ERROR["Cause"])


# --- failures before the resources, and the auto-stop -------------------------------------------

SCHEDULER_ERROR = {"Error": "Scheduler.ValidationException", "Cause": "bad expression"}
EARLY_FAILURES = [
    (Action.START, "audit_request", TABLE_ERROR),
    (Action.START, "schedule_auto_stop", SCHEDULER_ERROR),
    (Action.START, "move_auto_stop", SCHEDULER_ERROR),
    (Action.START, "remember_auto_stop", TABLE_ERROR),
    (Action.STOP, "audit_request", TABLE_ERROR),
    (Action.STOP, "remove_auto_stop", SCHEDULER_ERROR),
    (Action.STOP, "forget_auto_stop", TABLE_ERROR),
]


@pytest.mark.parametrize(("action", "failing", "error"), EARLY_FAILURES)
def test_failure_while_auditing_or_with_the_auto_stop_is_recorded_and_released_before_any_resource(
    action: Action, failing: str, error: dict[str, str]
) -> None:
    n = top_names(action)
    errors: dict[str, Any] = {n[failing]: error}
    if failing == "move_auto_stop":
        errors[n["schedule_auto_stop"]] = {"Error": "Scheduler.ConflictException", "Cause": ""}
    auto_stop = {"auto_stop": AUTO_STOP} if action is Action.START else {}

    visited, end = run_top_level(tracked_machine(action), request(action, **auto_stop), errors)

    assert visited[-4:] == [n[failing], n["record_failed"], n["release_failed"], n["failed"]]
    assert n["record_begin"] not in visited
    assert n["body"] not in visited
    assert end == ("failed", error["Error"], error["Cause"])


@pytest.mark.parametrize("action", list(Action))
def test_failure_is_recorded_with_error_and_cause_then_released_and_failed(action: Action) -> None:
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
    assert record["Next"] == n["release_failed"]
    assert record["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": n["release_failed"]}
    ]
    assert document["States"][n["failed"]] == {
        "Type": "Fail",
        "ErrorPath": "$.error.Error",
        "CausePath": "$.error.Cause",
    }


def test_start_with_an_auto_stop_schedules_it_and_remembers_its_time() -> None:
    n = top_names(Action.START)
    calls: list[tuple[str, str, dict[str, Any]]] = []

    visited, end = run_top_level(
        tracked_machine(Action.START), request(Action.START, auto_stop=AUTO_STOP), {}, calls=calls
    )

    audited = visited.index(n["audit_request"])
    assert visited[audited + 1 : audited + 5] == [
        n["auto_stop_wanted"],
        n["schedule_auto_stop"],
        n["remember_auto_stop"],
        n["record_begin"],
    ]
    assert end[0] == "succeeded"
    assert calls_of(calls, n["schedule_auto_stop"]) == [
        {
            "GroupName": "envctl-env",
            "Name": "auto-stop",
            "ScheduleExpression": "at(2026-12-01T18:00:00)",
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            # One-time: the scheduler deletes it once it has fired.
            "ActionAfterCompletion": "DELETE",
            "State": "ENABLED",
            "Description": "envctl: auto-stop of env",
            "Target": AUTO_STOP_TARGET,
        }
    ]
    assert calls_of(calls, n["remember_auto_stop"]) == [
        {
            "TableName": "my-table",
            "Key": {"pk": {"S": "composition#env"}, "sk": {"S": "override"}},
            "UpdateExpression": "SET auto_stop_at = :at",
            "ExpressionAttributeValues": {":at": {"S": "2026-12-01T18:00:00+00:00"}},
        }
    ]


@pytest.mark.parametrize(
    "execution_input",
    [request(Action.START), {"trigger": "cli"}, {}],
    ids=["request without one", "cli", "console"],
)
def test_start_without_an_auto_stop_schedules_none(execution_input: dict[str, Any]) -> None:
    n = top_names(Action.START)
    calls: list[tuple[str, str, dict[str, Any]]] = []

    visited, end = run_top_level(tracked_machine(Action.START), execution_input, {}, calls=calls)

    assert visited[visited.index(n["auto_stop_wanted"]) + 1] == n["record_begin"]
    assert end[0] == "succeeded"
    assert not [resource for _, resource, _ in calls if ":scheduler:" in resource]
    assert n["remember_auto_stop"] not in visited


def test_start_moves_an_existing_auto_stop_to_the_new_time() -> None:
    n = top_names(Action.START)
    calls: list[tuple[str, str, dict[str, Any]]] = []
    exists = {"Error": "Scheduler.ConflictException", "Cause": "schedule auto-stop exists"}

    visited, end = run_top_level(
        tracked_machine(Action.START),
        request(Action.START, auto_stop=AUTO_STOP),
        errors={n["schedule_auto_stop"]: exists},
        calls=calls,
    )

    created = visited.index(n["schedule_auto_stop"])
    assert visited[created + 1 : created + 3] == [n["move_auto_stop"], n["remember_auto_stop"]]
    assert end[0] == "succeeded"
    [create] = calls_of(calls, n["schedule_auto_stop"])
    assert calls_of(calls, n["move_auto_stop"]) == [create]


def test_stop_removes_the_pending_auto_stop_and_forgets_its_time() -> None:
    n = top_names(Action.STOP)
    calls: list[tuple[str, str, dict[str, Any]]] = []

    visited, end = run_top_level(
        tracked_machine(Action.STOP), request(Action.STOP), {}, calls=calls
    )

    assert visited[visited.index(n["remove_auto_stop"]) + 1] == n["forget_auto_stop"]
    assert end[0] == "succeeded"
    assert calls_of(calls, n["remove_auto_stop"]) == [
        {"GroupName": "envctl-env", "Name": "auto-stop"}
    ]
    assert calls_of(calls, n["forget_auto_stop"]) == [
        {
            "TableName": "my-table",
            "Key": {"pk": {"S": "composition#env"}, "sk": {"S": "override"}},
            # Any stop also ends an extension of the scheduled stop.
            "UpdateExpression": "REMOVE auto_stop_at, extended_stop",
        }
    ]


def test_stop_without_a_pending_auto_stop_carries_on() -> None:
    n = top_names(Action.STOP)
    none = {"Error": "Scheduler.ResourceNotFoundException", "Cause": "no schedule auto-stop"}

    visited, end = run_top_level(
        tracked_machine(Action.STOP), request(Action.STOP), errors={n["remove_auto_stop"]: none}
    )

    assert visited[visited.index(n["remove_auto_stop"]) + 1] == n["forget_auto_stop"]
    assert visited[-1] == n["finish"]
    assert end[0] == "succeeded"
    assert "error" not in end[1]


@pytest.mark.parametrize("action", list(Action))
def test_request_as_the_caller_writes_it_runs_through_the_machine(action: Action) -> None:
    n = top_names(action)
    aws = SimpleNamespace(partition="aws", region="eu-west-1", account_id="123456789012")
    now = datetime(2026, 12, 1, 8, tzinfo=UTC)
    asked = RunRequest(who="ann", via="slack", detail="demo", auto_stop_at=now + timedelta(hours=2))
    composition = composition_of(ONE_DB)
    document = run_input(aws, Settings(), composition, action, "slack", asked, now)  # type: ignore[arg-type]
    calls: list[tuple[str, str, dict[str, Any]]] = []

    visited, end = run_top_level(tracked_machine(action), document, {}, calls=calls)

    assert n["audit_request"] in visited
    assert end[0] == "succeeded"
    [audit] = calls_of(calls, n["audit_request"])
    assert int(audit["Item"]["expires_at"]["N"]) > now.timestamp()
    if action is Action.START:
        [schedule] = calls_of(calls, n["schedule_auto_stop"])
        assert schedule["ScheduleExpression"] == "at(2026-12-01T10:00:00)"
        assert schedule["Target"]["Arn"] == (
            "arn:aws:states:eu-west-1:123456789012:stateMachine:envctl-env-stop"
        )
        assert json.loads(schedule["Target"]["Input"]) == {"trigger": "auto-stop"}


# --- records of the composition's state ---------------------------------------------------------


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

    assert visited[-4:] == [n["body"], n["record_failed"], n["release_failed"], n["failed"]]
    assert n["record_done"] not in visited
    assert end == ("failed", RESOURCE_ERROR["Error"], RESOURCE_ERROR["Cause"])


@pytest.mark.parametrize("action", list(Action))
def test_dynamodb_tasks_retry_throttling(action: Action) -> None:
    document = tracked_machine(action)

    tasks = dynamodb_tasks(document)

    assert len(tasks) == len(
        [r for r in expected_top_level_tasks(action).values() if "dynamodb" in r]
    )
    for name, state in tasks.items():
        retries = state["Retry"]
        assert retries, name
        if state["Resource"] == QUERY:
            # The aws-sdk integration names the errors differently: retry any, briefly.
            assert retries == [
                {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 3}
            ]
            continue
        [retry] = retries
        assert "DynamoDB.ThrottlingException" in retry["ErrorEquals"], name
        assert "States.ALL" not in retry["ErrorEquals"], name
        assert retry["MaxAttempts"] >= 1


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("table", ["my-table", "envctl-prod"])
def test_every_dynamodb_task_uses_the_table_it_was_built_for(action: Action, table: str) -> None:
    document = tracked_machine(action, table=table)

    tasks = top_level_tasks(document)

    assert tasks == expected_top_level_tasks(action)
    tables = {state["Parameters"]["TableName"] for state in dynamodb_tasks(document).values()}
    assert tables == {table}


def test_table_defaults_to_the_envctl_table() -> None:
    document = build_state_machine(composition_of(ONE_DB), Action.START)

    tables = {state["Parameters"]["TableName"] for state in dynamodb_tasks(document).values()}
    assert tables == {DEFAULT_TABLE} == {"envctl"}


# Templates too long to show a 40-character composition name whole within 80 characters.
@pytest.mark.parametrize("action", list(Action))
def test_longest_composition_name_fits_every_top_level_name(action: Action) -> None:
    name = "c" * 40  # the loader's limit

    document = build_state_machine(composition_of(ONE_DB, name=name), action)

    validate_structure(document)
    assert top_level_graph(document) == expected_top_level_graph(action, name)
    # Every top-level name shows the whole composition name (none is cut with "…").
    assert [state for state in document["States"] if name not in state] == []


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


def eks_nodegroup_params() -> st.SearchStrategy[dict[str, Any]]:
    sizes = st.lists(st.integers(0, 20), min_size=3, max_size=3).map(sorted)
    return st.builds(
        lambda cluster, name, s: {
            "cluster_name": cluster,
            "name": name,
            "min": s[0],
            "max": max(1, s[2]),
            "desired": s[1],
        },
        IDS,
        IDS,
        sizes,
    )


PARAMS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "auto_scaling_group": asg_params(),
    "docdb_cluster": st.fixed_dictionaries({"id": IDS}),
    "ec2_instance": st.fixed_dictionaries({"id": IDS}),
    "ecs_service": st.fixed_dictionaries(
        {"cluster_name": IDS, "name": IDS, "desired": number(st.integers(0, 50))}
    ),
    "efs_file_system": st.fixed_dictionaries(
        {"id": IDS, "provisioned_throughput_in_mibps": number(st.integers(1, 1024))}
    ),
    "eks_nodegroup": eks_nodegroup_params(),
    "fsx_windows_file_system": st.fixed_dictionaries(
        {"id": IDS, "throughput_capacity": number(st.sampled_from(sorted(THROUGHPUTS)))}
    ),
    "neptune_cluster": st.fixed_dictionaries({"id": IDS}),
    "rds_cluster": st.fixed_dictionaries({"id": IDS}),
    "rds_instance": st.fixed_dictionaries({"id": IDS}),
    "redshift_cluster": st.fixed_dictionaries({"id": IDS}),
    "sagemaker_notebook_instance": st.fixed_dictionaries({"name": IDS}),
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
    resources = distinct(resources)
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
