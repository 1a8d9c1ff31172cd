"""Requests built exactly as Slack sends them: bodies, signatures, API Gateway events.

Signatures are computed here with ``hmac``/``hashlib`` from Slack's published recipe
(``v0=`` + HMAC-SHA256 of ``v0:{timestamp}:{body}``) so that tests can check them with
an independent implementation, ``slack_sdk.signature.SignatureVerifier``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

TEAM_ID = "T0MOCK"
TEAM_DOMAIN = "mock"
API_APP_ID = "A0MOCK"
# Slack still sends the deprecated verification token in every body.
VERIFICATION_TOKEN = "mock-verification-token"
DEFAULT_RESPONSE_URL = "https://hooks.slack.com/commands/T0MOCK/1/mock"
SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def _trigger_id() -> str:
    return f"1.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"


def slash_command_body(
    *,
    command: str = "/env",
    text: str = "",
    user_id: str = "U1",
    user_name: str = "alice",
    channel_id: str = "C1",
    channel_name: str = "ops",
    team_id: str = TEAM_ID,
    response_url: str = DEFAULT_RESPONSE_URL,
    trigger_id: str | None = None,
) -> str:
    """The form-urlencoded body Slack POSTs for a slash command, fields in Slack's order.

    Args:
        command: The command as typed, with its slash.
        text: Everything after the command.
        user_id: Who ran it.
        user_name: Their (legacy) user name.
        channel_id: Where it was run.
        channel_name: That channel's name.
        team_id: The workspace.
        response_url: Where ``respond()`` posts; use ``MockSlackApi.response_url(...)``.
        trigger_id: Opens modals; a fresh realistic one when omitted.

    Returns:
        The body string, e.g. ``token=...&command=%2Fenv&text=start+dev&...``.
    """
    return urlencode(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": API_APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or _trigger_id(),
        }
    )


def block_actions_payload(
    *,
    action_id: str,
    value: str = "",
    user_id: str = "U1",
    user_name: str = "alice",
    channel_id: str = "C1",
    channel_name: str = "ops",
    message_ts: str = "1700000000.000100",
    response_url: str = DEFAULT_RESPONSE_URL,
    block_id: str = "actions",
    is_ephemeral: bool = False,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """The ``block_actions`` payload Slack sends when a button is clicked.

    Args:
        action_id: The clicked button's ``action_id``.
        value: The button's ``value``.
        user_id: Who clicked.
        user_name: Their user name.
        channel_id: The channel of the message holding the button.
        channel_name: That channel's name.
        message_ts: The ``ts`` of that message.
        response_url: Where ``respond()`` posts.
        block_id: The ``block_id`` of the actions block.
        is_ephemeral: The button sat on an ephemeral message; Slack then sends no
            ``message`` (it never stored one), only the container.
        team_id: The workspace.

    Returns:
        The payload as a dict (see ``block_actions_body`` for the wire form).
    """
    action_ts = f"{time.time():.6f}"
    button = {"action_id": action_id, "block_id": block_id, "value": value, "type": "button"}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": _trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "response_url": response_url,
        "actions": [
            {**button, "text": {"type": "plain_text", "text": value}, "action_ts": action_ts}
        ],
    }
    if not is_ephemeral:
        payload["message"] = {
            "type": "message",
            "user": "U0BOT",
            "bot_id": "B0BOT",
            "ts": message_ts,
            "text": "",
            "blocks": [{"type": "actions", "block_id": block_id, "elements": [button]}],
        }
    return payload


def block_actions_body(**fields: Any) -> str:
    """``payload=<url-encoded JSON>``, the form body Slack POSTs for interactions.

    Args:
        **fields: Keyword arguments of ``block_actions_payload``.
    """
    return urlencode({"payload": json.dumps(block_actions_payload(**fields))})


def signature(body: str, signing_secret: str, *, timestamp: int) -> str:
    """``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` keyed by the signing secret."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: str, signing_secret: str, *, timestamp: int | None = None
) -> dict[str, str]:
    """The headers Slack sends with a signed form body.

    Args:
        body: The exact body string that will be sent.
        signing_secret: The app's signing secret.
        timestamp: Unix seconds; now when omitted (older than 5 minutes is rejected).

    Returns:
        ``X-Slack-Request-Timestamp``, ``X-Slack-Signature`` and ``Content-Type``.
    """
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(body, signing_secret, timestamp=ts),
        "Content-Type": FORM_CONTENT_TYPE,
    }


def retry_headers(retry_num: int = 1, reason: str = "http_timeout") -> dict[str, str]:
    """Headers Slack adds when it re-sends a request it got no timely answer to."""
    return {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": reason}


def api_gateway_event(
    body: str,
    headers: dict[str, str],
    *,
    path: str = "/slack/events",
    method: str = "POST",
    source_ip: str = "127.0.0.1",
    base64_encoded: bool = False,
) -> dict[str, Any]:
    """A REST API (payload v1) proxy event, as Lambda receives a request from Slack.

    Args:
        body: The request body.
        headers: Request headers, e.g. from ``signed_headers``; they override the
            defaults Slack and API Gateway add (Host, User-Agent, X-Forwarded-*).
        path: The resource path.
        method: The HTTP method.
        source_ip: ``requestContext.identity.sourceIp``.
        base64_encoded: Send the body base64-encoded, as API Gateway does for binary
            media types, with ``isBase64Encoded`` true.

    Returns:
        The event dict; a fresh one each call, because Bolt's adapter mutates headers.
    """
    all_headers = {
        "Accept": "application/json,*/*",
        "Accept-Encoding": "gzip,deflate",
        "Host": "abc123.execute-api.us-east-1.amazonaws.com",
        "User-Agent": SLACK_USER_AGENT,
        "X-Forwarded-For": source_ip,
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **headers,
    }
    now = time.time()
    encoded_body = base64.b64encode(body.encode()).decode() if base64_encoded else body
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/prod{path}",
            "accountId": "123456789012",
            "apiId": "abc123",
            "stage": "prod",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": SLACK_USER_AGENT},
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
        },
        "body": encoded_body,
        "isBase64Encoded": base64_encoded,
    }


def http_api_event(
    body: str,
    headers: dict[str, str],
    *,
    path: str = "/slack/events",
    method: str = "POST",
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event, as the template's API hands Slack's request over.

    Header names arrive in lower case; there is no stage in the path. A fresh dict each
    call (the lazy runner adds headers to the event it re-invokes with).
    """
    all_headers = {
        "accept": "application/json,*/*",
        "accept-encoding": "gzip,deflate",
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": SLACK_USER_AGENT,
        "x-forwarded-for": source_ip,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        **{name.lower(): value for name, value in headers.items()},
    }
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": SLACK_USER_AGENT,
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": body,
        "isBase64Encoded": False,
    }
