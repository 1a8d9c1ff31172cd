"""Decisions of the generated state machines that whole-machine tests do not pin down.

State names (the 80-character limit, repeated resources), the readiness loop's
branches that only some kinds use (a call before the loop, a missing resource, an
idempotent action), its poll plan, the Parallel state of a group, the order of the
rendered document and the retry of the auto-stop removal.
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import Any

import pytest
import yaml

from scheduler_core.asl.builder import build_state_machine, definition_json
from scheduler_core.asl.fragments import (
    PolledStep,
    SdkCall,
    format_literal,
    poll_plan,
    polled_step_states,
)
from scheduler_core.asl.naming import MAX_STATE_NAME, StateNamer
from scheduler_core.config import Composition, parse_config
from scheduler_core.resources import Action

States = dict[str, dict[str, Any]]

API = "ecs_service shop/api"
ECS = {"type": "ecs_service", "params": {"cluster_name": "shop", "name": "api", "desired": 2}}
SCALED_ECS = {"type": "ecs_service", "params": {**ECS["params"], "min_capacity": 1}}
DB = {"type": "rds_instance", "params": {"id": "db1"}}
ECS_RETRY = [
    {
        "ErrorEquals": ["Ecs.ThrottlingException", "Ecs.RequestLimitExceededException"],
        "IntervalSeconds": 2,
        "MaxAttempts": 6,
        "BackoffRate": 2.0,
        "MaxDelaySeconds": 60,
        "JitterStrategy": "FULL",
    },
    {
        "ErrorEquals": ["Ecs.EcsException"],
        "IntervalSeconds": 1,
        "MaxAttempts": 2,
        "BackoffRate": 2.0,
    },
]


def composition_of(resources: list[dict[str, Any]], name: str = "shop") -> Composition:
    text = yaml.safe_dump({"compositions": {name: {"resources": resources}}}, sort_keys=False)
    return parse_config(text, path=Path("compositions.yaml")).get(name)


def body_branch(document: dict[str, Any]) -> dict[str, Any]:
    """The one branch of ``Run <action> of <composition>``: the resource steps."""
    [body] = [state for name, state in document["States"].items() if name.startswith("Run ")]
    [branch] = body["Branches"]
    return branch


def steps_of(resources: list[dict[str, Any]], action: Action) -> States:
    return body_branch(build_state_machine(composition_of(resources), action))["States"]


# --- state names ---------------------------------------------------------------------------


def test_a_tag_that_fits_the_budget_exactly_is_kept_whole() -> None:
    tag = "x" * (MAX_STATE_NAME - len("Start "))

    assert StateNamer().claim("Start {}", tag) == f"Start {tag}"


def test_a_tag_one_character_over_the_budget_is_cut_to_the_limit_with_an_ellipsis() -> None:
    budget = MAX_STATE_NAME - len("Start ")
    tag = "".join(chr(ord("a") + i % 26) for i in range(budget + 1))

    name = StateNamer().claim("Start {}", tag)

    assert name == f"Start {tag[: budget - 1]}…"
    assert len(name) == MAX_STATE_NAME


def test_a_template_leaving_two_characters_shows_one_and_the_ellipsis() -> None:
    template = "y" * (MAX_STATE_NAME - 2) + "{}"

    assert StateNamer().claim(template, "abc") == "y" * (MAX_STATE_NAME - 2) + "a…"


def test_a_name_claimed_again_is_numbered_from_two() -> None:
    namer = StateNamer()

    names = [namer.claim("Start {}", "db") for _ in range(4)]

    assert names == ["Start db", "Start db #2", "Start db #3", "Start db #4"]


def test_a_numbered_name_at_the_limit_is_cut_to_make_room_for_its_number() -> None:
    namer = StateNamer()
    tag = "x" * (MAX_STATE_NAME - len("Start "))

    first, second = namer.claim("Start {}", tag), namer.claim("Start {}", tag)

    assert first == f"Start {tag}"
    assert second == f"Start {tag}"[: MAX_STATE_NAME - 3] + " #2"


def test_a_subject_seen_again_gets_its_number_in_every_name_of_it() -> None:
    namer = StateNamer()
    first, second = namer.for_subject(API), namer.for_subject(API)

    # The second subject's names carry "#2" even for templates the first never used.
    assert [first("Start {}"), second("Stop {}"), second("Start {}")] == [
        f"Start {API}",
        f"Stop {API} #2",
        f"Start {API} #2",
    ]
    assert namer.for_subject(API)("Stop {}") == f"Stop {API} #3"


def test_each_subject_is_counted_on_its_own() -> None:
    namer = StateNamer()
    namer.for_subject("rds_instance db1")

    assert namer.for_subject(API)("Stop {}") == f"Stop {API}"


# --- the readiness loop ----------------------------------------------------------------------


def test_a_scaled_ecs_service_lowers_its_scalable_target_before_stopping() -> None:
    steps = steps_of([SCALED_ECS], Action.STOP)

    assert steps[f"Prepare {API}"] == {
        "Type": "Pass",
        "Result": {"count": 0},
        "ResultPath": "$.attempts",
        "Next": f"Adjust scaling of {API}",
    }
    assert steps[f"Adjust scaling of {API}"] == {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:applicationautoscaling:registerScalableTarget",
        "Parameters": {
            "ServiceNamespace": "ecs",
            "ResourceId": "service/shop/api",
            "ScalableDimension": "ecs:service:DesiredCount",
            "MinCapacity": 0,
        },
        "ResultPath": None,
        # Application Auto Scaling's own errors: the ECS ones never come from this call.
        "Retry": [
            {
                "ErrorEquals": [
                    "ApplicationAutoScaling.ThrottlingException",
                    "ApplicationAutoScaling.RequestLimitExceededException",
                ],
                "IntervalSeconds": 2,
                "MaxAttempts": 6,
                "BackoffRate": 2.0,
                "MaxDelaySeconds": 60,
                "JitterStrategy": "FULL",
            },
            {
                "ErrorEquals": ["ApplicationAutoScaling.ApplicationAutoScalingException"],
                "IntervalSeconds": 1,
                "MaxAttempts": 2,
                "BackoffRate": 2.0,
            },
        ],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": f"Fail {API}"}],
        "Next": f"Describe {API}",
    }


def test_a_scaled_ecs_service_restores_its_minimum_capacity_before_starting() -> None:
    adjust = steps_of([SCALED_ECS], Action.START)[f"Adjust scaling of {API}"]

    assert adjust["Parameters"]["MinCapacity"] == 1
    assert adjust["Next"] == f"Describe {API}"


def test_an_ecs_service_without_scaling_goes_straight_to_describing() -> None:
    steps = steps_of([ECS], Action.STOP)

    assert steps[f"Prepare {API}"]["Next"] == f"Describe {API}"
    assert not [name for name in steps if name.startswith("Adjust")]


@pytest.mark.parametrize("action", list(Action))
def test_a_missing_ecs_service_fails_the_run_saying_it_does_not_exist(action: Action) -> None:
    steps = steps_of([ECS], action)
    check = steps[f"Is {API} {'started' if action is Action.START else 'stopped'}?"]

    # Checked first: a missing service has no counts to compare.
    assert check["Choices"][0] == {
        "Or": [
            {"Variable": "$.poll.status[0]", "IsPresent": False},
            {"Variable": "$.poll.status[0]", "StringEquals": "INACTIVE"},
        ],
        "Next": f"Missing {API}",
    }
    assert steps[f"Missing {API}"] == {
        "Type": "Fail",
        "Error": "envctl.ResourceMissing",
        "Cause": f"{API} does not exist",
    }


def test_an_ecs_service_whose_update_fails_fails_the_run_naming_it() -> None:
    # ECS has no "invalid state" error to wait out: any error of the action fails it.
    steps = steps_of([ECS], Action.STOP)

    assert steps[f"Stop {API}"] == {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:ecs:updateService",
        "Parameters": {"Cluster": "shop", "Service": "api", "DesiredCount": 0},
        "ResultPath": None,
        "Retry": ECS_RETRY,
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": f"Fail {API}"}],
        "Next": f"Describe {API}",
    }


def idempotent_step(**options: Any) -> PolledStep:
    ready = {"Variable": "$.poll.state", "StringEquals": "on"}
    return PolledStep(
        kind="lamp",
        label="desk",
        verb="Start",
        action=SdkCall(service="lamp", action="switchOn", parameters={"Id": "desk"}),
        describe=SdkCall(service="lamp", action="describe", parameters={"Id": "desk"}),
        ready=ready,
        **options,
    )


def test_an_idempotent_action_is_called_whenever_the_resource_is_not_ready() -> None:
    entry, states = polled_step_states(idempotent_step(), next_state=None, namer=StateNamer())

    assert entry == "Prepare lamp desk"
    assert states["Is lamp desk started?"] == {
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.poll.state", "StringEquals": "on", "Next": "Done lamp desk"},
            {
                "Variable": "$.attempts.count",
                "NumericGreaterThanEquals": 60,
                "Next": "Time out lamp desk",
            },
            {
                "Not": {"Variable": "$.poll.state", "StringEquals": "on"},
                "Next": "Start lamp desk",
            },
        ],
        "Default": "Wait for lamp desk",
    }


def test_an_invalid_state_error_of_the_action_waits_and_any_other_fails() -> None:
    step = idempotent_step(invalid_state_errors=("Lamp.Busy", "Lamp.Warming"))
    _, states = polled_step_states(step, next_state=None, namer=StateNamer())

    assert states["Start lamp desk"]["Catch"] == [
        {
            "ErrorEquals": ["Lamp.Busy", "Lamp.Warming"],
            "ResultPath": None,
            "Next": "Wait for lamp desk",
        },
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Fail lamp desk"},
    ]


@pytest.mark.parametrize(
    ("timeout", "plan"),
    [
        (1, (1, 1)),
        (7, (1, 7)),
        (90, (1, 90)),
        (119, (1, 119)),
        (120, (2, 60)),
        (1800, (30, 60)),
        (3030, (50, 61)),
        (86400, (300, 288)),
    ],
)
def test_polls_are_whole_seconds_apart_and_cover_the_timeout(
    timeout: int, plan: tuple[int, int]
) -> None:
    interval, polls = poll_plan(timeout)

    assert (interval, polls) == plan
    assert type(interval) is int


def test_a_timeout_not_divisible_by_the_polls_waits_whole_seconds_one_poll_longer() -> None:
    item = {**DB, "ready_timeout_seconds": 3030}
    steps = steps_of([item], Action.START)

    assert steps["Wait for rds_instance db1"] == {
        "Type": "Wait",
        "Seconds": 50,
        "Next": "Count wait for rds_instance db1",
    }
    bound = [
        rule
        for rule in steps["Is rds_instance db1 started?"]["Choices"]
        if rule.get("Variable") == "$.attempts.count"
    ]
    assert bound == [
        {
            "Variable": "$.attempts.count",
            "NumericGreaterThanEquals": 61,
            "Next": "Time out rds_instance db1",
        }
    ]


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a\\b", "a\\\\b"),
        ("it's {x}", "it\\'s \\{x\\}"),
        ("\\{", "\\\\\\{"),
        ("plain", "plain"),
    ],
)
def test_format_literal_escapes_what_states_format_would_read(text: str, escaped: str) -> None:
    assert format_literal(text) == escaped


# --- the Parallel state of a group ------------------------------------------------------------


@pytest.mark.parametrize("action", list(Action))
def test_a_two_resource_group_is_one_parallel_state_named_by_both_keeping_its_input(
    action: Action,
) -> None:
    steps = steps_of([DB, {"parallel": [ECS, {"type": "wait", "params": {"seconds": 5}}]}], action)
    name = f"{action.verb} in parallel: {API}, wait 5s"
    verb, past = action.verb, "started" if action is Action.START else "stopped"

    group = steps[name]
    assert [branch["StartAt"] for branch in group["Branches"]] == [f"Prepare {API}", "Wait 5s"]
    assert group == {
        "Type": "Parallel",
        "Branches": group["Branches"],
        # The branches' outputs would otherwise replace the run's input.
        "ResultPath": None,
        # Start runs the group after the database; stop runs it first.
        **({"End": True} if action is Action.START else {"Next": "Prepare rds_instance db1"}),
    }
    ecs_branch = group["Branches"][0]["States"]
    assert ecs_branch[f"Done {API}"] == {"Type": "Pass", "ResultPath": None, "End": True}
    assert ecs_branch[f"Is {API} {past}?"]["Choices"][-1]["Next"] == f"{verb} {API}"


# --- the order of the rendered document -------------------------------------------------------


def successors(state: dict[str, Any]) -> list[str]:
    found = [state[key] for key in ("Next", "Default") if key in state]
    found += [rule["Next"] for rule in state.get("Choices", [])]
    found += [catcher["Next"] for catcher in state.get("Catch", [])]
    return found


def distances(scope: dict[str, Any]) -> dict[str, int]:
    """How many transitions each state is from ``StartAt`` at the fewest."""
    found = {scope["StartAt"]: 0}
    todo = deque([scope["StartAt"]])
    while todo:
        name = todo.popleft()
        for target in successors(scope["States"][name]):
            if target not in found:
                found[target] = found[name] + 1
                todo.append(target)
    return found


def scopes(scope: dict[str, Any]) -> list[dict[str, Any]]:
    """``scope`` and every branch of a Parallel state in it, at any depth."""
    found = [scope]
    for state in scope["States"].values():
        for branch in state.get("Branches", []):
            found += scopes(branch)
    return found


WEB = {"type": "ecs_service", "params": {"cluster_name": "shop", "name": "web", "desired": 1}}
ORDERED = [
    [DB],
    [SCALED_ECS, DB, {"type": "wait", "params": {"seconds": 5}}],
    [DB, {"parallel": [ECS, {"type": "rds_cluster", "params": {"id": "staging-db"}}]}, WEB],
]


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("resources", ORDERED)
def test_the_document_lists_states_in_the_order_they_first_run(
    resources: list[dict[str, Any]], action: Action
) -> None:
    document = build_state_machine(composition_of(resources), action)

    for scope in scopes(document):
        order = list(scope["States"])
        far = distances(scope)
        assert order[0] == scope["StartAt"]
        assert set(order) == set(far)
        # Nearer states first: the document reads top to bottom, as the run goes.
        assert [far[name] for name in order] == sorted(far[name] for name in order), order


# --- the auto-stop ----------------------------------------------------------------------------


def test_a_stop_removes_the_pending_auto_stop_retrying_throttling_with_backoff() -> None:
    states = build_state_machine(composition_of([DB]), Action.STOP)["States"]

    assert states["Remove the pending auto-stop of shop"] == {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:scheduler:deleteSchedule",
        "Parameters": {"GroupName": "envctl-shop", "Name": "auto-stop"},
        "ResultPath": None,
        "Retry": [
            {"ErrorEquals": ["Scheduler.ThrottlingException"], "MaxAttempts": 5, "BackoffRate": 2.0}
        ],
        "Catch": [
            # No auto-stop pending: nothing to remove.
            {
                "ErrorEquals": ["Scheduler.ResourceNotFoundException"],
                "ResultPath": None,
                "Next": "Forget the auto-stop time of shop",
            },
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Record shop failed"},
        ],
        "Next": "Forget the auto-stop time of shop",
    }


# --- the deployed definition ------------------------------------------------------------------


def test_the_deployed_definition_is_compact_json_of_the_document() -> None:
    # Step Functions caps a definition at 1 MB: no whitespace between tokens.
    document = {"StartAt": "a b", "States": {"a b": {"Type": "Wait", "Seconds": 5, "End": True}}}

    assert definition_json(document) == (
        '{"StartAt":"a b","States":{"a b":{"Type":"Wait","Seconds":5,"End":true}}}'
    )


@pytest.mark.parametrize("action", list(Action))
def test_the_deployed_definition_of_a_machine_reads_back_as_the_machine(action: Action) -> None:
    document = build_state_machine(composition_of(ORDERED[2]), action)

    assert json.loads(definition_json(document)) == document
