"""States that make a run of a composition exactly-once and self-recording.

Every start or stop, whoever asks (CLI, Slack, webhook, schedule, window bracket,
auto-stop, re-stop), runs through the same states before it touches a resource:

1. **Take the lease** (``pk=composition#<name>, sk=lease``) with a conditional write:
   free, or already ours (a caller took it for this execution before starting it),
   or a caller's reservation that was never used (``pending_until`` passed). If
   another execution holds it, ask Step Functions whether that one still runs: a
   finished (or timed out, or aborted) holder is taken over, a running one means
   this run does nothing and says so in the audit log.
2. **Audit** the run: who, what, via what; the entry is keyed by the execution, so a
   retried state writes it once.
3. **Auto-stop** (start with a duration): create the one-time stop schedule and
   remember its time. Stop: remove any pending auto-stop.

The lease is released when the run ends, successful or failed. A run that ends
without reaching that state (timeout, abort) leaves a lease whose execution is no
longer running: the next taker sees that and takes it over, so it is never stuck.

Any failure in these steps ends the run before a resource is touched, recorded as
failed: either nothing happened, or everything about the run is recorded.

The lease's states live in ``asl.lease`` and are re-exported here.
"""

from __future__ import annotations

from typing import Any

from scheduler_core import names
from scheduler_core.actions import Action
from scheduler_core.asl import tracking
from scheduler_core.asl.fragments import States
from scheduler_core.asl.lease import busy_audit as busy_audit
from scheduler_core.asl.lease import catch_failure, dynamodb_task
from scheduler_core.asl.lease import holder_states as holder_states
from scheduler_core.asl.lease import lease_states as lease_states
from scheduler_core.asl.lease import release_state as release_state
from scheduler_core.asl.lease import skipped_end as skipped_end
from scheduler_core.asl.naming import StateNamer
from scheduler_core.schedules import auto_stop_description


def audit_states(
    *, table: str, composition: str, action: Action, namer: StateNamer, then: str, failed: str
) -> tuple[str, States]:
    """One audit entry per run; requests carry its expiry (ASL has no date arithmetic)."""
    choose = namer.claim("Does the audit entry of this {} expire?", composition)
    with_ttl = namer.claim(f"Audit requested {action.value} of {{}}", composition)
    without = namer.claim(f"Audit {action.value} of {{}}", composition)

    def put(expires: bool) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": {"S": f"audit#{composition}"},
            "sk": {"S.$": "States.Format('{}#{}', $$.State.EnteredTime, $$.Execution.Name)"},
            "at": {"S.$": "$$.State.EnteredTime"},
            "who": {"S.$": "$.who"},
            "what": {"S": action.value},
            "via": {"S.$": "$.via"},
            "detail": {"S.$": "$.detail"},
            "execution": {"S.$": "$$.Execution.Id"},
        }
        if expires:
            item["expires_at"] = {"N.$": "$.audit_expires_at"}
        task = dynamodb_task("putItem", {"TableName": table, "Item": item}, then)
        task["Catch"] = catch_failure(failed)
        return task

    return choose, {
        choose: {
            "Type": "Choice",
            "Choices": [{"Variable": "$.audit_expires_at", "IsPresent": True, "Next": with_ttl}],
            "Default": without,
        },
        with_ttl: put(True),
        without: put(False),
    }


def auto_stop_states(
    *, table: str, composition: str, action: Action, namer: StateNamer, then: str, failed: str
) -> tuple[str, States]:
    """Start: create the one-time auto-stop if asked for. Stop: remove a pending one."""
    override = tracking.key(composition, "override")
    group = names.schedule_group(composition)
    if action is Action.STOP:
        remove = namer.claim("Remove the pending auto-stop of {}", composition)
        forget = namer.claim("Forget the auto-stop time of {}", composition)
        delete = {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:scheduler:deleteSchedule",
            "Parameters": {"GroupName": group, "Name": names.AUTO_STOP},
            "ResultPath": None,
            "Retry": [
                {
                    "ErrorEquals": ["Scheduler.ThrottlingException"],
                    "MaxAttempts": 5,
                    "BackoffRate": 2.0,
                }
            ],
            "Catch": [
                {
                    "ErrorEquals": ["Scheduler.ResourceNotFoundException"],
                    "ResultPath": None,
                    "Next": forget,
                },
                *catch_failure(failed),
            ],
            "Next": forget,
        }
        forget_state = dynamodb_task(
            "updateItem",
            # Any stop ends an extension of the scheduled stop too (asl.dates).
            {
                "TableName": table,
                "Key": override,
                "UpdateExpression": "REMOVE auto_stop_at, extended_stop",
            },
            then,
        )
        forget_state["Catch"] = catch_failure(failed)
        return remove, {remove: delete, forget: forget_state}

    wanted = namer.claim("Is an auto-stop of {} asked for?", composition)
    create = namer.claim("Schedule the auto-stop of {}", composition)
    move = namer.claim("Move the existing auto-stop of {}", composition)
    remember = namer.claim("Remember the auto-stop time of {}", composition)
    schedule = {
        "GroupName": group,
        "Name": names.AUTO_STOP,
        "ScheduleExpression.$": "$.auto_stop.expression",
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "State": "ENABLED",
        "Description": auto_stop_description(composition),
        # The caller knows the stop machine's ARN and the scheduler role.
        "Target.$": "$.auto_stop.target",
    }
    retry = [
        {"ErrorEquals": ["Scheduler.ThrottlingException"], "MaxAttempts": 5, "BackoffRate": 2.0}
    ]
    remember_state = dynamodb_task(
        "updateItem",
        {
            "TableName": table,
            "Key": override,
            "UpdateExpression": "SET auto_stop_at = :at",
            "ExpressionAttributeValues": {":at": {"S.$": "$.auto_stop.at"}},
        },
        then,
    )
    remember_state["Catch"] = catch_failure(failed)
    return wanted, {
        wanted: {
            "Type": "Choice",
            "Choices": [{"Variable": "$.auto_stop.expression", "IsPresent": True, "Next": create}],
            "Default": then,
        },
        create: {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:scheduler:createSchedule",
            "Parameters": schedule,
            "ResultPath": None,
            "Retry": retry,
            "Catch": [
                {"ErrorEquals": ["Scheduler.ConflictException"], "ResultPath": None, "Next": move},
                *catch_failure(failed),
            ],
            "Next": remember,
        },
        move: {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:scheduler:updateSchedule",
            "Parameters": schedule,
            "ResultPath": None,
            "Retry": retry,
            "Catch": catch_failure(failed),
            "Next": remember,
        },
        remember: remember_state,
    }
