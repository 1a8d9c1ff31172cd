"""Live state of a composition, read resource by resource with boto3.

Reading the status never fails because of one resource:

- a resource that does not exist is ``missing``, with a detail naming what was not
  found ("cluster shop not found"); each kind knows its service's "not found"
  answers, and any other error code that says "not found" counts too;
- any other error AWS answers while reading one resource (access denied,
  throttling, an unexpected validation error) makes that resource ``unknown``, with
  the error code and message as its detail, and the other resources are still read.

Errors that are not answers from AWS (no credentials, no network) still raise: they
are not about one resource and every other read would fail the same way.

The composition's state follows from its resources: ``running`` or ``stopped`` when
every resource is, ``partial`` otherwise (so a missing or unknown resource makes it
``partial``), and ``starting``/``stopping`` while a run holds the composition's lease.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from scheduler_core.actions import Action
from scheduler_core.aws import Aws
from scheduler_core.config.models import Composition, ResourceItem
from scheduler_core.places import described, reaching
from scheduler_core.resources import ResourceState, ResourceStatus
from scheduler_core.resources.base import ClientFactory, error_message, is_not_found
from scheduler_core.runtime.executions import in_progress


class CompositionState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    PARTIAL = "partial"
    STARTING = "starting"
    STOPPING = "stopping"


@dataclass(frozen=True, kw_only=True)
class CompositionStatus:
    composition: str
    state: CompositionState
    resources: tuple[ResourceStatus, ...]
    execution_arn: str | None = None
    # Where its resources were read, when the composition names it (else: here).
    account: str | None = None
    region: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The ``status --json`` document of README "Commands"."""
        placed = {key: value for key, value in self.place().items() if value}
        return {
            "composition": self.composition,
            "state": str(self.state),
            **placed,
            "resources": [resource.as_json() for resource in self.resources],
        }

    def place(self) -> dict[str, str | None]:
        return {"account": self.account, "region": self.region}


def read_status(aws: Aws, composition: Composition, *, table_name: str) -> CompositionStatus:
    """Read every resource's state; a run in progress (its lease) decides starting/stopping."""
    clients = reaching(composition, aws).client
    where = looked_in(composition)
    resources = tuple(
        status
        for item in composition.items()
        if item.kind.has_resource
        and (status := read_resource(item, clients, where=where)) is not None
    )
    busy = in_progress(aws.at(composition.region), table_name, composition.name)
    state = summarise(resources)
    if busy is not None:
        state = (
            CompositionState.STARTING if busy.action is Action.START else CompositionState.STOPPING
        )
    return CompositionStatus(
        composition=composition.name,
        state=state,
        resources=resources,
        execution_arn=busy.execution_arn if busy else None,
        account=composition.account,
        region=composition.region,
    )


def looked_in(composition: Composition) -> str:
    """ "account 210987654321, eu-west-1" for a composition placed elsewhere; else ""."""
    return described(composition.account, composition.region)


def read_resource(
    item: ResourceItem, clients: ClientFactory, *, where: str = ""
) -> ResourceStatus | None:
    """One resource's status; an AWS error makes it missing or unknown, never raises.

    ``where``, when given, is added to what was not found: the account and region
    looked in, so a resource in the wrong account says so.
    """
    try:
        status = item.kind.read_status(item.params, clients)
    except ClientError as exc:
        label = item.kind.label(item.params)
        if not is_not_found(exc):
            return item.kind.unknown(label, exc)
        status = item.kind.missing(label, error_message(exc) or "not found")
    if status is not None and where and status.state is ResourceState.MISSING:
        return replace(status, detail=f"{status.detail} (looked in {where})")
    return status


def summarise(resources: tuple[ResourceStatus, ...]) -> CompositionState:
    states = {resource.state for resource in resources}
    if states == {ResourceState.RUNNING}:
        return CompositionState.RUNNING
    if states == {ResourceState.STOPPED}:
        return CompositionState.STOPPED
    return CompositionState.PARTIAL
