"""The envctl table in the other regions a deployment manages.

A composition's state machines record its state, lease and audit in the table of
their own region (Step Functions calls DynamoDB there), so every region with a
composition needs a table of the deployment's name. The stack creates the one in its
own region; ``apply`` (and so the deploy-time sync) creates the others, with the
same keys, TTL and point-in-time recovery. Tables are never deleted: they hold the
audit log.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from scheduler_core.aws import Aws
from scheduler_core.reconcile.model import Call, Change, ChangeAction, ObjectKind
from scheduler_core.runtime.prerequisites import is_missing_resource

WAIT = "wait:table_exists"  # apply waits with boto3's waiter, not a plain call


def table_change(aws: Aws, table_name: str) -> Change | None:
    """The creation of ``table_name`` in ``aws``'s region, if it does not exist yet."""
    try:
        aws.client("dynamodb").describe_table(TableName=table_name)
        return None
    except ClientError as exc:
        if not is_missing_resource(exc):
            raise
    keys = {"TableName": table_name}
    return Change(
        action=ChangeAction.CREATE,
        kind=ObjectKind.TABLE,
        name=table_name,
        composition="",
        calls=(
            Call(
                service="dynamodb",
                operation="create_table",
                arguments={
                    **keys,
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": "sk", "AttributeType": "S"},
                    ],
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "SSESpecification": {"Enabled": True},
                    "Tags": [{"Key": "envctl:managed", "Value": "true"}],
                },
            ),
            Call(service="dynamodb", operation=WAIT, arguments=keys),
            Call(
                service="dynamodb",
                operation="update_time_to_live",
                arguments={
                    **keys,
                    "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires_at"},
                },
            ),
            Call(
                service="dynamodb",
                operation="update_continuous_backups",
                arguments={
                    **keys,
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                },
            ),
        ),
    )
