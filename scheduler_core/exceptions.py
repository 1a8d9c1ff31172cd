"""Exception hierarchy of envctl; every error carries its kind.

Each entry point maps kinds to its own answer once (the CLI to a message and an exit
code, the webhooks to an HTTP status and error code, Slack to a sentence, the
deploy-time sync to a CloudFormation reason). ``fault_of`` gives the kind of any
exception an entry point may see, botocore's included.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from botocore.exceptions import BotoCoreError, ClientError


class ErrorKind(StrEnum):
    """What went wrong, in the terms every entry point answers in."""

    BAD_INPUT = "bad_input"  # the request cannot be acted on as given
    NOT_FOUND = "not_found"  # it names a composition the config does not define
    INVALID_CONFIG = "invalid_config"  # the compositions file (or a setting) is invalid
    CONFLICT = "conflict"  # the opposite action is still running
    NOT_DEPLOYED = "not_deployed"  # the table, a role or a state machine is missing
    AWS_REFUSED = "aws_refused"  # an AWS API call returned an error
    AWS_UNREACHABLE = "aws_unreachable"  # AWS could not be reached at all
    FAILED = "failed"  # an operation ran but did not succeed


# Kinds that are the caller's to fix (CLI exit code 2); every other kind exits with 1.
CALLER_KINDS = frozenset({ErrorKind.BAD_INPUT, ErrorKind.NOT_FOUND, ErrorKind.INVALID_CONFIG})


class EnvctlError(Exception):
    """Root of every error envctl raises on purpose."""

    kind = ErrorKind.FAILED

    @property
    def exit_code(self) -> int:
        return exit_code(self.kind)


class BadInputError(EnvctlError):
    """The user gave input that envctl cannot act on (exit code 2)."""

    kind = ErrorKind.BAD_INPUT


class ConfigError(BadInputError):
    """The compositions file (or a setting) is invalid; carries one line per problem."""

    kind = ErrorKind.INVALID_CONFIG

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class UnknownCompositionError(BadInputError):
    """A composition name that the config does not define."""

    kind = ErrorKind.NOT_FOUND

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = sorted(known)
        names = ", ".join(self.known) or "(none defined)"
        super().__init__(f'unknown composition "{name}"; known compositions: {names}')


class OperationFailedError(EnvctlError):
    """An operation ran but did not succeed (exit code 1)."""


class AwsCallError(OperationFailedError):
    """An AWS API call failed; the message is the service's own."""

    kind = ErrorKind.AWS_REFUSED


class NotDeployedError(OperationFailedError):
    """Something a request needs (the table, a role, a state machine) does not exist.

    Raised before anything is changed; the message names what is missing, where
    (region, account) and what to do.
    """

    kind = ErrorKind.NOT_DEPLOYED


class ConflictError(OperationFailedError):
    """The opposite action of the same composition is still running.

    ``execution_arn`` names the running execution.
    """

    kind = ErrorKind.CONFLICT

    def __init__(self, message: str, *, execution_arn: str) -> None:
        self.execution_arn = execution_arn
        super().__init__(message)


def exit_code(kind: ErrorKind) -> int:
    """The CLI's exit code for an error of ``kind``: 2 the caller's to fix, else 1."""
    return 2 if kind in CALLER_KINDS else 1


@dataclass(frozen=True, kw_only=True)
class Fault:
    """An exception as entry points answer it: its kind and what they may quote.

    For botocore's errors ``operation``, ``code`` and ``detail`` are AWS's own
    (operation name, error code and message); ``detail`` is ``str(error)`` otherwise.
    """

    kind: ErrorKind
    error: BaseException
    detail: str
    operation: str = ""
    code: str = ""


def fault_of(error: BaseException) -> Fault | None:
    """The kind of an envctl or botocore error; None for anything else (a bug)."""
    if isinstance(error, EnvctlError):
        return Fault(kind=error.kind, error=error, detail=str(error))
    if isinstance(error, ClientError):
        found = error.response.get("Error", {})
        return Fault(
            kind=ErrorKind.AWS_REFUSED,
            error=error,
            detail=str(found.get("Message")),
            operation=error.operation_name,
            code=str(found.get("Code")),
        )
    if isinstance(error, BotoCoreError):
        return Fault(kind=ErrorKind.AWS_UNREACHABLE, error=error, detail=str(error))
    return None
