"""Secrets given as values or as references: ``ssm:/name`` or ``secretsmanager:id``.

Resolved once per process (the Lambda cold start) and cached, so a warm function
never fetches a secret on the path that has to answer Slack within 3 seconds.
"""

from __future__ import annotations

from functools import cache

from scheduler_core.aws import Aws
from scheduler_core.exceptions import ConfigError

SSM_PREFIX = "ssm:"
SECRETS_MANAGER_PREFIX = "secretsmanager:"


@cache
def resolve_secret(reference: str) -> str:
    """The secret a setting names: the value itself, or the parameter/secret it points to."""
    if reference.startswith(SSM_PREFIX):
        name = reference.removeprefix(SSM_PREFIX)
        found = Aws().client("ssm").get_parameter(Name=name, WithDecryption=True)
        return str(found["Parameter"]["Value"])
    if reference.startswith(SECRETS_MANAGER_PREFIX):
        secret_id = reference.removeprefix(SECRETS_MANAGER_PREFIX)
        found = Aws().client("secretsmanager").get_secret_value(SecretId=secret_id)
        if "SecretString" not in found:
            raise ConfigError(f"secret {secret_id} has no text value (SecretString)")
        return str(found["SecretString"])
    return reference
