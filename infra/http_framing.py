"""Before a handler runs: what API Gateway checks of a request, and how refusals go out.

A body must be framed by Content-Length (chunked bodies get 411, a malformed length
400); its declared size is checked before a byte of it is read (413), and it must
arrive within a deadline (408). Every refusal is JSON ``{"error": ..., "message": ...}``
and is sent so that the unread rest of the request cannot reset the connection
before the client has read it.
"""

from __future__ import annotations

import json
import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

# After a refusal sent before the body was read: how long and how much to keep
# reading, so that closing with unread bytes does not reset the connection (and
# with it the response) before the client has read it.
LINGER_SECONDS = 0.5
LINGER_BYTES = 1024 * 1024


class Refusal(Exception):
    """A request answered before any handler runs."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def read_body(request: BaseHTTPRequestHandler, *, max_bytes: int, timeout: float) -> str:
    """The body, checked from its headers before a byte of it is read."""
    if request.headers.get("Transfer-Encoding") is not None:
        raise Refusal(
            411,
            "length_required",
            "Transfer-Encoding (chunked) bodies are not accepted; send a Content-Length header",
        )
    declared = request.headers.get_all("Content-Length") or []
    if not declared:
        return ""  # neither header: by HTTP's framing there is no body
    raw = declared[0].strip()
    if len(declared) > 1 or not (raw.isascii() and raw.isdigit()):
        shown = ", ".join(value[:20] for value in declared)
        raise Refusal(
            400,
            "bad_request",
            f"Content-Length must be one whole number of bytes, 0 or more, not {shown!r}",
        )
    length = int(raw)
    if length > max_bytes:
        raise Refusal(
            413,
            "payload_too_large",
            f"the body must be at most {max_bytes} bytes, not {length}",
        )
    return _receive(request, length, timeout).decode("utf-8", errors="replace")


def _receive(request: BaseHTTPRequestHandler, length: int, timeout: float) -> bytes:
    """Exactly ``length`` bytes, all within ``timeout`` however slowly they come."""
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    received = 0
    while received < length:
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError
            request.connection.settimeout(remaining)
            chunk = request.rfile.read1(length - received)
        except TimeoutError:
            raise Refusal(
                408,
                "request_timeout",
                f"the body did not arrive within {timeout:g} s: {received} of {length} bytes came",
            ) from None
        if not chunk:
            raise Refusal(
                400,
                "bad_request",
                f"the body ended after {received} of the {length} bytes of its Content-Length",
            )
        chunks.append(chunk)
        received += len(chunk)
    request.connection.settimeout(timeout)
    return b"".join(chunks)


def refuse(request: BaseHTTPRequestHandler, refusal: Refusal) -> None:
    """Answer ``refusal`` in JSON and close, without losing the answer to a reset."""
    request.close_connection = True
    send(
        request,
        refusal.status,
        {"Content-Type": "application/json", **refusal.headers},
        error_json(refusal.code, refusal.message),
    )
    _linger(request)


def error_json(code: str, message: str) -> str:
    return json.dumps({"error": code, "message": message})


def send(request: BaseHTTPRequestHandler, status: int, headers: dict[str, Any], body: str) -> None:
    payload = body.encode("utf-8")
    request.send_response(status)
    for name, value in headers.items():
        if name.lower() != "content-length":
            request.send_header(name, str(value))
    request.send_header("Content-Length", str(len(payload)))
    request.end_headers()
    if getattr(request, "command", None) != "HEAD":  # a HEAD answer has headers only
        request.wfile.write(payload)


def _linger(request: BaseHTTPRequestHandler) -> None:
    """Close after a refusal without the unread body turning the close into a reset.

    Closing a socket with unread bytes makes the kernel send a reset, which can
    destroy the response before the client reads it; so the response is finished
    with a FIN first and what the client still sends is read, for a bounded time.
    """
    connection: socket.socket = request.connection
    try:
        request.wfile.flush()
        connection.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + LINGER_SECONDS
        drained = 0
        while drained < LINGER_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            connection.settimeout(remaining)
            chunk = connection.recv(64 * 1024)
            if not chunk:
                break
            drained += len(chunk)
    except OSError:
        pass  # the client has gone: there is no response left to protect
