"""Start and stop compositions: the lease, the execution name, the run's input.

Following an execution step by step is ``runtime.progress`` (re-exported here).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scheduler_core.actions import Action
from scheduler_core.aws import Aws
from scheduler_core.config.models import Composition
from scheduler_core.exceptions import (
    BadInputError,
    ConflictError,
    EnvctlError,
    NotDeployedError,
    OperationFailedError,
)
from scheduler_core.runtime.deploy import (
    deployed_state_machine,
    execution_arn,
    scheduler_role_arn,
    state_machine_arn,
)
from scheduler_core.runtime.lease import NOBODY, Holder, Lease, lease_time
from scheduler_core.runtime.prerequisites import require_roles
from scheduler_core.runtime.progress import ExecutionResult as ExecutionResult
from scheduler_core.runtime.progress import StepEvent as StepEvent
from scheduler_core.runtime.progress import follow as follow
from scheduler_core.runtime.store import AUDIT_RETENTION
from scheduler_core.schedules import auto_stop_spec
from scheduler_core.settings import Settings

logger = logging.getLogger(__name__)


class ExecutionConflictError(ConflictError):
    """The opposite action of the same composition is still running."""


def in_progress(
    aws: Aws, table_name: str, composition: str, *, now: datetime | None = None
) -> Holder | None:
    """The run in progress for ``composition`` (start or stop), or None: one lookup.

    The lease names the one run a composition may have, so it is read, not each state
    machine's executions: what this answers is what a start or stop would then find
    (join the run, or be refused). A holder whose execution has ended (aborted, timed
    out before it could release) is not in progress. Before the table exists nothing
    can be running.
    """
    try:
        holder = Lease(aws, table_name, composition).holder()
    except NotDeployedError:
        return None
    if holder is None or not _still_running(aws, holder, now or datetime.now(UTC)):
        return None
    return holder


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """Who asked for a run, and what must happen with it (audited by the run itself)."""

    who: str
    via: str
    detail: str = ""
    auto_stop_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Launched:
    execution_arn: str
    joined: bool  # a run of the same action was in progress: nothing new was started


_EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_LEASE_ATTEMPTS = 5
# As long as a webhook's Idempotency-Key replays its first answer.
REPLAY_WINDOW = timedelta(hours=1)


def launch(
    aws: Aws,
    settings: Settings,
    composition: Composition,
    action: Action,
    *,
    trigger: str,
    request: RunRequest | None = None,
    execution_name: str | None = None,
    now: datetime | None = None,
) -> Launched:
    """Start a run of ``action`` unless one is in progress; one run per composition.

    The lease is reserved first (a conditional write: of concurrent callers exactly one
    wins), then the execution is started under a deterministic name, so a retry of the
    same request finds the first execution. If StartExecution fails the reservation is
    given back: nothing is left started.

    Raises:
        ExecutionConflictError: the opposite action is still running.
        NotDeployedError: the table, a role or the state machine is missing, or the
            machine was deployed from another version of the config (nothing was
            changed; ``envctl apply`` deploys it).
    """
    # Its machines, schedules and lease are in its region.
    aws = aws.at(composition.region)
    now = now or datetime.now(UTC)
    name = execution_name or _default_name(trigger, now)
    if not _EXECUTION_NAME.match(name):
        raise BadInputError(f'execution name "{name}": expected 1-80 letters, digits, "-" or "_"')
    require_roles(aws, settings, scheduler=bool(request and request.auto_stop_at))
    machine_arn = deployed_state_machine(aws, settings, composition, action)
    if execution_name is not None:
        name = _name_for_now(aws, composition.name, action, name, now)
    arn = execution_arn(aws, composition.name, action, name)
    lease = Lease(aws, settings.table_name, composition.name)
    # The lease lives in real time (the runs compare it with their own clock), whatever
    # ``now`` the request was made for.
    joined = _reserve(
        aws, lease, composition.name, action, execution_arn=arn, now=datetime.now(UTC)
    )
    if joined is not None:
        return Launched(execution_arn=joined, joined=True)
    try:
        aws.client("stepfunctions").start_execution(
            stateMachineArn=machine_arn,
            name=name,
            input=json.dumps(_run_input(aws, settings, composition, action, trigger, request, now)),
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
            # The same request again (same name): it already ran, or still runs.
            if _status(aws, arn) != "RUNNING":
                _give_back(lease, arn)
            return Launched(execution_arn=arn, joined=False)
        _give_back(lease, arn)
        raise
    except BaseException:
        _give_back(lease, arn)
        raise
    return Launched(execution_arn=arn, joined=False)


def _give_back(lease: Lease, arn: str) -> None:
    """Cancel a reservation; if even that fails, it lapses by itself (RESERVATION)."""
    try:
        lease.cancel(arn)
    except (ClientError, BotoCoreError, EnvctlError):
        logger.warning("could not give back the reservation for %s; it lapses by itself", arn)


def begin(
    aws: Aws,
    settings: Settings,
    composition: Composition,
    action: Action,
    *,
    trigger: str = "cli",
    requested_by: str = "",
    execution_name: str | None = None,
) -> str:
    """Start (or join) a run that nobody in particular asked for; its execution ARN."""
    request = RunRequest(who=requested_by, via=trigger) if requested_by else None
    launched = launch(
        aws,
        settings,
        composition,
        action,
        trigger=trigger,
        request=request,
        execution_name=execution_name,
    )
    return launched.execution_arn


def _reserve(
    aws: Aws, lease: Lease, composition: str, action: Action, *, execution_arn: str, now: datetime
) -> str | None:
    """Reserve the lease for ``execution_arn``; the ARN of a run to join instead."""
    replacing: str | None = None
    for _ in range(_LEASE_ATTEMPTS):
        holder = lease.reserve(
            execution_arn=execution_arn, action=action, now=now, replacing=replacing
        )
        if holder is None or holder.execution_arn == execution_arn:
            return None  # ours (an earlier attempt of this same request counts as ours)
        if holder is NOBODY:
            replacing = None
            continue
        if not _still_running(aws, holder, now):
            replacing = holder.execution_arn
            continue
        if holder.action is action:
            return holder.execution_arn
        doing = "starting" if holder.action is Action.START else "stopping"
        raise ExecutionConflictError(
            f"{composition} is still {doing} (execution {holder.execution_arn}); "
            f"wait for it to finish before you {action.value} it",
            execution_arn=holder.execution_arn,
        )
    raise OperationFailedError(
        f"the lease of {composition} changed hands {_LEASE_ATTEMPTS} times while envctl "
        "tried to take it; try again"
    )


def _name_for_now(aws: Aws, composition: str, action: Action, name: str, now: datetime) -> str:
    """``name``, unless it belongs to a run that ended longer than REPLAY_WINDOW ago.

    A name from an Idempotency-Key or a click makes retries find their first run; but
    a key reused after the replay window is a new request (Step Functions keeps names
    for 90 days), so it gets a name of its own, the same for every retry that hour.
    """
    described = _described(aws, execution_arn(aws, composition, action, name))
    if described is None:
        return name
    started = described.get("startDate")
    if described["status"] == "RUNNING" or started is None or now - started < REPLAY_WINDOW:
        return name
    return f"{name[:66]}-{now.astimezone(UTC).strftime('%Y%m%d%H')}"


def _still_running(aws: Aws, holder: Holder, now: datetime) -> bool:
    if holder.pending_until is not None and holder.pending_until >= lease_time(now):
        return True  # reserved by a caller that is starting its execution right now
    return _status(aws, holder.execution_arn) == "RUNNING"


def _described(aws: Aws, arn: str) -> dict[str, Any] | None:
    """DescribeExecution, or None when there is no such execution."""
    try:
        return dict(aws.client("stepfunctions").describe_execution(executionArn=arn))
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ExecutionDoesNotExist", "InvalidArn"):
            return None
        raise


def _status(aws: Aws, arn: str) -> str | None:
    described = _described(aws, arn)
    return str(described["status"]) if described else None


def _run_input(
    aws: Aws,
    settings: Settings,
    composition: Composition,
    action: Action,
    trigger: str,
    request: RunRequest | None,
    now: datetime,
) -> dict[str, Any]:
    """What the execution needs to audit the run and create its auto-stop itself."""
    document: dict[str, Any] = {
        "composition": composition.name,
        "trigger": trigger,
        "requested_by": request.who if request else "",
    }
    if request is None:
        return document
    document.update(
        who=request.who,
        via=request.via,
        detail=request.detail,
        audit_expires_at=str(int((now + AUDIT_RETENTION).timestamp())),
    )
    if action is Action.START:
        at = request.auto_stop_at
        if at is None:
            document["auto_stop"] = {}
        else:
            # The same schedule envctl extend moves later.
            schedule = auto_stop_spec(
                composition=composition.name,
                at=at,
                target_arn=state_machine_arn(aws, composition.name, Action.STOP),
                role_arn=scheduler_role_arn(aws, settings),
            ).request(state="ENABLED")
            document["auto_stop"] = {
                "at": at.isoformat(),
                "expression": schedule["ScheduleExpression"],
                "target": schedule["Target"],
            }
    return document


def _default_name(trigger: str, now: datetime) -> str:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    prefix = re.sub(r"[^A-Za-z0-9_-]", "", trigger)[:20] or "run"
    return f"{prefix}-{stamp}-{uuid.uuid4().hex[:8]}"
