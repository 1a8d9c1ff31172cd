"""Generated requests through the Slack Lambda handler: never an exception, never a 5xx.

Unsigned or badly signed requests (garbage bodies, ``payload=`` with random JSON,
random headers and timestamps, odd event shapes) must get 401 before slack-bolt builds
a request from them: ``BoltRequest`` parses its body when created, so its
constructions are counted. Correctly signed requests (random ``/env`` text, random
button values on every button, App Home events) must be answered without a listener
failing; the compositions admit only a user the requests never come from, so whatever
the values, nothing is started and every audit entry is a refusal.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_bolt.request import BoltRequest

from bot.settings import BotSettings
from bot.slack.app import BUTTONS
from bot.slack_handler import VerifiedHandler, verified
from infra.emulator.server import Emulator
from infra.serve import LocalContext, local_slack_handler
from infra.slack.mock_api import MockSlackApi
from infra.slack.signing import (
    API_APP_ID,
    TEAM_ID,
    api_gateway_event,
    block_actions_body,
    signature,
    signed_headers,
    slash_command_body,
)
from tests.functional import moto_resources

SECRET = "fuzz-secret"
TABLE = "envctl"
ADMIN = "UADMIN"  # the only user allowed; no generated request comes from it
USERS = ("U1", "U2", "W3")
VERBS = ("help", "list", "status", "start", "stop", "extend", "skip", "pause", "resume")
VERBS += ("schedule", "windows", "history")
STATES = ("running", "stopped", "starting", "stopping", "failed", "unknown", "partial")


@dataclass
class Target:
    handler: VerifiedHandler
    mock: MockSlackApi
    names: tuple[str, str]
    parsed: list[int]


@pytest.fixture
def target(
    aws_env: Emulator, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Target]:
    database = moto_resources.rds_instance(aws_env, f"fz-{unique}")
    names = (f"fuzz-{unique}", f"fuzz2-{unique}")
    access = {"users": [ADMIN]}
    compositions = {
        names[0]: {"resources": [database.item], "access": access, "auto_stop_after": "2h"},
        names[1]: {
            "resources": [database.item],
            "access": access,
            "start_resources_at": "0 8 ? * MON-FRI *",
            "stop_resources_at": "0 19 ? * MON-FRI *",
        },
    }
    config_path = tmp_path / "compositions.yaml"
    config_path.write_text(yaml.safe_dump({"compositions": compositions}))
    parsed: list[int] = []
    original = BoltRequest.__init__

    def counting(self: BoltRequest, *args: Any, **kwargs: Any) -> None:
        parsed.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(BoltRequest, "__init__", counting)
    with MockSlackApi() as mock:
        bot = BotSettings.from_env(
            {
                **os.environ,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_BOT_TOKEN": "xoxb-mock",
                "SLACK_API_URL": mock.url,
                "ENVCTL_CONFIG": str(config_path),
            }
        )
        handler = verified(local_slack_handler(bot, inline=True), bot)
        yield Target(handler=handler, mock=mock, names=names, parsed=parsed)


# --- strategies --------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
hex_digits = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
header_names = st.sampled_from(
    [
        "X-Slack-Signature",
        "x-slack-signature",
        "X-Slack-Request-Timestamp",
        "Content-Type",
        "X-Slack-Retry-Num",
        "X-Slack-Bolt-Lazy-Only",
        "x-slack-bolt-lazy-function-name",
        "Cookie",
    ]
) | st.text(min_size=1, max_size=20)


@st.composite
def garbage_bodies(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return draw(st.text(max_size=300))
    if kind == 1:
        return "payload=" + draw(st.text(max_size=200))
    if kind == 2:
        return block_actions_body(action_id=draw(st.sampled_from(sorted(BUTTONS))))
    if kind == 3:
        return json.dumps(draw(json_values))
    depth = draw(st.integers(1, 20_000))
    return "payload=" + "%5B" * depth if draw(st.booleans()) else "[" * depth


@st.composite
def unsigned_events(draw: st.DrawFn) -> dict[str, Any]:
    """Events nobody signed with the secret: the handler must answer 401, unparsed."""
    body = draw(garbage_bodies())
    now = int(time.time())
    timestamp = draw(
        st.sampled_from([str(now), str(now - 301), str(now + 301), "abc", "", " 1", "-1"])
        | st.text(max_size=15)
        | st.integers(-(10**20), 10**20).map(str)
    )
    kind = draw(st.integers(0, 4))
    if kind == 0:  # a well-formed signature with the wrong secret
        sig = signature(body, "not-the-secret", timestamp=now)
        timestamp = str(now)
    elif kind == 1:  # the right secret but stale: out of the replay window
        stale = now - draw(st.integers(301, 10**6))
        sig, timestamp = signature(body, SECRET, timestamp=stale), str(stale)
    elif kind == 2:
        sig = "v0=" + draw(hex_digits)
    else:
        sig = draw(st.text(max_size=80))
    headers = {"X-Slack-Signature": sig, "X-Slack-Request-Timestamp": timestamp}
    headers |= draw(st.dictionaries(header_names, st.text(max_size=30), max_size=5))
    event = api_gateway_event(body, headers, base64_encoded=draw(st.booleans()))
    mangle = draw(st.integers(0, 6))
    if mangle == 1:
        event["headers"] = draw(st.none() | st.lists(st.text(max_size=5), max_size=3))
    elif mangle == 2:
        event["body"] = draw(st.none() | st.integers() | st.lists(st.integers(), max_size=3))
    elif mangle == 3:
        event["requestContext"] = draw(st.none() | st.text(max_size=5))
    elif mangle == 4:
        event.pop("isBase64Encoded")
        event["method"] = "NONE"  # Bolt's self-invocation marker does not replace a signature
    return event


@st.composite
def button_values(draw: st.DrawFn, names: tuple[str, ...]) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.text(max_size=60))
    if kind == 1:
        return json.dumps(draw(json_values))
    if kind == 2:
        return draw(st.sampled_from(names))
    value: dict[str, Any] = {
        "c": draw(st.sampled_from(names) | st.text(max_size=12)),
        "a": draw(st.sampled_from(["start", "stop"]) | st.text(max_size=6)),
        "s": draw(st.sampled_from(STATES) | st.text(max_size=8)),
    }
    if draw(st.booleans()):
        value["d"] = draw(
            st.integers(-(10**30), 10**30)
            | st.integers(0, 8 * 86400)
            | st.floats(allow_nan=False)
            | st.booleans()
            | st.text(max_size=5)
        )
    if draw(st.integers(0, 9)) == 0:
        value[draw(st.text(max_size=3))] = draw(json_values)
    return json.dumps(value)


@st.composite
def command_texts(draw: st.DrawFn, names: tuple[str, ...]) -> str:
    if draw(st.booleans()):
        return draw(st.text(max_size=120))
    words = [draw(st.sampled_from(VERBS) | st.text(max_size=8))]
    words += draw(
        st.lists(
            st.sampled_from([*names, "for", "until", "next-stop", "30m", "8d", "18:00"])
            | st.text(max_size=10),
            max_size=3,
        )
    )
    return " ".join(words)


def home_opened_body(user: str) -> str:
    return json.dumps(
        {
            "token": "x",
            "team_id": TEAM_ID,
            "api_app_id": API_APP_ID,
            "type": "event_callback",
            "event": {"type": "app_home_opened", "user": user, "tab": "home"},
            "event_id": "Ev0FUZZ",
            "event_time": int(time.time()),
        }
    )


@st.composite
def signed_events(draw: st.DrawFn, names: tuple[str, ...], response_url: str) -> dict[str, Any]:
    """Requests signed exactly as Slack signs them, with random text and button values."""
    user = draw(st.sampled_from(USERS))
    user_name = draw(st.text(max_size=12))
    kind = draw(st.integers(0, 4))
    content_type = "application/x-www-form-urlencoded"
    if kind <= 1:
        body = slash_command_body(
            text=draw(command_texts(names)),
            user_id=user,
            user_name=user_name,
            channel_id=draw(st.sampled_from(["C1", "D1", ""])),
            response_url=response_url,
        )
    elif kind <= 3:
        body = block_actions_body(
            action_id=draw(st.sampled_from(sorted(BUTTONS))),
            value=draw(button_values(names)),
            user_id=user,
            user_name=user_name,
            response_url=response_url,
            is_ephemeral=draw(st.booleans()),
        )
    else:
        body, content_type = home_opened_body(user), "application/json"
    headers = {**signed_headers(body, SECRET), "Content-Type": content_type}
    encoded = draw(st.booleans())
    return api_gateway_event(body, headers, base64_encoded=encoded)


# --- the properties ------------------------------------------------------------------


def _failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.ERROR and record.name.startswith(("slack_bolt", "bot"))
    ]


def test_generated_requests_never_fail_and_unsigned_ones_are_never_parsed(
    target: Target, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    response_url = target.mock.response_url("fuzz")
    caplog.set_level(logging.WARNING)
    seen = {"unsigned": 0, "signed": 0}
    answered = [0]  # signed requests that made the app call Slack (a reply, a DM, a view)

    @settings(
        max_examples=1000,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        case=st.tuples(st.just("unsigned"), unsigned_events())
        | st.tuples(st.just("signed"), signed_events(target.names, response_url))
    )
    def check(case: tuple[str, dict[str, Any]]) -> None:
        kind, event = case
        target.mock.clear()
        target.parsed.clear()
        caplog.clear()
        seen[kind] += 1

        response = target.handler.handle(event, LocalContext())

        assert response["statusCode"] < 500, response
        assert _failures(caplog) == []
        if kind == "unsigned":
            assert response["statusCode"] == 401
            assert response["body"] == ""
            assert target.parsed == []
            assert target.mock.calls() == []
        else:
            assert response["statusCode"] == 200, response
            assert target.parsed  # a signed request does reach Bolt
            answered[0] += bool(target.mock.calls())

    check()

    assert seen["unsigned"] + seen["signed"] >= 1000
    assert min(seen.values()) >= 200  # both kinds were really exercised
    # Every click and App Home event gets an answer (3 in 5 signed requests); commands
    # answered in the ack do not call Slack.
    assert answered[0] >= seen["signed"] // 3, (answered, seen)
    refused = 0
    for name in target.names:
        for action in ("start", "stop"):
            assert _executions(emulator, f"envctl-{name}-{action}") == []
        whats = [entry["what"] for entry in _audit(emulator, name)]
        assert all(what.startswith("refused ") for what in whats), whats
        refused += len(whats)
    assert refused > 0  # guarded commands and clicks on real compositions were refused


def _executions(em: Emulator, machine: str) -> list[str]:
    sfn = em.client("stepfunctions")
    for page in sfn.get_paginator("list_state_machines").paginate():
        for found in page["stateMachines"]:
            if found["name"] == machine:
                listed = sfn.list_executions(stateMachineArn=found["stateMachineArn"])
                return [e["executionArn"] for e in listed["executions"]]
    return []


def _audit(em: Emulator, composition: str) -> list[dict[str, str]]:
    items = em.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"audit#{composition}"}},
    )["Items"]
    return [{k: v.get("S", "") for k, v in item.items()} for item in items]


def test_base64_bodies_are_checked_as_decoded(target: Target) -> None:
    # Slack signs the text it sent; API Gateway may base64 it: the check decodes first.
    body = slash_command_body(text="help", response_url=target.mock.response_url("b64"))
    headers = signed_headers(body, SECRET)
    event = api_gateway_event(body, headers)
    event["body"] = base64.b64encode(body.encode()).decode()

    assert target.handler.handle(event, LocalContext())["statusCode"] == 401  # not flagged
    event["isBase64Encoded"] = True
    assert target.handler.handle(event, LocalContext())["statusCode"] == 200
