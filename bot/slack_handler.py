"""Lambda entry point of the Slack app (API Gateway → signature check → slack-bolt).

The app is built on the first request of a process and kept: a warm function
answers from memory (secrets included).

Signature first, parsing after
    Bolt's Lambda adapters (slack-bolt's ``SlackRequestHandler``, and
    ``bot.lambda_adapter.LambdaHandler`` which replaces it here without boto3) turn the
    event into a ``BoltRequest``, and that parses the body (form fields, the
    ``payload=`` JSON) before Bolt's signature middleware runs: unauthenticated garbage
    could raise inside the parser and become a 500. ``VerifiedHandler`` therefore checks
    the raw body (base64-decoded when ``isBase64Encoded``) against ``X-Slack-Signature``
    with slack_sdk's ``SignatureVerifier`` first: ``v0=`` HMAC-SHA256 of
    ``v0:{timestamp}:{body}``, with ``X-Slack-Request-Timestamp`` made of digits only
    and within five minutes. Anything it cannot verify gets 401 with an empty body, and
    Bolt never sees it. Only the standard library and slack_sdk (which Bolt imports
    anyway) run before that answer.

    Bolt's own ``RequestVerification`` stays on: it checks the same signature again on
    the event handed over. That costs one HMAC and keeps Bolt safe if this module is
    ever bypassed (``infra.serve`` builds a bare ``SlackRequestHandler``).

    A verified event is handed over normalised: lower-case string headers, the body as
    decoded text (``isBase64Encoded`` false), well-typed query and cookies, so that Bolt
    reads exactly what was verified. Should Bolt still fail to read a signed body, the
    answer is 400, never a 500.

Lazy listeners on Lambda
    The lazy runner (``bot.lambda_adapter.LambdaLazyRunner``, as Bolt's
    ``LambdaLazyListenerRunner``) re-invokes this function asynchronously with the
    event Bolt was given (so the verified, normalised one) plus
    ``x-slack-bolt-lazy-only`` / ``x-slack-bolt-lazy-function-name`` headers and a
    top-level ``"method": "NONE"``. The event keeps its ``requestContext``, its body and
    Slack's signature headers, so it is verified here like any request. Lambda normally
    hands an async event over within seconds; one it delays (throttling, a retry after
    a crash) past the five minutes is refused, as Bolt's own check would refuse it:
    better a dropped reply than a replay window without end.

    The lazy headers are not covered by Slack's signature: anyone replaying a signed
    request could add them. So they are accepted only on an event that also carries the
    top-level ``"method": "NONE"``. API Gateway builds its events itself (a client sets
    headers, query and body, never a top-level key), so such an event can only come
    from ``lambda:InvokeFunction``, which only this function's role may call on it
    (template.yaml, ``InvokeSelfForLazyListeners``). A request from outside carrying
    the lazy headers gets 401.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Mapping
from typing import Any, Protocol

from slack_sdk.signature import SignatureVerifier

from bot import snapstart
from bot.lambda_adapter import LambdaHandler
from bot.secrets import resolve_secret, resolve_secrets
from bot.settings import BotSettings
from bot.slack.app import build_app

logger = logging.getLogger(__name__)
snapstart.register(snapstart.SLACK_LISTENER_MODULES)

TIMESTAMP_HEADER = "x-slack-request-timestamp"
SIGNATURE_HEADER = "x-slack-signature"
LAZY_HEADERS = ("x-slack-bolt-lazy-only", "x-slack-bolt-lazy-function-name")
# Bolt's LambdaLazyListenerRunner sets this top-level key on its self-invocations.
LAZY_MARKER = ("method", "NONE")
# Unix seconds as digits only: int() would also take " 12", "1_2" or non-ASCII digits.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# hmac.compare_digest refuses non-ASCII text (TypeError): check the shape first.
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def _answer(status: int, body: str = "") -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "text/plain"}, "body": body}


class Inner(Protocol):
    """What hands a verified event to Bolt: ``LambdaHandler``, or Bolt's own adapter."""

    def handle(self, event: Any, context: Any) -> Any: ...


class VerifiedHandler:
    """Checks Slack's signature on the raw event, then hands it to Bolt's handler."""

    def __init__(self, inner: Inner, *, signing_secret: str) -> None:
        self.inner = inner
        self._verifier = SignatureVerifier(signing_secret)

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        """The API Gateway response for ``event``: 401 unless Slack signed it."""
        verified = self.verified_event(event)
        if verified is None:
            return _answer(401)
        if _method(verified) != "POST":
            return _answer(404, "Not Found")
        try:
            answer: dict[str, Any] = self.inner.handle(verified, context)
            return answer
        except Exception:
            # Signed, so from Slack (or holding the secret), yet unreadable: a client error.
            logger.exception("slack-bolt could not read a signed request")
            return _answer(400, "envctl could not read this request")

    def verified_event(self, event: Any) -> dict[str, Any] | None:
        """The event normalised for Bolt, or None when its signature does not hold."""
        if not isinstance(event, dict):
            return None
        headers = _string_headers(event.get("headers"))
        if headers is None:
            return None
        lazy = any(name in headers for name in LAZY_HEADERS)
        if lazy and event.get(LAZY_MARKER[0]) != LAZY_MARKER[1]:
            return None
        body = _raw_body(event)
        timestamp = headers.get(TIMESTAMP_HEADER, "")
        signature = headers.get(SIGNATURE_HEADER, "")
        if body is None or not _TIMESTAMP.fullmatch(timestamp):
            return None
        if not _SIGNATURE.fullmatch(signature):
            return None
        if not self._verifier.is_valid(body, timestamp, signature):
            return None
        return {
            **event,
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "queryStringParameters": _string_map(event.get("queryStringParameters")),
            "cookies": _cookies(event.get("cookies")),
            "body": body,
            "isBase64Encoded": False,
        }


def _string_headers(raw: Any) -> dict[str, str] | None:
    """Header names in lower case (as Bolt reads them); None unless a mapping of text."""
    if not isinstance(raw, Mapping):
        return None
    headers: dict[str, str] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not isinstance(value, str):
            continue  # Bolt's own additions (e.g. cookie lists) on a lazy re-invocation
        lowered = name.lower()
        if lowered in headers and headers[lowered] != value:
            return None  # two spellings with different values: which one was signed?
        headers[lowered] = value
    return headers


def _raw_body(event: dict[str, Any]) -> str | None:
    """The body as signed: text, base64-decoded if so marked; None if it is neither."""
    body = event.get("body")
    if body is None:
        body = ""
    if not isinstance(body, str):
        return None
    try:
        if event.get("isBase64Encoded") is True:
            return base64.b64decode(body, validate=True).decode("utf-8")
        body.encode("utf-8")  # lone surrogates cannot have been signed
    except (binascii.Error, UnicodeError):
        return None
    return body


def _string_map(raw: Any) -> dict[str, str] | None:
    if not isinstance(raw, Mapping):
        return None
    return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)} or None


def _cookies(raw: Any) -> list[str]:
    return [cookie for cookie in raw if isinstance(cookie, str)] if isinstance(raw, list) else []


def _method(event: dict[str, Any]) -> str | None:
    """The HTTP method of an API Gateway event, payload 2.0 or 1.0 (as Bolt reads it)."""
    request_context = event.get("requestContext")
    if not isinstance(request_context, Mapping):
        return None
    http = request_context.get("http")
    if isinstance(http, Mapping) and http.get("method") is not None:
        return str(http.get("method"))
    method = request_context.get("httpMethod")
    return str(method) if method is not None else None


def verified(inner: Inner, settings: BotSettings) -> VerifiedHandler:
    """``inner`` behind the signature check, with the signing secret ``settings`` name."""
    return VerifiedHandler(inner, signing_secret=resolve_secret(settings.signing_secret))


_handler: VerifiedHandler | None = None


def request_handler() -> VerifiedHandler:
    global _handler
    if _handler is None:
        settings = BotSettings.from_env()
        # Both secrets in one round trip when both are ssm: references.
        resolve_secrets([settings.signing_secret, settings.bot_token])
        _handler = verified(LambdaHandler(build_app(settings)), settings)
    return _handler


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda handler for ``POST /slack/events`` and the app's own lazy invocations."""
    return request_handler().handle(event, context)
