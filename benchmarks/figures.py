"""Shared by the benchmarks: latency percentiles and aligned tables."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Latency:
    """p50 and p99 of repeated requests, in seconds."""

    p50: float
    p99: float
    requests: int


def latency(samples: list[float]) -> Latency:
    if len(samples) < 2:
        only = samples[0] if samples else 0.0
        return Latency(p50=only, p99=only, requests=len(samples))
    p99 = statistics.quantiles(samples, n=100, method="inclusive")[98]
    return Latency(p50=statistics.median(samples), p99=p99, requests=len(samples))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base > 0 else "n/a"


def print_table(columns: tuple[tuple[str, int], ...], rows: list[tuple[str, ...]]) -> None:
    """Columns are (title, width); the first column is left-aligned, the rest right."""

    def line(cells: tuple[str, ...]) -> str:
        parts = [
            cell.ljust(width) if index == 0 else cell.rjust(width)
            for index, (cell, (_, width)) in enumerate(zip(cells, columns, strict=True))
        ]
        return "  ".join(parts)

    header = line(tuple(title for title, _ in columns))
    print(header)
    print("-" * len(header))
    for row in rows:
        print(line(row))
