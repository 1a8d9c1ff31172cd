"""Apply benchmark: `envctl apply` for 50 compositions against the local emulator.

Measures, in one run against an in-process emulator:

* the first apply (everything created) and the second apply (nothing to do): wall
  time, AWS calls made, and how many of them were writes — the second apply must
  make none;
* a baseline from the same run: the median time of one read call
  (``stepfunctions.list_state_machines``) against the same emulator, so the apply
  times can be read as "N calls' worth" independently of the machine's speed.

Each composition has an RDS instance with windows (so the window analysis and the
bracket schedules are part of the work), an ECS service and an office-hours
schedule in one of several timezones. Run: ``.venv/bin/python benchmarks/apply.py``.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import boto3
import yaml

from infra.emulator.server import Emulator
from scheduler_core.aws import Aws
from scheduler_core.config import parse_config
from scheduler_core.reconcile import apply_plan, plan_everything
from scheduler_core.settings import Settings

COMPOSITIONS = 50
TIMEZONES = ["Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC"]
# Read operations by name; DynamoDB's Query and Scan read too (the run-state table).
READS = ("Describe", "Get", "List", "Query", "Scan", "BatchGet")


def create_resources(emulator: Emulator) -> None:
    rds = emulator.client("rds")
    for index in range(COMPOSITIONS):
        rds.create_db_instance(
            DBInstanceIdentifier=f"bench-db-{index}",
            Engine="postgres",
            DBInstanceClass="db.t4g.micro",
            AllocatedStorage=20,
            MasterUsername="envctl",
            MasterUserPassword="password-123",
            PreferredMaintenanceWindow="sun:03:00-sun:03:30",
            PreferredBackupWindow=f"{4 + index % 20:02d}:10-{4 + index % 20:02d}:40",
        )


def config_text() -> str:
    compositions = {
        f"bench-{index}": {
            "timezone": TIMEZONES[index % len(TIMEZONES)],
            "start_resources_at": "0 8 ? * MON-FRI *",
            "stop_resources_at": "0 19 ? * MON-FRI *",
            "resources": [
                {"type": "rds_instance", "params": {"id": f"bench-db-{index}"}},
                {
                    "type": "ecs_service",
                    "params": {"cluster_name": "c", "name": f"s{index}", "desired": 1},
                },
            ],
        }
        for index in range(COMPOSITIONS)
    }
    return yaml.safe_dump({"compositions": compositions})


def recording_aws() -> tuple[Aws, list[str]]:
    session = boto3.Session()
    calls: list[str] = []
    session.events.register("before-call", lambda model, **_: calls.append(model.name))
    return Aws(session), calls


def one_apply(config: object) -> tuple[float, list[str], int]:
    aws, calls = recording_aws()
    began = time.perf_counter()
    plan = plan_everything(aws, Settings(), config, now=datetime.now(UTC))  # type: ignore[arg-type]
    apply_plan(aws, plan)
    return time.perf_counter() - began, calls, len(plan.changes)


def baseline_call_seconds() -> float:
    client = Aws().client("stepfunctions")
    samples = []
    for _ in range(50):
        began = time.perf_counter()
        client.list_state_machines(maxResults=1)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    with Emulator() as emulator:
        os.environ.update(emulator.environment())
        create_resources(emulator)
        config = parse_config(config_text(), path=Path("bench.yaml"))
        first = one_apply(config)
        second = one_apply(config)
        baseline = baseline_call_seconds()
    print(f"envctl apply benchmark: {COMPOSITIONS} compositions against the local emulator")
    print(f"baseline: one read call (list_state_machines) median {baseline * 1000:.2f} ms\n")
    print(f"{'run':<14}{'changes':>9}{'calls':>8}{'writes':>8}{'seconds':>10}{'× baseline':>12}")
    for label, (seconds, calls, changes) in (("first apply", first), ("second apply", second)):
        writes = sum(1 for call in calls if not call.startswith(READS))
        print(
            f"{label:<14}{changes:>9}{len(calls):>8}{writes:>8}{seconds:>10.2f}"
            f"{seconds / baseline:>12.0f}"
        )
    second_writes = sum(1 for call in second[1] if not call.startswith(READS))
    print(f"\nsecond apply writes: {second_writes} (must be 0)")


if __name__ == "__main__":
    main()
