"""The lease of a composition in a run's states: take it, find its holder, give it back.

A run takes the lease (``pk=composition#<name>, sk=lease``) with a conditional write:
free, or already ours (a caller took it for this execution before starting it), or a
caller's reservation that was never used (``pending_until`` passed). If another
execution holds it, Step Functions is asked whether that one still runs: a finished
(or timed out, or aborted) holder is taken over, a running one means this run does
nothing and says so in the audit log. The window bracket machine asks the same
question (``holder_states``) before it touches a resource.
"""

from __future__ import annotations

from typing import Any

from scheduler_core.actions import Action
from scheduler_core.asl import tracking
from scheduler_core.asl.fragments import States
from scheduler_core.asl.naming import StateNamer

LEASE = "lease"
CONDITION_FAILED = "DynamoDB.ConditionalCheckFailedException"


def catch_failure(record_failed: str) -> list[dict[str, Any]]:
    """Catch every error into ``$.error`` and go to ``record_failed``."""
    return [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": record_failed}]


def dynamodb_task(action: str, parameters: dict[str, Any], next_state: str) -> dict[str, Any]:
    """A DynamoDB task (optimized integration) that retries throttling, output discarded."""
    return {
        "Type": "Task",
        "Resource": tracking.DYNAMODB.format(action),
        "Parameters": parameters,
        "ResultPath": None,
        "Retry": tracking.RETRY_THROTTLING,
        "Next": next_state,
    }


def lease_states(
    *,
    table: str,
    composition: str,
    action: Action,
    namer: StateNamer,
    then: str,
) -> tuple[str, States]:
    """Take the composition's lease, or find out why not; ``then`` runs once it is ours."""
    verb = action.value
    take = namer.claim(f"Take the lease of {{}} for this {verb}", composition)
    read = namer.claim("Who holds the lease of {}?", composition)
    route = namer.claim("Is the lease of {} free, reserved or held?", composition)
    describe = namer.claim("Is the holder of the lease of {} running?", composition)
    running = namer.claim("Does the lease holder of {} still run?", composition)
    take_over = namer.claim("Take over the stale lease of {}", composition)
    busy = namer.claim(f"Audit {verb} of {{}}: run in progress", composition)
    left_alone = namer.claim(f"{verb.capitalize()} of {{}} left alone", composition)
    no_lease = namer.claim("Could not take the lease of {}", composition)
    lease_key = tracking.key(composition, LEASE)
    attribute_names = {
        "#execution": "execution",
        "#action": "action",
        "#since": "since",
        "#pending_until": "pending_until",
    }
    mine = {
        ":me": {"S.$": "$$.Execution.Id"},
        ":action": {"S": verb},
        ":now": {"S.$": "$$.State.EnteredTime"},
    }
    set_mine = "SET #execution = :me, #action = :action, #since = :now REMOVE #pending_until"
    take_state = dynamodb_task(
        "updateItem",
        {
            "TableName": table,
            "Key": lease_key,
            "UpdateExpression": set_mine,
            # Free; or reserved for this very execution by its caller; or a caller's
            # reservation that was never used. Timestamps are ISO 8601 UTC strings,
            # which compare in time order.
            "ConditionExpression": (
                "attribute_not_exists(#execution) OR #execution = :me OR #pending_until < :now"
            ),
            "ExpressionAttributeNames": attribute_names,
            "ExpressionAttributeValues": mine,
        },
        then,
    )
    take_state["Catch"] = [
        {"ErrorEquals": [CONDITION_FAILED], "ResultPath": None, "Next": read},
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": no_lease},
    ]
    take_over_state = dynamodb_task(
        "updateItem",
        {
            "TableName": table,
            "Key": lease_key,
            "UpdateExpression": set_mine,
            "ConditionExpression": "#execution = :holder",
            "ExpressionAttributeNames": attribute_names,
            "ExpressionAttributeValues": {
                **mine,
                ":holder": {"S.$": "$.holder.execution[0]"},
            },
        },
        then,
    )
    take_over_state["Catch"] = [
        # Someone else changed the lease meanwhile: look again.
        {"ErrorEquals": [CONDITION_FAILED], "ResultPath": None, "Next": take},
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": no_lease},
    ]
    states: States = {
        take: take_state,
        **holder_states(
            table=table,
            composition=composition,
            states=(read, route, describe, running),
            released=take,
            busy=busy,
            finished=take_over,
            error=no_lease,
        ),
        take_over: take_over_state,
        busy: busy_audit(
            table=table, composition=composition, what=f"skipped {verb}", next_state=left_alone
        ),
        left_alone: skipped_end(
            composition, {"skipped": "in progress", "execution.$": "$.holder.execution[0]"}
        ),
        no_lease: {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
    }
    return take, states


def holder_states(
    *,
    table: str,
    composition: str,
    states: tuple[str, str, str, str],
    released: str,
    busy: str,
    finished: str,
    error: str,
) -> States:
    """Find out whether the lease's holder still runs; ``states[0]`` is the entry.

    Goes to ``released`` if nobody holds it any more, ``busy`` if it is reserved or
    its execution runs (or cannot be described), ``finished`` if that execution ended.
    """
    read, route, describe, running = states
    lease_key = tracking.key(composition, LEASE)
    return {
        read: {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamodb:query",
            "Parameters": {
                "TableName": table,
                "ConsistentRead": True,
                "KeyConditionExpression": "pk = :pk AND sk = :sk",
                "ExpressionAttributeValues": {":pk": lease_key["pk"], ":sk": lease_key["sk"]},
            },
            # Query (unlike GetItem) always returns Items: a lease released meanwhile is [].
            "ResultSelector": {
                "execution.$": "$.Items[*].execution.S",
                "action.$": "$.Items[*].action.S",
                "pending.$": "$.Items[*].pending_until.S",
            },
            "ResultPath": "$.holder",
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 3}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": error}],
            "Next": route,
        },
        route: {
            "Type": "Choice",
            "Choices": [
                # Released since (or never held).
                {"Variable": "$.holder.execution[0]", "IsPresent": False, "Next": released},
                # Reserved by a caller that is about to start its execution.
                {"Variable": "$.holder.pending[0]", "IsPresent": True, "Next": busy},
            ],
            "Default": describe,
        },
        describe: {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sfn:describeExecution",
            "Parameters": {"ExecutionArn.$": "$.holder.execution[0]"},
            "ResultSelector": {"status.$": "$.Status"},
            "ResultPath": "$.holder_status",
            "Retry": [
                {"ErrorEquals": ["Sfn.SfnException"], "IntervalSeconds": 1, "MaxAttempts": 3}
            ],
            "Catch": [
                {
                    "ErrorEquals": ["Sfn.ExecutionDoesNotExistException"],
                    "ResultPath": None,
                    "Next": finished,
                },
                # Cannot tell: do not run over someone else's run.
                {"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": busy},
            ],
            "Next": running,
        },
        running: {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.holder_status.status", "StringEquals": "RUNNING", "Next": busy}
            ],
            "Default": finished,
        },
    }


def busy_audit(*, table: str, composition: str, what: str, next_state: str) -> dict[str, Any]:
    """The audit entry of a run that did nothing because another one is in progress."""
    item: dict[str, Any] = {
        "pk": {"S": f"audit#{composition}"},
        "sk": {"S.$": "States.Format('{}#{}', $$.State.EnteredTime, $$.Execution.Name)"},
        "at": {"S.$": "$$.State.EnteredTime"},
        "who": {"S.$": "$.who"},
        "what": {"S": what},
        "via": {"S.$": "$.via"},
        "detail": {
            "S.$": (
                "States.Format('a {} is in progress (execution {})', "
                "$.holder.action[0], $.holder.execution[0])"
            )
        },
        "execution": {"S.$": "$$.Execution.Id"},
    }
    return {
        **dynamodb_task("putItem", {"TableName": table, "Item": item}, next_state),
        # The audit entry is a courtesy here: nothing was done either way.
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": next_state}],
    }


def skipped_end(composition: str, why: dict[str, str]) -> dict[str, Any]:
    """The end of a run that did nothing; its output says so (the notifier reads it)."""
    return {"Type": "Pass", "Parameters": {"composition": composition, **why}, "End": True}


def release_state(*, table: str, composition: str, next_state: str) -> dict[str, Any]:
    """Give the lease back, if it is still ours; never fails the run."""
    task = dynamodb_task(
        "deleteItem",
        {
            "TableName": table,
            "Key": tracking.key(composition, LEASE),
            "ConditionExpression": "#execution = :me",
            "ExpressionAttributeNames": {"#execution": "execution"},
            "ExpressionAttributeValues": {":me": {"S.$": "$$.Execution.Id"}},
        },
        next_state,
    )
    # A lease that is no longer ours, or a failed delete, is recovered by the next taker.
    task["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": next_state}]
    return task
