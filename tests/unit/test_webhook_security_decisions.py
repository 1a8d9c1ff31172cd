"""Edge cases of webhook request checks that the mutation run showed untested.

The error texts are part of the API (they reach callers and operators), so these
tests compare them whole rather than by a fragment.
"""

from __future__ import annotations

import pytest

from bot.settings import WebhookSettings
from bot.webhooks.security import (
    MAX_IDEMPOTENCY_KEY,
    MalformedBodyError,
    check_idempotency_key,
    nesting_exceeds,
    parse_api_keys,
    parse_json_body,
)
from scheduler_core.exceptions import BadInputError, ConfigError


def test_closing_brackets_lower_the_depth_one_level_each() -> None:
    assert not nesting_exceeds("[[]][[]]", 2)
    assert nesting_exceeds("[][[[]]]", 2)


def test_only_brackets_and_braces_change_the_depth() -> None:
    assert not nesting_exceeds("XXX", 2)
    assert nesting_exceeds("[[X[", 2)


def test_parse_json_body_uses_the_depth_it_is_given() -> None:
    with pytest.raises(MalformedBodyError) as raised:
        parse_json_body("[[[1]]]", max_depth=2)

    assert str(raised.value) == "the body nests arrays or objects deeper than 2 levels"


def test_nesting_past_the_parsers_own_limit_is_still_a_malformed_body() -> None:
    depth = 100_000
    with pytest.raises(MalformedBodyError) as raised:
        parse_json_body("[" * depth + "]" * depth, max_depth=depth)

    assert str(raised.value) == "the body is not JSON that this API can read"


def test_float_out_of_range_message() -> None:
    with pytest.raises(MalformedBodyError) as raised:
        parse_json_body("[1e999]")

    assert str(raised.value) == "the body contains a number too large for a 64-bit float"


def test_malformed_api_keys_message() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_api_keys("just-a-key")

    assert str(raised.value) == (
        "ENVCTL_WEBHOOK_API_KEYS: expected name=key pairs separated by commas"
    )


def test_bad_idempotency_key_message() -> None:
    with pytest.raises(BadInputError) as raised:
        check_idempotency_key("")

    assert str(raised.value) == (
        f"Idempotency-Key: expected 1 to {MAX_IDEMPOTENCY_KEY} printable characters "
        "without control characters"
    )


def test_settings_default_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVCTL_WEBHOOK_API_KEYS", "ci=k1")
    monkeypatch.setenv("ENVCTL_WEBHOOK_IP_ALLOWLIST", "10.0.0.0/8")

    settings = WebhookSettings.from_env()

    assert settings.api_keys == {"ci": "k1"}
    assert [str(network) for network in settings.ip_allowlist] == ["10.0.0.0/8"]


def test_bad_allowlist_in_the_environment_names_the_setting() -> None:
    with pytest.raises(ConfigError) as raised:
        WebhookSettings.from_env({"ENVCTL_WEBHOOK_IP_ALLOWLIST": "office"})

    assert str(raised.value).startswith("ENVCTL_WEBHOOK_IP_ALLOWLIST: 'office' ")
