"""Slack secrets given as values or as SSM / Secrets Manager references."""

from __future__ import annotations

import pytest

from bot.secrets import resolve_secret, resolve_secrets
from infra.emulator.server import Emulator
from scheduler_core.exceptions import ConfigError


def test_plain_values_are_used_as_they_are() -> None:
    assert resolve_secret("xoxb-plain") == "xoxb-plain"


def test_ssm_reference_is_read_decrypted(aws_env: Emulator, unique: str) -> None:
    aws_env.client("ssm").put_parameter(
        Name=f"/envctl/{unique}", Value="s3cret", Type="SecureString"
    )

    assert resolve_secret(f"ssm:/envctl/{unique}") == "s3cret"


def test_secrets_manager_reference_is_read(aws_env: Emulator, unique: str) -> None:
    aws_env.client("secretsmanager").create_secret(
        Name=f"envctl-{unique}", SecretString="xoxb-from-sm"
    )

    assert resolve_secret(f"secretsmanager:envctl-{unique}") == "xoxb-from-sm"


def test_binary_secret_is_refused(aws_env: Emulator, unique: str) -> None:
    aws_env.client("secretsmanager").create_secret(Name=f"bin-{unique}", SecretBinary=b"\x00\x01")

    with pytest.raises(ConfigError, match="has no text value"):
        resolve_secret(f"secretsmanager:bin-{unique}")


def test_ssm_references_are_read_together_and_kept(aws_env: Emulator, unique: str) -> None:
    ssm = aws_env.client("ssm")
    for name in ("signing", "token"):
        ssm.put_parameter(Name=f"/envctl/{unique}/{name}", Value=f"v-{name}", Type="SecureString")
    refs = [f"ssm:/envctl/{unique}/signing", f"ssm:/envctl/{unique}/token", "plain"]

    assert resolve_secrets(refs) == dict(zip(refs, ["v-signing", "v-token", "plain"], strict=True))

    # Kept for the process: gone from SSM, still known (a warm function reads nothing).
    ssm.delete_parameter(Name=f"/envctl/{unique}/token")
    assert resolve_secret(refs[1]) == "v-token"


def test_a_missing_ssm_parameter_is_named(aws_env: Emulator, unique: str) -> None:
    with pytest.raises(ConfigError, match=f"SSM parameter /envctl/{unique}/gone not found"):
        resolve_secret(f"ssm:/envctl/{unique}/gone")
