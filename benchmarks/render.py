"""Render benchmark: time and size of generated state machines for large compositions.

What is measured, for compositions of 10, 100 and 500 resources built through the
real loader (``parse_config`` on generated YAML) from a repeating, realistic mix of
every resource kind (RDS clusters and instances, Redshift, ECS services, Auto
Scaling groups, EC2 instances, EFS, FSx for Windows and waits; some items in
``parallel`` groups):

* render time of ``build_state_machine(composition, Action.START / Action.STOP)``:
  median and p95 over repeated runs, after warm-up runs;
* the definition size in bytes of ``definition_json(definition)`` (exactly what
  ``runtime.deploy`` sends to Step Functions) and the number of states, counting
  the states inside ``Parallel`` branches.

Baseline: absolute timings depend on the machine, so each render time is also shown
as a ratio against a baseline measured in the same run on the same definition — one
``json.loads(json.dumps(definition))`` round trip, i.e. the least any code producing
that document has to pay to serialise and read it back. Render and baseline runs
alternate, so load on the machine affects both alike; the cyclic garbage collector is
paused while they run, as ``timeit`` does. A ratio of 3.0 means rendering costs three
JSON round trips of its own output; a ratio that grows with the resource count means
rendering scales worse than linearly.

Limits (informative lines after the table):

* Step Functions refuses definitions over 1 MB (1,048,576 bytes): bisection over the
  resource count (same mix) finds the largest composition whose start AND stop
  definitions both fit.
* Step Functions keeps at most 25,000 events in one execution's history. The events
  of a start in which every resource is ready on the first describe after its action
  are counted by walking the generated start machine (``history``: the trigger,
  lease and audit states on the way to its Succeed state, then Prepare, Describe,
  Choice, action, Describe, Choice, Done per resource); bisection then finds the largest
  composition one execution could handle. Every extra poll adds events, so real
  executions reach the limit sooner.

Run it with ``make bench`` or ``.venv/bin/python benchmarks/render.py``. It takes
well under a minute on two cores, makes no AWS calls, asserts nothing and exits 0.
"""

from __future__ import annotations

import gc
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from history import EVENTS_PER_STATE, EXECUTION_EVENTS, happy_path_events

from scheduler_core.asl.builder import build_state_machine, definition_json
from scheduler_core.config import Composition, parse_config
from scheduler_core.resources import Action

SIZES = (10, 100, 500)
COMPOSITION_NAME = "bench"
CONFIG_PATH = Path("bench.yaml")
WARM_UP_RUNS = 3
MIN_REPETITIONS = 30
MAX_REPETITIONS = 300
# Time spent on the timed runs of one (size, action) pair, render and baseline together.
SECONDS_PER_MEASUREMENT = 2.5

MAX_DEFINITION_BYTES = 1_048_576
MAX_HISTORY_EVENTS = 25_000

# One block of the mix: ten resources, half of them in parallel groups, some with the
# optional item settings. Each entry is (parallel group within the block or None, item);
# "{n}" in a string becomes the block number, so every resource is distinct.
MIX_BLOCK: tuple[tuple[str | None, dict[str, Any]], ...] = (
    (None, {"type": "rds_cluster", "params": {"id": "shop-aurora-{n}"}}),
    ("data", {"type": "rds_instance", "params": {"id": "shop-reporting-db-{n}"}}),
    ("data", {"type": "redshift_cluster", "params": {"id": "shop-warehouse-{n}"}}),
    (None, {"type": "wait", "params": {"seconds": 30}}),
    (
        "apps",
        {
            "type": "ecs_service",
            "params": {"cluster_name": "shop-{n}", "name": "api", "desired": 2},
        },
    ),
    (
        "apps",
        {
            "type": "ecs_service",
            "params": {"cluster_name": "shop-{n}", "name": "worker", "desired": "1"},
            "ready_timeout_seconds": 900,
        },
    ),
    (
        "apps",
        {
            "type": "auto_scaling_group",
            "params": {"name": "shop-batch-{n}", "min": 1, "max": 4, "desired": 2},
        },
    ),
    (None, {"type": "ec2_instance", "params": {"id": "i-0a1b2c3d4e5f6{n}"}}),
    (
        None,
        {
            "type": "efs_file_system",
            "params": {"id": "fs-0a1b2c3d4e{n}", "provisioned_throughput_in_mibps": 128},
            "wait_until_ready": False,
        },
    ),
    (
        None,
        {
            "type": "fsx_windows_file_system",
            "params": {"id": "fs-0f1e2d3c4b{n}", "throughput_capacity": 64},
        },
    ),
)


@dataclass(frozen=True, kw_only=True)
class Timing:
    """Median and p95 of repeated runs, in seconds."""

    median: float
    p95: float


@dataclass(frozen=True, kw_only=True)
class Measurement:
    """One row of the table: a composition size and action."""

    resources: int
    action: Action
    states: int
    definition_bytes: int
    render: Timing
    baseline: Timing
    repetitions: int


# --- compositions -------------------------------------------------------------


def numbered(value: Any, number: str) -> Any:
    """Copy of a mix item with "{n}" in its strings replaced by ``number``."""
    if isinstance(value, dict):
        return {key: numbered(item, number) for key, item in value.items()}
    return value.replace("{n}", number) if isinstance(value, str) else value


def mix_steps(count: int) -> list[dict[str, Any]]:
    """The first ``count`` items of the repeating mix, grouped into steps as listed."""
    steps: list[dict[str, Any]] = []
    open_group: str | None = None
    for index in range(count):
        block, position = divmod(index, len(MIX_BLOCK))
        group, template = MIX_BLOCK[position]
        item = numbered(template, f"{block:04d}")
        group_key = f"{group}-{block}" if group else None
        if group_key is None:
            steps.append(item)
        elif group_key == open_group:
            steps[-1]["parallel"].append(item)
        else:
            steps.append({"parallel": [item]})
        open_group = group_key
    return steps


def composition_yaml(count: int) -> str:
    """A compositions file with one composition of ``count`` resources."""
    document = {"compositions": {COMPOSITION_NAME: {"resources": mix_steps(count)}}}
    return yaml.safe_dump(document, sort_keys=False)


def load_composition(count: int) -> Composition:
    config = parse_config(composition_yaml(count), path=CONFIG_PATH)
    return config.get(COMPOSITION_NAME)


# --- definitions --------------------------------------------------------------


def definition_bytes(definition: dict[str, Any]) -> int:
    """Size as deployed: ``runtime.deploy`` sends ``definition_json(definition)``."""
    return len(definition_json(definition).encode("utf-8"))


def count_states(states: dict[str, Any]) -> int:
    """Every state, including those inside Parallel branches."""
    total = len(states)
    for state in states.values():
        for branch in state.get("Branches", []):
            total += count_states(branch["States"])
    return total


# --- timing -------------------------------------------------------------------


def round_trip(definition: dict[str, Any]) -> None:
    json.loads(json.dumps(definition))


def elapsed(run: Callable[[], object]) -> float:
    begin = time.perf_counter()
    run()
    return time.perf_counter() - begin


def summarise(samples: list[float]) -> Timing:
    p95 = statistics.quantiles(samples, n=20, method="inclusive")[-1]
    return Timing(median=statistics.median(samples), p95=p95)


def repetitions_for(seconds_per_pair: float) -> int:
    wanted = math.ceil(SECONDS_PER_MEASUREMENT / max(seconds_per_pair, 1e-9))
    return max(MIN_REPETITIONS, min(MAX_REPETITIONS, wanted))


def measure(composition: Composition, action: Action) -> Measurement:
    """Time render and baseline alternately, after warm-up runs of both."""
    definition = build_state_machine(composition, action)
    render = partial(build_state_machine, composition, action)
    baseline = partial(round_trip, definition)
    warm_up = [elapsed(render) + elapsed(baseline) for _ in range(WARM_UP_RUNS)]
    repetitions = repetitions_for(min(warm_up))
    render_samples: list[float] = []
    baseline_samples: list[float] = []
    # As timeit does: the cyclic collector is paused so its pauses, triggered by
    # whatever allocated before, do not land at random in the samples. Neither the
    # definition nor its JSON copy holds cycles, so reference counting frees them.
    gc.collect()
    gc.disable()
    try:
        for _ in range(repetitions):
            render_samples.append(elapsed(render))
            baseline_samples.append(elapsed(baseline))
    finally:
        gc.enable()
    return Measurement(
        resources=len(composition.items()),
        action=action,
        states=count_states(definition["States"]),
        definition_bytes=definition_bytes(definition),
        render=summarise(render_samples),
        baseline=summarise(baseline_samples),
        repetitions=repetitions,
    )


# --- limits -------------------------------------------------------------------


def largest_passing(passes: Callable[[int], bool], *, guess: int) -> int:
    """Largest resource count for which ``passes`` holds; 0 when none does.

    ``passes`` must be monotonic (true up to some count, false after). Each probe
    loads and renders a whole composition, so the search gallops out from ``guess``
    (extrapolated from the measured sizes) to bracket the answer, then bisects.
    """
    low, high, step = max(guess, 1) - 1, max(guess, 1), 1
    if passes(high):
        low, high = high, high + 1
        while passes(high):
            low, high, step = high, high + step, step * 2
    else:
        while low > 0 and not passes(low):
            high, low, step = low, max(low - step, 0), step * 2
    while high - low > 1:
        middle = (low + high) // 2
        if passes(middle):
            low = middle
        else:
            high = middle
    return low


def fits_definition_limit(count: int) -> bool:
    composition = load_composition(count)
    return all(
        definition_bytes(build_state_machine(composition, action)) <= MAX_DEFINITION_BYTES
        for action in Action
    )


def start_events(count: int) -> int:
    """History events of a happy-path start of the composition of ``count`` resources."""
    start = build_state_machine(load_composition(count), Action.START)
    return EXECUTION_EVENTS + happy_path_events(start)


def fits_history_limit(count: int) -> bool:
    return start_events(count) <= MAX_HISTORY_EVENTS


def polled_resource_events() -> int:
    """Events of the first item of the mix (an RDS cluster) alone: its Parallel branch."""
    start = build_state_machine(load_composition(1), Action.START)
    return sum(
        happy_path_events(branch)
        for state in start["States"].values()
        for branch in state.get("Branches", [])
    )


# --- output -------------------------------------------------------------------

COLUMNS = (
    ("resources", 9),
    ("action", 6),
    ("states", 6),
    ("bytes", 9),
    ("% of 1 MB", 9),
    ("render med", 10),
    ("render p95", 10),
    ("base med", 10),
    ("base p95", 10),
    ("ratio med", 9),
    ("ratio p95", 9),
    ("runs", 4),
)


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def table_row(cells: tuple[str, ...]) -> str:
    return "  ".join(cell.rjust(width) for cell, (_, width) in zip(cells, COLUMNS, strict=True))


def measurement_row(row: Measurement) -> str:
    return table_row(
        (
            str(row.resources),
            row.action.value,
            str(row.states),
            f"{row.definition_bytes:,}",
            f"{100 * row.definition_bytes / MAX_DEFINITION_BYTES:.1f}%",
            milliseconds(row.render.median),
            milliseconds(row.render.p95),
            milliseconds(row.baseline.median),
            milliseconds(row.baseline.p95),
            f"{row.render.median / row.baseline.median:.2f}x",
            f"{row.render.p95 / row.baseline.p95:.2f}x",
            str(row.repetitions),
        )
    )


def print_table(rows: list[Measurement]) -> None:
    header = table_row(tuple(title for title, _ in COLUMNS))
    print(header)
    print("-" * len(header))
    for row in rows:
        print(measurement_row(row))


def print_limits(rows: list[Measurement]) -> None:
    """Bisect both limits, guessing linearly from the largest measured composition."""
    largest_row = max(rows, key=lambda row: (row.resources, row.definition_bytes))
    size_guess = largest_row.resources * MAX_DEFINITION_BYTES // largest_row.definition_bytes
    fitting = largest_passing(fits_definition_limit, guess=size_guess)
    composition = load_composition(fitting)
    sizes = {
        action: definition_bytes(build_state_machine(composition, action)) for action in Action
    }
    print(f"Definition limit: Step Functions accepts at most {MAX_DEFINITION_BYTES:,} bytes.")
    print(
        f"  Largest composition whose start AND stop both fit: {fitting} resources "
        f"(start {sizes[Action.START]:,} bytes, stop {sizes[Action.STOP]:,} bytes)."
    )

    measured = largest_row.resources
    events_guess = measured * MAX_HISTORY_EVENTS // start_events(measured)
    handled = largest_passing(fits_history_limit, guess=events_guess)
    events = start_events(handled)
    print(
        f"History limit (informative): one execution keeps at most {MAX_HISTORY_EVENTS:,} events."
    )
    print(
        f"  A start where each resource is ready on the first describe after its action: "
        f"{polled_resource_events()} events per polled resource\n"
        f"  (Prepare, Describe, Choice, action, Describe, Choice, Done; an Aurora cluster "
        f"describes its members too), "
        f"{events / handled:.1f} per resource of this mix on average."
    )
    print(
        f"  Largest composition one execution could handle: {handled} resources "
        f"({events:,} events).\n"
        f"  Each extra poll of a resource adds {events_per_poll()} events, so real starts "
        f"reach the limit with fewer resources."
    )


def events_per_poll() -> int:
    # Wait, Count (Pass), Describe (Task), Is ready? (Choice).
    return sum(EVENTS_PER_STATE[kind] for kind in ("Wait", "Pass", "Task", "Choice"))


def main() -> int:
    began = time.perf_counter()
    print(f"envctl render benchmark (Python {sys.version.split()[0]})")
    print("Baseline: json.loads(json.dumps(definition)) of the same definition, same run.")
    print("Ratio: render time / baseline time (median / median, p95 / p95).")
    print()
    rows = [
        measure(composition, action)
        for composition in (load_composition(size) for size in SIZES)
        for action in Action
    ]
    print_table(rows)
    print()
    print_limits(rows)
    print(f"\nTotal benchmark time: {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
