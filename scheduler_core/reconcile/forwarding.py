"""Forward the end of runs in other regions to the deployment's event bus.

The notifier updates the Slack message of a run when EventBridge tells it the
execution ended; EventBridge delivers a region's Step Functions events on that
region's bus only. In every other region that holds a composition, ``apply`` (and so
the deploy-time sync) keeps one rule that sends the status changes of envctl's
machines there to the deployment region's default bus, as the forwarding role.
Forwarded events keep their region, so the notifier describes the execution there.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from scheduler_core import heads_up, names
from scheduler_core.aws import Aws
from scheduler_core.reconcile.model import Call, Change, ChangeAction, ObjectKind
from scheduler_core.settings import Settings

RULE = f"{names.PREFIX}execution-status"
HEADS_UP_RULE = f"{names.PREFIX}heads-up"
TARGET_ID = "deployment-bus"


def forwarding_role_arn(aws: Aws, settings: Settings) -> str:
    return settings.events_role_arn or (
        f"arn:{aws.partition}:iam::{aws.account_id}:role/{names.EVENTS_ROLE}"
    )


def pattern(aws: Aws) -> dict[str, Any]:
    """The status changes of envctl's machines in ``aws``'s region that end a run."""
    prefix = f"arn:{aws.partition}:states:{aws.region}:{aws.account_id}:stateMachine:"
    return {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {
            "status": ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"],
            "stateMachineArn": [{"prefix": prefix + names.PREFIX}],
        },
    }


def heads_up_pattern() -> dict[str, Any]:
    """The heads-up events that schedules put on the region's bus (``heads_up``)."""
    return {"source": [heads_up.EVENT_SOURCE], "detail-type": [heads_up.EVENT_DETAIL_TYPE]}


def forwarding_changes(there: Aws, home: Aws, settings: Settings) -> list[Change | None]:
    """The rules in ``there``'s region that are missing or not as they should be."""
    return [
        _rule_change(
            there,
            home,
            settings,
            name=RULE,
            wanted=pattern(there),
            description="envctl: ends of runs here, to the deployment's bus",
        ),
        _rule_change(
            there,
            home,
            settings,
            name=HEADS_UP_RULE,
            wanted=heads_up_pattern(),
            description="envctl: heads-ups before stops here, to the deployment's bus",
        ),
    ]


def _rule_change(
    there: Aws,
    home: Aws,
    settings: Settings,
    *,
    name: str,
    wanted: dict[str, Any],
    description: str,
) -> Change | None:
    """The rule ``name`` in ``there``'s region, if it is missing or not as it should be."""
    events = there.client("events")
    bus = f"arn:{home.partition}:events:{home.region}:{home.account_id}:event-bus/default"
    target = {"Id": TARGET_ID, "Arn": bus, "RoleArn": forwarding_role_arn(home, settings)}
    try:
        live = events.describe_rule(Name=name)
        targets = events.list_targets_by_rule(Rule=name)["Targets"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        live, targets = None, []
    found = [{key: t.get(key) for key in ("Id", "Arn", "RoleArn")} for t in targets]
    if (
        live is not None
        and json.loads(live.get("EventPattern") or "{}") == wanted
        and live.get("State") == "ENABLED"
        and found == [target]
    ):
        return None
    return Change(
        action=ChangeAction.CREATE if live is None else ChangeAction.UPDATE,
        kind=ObjectKind.EVENT_RULE,
        name=name,
        composition="",
        calls=(
            Call(
                service="events",
                operation="put_rule",
                arguments={
                    "Name": name,
                    "EventPattern": json.dumps(wanted),
                    "State": "ENABLED",
                    "Description": description,
                    "Tags": [{"Key": "envctl:managed", "Value": "true"}],
                },
            ),
            Call(
                service="events",
                operation="put_targets",
                arguments={"Rule": name, "Targets": [target]},
            ),
        ),
    )
