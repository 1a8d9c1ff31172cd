"""Secrets given as values or as references: ``ssm:/name`` or ``secretsmanager:id``.

Resolved once per process (the Lambda cold start) and cached, so a warm function
never fetches a secret on the path that has to answer Slack within 3 seconds.
``resolve_secrets`` reads every ``ssm:`` reference it is given in one
``GetParameters`` call (the Slack app's signing secret and bot token: one round trip
on a cold start, not two), sent by ``bot.aws_light``: no boto3 and no client on the
ack path.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot import aws_light
from scheduler_core.exceptions import ConfigError

SSM_PREFIX = "ssm:"
SECRETS_MANAGER_PREFIX = "secretsmanager:"
# GetParameters takes at most 10 names per call.
_SSM_BATCH = 10

_resolved: dict[str, str] = {}


def resolve_secret(reference: str) -> str:
    """The secret a setting names: the value itself, or the parameter/secret it points to."""
    return resolve_secrets([reference])[reference]


def resolve_secrets(references: Iterable[str]) -> dict[str, str]:
    """Each reference's secret; the ``ssm:`` ones not yet known in batched calls."""
    wanted = list(dict.fromkeys(references))
    names = [
        ref.removeprefix(SSM_PREFIX)
        for ref in wanted
        if ref.startswith(SSM_PREFIX) and ref not in _resolved
    ]
    for start in range(0, len(names), _SSM_BATCH):
        _read_parameters(names[start : start + _SSM_BATCH])
    for ref in wanted:
        if ref in _resolved:
            continue
        if ref.startswith(SECRETS_MANAGER_PREFIX):
            _resolved[ref] = _read_secret(ref.removeprefix(SECRETS_MANAGER_PREFIX))
        elif not ref.startswith(SSM_PREFIX):
            _resolved[ref] = ref
    return {ref: _resolved[ref] for ref in wanted}


def _read_parameters(names: list[str]) -> None:
    found = aws_light.get_parameters(names)
    for parameter in found.get("Parameters", []):
        value = str(parameter["Value"])
        # Named as asked: by name, by ARN, or with a version or label selector.
        for spelling in (parameter["Name"], parameter.get("ARN")):
            if spelling:
                _resolved[SSM_PREFIX + spelling] = value
                _resolved[SSM_PREFIX + spelling + parameter.get("Selector", "")] = value
    missing = [name for name in names if SSM_PREFIX + name not in _resolved]
    if missing:
        raise ConfigError(f"SSM parameter {', '.join(missing)} not found (ssm: reference)")


def _read_secret(secret_id: str) -> str:
    found = aws_light.client("secretsmanager").get_secret_value(SecretId=secret_id)
    if "SecretString" not in found:
        raise ConfigError(f"secret {secret_id} has no text value (SecretString)")
    return str(found["SecretString"])
