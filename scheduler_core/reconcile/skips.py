"""The holiday rows of a composition: ``skip#<scheduled time>`` for each start on a holiday.

``apply`` keeps them equal to what the calendars say for the next ``HORIZON``
(``scheduler_core.holidays``): it writes the missing ones and deletes those no longer
wanted. Rows written by ``envctl skip DATE`` (source ``skip``) are never touched here.
Each row expires (TTL) two days after its start would have run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from scheduler_core.aws import Aws
from scheduler_core.config.models import Composition
from scheduler_core.exceptions import NotDeployedError
from scheduler_core.holidays import SKIP_PREFIX, holiday_skips, scheduled_time
from scheduler_core.reconcile.model import Call, Change, ChangeAction, ObjectKind
from scheduler_core.runtime.store import Store, skip_row

CALENDAR = "calendar"
KEEP_AFTER = timedelta(days=2)


def live_holiday_rows(aws: Aws, table: str, composition: str, *, now: datetime) -> set[str]:
    """The sort keys of the calendar's rows for starts still to come (none without a table)."""
    try:
        rows = Store(aws, table).skipped_starts(composition, after=scheduled_time(now))
    except NotDeployedError:
        return set()
    return {SKIP_PREFIX + due for due, source in rows.items() if source == CALENDAR}


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
            arguments={
                "TableName": table,
                "Item": _row(composition.name, sort_key, wanted[sort_key]),
            },
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


def _row(composition: str, sort_key: str, reason: str) -> dict[str, Any]:
    due = sort_key.removeprefix(SKIP_PREFIX)
    at = datetime.strptime(due, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    expires = int((at + KEEP_AFTER).timestamp())
    return skip_row(composition, due, reason=reason, source=CALENDAR, expires_at=expires)
