"""Window analysis benchmark: 1,000 resources over 52 weeks, against the brute force.

What is measured: ``analyse_windows`` for eight compositions in seven timezones
(office hours, an overnight schedule, a weekday-long run, a daily run and an
on-demand one), 125 resources each — 60 % RDS instances and 25 % Aurora clusters
(a weekly maintenance and a daily backup window each), 15 % Redshift clusters
(a weekly maintenance window) — and one AWS Backup rule in every tenth resource
(the same rule per composition, as one backup plan usually selects many resources).
Windows are placed pseudo-randomly (fixed seed), 30 minutes long, margin 15.
The analysis time is the median of several runs of the whole set; each run starts
with empty caches.

Baseline: the brute-force oracle of ``tests/unit/test_windows.py``, which walks
every minute of the 52 weeks. It is far too slow to run on all windows, so it is
timed on a sample of 10 windows (spread over the compositions), each from scratch
(its per-timezone and per-schedule caches cleared first, as an independent check
of one window would run), and extrapolated per window to the whole set. The ratio
is that estimate over the measured analysis time. The two also agree on the sample.

Run it with ``.venv/bin/python benchmarks/windows.py``; it makes no AWS calls,
asserts nothing and exits 0.
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# The brute-force oracle lives with the tests it checks; import it from there.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scheduler_core.config.models import ON_DEMAND, Composition, Notify
from scheduler_core.windows import (
    BackupRuleWindow,
    ResourceWindow,
    WindowAnalysis,
    analyse_windows,
)
from scheduler_core.windows import specs as window_specs
from tests.unit import test_windows as oracle

NOW = datetime(2026, 1, 5, tzinfo=UTC)
WEEKS = 52
RESOURCES = 1000
RUNS = 3
SAMPLE = 10
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# name, timezone, start, stop
SCHEDULES = (
    ("ams-office", "Europe/Amsterdam", "0 8 ? * MON-FRI *", "0 19 ? * MON-FRI *"),
    ("nyc-office", "America/New_York", "0 7 ? * MON-FRI *", "0 20 ? * MON-FRI *"),
    ("kol-office", "Asia/Kolkata", "0 9 ? * MON-FRI *", "0 18 ? * MON-FRI *"),
    ("syd-overnight", "Australia/Sydney", "0 20 ? * MON-FRI *", "0 7 ? * TUE-SAT *"),
    ("utc-weekdays", "UTC", "0 0 ? * MON *", "0 0 ? * SAT *"),
    ("lon-office", "Europe/London", "30 8 ? * MON-FRI *", "30 18 ? * MON-FRI *"),
    ("la-daily", "America/Los_Angeles", "0 6 * * ? *", "0 22 * * ? *"),
    ("on-demand", "UTC", ON_DEMAND, ON_DEMAND),
)


@dataclass(frozen=True, kw_only=True)
class Workload:
    """One composition and the windows of its resources."""

    composition: Composition
    windows: tuple[ResourceWindow, ...]


def composition(name: str, timezone: str, start: str, stop: str) -> Composition:
    return Composition(
        name=name,
        description="",
        timezone=timezone,
        start_resources_at=start,
        stop_resources_at=stop,
        auto_stop_after=None,
        window_margin_minutes=15,
        notify=Notify(),
        access=None,
        resources=(),
    )


def resource_windows(index: int, timezone: str, rng: random.Random) -> list[ResourceWindow]:
    """The windows of resource ``index``: its type follows the 60/25/15 mix."""
    share = index % 20
    kind = "rds_instance" if share < 12 else "rds_cluster" if share < 17 else "redshift_cluster"
    name = f"db-{index:04d}"
    day, hour, minute = rng.randrange(7), rng.randrange(24), rng.randrange(0, 60, 5)
    end = hour * 60 + minute + 30
    end_day = DAYS[(day + end // 1440) % 7]
    maintenance = (
        f"{DAYS[day]}:{hour:02d}:{minute:02d}-{end_day}:{end // 60 % 24:02d}:{end % 60:02d}"
    )
    windows = [ResourceWindow.maintenance(kind, name, maintenance)]
    if kind != "redshift_cluster":
        hour, minute = rng.randrange(24), rng.randrange(0, 60, 5)
        end = hour * 60 + minute + 30
        backup = f"{hour:02d}:{minute:02d}-{end // 60 % 24:02d}:{end % 60:02d}"
        windows.append(ResourceWindow.backup(kind, name, backup))
    if index % 10 == 0:
        windows.append(
            ResourceWindow.aws_backup(
                kind,
                name,
                expression="cron(0 1 ? * * *)",
                timezone=timezone,
                start_window_minutes=240,
            )
        )
    return windows


def workloads() -> list[Workload]:
    rng = random.Random(20260105)
    per_composition = RESOURCES // len(SCHEDULES)
    built = []
    for number, (name, timezone, start, stop) in enumerate(SCHEDULES):
        windows = [
            window
            for index in range(number * per_composition, (number + 1) * per_composition)
            for window in resource_windows(index, timezone, rng)
        ]
        built.append(
            Workload(composition=composition(name, timezone, start, stop), windows=tuple(windows))
        )
    return built


def analyse_all(loads: list[Workload]) -> tuple[float, list[list[WindowAnalysis]]]:
    window_specs._runs.cache_clear()
    gc.collect()
    begin = time.perf_counter()
    results = [
        analyse_windows(load.composition, load.windows, now=NOW, weeks=WEEKS) for load in loads
    ]
    return time.perf_counter() - begin, results


def oracle_window(window: ResourceWindow) -> oracle.WindowSpec:
    """The window as the oracle takes it: API text, or the backup rule's parts."""
    spec = window.spec
    if isinstance(spec, BackupRuleWindow):
        return ("aws_backup", f"cron({spec.fields})", spec.timezone, spec.start_window_minutes)
    return (str(window.kind), window.window)


def brute_force_sample(loads: list[Workload]) -> tuple[float, int]:
    """Seconds per window of the brute force on a sample, and how many agreed."""
    picks = [
        (load, load.windows[(position * 7) % len(load.windows)])
        for position, load in enumerate(loads * 2)
    ][:SAMPLE]
    elapsed, agreed = 0.0, 0
    for load, window in picks:
        for cached in (oracle.wall_minutes, oracle.first_instances, oracle.running_minutes):
            cached.cache_clear()
        target = load.composition
        begin = time.perf_counter()
        uncovered, total = oracle.brute_force(
            timezone=target.timezone,
            start=target.start_resources_at,
            stop=target.stop_resources_at,
            margin=target.window_margin_minutes,
            window=oracle_window(window),
            now=NOW,
            weeks=WEEKS,
        )
        elapsed += time.perf_counter() - begin
        [analysis] = analyse_windows(target, [window], now=NOW, weeks=WEEKS)
        agreed += (analysis.uncovered_occurrences, analysis.occurrences) == (uncovered, total)
    return elapsed / len(picks), agreed


def main() -> int:
    print(f"envctl window analysis benchmark (Python {sys.version.split()[0]})")
    print(
        f"{RESOURCES} resources, {len(SCHEDULES)} compositions, {WEEKS} weeks from {NOW:%Y-%m-%d}"
    )
    loads = workloads()
    timings, results = [], []
    for _ in range(RUNS):
        seconds, results = analyse_all(loads)
        timings.append(seconds)
    windows = sum(len(load.windows) for load in loads)
    print()
    header = (
        f"{'composition':<15}{'timezone':<21}{'windows':>8}"
        f"{'occurrences':>13}{'uncovered':>11}{'brackets':>10}"
    )
    print(header)
    print("-" * len(header))
    for load, analyses in zip(loads, results, strict=True):
        print(
            f"{load.composition.name:<15}{load.composition.timezone:<21}{len(analyses):>8}"
            f"{sum(a.occurrences for a in analyses):>13,}"
            f"{sum(a.uncovered_occurrences for a in analyses):>11,}"
            f"{sum(1 for a in analyses if a.brackets):>10}"
        )
    analysis_seconds = statistics.median(timings)
    per_window, agreed = brute_force_sample(loads)
    estimate = per_window * windows
    print()
    print(
        f"analysis, all {windows} windows: {analysis_seconds:.3f} s (median of {RUNS} runs; "
        f"{1000 * analysis_seconds / windows:.3f} ms per window)"
    )
    print(
        f"brute force, sample of {SAMPLE} windows, each from scratch: "
        f"{per_window:.3f} s per window; agrees with the analysis on {agreed}/{SAMPLE}"
    )
    print(
        f"brute force extrapolated to {windows} windows "
        f"(sample time per window x {windows}): {estimate:,.0f} s"
    )
    print(f"ratio brute force / analysis: {estimate / analysis_seconds:,.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
