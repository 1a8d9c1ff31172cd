"""``LocalServer`` refuses, as API Gateway would, what must never reach a handler.

Most tests put a recording handler behind the server: a refusal is then proved by
the handler never having been called, and no AWS is needed. Requests go over raw
sockets where the framing itself is under test (chunked, wrong lengths).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.settings import WebhookSettings
from bot.webhook_handler import build_api
from infra.emulator.server import Emulator
from infra.serve import LocalServer

START_PATH = "/webhooks/compositions/app/start"
FIVE_YEARS = b'{"duration":"5y"}'
CLIENT_TIMEOUT = 15.0  # every client read is bounded: a hanging server fails the test


@dataclass
class Recorder:
    """A webhook handler that answers 200 with the body it got, after ``delay`` seconds."""

    delay: float = 0.0
    events: list[dict[str, Any]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.lock:
            self.events.append(event)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(self.delay)
        with self.lock:
            self.in_flight -= 1
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"got": event["body"]}),
        }


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    raw: bytes
    seconds: float

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def server(recorder: Recorder) -> Iterator[LocalServer]:
    running = LocalServer(None, webhooks=recorder, body_timeout=1.0, max_body_bytes=1024).start()
    yield running
    running.stop()


def address(server: LocalServer) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def raw_exchange(
    server: LocalServer, head: str, body: bytes = b"", *, half_close: bool = False
) -> Answer:
    """Send ``head`` (request line and headers, CRLF-ended) and ``body`` as they are."""
    began = time.monotonic()
    with socket.create_connection(address(server), timeout=CLIENT_TIMEOUT) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        method = head.split(" ", 1)[0]
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        raw = response.read()
        return Answer(response.status, response.headers, raw, time.monotonic() - began)


def request(server: LocalServer, method: str, path: str, body: bytes | None = None) -> Answer:
    began = time.monotonic()
    connection = http.client.HTTPConnection(*address(server), timeout=CLIENT_TIMEOUT)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        raw = response.read()
        return Answer(response.status, response.headers, raw, time.monotonic() - began)
    finally:
        connection.close()


def assert_refused(answer: Answer, status: int, code: str) -> None:
    assert answer.status == status, answer.raw
    assert answer.headers["Content-Type"] == "application/json"
    assert set(answer.json) == {"error", "message"}, answer.raw
    assert answer.json["error"] == code


# --- framing ------------------------------------------------------------------------------


def test_chunked_body_is_refused_with_411_and_never_reaches_the_handler(
    server: LocalServer, recorder: Recorder
) -> None:
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(FIVE_YEARS), FIVE_YEARS)

    answer = raw_exchange(
        server,
        f"POST {START_PATH} HTTP/1.1\nHost: x\nContent-Type: application/json\n"
        "Transfer-Encoding: chunked\n",
        chunked,
    )

    assert_refused(answer, 411, "length_required")
    assert recorder.events == []


def test_the_same_body_with_a_content_length_reaches_the_handler(
    server: LocalServer, recorder: Recorder
) -> None:
    answer = request(server, "POST", START_PATH, FIVE_YEARS)

    assert answer.status == 200, answer.raw
    assert answer.json == {"got": FIVE_YEARS.decode()}
    assert [event["httpMethod"] for event in recorder.events] == ["POST"]


@pytest.mark.parametrize("length", ["-1", "abc", "1.5", "+3", "0x10", "3, 3"])
def test_a_malformed_content_length_is_400(
    server: LocalServer, recorder: Recorder, length: str
) -> None:
    answer = raw_exchange(
        server, f"POST {START_PATH} HTTP/1.1\nHost: x\nContent-Length: {length}\n", b"abc"
    )

    assert_refused(answer, 400, "bad_request")
    assert "Content-Length" in answer.json["message"]
    assert recorder.events == []


def test_two_content_length_headers_are_400(server: LocalServer, recorder: Recorder) -> None:
    answer = raw_exchange(
        server,
        f"POST {START_PATH} HTTP/1.1\nHost: x\nContent-Length: 3\nContent-Length: 30\n",
        b"abc",
    )

    assert_refused(answer, 400, "bad_request")
    assert recorder.events == []


def test_a_body_shorter_than_its_content_length_gets_408_once_the_timeout_passes(
    server: LocalServer, recorder: Recorder
) -> None:
    answer = raw_exchange(
        server, f"POST {START_PATH} HTTP/1.1\nHost: x\nContent-Length: 100\n", b"x" * 10
    )

    assert_refused(answer, 408, "request_timeout")
    assert 0.9 <= answer.seconds < 5.0, answer.seconds  # body_timeout is 1 s
    assert "10 of 100 bytes" in answer.json["message"]
    assert recorder.events == []


def test_a_body_cut_short_by_the_client_closing_is_400_at_once(
    server: LocalServer, recorder: Recorder
) -> None:
    answer = raw_exchange(
        server,
        f"POST {START_PATH} HTTP/1.1\nHost: x\nContent-Length: 100\n",
        b"x" * 10,
        half_close=True,
    )

    assert_refused(answer, 400, "bad_request")
    assert answer.seconds < 0.9, answer.seconds
    assert recorder.events == []


def test_a_trickled_body_gets_408_when_the_whole_body_is_late(
    server: LocalServer, recorder: Recorder
) -> None:
    """The timeout bounds the whole body, not each read: one byte every 0.3 s is too slow."""
    began = time.monotonic()
    with socket.create_connection(address(server), timeout=CLIENT_TIMEOUT) as sock:
        sock.sendall(
            f"POST {START_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n".encode()
        )
        try:
            for _ in range(20):
                sock.sendall(b"x")
                time.sleep(0.3)
        except OSError:
            pass  # the server answered and closed while bytes were still coming
        response = http.client.HTTPResponse(sock, method="POST")
        response.begin()
        answer = Answer(response.status, response.headers, response.read(), 0.0)
    seconds = time.monotonic() - began

    assert_refused(answer, 408, "request_timeout")
    assert seconds < 20 * 0.3, seconds
    assert recorder.events == []


# --- size ---------------------------------------------------------------------------------


def test_an_oversized_declared_body_is_413_before_any_of_it_is_read(
    recorder: Recorder,
) -> None:
    # A long body timeout: an answer well before it proves the body was not waited for.
    running = LocalServer(None, webhooks=recorder, body_timeout=10.0).start()
    try:
        answer = raw_exchange(
            running,
            f"POST {START_PATH} HTTP/1.1\nHost: x\nContent-Length: 300000000\n",
            b"only a few bytes",
        )
    finally:
        running.stop()

    assert_refused(answer, 413, "payload_too_large")
    assert answer.seconds < 3.0, answer.seconds
    assert str(running.max_body_bytes) in answer.json["message"]
    assert recorder.events == []


def test_the_size_cap_is_inclusive(server: LocalServer, recorder: Recorder) -> None:
    at_cap = request(server, "POST", START_PATH, b"a" * server.max_body_bytes)
    over = request(server, "POST", START_PATH, b"a" * (server.max_body_bytes + 1))

    assert at_cap.status == 200, at_cap.raw
    assert at_cap.json == {"got": "a" * server.max_body_bytes}
    assert_refused(over, 413, "payload_too_large")
    assert len(recorder.events) == 1


# --- methods ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS", "PUT", "DELETE", "TRACE", "BREW"])
def test_methods_other_than_get_and_post_are_json_405_with_allow(
    server: LocalServer, recorder: Recorder, method: str
) -> None:
    answer = request(server, method, START_PATH, b"{}")

    assert_refused(answer, 405, "method_not_allowed")
    assert answer.headers["Allow"] == "GET, POST"
    assert method in answer.json["message"]
    assert recorder.events == []


def test_head_is_405_with_json_headers_and_no_body(server: LocalServer, recorder: Recorder) -> None:
    answer = request(server, "HEAD", "/webhooks/compositions")

    assert answer.status == 405
    assert answer.headers["Allow"] == "GET, POST"
    assert answer.headers["Content-Type"] == "application/json"
    assert int(answer.headers["Content-Length"]) > 0  # what a GET's error body would be
    assert answer.raw == b""
    assert recorder.events == []


def test_the_servers_own_refusals_are_json_too(server: LocalServer) -> None:
    too_many = "".join(f"X-H{number}: v\n" for number in range(120))

    answer = raw_exchange(server, f"GET /webhooks/x HTTP/1.1\nHost: x\n{too_many}")

    assert answer.status == 431, answer.raw
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json["error"] == "request_header_fields_too_large"


# --- load ---------------------------------------------------------------------------------


def test_50_concurrent_posts_are_all_answered_and_handled_in_parallel() -> None:
    recorder = Recorder(delay=0.2)
    running = LocalServer(None, webhooks=recorder, body_timeout=5.0).start()
    count = 50
    start = threading.Barrier(count, timeout=CLIENT_TIMEOUT)

    def post(number: int) -> Answer:
        start.wait()  # every connection opens at the same moment
        return request(running, "POST", START_PATH, json.dumps({"n": number}).encode())

    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            answers = list(pool.map(post, range(count)))
    finally:
        running.stop()

    assert [answer.status for answer in answers] == [200] * count
    assert sorted(json.loads(answer.json["got"])["n"] for answer in answers) == list(range(count))
    # Handled one at a time, 50 requests of 0.2 s would take 10 s.
    assert recorder.most_in_flight > 1, recorder.most_in_flight
    assert max(answer.seconds for answer in answers) < 5.0


# --- with the real webhook handler --------------------------------------------------------


def test_the_webhook_handler_is_reached_only_by_well_framed_requests(
    aws_env: Emulator,
) -> None:
    api = build_api(WebhookSettings(api_keys={}))
    running = LocalServer(None, webhooks=api.handle, body_timeout=1.0).start()
    try:
        framed = request(running, "POST", START_PATH, FIVE_YEARS)
        chunked = raw_exchange(
            running,
            f"POST {START_PATH} HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n",
            b"%x\r\n%s\r\n0\r\n\r\n" % (len(FIVE_YEARS), FIVE_YEARS),
        )
        patched = request(running, "PATCH", START_PATH, FIVE_YEARS)
    finally:
        running.stop()

    assert_refused(framed, 401, "unauthorized")  # the handler's own answer: no keys
    assert_refused(chunked, 411, "length_required")
    assert_refused(patched, 405, "method_not_allowed")
