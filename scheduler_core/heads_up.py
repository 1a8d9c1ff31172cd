"""Heads-ups: a Slack message ``notify.heads_up_minutes`` before a composition stops.

Two schedules send them, both in the composition's schedule group:

- ``heads-up``: recurring, the stop cron moved earlier by the lead, in the
  composition's timezone (so it follows the stop through DST); ``apply`` keeps it.
- ``auto-stop-heads-up``: one-time, made next to the auto-stop and moved with it
  by ``extend``; it deletes itself after it fired.

EventBridge Scheduler invokes a Lambda function only in its own region, and a
composition's schedules live in its region, so a heads-up schedule puts an
``envctl heads-up`` event on that region's default bus. The deployment's notifier
receives it (from other regions through the forwarding rule) and decides from the
table whether the stop is still coming (``silence``): an extended, skipped or
moved stop, a day whose start was skipped, or a composition already stopped gets
no message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from scheduler_core import names
from scheduler_core.config.models import ON_DEMAND, Composition
from scheduler_core.cron.lead import heads_up_cron
from scheduler_core.holidays import SCHEDULED_TIME_ATTRIBUTE, scheduled_time
from scheduler_core.schedules import DESCRIPTION_PREFIX, ScheduleSpec, at_expression

EVENT_SOURCE = "envctl"
EVENT_DETAIL_TYPE = "envctl heads-up"
EVENT = {"Source": EVENT_SOURCE, "DetailType": EVENT_DETAIL_TYPE}
SCHEDULED = "scheduled"
AUTO_STOP = "auto-stop"


def bus_arn(*, partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:events:{region}:{account}:event-bus/default"


def scheduled_spec(composition: Composition, *, bus: str, role_arn: str) -> ScheduleSpec | None:
    """The recurring heads-up before the scheduled stop, or None when none is sent."""
    lead = composition.notify.heads_up
    if not lead or composition.stop_resources_at == ON_DEMAND:
        return None
    return ScheduleSpec(
        group=names.schedule_group(composition.name),
        name=names.HEADS_UP,
        expression=f"cron({heads_up_cron(composition.stop_resources_at, lead)})",
        timezone=composition.timezone,
        target_arn=bus,
        role_arn=role_arn,
        input={
            "composition": composition.name,
            "kind": SCHEDULED,
            "scheduled_time": SCHEDULED_TIME_ATTRIBUTE,
        },
        description=f"{DESCRIPTION_PREFIX} heads-up {lead} min before the stop of "
        f"{composition.name}",
        event=EVENT,
    )


def auto_stop_heads_up_spec(
    composition: Composition, *, stop_at: datetime, now: datetime, bus: str, role_arn: str
) -> ScheduleSpec | None:
    """The one-time heads-up before an auto-stop at ``stop_at``; None when too late or off."""
    lead = composition.notify.heads_up
    at = stop_at - timedelta(minutes=lead)
    if not lead or at <= now:
        return None
    return ScheduleSpec(
        group=names.schedule_group(composition.name),
        name=names.AUTO_STOP_HEADS_UP,
        expression=at_expression(at),
        timezone="UTC",
        target_arn=bus,
        role_arn=role_arn,
        input={
            "composition": composition.name,
            "kind": AUTO_STOP,
            "stop_at": stop_at.astimezone(UTC).isoformat(),
        },
        description=f"{DESCRIPTION_PREFIX} heads-up before the auto-stop of {composition.name}",
        action_after_completion="DELETE",
        event=EVENT,
    )


@dataclass(frozen=True, kw_only=True)
class Due:
    """A stop a heads-up event announces."""

    composition: str
    kind: str  # SCHEDULED or AUTO_STOP
    stop_at: datetime  # UTC


def due_of(detail: Any, *, lead_of: Mapping[str, int]) -> Due | None:
    """The stop an ``envctl heads-up`` event's detail announces, or None if malformed.

    ``lead_of``: composition → heads-up minutes, to find the scheduled stop from the
    time the heads-up was due.
    """
    if not isinstance(detail, dict):
        return None
    name, kind = detail.get("composition"), detail.get("kind")
    if not isinstance(name, str) or name not in lead_of:
        return None
    try:
        if kind == SCHEDULED:
            fired = _utc(str(detail.get("scheduled_time")))
            return Due(
                composition=name, kind=kind, stop_at=fired + timedelta(minutes=lead_of[name])
            )
        if kind == AUTO_STOP:
            return Due(composition=name, kind=kind, stop_at=_utc(str(detail.get("stop_at"))))
    except ValueError:
        return None
    return None


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text} has no offset")
    return moment.astimezone(UTC)


def silence(
    composition: Composition,
    due: Due,
    *,
    state: str | None,
    auto_stop_at: datetime | None,
    extended_stop: str | None,
    skip_next_stop: bool,
    skipped_starts: Mapping[str, str],
) -> str | None:
    """Why no heads-up goes out for ``due``, or None when it should.

    ``skipped_starts``: the skip rows (due time → source) around the stop's day.
    """
    if state in ("stopped", "stopping"):
        return f"{composition.name} is {state}"
    if due.kind == AUTO_STOP:
        if auto_stop_at is None or auto_stop_at.astimezone(UTC) != due.stop_at:
            return "the auto-stop was moved or removed"
        return None
    if extended_stop == scheduled_time(due.stop_at):
        return "the stop was extended"
    if skip_next_stop:
        return "the next scheduled stop is skipped"
    day = due.stop_at.astimezone(composition.zone).date()
    if day in composition.holidays:
        return f"holiday {day.isoformat()}: the day's start was skipped"
    for key in skipped_starts:
        if _utc(key).astimezone(composition.zone).date() == day:
            return f"the start of {day.isoformat()} was skipped"
    return None


def day_start(due: Due, composition: Composition) -> str:
    """The ``after`` bound (scheduled-time format) of the skip rows of the stop's day."""
    local = due.stop_at.astimezone(composition.zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return scheduled_time(midnight.astimezone(UTC) - timedelta(seconds=1))
