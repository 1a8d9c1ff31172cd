"""Runtime operations on a composition: start/stop with auto-stop, extend, skip,
pause and resume. Every state-changing operation is audited.

Entry points (CLI, Slack, webhooks) call these and nothing below them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from scheduler_core import heads_up, names
from scheduler_core.actions import Action
from scheduler_core.aws import Aws
from scheduler_core.config.models import ON_DEMAND, Composition
from scheduler_core.cron import Occurrence, next_occurrences
from scheduler_core.durations import format_duration
from scheduler_core.exceptions import BadInputError, ConflictError
from scheduler_core.holidays import scheduled_time
from scheduler_core.runtime.deploy import scheduler_role_arn, state_machine_arn
from scheduler_core.runtime.executions import Launched, RunRequest, launch
from scheduler_core.runtime.skipping import skip_dates
from scheduler_core.runtime.status import CompositionStatus, read_status
from scheduler_core.runtime.store import Store
from scheduler_core.schedules import at_moment, auto_stop_spec
from scheduler_core.settings import Settings
from scheduler_core.text import check_plain


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Who asked, and through what (cli, slack, webhook)."""

    who: str
    via: str


@dataclass(frozen=True, kw_only=True)
class Run:
    """What a start or stop request led to.

    ``joined`` is true when a run of the same action was already in progress: the
    request started nothing and ``execution_arn`` is that run's.
    """

    execution_arn: str
    action: Action
    auto_stop_at: datetime | None = None
    joined: bool = False


class Runtime:
    """Operations on compositions against one AWS account/region and one table."""

    def __init__(
        self, aws: Aws, settings: Settings, *, regions: Mapping[str, str | None] | None = None
    ) -> None:
        """``regions``: the compositions kept in another region than ``aws``'s (by name)."""
        self.aws = aws
        self.settings = settings
        self.store = Store(aws, settings.table_name, regions)

    def _scheduler(self, composition: Composition) -> Any:
        """EventBridge Scheduler where the composition's schedules are: its region."""
        return self.aws.at(composition.region).client("scheduler")

    def _at_home(self, composition: Composition) -> None:
        """Its rows are in its region's table, whoever built this runtime."""
        self.store.keep_in(composition.name, composition.region)

    def status(self, composition: Composition) -> CompositionStatus:
        """Its resources' live state, read where they are; starting/stopping while a run is on."""
        return read_status(self.aws, composition, table_name=self.settings.table_name)

    def start(
        self,
        composition: Composition,
        *,
        actor: Actor,
        duration: timedelta | None = None,
        now: datetime | None = None,
        execution_name: str | None = None,
        reason: str = "",
    ) -> Run:
        """Start; stop again after ``duration`` (else ``auto_stop_after``) if one applies.

        The run itself writes the audit entry and creates the auto-stop, before it
        touches a resource; a start while a start runs joins it.
        """
        self._at_home(composition)
        now = now or datetime.now(UTC)
        check_plain(reason, field="reason")
        duration = duration or composition.auto_stop_after
        auto_stop_at = _whole_minute(now + duration) if duration is not None else None
        detail = "; ".join(
            part
            for part in (reason, f"auto-stop at {auto_stop_at.isoformat()}" if auto_stop_at else "")
            if part
        )
        launched = self._launch(
            composition,
            Action.START,
            actor=actor,
            request=RunRequest(
                who=actor.who, via=actor.via, detail=detail, auto_stop_at=auto_stop_at
            ),
            execution_name=execution_name,
            now=now,
        )
        if launched.joined:
            return Run(
                execution_arn=launched.execution_arn,
                action=Action.START,
                auto_stop_at=self.store.overrides(composition.name).auto_stop_at,
                joined=True,
            )
        if auto_stop_at is not None:
            # The run makes the auto-stop, we its heads-up (quiet if the run never made it).
            self._put_heads_up(composition, auto_stop_at, now=now)
        return Run(
            execution_arn=launched.execution_arn, action=Action.START, auto_stop_at=auto_stop_at
        )

    def stop(
        self,
        composition: Composition,
        *,
        actor: Actor,
        now: datetime | None = None,
        execution_name: str | None = None,
        reason: str = "",
    ) -> Run:
        """Stop now; the run removes a pending auto-stop and audits itself."""
        self._at_home(composition)
        now = now or datetime.now(UTC)
        check_plain(reason, field="reason")
        launched = self._launch(
            composition,
            Action.STOP,
            actor=actor,
            request=RunRequest(who=actor.who, via=actor.via, detail=reason),
            execution_name=execution_name,
            now=now,
        )
        return Run(execution_arn=launched.execution_arn, action=Action.STOP, joined=launched.joined)

    def _launch(
        self,
        composition: Composition,
        action: Action,
        *,
        actor: Actor,
        request: RunRequest,
        execution_name: str | None,
        now: datetime,
    ) -> Launched:
        """Launch, auditing what the run cannot audit itself: a join, or a refusal."""
        try:
            launched = launch(
                self.aws,
                self.settings,
                composition,
                action,
                trigger=actor.via,
                request=request,
                execution_name=execution_name,
                now=now,
            )
        except ConflictError as exc:
            self.refused(composition.name, action=action.value, actor=actor, why=str(exc), now=now)
            raise
        if launched.joined:
            self.store.audit(
                composition.name,
                who=actor.who,
                what=action.value,
                via=actor.via,
                detail=f"joined the run in progress (execution {launched.execution_arn})",
                now=now,
            )
        return launched

    def refused(
        self, composition: str, *, action: str, actor: Actor, why: str, now: datetime | None = None
    ) -> None:
        """Audit a request that was refused (who asked, for what, and why not)."""
        self.store.audit(
            composition, who=actor.who, what=f"refused {action}", via=actor.via, detail=why, now=now
        )

    def extend(
        self,
        composition: Composition,
        duration: timedelta,
        *,
        actor: Actor,
        now: datetime | None = None,
    ) -> datetime:
        """Move the pending auto-stop ``duration`` later; returns the new time.

        Without one, the next scheduled stop is replaced by an auto-stop ``duration``
        after it: the auto-stop is created first, then that scheduled stop is marked to
        do nothing (a crash in between leaves the scheduled stop running, never none).
        """
        self._at_home(composition)
        self.store.require()
        current = self.pending_auto_stop(composition)
        replaced = None
        if current is None:
            replaced = next_scheduled_stop(composition, now=now or datetime.now(UTC))
            if replaced is None:
                raise BadInputError(
                    f"{composition.name} has no pending auto-stop to extend; "
                    f"start it with --for <duration> (or set auto_stop_after) first"
                )
            current = replaced
        moved = current + duration
        self._put_auto_stop(composition, moved)
        if replaced is not None:
            self.store.set_extended_stop(composition.name, scheduled_time(replaced))
        self.store.audit(
            composition.name,
            who=actor.who,
            what="extend",
            via=actor.via,
            detail=f"by {format_duration(duration)} to {moved.isoformat()}",
            now=now,
        )
        return moved

    def skip(
        self, composition: Composition, which: str, *, actor: Actor, now: datetime | None = None
    ) -> None:
        """Skip the next scheduled start or stop (``next-start`` / ``next-stop``)."""
        self._at_home(composition)
        action = {"next-start": Action.START, "next-stop": Action.STOP}.get(which)
        if action is None:
            raise BadInputError(f'expected next-start or next-stop, got "{which}"')
        expression = (
            composition.start_resources_at
            if action is Action.START
            else composition.stop_resources_at
        )
        if expression == ON_DEMAND:
            raise BadInputError(
                f"{composition.name} has no scheduled {action.value} "
                f"({action.value} is on-demand); nothing to skip"
            )
        self.store.set_skip(composition.name, action.value)
        self.store.audit(
            composition.name, who=actor.who, what=f"skip {which}", via=actor.via, now=now
        )

    def skip_dates(
        self, composition: Composition, text: str, *, actor: Actor, now: datetime | None = None
    ) -> list[Occurrence]:
        """Skip every scheduled start on the local dates ``text`` names (runtime.skipping)."""
        self._at_home(composition)
        return skip_dates(self.store, composition, text, who=actor.who, via=actor.via, now=now)

    def set_paused(
        self, composition: Composition, paused: bool, *, actor: Actor, now: datetime | None = None
    ) -> list[str]:
        """Disable (pause) or enable (resume) the scheduled start and stop."""
        self._at_home(composition)
        self.store.require()  # a missing table must not leave the schedules changed
        schedules = [
            names.scheduled(action)
            for action, expression in (
                (Action.START, composition.start_resources_at),
                (Action.STOP, composition.stop_resources_at),
            )
            if expression != ON_DEMAND
        ]
        if not schedules:
            raise BadInputError(
                f"{composition.name} is on-demand only; it has no schedules to pause or resume"
            )
        group = names.schedule_group(composition.name)
        changed = []
        # The heads-up before the stop pauses with it (it may not be deployed yet).
        for name in [*schedules, names.HEADS_UP]:
            try:
                live = self._scheduler(composition).get_schedule(GroupName=group, Name=name)
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                    if name == names.HEADS_UP:
                        continue
                    raise BadInputError(
                        f"the {name} schedule of {composition.name} does not exist yet; "
                        "run `envctl apply` first"
                    ) from exc
                raise
            state = "DISABLED" if paused else "ENABLED"
            if live.get("State") != state:
                self._scheduler(composition).update_schedule(**_resubmit(live, State=state))
                if name != names.HEADS_UP:
                    changed.append(name)
        self.store.audit(
            composition.name,
            who=actor.who,
            what="pause" if paused else "resume",
            via=actor.via,
            now=now,
        )
        return changed

    def pending_auto_stop(self, composition: Composition) -> datetime | None:
        """When the pending auto-stop fires (from its schedule), if there is one."""
        try:
            live = self._scheduler(composition).get_schedule(
                GroupName=names.schedule_group(composition.name), Name=names.AUTO_STOP
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise
        return at_moment(live["ScheduleExpression"])

    def _put_auto_stop(self, composition: Composition, at: datetime) -> None:
        spec = auto_stop_spec(
            composition=composition.name,
            at=at,
            target_arn=state_machine_arn(
                self.aws.at(composition.region), composition.name, Action.STOP
            ),
            role_arn=scheduler_role_arn(self.aws, self.settings),
        )
        request = spec.request(state="ENABLED")
        try:
            self._scheduler(composition).update_schedule(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            self._scheduler(composition).create_schedule(**request)
        self.store.set_auto_stop(composition.name, at)
        self._put_heads_up(composition, at, now=datetime.now(UTC))

    def _put_heads_up(self, composition: Composition, stop_at: datetime, *, now: datetime) -> None:
        """The one-time heads-up before the auto-stop at ``stop_at`` (none when too late)."""
        there = self.aws.at(composition.region)
        spec = heads_up.auto_stop_heads_up_spec(
            composition,
            stop_at=stop_at,
            now=now,
            bus=heads_up.bus_arn(
                partition=there.partition, region=there.region, account=there.account_id
            ),
            role_arn=scheduler_role_arn(self.aws, self.settings),
        )
        if spec is None:
            return
        request = spec.request(state="ENABLED")
        try:
            self._scheduler(composition).update_schedule(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            self._scheduler(composition).create_schedule(**request)


def next_scheduled_stop(composition: Composition, *, now: datetime) -> datetime | None:
    """When the next scheduled stop is due (UTC), or None when stops are on-demand."""
    if composition.stop_resources_at == ON_DEMAND:
        return None
    found = next_occurrences(
        composition.stop_resources_at, composition.timezone, after=now, count=1
    )
    return found[0].utc if found else None


def _whole_minute(moment: datetime) -> datetime:
    """at() schedules have second precision, people think in minutes: round up."""
    rounded = moment.replace(second=0, microsecond=0)
    return rounded if rounded == moment else rounded + timedelta(minutes=1)


def _resubmit(live: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """An update_schedule request that keeps everything of ``live`` but ``changes``."""
    keep = (
        "GroupName",
        "Name",
        "ScheduleExpression",
        "ScheduleExpressionTimezone",
        "Description",
        "FlexibleTimeWindow",
        "State",
        "Target",
        "ActionAfterCompletion",
        "StartDate",
        "EndDate",
        "KmsKeyArn",
    )
    request = {key: live[key] for key in keep if live.get(key) is not None}
    request.update(changes)
    return request
