"""How the CLI shows things to people: steps, results, status tables."""

from __future__ import annotations

import sys
from typing import TextIO

from scheduler_core.actions import Action
from scheduler_core.asl.fragments import PAST_TENSE
from scheduler_core.places import described
from scheduler_core.runtime import CompositionStatus, ExecutionResult, StepEvent


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def step_line(event: StepEvent, action: Action) -> str:
    past = PAST_TENSE[action.verb]
    if event.outcome == "waited":
        return f"  · waited {event.subject}"
    if event.outcome == "already":
        return f"  ✓ {event.subject} was already {past}"
    return f"  ✓ {event.subject} {past} ({event.seconds:.1f}s)"


def result_line(composition: str, action: Action, result: ExecutionResult) -> str:
    past = PAST_TENSE[action.verb]
    if result.succeeded:
        return f"{composition} {past} in {result.seconds:.1f}s"
    reason = result.cause or result.error or result.status.lower()
    return f"{composition} could not be {past}: {reason}"


def print_status(status: CompositionStatus, out: TextIO = sys.stdout) -> None:
    where = described(status.account, status.region)
    print(f"{status.composition}: {status.state}" + (f" ({where})" if where else ""), file=out)
    if status.execution_arn:
        print(f"  execution in progress: {status.execution_arn}", file=out)
    rows = [("TYPE", "ID", "STATE", "DETAIL")] + [
        (r.type, r.id, str(r.state), r.detail) for r in status.resources
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        print("  " + "  ".join([*cells, row[3]]).rstrip(), file=out)
