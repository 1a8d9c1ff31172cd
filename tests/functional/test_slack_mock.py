"""The Slack mock Web API server and Slack-style signed requests, checked against slack_sdk/Bolt."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest
from slack_bolt import App
from slack_bolt.adapter.aws_lambda.handler import SlackRequestHandler, to_bolt_request
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from infra.slack.mock_api import MockSlackApi
from infra.slack.signing import (
    api_gateway_event,
    block_actions_body,
    retry_headers,
    signed_headers,
    slash_command_body,
)

SECRET = "mock-signing-secret"


@pytest.fixture
def mock() -> Iterator[MockSlackApi]:
    with MockSlackApi() as running:
        yield running
    # Nothing the app sent was Block Kit that Slack would refuse (invalid_blocks).
    assert running.invalid == []


@pytest.fixture
def client(mock: MockSlackApi) -> WebClient:
    return WebClient(token="xoxb-mock", base_url=mock.url)


def test_auth_test_returns_bot_identity_and_records_bearer_token(
    mock: MockSlackApi, client: WebClient
) -> None:
    response = client.auth_test()
    assert response["team_id"] == "T0MOCK"
    assert (response["user_id"], response["bot_id"]) == ("U0BOT", "B0BOT")
    [call] = mock.calls("auth.test")
    assert call.headers["Authorization"] == "Bearer xoxb-mock"


def test_post_message_returns_increasing_unique_ts_and_echoes_message(
    mock: MockSlackApi, client: WebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*dev* started"}}]
    first = client.chat_postMessage(channel="C1", text="dev started", blocks=blocks)
    second = client.chat_postMessage(channel="C1", text="again")
    assert first["ts"] == "1700000000.000100"
    assert float(second["ts"]) > float(first["ts"])
    assert first["channel"] == "C1"
    assert first["message"]["text"] == "dev started"
    assert first["message"]["blocks"] == blocks
    assert mock.calls("chat.postMessage")[0].body["blocks"] == blocks


def test_chat_update_returns_channel_ts_and_text(mock: MockSlackApi, client: WebClient) -> None:
    response = client.chat_update(channel="C1", ts="1700000000.000100", text="dev stopped")
    assert (response["channel"], response["text"]) == ("C1", "dev stopped")
    assert response["ts"] == "1700000000.000100"
    assert mock.calls("chat.update")[0].body["text"] == "dev stopped"


def test_post_ephemeral_returns_message_ts(mock: MockSlackApi, client: WebClient) -> None:
    response = client.chat_postEphemeral(channel="C1", user="U1", text="Stop dev?")
    assert response["message_ts"] == "1700000000.000100"
    assert mock.calls("chat.postEphemeral")[0].body["user"] == "U1"


def test_views_publish_returns_view_with_id(mock: MockSlackApi, client: WebClient) -> None:
    view = {"type": "home", "blocks": [{"type": "divider"}]}
    response = client.views_publish(user_id="U1", view=view)
    assert response["view"]["id"].startswith("V")
    assert response["view"]["blocks"] == view["blocks"]
    assert mock.calls("views.publish")[0].body["user_id"] == "U1"


def test_usergroup_members_are_configurable(mock: MockSlackApi, client: WebClient) -> None:
    mock.usergroups = {"S1": ["U1", "U2"]}
    assert client.usergroups_users_list(usergroup="S1")["users"] == ["U1", "U2"]
    [call] = mock.calls("usergroups.users.list")
    assert call.body == {"usergroup": "S1"}


def test_unknown_usergroup_is_no_such_subteam(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.usergroups_users_list(usergroup="S404")
    assert raised.value.response["error"] == "no_such_subteam"


def test_users_info_returns_configured_name(mock: MockSlackApi, client: WebClient) -> None:
    mock.user_names = {"U1": "alice"}
    user = client.users_info(user="U1")["user"]
    assert (user["id"], user["name"]) == ("U1", "alice")


def test_conversations_info_returns_channel(mock: MockSlackApi, client: WebClient) -> None:
    mock.channel_names = {"C1": "ops"}
    channel = client.conversations_info(channel="C1")["channel"]
    assert (channel["id"], channel["name"]) == ("C1", "ops")


@pytest.mark.parametrize("token", ["xoxb-wrong", ""])
def test_wrong_or_missing_token_is_invalid_auth(mock: MockSlackApi, token: str) -> None:
    with pytest.raises(SlackApiError) as raised:
        WebClient(token=token or None, base_url=mock.url).chat_postMessage(channel="C1", text="x")
    assert raised.value.response["error"] == "invalid_auth"
    assert mock.calls("chat.postMessage")[0].response == {"ok": False, "error": "invalid_auth"}


def test_configured_bot_token_replaces_default() -> None:
    with MockSlackApi(bot_token="xoxb-other") as other:
        assert WebClient(token="xoxb-other", base_url=other.url).auth_test()["ok"]
        with pytest.raises(SlackApiError):
            WebClient(token="xoxb-mock", base_url=other.url).auth_test()


def test_unknown_method_is_unknown_method(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.api_call("envctl.nothing")
    assert raised.value.response["error"] == "unknown_method"


def _post_json(url: str, body: dict[str, object]) -> object:
    data, headers = json.dumps(body).encode(), {"Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=5) as answer:
        return json.loads(answer.read())


def test_response_url_post_is_recorded(mock: MockSlackApi) -> None:
    url = mock.response_url("cmd-1")
    assert url == f"{mock.base_url}/response_url/cmd-1"
    body = {"text": "Stopping dev", "replace_original": True, "response_type": "ephemeral"}
    assert _post_json(url, body) == {"ok": True}
    [call] = mock.calls("response_url")
    assert (call.path, call.body) == ("/response_url/cmd-1", body)


def test_messages_lists_what_the_bot_said_in_order(mock: MockSlackApi, client: WebClient) -> None:
    client.auth_test()
    client.chat_postMessage(channel="C1", text="one")
    _post_json(mock.response_url("r"), {"text": "two"})
    client.chat_update(channel="C1", ts="1.2", text="three")
    client.chat_postEphemeral(channel="C1", user="U1", text="four")
    assert [message["text"] for message in mock.messages()] == ["one", "two", "three", "four"]


def test_clear_forgets_calls_but_keeps_configuration(mock: MockSlackApi, client: WebClient) -> None:
    mock.usergroups = {"S1": ["U1"]}
    client.auth_test()
    mock.clear()
    assert mock.calls() == []
    assert client.usergroups_users_list(usergroup="S1")["users"] == ["U1"]


def test_wait_for_sees_a_call_from_another_thread(mock: MockSlackApi, client: WebClient) -> None:
    def later() -> None:
        time.sleep(0.2)
        client.chat_postMessage(channel="C1", text="done")

    poster = threading.Thread(target=later)
    poster.start()
    calls = mock.wait_for(lambda calls: any(c.method == "chat.postMessage" for c in calls), 5)
    poster.join()
    assert calls[-1].body["text"] == "done"


def test_wait_for_times_out_listing_what_arrived(mock: MockSlackApi, client: WebClient) -> None:
    client.auth_test()
    with pytest.raises(TimeoutError, match=r"auth\.test"):
        mock.wait_for(lambda calls: len(calls) > 1, timeout=0.2)


def test_slash_command_body_carries_slack_fields(mock: MockSlackApi) -> None:
    body = slash_command_body(text="start dev for 2h", response_url=mock.response_url("c"))
    fields = {name: values[0] for name, values in parse_qs(body).items()}
    assert fields["command"] == "/env"
    assert fields["text"] == "start dev for 2h"
    assert (fields["user_id"], fields["channel_id"], fields["team_id"]) == ("U1", "C1", "T0MOCK")
    assert fields["response_url"] == mock.response_url("c")
    assert fields["trigger_id"]
    assert "command=%2Fenv" in body


BODIES = {
    "slash_command": slash_command_body(text="stop dev"),
    "block_actions": block_actions_body(action_id="stop", value="dev"),
}


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_signature_is_accepted_by_slack_sdk_verifier(kind: str) -> None:
    headers = signed_headers(BODIES[kind], SECRET)
    assert headers["X-Slack-Signature"].startswith("v0=")
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert SignatureVerifier(SECRET).is_valid_request(BODIES[kind], headers)


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_signature_of_tampered_body_or_other_secret_is_rejected(kind: str) -> None:
    headers = signed_headers(BODIES[kind], SECRET)
    assert not SignatureVerifier(SECRET).is_valid_request(BODIES[kind] + "x", headers)
    assert not SignatureVerifier("another-secret").is_valid_request(BODIES[kind], headers)


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_signature_older_than_five_minutes_is_rejected(kind: str) -> None:
    verifier, now = SignatureVerifier(SECRET), int(time.time())
    recent = signed_headers(BODIES[kind], SECRET, timestamp=now - 290)
    stale = signed_headers(BODIES[kind], SECRET, timestamp=now - 310)
    assert verifier.is_valid_request(BODIES[kind], recent)
    assert not verifier.is_valid_request(BODIES[kind], stale)


def test_block_actions_payload_has_slack_shape() -> None:
    body = block_actions_body(
        action_id="stop", value="dev", user_id="U7", message_ts="1.5", response_url="http://r/1"
    )
    payload = json.loads(parse_qs(body)["payload"][0])
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U7"
    container = {"type": "message", "message_ts": "1.5", "channel_id": "C1", "is_ephemeral": False}
    assert payload["container"] == container
    assert (payload["team"]["id"], payload["channel"]["id"]) == ("T0MOCK", "C1")
    assert (payload["message"]["ts"], payload["response_url"]) == ("1.5", "http://r/1")
    [action] = payload["actions"]
    assert (action["action_id"], action["value"], action["type"]) == ("stop", "dev", "button")
    assert action["block_id"] and action["action_ts"]


def test_block_actions_on_ephemeral_message_has_no_message() -> None:
    body = block_actions_body(action_id="stop", is_ephemeral=True)
    payload = json.loads(parse_qs(body)["payload"][0])
    assert payload["container"]["is_ephemeral"] is True
    assert "message" not in payload


@pytest.mark.parametrize("base64_encoded", [False, True])
def test_api_gateway_event_round_trips_through_bolt(base64_encoded: bool) -> None:
    body = slash_command_body(text="status dev")
    headers = {**signed_headers(body, SECRET), **retry_headers(1)}
    event = api_gateway_event(body, headers, source_ip="10.0.0.9", base64_encoded=base64_encoded)
    assert event["isBase64Encoded"] is base64_encoded
    assert event["requestContext"]["identity"]["sourceIp"] == "10.0.0.9"
    assert event["multiValueHeaders"]["X-Slack-Signature"] == [headers["X-Slack-Signature"]]
    if base64_encoded:
        assert base64.b64decode(event["body"]).decode() == body
    request = to_bolt_request(event)
    assert request.raw_body == body
    assert request.headers["x-slack-signature"] == [headers["X-Slack-Signature"]]
    assert request.headers["x-slack-retry-num"] == ["1"]
    assert request.headers["x-slack-retry-reason"] == ["http_timeout"]
    assert request.body["command"] == "/env"
    assert SignatureVerifier(SECRET).is_valid_request(request.raw_body, headers)


FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:envctl-slack"
LAMBDA_CONTEXT = SimpleNamespace(function_name="envctl-slack", invoked_function_arn=FUNCTION_ARN)


@pytest.fixture
def bolt(mock: MockSlackApi) -> SlackRequestHandler:
    """A Bolt app whose Web API and response_url are the mock, as deployed on Lambda."""
    client = WebClient(token="xoxb-mock", base_url=mock.url)
    app = App(client=client, signing_secret=SECRET, process_before_response=True)

    @app.command("/env")
    def env_command(ack, respond, command) -> None:  # type: ignore[no-untyped-def]
        ack()
        respond(text=f"you said {command['text']}", response_type="ephemeral")

    mock.clear()  # App() called auth.test on the mock; only the reply matters in these tests
    return SlackRequestHandler(app)


def test_bolt_replies_to_signed_command(mock: MockSlackApi, bolt: SlackRequestHandler) -> None:
    body = slash_command_body(text="list", response_url=mock.response_url("c1"))
    event = api_gateway_event(body, signed_headers(body, SECRET))
    assert bolt.handle(event, LAMBDA_CONTEXT)["statusCode"] == 200
    [call] = mock.calls("response_url")
    assert (call.body["text"], call.body["response_type"]) == ("you said list", "ephemeral")


def test_bolt_refuses_forged_command(mock: MockSlackApi, bolt: SlackRequestHandler) -> None:
    body = slash_command_body(text="list", response_url=mock.response_url("c1"))
    event = api_gateway_event(body.replace("list", "stop"), signed_headers(body, SECRET))
    assert bolt.handle(event, LAMBDA_CONTEXT)["statusCode"] == 401
    assert mock.calls() == []


def test_blocks_slack_would_refuse_are_answered_invalid_blocks(mock: MockSlackApi) -> None:
    client = WebClient(token="xoxb-mock", base_url=mock.url)
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="t", blocks=too_long)

    assert raised.value.response["error"] == "invalid_blocks"
    assert mock.invalid == [
        ("chat.postMessage", ["blocks[0] (section): text attribute cannot exceed 3000 characters"])
    ]
    mock.invalid.clear()  # seen: the fixture's own check is for what the app sends


def test_an_unknown_block_type_and_a_bad_view_are_named(mock: MockSlackApi) -> None:
    client = WebClient(token="xoxb-mock", base_url=mock.url)
    view = {"type": "home", "blocks": [{"type": "sectoin", "text": "x"}]}

    with pytest.raises(SlackApiError):
        client.views_publish(user_id="U1", view=view)

    assert mock.invalid == [
        ("views.publish", ["blocks[0] (sectoin): not a block type Slack knows"])
    ]
    mock.invalid.clear()
