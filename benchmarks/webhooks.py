"""Webhook API benchmark: warm handler latency, and requests/s of ``envctl serve``.

What is measured:

* Warm handler latency. API Gateway events (``infra.slack.signing.api_gateway_event``)
  go through ``build_api(...).handle(event, LocalContext())`` — the webhook Lambda's
  handler — against the emulator (moto in this process, ``Emulator().start()``). The
  time is that of ``handle`` alone; events are built outside the timed section.

  - ``GET /webhooks/compositions/bench``: the composition holds one RDS instance
    created in the emulator; the route reads its status and looks for a running
    start or stop execution.
  - ``POST /webhooks/compositions/starter/start``: ``starter`` holds a single
    ``wait`` of 0 seconds, so its executions are cheap. Every start request is
    followed by waiting, untimed, until its execution has ended. Two starts of one
    composition would conflict (409) while the first runs, and the emulator runs
    executions on threads of this process (about 0.15 s of CPU each): without the
    wait the next timed start would share the CPU with the previous execution and
    the figure would be the emulator's, not the handler's. The waiting makes a start
    cost about 0.25 s of wall time, so fewer starts than status requests are timed to
    keep the run short. One composition, started again each time, rather than one
    composition per request: the state machines of ``bench`` and ``starter`` are
    deployed before timing (as ``envctl apply`` would), so each timed start is the
    steady-state path (describe the machine, compare, no create); deploying a
    thousand machines for 500 fresh compositions would take the emulator over a
    minute, and without it every start would time a first-ever deployment. No
    ``Idempotency-Key`` header is sent, so the DynamoDB idempotency layer is not on
    the path. The execution the start begins runs on this process's threads while
    the handler writes its audit record: that overlap is inside the timed section,
    where on AWS the execution would run elsewhere.

  Baseline, same handler, same run, interleaved with each route: the same event with
  a wrong ``x-api-key``, refused with 401 before the resolver runs. Each route's
  ratio is against the baseline measured alongside it.
* Requests/s of ``envctl serve``'s HTTP server: ``LocalServer(None,
  webhooks=_serialised(api.handle))`` on a free port of 127.0.0.1, the server
  ``envctl serve`` runs, and client threads sending ``GET`` status requests with
  urllib (a new connection per request, proxies disabled) for a fixed count, with a
  time cap; the load stops by itself at whichever comes first. Reported: requests/s,
  errors (exceptions, or a status other than the one expected), p50/p99 latency as
  seen by the client. Baseline, same server, same run: the same load on ``GET
  /nothing``, which the server answers 404 itself without calling the webhook
  handler, so the ratio is what the webhook handler (one request at a time, under
  ``_serialised``) costs on top of the HTTP server. The clients, the server and the
  emulator share one interpreter (and its GIL), so the figures are for the whole
  process on this machine.

Run it with ``.venv/bin/python benchmarks/webhooks.py`` from the repository root. It
takes about 80 s, sends traffic only to 127.0.0.1, asserts nothing and exits 0.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Run as `python benchmarks/<name>.py`: this folder is on sys.path.
from figures import Latency, latency, ms, print_table, ratio

from bot.settings import WebhookSettings
from bot.webhook_handler import build_api
from bot.webhooks.app import WebhookApi
from infra.emulator.server import Emulator
from infra.serve import LocalContext, LocalServer, _serialised
from infra.slack.signing import api_gateway_event
from scheduler_core.reconcile import apply_plan, make_plan

API_KEY = "bench-key-0123456789"
WRONG_KEY = "not-the-api-key-0000"
STATUS_COMPOSITION = "bench"
START_COMPOSITION = "starter"
DATABASE = "bench-db"
STATUS_REQUESTS = 500
START_REQUESTS = 120
WARM_UP_STATUS = 20
WARM_UP_START = 10
EXECUTION_TIMEOUT = 10.0
EXECUTION_POLL = 0.005
LOAD_THREADS = 4
LOAD_REQUESTS = 600
LOAD_SECONDS = 12.0
CLIENT_TIMEOUT = 10.0
PATH_STATUS = f"/webhooks/compositions/{STATUS_COMPOSITION}"
PATH_START = f"/webhooks/compositions/{START_COMPOSITION}/start"


# --- helpers ------------------------------------------------------------------


def write_config(directory: Path) -> Path:
    path = directory / "compositions.yaml"
    document = {
        "compositions": {
            STATUS_COMPOSITION: {
                "resources": [{"type": "rds_instance", "params": {"id": DATABASE}}]
            },
            START_COMPOSITION: {"resources": [{"type": "wait", "params": {"seconds": 0}}]},
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


def deploy(api: WebhookApi) -> None:
    """What ``envctl apply`` leaves for both compositions (state machines, schedules)."""
    runtime = api.runtime()
    apply_plan(runtime.aws, make_plan(runtime.aws, runtime.settings, api.config()))


def event(path: str, method: str, key: str) -> dict[str, Any]:
    return api_gateway_event("", {"x-api-key": key}, path=path, method=method)


# --- warm handler latency -----------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RoutePair:
    """A route and its 401 baseline, measured interleaved."""

    route: Latency
    refused: Latency


@dataclass(frozen=True, kw_only=True)
class WarmResult:
    status: RoutePair
    start: RoutePair
    sample_status: str
    sample_start: str
    unexpected: list[str]


def timed(api: WebhookApi, request: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    context = LocalContext()
    begin = time.perf_counter()
    response = api.handle(request, context)
    return time.perf_counter() - begin, response


def wait_for_execution(sfn: Any, arn: str) -> str:
    """Poll (untimed) until the execution is no longer RUNNING; returns its status."""
    deadline = time.monotonic() + EXECUTION_TIMEOUT
    while True:
        status = str(sfn.describe_execution(executionArn=arn)["status"])
        if status != "RUNNING" or time.monotonic() > deadline:
            return status
        time.sleep(EXECUTION_POLL)


def measure_route(
    api: WebhookApi,
    *,
    path: str,
    method: str,
    expected: int,
    count: int,
    warm_up: int,
    after: Callable[[dict[str, Any]], str | None],
    unexpected: list[str],
) -> tuple[RoutePair, str]:
    """Warm-up, then ``count`` rounds of: the route, the same request refused with 401."""
    samples: dict[str, list[float]] = {"route": [], "refused": []}
    last_body = ""
    for index in range(warm_up + count):
        record = index >= warm_up
        runs = (("route", API_KEY, expected), ("refused", WRONG_KEY, 401))
        for name, key, wanted in runs:
            seconds, response = timed(api, event(path, method, key))
            status = int(response.get("statusCode", 0))
            if status != wanted:
                unexpected.append(f"{method} {path} ({name}) #{index}: HTTP {status}")
            if name == "route":
                last_body = str(response.get("body") or "")
                problem = after(response)
                if problem:
                    unexpected.append(f"{method} {path} #{index}: {problem}")
            if record:
                samples[name].append(seconds)
    pair = RoutePair(route=latency(samples["route"]), refused=latency(samples["refused"]))
    return pair, last_body


def measure_warm(api: WebhookApi, emulator: Emulator) -> WarmResult:
    sfn = emulator.client("stepfunctions")
    unexpected: list[str] = []

    def nothing(_: dict[str, Any]) -> str | None:
        return None

    def finish_execution(response: dict[str, Any]) -> str | None:
        try:
            arn = json.loads(response.get("body") or "{}")["executionArn"]
        except (ValueError, KeyError):
            return "no executionArn in the answer"
        final = wait_for_execution(sfn, arn)
        return None if final == "SUCCEEDED" else f"execution ended {final}"

    status, sample_status = measure_route(
        api,
        path=PATH_STATUS,
        method="GET",
        expected=200,
        count=STATUS_REQUESTS,
        warm_up=WARM_UP_STATUS,
        after=nothing,
        unexpected=unexpected,
    )
    start, sample_start = measure_route(
        api,
        path=PATH_START,
        method="POST",
        expected=202,
        count=START_REQUESTS,
        warm_up=WARM_UP_START,
        after=finish_execution,
        unexpected=unexpected,
    )
    return WarmResult(
        status=status,
        start=start,
        sample_status=sample_status,
        sample_start=sample_start,
        unexpected=unexpected,
    )


def print_warm(result: WarmResult) -> None:
    columns = (
        ("request (build_api(...).handle)", 44),
        ("timed", 5),
        ("p50", 10),
        ("p99", 10),
        ("p50 ratio", 9),
        ("p99 ratio", 9),
    )

    def rows_for(title: str, pair: RoutePair) -> list[tuple[str, ...]]:
        route, base = pair.route, pair.refused
        return [
            (
                title,
                str(route.requests),
                ms(route.p50),
                ms(route.p99),
                ratio(route.p50, base.p50),
                ratio(route.p99, base.p99),
            ),
            (
                "  baseline: wrong x-api-key → 401",
                str(base.requests),
                ms(base.p50),
                ms(base.p99),
                "1.00x",
                "1.00x",
            ),
        ]

    rows = [
        *rows_for(f"GET {PATH_STATUS} → 200", result.status),
        *rows_for("POST .../starter/start → 202", result.start),
    ]
    print_table(columns, rows)
    print(
        f"Each route interleaved with its baseline, after {WARM_UP_STATUS} (status) and "
        f"{WARM_UP_START} (start) warm-up rounds;\neach start's execution awaited (untimed) "
        "before the next request."
    )
    print(f"Last status answer: {result.sample_status}")
    print(f"Last start answer:  {result.sample_start}")
    for problem in result.unexpected[:5]:
        print(f"  unexpected: {problem}")
    if len(result.unexpected) > 5:
        print(f"  ... and {len(result.unexpected) - 5} more")


# --- requests/s of the local server -------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LoadResult:
    name: str
    sent: int
    errors: int
    seconds: float
    latency: Latency
    capped: bool
    first_error: str

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


def run_load(name: str, url: str, *, expected: int) -> LoadResult:
    """LOAD_THREADS clients share LOAD_REQUESTS requests; all stop at LOAD_SECONDS."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    lock = threading.Lock()
    remaining = [LOAD_REQUESTS]
    samples: list[float] = []
    errors: list[str] = []
    began = time.perf_counter()
    deadline = began + LOAD_SECONDS

    def claim() -> bool:
        with lock:
            if remaining[0] <= 0 or time.perf_counter() >= deadline:
                return False
            remaining[0] -= 1
            return True

    def one() -> str | None:
        request = urllib.request.Request(url, headers={"x-api-key": API_KEY}, method="GET")
        try:
            with opener.open(request, timeout=CLIENT_TIMEOUT) as response:
                response.read()
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            exc.read()
            status = int(exc.code)
        except OSError as exc:
            return f"{type(exc).__name__}: {exc}"
        return None if status == expected else f"HTTP {status}"

    def client() -> None:
        while claim():
            begin = time.perf_counter()
            problem = one()
            seconds = time.perf_counter() - begin
            with lock:
                samples.append(seconds)
                if problem:
                    errors.append(problem)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LOAD_SECONDS + CLIENT_TIMEOUT + 5)
    elapsed = time.perf_counter() - began
    return LoadResult(
        name=name,
        sent=len(samples),
        errors=len(errors),
        seconds=elapsed,
        latency=latency(samples),
        capped=len(samples) < LOAD_REQUESTS,
        first_error=errors[0] if errors else "",
    )


def measure_load(api: WebhookApi) -> tuple[LoadResult, LoadResult]:
    server = LocalServer(None, webhooks=_serialised(api.handle)).start()
    try:
        # A few untimed requests so both paths are warm on this server.
        for path in (PATH_STATUS, "/nothing"):
            for _ in range(5):
                request = urllib.request.Request(server.url + path, headers={"x-api-key": API_KEY})
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                try:
                    with opener.open(request, timeout=CLIENT_TIMEOUT) as response:
                        response.read()
                except urllib.error.HTTPError as exc:
                    exc.read()
        baseline = run_load("baseline: GET /nothing → 404", server.url + "/nothing", expected=404)
        status = run_load(f"GET {PATH_STATUS} → 200", server.url + PATH_STATUS, expected=200)
    finally:
        server.stop()
    return status, baseline


def print_load(status: LoadResult, baseline: LoadResult) -> None:
    columns = (
        ("load (LocalServer, 127.0.0.1)", 40),
        ("sent", 5),
        ("seconds", 7),
        ("req/s", 8),
        ("errors", 6),
        ("p50", 10),
        ("p99", 10),
        ("req/s ratio", 11),
        ("p50 ratio", 9),
    )
    rows = [
        (
            row.name,
            str(row.sent),
            f"{row.seconds:.2f}",
            f"{row.per_second:.1f}",
            f"{100 * row.errors / row.sent:.1f}%" if row.sent else "n/a",
            ms(row.latency.p50),
            ms(row.latency.p99),
            ratio(row.per_second, baseline.per_second),
            ratio(row.latency.p50, baseline.latency.p50),
        )
        for row in (status, baseline)
    ]
    print_table(columns, rows)
    print(
        f"{LOAD_THREADS} client threads, at most {LOAD_REQUESTS} requests or "
        f"{LOAD_SECONDS:.0f} s per row; errors are exceptions or an unexpected status."
    )
    for row in (status, baseline):
        if row.capped:
            print(f"  {row.name}: stopped by the {LOAD_SECONDS:.0f} s cap after {row.sent}.")
        if row.first_error:
            print(f"  {row.name}: first error: {row.first_error}")


# --- main ---------------------------------------------------------------------


def main() -> int:
    began = time.perf_counter()
    logging.disable(logging.WARNING)  # keep the output to the tables
    print(f"envctl webhooks benchmark (Python {sys.version.split()[0]})")
    print("Baselines: 401 for a wrong x-api-key (handler); 404 on /nothing (server).")
    print("Ratios: measured figure / baseline figure, same run.")
    print()
    emulator = Emulator().start()
    try:
        os.environ.update(emulator.environment())
        os.environ["ENVCTL_WEBHOOK_API_KEYS"] = f"bench={API_KEY}"
        with tempfile.TemporaryDirectory(prefix="envctl-bench-") as directory:
            config = write_config(Path(directory))
            os.environ["ENVCTL_CONFIG"] = str(config)
            create_database(emulator)
            api = build_api(WebhookSettings.from_env())
            deploy(api)

            print(
                f"Warm handler latency ({STATUS_REQUESTS} status, {START_REQUESTS} start "
                "requests, emulator in process):"
            )
            print_warm(measure_warm(api, emulator))
            print()
            print("Requests/s of envctl serve's HTTP server (webhooks handler serialised):")
            print_load(*measure_load(api))
    finally:
        emulator.stop()
    print(f"\nTotal benchmark time: {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
