"""API keys (named, rotated, constant time) and source-IP allowlists of the webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

import pytest

from bot.settings import WebhookSettings
from bot.webhooks import security
from bot.webhooks.security import (
    MAX_IDEMPOTENCY_KEY,
    MAX_INT_DIGITS,
    MAX_JSON_DEPTH,
    MalformedBodyError,
    allowed,
    check_idempotency_key,
    execution_name,
    key_name,
    nesting_exceeds,
    parse_api_keys,
    parse_json_body,
    parse_networks,
)
from scheduler_core.exceptions import BadInputError, ConfigError

KEYS = {"new": "key-new-0123456789", "old": "key-old-9876543210"}


def networks(*values: str) -> tuple[Any, ...]:
    return parse_networks(values, setting="test")


# --- parse_api_keys ----------------------------------------------------------------------


def test_parse_api_keys_reads_named_pairs() -> None:
    assert parse_api_keys("new=k2,old=k1") == {"new": "k2", "old": "k1"}


def test_parse_api_keys_strips_spaces_and_ignores_empty_entries() -> None:
    assert parse_api_keys(" new = k2 , ,old=k1, ") == {"new": "k2", "old": "k1"}


def test_parse_api_keys_keeps_equals_signs_inside_a_key() -> None:
    assert parse_api_keys("ci=YWJjZA==") == {"ci": "YWJjZA=="}


def test_parse_api_keys_of_empty_text_is_no_keys() -> None:
    assert parse_api_keys("") == {}


@pytest.mark.parametrize(
    "text",
    ["just-a-key", "=k1", "ci=", "ci=  ", "new=k2,old", " = "],
    ids=["no-separator", "no-name", "no-key", "blank-key", "second-entry-bare", "blank-both"],
)
def test_parse_api_keys_rejects_malformed_entries_with_a_clear_message(text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_api_keys(text)

    message = str(raised.value)
    assert "ENVCTL_WEBHOOK_API_KEYS" in message
    assert "name=key" in message


def test_parse_api_keys_error_never_echoes_a_key_value() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_api_keys("ci=super-secret-value,broken")

    assert "super-secret-value" not in str(raised.value)


def test_settings_without_keys_refuse_every_key() -> None:
    settings = WebhookSettings.from_env({})

    assert settings.api_keys == {}
    assert key_name("anything", settings.api_keys) is None


def test_settings_read_keys_and_allowlist_from_the_environment() -> None:
    settings = WebhookSettings.from_env(
        {
            "ENVCTL_WEBHOOK_API_KEYS": "new=k2,old=k1",
            "ENVCTL_WEBHOOK_IP_ALLOWLIST": "10.0.0.0/8, 2001:db8::/32",
        }
    )

    assert settings.api_keys == {"new": "k2", "old": "k1"}
    assert [str(network) for network in settings.ip_allowlist] == ["10.0.0.0/8", "2001:db8::/32"]


def test_one_read_of_the_environment_gives_the_core_settings_too() -> None:
    settings = WebhookSettings.from_env(
        {"ENVCTL_CONFIG": "/var/task/envctl.yaml", "ENVCTL_TABLE": "envctl-qa"}
    )

    assert settings.core.config_path == "/var/task/envctl.yaml"
    assert settings.core.table_name == "envctl-qa"


# --- key_name ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(KEYS))
def test_key_name_returns_the_name_of_the_presented_key(name: str) -> None:
    assert key_name(KEYS[name], KEYS) == name


@pytest.mark.parametrize(
    "presented",
    [None, "", "key-new-012345678", "key-new-01234567890", "KEY-NEW-0123456789", "ķ-non-ascii"],
    ids=["none", "empty", "prefix", "longer", "other-case", "non-ascii"],
)
def test_key_name_refuses_anything_but_an_exact_key(presented: str | None) -> None:
    assert key_name(presented, KEYS) is None


def test_key_name_refuses_a_key_with_lone_surrogates_without_raising() -> None:
    assert key_name("key-new-\ud800", KEYS) is None


@pytest.mark.parametrize("presented", [123, ["key-new-0123456789"], b"key-new-0123456789"])
def test_key_name_refuses_a_value_that_is_not_text(presented: Any) -> None:
    assert key_name(presented, KEYS) is None


def test_key_name_with_no_configured_keys_refuses_every_key() -> None:
    assert key_name("key-new-0123456789", {}) is None


def test_key_name_compares_against_every_key_even_when_the_first_matches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared: list[bytes] = []
    original = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append(b)
        return original(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    keys = {"first": "k-one", "second": "k-two", "third": "k-three"}

    assert key_name("k-one", keys) == "first"
    assert compared == [b"k-one", b"k-two", b"k-three"]


def test_key_name_compares_in_constant_time_with_hmac_compare_digest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[Any, Any]] = []
    monkeypatch.setattr(security.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or False)

    assert key_name("wrong", KEYS) is None
    assert len(calls) == len(KEYS)


# --- allowed ------------------------------------------------------------------------------------


def test_empty_allowlist_allows_any_source() -> None:
    assert allowed("203.0.113.9", ())
    assert allowed("2001:db8::1", [])


def test_ipv4_source_inside_an_ipv4_network_is_allowed() -> None:
    assert allowed("10.1.2.3", networks("10.0.0.0/8"))


def test_ipv4_source_outside_an_ipv4_network_is_refused() -> None:
    assert not allowed("11.0.0.1", networks("10.0.0.0/8"))


def test_single_address_allowlist_allows_only_that_address() -> None:
    allowlist = networks("192.0.2.7")

    assert allowed("192.0.2.7", allowlist)
    assert not allowed("192.0.2.8", allowlist)


def test_ipv6_source_inside_an_ipv6_network_is_allowed() -> None:
    assert allowed("2001:db8::5", networks("2001:db8::/32"))


def test_ipv6_source_outside_an_ipv6_network_is_refused() -> None:
    assert not allowed("2001:db9::1", networks("2001:db8::/32"))


def test_mixed_allowlist_allows_a_source_of_either_family() -> None:
    allowlist = networks("10.0.0.0/8", "2001:db8::/32")

    assert allowed("10.9.9.9", allowlist)
    assert allowed("2001:db8:ffff::1", allowlist)
    assert not allowed("172.16.0.1", allowlist)
    assert not allowed("2001:db9::1", allowlist)


def test_ipv4_source_is_refused_by_an_ipv6_only_allowlist() -> None:
    assert not allowed("10.0.0.1", networks("2001:db8::/32"))


def test_ipv6_source_is_refused_by_an_ipv4_only_allowlist() -> None:
    assert not allowed("::1", networks("0.0.0.0/0"))


@pytest.mark.parametrize(
    "source",
    ["", "not-an-ip", "999.1.1.1", "10.0.0.0/8", "10.0.0.1, 10.0.0.2", " 10.0.0.1", "10.0.0"],
)
def test_garbage_source_is_refused_by_a_non_empty_allowlist(source: str) -> None:
    assert not allowed(source, networks("0.0.0.0/0", "::/0"))


@pytest.mark.parametrize("source", [None, 10, ["10.0.0.1"]])
def test_source_that_is_not_text_is_refused_by_a_non_empty_allowlist(source: Any) -> None:
    assert not allowed(source, networks("0.0.0.0/0"))


def test_parse_networks_accepts_host_bits_and_spaces() -> None:
    assert [str(n) for n in networks(" 10.1.2.3/8 ", "2001:db8::1/32")] == [
        "10.0.0.0/8",
        "2001:db8::/32",
    ]


def test_parse_networks_rejects_garbage_naming_the_setting_and_the_value() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_networks(["10.0.0.0/8", "office"], setting="ENVCTL_WEBHOOK_IP_ALLOWLIST")

    assert "ENVCTL_WEBHOOK_IP_ALLOWLIST" in str(raised.value)
    assert "'office'" in str(raised.value)


# --- nesting_exceeds and parse_json_body -------------------------------------------------------


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_at_the_limit_is_accepted_and_one_deeper_is_refused() -> None:
    assert not nesting_exceeds(nested(MAX_JSON_DEPTH))
    assert nesting_exceeds(nested(MAX_JSON_DEPTH + 1))


def test_nesting_counts_objects_and_arrays_alike() -> None:
    text = '{"a": [{"b": [1]}]}'

    assert not nesting_exceeds(text, 4)
    assert nesting_exceeds(text, 3)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert not nesting_exceeds(json.dumps({"reason": "[" * 5000}), 1)


def test_an_escaped_quote_does_not_end_a_string() -> None:
    # The string holds \" then [[[: all inside the string, so depth stays 1.
    text = '{"reason": "a\\"[[["}'

    assert json.loads(text) == {"reason": 'a"[[['}
    assert not nesting_exceeds(text, 1)


def test_an_escaped_backslash_before_a_quote_ends_the_string() -> None:
    text = '["a\\\\", [[1]]]'  # the string is a\\, then two more levels

    assert json.loads(text) == ["a\\", [[1]]]
    assert nesting_exceeds(text, 2)
    assert not nesting_exceeds(text, 3)


def test_parse_json_body_refuses_5000_nested_arrays_without_recursing() -> None:
    with pytest.raises(MalformedBodyError, match=f"deeper than {MAX_JSON_DEPTH} levels"):
        parse_json_body("[" * 5000)


def test_parse_json_body_returns_the_value_of_a_plain_object() -> None:
    assert parse_json_body('{"duration": "2h", "n": [1, 2.5, -3]}') == {
        "duration": "2h",
        "n": [1, 2.5, -3],
    }


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_parse_json_body_refuses_nan_and_infinity(constant: str) -> None:
    with pytest.raises(MalformedBodyError, match=f"contains {constant}, which is not a JSON"):
        parse_json_body(f'{{"duration": {constant}}}')


@pytest.mark.parametrize("number", ["1e999", "-1e999", "9" * 400 + ".0"])
def test_parse_json_body_refuses_floats_out_of_range(number: str) -> None:
    with pytest.raises(MalformedBodyError, match="too large for a 64-bit float"):
        parse_json_body(f'{{"x": {number}}}')


def test_parse_json_body_accepts_an_integer_of_the_maximum_digits() -> None:
    assert parse_json_body("[" + "9" * MAX_INT_DIGITS + "]") == [int("9" * MAX_INT_DIGITS)]


@pytest.mark.parametrize("digits", [MAX_INT_DIGITS + 1, 5000])
def test_parse_json_body_refuses_longer_integers_with_its_own_message(digits: int) -> None:
    """5000 digits is past Python's own int limit, which would raise a bare ValueError."""
    with pytest.raises(MalformedBodyError, match=f"more than {MAX_INT_DIGITS} digits"):
        parse_json_body('{"x": -' + "1" * digits + "}")


def test_parse_json_body_says_where_malformed_json_went_wrong() -> None:
    with pytest.raises(MalformedBodyError) as raised:
        parse_json_body('{"duration":\n h2}')

    assert str(raised.value).startswith("the body is not valid JSON (")
    assert "line 2 column 2" in str(raised.value)


# --- Idempotency-Key ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["a", "deploy 42 / CHG-42", "ключ-7", "k" * MAX_IDEMPOTENCY_KEY])
def test_plain_idempotency_keys_are_accepted_unchanged(value: str) -> None:
    assert check_idempotency_key(value) == value


@pytest.mark.parametrize(
    "value",
    ["", "   ", "k" * (MAX_IDEMPOTENCY_KEY + 1), "a\nb", "a\x1b[31mb", "a\u202eb", "a\ud800", 42],
    ids=["empty", "blank", "too-long", "newline", "escape", "bidi", "surrogate", "not-text"],
)
def test_other_idempotency_keys_are_refused_naming_the_header(value: Any) -> None:
    with pytest.raises(BadInputError) as raised:
        check_idempotency_key(value)

    assert str(raised.value).startswith("Idempotency-Key: expected 1 to 255 printable characters")


def test_execution_name_is_a_valid_step_functions_name() -> None:
    for key in ["a", "k" * MAX_IDEMPOTENCY_KEY, "ключ", "a\ud800"]:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,80}", execution_name("ci", key)), key


def test_execution_name_is_the_sha256_of_caller_and_key() -> None:
    digest = hashlib.sha256(b"ci:deploy-42").hexdigest()

    assert execution_name("ci", "deploy-42") == "webhook-" + digest[:40]
    assert execution_name("ci", "deploy-42") == execution_name("ci", "deploy-42")


def test_the_same_key_of_two_callers_names_two_executions() -> None:
    assert execution_name("ci", "deploy-42") != execution_name("jira", "deploy-42")
    assert execution_name("ci", "deploy-42") != execution_name("ci", "deploy-43")
