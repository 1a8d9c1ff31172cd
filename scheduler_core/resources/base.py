"""The interface every resource kind implements.

A kind is one module that carries all envctl knows about that kind of resource:

* its params model (what a compositions-file item says) and an ``example`` of it;
* the ASL that starts and stops it (``build_states``) and its live status read;
* the IAM actions those need (``iam``; ``tests/unit/test_template_iam.py`` checks
  that ``template.yaml`` grants them for every registered kind);
* how other schedules name it (``schedule_identity``), the Instance Scheduler tag
  read (``scheduler_tag``) and detectors of conflicts only it has;
* its maintenance and backup windows, if it has any (``read_windows``);
* the RDS event that says AWS started it by itself (``auto_start_event``).

Kinds are found through the registry in ``scheduler_core.resources``; conflicts,
windows, the RDS re-stop and the tests iterate it, and nothing else dispatches on
the type name. ``docs/architecture.md`` says how to add one.

A status read never raises because the resource does not exist: each kind turns
its service's "not found" answers into ``missing`` with a detail that says what was
not found ("cluster shop not found"). Any other AWS error is left to the caller,
``scheduler_core.runtime.status``, which shows that one resource as ``unknown``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from scheduler_core.actions import Action
from scheduler_core.asl.fragments import PolledStep, SdkCall, States, polled_step_states
from scheduler_core.asl.naming import StateNamer
from scheduler_core.aws_calls import ClientFactory, error_code, error_message, is_not_found

if TYPE_CHECKING:
    from scheduler_core.conflicts.identity import TargetIdentity
    from scheduler_core.conflicts.model import Conflict, ManagedResource
    from scheduler_core.conflicts.reading import SourceReader

    Detector = Callable[[SourceReader, ManagedResource], list[Conflict]]

__all__ = [
    "Action",
    "ClientFactory",
    "KindIam",
    "Params",
    "PolledKind",
    "ResourceKind",
    "ResourceState",
    "ResourceStatus",
    "StatusStringKind",
    "WindowFacts",
    "error_code",
    "error_message",
    "is_not_found",
]


class ResourceState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    TRANSITIONING = "transitioning"
    MISSING = "missing"
    # AWS answered the status read with an error other than "not found".
    UNKNOWN = "unknown"


@dataclass(frozen=True, kw_only=True)
class ResourceStatus:
    """Live state of one resource, as ``status --json`` shows it."""

    type: str
    id: str
    state: ResourceState
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"type": self.type, "id": self.id, "state": str(self.state), "detail": self.detail}


class Params(BaseModel):
    """Base of every params model: unknown keys are errors, never ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_sizes(minimum: int, desired: int, maximum: int) -> None:
    """Refuse group sizes out of order (Auto Scaling groups, EKS node groups)."""
    if not minimum <= desired <= maximum:
        raise ValueError(
            f"expected min <= desired <= max, got min {minimum}, desired {desired}, max {maximum}"
        )


@dataclass(frozen=True, kw_only=True)
class KindIam:
    """The IAM actions a kind needs, as ``template.yaml`` must grant them.

    Attributes:
        control: What the state machines call to start and stop it; granted only on
            resources tagged ``envctl:managed=true``.
        control_by_arn: Control actions IAM cannot scope by that tag, scoped by ARN.
        read: What its status read (``read_status``) calls; the functions that show
            status and the state machines (which poll) need these.
    """

    control: tuple[str, ...] = ()
    control_by_arn: tuple[str, ...] = ()
    read: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class WindowFacts:
    """What one describe call says about a resource's windows and identity.

    Attributes:
        arn: The ARN AWS Backup selections match.
        tags: The resource's tags, which AWS Backup selections match too.
        maintenance: The maintenance window as AWS spells it (``sun:05:00-sun:05:30``).
        has_backup: True for kinds with a daily backup window (RDS, not Redshift).
        backup: That window (``03:00-03:30``); None when AWS did not say.
    """

    arn: str
    tags: dict[str, str] = field(default_factory=dict)
    maintenance: str | None = None
    has_backup: bool = False
    backup: str | None = None


class ResourceKind(ABC):
    """One kind of resource envctl can start and stop."""

    type_name: ClassVar[str]
    params_model: ClassVar[type[Params]]
    # Params of a typical item, for tests and docs.
    example: ClassVar[Params]
    iam: ClassVar[KindIam] = KindIam()
    # False for kinds that manage no AWS resource (wait): nothing to read, nothing to miss.
    has_resource: ClassVar[bool] = True
    # True for kinds whose ``read_windows`` reads maintenance or backup windows.
    has_windows: ClassVar[bool] = False
    # The RDS event ID that says AWS started the resource after 7 days stopped.
    auto_start_event: ClassVar[str | None] = None
    # Conflict sources only this kind has (tags and other schedules apply to all).
    conflict_detectors: ClassVar[tuple[Detector, ...]] = ()
    # What the resource is called in messages: "DB instance staging-db".
    noun: ClassVar[str] = "resource"

    def schedule_identity(self, params: Any) -> TargetIdentity | None:
        """The names other schedules can reach the resource by; None if none can."""
        return None

    def pause_seconds(self, params: Any) -> int:
        """How long the step itself pauses a run (a ``wait``); 0 for kinds that act."""
        return 0

    def scheduler_tag(self, reader: SourceReader, params: Any, key: str) -> str | None:
        """The value of AWS Instance Scheduler's tag ``key`` on the resource.

        None when untagged, missing or denied, and for kinds Instance Scheduler does
        not act on (the default).
        """
        return None

    def read_windows(
        self, params: Any, clients: ClientFactory, account_id: Callable[[], str]
    ) -> WindowFacts | None:
        """The resource's windows; None when it does not exist (or has no windows).

        ``account_id()`` gives the caller's account (one STS call, made only if
        asked) for kinds whose describe answer carries no ARN.
        """
        return None

    @abstractmethod
    def label(self, params: Any) -> str:
        """Short identity of the resource for state names and messages."""

    @abstractmethod
    def build_states(
        self,
        params: Any,
        *,
        action: Action,
        wait_until_ready: bool,
        ready_timeout_seconds: int,
        next_state: str | None,
        namer: StateNamer,
    ) -> tuple[str, States]:
        """Return (entry state name, states) that drive the resource to ``action``."""

    @abstractmethod
    def read_status(self, params: Any, clients: ClientFactory) -> ResourceStatus | None:
        """Read the live state with boto3; None for kinds without state (wait)."""

    def missing(self, label: str, detail: str) -> ResourceStatus:
        """The status of a resource that does not exist; ``detail`` says what was not found."""
        return ResourceStatus(
            type=self.type_name, id=label, state=ResourceState.MISSING, detail=detail
        )

    def unknown(self, label: str, exc: ClientError) -> ResourceStatus:
        """The status of a resource whose read failed for another reason than "not found"."""
        message = error_message(exc)
        detail = f"{error_code(exc)}: {message}" if message else error_code(exc)
        return ResourceStatus(
            type=self.type_name, id=label, state=ResourceState.UNKNOWN, detail=detail
        )


class PolledKind(ResourceKind):
    """A kind driven by the shared action/describe/wait loop of ``asl.fragments``."""

    error_prefix: ClassVar[str]
    invalid_state_errors: ClassVar[tuple[str, ...]] = ()
    # The error prefix of ``before_call``'s service, when it is not the kind's own.
    before_error_prefix: ClassVar[str | None] = None

    @abstractmethod
    def action_call(self, params: Any, action: Action) -> SdkCall:
        """The SDK call that moves the resource towards ``action``'s target state."""

    @abstractmethod
    def describe_call(self, params: Any) -> SdkCall:
        """The SDK call whose selected result lands at ``$.poll``."""

    def before_call(self, params: Any, action: Action) -> SdkCall | None:
        """An SDK call to make once before the loop (none by default)."""
        return None

    # Where ``second_describe_call``'s selected result lands: ``$.poll.<key>``.
    second_describe_key: ClassVar[str] = "members"

    def second_describe_call(self, params: Any, action: Action) -> SdkCall | None:
        """An SDK call made right after ``describe_call`` on every poll (none by default).

        Its selected result lands at ``$.poll.<second_describe_key>``, where the
        conditions can read it (a cluster's members that are not ready yet).
        """
        return None

    @abstractmethod
    def conditions(self, params: Any, action: Action) -> dict[str, Any]:
        """Choice conditions on ``$.poll``: ready, and optionally actionable/unusable/missing."""

    def build_states(
        self,
        params: Any,
        *,
        action: Action,
        wait_until_ready: bool,
        ready_timeout_seconds: int,
        next_state: str | None,
        namer: StateNamer,
    ) -> tuple[str, States]:
        prefix = self.error_prefix
        before_prefix = self.before_error_prefix or prefix
        step = PolledStep(
            kind=self.type_name,
            label=self.label(params),
            verb=action.verb,
            action=self.action_call(params, action),
            describe=self.describe_call(params),
            invalid_state_errors=self.invalid_state_errors,
            throttling_errors=(
                f"{prefix}.ThrottlingException",
                f"{prefix}.RequestLimitExceededException",
            ),
            generic_error=f"{prefix}.{prefix}Exception",
            wait_until_ready=wait_until_ready,
            ready_timeout_seconds=ready_timeout_seconds,
            before=self.before_call(params, action),
            before_throttling_errors=(
                f"{before_prefix}.ThrottlingException",
                f"{before_prefix}.RequestLimitExceededException",
            ),
            before_generic_error=f"{before_prefix}.{before_prefix}Exception",
            second_describe=self.second_describe_call(params, action),
            second_describe_key=self.second_describe_key,
            **self.conditions(params, action),
        )
        return polled_step_states(step, next_state=next_state, namer=namer)


# Choice-rule shorthands on the describe result at $.poll.
def is_string(path: str, value: str) -> dict[str, Any]:
    return {"Variable": f"$.poll.{path}", "StringEquals": value}


def is_one_of(path: str, values: list[str]) -> dict[str, Any]:
    if len(values) == 1:
        return is_string(path, values[0])
    return {"Or": [is_string(path, value) for value in values]}


def is_number(path: str, value: float) -> dict[str, Any]:
    return {"Variable": f"$.poll.{path}", "NumericEquals": value}


def is_present(path: str, present: bool = True) -> dict[str, Any]:
    return {"Variable": f"$.poll.{path}", "IsPresent": present}


def all_of(*conditions: dict[str, Any]) -> dict[str, Any]:
    return conditions[0] if len(conditions) == 1 else {"And": list(conditions)}


class StatusStringKind(PolledKind):
    """A kind whose describe call yields one status string (RDS, Redshift, EC2).

    Subclasses name the statuses; the loop starts the resource only from
    ``stopped_status``, stops it only from ``running_status``, waits through
    anything else and fails at once on ``unusable_statuses``.
    """

    running_status: ClassVar[str]
    stopped_status: ClassVar[str]
    unusable_statuses: ClassVar[tuple[str, ...]] = ()
    # Codes that mean "no such resource" without ending in NotFound or NotFoundFault.
    missing_codes: ClassVar[tuple[str, ...]] = ()

    def conditions(self, params: Any, action: Action) -> dict[str, Any]:
        target, source = (
            (self.running_status, self.stopped_status)
            if action is Action.START
            else (self.stopped_status, self.running_status)
        )
        conditions: dict[str, Any] = {
            "ready": is_string("status", target),
            "actionable": is_string("status", source),
        }
        if self.unusable_statuses:
            conditions["unusable"] = is_one_of("status", list(self.unusable_statuses))
        return conditions

    def state_of(self, status: str) -> ResourceState:
        if status == self.running_status:
            return ResourceState.RUNNING
        if status == self.stopped_status:
            return ResourceState.STOPPED
        return ResourceState.TRANSITIONING

    @abstractmethod
    def fetch_status(self, params: Any, clients: ClientFactory) -> str | None:
        """Read the status string with boto3; None when the answer lists no such resource.

        The services raise a "not found" ClientError for an unknown id; None covers an
        answer that lists nothing instead, so it is never an IndexError.
        """

    def missing_detail(self, label: str, code: str | None) -> str:
        """The detail of a missing resource; ``code`` is the error AWS answered, if any."""
        return f"{self.noun} {label} not found"

    def read_status(self, params: Any, clients: ClientFactory) -> ResourceStatus:
        label = self.label(params)
        try:
            status = self.fetch_status(params, clients)
        except ClientError as exc:
            if not is_not_found(exc, *self.missing_codes):
                raise
            return self.missing(label, self.missing_detail(label, error_code(exc)))
        if status is None:
            return self.missing(label, self.missing_detail(label, None))
        return ResourceStatus(
            type=self.type_name, id=label, state=self.state_of(status), detail=status
        )
