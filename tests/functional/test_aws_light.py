"""The ack path's two AWS requests (``bot.aws_light``) against a loopback Lambda API.

The server answers as Lambda does (202, or an error document); what it receives is
recorded, so retries and refusals are seen from the outside.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot import aws_light

NOT_FOUND = {"__type": "ResourceNotFoundException", "message": "Function not found: f"}


@pytest.fixture
def lambda_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[Any], list[str]]]:
    """Yields (answers to give, in order: a status or (status, document); paths received)."""
    answers: list[Any] = []
    received: list[str] = []

    class Api(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.append(self.path)
            answer = answers.pop(0) if answers else 202
            status, document = answer if isinstance(answer, tuple) else (answer, None)
            content = json.dumps(document).encode() if document else b""
            self.send_response(status)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(aws_light, "time", _NoSleep())
    try:
        yield answers, received
    finally:
        server.shutdown()
        server.server_close()


class _NoSleep:
    """The module's clock for these tests: backoff without waiting."""

    def sleep(self, seconds: float) -> None:
        assert 0 <= seconds <= 0.1 * 2 ** (aws_light.ATTEMPTS - 1)


def test_an_invoke_is_one_request_to_the_function_path(lambda_api: Any) -> None:
    _, received = lambda_api

    aws_light.invoke_async("arn:aws:lambda:us-east-1:1:function:f", "{}")

    assert received == [
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/invocations"
    ]


def test_throttling_and_server_errors_are_retried(lambda_api: Any) -> None:
    answers, received = lambda_api
    answers.extend([429, 503])

    aws_light.invoke_async("f", "{}")

    assert len(received) == 3


def test_a_refusal_is_raised_with_its_code_and_not_retried(lambda_api: Any) -> None:
    answers, received = lambda_api
    answers.append((404, NOT_FOUND))

    with pytest.raises(aws_light.AwsCallError) as raised:
        aws_light.invoke_async("f", "{}")

    assert (raised.value.status, raised.value.code) == (404, "ResourceNotFoundException")
    assert "Function not found: f" in str(raised.value)
    assert len(received) == 1


def test_retries_stop_after_the_last_attempt(lambda_api: Any) -> None:
    answers, received = lambda_api
    answers.extend([503] * aws_light.ATTEMPTS)

    with pytest.raises(aws_light.AwsCallError, match="HTTP 503"):
        aws_light.invoke_async("f", "{}")

    assert len(received) == aws_light.ATTEMPTS
