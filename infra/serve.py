"""``envctl serve``: the Slack Lambda handler served over HTTP on 127.0.0.1.

Requests become API Gateway events and go through the very handler Lambda runs;
only the lazy listeners differ: on Lambda they are asynchronous self-invocations,
here they run on threads (or inline, for deterministic tests).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_bolt.adapter.aws_lambda import SlackRequestHandler
from slack_bolt.lazy_listener import ThreadLazyListenerRunner
from slack_bolt.lazy_listener.runner import LazyListenerRunner

from bot.settings import BotSettings
from bot.slack.app import build_app
from bot.slack.services import Services
from infra.slack.signing import api_gateway_event


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


class LocalServer:
    """A ThreadingHTTPServer on 127.0.0.1 in front of the Slack handler."""

    def __init__(
        self,
        handler: SlackRequestHandler | None,
        *,
        port: int = 0,
        webhooks: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None,
    ) -> None:
        self.slack = handler
        self.webhooks = webhooks
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: envctl prints what matters

            def do_POST(self) -> None:
                outer._handle(self)

            def do_GET(self) -> None:
                outer._handle(self)

            def do_PUT(self) -> None:
                outer._handle(self)

            def do_DELETE(self) -> None:
                outer._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
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
        target: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None
        if path == "/slack/events" and self.slack is not None:
            target = self.slack.handle
        elif path.startswith("/webhooks/") and self.webhooks is not None:
            target = self.webhooks
        if target is None:
            self._send(
                request,
                404,
                {"content-type": "application/json"},
                json.dumps({"error": "not_found", "message": f"nothing is served at {path}"}),
            )
            return
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length).decode("utf-8", errors="replace")
        headers = {name: value for name, value in request.headers.items()}
        # The source address is the socket's, as API Gateway's sourceIp: never a header.
        event = api_gateway_event(
            body, headers, path=path, method=request.command, source_ip=request.client_address[0]
        )
        response = target(event, LocalContext())
        self._send(
            request,
            int(response.get("statusCode", 500)),
            response.get("headers") or {},
            response.get("body") or "",
        )

    @staticmethod
    def _send(
        request: BaseHTTPRequestHandler, status: int, headers: dict[str, Any], body: str
    ) -> None:
        payload = body.encode("utf-8")
        request.send_response(status)
        for name, value in headers.items():
            if name.lower() != "content-length":
                request.send_header(name, str(value))
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)


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
    from bot.webhook_handler import build_api
    from bot.webhooks.security import WebhookSettings
    from scheduler_core.settings import Settings

    webhooks = build_api(
        settings=Settings.from_env(env), webhook_settings=WebhookSettings.from_env(env)
    )
    server = LocalServer(
        local_slack_handler(BotSettings.from_env(env)),
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
