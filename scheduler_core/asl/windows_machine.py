"""The guarded window state machine: keeps one resource up through a window.

``envctl-<composition>-windows`` takes ``{"trigger": "window", "resource": <label>,
"action": "start"|"stop"}`` from a bracket schedule. Start brackets just start
the resource. Stop brackets first read the composition's recorded state and leave
the resource alone while the composition is running or starting: somebody may have
started it on demand in the meantime.
"""

from __future__ import annotations

from typing import Any

from scheduler_core.asl import tracking
from scheduler_core.asl.fragments import States
from scheduler_core.asl.naming import StateNamer
from scheduler_core.config.models import Composition, ResourceItem
from scheduler_core.resources import Action

IN_USE = ("running", "starting")


def windows_machine_name(composition: str) -> str:
    return f"envctl-{composition}-windows"


def build_windows_machine(
    composition: Composition, resources: list[ResourceItem], *, table: str
) -> dict[str, Any]:
    """ASL for the bracket schedules of ``resources`` (those with uncovered windows)."""
    namer = StateNamer()
    route = namer.claim("Which resource and action?")
    unknown = namer.claim("Unknown resource or action")
    done = namer.claim("Window action done")
    read_state = namer.claim("Read {} state", composition.name)
    in_use = namer.claim("Is {} in use?", composition.name)
    left_alone = namer.claim("Leave it running: {} is in use", composition.name)
    states: States = {}
    choices = []
    stop_routes = []
    for item in resources:
        for action in Action:
            entry, fragment = item.kind.build_states(
                item.params,
                action=action,
                wait_until_ready=item.wait_until_ready,
                ready_timeout_seconds=item.ready_timeout_seconds,
                next_state=done,
                namer=namer,
            )
            states.update(fragment)
            match = {
                "And": [
                    {"Variable": "$.resource", "StringEquals": item.label},
                    {"Variable": "$.action", "StringEquals": action.value},
                ],
            }
            if action is Action.START:
                choices.append({**match, "Next": entry})
            else:
                choices.append({**match, "Next": read_state})
                stop_routes.append(
                    {"Variable": "$.resource", "StringEquals": item.label, "Next": entry}
                )
    states.update(
        {
            route: {"Type": "Choice", "Choices": choices, "Default": unknown},
            unknown: {
                "Type": "Fail",
                "Error": "envctl.UnknownWindowTarget",
                "CausePath": "States.Format('no window target {} / {}', $.resource, $.action)",
            },
            read_state: {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:dynamodb:query",
                "Parameters": {
                    "TableName": table,
                    "KeyConditionExpression": "pk = :pk AND sk = :sk",
                    "ExpressionAttributeValues": {
                        ":pk": tracking.key(composition.name, "state")["pk"],
                        ":sk": {"S": "state"},
                    },
                },
                # Query (unlike GetItem) always returns Items, so "no state yet" is [].
                "ResultSelector": {"states.$": "$.Items[*].state.S"},
                "ResultPath": "$.composition_state",
                "Next": in_use,
            },
            in_use: {
                "Type": "Choice",
                "Choices": [
                    {
                        # IsPresent first: a missing path in a comparison is a runtime error.
                        "And": [
                            {"Variable": "$.composition_state.states[0]", "IsPresent": True},
                            {
                                "Or": [
                                    {
                                        "Variable": "$.composition_state.states[0]",
                                        "StringEquals": state,
                                    }
                                    for state in IN_USE
                                ]
                            },
                        ],
                        "Next": left_alone,
                    },
                    *stop_routes,
                ],
                "Default": unknown,
            },
            left_alone: {"Type": "Succeed"},
            done: {"Type": "Succeed"},
        }
    )
    return {
        "Comment": f"envctl: maintenance/backup window brackets of {composition.name}. Generated.",
        "StartAt": route,
        "States": states,
    }
