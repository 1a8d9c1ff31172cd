"""The holiday rows of a composition: ``skip#<scheduled time>`` for each start on a holiday.

``apply`` keeps them equal to what the calendars say for the next ``HORIZON``
(``scheduler_core.holidays``): it writes the missing ones and deletes those no longer
wanted. Rows written by ``envctl skip DATE`` (source ``skip``) are never touched here.
Each row expires (TTL) two days after its start would have run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from scheduler_core.aws import Aws
from scheduler_core.config.models import Composition
from scheduler_core.holidays import SKIP_PREFIX, holiday_skips, scheduled_time
from scheduler_core.reconcile.model import Call, Change, ChangeAction, ObjectKind
from scheduler_core.runtime.prerequisites import is_missing_resource

CALENDAR = "calendar"
KEEP_AFTER = timedelta(days=2)


def live_holiday_rows(aws: Aws, table: str, composition: str, *, now: datetime) -> set[str]:
    """The sort keys of the calendar's rows for starts still to come (none without a table)."""
    pages = aws.client("dynamodb").get_paginator("query")
    found: set[str] = set()
    try:
        for page in pages.paginate(
            TableName=table,
            KeyConditionExpression="pk = :pk AND sk > :from",
            FilterExpression="#source = :calendar",
            ExpressionAttributeNames={"#source": "source"},
            ExpressionAttributeValues={
                ":pk": {"S": f"composition#{composition}"},
                ":from": {"S": SKIP_PREFIX + scheduled_time(now)},
                ":calendar": {"S": CALENDAR},
            },
            ProjectionExpression="sk",
        ):
            found.update(item["sk"]["S"] for item in page.get("Items", []))
    except ClientError as exc:
        if not is_missing_resource(exc):
            raise
    return {key for key in found if key.startswith(SKIP_PREFIX)}


def holiday_change(
    aws: Aws, table: str, composition: Composition, *, now: datetime
) -> Change | None:
    """Put the rows the calendars want, delete the others; None when they match."""
    wanted = holiday_skips(composition, now=now)
    live = live_holiday_rows(aws, table, composition.name, now=now)
    added, removed = sorted(set(wanted) - live), sorted(live - set(wanted))
    if not added and not removed:
        return None
    key = f"composition#{composition.name}"
    calls = [
        Call(
            service="dynamodb",
            operation="put_item",
            arguments={"TableName": table, "Item": _row(key, sort_key, wanted[sort_key])},
        )
        for sort_key in added
    ] + [
        Call(
            service="dynamodb",
            operation="delete_item",
            arguments={"TableName": table, "Key": {"pk": {"S": key}, "sk": {"S": sort_key}}},
        )
        for sort_key in removed
    ]
    return Change(
        action=ChangeAction.UPDATE if live else ChangeAction.CREATE,
        kind=ObjectKind.HOLIDAYS,
        name=composition.name,
        composition=composition.name,
        fields={"skipped starts": (len(live), len(wanted))},
        calls=tuple(calls),
    )


def _row(key: str, sort_key: str, reason: str) -> dict[str, Any]:
    due = datetime.strptime(sort_key[len(SKIP_PREFIX) :], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return {
        "pk": {"S": key},
        "sk": {"S": sort_key},
        "reason": {"S": reason},
        "source": {"S": CALENDAR},
        "expires_at": {"N": str(int((due + KEEP_AFTER).timestamp()))},
    }
