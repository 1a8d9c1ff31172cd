"""API Gateway events, read defensively: every field of the type it claims, or empty.

The checks before the resolver (``bot.webhooks.app``) read requests through these, so
no event, however odd, can raise; answers given before the resolver runs are proxy
responses in the contract's ``{"error", "message"}`` shape.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scheduler_core.text import printable

MAX_BODY_BYTES = 16 * 1024
# Base64 grows 3 bytes to 4 characters: anything longer cannot decode to <= 16 KB.
MAX_BASE64_CHARS = (MAX_BODY_BYTES + 2) // 3 * 4
# Caller text echoed in a message (a path, a name, a field) is cut to this length.
ECHO = 80


def proxy_error(status: int, code: str, message: str) -> dict[str, Any]:
    """The same error as an API Gateway proxy response (before the resolver runs)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"error": code, "message": message}),
        "isBase64Encoded": False,
    }


def echo(text: str) -> str:
    """Caller text fit to quote in a message: escaped and cut short."""
    shown = printable(text)
    return shown if len(shown) <= ECHO else shown[:ECHO] + "..."


def _strings(value: Any) -> dict[str, str]:
    """Only the str → str pairs of a mapping (API Gateway never sends anything else)."""
    if not isinstance(value, Mapping):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _string_lists(value: Any) -> dict[str, list[str]] | None:
    """Only the str → [str] pairs of a multi-value mapping; None when it is no mapping."""
    if not isinstance(value, Mapping):
        return None
    return {
        k: [item for item in v if isinstance(item, str)]
        for k, v in value.items()
        if isinstance(k, str) and isinstance(v, list)
    }


def _headers(event: Mapping[str, Any]) -> dict[str, str]:
    """Single-value headers, falling back to the last value of a multi-value header."""
    found = _strings(event.get("headers"))
    multi = event.get("multiValueHeaders")
    if isinstance(multi, Mapping):
        present = {k.lower() for k in found}
        for name, values in multi.items():
            if isinstance(name, str) and name.lower() not in present and isinstance(values, list):
                texts = [item for item in values if isinstance(item, str)]
                if texts:
                    found[name] = texts[-1]
    return found


@dataclass(frozen=True, kw_only=True)
class Request:
    """What the checks read from an event, every field of the type it claims."""

    path: str
    method: str
    headers: dict[str, str]  # keys lower-cased
    source: str


def clean_event(event: Mapping[str, Any], request: Request, *, body: str) -> dict[str, Any]:
    """The event as the resolver reads it: checked types, decoded JSON body.

    The body was checked to be JSON, so Content-Type says so: curl and many CI tools
    send JSON as application/x-www-form-urlencoded, which the resolver would parse as
    a form. Only blanks is no body at all.
    """
    headers = {k: v for k, v in _headers(event).items() if k.lower() != "content-type"}
    headers["Content-Type"] = "application/json"
    context = event.get("requestContext")
    context = dict(context) if isinstance(context, Mapping) else {}
    identity = context.get("identity")
    identity = dict(identity) if isinstance(identity, Mapping) else {}
    query = _strings(event.get("queryStringParameters"))
    return {
        **event,
        "resource": request.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": _string_lists(
            event.get("multiValueQueryStringParameters")
        ),
        "pathParameters": _strings(event.get("pathParameters")) or None,
        "stageVariables": _strings(event.get("stageVariables")) or None,
        "requestContext": {**context, "identity": {**identity, "sourceIp": request.source}},
        "body": body if body.strip() else None,
        "isBase64Encoded": False,
    }


def read_request(event: Mapping[str, Any]) -> Request:
    """The fields the checks read, each of the type it claims (else empty)."""
    path, method = event.get("path"), event.get("httpMethod")
    context = event.get("requestContext")
    identity = context.get("identity") if isinstance(context, Mapping) else None
    source = identity.get("sourceIp") if isinstance(identity, Mapping) else None
    return Request(
        path=path if isinstance(path, str) else "",
        method=method.upper() if isinstance(method, str) else "",
        headers={k.lower(): v for k, v in _headers(event).items()},
        source=source if isinstance(source, str) else "",
    )


def _too_large() -> dict[str, Any]:
    return proxy_error(413, "payload_too_large", f"the body must be at most {MAX_BODY_BYTES} bytes")


def decoded_body(event: Mapping[str, Any]) -> str | dict[str, Any]:
    """The body as text (decoded from base64 when it was), or the error that ends it.

    The limit is in bytes of UTF-8, as API Gateway and the contract count it.
    """
    body = event.get("body")
    if body is None:
        return ""
    if not isinstance(body, str):
        return proxy_error(400, "bad_request", "the body must be text holding a JSON object")
    if event.get("isBase64Encoded") is True and body:
        if len(body) > MAX_BASE64_CHARS:
            return _too_large()
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return proxy_error(400, "bad_request", "the body is not base64 of UTF-8 JSON")
    # Characters are at least one byte each: a long body is refused without encoding it.
    if len(body) > MAX_BODY_BYTES:
        return _too_large()
    try:
        size = len(body.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates, which no UTF-8 body can contain
        return proxy_error(400, "bad_request", "the body is not valid UTF-8")
    return _too_large() if size > MAX_BODY_BYTES else body
