"""The window bracket state machine: its routes, and that every path ends somewhere.

The mutation run found no unit test that looked inside this machine (the IAM tests
only read which services it calls).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scheduler_core.asl.windows_machine import build_windows_machine
from scheduler_core.config import parse_config
from scheduler_core.names import windows_machine

CONFIG = """
compositions:
  shop:
    resources:
      - type: rds_cluster
        params: {id: db}
      - type: ec2_instance
        params: {id: i-0123456789abcdef0}
"""
COMPOSITION = parse_config(CONFIG, path=Path("c.yaml")).compositions["shop"]
LABELS = [item.label for item in COMPOSITION.items()]
TABLE = "envctl-table"


def machine() -> dict[str, Any]:
    return build_windows_machine(COMPOSITION, list(COMPOSITION.items()), table=TABLE)


def value_at(data: dict[str, Any], path: str) -> Any:
    """``$.a.b[0]`` of ``data``, or KeyError/IndexError when it is not there."""
    found: Any = data
    for part in path.removeprefix("$.").split("."):
        name, _, index = part.partition("[")
        found = found[name]
        if index:
            found = found[int(index.rstrip("]"))]
    return found


def matches(rule: dict[str, Any], data: dict[str, Any]) -> bool:
    if "And" in rule:
        return all(matches(each, data) for each in rule["And"])
    if "Or" in rule:
        return any(matches(each, data) for each in rule["Or"])
    try:
        found = value_at(data, rule["Variable"])
    except (KeyError, IndexError):
        return rule.get("IsPresent") is False
    if "IsPresent" in rule:
        return rule["IsPresent"] is True
    return found == rule["StringEquals"]


def choose(state: dict[str, Any], data: dict[str, Any]) -> str:
    assert state["Type"] == "Choice"
    for rule in state["Choices"]:
        if matches(rule, data):
            return str(rule["Next"])
    return str(state["Default"])


def transitions(state: dict[str, Any]) -> list[str]:
    found = [state[key] for key in ("Next", "Default") if key in state]
    found += [rule["Next"] for rule in state.get("Choices", [])]
    found += [catcher["Next"] for catcher in state.get("Catch", [])]
    return found


def test_machine_name() -> None:
    assert windows_machine("shop") == "envctl-shop-windows"


def test_every_transition_names_a_state_and_every_state_is_reached() -> None:
    document = machine()
    states = document["States"]
    assert document["StartAt"] in states
    seen, todo = set(), [document["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for target in transitions(states[name]):
            assert target in states, f"{name} goes to the missing state {target!r}"
            todo.append(target)

    assert seen == set(states)


def test_begin_passes_the_resource_and_action_on_as_a_window_run() -> None:
    document = machine()
    begin = document["States"][document["StartAt"]]

    assert begin["Type"] == "Pass"
    assert begin["Parameters"] == {
        "trigger": "window",
        "who": "window",
        "via": "window",
        "resource.$": "$.resource",
        "action.$": "$.action",
    }
    assert document["Comment"] == "envctl: maintenance/backup window brackets of shop. Generated."


def route(document: dict[str, Any]) -> dict[str, Any]:
    return document["States"]["Which resource and action?"]


@pytest.mark.parametrize("label", LABELS)
def test_start_goes_straight_to_the_resources_own_start_steps(label: str) -> None:
    document = machine()
    entry = choose(route(document), {"resource": label, "action": "start"})

    assert entry == f"Prepare {label}"
    assert document["States"][entry]["Next"] == f"Describe {label}"


def test_a_stop_first_reads_the_composition_state_from_the_table() -> None:
    document = machine()
    read = choose(route(document), {"resource": LABELS[0], "action": "stop"})
    task = document["States"][read]

    assert read == "Read shop state"
    assert task == {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:dynamodb:query",
        "Parameters": {
            "TableName": TABLE,
            "KeyConditionExpression": "pk = :pk AND sk = :sk",
            "ExpressionAttributeValues": {":pk": {"S": "composition#shop"}, ":sk": {"S": "state"}},
        },
        "ResultSelector": {"states.$": "$.Items[*].state.S"},
        "ResultPath": "$.composition_state",
        "Next": "Is shop in use?",
    }


def test_a_stop_of_an_unknown_resource_not_in_use_fails() -> None:
    document = machine()
    data = {"resource": "rds_cluster other", "composition_state": {"states": []}}

    assert choose(document["States"]["Is shop in use?"], data) == "Unknown resource or action"


@pytest.mark.parametrize("state", ["running", "starting"])
@pytest.mark.parametrize("label", LABELS)
def test_a_stop_leaves_a_composition_in_use_alone(label: str, state: str) -> None:
    document = machine()
    data = {"resource": label, "composition_state": {"states": [state]}}
    left = choose(document["States"]["Is shop in use?"], data)

    assert left == "Leave it running: shop is in use"
    assert document["States"][left]["Type"] == "Succeed"


@pytest.mark.parametrize("states", [[], ["stopped"], ["stopping"]])
@pytest.mark.parametrize("label", LABELS)
def test_a_stop_of_a_composition_not_in_use_stops_that_resource(
    label: str, states: list[str]
) -> None:
    document = machine()
    data = {"resource": label, "composition_state": {"states": states}}

    assert choose(document["States"]["Is shop in use?"], data) == f"Prepare {label} #2"


@pytest.mark.parametrize(
    "data",
    [{"resource": "rds_cluster other", "action": "start"}, {"resource": LABELS[0], "action": "x"}],
)
def test_an_unknown_target_fails_naming_it(data: dict[str, str]) -> None:
    document = machine()
    unknown = document["States"][choose(route(document), data)]

    assert unknown == {
        "Type": "Fail",
        "Error": "envctl.UnknownWindowTarget",
        "CausePath": "States.Format('no window target {} / {}', $.resource, $.action)",
    }


def test_every_action_ends_in_the_shared_done_state() -> None:
    states = machine()["States"]

    assert states["Window action done"] == {"Type": "Succeed"}
    for label in LABELS:
        assert states[f"Done {label}"]["Next"] == "Window action done"
        assert states[f"Done {label} #2"]["Next"] == "Window action done"


def test_a_run_in_progress_is_audited_and_the_bracket_does_nothing() -> None:
    states = machine()["States"]
    audit = states["Audit bracket of shop: run in progress"]

    assert audit["Next"] == "Bracket of shop left alone"
    assert states["Bracket of shop left alone"] == {"Type": "Succeed"}
    assert TABLE in str(audit["Parameters"])
    assert states["Who holds the lease of shop?"]["Parameters"]["TableName"] == TABLE


def test_a_bracket_begins_by_asking_who_holds_the_composition_lease() -> None:
    document = machine()

    assert document["StartAt"] == "Begin window bracket of shop"
    assert document["States"]["Begin window bracket of shop"]["Next"] == (
        "Who holds the lease of shop?"
    )


def test_the_lease_holder_is_read_consistently_from_the_composition_lease_row() -> None:
    states = machine()["States"]

    assert states["Who holds the lease of shop?"] == {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:dynamodb:query",
        "Parameters": {
            "TableName": TABLE,
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND sk = :sk",
            "ExpressionAttributeValues": {
                ":pk": {"S": "composition#shop"},
                ":sk": {"S": "lease"},
            },
        },
        "ResultSelector": {
            "execution.$": "$.Items[*].execution.S",
            "action.$": "$.Items[*].action.S",
            "pending.$": "$.Items[*].pending_until.S",
        },
        "ResultPath": "$.holder",
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 3}],
        # Cannot read the lease: act as before rather than skip the window.
        "Catch": [
            {
                "ErrorEquals": ["States.ALL"],
                "ResultPath": "$.error",
                "Next": "Which resource and action?",
            }
        ],
        "Next": "Is the lease of shop free, reserved or held?",
    }


@pytest.mark.parametrize(
    ("holder", "then"),
    [
        ({"execution": [], "pending": []}, "Which resource and action?"),
        (
            {"execution": ["arn:x"], "pending": ["2026-12-01T10:00:00Z"]},
            "Audit bracket of shop: run in progress",
        ),
        ({"execution": ["arn:x"], "pending": []}, "Is the holder of the lease of shop running?"),
    ],
)
def test_a_free_lease_lets_the_bracket_act_and_a_reserved_one_leaves_it_alone(
    holder: dict[str, list[str]], then: str
) -> None:
    route = machine()["States"]["Is the lease of shop free, reserved or held?"]

    assert choose(route, {"holder": holder}) == then


def test_the_holder_of_a_held_lease_is_asked_whether_it_still_runs() -> None:
    states = machine()["States"]
    describe = states["Is the holder of the lease of shop running?"]

    assert describe["Resource"] == "arn:aws:states:::aws-sdk:sfn:describeExecution"
    assert describe["Parameters"] == {"ExecutionArn.$": "$.holder.execution[0]"}
    assert describe["Next"] == "Does the lease holder of shop still run?"
    assert describe["Catch"] == [
        {
            "ErrorEquals": ["Sfn.ExecutionDoesNotExistException"],
            "ResultPath": None,
            "Next": "Which resource and action?",
        },
        {
            "ErrorEquals": ["States.ALL"],
            "ResultPath": None,
            "Next": "Audit bracket of shop: run in progress",
        },
    ]
    running = states["Does the lease holder of shop still run?"]
    assert choose(running, {"holder_status": {"status": "RUNNING"}}) == (
        "Audit bracket of shop: run in progress"
    )
    assert choose(running, {"holder_status": {"status": "SUCCEEDED"}}) == (
        "Which resource and action?"
    )


def test_a_bracket_left_alone_is_audited_as_a_skipped_window_bracket() -> None:
    audit = machine()["States"]["Audit bracket of shop: run in progress"]

    assert audit["Resource"] == "arn:aws:states:::dynamodb:putItem"
    assert audit["Parameters"] == {
        "TableName": TABLE,
        "Item": {
            "pk": {"S": "audit#shop"},
            "sk": {"S.$": "States.Format('{}#{}', $$.State.EnteredTime, $$.Execution.Name)"},
            "at": {"S.$": "$$.State.EnteredTime"},
            "who": {"S.$": "$.who"},
            "what": {"S": "skipped window bracket"},
            "via": {"S.$": "$.via"},
            "detail": {
                "S.$": (
                    "States.Format('a {} is in progress (execution {})', "
                    "$.holder.action[0], $.holder.execution[0])"
                )
            },
            "execution": {"S.$": "$$.Execution.Id"},
        },
    }
    # The audit entry is a courtesy: the bracket is left alone either way.
    assert audit["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "Bracket of shop left alone"}
    ]


@pytest.mark.parametrize("label", LABELS)
def test_a_bracket_waits_until_its_resource_is_ready_unless_told_not_to(label: str) -> None:
    states = machine()["States"]

    assert states[f"Start {label}"]["Next"] == f"Describe {label}"
    assert states[f"Stop {label} #2"]["Next"] == f"Describe {label} #2"


def test_a_bracket_of_a_resource_not_waited_for_is_done_after_its_action() -> None:
    config = CONFIG.replace("params: {id: db}", "params: {id: db}\n        wait_until_ready: false")
    composition = parse_config(config, path=Path("c.yaml")).compositions["shop"]
    states = build_windows_machine(composition, list(composition.items()), table=TABLE)["States"]

    assert states["Start rds_cluster db"]["Next"] == "Done rds_cluster db"
    assert states["Stop rds_cluster db #2"]["Next"] == "Done rds_cluster db #2"
