"""``envctl serve``: the Slack Lambda handler served over HTTP on 127.0.0.1.

Requests become API Gateway events and go through the very handler Lambda runs;
only the lazy listeners differ: on Lambda they are asynchronous self-invocations,
here they run on threads (or inline, for deterministic tests).

In front of the handlers the server does what API Gateway does before a Lambda is
invoked, so that what works locally works deployed and the other way round: only
GET and POST (405 otherwise, with ``Allow``), a body framed by Content-Length
(chunked bodies get 411, a malformed length 400), a size cap checked against the
declared length before a byte of the body is read (413), and a deadline for the
body to arrive (408). Every refusal is JSON ``{"error": ..., "message": ...}``,
the shape the webhook handler answers with.

The server is the standard library's ThreadingHTTPServer, not werkzeug's: werkzeug
would accept chunked bodies and negative lengths on its own terms, so every check
above would still have to be written here, and the stdlib gives direct hold of the
socket for the body deadline and for closing without losing the response.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from slack_bolt.adapter.aws_lambda import SlackRequestHandler
from slack_bolt.lazy_listener import ThreadLazyListenerRunner
from slack_bolt.lazy_listener.runner import LazyListenerRunner

from bot.settings import BotSettings
from bot.slack.app import build_app
from bot.slack.services import Services
from infra.http_framing import Refusal, error_json, read_body, refuse, send
from infra.slack.signing import api_gateway_event

Target = Callable[[dict[str, Any], Any], dict[str, Any]]


class SlackHandler(Protocol):
    """Bolt's Lambda handler, or the signature check in front of it."""

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]: ...


ALLOWED_METHODS = ("GET", "POST")
# Both handlers take far less than API Gateway's own 10 MB: the webhook handler
# refuses more than 16 KB itself (bot.webhooks.events.MAX_BODY_BYTES) and Slack's
# payloads are a few KB. A cap a little above that keeps the handler's own 413 in
# play while an unauthenticated caller cannot make this process buffer megabytes.
MAX_BODY_BYTES = 64 * 1024
BODY_TIMEOUT_SECONDS = 10.0
# Connections waiting to be accepted: the default of 5 resets bursts of clients.
LISTEN_BACKLOG = 256


class InlineLazyListenerRunner(LazyListenerRunner):
    """Runs lazy listeners before the response: what tests want to observe."""

    def __init__(self, logger: Any) -> None:
        self.logger = logger

    def start(self, function: Any, request: Any) -> None:
        self.run(function, request)


@dataclass(frozen=True)
class LocalContext:
    """The few fields of a Lambda context the Bolt adapter reads."""

    function_name: str = "envctl-local"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:envctl-local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def local_slack_handler(
    settings: BotSettings, *, inline: bool = False, services: Services | None = None
) -> SlackRequestHandler:
    """The Lambda handler, with lazy listeners that run in this process."""
    app = build_app(settings, services=services)
    handler = SlackRequestHandler(app)
    runner: LazyListenerRunner = (
        InlineLazyListenerRunner(app.logger)
        if inline
        else ThreadLazyListenerRunner(app.logger, ThreadPoolExecutor(max_workers=4))
    )
    app.listener_runner.lazy_listener_runner = runner
    return handler


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True

    def __init__(self, address: tuple[str, int], owner: LocalServer) -> None:
        self.owner = owner
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Also bounds the wait for the request line and headers: idle clients are dropped.
        self.connection.settimeout(self.server.owner.body_timeout)

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: envctl prints what matters

    def handle_one_request(self) -> None:
        """The stdlib's, except that every method reaches LocalServer (which answers 405)."""
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = self.request_version = self.command = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self.server.owner._handle(self)
            self.wfile.flush()
        except TimeoutError:
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's own refusals (a bad request line, too many headers) in JSON too."""
        status = HTTPStatus(code)
        self.close_connection = True
        send(
            self,
            code,
            {"Content-Type": "application/json"},
            error_json(status.phrase.lower().replace(" ", "_"), message or status.phrase),
        )


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 in front of the Slack and webhook handlers.

    Args:
        handler: The Slack handler for ``/slack/events``, or None to serve no Slack app.
        port: The port; 0 picks a free one (see ``url``).
        webhooks: The webhook handler for ``/webhooks/...``, or None.
        max_body_bytes: Larger declared bodies get 413 before any of them is read.
        body_timeout: Seconds for the request, and then its whole body, to arrive (408).
    """

    def __init__(
        self,
        handler: SlackHandler | None,
        *,
        port: int = 0,
        webhooks: Target | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        body_timeout: float = BODY_TIMEOUT_SECONDS,
    ) -> None:
        self.slack = handler
        self.webhooks = webhooks
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self._server = _Server(("127.0.0.1", port), self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET address (typeshed also allows bytes)
        return f"http://{host}:{port}"

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?", 1)[0]
        try:
            target = self._target(request.command, path)
            body = read_body(request, max_bytes=self.max_body_bytes, timeout=self.body_timeout)
        except Refusal as refusal:
            refuse(request, refusal)
            return
        headers = {name: value for name, value in request.headers.items()}
        # The source address is the socket's, as API Gateway's sourceIp: never a header.
        event = api_gateway_event(
            body, headers, path=path, method=request.command, source_ip=request.client_address[0]
        )
        response = target(event, LocalContext())
        send(
            request,
            int(response.get("statusCode", 500)),
            response.get("headers") or {},
            response.get("body") or "",
        )

    def _target(self, method: str, path: str) -> Target:
        if method not in ALLOWED_METHODS:
            raise Refusal(
                405,
                "method_not_allowed",
                f"{method} is not allowed; use {' or '.join(ALLOWED_METHODS)}",
                headers={"Allow": ", ".join(ALLOWED_METHODS)},
            )
        if path == "/slack/events" and self.slack is not None:
            return self.slack.handle
        if path.startswith("/webhooks/") and self.webhooks is not None:
            return self.webhooks
        raise Refusal(404, "not_found", f"nothing is served at {path}")


def _serialised(
    handle: Callable[[dict[str, Any], Any], dict[str, Any]],
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Powertools resolver keeps the current event on itself: one request at a time."""
    lock = threading.Lock()

    def serialised(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with lock:
            return handle(event, context)

    return serialised


def run_serve(*, port: int, config_path: str | None = None) -> int:
    """``envctl serve``: until Ctrl-C. Without Slack settings it runs against a local mock."""
    import os
    import secrets

    from infra.slack.mock_api import MockSlackApi

    env = dict(os.environ)
    if config_path:
        env["ENVCTL_CONFIG"] = config_path
    mock = None
    if not env.get("SLACK_API_URL"):
        mock = MockSlackApi(bot_token=env.get("SLACK_BOT_TOKEN") or "xoxb-local").start()
        env["SLACK_API_URL"] = mock.url
        env.setdefault("SLACK_BOT_TOKEN", "xoxb-local")
    if not env.get("SLACK_SIGNING_SECRET"):
        env["SLACK_SIGNING_SECRET"] = secrets.token_hex(16)
        print(f"SLACK_SIGNING_SECRET={env['SLACK_SIGNING_SECRET']} (generated for this run)")
    from bot.settings import WebhookSettings
    from bot.slack_handler import verified
    from bot.webhook_handler import build_api

    webhooks = build_api(WebhookSettings.from_env(env))
    bot_settings = BotSettings.from_env(env)
    server = LocalServer(
        # As on Lambda: the signature is checked before Bolt parses anything.
        verified(local_slack_handler(bot_settings), bot_settings),
        port=port,
        webhooks=_serialised(webhooks.handle),
    )
    print(f"Slack app listening on {server.url}/slack/events")
    print(f"Webhooks on {server.url}/webhooks/ (keys: ENVCTL_WEBHOOK_API_KEYS)")
    if mock is not None:
        print(f"Its Slack Web API calls go to a local mock at {mock.url}")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopping.")
    finally:
        server.stop()
        if mock is not None:
            mock.stop()
    return 0
