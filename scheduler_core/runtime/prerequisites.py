"""What a deployment must have before envctl acts: the table and the two roles.

Checked before anything is changed, so a missing prerequisite leaves no execution,
schedule or reservation behind, and the message says what is missing, where, and
how to get it. The roles are looked up once per process (a warm Lambda asks once).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from scheduler_core.aws import Aws
from scheduler_core.exceptions import NotDeployedError
from scheduler_core.runtime.deploy import role_arn, scheduler_role_arn
from scheduler_core.settings import Settings

_FIX = "deploy the envctl stack there, or start `envctl local` for the local emulator"
_seen_roles: set[str] = set()


def table_missing(aws: Aws, table: str) -> NotDeployedError:
    return NotDeployedError(
        f'the envctl table "{table}" does not exist in {aws.region} '
        f"(account {aws.account_id}); {_FIX}, or set ENVCTL_TABLE to the table's name"
    )


def is_missing_resource(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException"


def require_roles(aws: Aws, settings: Settings, *, scheduler: bool) -> None:
    """The state machine role (and the scheduler role, for auto-stops) must exist.

    Raises:
        NotDeployedError: naming the role, the account and what to do.
    """
    wanted = [("ENVCTL_STATE_MACHINE_ROLE_ARN", role_arn(aws, settings))]
    if scheduler:
        wanted.append(("ENVCTL_SCHEDULER_ROLE_ARN", scheduler_role_arn(aws, settings)))
    for variable, arn in wanted:
        if arn in _seen_roles:
            continue
        try:
            _iam(aws).get_role(RoleName=arn.rsplit("/", 1)[-1])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("AccessDenied", "AccessDeniedException"):
                # Whoever may not read roles cannot be told; the run itself will say.
                _seen_roles.add(arn)
                continue
            if code != "NoSuchEntity":
                raise
            raise NotDeployedError(
                f"the role {arn} does not exist (account {aws.account_id}); {_FIX}, "
                f"or set {variable} to the role envctl should use"
            ) from exc
        _seen_roles.add(arn)


def _iam(aws: Aws) -> Any:
    return aws.client("iam")
