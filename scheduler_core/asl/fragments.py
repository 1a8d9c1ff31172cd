"""ASL building blocks shared by every resource kind.

A resource step is a small loop that never trusts a single call:

    Prepare → Describe (→ Describe members) → Is it ready? ──yes──► next step
                  ▲          │ actionable → Start/Stop ─► Describe (or next step
                  │          │                            when not waiting)
                  │          │ unusable   → Fail (cause names the resource)
                  │          │ timed out  → Fail (cause names the last state)
                  └─ Count ◄─ Wait ◄── otherwise (transitional state)

Describing first makes "already in the target state" a success without calling
the action at all; an "invalid state" error from the action (a race with
someone else) sends the loop back to waiting instead of failing. A step may make a
second describe call right after the first on every poll (a cluster's member
instances); its selected result lands inside the first one's, at ``$.poll.<key>``,
so that the same Choice conditions see both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from scheduler_core.asl import naming
from scheduler_core.asl.naming import StateNamer

Condition = dict[str, Any]
States = dict[str, dict[str, Any]]

MAX_POLL_INTERVAL_SECONDS = 300
TARGET_POLLS = 60
PAST_TENSE = {"Start": "started", "Stop": "stopped"}


@dataclass(frozen=True, kw_only=True)
class SdkCall:
    """One AWS SDK integration call, in Step Functions casing."""

    service: str
    action: str
    parameters: dict[str, Any]
    result_selector: dict[str, Any] | None = None

    @property
    def resource(self) -> str:
        return f"arn:aws:states:::aws-sdk:{self.service}:{self.action}"


@dataclass(frozen=True, kw_only=True)
class PolledStep:
    """Everything the loop needs to drive one resource to one target state.

    Conditions are Choice rules evaluated against the describe result at ``$.poll``.
    ``actionable`` None means the action is idempotent: call it whenever not ready.
    ``second_describe``, when given, is called after ``describe`` on every poll; its
    selected result lands at ``$.poll.<second_describe_key>``.
    """

    kind: str
    label: str
    verb: str
    action: SdkCall
    describe: SdkCall
    ready: Condition
    actionable: Condition | None = None
    unusable: Condition | None = None
    missing: Condition | None = None
    invalid_state_errors: tuple[str, ...] = ()
    throttling_errors: tuple[str, ...] = ()
    generic_error: str | None = None
    wait_until_ready: bool = True
    ready_timeout_seconds: int = 1800
    before: SdkCall | None = None
    # The retried errors of ``before``, which may call another service than the step.
    before_throttling_errors: tuple[str, ...] = ()
    before_generic_error: str | None = None
    second_describe: SdkCall | None = None
    second_describe_key: str = "members"


def poll_plan(ready_timeout_seconds: int) -> tuple[int, int]:
    """Return (interval, max polls) so that interval × polls covers the timeout.

    About 60 polls per resource whatever the timeout (30 s apart for the default
    1800 s), so a long timeout cannot push one execution past the 25,000-event
    history limit of Step Functions (each poll costs about 11 events).
    """
    interval = max(1, min(MAX_POLL_INTERVAL_SECONDS, ready_timeout_seconds // TARGET_POLLS))
    return interval, max(1, math.ceil(ready_timeout_seconds / interval))


def format_literal(text: str) -> str:
    """Escape text for use inside a States.Format template string."""
    for char in ("\\", "'", "{", "}"):
        text = text.replace(char, "\\" + char)
    return text


def retriers(step: PolledStep) -> list[dict[str, Any]]:
    """Retry throttling with backoff; retry the service's unmodelled errors briefly."""
    rules: list[dict[str, Any]] = []
    if step.throttling_errors:
        rules.append(
            {
                "ErrorEquals": list(step.throttling_errors),
                "IntervalSeconds": 2,
                "MaxAttempts": 6,
                "BackoffRate": 2.0,
                "MaxDelaySeconds": 60,
                "JitterStrategy": "FULL",
            }
        )
    if step.generic_error:
        # Throttling of services without a modelled throttling error arrives as the
        # service's generic exception; a short retry absorbs it without hiding real errors.
        rules.append(
            {
                "ErrorEquals": [step.generic_error],
                "IntervalSeconds": 1,
                "MaxAttempts": 2,
                "BackoffRate": 2.0,
            }
        )
    return rules


def sdk_task(call: SdkCall, *, result_path: str | None, next_state: str) -> dict[str, Any]:
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": call.resource,
        "Parameters": call.parameters,
        "ResultPath": result_path,
        "Next": next_state,
    }
    if call.result_selector is not None:
        task["ResultSelector"] = call.result_selector
    return task


def polled_step_states(
    step: PolledStep, *, next_state: str | None, namer: StateNamer
) -> tuple[str, States]:
    """Build the loop for one resource; returns (entry state name, states)."""
    subject = f"{step.kind} {step.label}"
    name = namer.for_subject(subject)
    prepare = name(naming.PREPARE.template)
    describe = name("Describe {}")
    past = PAST_TENSE[step.verb]
    check = name("Is {} " + past + "?")
    act = name(naming.act(step.verb).template)
    wait = name(naming.POLL_WAIT.template)
    count = name("Count wait for {}")
    failed = name("Fail {}")
    timed_out = name("Time out {}")
    done = name(naming.DONE.template)
    interval, max_polls = poll_plan(step.ready_timeout_seconds)
    catch_all = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": failed}]
    literal = format_literal(subject)

    describe_task = sdk_task(step.describe, result_path="$.poll", next_state=check)
    describe_task["Retry"] = retriers(step)
    describe_task["Catch"] = catch_all
    states: States = {}
    if step.second_describe is not None:
        key = step.second_describe_key
        second = name(f"Describe {key} of {{}}")
        describe_task["Next"] = second
        second_task = sdk_task(step.second_describe, result_path=f"$.poll.{key}", next_state=check)
        second_task["Retry"] = retriers(step)
        second_task["Catch"] = catch_all
        states[second] = second_task

    act_task = sdk_task(
        step.action, result_path=None, next_state=describe if step.wait_until_ready else done
    )
    act_task["Retry"] = retriers(step)
    act_task["Catch"] = [
        *(
            [{"ErrorEquals": list(step.invalid_state_errors), "ResultPath": None, "Next": wait}]
            if step.invalid_state_errors
            else []
        ),
        *catch_all,
    ]

    choices: list[dict[str, Any]] = []
    if step.missing is not None:
        missing_state = name("Missing {}")
        choices.append({**step.missing, "Next": missing_state})
        states[missing_state] = {
            "Type": "Fail",
            "Error": "envctl.ResourceMissing",
            "Cause": f"{subject} does not exist",
        }
    choices.append({**step.ready, "Next": done})
    if step.unusable is not None:
        unusable_state = name("Refuse {}")
        choices.append({**step.unusable, "Next": unusable_state})
        states[unusable_state] = {
            "Type": "Fail",
            "Error": "envctl.ResourceUnusable",
            "CausePath": (
                f"States.Format('{literal} cannot be {past} from its current "
                "state: {}', States.JsonToString($.poll))"
            ),
        }
    actionable = step.actionable or {"Not": step.ready}
    choices.append({**actionable, "Next": act})
    # The bound also applies when not waiting for readiness: a resource stuck in a
    # transitional state must not keep the execution alive for ever.
    choices.insert(
        len(choices) - 1,
        {"Variable": "$.attempts.count", "NumericGreaterThanEquals": max_polls, "Next": timed_out},
    )
    states.update(
        {
            prepare: {
                "Type": "Pass",
                "Result": {"count": 0},
                "ResultPath": "$.attempts",
                "Next": describe,
            },
            describe: describe_task,
            check: {"Type": "Choice", "Choices": choices, "Default": wait},
            act: act_task,
            wait: {"Type": "Wait", "Seconds": interval, "Next": count},
            count: {
                "Type": "Pass",
                "Parameters": {"count.$": "States.MathAdd($.attempts.count, 1)"},
                "ResultPath": "$.attempts",
                "Next": describe,
            },
            failed: {
                "Type": "Fail",
                "Error": "envctl.ResourceFailed",
                "CausePath": f"States.Format('{literal}: {{}}', $.error.Cause)",
            },
            timed_out: {
                "Type": "Fail",
                "Error": "envctl.ResourceNotReady",
                "CausePath": (
                    f"States.Format('{literal} was not {past} within "
                    f"{step.ready_timeout_seconds} s; last observed: {{}}', "
                    "States.JsonToString($.poll))"
                ),
            },
            done: {"Type": "Pass", "ResultPath": None, **link(next_state)},
        }
    )
    if step.before is not None:
        # e.g. lower a scalable target's MinCapacity before the service is scaled to 0.
        adjust = name("Adjust scaling of {}")
        states[prepare]["Next"] = adjust
        adjust_task = sdk_task(step.before, result_path=None, next_state=describe)
        adjust_task["Retry"] = retriers(
            replace(
                step,
                throttling_errors=step.before_throttling_errors,
                generic_error=step.before_generic_error,
            )
        )
        adjust_task["Catch"] = catch_all
        states[adjust] = adjust_task
    return prepare, states


def link(next_state: str | None) -> dict[str, Any]:
    return {"Next": next_state} if next_state else {"End": True}
