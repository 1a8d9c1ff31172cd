"""Slack app benchmark: warm ack latency and cold start of the Lambda handler.

Every request is a signed ``/env status bench`` as the template's HTTP API hands it
to Lambda (payload 2.0), answered with an empty ack while a lazy listener does the
work. The baseline is what one would otherwise deploy: slack-bolt's minimal app with
one lazy listener behind Bolt's own Lambda adapter (``SlackRequestHandler``, whose
lazy start is a boto3 ``lambda.invoke``), measured in the same run, interleaved.

What is measured:

* Warm ack latency: ``handler.handle(event, context)``, what Slack waits for (3 s at
  most), for envctl's handler as on Lambda (``bot.lambda_adapter.LambdaHandler``
  behind the signature check; the lazy start is an ``Invoke``, InvocationType=Event,
  to a loopback stub answering 202) and for the baseline (its ``Invoke`` to the same
  stub; its one ``auth.test`` per process, Bolt's single-team authorization, goes to
  the local mock Web API). An informative row runs the local handler (lazy listeners
  on threads, the status read against the emulator, the reply waited for untimed).
* Cold start: fresh interpreters (``sys.executable``), interleaved, medians: the
  handler importing ``bot.slack_handler`` and answering the first request, with the
  secrets as values and as ``ssm:`` references (read from the emulator over HTTP, as
  the template deploys them); the baseline app; a bare ``import boto3`` plus one STS
  client (the reference the goals are stated in); an empty interpreter. Wall time is
  the whole process, interpreter start-up included; peak RSS is the child's own
  high-water mark (``VmHWM``, read as it ends; ``ru_maxrss`` would report the
  parent's, inherited through fork). ``× boto3`` and ``× bolt`` are wall-time ratios
  against those two rows.
* Import time: the 10 modules with the largest cumulative import time of
  ``python -X importtime -c "import bot.slack_handler"`` (median of a few runs).

Run it with ``.venv/bin/python benchmarks/slack.py`` from the repository root. It
takes about a minute, makes no call outside 127.0.0.1, asserts nothing and exits 0.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

import boto3
import yaml

# Run as `python benchmarks/<name>.py`: this folder is on sys.path.
from figures import Latency, latency, ms, print_table, ratio
from slack_bolt import App
from slack_bolt.adapter.aws_lambda import SlackRequestHandler
from slack_bolt.adapter.aws_lambda.lazy_listener_runner import LambdaLazyListenerRunner
from slack_sdk import WebClient

from bot.lambda_adapter import LambdaHandler
from bot.settings import BotSettings
from bot.slack.app import build_app
from bot.slack_handler import verified
from infra.emulator.server import REGION, Emulator
from infra.serve import LocalContext, local_slack_handler
from infra.slack.mock_api import MockSlackApi
from infra.slack.signing import http_api_event, signed_headers, slash_command_body

ROOT = Path(__file__).resolve().parent.parent
SIGNING_SECRET = "bench-signing-secret"
WRONG_SECRET = "not-the-signing-secret"
BOT_TOKEN = "xoxb-mock"
COMPOSITION = "bench"
DATABASE = "bench-db"
WARM_REQUESTS = 300
WARM_UP_REQUESTS = 20
LAZY_REPLY_TIMEOUT = 10.0
COLD_RUNS = 11
IMPORTTIME_RUNS = 3
IMPORTTIME_TOP = 10

# Each child prints one JSON line last. Peak RSS is the child's own VmHWM, read at
# its end: ru_maxrss (RUSAGE_CHILDREN, wait4, even RUSAGE_SELF in the child) keeps the
# high-water mark of the parent's memory copied at fork, about the size of this process
# with moto loaded, and would hide the children's own figures.
PEAK_RSS = """
def peak_rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0
"""
# Answers one /env status request on a cold interpreter; argv[1] names the event file.
HANDLER_CHILD = (
    PEAK_RSS
    + """
import json, sys, time
began = time.perf_counter()
from bot.slack_handler import handler
imported = time.perf_counter()
class Context:
    function_name = "envctl-slack"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:envctl-slack"
with open(sys.argv[1]) as f:
    event = json.load(f)
response = handler(event, Context())
answered = time.perf_counter()
print(json.dumps({
    "import": imported - began,
    "first": answered - imported,
    "rss": peak_rss_kib(),
    "status": response.get("statusCode"),
    "body": response.get("body") or "",
}))
"""
)
# slack-bolt's minimal app with one lazy listener behind Bolt's Lambda adapter.
BOLT_CHILD = (
    PEAK_RSS
    + """
import json, os, sys, time
began = time.perf_counter()
from slack_bolt import App
from slack_bolt.adapter.aws_lambda import SlackRequestHandler
from slack_sdk import WebClient
imported = time.perf_counter()
app = App(
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    client=WebClient(os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
    token_verification_enabled=False,
    process_before_response=True,
)
def work(body, respond):
    respond(text="done")
app.command("/env")(ack=lambda ack: ack(), lazy=[work])
class Context:
    function_name = "bolt-minimal"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bolt-minimal"
with open(sys.argv[1]) as f:
    event = json.load(f)
response = SlackRequestHandler(app).handle(event, Context())
answered = time.perf_counter()
print(json.dumps({
    "import": imported - began,
    "first": answered - imported,
    "rss": peak_rss_kib(),
    "status": response.get("statusCode"),
    "body": response.get("body") or "",
}))
"""
)
BASELINE_CHILD = (
    PEAK_RSS
    + """
import json, time
began = time.perf_counter()
import boto3
imported = time.perf_counter()
boto3.client("sts", region_name="us-east-1")
answered = time.perf_counter()
print(json.dumps({"import": imported - began, "first": answered - imported, "rss": peak_rss_kib()}))
"""
)
EMPTY_CHILD = (
    PEAK_RSS
    + """
import json
print(json.dumps({"import": 0, "first": 0, "rss": peak_rss_kib()}))
"""
)


# --- helpers ------------------------------------------------------------------


class _LambdaStubHandler(BaseHTTPRequestHandler):
    """Answers every POST as Lambda's Invoke(InvocationType=Event) does: 202, no body."""

    invocations: list[str]

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.invocations.append(self.path)
        self.send_response(202)
        self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
        self.send_header("Content-Length", "0")
        self.end_headers()


@contextmanager
def lambda_stub() -> Iterator[tuple[str, list[str]]]:
    """A loopback endpoint for Lambda Invoke; yields its URL and the paths it received."""
    invocations: list[str] = []
    handler = type("Stub", (_LambdaStubHandler,), {"invocations": invocations})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", invocations
    finally:
        server.shutdown()
        server.server_close()


def write_config(directory: Path) -> Path:
    path = directory / "compositions.yaml"
    document = {
        "compositions": {
            COMPOSITION: {
                "resources": [
                    {"type": "rds_instance", "params": {"id": DATABASE}},
                    {"type": "wait", "params": {"seconds": 30}},
                ]
            }
        }
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def create_database(emulator: Emulator) -> None:
    emulator.client("rds").create_db_instance(
        DBInstanceIdentifier=DATABASE,
        Engine="postgres",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="envctl",
        MasterUserPassword="password-123",
    )


def slack_env(mock: MockSlackApi, config: Path) -> dict[str, str]:
    return {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": mock.url,
        "ENVCTL_CONFIG": str(config),
    }


# --- warm ack latency ---------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class WarmResult:
    envctl: Latency
    bolt: Latency
    threaded: Latency
    unexpected: list[str]


class Handler(Protocol):
    def handle(self, event: Any, context: Any) -> Any: ...


def timed_handle(handler: Handler, body: str) -> tuple[float, int]:
    """Time one request; the event is built (and signed) outside the timed section."""
    event = http_api_event(body, signed_headers(body, SIGNING_SECRET))
    context = LocalContext()
    begin = time.perf_counter()
    response = handler.handle(event, context)
    return time.perf_counter() - begin, int(response.get("statusCode", 0))


def stub_client(service: str, stub_url: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=REGION,
        endpoint_url=stub_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def bolt_minimal(stub_url: str, mock: MockSlackApi) -> SlackRequestHandler:
    """The baseline: slack-bolt's minimal app, one lazy listener, Bolt's Lambda adapter.

    As written from Bolt's docs, with a bot token: its single-team authorization asks
    ``auth.test`` once per process (here the mock Web API answers it).
    """
    app = App(
        signing_secret=SIGNING_SECRET,
        client=WebClient(BOT_TOKEN, base_url=mock.url),
        token_verification_enabled=False,
        process_before_response=True,
    )

    def work(respond: Any) -> None:
        respond(text="done")

    app.command("/env")(ack=lambda ack: ack(), lazy=[work])
    handler = SlackRequestHandler(app)
    handler.app.listener_runner.lazy_listener_runner = LambdaLazyListenerRunner(
        handler.logger, lambda_client=stub_client("lambda", stub_url)
    )
    return handler


def measure_warm(mock: MockSlackApi, config: Path, stub_url: str) -> WarmResult:
    settings = BotSettings.from_env(slack_env(mock, config))
    threaded = local_slack_handler(settings)
    # As deployed: the lazy start is bot.aws_light's signed Invoke, here to the stub.
    os.environ["AWS_ENDPOINT_URL_LAMBDA"] = stub_url
    envctl = verified(LambdaHandler(build_app(settings)), settings)
    bolt = bolt_minimal(stub_url, mock)
    samples: dict[str, list[float]] = {"envctl": [], "bolt": [], "threaded": []}
    unexpected: list[str] = []

    def one_round(index: int, *, record: bool) -> None:
        response_id = f"warm-{index}"
        body = slash_command_body(
            text=f"status {COMPOSITION}", response_url=mock.response_url(response_id)
        )
        runs: list[tuple[str, Handler]] = [
            ("envctl", envctl),
            ("bolt", bolt),
            ("threaded", threaded),
        ]
        for name, handler in runs:
            seconds, status = timed_handle(handler, body)
            if status != 200:
                unexpected.append(f"{name} request {index}: HTTP {status}")
            if name == "threaded":
                # Let the lazy status read finish before anything else is timed.
                path = f"/response_url/{response_id}"
                mock.wait_for(
                    lambda calls, path=path: any(c.path == path for c in calls),
                    timeout=LAZY_REPLY_TIMEOUT,
                )
            if record:
                samples[name].append(seconds)

    for index in range(WARM_UP_REQUESTS):
        one_round(index, record=False)
    mock.clear()
    for index in range(WARM_REQUESTS):
        one_round(WARM_UP_REQUESTS + index, record=True)
    replies = [c.body for c in mock.calls("response_url")]
    if len(replies) != WARM_REQUESTS:
        unexpected.append(f"{len(replies)} lazy replies for {WARM_REQUESTS} requests")
    return WarmResult(
        envctl=latency(samples["envctl"]),
        bolt=latency(samples["bolt"]),
        threaded=latency(samples["threaded"]),
        unexpected=unexpected,
    )


def print_warm(result: WarmResult, sample_reply: str) -> None:
    base = result.bolt
    columns = (("request", 52), ("p50", 10), ("p99", 10), ("p50 ratio", 9), ("p99 ratio", 9))
    rows = [
        (
            name,
            ms(found.p50),
            ms(found.p99),
            ratio(found.p50, base.p50),
            ratio(found.p99, base.p99),
        )
        for name, found in (
            ("envctl as on Lambda (lazy start: Invoke → stub)", result.envctl),
            ("baseline: slack-bolt minimal app + lazy listener", base),
            ("envctl local handler (lazy listeners on threads)", result.threaded),
        )
    ]
    print_table(columns, rows)
    print(f"{result.envctl.requests} timed requests per row, after {WARM_UP_REQUESTS} warm-up.")
    print(f"Lazy reply to the last status request (local handler): {sample_reply!r}")
    for problem in result.unexpected[:5]:
        print(f"  unexpected: {problem}")


# --- cold start ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ColdRun:
    wall: float
    max_rss_kib: int
    reported: dict[str, Any]


def run_child(code: str, args: list[str], env: dict[str, str]) -> ColdRun:
    """One fresh interpreter, timed from spawn to exit."""
    begin = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    wall = time.perf_counter() - begin
    lines = done.stdout.strip().splitlines()
    reported: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    if done.returncode != 0:
        reported["error"] = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
    return ColdRun(wall=wall, max_rss_kib=int(reported.get("rss", 0)), reported=reported)


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "SLACK_", "ENVCTL_", "MOTO_"))
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


@dataclass(frozen=True, kw_only=True)
class ColdResult:
    name: str
    runs: list[ColdRun]

    def median(self, pick: Callable[[ColdRun], float]) -> float:
        return statistics.median(pick(run) for run in self.runs)


def measure_cold(
    mock: MockSlackApi, config: Path, emulator: Emulator, stub_url: str, directory: Path
) -> list[ColdResult]:
    body = slash_command_body(text=f"status {COMPOSITION}", response_url=mock.response_url("cold"))
    event_path = directory / "status-event.json"
    ssm = emulator.client("ssm")
    for name, value in (("signing", SIGNING_SECRET), ("token", BOT_TOKEN)):
        ssm.put_parameter(Name=f"/bench/{name}", Value=value, Type="SecureString", Overwrite=True)
    aws = {
        "AWS_ENDPOINT_URL": emulator.endpoint_url,  # SSM
        "AWS_ENDPOINT_URL_LAMBDA": stub_url,  # the lazy listener's Invoke
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    plain = child_env({**aws, **slack_env(mock, config)})
    referenced = {
        **plain,
        "SLACK_SIGNING_SECRET": "ssm:/bench/signing",
        "SLACK_BOT_TOKEN": "ssm:/bench/token",
    }
    children = {
        "empty interpreter (reference)": (EMPTY_CHILD, child_env(aws)),
        "bare: import boto3 + sts client": (BASELINE_CHILD, child_env(aws)),
        "baseline: bolt minimal app + lazy": (BOLT_CHILD, plain),
        "envctl, secrets as values": (HANDLER_CHILD, plain),
        "envctl, secrets as ssm: (template)": (HANDLER_CHILD, referenced),
    }
    runs: dict[str, list[ColdRun]] = {name: [] for name in children}
    # Interleaved, so that drift in machine load hits every row alike.
    for _ in range(COLD_RUNS):
        for name, (code, env) in children.items():
            # Signed afresh each run: the signature must be within 5 minutes.
            event = http_api_event(body, signed_headers(body, SIGNING_SECRET))
            event_path.write_text(json.dumps(event))
            runs[name].append(run_child(code, [str(event_path)], env))
    return [ColdResult(name=name, runs=found) for name, found in runs.items()]


def print_cold(results: list[ColdResult], invocations: int) -> None:
    bare = next(r for r in results if r.name.startswith("bare"))
    bolt = next(r for r in results if r.name.startswith("baseline"))
    bare_wall, bolt_wall = (r.median(lambda run: run.wall) for r in (bare, bolt))
    columns = (
        ("process", 36),
        ("wall", 10),
        ("× boto3", 7),
        ("× bolt", 7),
        ("import", 10),
        ("first call", 10),
        ("peak RSS", 10),
        ("runs", 4),
    )
    rows = []
    for result in results:
        wall = result.median(lambda run: run.wall)
        rss = result.median(lambda run: run.max_rss_kib)
        rows.append(
            (
                result.name,
                ms(wall),
                ratio(wall, bare_wall),
                ratio(wall, bolt_wall),
                ms(result.median(lambda run: float(run.reported.get("import", 0)))),
                ms(result.median(lambda run: float(run.reported.get("first", 0)))),
                f"{rss / 1024:.1f} MiB",
                str(len(result.runs)),
            )
        )
    print_table(columns, rows)
    print(
        "wall: whole process, interpreter start-up included; import / first call: "
        "measured inside the child\n(first call = handler(event, context), or "
        "boto3.client(...) for the bare row); medians."
    )
    answering = [r for r in results if r.name.startswith(("envctl", "baseline"))]
    statuses = sorted({str(run.reported.get("status")) for r in answering for run in r.runs})
    print(
        f"Acks: HTTP {', '.join(statuses)}; Invoke calls the stub received: {invocations} "
        f"(one per answering run: {sum(len(r.runs) for r in answering)})."
    )
    for result in answering:
        for run in result.runs:
            if "error" in run.reported:
                print(f"  {result.name} failed: {run.reported['error']}")
                break


# --- import time --------------------------------------------------------------


def import_times() -> dict[str, tuple[int, int]]:
    """Module -> (median self µs, median cumulative µs) over a few fresh interpreters."""
    found: dict[str, list[tuple[int, int]]] = {}
    for _ in range(IMPORTTIME_RUNS):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import bot.slack_handler"],
            capture_output=True,
            text=True,
            env=child_env({}),
            cwd=ROOT,
            check=False,
        )
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "|" not in line:
                continue
            fields = line.removeprefix("import time:").split("|")
            if not fields[0].strip().isdigit():
                continue  # the header line
            module = fields[2].strip()
            found.setdefault(module, []).append((int(fields[0]), int(fields[1])))
    return {
        module: (
            int(statistics.median(own for own, _ in values)),
            int(statistics.median(total for _, total in values)),
        )
        for module, values in found.items()
    }


def print_import_times(times: dict[str, tuple[int, int]]) -> None:
    """The top modules, then the top top-level packages (whose figures nest, e.g. boto3
    includes botocore, so they do not add up)."""
    total = times.get("bot.slack_handler", (0, 1))[1]
    print_import_table(times, total)
    print()
    print(f"Top-level packages (other than bot), top {IMPORTTIME_TOP} by cumulative time:")
    print()
    packages = {m: t for m, t in times.items() if "." not in m and m != "bot"}
    print_import_table(packages, total)


def print_import_table(times: dict[str, tuple[int, int]], total: int) -> None:
    top = sorted(times.items(), key=lambda item: item[1][1], reverse=True)[:IMPORTTIME_TOP]
    columns = (("module", 44), ("cumulative", 12), ("self", 10), ("% of total", 10))
    rows = [
        (
            module,
            f"{cumulative / 1000:.1f} ms",
            f"{own / 1000:.1f} ms",
            f"{100 * cumulative / total:.0f}%",
        )
        for module, (own, cumulative) in top
    ]
    print_table(columns, rows)


# --- main ---------------------------------------------------------------------


def heading(title: str, baseline: str) -> None:
    print(title)
    print(f"   Baseline: {baseline}")
    print()


def main() -> int:
    began = time.perf_counter()
    # Bolt logs every rejected signature; 1,000 of them would drown the tables.
    logging.getLogger("slack_bolt").setLevel(logging.CRITICAL)
    print(f"envctl Slack benchmark (Python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    print()
    with tempfile.TemporaryDirectory() as tmp, Emulator() as emulator, MockSlackApi() as mock:
        directory = Path(tmp)
        os.environ.update(emulator.environment())
        create_database(emulator)
        config = write_config(directory)
        with lambda_stub() as (stub_url, invocations):
            heading(
                f"1. Warm ack latency of a signed `/env status {COMPOSITION}` (HTTP API event)",
                "slack-bolt's minimal app with one lazy listener, Bolt's Lambda adapter.",
            )
            warm = measure_warm(mock, config, stub_url)
            replies = mock.calls("response_url")
            print_warm(warm, str(replies[-1].body.get("text")) if replies else "none")
            print(f"lambda.invoke calls the stub received (warm-up included): {len(invocations)}")
            print()

            mock.clear()
            invocations.clear()
            heading(
                "2. Cold start in fresh interpreters: import, then the first signed request",
                "bolt's minimal app with a lazy listener; bare boto3 + STS client as reference.",
            )
            cold = measure_cold(mock, config, emulator, stub_url, directory)
            print_cold(cold, len(invocations))
            print()

        print(f"3. Import time of bot.slack_handler: top {IMPORTTIME_TOP} by cumulative time")
        print(
            f"   python -X importtime -c 'import bot.slack_handler'; {IMPORTTIME_RUNS} runs, median"
        )
        print()
        print_import_times(import_times())
    print(f"\nTotal benchmark time: {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
