"""Generate the start and stop state machines of a composition (pure, no AWS calls)."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from scheduler_core.actions import Action
from scheduler_core.asl import naming, runs, source, tracking
from scheduler_core.asl.credentials import with_credentials
from scheduler_core.asl.dates import (
    SCHEDULED_TIME,
    date_check_states,
    extension_check_states,
)
from scheduler_core.asl.fragments import States
from scheduler_core.asl.naming import StateNamer
from scheduler_core.config.models import Composition, ParallelGroup, ResourceItem, Step

DEFAULT_TABLE = "envctl"


def step_order(composition: Composition, action: Action) -> list[Step]:
    """Start runs the steps as listed; stop runs them in reverse, group by group."""
    steps = list(composition.resources)
    return steps if action is Action.START else steps[::-1]


def build_state_machine(
    composition: Composition,
    action: Action,
    *,
    table: str = DEFAULT_TABLE,
    credentials: str | None = None,
) -> dict[str, Any]:
    """Return the ASL document that drives every resource of ``composition`` to ``action``.

    Before the resource steps it takes the composition's lease (one run at a time),
    audits the run and creates or removes the auto-stop (``asl.runs``); around them it
    records the composition's state in ``table`` (starting → running, stopping →
    stopped, or failed with the cause); a scheduled run can be skipped once. With
    ``credentials`` (a role ARN) every call on a resource is made as that role.
    """
    namer = StateNamer()
    name, verb = composition.name, action.value
    past, doing = ("started", "starting") if action is Action.START else ("stopped", "stopping")
    names = {
        key: namer.claim(template, name)
        for key, template in {
            "has_trigger": "Has {} a trigger?",
            "is_request": f"Did someone ask for this {verb} of {{}}?",
            "begin_request": f"Begin requested {verb} of {{}}",
            "begin": f"Begin {verb} of {{}}",
            "begin_dated": f"Begin scheduled {verb} of {{}}",
            "begin_console": f"Begin console {verb} of {{}}",
            "scheduled": f"Is this a scheduled {verb} of {{}}?",
            "consume": f"Skip this scheduled {verb} of {{}}?",
            "audit_skip": f"Audit skipped {verb} of {{}}",
            "skipped": f"Skipped scheduled {verb} of {{}}",
            "record_begin": f"Record {{}} {doing}",
            "body": f"Run {verb} of {{}}",
            "record_done": f"Record {{}} {past}",
            "release": f"Release the lease of {{}} ({verb} done)",
            "record_failed": "Record {} failed",
            "release_failed": f"Release the lease of {{}} (failed {verb})",
            "failed": f"{verb.capitalize()} of {{}} failed",
            "finish": f"{{}} {past}",
        }.items()
    }
    auto_stop_entry, auto_stop = runs.auto_stop_states(
        table=table,
        composition=name,
        action=action,
        namer=namer,
        then=names["record_begin"],
        failed=names["record_failed"],
    )
    audit_entry, audit = runs.audit_states(
        table=table,
        composition=name,
        action=action,
        namer=namer,
        then=auto_stop_entry,
        failed=names["record_failed"],
    )
    lease_entry, lease = runs.lease_states(
        table=table, composition=name, action=action, namer=namer, then=audit_entry
    )
    steps_entry, steps = _chain(composition, action, namer)
    checks = date_check_states if action is Action.START else extension_check_states
    dated_entry, dated = checks(
        table=table, composition=name, namer=namer, not_skipped=names["consume"]
    )
    states: States = {
        names["has_trigger"]: {
            "Type": "Choice",
            "Comment": (
                'Executions carry {"trigger": cli|slack|webhook|schedule|window|auto-stop|...};'
                " requests also say who asked (who, via, detail)."
            ),
            "Choices": [{"Variable": "$.trigger", "IsPresent": True, "Next": names["is_request"]}],
            "Default": names["begin_console"],
        },
        names["is_request"]: {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.who", "IsPresent": True, "Next": names["begin_request"]},
                # A scheduled run says when it was due: holidays (start), extended (stop).
                {"Variable": SCHEDULED_TIME, "IsPresent": True, "Next": names["begin_dated"]},
            ],
            "Default": names["begin"],
        },
        names["begin_dated"]: _begin(
            name,
            verb,
            {
                "trigger.$": "$.trigger",
                "who.$": "$.trigger",
                "via.$": "$.trigger",
                "detail": "",
                "scheduled_time.$": SCHEDULED_TIME,
            },
            names["scheduled"],
        ),
        **dated,
        names["begin_request"]: _begin(
            name,
            verb,
            {
                "trigger.$": "$.trigger",
                "who.$": "$.who",
                "via.$": "$.via",
                "detail.$": "$.detail",
                "audit_expires_at.$": "$.audit_expires_at",
                **({"auto_stop.$": "$.auto_stop"} if action is Action.START else {}),
            },
            names["scheduled"],
        ),
        names["begin"]: _begin(
            name,
            verb,
            {"trigger.$": "$.trigger", "who.$": "$.trigger", "via.$": "$.trigger", "detail": ""},
            names["scheduled"],
        ),
        names["begin_console"]: _begin(
            name,
            verb,
            {"trigger": "console", "who": "console", "via": "console", "detail": ""},
            names["scheduled"],
        ),
        names["scheduled"]: {
            "Type": "Choice",
            "Choices": [
                {
                    "Variable": "$.trigger",
                    "StringEquals": "schedule",
                    "Next": dated_entry,
                }
            ],
            "Default": lease_entry,
        },
        names["consume"]: tracking.consume_skip_flag(
            table=table,
            composition=name,
            flag=f"skip_next_{verb}",
            skipped=names["audit_skip"],
            not_skipped=lease_entry,
        ),
        names["audit_skip"]: tracking.audit_scheduled_run(
            table=table, composition=name, what=f"skipped {verb}", next_state=names["skipped"]
        ),
        names["skipped"]: runs.skipped_end(name, {"skipped": "skip flag"}),
        **lease,
        **audit,
        **auto_stop,
        names["record_begin"]: {
            **tracking.record_state(
                table=table, composition=name, state=doing, next_state=names["body"]
            ),
            # Not recorded: stop here, before any resource, and say so.
            "Catch": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "ResultPath": "$.error",
                    "Next": names["record_failed"],
                }
            ],
        },
        names["body"]: {
            "Type": "Parallel",
            "Comment": "One branch: lets a single Catch record any failure of any step.",
            "Branches": [
                {"StartAt": steps_entry, "States": _in_execution_order(steps, steps_entry)}
            ],
            "ResultPath": None,
            "Catch": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "ResultPath": "$.error",
                    "Next": names["record_failed"],
                }
            ],
            "Next": names["record_done"],
        },
        names["record_done"]: {
            **tracking.record_state(
                table=table,
                composition=name,
                # Recorded states are the composition states of status: running / stopped.
                state="running" if action is Action.START else "stopped",
                next_state=names["release"],
            ),
            # The resources did what was asked: a lost record must not keep the lease.
            "Catch": [
                {"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": names["release"]}
            ],
        },
        names["release"]: runs.release_state(
            table=table, composition=name, next_state=names["finish"]
        ),
        names["record_failed"]: tracking.record_state(
            table=table,
            composition=name,
            state="failed",
            next_state=names["release_failed"],
            failed=True,
        ),
        names["release_failed"]: runs.release_state(
            table=table, composition=name, next_state=names["failed"]
        ),
        names["failed"]: {
            "Type": "Fail",
            "ErrorPath": "$.error.Error",
            "CausePath": "$.error.Cause",
        },
        names["finish"]: {"Type": "Succeed"},
    }
    return {
        "Comment": (
            f"envctl: {verb} composition {name} "
            f"({len(composition.items())} resource(s)). Generated; do not edit. "
            + source.mark(source.fingerprint(composition, table=table, credentials=credentials))
        ),
        "StartAt": names["has_trigger"],
        "States": with_credentials(_in_execution_order(states, names["has_trigger"]), credentials),
    }


def _begin(name: str, verb: str, trigger: dict[str, Any], next_state: str) -> dict[str, Any]:
    return {
        "Type": "Pass",
        "Comment": "Replace the input with a small, known document.",
        "Parameters": {"composition": name, "action": verb, **trigger},
        "Next": next_state,
    }


def _chain(composition: Composition, action: Action, namer: StateNamer) -> tuple[str, States]:
    """The resource steps in order, the last one ending its branch."""
    states: States = {}
    next_state: str | None = None
    # Build back to front so every fragment knows the state that follows it.
    for step in reversed(step_order(composition, action)):
        entry, fragment = _step_states(step, action=action, next_state=next_state, namer=namer)
        states.update(fragment)
        next_state = entry
    assert next_state is not None  # the loader guarantees at least one step
    return next_state, states


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
    name = namer.claim(naming.parallel(action.value.capitalize()).template, labels)
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
