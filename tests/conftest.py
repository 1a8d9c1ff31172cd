"""Shared fixtures: no real AWS, ever."""

from __future__ import annotations

import pytest

AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "ENVCTL_CONFIG",
    "ENVCTL_TABLE",
    "ENVCTL_STATE_MACHINE_ROLE_ARN",
    "ENVCTL_SCHEDULER_ROLE_ARN",
    "ENVCTL_DEPLOYMENT",
    "ENVCTL_WEBHOOK_API_KEYS",
    "ENVCTL_WEBHOOK_IP_ALLOWLIST",
    "SLACK_SIGNING_SECRET",
    "SLACK_BOT_TOKEN",
    "SLACK_API_URL",
)


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clear AWS and Slack settings and set fake credentials: nothing can reach AWS or Slack."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
