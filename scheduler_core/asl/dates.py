"""A scheduled start on a holiday or a skipped date does nothing, and says so.

The start schedule passes ``scheduled_time`` (EventBridge Scheduler's
``<aws.scheduler.scheduled-time>``); ``apply`` and ``envctl skip DATE`` write
``skip#<that time>`` rows for the starts that must not run (``scheduler_core.holidays``).
One GetItem decides: no Lambda, and the schedule itself stays a plain cron.
"""

from __future__ import annotations

from typing import Any

from scheduler_core.asl import tracking
from scheduler_core.asl.fragments import States
from scheduler_core.asl.lease import skipped_end
from scheduler_core.asl.naming import StateNamer

SCHEDULED_TIME = "$.scheduled_time"


def date_check_states(
    *, table: str, composition: str, namer: StateNamer, not_skipped: str
) -> tuple[str, States]:
    """(entry, states): look up the run's date; skipped → audit and end; else ``not_skipped``."""
    dated = namer.claim("Has this start of {} a date?", composition)
    look = namer.claim("Is the date of this start of {} skipped?", composition)
    decide = namer.claim("Does {} skip this date?", composition)
    audit = namer.claim("Audit the skipped date of {}", composition)
    done = namer.claim("Skipped date of {}", composition)
    record: dict[str, Any] = tracking.audit_scheduled_run(
        table=table, composition=composition, what="skipped start", next_state=done
    )
    record["Parameters"]["Item"]["detail"] = {
        "S.$": "States.Format('skipped: {}', $.skip_date.Item.reason.S)"
    }
    states: States = {
        # Schedules made before calendars existed pass no time: nothing to look up.
        dated: {
            "Type": "Choice",
            "Choices": [{"Variable": SCHEDULED_TIME, "IsPresent": True, "Next": look}],
            "Default": not_skipped,
        },
        look: {
            "Type": "Task",
            "Resource": tracking.DYNAMODB.format("getItem"),
            "Parameters": {
                "TableName": table,
                "Key": {
                    "pk": {"S": f"composition#{composition}"},
                    "sk": {"S.$": f"States.Format('skip#{{}}', {SCHEDULED_TIME})"},
                },
                "ConsistentRead": True,
            },
            "ResultPath": "$.skip_date",
            "Retry": tracking.RETRY_THROTTLING,
            "Next": decide,
        },
        decide: {
            "Type": "Choice",
            "Choices": [{"Variable": "$.skip_date.Item", "IsPresent": True, "Next": audit}],
            "Default": not_skipped,
        },
        audit: record,
        done: skipped_end(composition, {"skipped.$": "$.skip_date.Item.reason.S"}),
    }
    return dated, states


def extension_check_states(
    *, table: str, composition: str, namer: StateNamer, not_skipped: str
) -> tuple[str, States]:
    """(entry, states) of a scheduled stop: the one ``extend`` moved later does nothing.

    ``envctl extend`` on a run the schedule started records the due time of the stop
    it replaced (``extended_stop``) after creating the later auto-stop; taking that
    mark away, conditionally, is how exactly that one scheduled stop knows to skip.
    """
    dated = namer.claim("Has this stop of {} a date?", composition)
    consume = namer.claim("Was this scheduled stop of {} extended?", composition)
    audit = namer.claim("Audit the extended stop of {}", composition)
    done = namer.claim("Extended stop of {}", composition)
    record: dict[str, Any] = tracking.audit_scheduled_run(
        table=table, composition=composition, what="skipped stop", next_state=done
    )
    record["Parameters"]["Item"]["detail"] = {"S": "skipped: extended"}
    states: States = {
        dated: {
            "Type": "Choice",
            "Choices": [{"Variable": SCHEDULED_TIME, "IsPresent": True, "Next": consume}],
            "Default": not_skipped,
        },
        consume: {
            "Type": "Task",
            "Resource": tracking.DYNAMODB.format("updateItem"),
            "Parameters": {
                "TableName": table,
                "Key": tracking.key(composition, "override"),
                "UpdateExpression": "REMOVE extended_stop",
                "ConditionExpression": "extended_stop = :due",
                "ExpressionAttributeValues": {":due": {"S.$": SCHEDULED_TIME}},
            },
            "ResultPath": None,
            "Retry": tracking.RETRY_THROTTLING,
            "Catch": [
                {
                    "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                    "ResultPath": None,
                    "Next": not_skipped,
                }
            ],
            "Next": audit,
        },
        audit: record,
        done: skipped_end(composition, {"skipped": "extended"}),
    }
    return dated, states
