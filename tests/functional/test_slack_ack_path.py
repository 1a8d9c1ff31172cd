"""The Slack ack path as a Lambda cold start runs it, in a fresh interpreter.

A signed ``/env status`` arrives as an HTTP API (payload 2.0) event at
``bot.slack_handler.handler`` with both secrets as ``ssm:`` references in the
emulator. AWS is reached through a loopback front that checks each request's SigV4
signature as AWS would, forwards SSM to the emulator and answers the lazy listener's
``Invoke`` itself (the emulator cannot run the function).

What is guarded: the ack answers 200 with nothing imported that only the lazy
listener needs (boto3, pydantic, YAML, the config, the runtime), the secrets are read
in one ``GetParameters``, and one asynchronous ``Invoke`` carries the event Bolt's
lazy runner would send, both correctly signed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
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

answer = handler(json.loads(sys.stdin.read()), Context())
print(json.dumps({
    "answer": answer,
    "imported": [name for name in sys.argv[1:] if name in sys.modules],
}))
"""


def signature_holds(method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
    """Recompute the SigV4 signature of the request as received, as AWS checks it."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    authorization = headers.get("Authorization", "")
    if not authorization.startswith("AWS4-HMAC-SHA256 "):
        return False
    fields = dict(part.strip().split("=", 1) for part in authorization[17:].split(","))
    _, _, region, service, _ = fields["Credential"].split("/")
    signed = fields["SignedHeaders"].split(";")
    request = AWSRequest(
        method=method,
        url=f"http://{headers['Host']}{path}",
        data=body,
        headers={k: v for k, v in headers.items() if k.lower() in signed},
    )
    request.context["timestamp"] = headers["X-Amz-Date"]
    auth = SigV4Auth(Credentials("testing", "testing"), service, region)
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    return bool(fields["Signature"] == expected)


@pytest.fixture
def aws_front(aws_env: Emulator) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback AWS front: Lambda Invoke answered 202, anything else forwarded to the
    emulator; yields its URL and every request it got, its signature checked."""
    received: list[dict[str, Any]] = []

    class Front(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = dict(self.headers.items())
            received.append(
                {
                    "path": unquote(self.path),
                    "target": headers.get("X-Amz-Target"),
                    "type": headers.get("X-Amz-Invocation-Type"),
                    "signed": signature_holds("POST", self.path, headers, body),
                    "body": body,
                }
            )
            if "/functions/" in self.path:
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            forwarded = urllib.request.Request(
                aws_env.endpoint_url + self.path, data=body, headers=headers, method="POST"
            )
            with urllib.request.urlopen(forwarded, timeout=10) as answer:
                content = answer.read()
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.headers.get("Content-Type", ""))
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Front)
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
    aws_front: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = aws_front
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
        "AWS_ENDPOINT_URL": url,
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
    # Two requests, each signed as AWS checks: the secrets together, then the Invoke.
    assert [(r["target"], r["signed"]) for r in received] == [
        ("AmazonSSM.GetParameters", True),
        (None, True),
    ]
    invocation = received[1]
    assert invocation["type"] == "Event"
    assert invocation["path"] == (
        "/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:envctl-slack"
        "/invocations"
    )
    lazy = json.loads(invocation["body"])
    assert lazy["method"] == "NONE"
    assert lazy["headers"]["x-slack-bolt-lazy-only"] == "1"
    assert lazy["headers"]["x-slack-bolt-lazy-function-name"] == "lazy__run_command"
    assert lazy["body"] == body


def test_the_signature_check_refuses_a_request_signed_for_another_path(
    aws_env: Emulator, aws_front: tuple[str, list[dict[str, Any]]]
) -> None:
    """The front's check can fail: a signature over one path does not hold for another."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url, received = aws_front
    request = AWSRequest(method="POST", url=f"{url}/2015-03-31/functions/a/invocations", data=b"{}")
    SigV4Auth(Credentials("testing", "testing"), "lambda", "us-east-1").add_auth(request)
    for path in ("a", "b"):
        sent = urllib.request.Request(
            f"{url}/2015-03-31/functions/{path}/invocations",
            data=b"{}",
            headers=dict(request.headers.items()),
            method="POST",
        )
        urllib.request.urlopen(sent, timeout=10).close()

    assert [r["signed"] for r in received] == [True, False]


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
