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
