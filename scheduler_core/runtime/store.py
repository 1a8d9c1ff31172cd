"""The envctl table: composition state, runtime overrides and the audit log.

One DynamoDB table (docs/architecture.md), keys ``pk``/``sk``:

| pk                     | sk                  | what                                        |
|------------------------|---------------------|---------------------------------------------|
| ``composition#<name>`` | ``state``           | written by the state machines (asl.tracking) |
| ``composition#<name>`` | ``override``        | skip flags, pending auto-stop time          |
| ``composition#<name>`` | ``lease``           | the one run allowed now (runtime.lease)     |
| ``audit#<name>``       | ``<iso time>#<id>`` | who did what, when, via what; TTL           |
| ``execution#<arn>``    | ``slack``           | the Slack message reporting on it; TTL      |
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from scheduler_core.aws import Aws
from scheduler_core.runtime.prerequisites import is_missing_resource, table_missing

AUDIT_RETENTION = timedelta(days=90)


@dataclass(frozen=True, kw_only=True)
class StateRecord:
    state: str
    execution: str
    trigger: str
    updated_at: str
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True, kw_only=True)
class Overrides:
    skip_next_start: bool = False
    skip_next_stop: bool = False
    auto_stop_at: datetime | None = None
    # The due time of the scheduled stop that extend moved later (it will do nothing).
    extended_stop: str | None = None


@dataclass(frozen=True, kw_only=True)
class MessageRef:
    channel: str
    ts: str
    user_id: str


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    at: datetime
    who: str
    what: str
    via: str
    detail: str = ""


SKIP = "skip#"


def skip_row(
    composition: str, due: str, *, reason: str, source: str, expires_at: int
) -> dict[str, Any]:
    """The row that makes the scheduled run due at ``due`` do nothing (``asl.dates``)."""
    return {
        "pk": {"S": f"composition#{composition}"},
        "sk": {"S": f"{SKIP}{due}"},
        "reason": {"S": reason},
        "source": {"S": source},
        "expires_at": {"N": str(expires_at)},
    }


class Store:
    """Typed access to the envctl table.

    A composition's rows live in the table of its own region, where its state
    machines write them (docs/multi-account.md); ``regions`` maps the compositions
    that are not in the deployment's region to theirs. The Slack message references
    stay in the deployment's region.
    """

    def __init__(
        self, aws: Aws, table_name: str, regions: Mapping[str, str | None] | None = None
    ) -> None:
        self._aws = aws
        self.table_name = table_name
        self._regions = dict(regions or {})

    def keep_in(self, composition: str, region: str | None) -> None:
        """From now on, read and write ``composition``'s rows in ``region``."""
        self._regions[composition] = region

    def _dynamodb(self, composition: str | None = None) -> CheckedTable:
        region = self._regions.get(composition) if composition is not None else None
        return CheckedTable(self._aws if region is None else self._aws.at(region), self.table_name)

    def require(self) -> None:
        """Raise NotDeployedError unless the table exists (one cheap read)."""
        self._get("composition#-", "override")

    def _get(self, pk: str, sk: str, composition: str | None = None) -> dict[str, Any]:
        found = self._dynamodb(composition).get_item(
            TableName=self.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
        )
        return {name: _plain(value) for name, value in found.get("Item", {}).items()}

    def state(self, composition: str) -> StateRecord | None:
        """The state the state machines last recorded, if any."""
        item = self._get(f"composition#{composition}", "state", composition)
        if not item:
            return None
        return StateRecord(
            state=item.get("state", "unknown"),
            execution=item.get("execution", ""),
            trigger=item.get("trigger", ""),
            updated_at=item.get("updated_at", ""),
            error=item.get("error"),
            cause=item.get("cause"),
        )

    def overrides(self, composition: str) -> Overrides:
        item = self._get(f"composition#{composition}", "override", composition)
        auto_stop = item.get("auto_stop_at")
        return Overrides(
            skip_next_start=bool(item.get("skip_next_start")),
            skip_next_stop=bool(item.get("skip_next_stop")),
            auto_stop_at=datetime.fromisoformat(auto_stop) if auto_stop else None,
            extended_stop=item.get("extended_stop") or None,
        )

    def set_skip(self, composition: str, action: str) -> None:
        self._update_override(
            composition, f"SET skip_next_{action} = :yes", {":yes": {"BOOL": True}}
        )

    def set_extended_stop(self, composition: str, due: str) -> None:
        self._update_override(composition, "SET extended_stop = :due", {":due": {"S": due}})

    def set_auto_stop(self, composition: str, at: datetime | None) -> None:
        if at is None:
            self._update_override(composition, "REMOVE auto_stop_at", {})
        else:
            self._update_override(
                composition, "SET auto_stop_at = :at", {":at": {"S": at.isoformat()}}
            )

    def _update_override(self, composition: str, expression: str, values: dict[str, Any]) -> None:
        extra = {"ExpressionAttributeValues": values} if values else {}
        self._dynamodb(composition).update_item(
            TableName=self.table_name,
            Key={"pk": {"S": f"composition#{composition}"}, "sk": {"S": "override"}},
            UpdateExpression=expression,
            **extra,
        )

    def put_skip(self, composition: str, *, due: str, reason: str, expires_at: int) -> None:
        """A row that makes the scheduled start due at ``due`` do nothing (asl.dates)."""
        self._dynamodb(composition).put_item(
            TableName=self.table_name,
            Item=skip_row(composition, due, reason=reason, source="skip", expires_at=expires_at),
        )

    def skipped_starts(self, composition: str, *, after: str) -> dict[str, str]:
        """Due time → source ("calendar" or "skip") of the skip rows after ``after``."""
        found: dict[str, str] = {}
        page: dict[str, Any] = {"LastEvaluatedKey": None}
        while "LastEvaluatedKey" in page:
            start = (
                {"ExclusiveStartKey": page["LastEvaluatedKey"]} if page["LastEvaluatedKey"] else {}
            )
            page = self._dynamodb(composition).query(
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk AND sk > :from",
                ExpressionAttributeValues={
                    ":pk": {"S": f"composition#{composition}"},
                    ":from": {"S": f"{SKIP}{after}"},
                },
                **start,
            )
            found.update(
                (item["sk"]["S"].removeprefix(SKIP), item.get("source", {}).get("S", "skip"))
                for item in page.get("Items", [])
                if item["sk"]["S"].startswith(SKIP)
            )
        return found

    def put_message_ref(self, execution_arn: str, *, channel: str, ts: str, user_id: str) -> None:
        """Remember the Slack message that reports on an execution (the notifier updates it)."""
        self._dynamodb().put_item(
            TableName=self.table_name,
            Item={
                "pk": {"S": f"execution#{execution_arn}"},
                "sk": {"S": "slack"},
                "channel": {"S": channel},
                "ts": {"S": ts},
                "user_id": {"S": user_id},
                "expires_at": {"N": str(int((datetime.now(UTC) + AUDIT_RETENTION).timestamp()))},
            },
        )

    def message_ref(self, execution_arn: str) -> MessageRef | None:
        item = self._get(f"execution#{execution_arn}", "slack")
        if not item:
            return None
        return MessageRef(channel=item["channel"], ts=item["ts"], user_id=item.get("user_id", ""))

    def audit(
        self,
        composition: str,
        *,
        who: str,
        what: str,
        via: str,
        detail: str = "",
        now: datetime | None = None,
    ) -> None:
        """Write an audit entry; it expires after AUDIT_RETENTION."""
        at = now or datetime.now(UTC)
        self._dynamodb(composition).put_item(
            TableName=self.table_name,
            Item={
                "pk": {"S": f"audit#{composition}"},
                "sk": {"S": f"{at.isoformat()}#{uuid.uuid4().hex[:8]}"},
                "at": {"S": at.isoformat()},
                "who": {"S": who},
                "what": {"S": what},
                "via": {"S": via},
                "detail": {"S": detail},
                "expires_at": {"N": str(int((at + AUDIT_RETENTION).timestamp()))},
            },
        )

    def history(self, composition: str, limit: int = 10) -> list[AuditEntry]:
        """The newest audit entries first."""
        found = self._dynamodb(composition).query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"audit#{composition}"}},
            ScanIndexForward=False,
            Limit=limit,
        )
        entries = []
        for raw in found.get("Items", []):
            item = {name: _plain(value) for name, value in raw.items()}
            entries.append(
                AuditEntry(
                    at=datetime.fromisoformat(item.get("at") or item["sk"].split("#")[0]),
                    who=item.get("who", "?"),
                    what=item.get("what", "?"),
                    via=item.get("via", "?"),
                    detail=item.get("detail", ""),
                )
            )
        return entries


class CheckedTable:
    """The DynamoDB client, with a missing table reported as NotDeployedError."""

    def __init__(self, aws: Aws, table_name: str) -> None:
        self._aws = aws
        self._table_name = table_name

    def __getattr__(self, operation: str) -> Any:
        call = getattr(self._aws.client("dynamodb"), operation)

        def checked(**kwargs: Any) -> Any:
            try:
                return call(**kwargs)
            except ClientError as exc:
                if is_missing_resource(exc):
                    raise table_missing(self._aws, self._table_name) from exc
                raise

        return checked


def _plain(value: dict[str, Any]) -> Any:
    """The Python value of a DynamoDB attribute value (the few types envctl writes)."""
    if "S" in value:
        return value["S"]
    if "BOOL" in value:
        return value["BOOL"]
    if "N" in value:
        return float(value["N"])
    return None
