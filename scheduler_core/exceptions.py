"""Exception hierarchy of envctl. Each class maps to one exit code in the CLI."""

from __future__ import annotations


class EnvctlError(Exception):
    """Root of every error envctl raises on purpose."""

    exit_code = 1


class BadInputError(EnvctlError):
    """The user gave input that envctl cannot act on (exit code 2)."""

    exit_code = 2


class ConfigError(BadInputError):
    """The compositions file (or a setting) is invalid; carries one line per problem."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class UnknownCompositionError(BadInputError):
    """A composition name that the config does not define."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = sorted(known)
        names = ", ".join(self.known) or "(none defined)"
        super().__init__(f'unknown composition "{name}"; known compositions: {names}')


class OperationFailedError(EnvctlError):
    """An operation ran but did not succeed (exit code 1)."""


class AwsCallError(OperationFailedError):
    """An AWS API call failed; the message is the service's own."""


class NotDeployedError(OperationFailedError):
    """Something a request needs (the table, a role, a state machine) does not exist.

    Raised before anything is changed; the message names what is missing, where
    (region, account) and what to do.
    """


class ConflictError(OperationFailedError):
    """The opposite action of the same composition is still running.

    ``execution_arn`` names the running execution.
    """

    def __init__(self, message: str, *, execution_arn: str) -> None:
        self.execution_arn = execution_arn
        super().__init__(message)
