"""How other schedules name a managed resource (pure: no AWS calls).

EventBridge Scheduler targets name resources in three ways, and each resource kind
says how to recognise itself in them (``ResourceKind.schedule_identity``, built with
the helpers here):

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
from collections.abc import Iterator, Mapping
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


def by_id(
    params_id: str, *, service: str, keys: tuple[str, ...], arn_prefix: str, arn_service: str = ""
) -> TargetIdentity:
    """The identity of a resource whose id is what every API call takes.

    Args:
        params_id: The resource id (``db-1``, ``i-0123...``).
        service: The universal-target service that acts on it (``rds``).
        keys: Lower-cased input keys that name it (``dbinstanceidentifier``).
        arn_prefix: What precedes the id in the ARN's resource part (``db:``).
        arn_service: The ARN's service when it is not ``service`` (EFS).
    """
    arn_resource = f"{arn_prefix}{params_id}"
    accepted = frozenset({params_id, arn_resource})
    return TargetIdentity(
        sdk_services=frozenset({service}),
        arn_service=arn_service or service,
        arn_resource=arn_resource,
        names=frozenset({params_id}),
        input_rules=tuple({key: accepted} for key in keys),
    )
