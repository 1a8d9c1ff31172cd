"""Task ``Credentials`` executed for real: the task runs as the role, in its account.

A Task state may name a role to act as (``"Credentials": {"RoleArn": ...}``): Step
Functions has the state machine's execution role assume it and calls the service with
the role's temporary credentials, so a hub's state machine reaches resources in a spoke
account. moto 5.2 parses the field and ignores it: every task calls moto with the
access key ``ak``, which moto maps to its default account, 123456789012.

Here the interpreter's client factory (``boto_client_for``, bound by name in every
service module that imported it) is replaced. For a task with ``Credentials`` it

1. looks the role up in its own account (the account in the ARN) and reads its trust
   policy: an ``Allow`` of ``sts:AssumeRole`` must name the execution role, its
   account's root (``arn:aws:iam::<id>:root``), the bare account id, or ``*`` as an
   ``AWS`` principal (conditions are not evaluated);
2. assumes it through moto's STS; moto keys the temporary access key to the account in
   the role's ARN (``STSBackend._create_access_key``) and serves every request signed
   with it from that account's backends (``iam.models.get_account_id_from``);
3. calls the service in the region it was asked for (the task resource's region, else
   the state machine's) with those credentials.

If the role is missing or does not trust the caller, the task fails with
``States.TaskFailed`` and a cause naming the role, its account and the reason; a
Retry or Catch on ``States.TaskFailed`` or ``States.ALL`` sees it. AWS's own wording
for this failure could not be confirmed from its documentation; the error name is the
one Step Functions gives a task that fails for a reason other than the service's own
error, and the cause follows STS's ``AccessDenied`` message, which says the same.

A task without ``Credentials`` runs as the execution role, as before: in the default
account as the key ``ak``, or, when the state machine's role lives in another account
(a state machine created there), as that role, so its tasks act in that account too.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import (
    StateCredentials,
)

from infra.emulator.patching import ORIGINAL_PREFIX, wrap_once

ERROR = "States.TaskFailed"
ROLE_ARN = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:.*/)?[^/]+$")
_MARKER = f"{ORIGINAL_PREFIX}boto_client_for"
_INSTALL_LOCK = threading.Lock()


@dataclass
class TaskCredentials(StateCredentials):
    """moto's credentials of a task, plus who asks and where the failure is reported."""

    #: The state names the role in ``Credentials`` (else it is the execution role).
    explicit: bool = False
    #: The execution's role: the principal that assumes ``role_arn``.
    caller: str = ""
    env: Any = field(default=None, repr=False, compare=False)
    task: Any = field(default=None, repr=False, compare=False)


class RoleNotAssumable(Exception):
    """The role named in a task's ``Credentials`` cannot be assumed by the caller."""

    def __init__(self, role_arn: str, account: str, caller: str, reason: str) -> None:
        self.role_arn, self.account, self.caller, self.reason = role_arn, account, caller, reason
        super().__init__(self.cause)

    @property
    def cause(self) -> str:
        return (
            f"Unable to assume the role {self.role_arn} in account {self.account} for the "
            f"task: {self.caller} is not authorized to perform sts:AssumeRole on it "
            f"({self.reason})."
        )


def account_of(arn: str) -> str:
    """The account id in an IAM ARN, or "" if it is not one."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[2] in ("iam", "sts") else ""


def _statements(document: str) -> list[dict[str, Any]]:
    text = document if document.lstrip().startswith("{") else unquote(document)
    statements = json.loads(text).get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _covers(statement: dict[str, Any], caller: str) -> bool:
    """Whether the statement's action and principal cover ``caller`` assuming the role."""
    actions = [str(action).lower() for action in _as_list(statement.get("Action"))]
    if not {"sts:assumerole", "sts:*", "*"} & set(actions):
        return False
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    account = account_of(caller)
    names = {caller, f"arn:aws:iam::{account}:root", account, "*"}
    return any(str(entry) in names for entry in _as_list(principal.get("AWS")))


def check_assumable(role_arn: str, caller: str) -> None:
    """Raise ``RoleNotAssumable`` unless ``caller`` may assume ``role_arn``, as IAM decides."""
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import iam_backends

    match = ROLE_ARN.match(role_arn)
    if match is None:
        raise RoleNotAssumable(role_arn, account_of(role_arn), caller, "not a role ARN")
    partition, account = match.group(1), match.group(2)
    try:
        role = iam_backends[account][partition].get_role_by_arn(role_arn)
    except NotFoundException:
        raise RoleNotAssumable(
            role_arn, account, caller, f"the role does not exist in account {account}"
        ) from None
    statements = _statements(role.assume_role_policy_document)
    covering = [statement for statement in statements if _covers(statement, caller)]
    if any(statement.get("Effect") == "Deny" for statement in covering):
        raise RoleNotAssumable(role_arn, account, caller, "its trust policy denies it")
    if not any(statement.get("Effect") == "Allow" for statement in covering):
        raise RoleNotAssumable(
            role_arn,
            account,
            caller,
            f"its trust policy allows neither that role nor account {account_of(caller)}",
        )


def _failure(credentials: TaskCredentials, error: RoleNotAssumable) -> Exception:
    """The task failure Step Functions reports, as moto's interpreter expects it."""
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    details = TaskFailedEventDetails(error=ERROR, cause=error.cause)
    task = credentials.task
    for key, method in (
        ("resource", "_get_sfn_resource"),
        ("resourceType", "_get_sfn_resource_type"),
    ):
        if hasattr(task, method):
            details[key] = getattr(task, method)()  # type: ignore[literal-required]
    event = FailureEvent(
        env=credentials.env,
        error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
        event_type=HistoryEventType.TaskFailed,
        # moto's TypedDict lists every kind of event; one is given, as moto's own code does.
        event_details=EventDetails(taskFailedEventDetails=details),  # type: ignore[typeddict-item]
    )
    return FailureEventException(failure_event=event)


def _role_to_assume(credentials: Any) -> str | None:
    """The role a task's calls must run as, or None for moto's default identity."""
    if not isinstance(credentials, TaskCredentials) or not credentials.role_arn:
        return None
    if credentials.explicit:
        return credentials.role_arn
    from moto.core.models import DEFAULT_ACCOUNT_ID

    account = account_of(credentials.role_arn)
    # The execution role of a state machine in another account: act in that account.
    return credentials.role_arn if account and account != DEFAULT_ACCOUNT_ID else None


def _wrap_client_factory(original: Any) -> Any:
    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        role_arn = _role_to_assume(state_credentials)
        if role_arn is None:
            return original(region, service, state_credentials)
        assert isinstance(state_credentials, TaskCredentials)
        if state_credentials.explicit:
            try:
                check_assumable(role_arn, state_credentials.caller)
            except RoleNotAssumable as error:
                if state_credentials.env is None:
                    raise
                raise _failure(state_credentials, error) from None
        sts = original(region, "sts", state_credentials)
        keys = sts.assume_role(RoleArn=role_arn, RoleSessionName=f"task-{uuid.uuid4().hex[:16]}")
        template = original(region, service, state_credentials)
        import boto3

        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=region,
            endpoint_url=template.meta.endpoint_url,
            config=template.meta.config,
            aws_access_key_id=keys["Credentials"]["AccessKeyId"],
            aws_secret_access_key=keys["Credentials"]["SecretAccessKey"],
            aws_session_token=keys["Credentials"]["SessionToken"],
        )

    return boto_client_for


def _wrap_state_credentials(original: Any) -> Any:
    def _eval_state_credentials(self: Any, env: Any) -> StateCredentials:
        credentials = original(self, env)
        return TaskCredentials(
            role_arn=credentials.role_arn,
            explicit=bool(self.credentials),
            caller=env.aws_execution_details.role_arn,
            env=env,
            task=self,
        )

    return _eval_state_credentials


def _install_client_factory() -> None:
    from moto.stepfunctions.parser.asl.utils import boto_client

    if hasattr(boto_client, _MARKER):
        return
    original = boto_client.boto_client_for
    replacement = _wrap_client_factory(original)
    setattr(boto_client, _MARKER, original)
    # Every service module bound the function at import time: rebind it there too.
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions") and (
            getattr(module, "boto_client_for", None) is original
        ):
            setattr(module, "boto_client_for", replacement)  # noqa: B010 (patching moto)


def install() -> None:
    """Run task Credentials for real (idempotent)."""
    import moto.stepfunctions.parser.models  # noqa: F401 - load every service module first
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import (
        StateTask,
    )

    with _INSTALL_LOCK:
        wrap_once(StateTask, "_eval_state_credentials", _wrap_state_credentials)
        _install_client_factory()
