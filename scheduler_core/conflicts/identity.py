"""How other schedules name a managed resource (pure: no AWS calls).

EventBridge Scheduler targets name resources in three ways, and each kind of
resource says here how to recognise itself in them:

* universal targets (``arn:aws:scheduler:::aws-sdk:rds:stopDBInstance``) carry the
  API parameters as Input JSON; keys are compared case-insensitively because the
  Scheduler takes SDK casing (``DbInstanceIdentifier``) and people paste boto3's
  (``DBInstanceIdentifier``);
* templated targets carry the resource's ARN; region and account are not compared,
  because envctl manages resources where it runs and this spares an STS call;
* a Step Functions state machine gets free-form Input; it "mentions" the resource
  when a string value equals the resource id or its ARN, or when its keys name it as
  an API call would. Substrings do not count: ``api`` inside ``"restart api"`` would
  flag half the account. This is best effort by nature.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# API actions that only read never conflict.
READ_ONLY_PREFIXES = ("describe", "list", "get")

InputRule = Mapping[str, frozenset[str]]


@dataclass(frozen=True, kw_only=True)
class TargetIdentity:
    """The names under which schedules can reach one resource."""

    sdk_services: frozenset[str]
    arn_service: str
    arn_resource: str
    names: frozenset[str]
    input_rules: tuple[InputRule, ...]

    def called_by(self, service: str, action: str, payload: Any) -> bool:
        """True when the universal target ``service:action`` with ``payload`` acts on it."""
        if service not in self.sdk_services or action.lower().startswith(READ_ONLY_PREFIXES):
            return False
        return self._keys_name_it(payload)

    def is_arn(self, arn: str) -> bool:
        """True when ``arn`` is this resource's ARN (any region and account)."""
        parts = arn.split(":", 5)
        if len(parts) < 6 or parts[0] != "arn" or parts[2] != self.arn_service:
            return False
        resource = parts[5]
        return resource == self.arn_resource or resource.endswith(f":{self.arn_resource}")

    def mentioned_in(self, payload: Any) -> bool:
        """True when free-form input names the resource (see the module docstring)."""
        if any(self._is_name(value) for _, value in _leaves(payload)):
            return True
        return self._keys_name_it(payload)

    def _is_name(self, value: str) -> bool:
        return value in self.names or self.is_arn(value)

    def _keys_name_it(self, payload: Any) -> bool:
        values: dict[str, set[str]] = {}
        for key, value in _leaves(payload):
            values.setdefault(key, set()).add(_arn_resource(value))
        return any(
            all(values.get(key, set()) & accepted for key, accepted in rule.items())
            for rule in self.input_rules
        )


def parse_input(text: str | None) -> Any:
    """A target's Input: JSON when it parses, else the raw string (never raises)."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _leaves(payload: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(lower-cased nearest key, string value) for every string in a JSON value."""
    if isinstance(payload, Mapping):
        for child_key, child in payload.items():
            yield from _leaves(child, str(child_key).lower())
    elif isinstance(payload, list):
        for child in payload:
            yield from _leaves(child, key)
    elif isinstance(payload, str):
        yield key, payload


def _arn_resource(value: str) -> str:
    """The resource part of an ARN (``db:mydb``); other strings unchanged."""
    parts = value.split(":", 5)
    return parts[5] if len(parts) == 6 and parts[0] == "arn" else value


def _by_id(
    service: str, keys: tuple[str, ...], arn_prefix: str, *, arn_service: str | None = None
) -> Callable[[Any], TargetIdentity]:
    """Identity of a kind whose ``params.id`` is what every API takes."""

    def identify(params: Any) -> TargetIdentity:
        arn_resource = f"{arn_prefix}{params.id}"
        accepted = frozenset({params.id, arn_resource})
        return TargetIdentity(
            sdk_services=frozenset({service}),
            arn_service=arn_service or service,
            arn_resource=arn_resource,
            names=frozenset({params.id}),
            input_rules=tuple({key: accepted} for key in keys),
        )

    return identify


def _auto_scaling_group(params: Any) -> TargetIdentity:
    return TargetIdentity(
        sdk_services=frozenset({"autoscaling"}),
        arn_service="autoscaling",
        # The ARN has a generated id in the middle; its tail names the group.
        arn_resource=f"autoScalingGroupName/{params.name}",
        names=frozenset({params.name}),
        input_rules=({"autoscalinggroupname": frozenset({params.name})},),
    )


def _ecs_service(params: Any) -> TargetIdentity:
    cluster, name = params.cluster_name, params.name
    scalable = f"service/{cluster}/{name}"
    return TargetIdentity(
        # Application Auto Scaling calls (registerScalableTarget...) act on it too.
        sdk_services=frozenset({"ecs", "applicationautoscaling"}),
        arn_service="ecs",
        arn_resource=scalable,
        names=frozenset({f"{cluster}/{name}", scalable}),
        input_rules=(
            {"service": frozenset({scalable})},
            # A bare service name is common ("api") so it counts only with its cluster.
            {"service": frozenset({name}), "cluster": frozenset({cluster, f"cluster/{cluster}"})},
            {"resourceid": frozenset({scalable})},
        ),
    )


IDENTITIES: dict[str, Callable[[Any], TargetIdentity]] = {
    "auto_scaling_group": _auto_scaling_group,
    "ec2_instance": _by_id("ec2", ("instanceids", "instanceid"), "instance/"),
    "ecs_service": _ecs_service,
    "efs_file_system": _by_id(
        "efs", ("filesystemid",), "file-system/", arn_service="elasticfilesystem"
    ),
    "fsx_windows_file_system": _by_id("fsx", ("filesystemid", "filesystemids"), "file-system/"),
    "rds_cluster": _by_id("rds", ("dbclusteridentifier",), "cluster:"),
    "rds_instance": _by_id("rds", ("dbinstanceidentifier",), "db:"),
    "redshift_cluster": _by_id("redshift", ("clusteridentifier",), "cluster:"),
}

# Universal-target services and ARN services that can act on a managed resource; the
# listing fetches details only for schedules aimed at these (or at a state machine).
SDK_SERVICES = frozenset(
    {"autoscaling", "applicationautoscaling", "ec2", "ecs", "efs", "fsx", "rds", "redshift"}
)
ARN_SERVICES = frozenset(
    {"autoscaling", "ec2", "ecs", "elasticfilesystem", "fsx", "rds", "redshift"}
)


def identity_of(type_name: str, params: Any) -> TargetIdentity | None:
    """The identity of a resource item; None for kinds schedules cannot target (wait)."""
    identify = IDENTITIES.get(type_name)
    return identify(params) if identify else None
