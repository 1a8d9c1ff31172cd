"""Small corrections that make moto behave like the real services envctl drives.

- JSONPath: Step Functions evaluates paths with Jayway semantics: a *definite*
  path (``$.DbClusters[0].Status``) yields the value itself, an *indefinite* one
  (wildcard, filter, slice, deep scan) yields a list, ``[]`` when nothing
  matches. moto wraps some definite paths in a list and raises on most empty
  indefinite ones.
- ECS: the real service scheduler starts tasks until ``runningCount`` reaches
  ``desiredCount``; moto's new services report 0 running for ever. (moto's
  UpdateService already sets the running count.)
- DynamoDB: a conditional write is atomic: of two concurrent writes with the same
  condition, exactly one succeeds. moto's backend checks the condition and then
  writes without a lock, and its server answers requests in threads, so two callers
  could both win. Writes to the backend are serialised here.
- EventBridge Scheduler: UpdateSchedule replaces the whole schedule, so an
  ``ActionAfterCompletion`` left out becomes ``NONE``; moto keeps the old value and
  ignores the one sent.
- Step Functions: StopExecution right after StartExecution stops the execution.
  moto's worker builds its evaluation environment on its own thread, and a stop that
  comes first fails on the missing environment (HTTP 500); it waits for it here.
- Logging: moto's Step Functions interpreter logs whole parse trees at WARNING for
  every failed state; the execution history already says what failed.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from typing import Any

from infra.emulator.patching import wrap_once

_INDEFINITE = re.compile(r"\[\s*(\*|\?|-?\d*\s*:)|\.\.")


def _is_indefinite(path: str) -> bool:
    return bool(_INDEFINITE.search(path))


def extract_json(path: str, data: Any) -> Any:
    """Jayway-style evaluation of a JSONPath against state data."""
    from jsonpath_ng.ext.parser import parse
    from moto.stepfunctions.parser.asl.utils.json_path import NoSuchJsonPathError

    matches = parse(path).find(data)
    if _is_indefinite(path):
        return [match.value for match in matches]
    if not matches:
        raise NoSuchJsonPathError(json_path=path, data=data)
    return matches[0].value


def _install_json_path() -> None:
    from moto.stepfunctions.parser.asl.utils import json_path

    original = json_path.extract_json
    if original is extract_json:
        return
    # Modules bound the function at import time; rebind it wherever it was taken.
    for name, module in list(sys.modules.items()):
        if (
            name.startswith("moto.stepfunctions")
            and getattr(module, "extract_json", None) is original
        ):
            setattr(module, "extract_json", extract_json)  # noqa: B010 (patching moto)


_WRITES = threading.RLock()
DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")


def _install_atomic_dynamodb_writes() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    def wrapper(original: Any) -> Any:
        def write(self: Any, *args: Any, **kwargs: Any) -> Any:
            with _WRITES:
                return original(self, *args, **kwargs)

        return write

    for name in DYNAMODB_WRITES:
        wrap_once(DynamoDBBackend, name, wrapper)


def _install_update_schedule() -> None:
    from moto.scheduler.responses import EventBridgeSchedulerResponse

    def wrapper(original: Any) -> Any:
        def update_schedule(self: Any) -> str:
            answer = original(self)
            group = self._get_param("GroupName") or "default"
            name = self.uri.split("?")[0].split("/")[-1]
            schedule = self.scheduler_backend.get_schedule(group_name=group, name=name)
            schedule.action_after_completion = self._get_param("ActionAfterCompletion") or "NONE"
            return str(answer)

        return update_schedule

    wrap_once(EventBridgeSchedulerResponse, "update_schedule", wrapper)


STOP_WAIT_SECONDS = 10.0


def _install_stop_before_first_state() -> None:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    def wrapper(original: Any) -> Any:
        def stop(self: Any, *args: Any, **kwargs: Any) -> Any:
            deadline = time.monotonic() + STOP_WAIT_SECONDS
            while getattr(self, "env", None) is None and time.monotonic() < deadline:
                time.sleep(0.005)
            return original(self, *args, **kwargs)

        return stop

    wrap_once(ExecutionWorker, "stop", wrapper)


def install() -> None:
    """Apply every correction (idempotent)."""
    import moto.stepfunctions.parser.models  # noqa: F401 - load the interpreter first
    from moto.ecs.models import EC2ContainerServiceBackend

    _install_json_path()

    if not getattr(EC2ContainerServiceBackend, "_envctl_scheduler", False):
        original_create = EC2ContainerServiceBackend.create_service

        def create_service(self: Any, *args: Any, **kwargs: Any) -> Any:
            service = original_create(self, *args, **kwargs)
            service.running_count, service.pending_count = service.desired_count, 0
            return service

        EC2ContainerServiceBackend.create_service = create_service  # type: ignore[method-assign]
        setattr(EC2ContainerServiceBackend, "_envctl_scheduler", True)  # noqa: B010 (a marker)

    _install_update_schedule()
    _install_atomic_dynamodb_writes()
    _install_stop_before_first_state()

    for name in ("moto.stepfunctions.parser", "werkzeug"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
