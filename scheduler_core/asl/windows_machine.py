"""The guarded window state machine: keeps one resource up through a window.

``envctl-<composition>-windows`` takes ``{"trigger": "window", "resource": <label>,
"action": "start"|"stop"}`` from a bracket schedule. A bracket acts on one
resource, not the composition, so it does not take the composition's lease; it
yields to it instead: while a start or stop of the composition is in progress (the
lease is reserved, or held by a running execution) the bracket does nothing and
says so in the audit log. Start brackets then start the resource. Stop brackets
first read the composition's recorded state and leave the resource alone while the
composition is running or starting: somebody may have started it on demand.
"""

from __future__ import annotations

from typing import Any

from scheduler_core.actions import Action
from scheduler_core.asl import runs, tracking
from scheduler_core.asl.credentials import with_credentials
from scheduler_core.asl.fragments import States
from scheduler_core.asl.naming import StateNamer
from scheduler_core.config.models import Composition, ResourceItem

IN_USE = ("running", "starting")


def build_windows_machine(
    composition: Composition,
    resources: list[ResourceItem],
    *,
    table: str,
    credentials: str | None = None,
) -> dict[str, Any]:
    """ASL for the bracket schedules of ``resources`` (those with uncovered windows)."""
    namer = StateNamer()
    begin = namer.claim("Begin window bracket of {}", composition.name)
    check = (
        namer.claim("Who holds the lease of {}?", composition.name),
        namer.claim("Is the lease of {} free, reserved or held?", composition.name),
        namer.claim("Is the holder of the lease of {} running?", composition.name),
        namer.claim("Does the lease holder of {} still run?", composition.name),
    )
    busy = namer.claim("Audit bracket of {}: run in progress", composition.name)
    yielded = namer.claim("Bracket of {} left alone", composition.name)
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
            begin: {
                "Type": "Pass",
                "Parameters": {
                    "trigger": "window",
                    "who": "window",
                    "via": "window",
                    "resource.$": "$.resource",
                    "action.$": "$.action",
                },
                "Next": check[0],
            },
            **runs.holder_states(
                table=table,
                composition=composition.name,
                states=check,
                released=route,
                busy=busy,
                finished=route,
                # Cannot read the lease: act as before rather than skip the window.
                error=route,
            ),
            busy: runs.busy_audit(
                table=table,
                composition=composition.name,
                what="skipped window bracket",
                next_state=yielded,
            ),
            yielded: {"Type": "Succeed"},
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
        "StartAt": begin,
        "States": with_credentials(states, credentials),
    }
