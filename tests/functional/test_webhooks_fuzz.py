"""Fuzzing the webhook API: whatever arrives, the answer is in the contract.

Generated events go through ``WebhookApi.handle`` (what the Lambda handler runs,
without its last-resort catch, so a bug shows as an exception here) against the
emulator. Valid starts and stops of a one-second wait do real work there.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.settings import WebhookSettings
from bot.webhook_handler import build_api
from bot.webhooks.app import WebhookApi
from infra.emulator.server import Emulator
from infra.serve import LocalContext
from infra.slack.signing import api_gateway_event
from tests.functional.helpers import deploy_file

KEY = "fuzz-key-value-5c2e8a7d1f"
STATUSES = {200, 202, 400, 401, 403, 404, 405, 409, 413, 422, 502, 503}
ERROR_KEYS = {"error", "message"}


@dataclass
class Target:
    api: WebhookApi
    quick: str
    fenced: str
    seen: Counter[int]


@pytest.fixture
def target(aws_env: Emulator, unique: str, tmp_path: Path) -> Iterator[Target]:
    quick, fenced = f"fz-quick-{unique}", f"fz-fen-{unique}"
    wait = [{"type": "wait", "params": {"seconds": 1}}]
    compositions = {
        quick: {"resources": wait},
        fenced: {"webhooks": {"ip_allowlist": ["192.0.2.0/24"]}, "resources": wait},
    }
    config_path = tmp_path / "compositions.yaml"
    config_path.write_text(yaml.safe_dump({"compositions": compositions}))
    deploy_file(config_path)
    api = build_api(
        WebhookSettings.from_env(
            {"ENVCTL_CONFIG": str(config_path), "ENVCTL_WEBHOOK_API_KEYS": f"fuzz={KEY}"}
        )
    )
    found = Target(api=api, quick=quick, fenced=fenced, seen=Counter())
    yield found
    # The fuzzing must have reached the routes, not only the checks in front of them.
    assert found.seen[202] > 0 and found.seen[200] > 0 and found.seen[422] > 0, found.seen


# --- bodies --------------------------------------------------------------------------------

TEXT = st.text(max_size=60)
# Lone surrogates reach Python when an event's JSON escapes them; st.text() never does.
SURROGATES = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3)
DURATIONS = st.one_of(
    st.sampled_from(["2h", "30m", "1h30m", "7d", "8d", "0m", "-1h", "9999999999d", "1e3h", ""]),
    st.from_regex(r"\A[0-9]{1,12}[dhms]\Z"),
    TEXT,
)
REASONS = st.one_of(
    st.sampled_from(["CHG-42", "deploy\nforged line", "\x1b[2Kok", "a\u202eb", "r" * 501]),
    TEXT,
    SURROGATES,
)
JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**19, max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=12,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "duration": DURATIONS | JSON_VALUES,
        "reason": REASONS | JSON_VALUES,
        "extra": JSON_VALUES,
    },
)


@st.composite
def deep(draw: st.DrawFn) -> str:
    """Nested arrays/objects up to far past the interpreter's recursion limit."""
    depth = draw(st.integers(min_value=15, max_value=6000))
    opener = draw(st.sampled_from(["[", '{"a":', '[{"b":']))
    closer = {"[": "]", '{"a":': "}", '[{"b":': "}]"}[opener]
    inner = draw(st.sampled_from(["1", "[]", '"x"', ""]))
    closed = draw(st.booleans())
    return opener * depth + inner + (closer * depth if closed else "")


@st.composite
def huge_numbers(draw: st.DrawFn) -> str:
    number = draw(
        st.one_of(
            st.sampled_from(["1e999", "-1e999", "NaN", "Infinity", "-Infinity", "1e-999"]),
            st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n),
            st.integers(min_value=1, max_value=400).map(lambda n: "1" * n + ".5e300"),
        )
    )
    field = draw(st.sampled_from(["duration", "reason", "x"]))
    return f'{{"{field}": {number}}}'


BODIES = st.one_of(
    st.just(""),
    FIELDS.map(json.dumps),
    FIELDS.map(json.dumps),
    FIELDS.map(lambda fields: json.dumps(fields, ensure_ascii=False)),
    st.just("   "),
    JSON_VALUES.map(json.dumps),
    deep(),
    huge_numbers(),
    TEXT,
    st.binary(max_size=200).map(lambda raw: raw.decode("utf-8", errors="replace")),
    SURROGATES.map(lambda text: '{"reason": "' + text + '"}'),
    st.integers(min_value=5400, max_value=5600).map(
        lambda n: json.dumps({"reason": "€" * n}, ensure_ascii=False)  # about 16 KB in bytes
    ),
)

# --- headers, paths, the rest of the event ---------------------------------------------------

HEADER_NAMES = st.one_of(
    st.sampled_from(
        ["Content-Type", "Idempotency-Key", "x-api-key", "X-API-Key", "X-Forwarded-For", "Accept"]
    ),
    st.text(min_size=1, max_size=20),
)
HEADER_VALUES = st.one_of(
    TEXT,
    st.integers(),
    st.none(),
    st.lists(TEXT, max_size=2),
    st.integers(min_value=256, max_value=20_000).map(lambda n: "k" * n),
    SURROGATES,
)
IDEMPOTENCY_KEYS = st.one_of(
    st.from_regex(r"\A[a-z0-9-]{1,12}\Z"),
    st.sampled_from(["", " ", "line\nbreak", "k" * 256]),
    TEXT,
)
# one_of picks its branches about evenly: the methods of the routes get their own.
METHODS = st.one_of(
    st.just("POST"),
    st.just("GET"),
    st.sampled_from(["post", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    st.none() | st.integers() | TEXT,
)
SOURCES = st.one_of(
    st.just("127.0.0.1"),
    st.just("192.0.2.10"),  # inside the fenced composition's allowlist
    st.sampled_from(["198.51.100.7", "2001:db8::1", "", "not-an-ip"]),
    st.none(),
    st.integers(),
    TEXT,
)
NAMES = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="/?#"),
    min_size=1,
    max_size=20,
)


@st.composite
def paths(draw: st.DrawFn, target: Target) -> Any:
    name = draw(st.one_of(st.just(target.quick), st.just(target.fenced), NAMES))
    return draw(
        st.one_of(
            st.just(f"/webhooks/compositions/{name}/start"),
            st.just(f"/webhooks/compositions/{name}/stop"),
            st.just(f"/webhooks/compositions/{name}"),
            st.just("/webhooks/compositions"),
            st.sampled_from(
                [
                    "/webhooks/compositions/",
                    f"/webhooks/compositions/{name}/",
                    f"/webhooks/compositions/{name}/stop//",
                    "/webhooks/openapi.json",
                    f"/webhooks/{name}",
                ]
            ),
            TEXT | st.none() | st.integers(),
        )
    )


@st.composite
def events(draw: st.DrawFn, target: Target) -> Any:
    headers: Any = draw(st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=5))
    # Hypothesis favours the low end of a range: 0-2 (a valid key) come up most.
    if draw(st.integers(0, 3)) < 3:  # mostly a valid key, so the routes are reached
        headers = {k: v for k, v in headers.items() if k.lower() != "x-api-key"}
        headers["x-api-key"] = KEY
    if draw(st.booleans()):
        headers["Idempotency-Key"] = draw(IDEMPOTENCY_KEYS)
    path = draw(paths(target))
    method = draw(METHODS)
    event: dict[str, Any] = api_gateway_event("", {}, path="/", method="GET")
    event.update(
        headers=headers,
        multiValueHeaders={k: [v] for k, v in headers.items()},
        path=path,
        resource=path,
        httpMethod=method,
        body=draw(BODIES),
    )
    event["requestContext"]["identity"]["sourceIp"] = draw(SOURCES)
    if draw(st.integers(0, 4)) == 4:  # a binary body as API Gateway passes it
        raw = draw(
            st.binary(max_size=300) | BODIES.map(lambda text: text.encode("utf-8", "replace"))
        )
        event["body"] = base64.b64encode(raw).decode()
        event["isBase64Encoded"] = True
    if draw(st.integers(0, 9)) == 9:  # fields missing or of another type
        for field in draw(st.lists(st.sampled_from(sorted(event)), max_size=3)):
            event[field] = draw(st.sampled_from([None, 0, "", [], {}, "x"]))
    if draw(st.integers(0, 19)) == 19:
        event.pop(draw(st.sampled_from(sorted(event))))
    return event


def check_answer(result: Any) -> int:
    """Assert the answer is a contract answer; return its status code."""
    assert isinstance(result, dict), result
    status, raw = result.get("statusCode"), result.get("body")
    assert isinstance(status, int) and isinstance(raw, str), result
    assert status in STATUSES, raw
    assert "Traceback" not in raw and 'File "' not in raw, raw
    if status >= 400:
        body = json.loads(raw)
        assert isinstance(body, dict), raw
        allowed = ERROR_KEYS | ({"executionArn"} if status == 409 else set())
        assert ERROR_KEYS <= set(body) <= allowed, raw
        assert isinstance(body["error"], str) and body["error"], raw
        assert isinstance(body["message"], str) and body["message"].strip(), raw
    return status


@given(data=st.data())
@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
def test_a_thousand_generated_requests_never_raise_and_never_get_another_5xx(
    target: Target, data: st.DataObject
) -> None:
    event = data.draw(events(target))

    result = target.api.handle(event, LocalContext())

    target.seen[check_answer(result)] += 1
