"""States that record a composition's state and audit trail in the envctl table.

They use the optimized DynamoDB integration (``arn:aws:states:::dynamodb:...``),
so no Lambda is involved. Items (see ``scheduler_core.runtime.store``):

- ``pk=composition#<name>, sk=state``: state, execution, trigger, updated_at, and on
  failure error and cause (the cause names the failing resource);
- ``pk=composition#<name>, sk=override``: ``skip_next_start`` / ``skip_next_stop``
  flags, consumed atomically by the next scheduled run;
- ``pk=audit#<name>, sk=<time>#<execution>``: scheduled runs.
"""

from __future__ import annotations

from typing import Any

DYNAMODB = "arn:aws:states:::dynamodb:{}"


def key(composition: str, sort_key: str) -> dict[str, Any]:
    return {"pk": {"S": f"composition#{composition}"}, "sk": {"S": sort_key}}


# DynamoDB's own throttling errors as the optimized integration names them.
THROTTLING = [
    "DynamoDB.ProvisionedThroughputExceededException",
    "DynamoDB.ThrottlingException",
    "DynamoDB.RequestLimitExceeded",
    "DynamoDB.InternalServerErrorException",
]
RETRY_THROTTLING = [
    {"ErrorEquals": THROTTLING, "IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2.0}
]


def record_state(
    *, table: str, composition: str, state: str, next_state: str, failed: bool = False
) -> dict[str, Any]:
    """UpdateItem on the state row; on failure also keep the error and cause.

    Every attribute goes through a ``#name`` placeholder: ``error`` and others are
    DynamoDB reserved words.
    """
    fields: dict[str, Any] = {
        "state": {"S": state},
        "execution": {"S.$": "$$.Execution.Id"},
        "trigger": {"S.$": "$.trigger"},
        "updated_at": {"S.$": "$$.State.EnteredTime"},
    }
    if failed:
        fields["error"] = {"S.$": "$.error.Error"}
        fields["cause"] = {"S.$": "$.error.Cause"}
    update = "SET " + ", ".join(f"#{field} = :{field}" for field in fields)
    names = {f"#{field}": field for field in fields}
    if not failed:
        update += " REMOVE #error, #cause"
        names.update({"#error": "error", "#cause": "cause"})
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": DYNAMODB.format("updateItem"),
        "Parameters": {
            "TableName": table,
            "Key": key(composition, "state"),
            "UpdateExpression": update,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {f":{field}": value for field, value in fields.items()},
        },
        "ResultPath": None,
        "Retry": RETRY_THROTTLING,
        "Next": next_state,
    }
    if failed:
        # Recording must not hide the resource's own error: fail with it regardless.
        task["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": next_state}]
    return task


def consume_skip_flag(
    *, table: str, composition: str, flag: str, skipped: str, not_skipped: str
) -> dict[str, Any]:
    """Remove the skip flag if it is set; a failed condition means "not skipped"."""
    return {
        "Type": "Task",
        "Resource": DYNAMODB.format("updateItem"),
        "Parameters": {
            "TableName": table,
            "Key": key(composition, "override"),
            "UpdateExpression": "REMOVE #flag",
            "ConditionExpression": "#flag = :yes",
            "ExpressionAttributeNames": {"#flag": flag},
            "ExpressionAttributeValues": {":yes": {"BOOL": True}},
        },
        "ResultPath": None,
        "Retry": RETRY_THROTTLING,
        "Catch": [
            {
                "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                "ResultPath": None,
                "Next": not_skipped,
            }
        ],
        "Next": skipped,
    }


def audit_scheduled_run(
    *, table: str, composition: str, what: str, next_state: str
) -> dict[str, Any]:
    """PutItem of an audit entry for a run that no person asked for."""
    return {
        "Type": "Task",
        "Resource": DYNAMODB.format("putItem"),
        "Parameters": {
            "TableName": table,
            # "what" and "at" are DynamoDB reserved words only in expressions, not in Item.
            "Item": {
                "pk": {"S": f"audit#{composition}"},
                "sk": {"S.$": "States.Format('{}#{}', $$.State.EnteredTime, $$.Execution.Name)"},
                "who": {"S": "schedule"},
                "what": {"S": what},
                "via": {"S": "schedule"},
                "at": {"S.$": "$$.State.EnteredTime"},
                "execution": {"S.$": "$$.Execution.Id"},
            },
        },
        "ResultPath": None,
        "Retry": RETRY_THROTTLING,
        "Next": next_state,
    }
