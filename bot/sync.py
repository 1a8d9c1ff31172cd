"""CloudFormation custom resource ``Custom::EnvctlSync``: ``envctl apply`` on every deploy.

The stack bundles ``compositions.yaml`` with this function; the custom resource makes
AWS match it whenever CloudFormation creates, updates or deletes it:

- **Create / Update** plan the whole config (window brackets included) with
  ``prune=True`` and apply it. Pruning on every deploy means a composition removed
  from the bundled config loses its state machines, schedule group and schedules on
  the next deploy, as ``envctl apply --prune`` would. Only objects envctl tagged or
  described as its own are ever touched (see ``scheduler_core.reconcile.planner``).
- **Delete** applies an empty desired state with ``prune=True``: every envctl-owned
  state machine, schedule group and schedule in the account and region goes away.
  Because every deploy already pruned down to the bundled config, those are exactly
  the stack's compositions. Delete does not read the config at all, so a config that
  no longer loads can never block deleting the stack. A Delete whose
  PhysicalResourceId is not ours (a replaced resource being cleaned up) does nothing.

CloudFormation is never left waiting: every outcome, including any exception, is
sent to the pre-signed ``ResponseURL``; the work runs in a thread and, if it is
still running when only ``RESPONSE_RESERVE_MS`` of the Lambda's time is left, FAILED
is sent and the worker stops before its next change. The response carries
``Data`` = ``{"Created", "Updated", "Deleted"}`` counts (strings, for ``Fn::GetAtt``).

CloudFormation only sends Update when the resource's properties change, so the
template should pass a property that changes with the config (a hash of
``compositions.yaml``, or the code version); the properties are otherwise ignored.
Caveats: renaming the resource's logical ID makes CloudFormation delete the old one
with the same physical ID, which would prune everything — don't. The pre-signed URL
is a credential: it is never logged.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from scheduler_core.aws import Aws
from scheduler_core.config import Config, load_config
from scheduler_core.exceptions import ConfigError, ErrorKind, fault_of
from scheduler_core.reconcile import (
    Change,
    ChangeAction,
    HeldPrune,
    Plan,
    apply_plan,
    make_plan,
    plan_everything,
)
from scheduler_core.settings import Settings

logger = Logger(service="envctl-sync")

SUCCESS, FAILED = "SUCCESS", "FAILED"
PHYSICAL_ID_PREFIX = "envctl-sync-"
# CloudFormation refuses response objects larger than 4 KB, Reason included.
RESPONSE_LIMIT_BYTES = 4096
# Time kept back from the Lambda's timeout to send the response (PUT with a retry).
RESPONSE_RESERVE_MS = 4_000
PUT_TIMEOUT_SECONDS = 3.0
PUT_ATTEMPTS = 3
# Without a Lambda context (local runs) the work may take as long as a Lambda can.
NO_CONTEXT_BUDGET_MS = 15 * 60 * 1000


class _Cancelled(Exception):
    """The handler stopped waiting; the worker must not start another change."""


@dataclass
class _Progress:
    """What the worker has done so far; read by the handler when it gives up waiting."""

    planned: int | None = None
    applied: list[Change] = field(default_factory=list)
    held: tuple[HeldPrune, ...] = ()  # compositions left unpruned: their runs go on
    cancelled: threading.Event = field(default_factory=threading.Event)

    def counts(self) -> dict[str, str]:
        return {
            action.value.capitalize() + "d": str(
                sum(change.action is action for change in self.applied)
            )
            for action in ChangeAction
        }

    def so_far(self) -> str:
        if self.planned is None:
            return "while planning, before any change was applied"
        return f"after applying {len(self.applied)} of {self.planned} changes"


@dataclass(frozen=True, kw_only=True)
class Outcome:
    status: str
    reason: str
    data: dict[str, str]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda handler for the ``Custom::EnvctlSync`` resource."""
    settings = Settings.from_env()
    return handle(event, context, aws=settings.aws(), settings=settings)


def handle(event: dict[str, Any], context: Any, *, aws: Aws, settings: Settings) -> dict[str, Any]:
    """Do the request, send the response to CloudFormation and return it (for logs/tests).

    Raises:
        OSError: the response could not be delivered; Lambda's retry sends it again
            (the work is idempotent: a second apply finds nothing to change).
    """
    deadline = _Deadline(context)
    logger.append_keys(
        request_type=event.get("RequestType"),
        stack_id=event.get("StackId"),
        logical_resource_id=event.get("LogicalResourceId"),
    )
    try:
        outcome = _outcome(event, deadline, aws=aws, settings=settings)
        if outcome.status == FAILED and event.get("RequestType") == "Update":
            outcome = _during_rollback(aws, event, outcome)
    except Exception as exc:  # CloudFormation must hear back whatever went wrong.
        logger.exception("sync failed before it could run")
        outcome = Outcome(status=FAILED, reason=_describe(exc), data={})
    if outcome.status == FAILED and getattr(context, "log_stream_name", None):
        outcome = Outcome(
            status=FAILED,
            reason=f"{outcome.reason} (log stream {context.log_stream_name})",
            data=outcome.data,
        )
    body = response_body(event, outcome)
    logger.info(
        "sync finished", extra={"status": outcome.status, "reason": body["Reason"], **outcome.data}
    )
    send_response(str(event.get("ResponseURL", "")), body, deadline=deadline)
    return body


def physical_resource_id(event: dict[str, Any]) -> str:
    """Stable for the life of the stack, so an update never looks like a replacement."""
    stack_id = str(event.get("StackId", ""))
    # arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>
    parts = stack_id.split(":", 5)[-1].split("/")
    name = parts[1] if len(parts) >= 2 else stack_id or "unknown"
    return PHYSICAL_ID_PREFIX + name


def _outcome(
    event: dict[str, Any], deadline: _Deadline, *, aws: Aws, settings: Settings
) -> Outcome:
    request_type = event.get("RequestType")
    if request_type in ("Create", "Update"):

        def work(progress: _Progress) -> None:
            config = load_config(settings.config_path)
            plan = plan_everything(aws, settings, config, prune=True, now=datetime.now(UTC))
            _apply(aws, plan, progress)

        return _run(work, deadline, done="synced the compositions file")
    if request_type == "Delete":
        if event.get("PhysicalResourceId") != physical_resource_id(event):
            # CloudFormation deletes the old resource after a replacement: the new
            # one still owns everything, so nothing may be pruned.
            return Outcome(
                status=SUCCESS, reason="not this stack's sync resource; nothing removed", data={}
            )

        def teardown(progress: _Progress) -> None:
            empty = Config(path=Path(settings.config_path or "compositions.yaml"), compositions={})
            _apply(aws, make_plan(aws, settings, empty, prune=True), progress)

        return _run(teardown, deadline, done="removed everything envctl created")
    return Outcome(
        status=FAILED,
        reason=f"unknown RequestType {request_type!r}; expected Create, Update or Delete",
        data={},
    )


def _during_rollback(aws: Aws, event: dict[str, Any], outcome: Outcome) -> Outcome:
    """A failed Update during an update rollback becomes SUCCESS, saying what was left.

    The rollback re-sends Update with the old properties, but the function may still
    carry the new (failing) bundle; FAILED would strand the stack in
    UPDATE_ROLLBACK_FAILED, which only a person can clear. Whatever apply managed to
    change stays until the next good deploy.
    """
    try:
        stacks = aws.client("cloudformation").describe_stacks(StackName=event.get("StackId", ""))
        status = stacks["Stacks"][0]["StackStatus"]
    except (ClientError, BotoCoreError, KeyError, IndexError):
        return outcome  # cannot tell: report the failure as it is
    if status != "UPDATE_ROLLBACK_IN_PROGRESS":
        return outcome
    return Outcome(
        status=SUCCESS,
        reason=(
            f"update rollback: {outcome.reason}; envctl objects are left as they are "
            "until the next successful deploy"
        ),
        data=outcome.data,
    )


def _apply(aws: Aws, plan: Plan, progress: _Progress) -> None:
    progress.planned = len(plan.changes)
    progress.held = plan.held
    for held in plan.held:
        logger.warning("not pruned", extra={"held": held.describe()})
    if progress.cancelled.is_set():
        raise _Cancelled

    def record(change: Change) -> None:
        progress.applied.append(change)
        logger.info("applied", extra={"change": change.describe()})
        if progress.cancelled.is_set():
            raise _Cancelled

    apply_plan(aws, plan, on_change=record)


def _run(work: Callable[[_Progress], None], deadline: _Deadline, *, done: str) -> Outcome:
    """Run ``work`` in a thread; give up (FAILED) when the Lambda is about to time out."""
    progress = _Progress()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            work(progress)
        except _Cancelled:
            logger.warning("stopped applying: the handler already reported FAILED")
        except BaseException as exc:
            errors.append(exc)

    budget = deadline.seconds_left() - RESPONSE_RESERVE_MS / 1000
    if budget <= 0:
        return Outcome(
            status=FAILED,
            reason="not enough time left in the Lambda invocation to sync; raise its timeout",
            data={},
        )
    # A daemon thread: Lambda freezes it with the sandbox; the cancel flag stops it
    # before its next change if the sandbox is thawed for another invocation.
    worker = threading.Thread(target=target, name="envctl-sync", daemon=True)
    worker.start()
    worker.join(budget)
    if worker.is_alive():
        progress.cancelled.set()
        return Outcome(
            status=FAILED,
            reason=(
                f"timed out {progress.so_far()}; the rest was not applied. Raise the "
                "function's timeout and deploy again, or run `envctl apply --prune`"
            ),
            data=progress.counts(),
        )
    if errors:
        exc = errors[0]
        if not isinstance(exc, ConfigError):
            logger.error("sync failed", exc_info=exc)
        return Outcome(
            status=FAILED, reason=f"{_describe(exc)} ({progress.so_far()})", data=progress.counts()
        )
    counts = progress.counts()
    summary = ", ".join(f"{count} {word.lower()}" for word, count in counts.items())
    # A composition whose run still goes on is not pruned (its resources would be
    # left half started); the stack must hear it, or the objects outlive it unseen.
    kept = "".join(f"; {held.describe()}" for held in progress.held)
    return Outcome(status=SUCCESS, reason=f"{done}: {summary}{kept}", data=counts)


def _describe(exc: BaseException) -> str:
    """One clear line for CloudFormation's event list: the config problems or AWS's error."""
    fault = fault_of(exc)
    if fault is None:
        return f"unexpected error {type(exc).__name__}: {exc}"
    if isinstance(exc, ConfigError):
        return "the compositions file is invalid: " + "; ".join(exc.problems)
    if isinstance(exc, ClientError):
        return f"AWS refused a call: {exc}"
    if fault.kind is ErrorKind.AWS_UNREACHABLE:
        return f"could not reach AWS: {exc}"
    return fault.detail


def response_body(event: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    """The response object, its Reason cut so the whole body fits in 4 KB."""
    body: dict[str, Any] = {
        "Status": outcome.status,
        "Reason": "",
        "PhysicalResourceId": physical_resource_id(event),
        "StackId": event.get("StackId", ""),
        "RequestId": event.get("RequestId", ""),
        "LogicalResourceId": event.get("LogicalResourceId", ""),
        "Data": outcome.data,
    }
    room = RESPONSE_LIMIT_BYTES - len(json.dumps(body).encode("utf-8"))
    body["Reason"] = _fit(outcome.reason, room)
    return body


def _fit(text: str, room: int) -> str:
    """``text`` cut to ``room`` bytes of JSON, saying that it was cut."""
    if len(json.dumps(text).encode("utf-8")) - 2 <= room:
        return text
    marker = " … (cut; see the function's log)"
    cut = text
    while cut and len(json.dumps(cut + marker).encode("utf-8")) - 2 > room:
        # Shrink by the excess (at least one character): bytes ≥ characters.
        excess = len(json.dumps(cut + marker).encode("utf-8")) - 2 - room
        cut = cut[: -max(1, excess)]
    return cut + marker


def send_response(url: str, body: dict[str, Any], *, deadline: _Deadline) -> None:
    """PUT the response to the pre-signed URL, retrying while the Lambda has time.

    Raises:
        OSError: every attempt failed (Lambda's own retry is then the last resort).
    """
    data = json.dumps(body).encode("utf-8")
    # The URL is signed without a content type: sending one would break the signature.
    request = urllib.request.Request(
        url, data=data, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(data))}
    )
    last_error: OSError | None = None
    for attempt in range(1, PUT_ATTEMPTS + 1):
        timeout = min(PUT_TIMEOUT_SECONDS, max(deadline.seconds_left() - 0.2, 0.5))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                logger.info("response sent", extra={"http_status": answer.status})
                return
        except ValueError as exc:  # not a URL at all: retrying cannot help
            raise OSError(f"invalid ResponseURL: {exc}") from exc
        except OSError as exc:  # URLError, HTTPError and socket timeouts are OSErrors
            last_error = exc
            logger.warning(
                "could not send the response", extra={"attempt": attempt, "error": str(exc)}
            )
            if deadline.seconds_left() < 1.0:
                break
            time.sleep(min(0.5 * attempt, 2.0))
    raise OSError(f"could not send the response to CloudFormation: {last_error}") from last_error


class _Deadline:
    """Time left in this invocation, from the Lambda context when there is one."""

    def __init__(self, context: Any) -> None:
        self._remaining = getattr(context, "get_remaining_time_in_millis", None)
        self._end = time.monotonic() + NO_CONTEXT_BUDGET_MS / 1000

    def seconds_left(self) -> float:
        if self._remaining is not None:
            return float(self._remaining()) / 1000
        return self._end - time.monotonic()
