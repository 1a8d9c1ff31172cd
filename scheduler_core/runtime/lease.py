"""The caller's side of a composition's lease: reserve it before starting a run.

The lease row (``pk=composition#<name>, sk=lease``) names the one execution that may
run for the composition. A caller (CLI, Slack, webhook, re-stop) reserves it for the
execution it is about to start, with a conditional write, *before* StartExecution:
of many concurrent callers exactly one wins, and the others join its run or are
refused. The execution confirms the lease as its first state and releases it at its
end (``scheduler_core.asl.runs``).

A reservation carries ``pending_until``: if the caller dies before StartExecution,
the reservation lapses after ``RESERVATION`` and anyone may take the lease. A lease
held by an execution that is no longer running (it timed out, or was aborted before
it could release) is taken over by the next caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from botocore.exceptions import ClientError

from scheduler_core.actions import Action
from scheduler_core.aws import Aws
from scheduler_core.runtime.store import CheckedTable

RESERVATION = timedelta(minutes=2)
_NAMES = {
    "#execution": "execution",
    "#action": "action",
    "#pending_until": "pending_until",
    "#since": "since",
}


def lease_time(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds, as Step Functions writes ``$$.State.EnteredTime``.

    Strings of this shape compare in time order, which is what the conditions rely on.
    """
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass(frozen=True, kw_only=True)
class Holder:
    """Who holds a composition's lease."""

    execution_arn: str
    action: Action
    pending_until: str | None  # set while a caller has reserved it but not yet started


# What ``reserve`` answers when the lease was released between its write and its read.
NOBODY = Holder(execution_arn="", action=Action.START, pending_until=None)


class Lease:
    """Reserve, inspect and give back one composition's lease."""

    def __init__(self, aws: Aws, table_name: str, composition: str) -> None:
        self._aws = aws
        self._table = table_name
        self._key = {"pk": {"S": f"composition#{composition}"}, "sk": {"S": "lease"}}

    def reserve(
        self, *, execution_arn: str, action: Action, now: datetime, replacing: str | None = None
    ) -> Holder | None:
        """Reserve the lease for ``execution_arn``: None when it is ours now.

        Otherwise the holder that kept us from it (``NOBODY`` if it is free again).
        ``replacing`` takes the lease over from that (finished) holder instead.
        """
        stamp = lease_time(now)
        values: dict[str, Any] = {
            ":me": {"S": execution_arn},
            ":action": {"S": action.value},
            ":now": {"S": stamp},
            ":until": {"S": lease_time(now + RESERVATION)},
        }
        if replacing is None:
            condition = "attribute_not_exists(#execution) OR #pending_until < :now"
        else:
            condition = "#execution = :holder"
            values[":holder"] = {"S": replacing}
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key=self._key,
                UpdateExpression=(
                    "SET #execution = :me, #action = :action, "
                    "#pending_until = :until, #since = :now"
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            item = cast("dict[str, Any] | None", exc.response.get("Item"))
            return _holder(item) or NOBODY
        return None

    def holder(self) -> Holder | None:
        """Who holds the lease now (a strongly consistent read), or None."""
        found = self._dynamodb.get_item(TableName=self._table, Key=self._key, ConsistentRead=True)
        return _holder(found.get("Item"))

    def cancel(self, execution_arn: str) -> None:
        """Give back a reservation whose execution could not be started."""
        try:
            self._dynamodb.delete_item(
                TableName=self._table,
                Key=self._key,
                ConditionExpression="#execution = :me AND attribute_exists(#pending_until)",
                ExpressionAttributeNames={
                    "#execution": "execution",
                    "#pending_until": "pending_until",
                },
                ExpressionAttributeValues={":me": {"S": execution_arn}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    @property
    def _dynamodb(self) -> Any:
        return CheckedTable(self._aws, self._table)


def _holder(item: dict[str, Any] | None) -> Holder | None:
    if not item or "execution" not in item:
        return None
    try:
        action = Action(item.get("action", {}).get("S", ""))
    except ValueError:
        action = Action.START
    pending = item.get("pending_until", {}).get("S")
    return Holder(execution_arn=item["execution"]["S"], action=action, pending_until=pending)
