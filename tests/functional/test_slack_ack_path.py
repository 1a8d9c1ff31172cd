"""The Slack ack path as a Lambda cold start runs it, in a fresh interpreter.

A signed ``/env status`` arrives as an HTTP API (payload 2.0) event at
``bot.slack_handler.handler`` with both secrets as ``ssm:`` references in the
emulator. The lazy listener's ``Invoke`` goes to a local stand-in for the Lambda API
(the emulator cannot run the function), which records what it was sent.

What is guarded: the ack answers 200 with nothing imported that only the lazy
listener needs (boto3, pydantic, YAML, the config, the runtime), the secrets are read
in one ``GetParameters``, and one asynchronous ``Invoke`` carries the event Bolt's
lazy runner would send.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml

from infra.emulator.server import Emulator
from infra.slack.signing import http_api_event, signed_headers, slash_command_body

ROOT = Path(__file__).resolve().parents[2]
SECRET = "ack-path-signing-secret"
ONLY_FOR_THE_LISTENER = (
    "boto3",
    "s3transfer",
    "pydantic",
    "yaml",
    "scheduler_core.config",
    "scheduler_core.runtime",
    "scheduler_core.windows",
    "bot.slack.commands",
    "bot.slack.services",
)
CHILD = """
import json, sys
from bot.slack_handler import handler

class Context:
    function_name = "envctl-slack"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:envctl-slack"

calls = []
from bot import aws_light
aws_light.session().register("before-call", lambda model, **_: calls.append(model.name))
answer = handler(json.loads(sys.stdin.read()), Context())
print(json.dumps({
    "answer": answer,
    "calls": calls,
    "imported": [name for name in sys.argv[1:] if name in sys.modules],
}))
"""


@pytest.fixture
def lambda_api() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local Lambda Invoke endpoint answering 202; yields its URL and what it got."""
    received: list[dict[str, Any]] = []

    class Invocations(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received.append(
                {
                    "path": unquote(self.path),
                    "type": self.headers.get("X-Amz-Invocation-Type"),
                    "signed": self.headers.get("Authorization", "").startswith("AWS4-HMAC"),
                    "payload": json.loads(self.rfile.read(length)),
                }
            )
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Invocations)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def test_a_cold_ack_imports_nothing_the_listener_needs_and_invokes_once(
    aws_env: Emulator,
    unique: str,
    tmp_path: Path,
    lambda_api: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = lambda_api
    ssm = aws_env.client("ssm")
    ssm.put_parameter(Name=f"/envctl/{unique}/signing", Value=SECRET, Type="SecureString")
    ssm.put_parameter(Name=f"/envctl/{unique}/token", Value="xoxb-ack", Type="SecureString")
    config = tmp_path / "compositions.yaml"
    wait = [{"type": "wait", "params": {"seconds": 1}}]
    config.write_text(yaml.safe_dump({"compositions": {"staging": {"resources": wait}}}))
    body = slash_command_body(text="status staging")
    event = http_api_event(body, signed_headers(body, SECRET))
    env = {
        **os.environ,
        **aws_env.environment(),
        "AWS_ENDPOINT_URL_LAMBDA": url,
        "SLACK_SIGNING_SECRET": f"ssm:/envctl/{unique}/signing",
        "SLACK_BOT_TOKEN": f"ssm:/envctl/{unique}/token",
        "ENVCTL_CONFIG": str(config),
        "PYTHONPATH": str(ROOT),
    }

    child = subprocess.run(
        [sys.executable, "-c", CHILD, *ONLY_FOR_THE_LISTENER],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )

    assert child.returncode == 0, child.stderr
    seen = json.loads(child.stdout.strip().splitlines()[-1])
    assert seen["answer"]["statusCode"] == 200, (seen, child.stderr[-3000:])
    assert seen["imported"] == []
    assert seen["calls"] == ["GetParameters", "Invoke"]
    [invocation] = received
    assert invocation["type"] == "Event" and invocation["signed"]
    assert invocation["path"].endswith(
        "/functions/arn:aws:lambda:us-east-1:123456789012:function:envctl-slack/invocations"
    )
    lazy = invocation["payload"]
    assert lazy["method"] == "NONE"
    assert lazy["headers"]["x-slack-bolt-lazy-only"] == "1"
    assert lazy["headers"]["x-slack-bolt-lazy-function-name"] == "lazy__run_command"
    assert lazy["body"] == body


def test_the_guard_sees_an_import_of_the_listener_code() -> None:
    """The probe really reports what is imported: importing the commands shows up."""
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bot.slack.commands; print([m for m in sys.argv[1:] if m in sys.modules])",
            *ONLY_FOR_THE_LISTENER,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    assert "scheduler_core.config" in probe.stdout and "pydantic" in probe.stdout
