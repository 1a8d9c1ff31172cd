"""Window analysis benchmark: ``analyse_windows`` against a straightforward per-occurrence check.

Workload, for 100, 1,000 and 10,000 resources (``RESOURCE_COUNTS``) over 52 weeks:
eight compositions in seven timezones (office hours, an overnight schedule, a
weekday-long run, a daily run and an on-demand one; the office ones follow a holiday
calendar of ten dates), the resources dealt round them — 60 % RDS instances and 25 %
Aurora clusters (a weekly maintenance and a daily backup window each), 15 % Redshift
clusters (a weekly maintenance window) — and one AWS Backup rule in every tenth
resource (the same rule per composition, as one backup plan usually selects many
resources). Windows are placed pseudo-randomly (fixed seed), 30 minutes long, margin 15.

What is timed, paired and interleaved (each repetition runs envctl, then the
baseline, on the same windows; medians over the repetitions):

* envctl: ``analyse_windows`` for every composition, its caches emptied first
  (``clear_caches``), as one ``envctl windows`` or plan computes it;
* the baseline, what one writes without envctl: list the composition's scheduled
  starts (holidays left out) and stops over the weeks once, walking them with
  ``LocalCron`` (pyawscron, EventBridge's DST rules) from the last of each before the
  weeks; then, for each occurrence of each window (``spec.occurrences``, opening in
  the 52 weeks; a backup rule's runs listed once), look up (bisect) the last start and
  stop before it opens minus the margin and the next stop after: running, and no stop
  before it closes plus the margin, is covered. Above ``FULL_BASELINE_LIMIT`` resources
  the baseline checks every ``SAMPLE_STRIDE``-th window only: the time of its checks is
  scaled up by all windows' occurrences over the sampled ones, the listing counted once
  (the output says so).

Ratio: baseline time / envctl time for the same windows: how many times faster the
analysis answers than the per-occurrence check. Both give the same uncovered and
total occurrences for every window the baseline checks; the table counts them.

Two more lines: the fixed cost (one window per composition, caches empty: the
running time of each schedule over the weeks) and the same analysis with the caches
kept (what a further composition with the same timezone, schedule and holidays pays).

Run it with ``make bench`` or ``.venv/bin/python benchmarks/windows.py``; it makes no
AWS calls, asserts nothing and exits 0.
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from figures import print_table

from scheduler_core.config.models import ON_DEMAND, Composition, Notify
from scheduler_core.cron import LocalCron
from scheduler_core.windows import (
    BackupRuleWindow,
    ResourceWindow,
    WindowAnalysis,
    analyse_windows,
)
from scheduler_core.windows.analysis import clear_caches

NOW = datetime(2026, 1, 5, tzinfo=UTC)
WEEKS = 52
RESOURCE_COUNTS = (100, 1000, 10000)
RUNS = 9  # of envctl; the baseline runs in the first BASELINE_RUNS of them
BASELINE_RUNS = 3
FULL_BASELINE_LIMIT = 1000
SAMPLE_STRIDE = 20
MARGIN = 15
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOLIDAYS = tuple(
    date(2026, month, day)
    for month, day in (
        (1, 1),
        (4, 3),
        (4, 6),
        (5, 1),
        (5, 14),
        (5, 25),
        (8, 31),
        (12, 24),
        (12, 25),
        (12, 31),
    )
)

# name, timezone, start, stop, follows the holiday calendar
SCHEDULES = (
    ("ams-office", "Europe/Amsterdam", "0 8 ? * MON-FRI *", "0 19 ? * MON-FRI *", True),
    ("nyc-office", "America/New_York", "0 7 ? * MON-FRI *", "0 20 ? * MON-FRI *", True),
    ("kol-office", "Asia/Kolkata", "0 9 ? * MON-FRI *", "0 18 ? * MON-FRI *", True),
    ("syd-overnight", "Australia/Sydney", "0 20 ? * MON-FRI *", "0 7 ? * TUE-SAT *", False),
    ("utc-weekdays", "UTC", "0 0 ? * MON *", "0 0 ? * SAT *", False),
    ("lon-office", "Europe/London", "30 8 ? * MON-FRI *", "30 18 ? * MON-FRI *", True),
    ("la-daily", "America/Los_Angeles", "0 6 * * ? *", "0 22 * * ? *", False),
    ("on-demand", "UTC", ON_DEMAND, ON_DEMAND, False),
)


@dataclass(frozen=True, kw_only=True)
class Workload:
    """One composition and the windows of its resources."""

    composition: Composition
    windows: tuple[ResourceWindow, ...]


@dataclass(frozen=True, kw_only=True)
class Row:
    """One size: timings (medians) and how far the baseline and envctl agree."""

    resources: int
    windows: int
    occurrences: int
    envctl: float
    baseline: float
    checked: int  # windows the baseline checked
    agreed: int
    scaled: bool


def composition(
    name: str, timezone: str, start: str, stop: str, holidays: tuple[date, ...]
) -> Composition:
    return Composition(
        name=name,
        description="",
        timezone=timezone,
        start_resources_at=start,
        stop_resources_at=stop,
        auto_stop_after=None,
        window_margin_minutes=MARGIN,
        notify=Notify(),
        access=None,
        holidays=holidays,
        resources=(),
    )


def resource_windows(index: int, timezone: str, rng: random.Random) -> list[ResourceWindow]:
    """The windows of resource ``index``: its type follows the 60/25/15 mix."""
    share = index % 20
    kind = "rds_instance" if share < 12 else "rds_cluster" if share < 17 else "redshift_cluster"
    name = f"db-{index:05d}"
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


def workloads(resources: int) -> list[Workload]:
    """``resources`` resources dealt round the compositions."""
    rng = random.Random(20260105)
    windows: list[list[ResourceWindow]] = [[] for _ in SCHEDULES]
    for index in range(resources):
        number = index % len(SCHEDULES)
        windows[number].extend(resource_windows(index, SCHEDULES[number][1], rng))
    return [
        Workload(
            composition=composition(name, timezone, start, stop, HOLIDAYS if office else ()),
            windows=tuple(found),
        )
        for (name, timezone, start, stop, office), found in zip(SCHEDULES, windows, strict=True)
    ]


# --- envctl -------------------------------------------------------------------------


def analyse_all(loads: list[Workload]) -> list[list[WindowAnalysis]]:
    return [analyse_windows(load.composition, load.windows, now=NOW, weeks=WEEKS) for load in loads]


def timed(run: Callable[[], object], *, cold: bool = True) -> float:
    if cold:
        clear_caches()
    gc.collect()
    begin = time.perf_counter()
    run()
    return time.perf_counter() - begin


# --- baseline -----------------------------------------------------------------------


class PerOccurrenceCheck:
    """The baseline: the schedule's runs listed once, then each occurrence on its own."""

    def __init__(self, load: Workload, *, horizon: datetime) -> None:
        target = load.composition
        self.margin = timedelta(minutes=target.window_margin_minutes)
        longest = max((w.spec.longest for w in load.windows if w.spec), default=timedelta(0))
        end = horizon + longest + self.margin
        begin = NOW - self.margin
        self.starts: list[datetime] = []
        self.stops: list[datetime] | None = None
        # A backup plan's rule is shared by many resources: list its runs once too.
        for window in load.windows:
            if isinstance(window.spec, BackupRuleWindow):
                list(window.spec.occurrences(begin=NOW, end=horizon))
        if target.start_resources_at == ON_DEMAND:
            return
        starts = LocalCron(target.start_resources_at, target.timezone)
        holidays = frozenset(target.holidays)
        # The last start before the span (past holidays), then every start in it.
        last = starts.latest(begin)
        while last is not None and last.local.date() in holidays:
            last = starts.latest(last.utc - timedelta(minutes=1))
        self.starts = [last.utc] if last else []
        self.starts += [
            run.utc for run in starts.between(begin, end) if run.local.date() not in holidays
        ]
        if target.stop_resources_at != ON_DEMAND:
            stops = LocalCron(target.stop_resources_at, target.timezone)
            last = stops.latest(begin)
            self.stops = [last.utc] if last else []
            self.stops += [run.utc for run in stops.between(begin, end)]

    def running_through(self, begin: datetime, end: datetime) -> bool:
        """Running at ``begin``, and no stop after it before ``end``."""
        started = bisect_right(self.starts, begin)
        if started == 0:
            return False
        if self.stops is None:
            return True
        stopped = bisect_right(self.stops, begin)
        if stopped and self.stops[stopped - 1] >= self.starts[started - 1]:
            return False
        return stopped == len(self.stops) or self.stops[stopped] >= end

    def check(self, window: ResourceWindow, *, horizon: datetime) -> tuple[int, int]:
        """(uncovered, total) occurrences of the window."""
        assert window.spec is not None
        uncovered = total = 0
        for opens, closes in window.spec.occurrences(begin=NOW, end=horizon):
            total += 1
            uncovered += not self.running_through(opens - self.margin, closes + self.margin)
        return uncovered, total


def checked_windows(loads: list[Workload], stride: int) -> list[tuple[int, int]]:
    """(composition, window) positions the baseline checks: all, or every ``stride``-th."""
    every = [(c, w) for c, load in enumerate(loads) for w in range(len(load.windows))]
    return every[::stride]


def run_baseline(
    loads: list[Workload], picks: list[tuple[int, int]]
) -> tuple[float, float, dict[tuple[int, int], tuple[int, int]]]:
    """Seconds listing the schedules' runs, seconds checking the picked windows, answers."""
    horizon = NOW + timedelta(weeks=WEEKS)
    began = time.perf_counter()
    checks = [PerOccurrenceCheck(load, horizon=horizon) for load in loads]
    listed = time.perf_counter()
    answers = {(c, w): checks[c].check(loads[c].windows[w], horizon=horizon) for c, w in picks}
    return listed - began, time.perf_counter() - listed, answers


# --- one size -----------------------------------------------------------------------


def measure(resources: int) -> Row:
    loads = workloads(resources)
    stride = 1 if resources <= FULL_BASELINE_LIMIT else SAMPLE_STRIDE
    picks = checked_windows(loads, stride)
    envctl_times, baseline_parts = [], []
    results: list[list[WindowAnalysis]] = []
    answers: dict[tuple[int, int], tuple[int, int]] = {}

    def envctl() -> None:
        results[:] = analyse_all(loads)

    for repetition in range(RUNS):
        envctl_times.append(timed(envctl))
        if repetition < BASELINE_RUNS:
            clear_caches()  # the backup rules' runs, which the baseline lists too
            gc.collect()
            listing, checking, answers = run_baseline(loads, picks)
            baseline_parts.append((listing, checking))
    occurrences = [[a.occurrences for a in analyses] for analyses in results]
    total = sum(map(sum, occurrences))
    sampled = sum(occurrences[c][w] for c, w in picks)
    # Listing the runs is paid once per composition; only the checks scale with windows.
    baseline_times = [
        listing + checking * total / max(sampled, 1) for listing, checking in baseline_parts
    ]
    agreed = sum(
        answers[(c, w)] == (results[c][w].uncovered_occurrences, results[c][w].occurrences)
        for c, w in picks
    )
    return Row(
        resources=resources,
        windows=sum(len(load.windows) for load in loads),
        occurrences=total,
        envctl=statistics.median(envctl_times),
        baseline=statistics.median(baseline_times),
        checked=len(picks),
        agreed=agreed,
        scaled=stride > 1,
    )


def fixed_and_warm() -> tuple[float, float]:
    """Medians: one window per composition, from scratch and with the caches kept."""
    loads = workloads(len(SCHEDULES))
    fixed = [timed(lambda: analyse_all(loads)) for _ in range(RUNS)]
    warm = [timed(lambda: analyse_all(loads), cold=False) for _ in range(RUNS)]
    return statistics.median(fixed), statistics.median(warm)


def main() -> int:
    print(f"envctl window analysis benchmark (Python {sys.version.split()[0]})")
    print(
        f"{len(SCHEDULES)} compositions, {WEEKS} weeks from {NOW:%Y-%m-%d}, margin {MARGIN} min; "
        f"envctl median of {RUNS} runs, baseline of {BASELINE_RUNS}, interleaved"
    )
    print(
        "Baseline: the schedule's runs listed once per composition (LocalCron), then per "
        "occurrence the last start and stop before it and the next stop after it."
    )
    print("Ratio: baseline time / envctl time for the same windows (higher: envctl faster).")
    print()
    rows = [measure(resources) for resources in RESOURCE_COUNTS]
    print_table(
        (
            ("resources", 9),
            ("windows", 7),
            ("occurrences", 11),
            ("envctl", 9),
            ("baseline", 10),
            ("ratio", 8),
            ("agree", 11),
        ),
        [
            (
                f"{row.resources:,}",
                f"{row.windows:,}",
                f"{row.occurrences:,}",
                f"{row.envctl:.3f} s",
                f"{row.baseline:.2f} s" + ("*" if row.scaled else ""),
                f"{row.baseline / row.envctl:,.1f}x",
                f"{row.agreed}/{row.checked}",
            )
            for row in rows
        ],
    )
    if any(row.scaled for row in rows):
        print(
            f"* baseline checks timed on every {SAMPLE_STRIDE}th window and scaled up by the "
            "occurrences of all windows over those of the sampled ones (plus the listing)"
        )
    fixed, warm = fixed_and_warm()
    largest = rows[-1]
    slope = (largest.envctl - fixed) / max(largest.occurrences, 1)
    print()
    print(
        f"fixed cost (one window per composition, caches empty): {fixed:.4f} s; "
        f"then {slope * 1e6:.2f} µs per occurrence"
    )
    print(
        f"the same with the running times cached (same timezone, schedule, holidays): {warm:.4f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
