"""Bring the window analysis and the conflict check into plan/apply."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scheduler_core.aws import Aws
from scheduler_core.config import Composition, Config
from scheduler_core.conflicts.finder import find_conflicts
from scheduler_core.conflicts.model import Conflict
from scheduler_core.conflicts.schedules import list_foreign_schedules
from scheduler_core.places import reaching
from scheduler_core.reconcile.desired import WindowBracket
from scheduler_core.windows import (
    WindowAnalysis,
    analyse_windows,
    collect_windows,
    read_backup_plans,
)


def has_windows(composition: Composition) -> bool:
    return any(item.kind.has_windows for item in composition.items())


def window_analyses(
    aws: Aws, config: Config, *, now: datetime, names: list[str] | None = None
) -> dict[str, list[WindowAnalysis]]:
    """Analysis per composition (all, or ``names``); backup plans are read once."""
    chosen = [config.get(name) for name in names] if names else list(config.compositions.values())
    with_windows = [composition for composition in chosen if has_windows(composition)]
    analyses: dict[str, list[WindowAnalysis]] = {c.name: [] for c in chosen}
    if not with_windows:
        return analyses
    plans: dict[int, Any] = {}  # per account and region reached: read once there
    for composition in with_windows:
        there = reaching(composition, aws)
        if id(there) not in plans:
            plans[id(there)] = read_backup_plans(there)
        windows = collect_windows(there, composition, backup_plans=plans[id(there)])
        analyses[composition.name] = analyse_windows(composition, windows, now=now)
    return analyses


def brackets_for(composition: Composition, analyses: list[WindowAnalysis]) -> list[WindowBracket]:
    """The bracket schedules apply creates for the uncovered windows of one composition."""
    items = {(item.type, item.kind.label(item.params)): item for item in composition.items()}
    brackets: list[WindowBracket] = []
    for analysis in analyses:
        item = items.get((analysis.resource_type, analysis.resource_id))
        if item is None:
            continue
        brackets.extend(
            WindowBracket(
                resource=item,
                key=analysis.key,
                action=bracket.action,
                expression=bracket.expression,
                timezone=bracket.timezone,
                window=analysis.window,
            )
            for bracket in analysis.brackets
        )
    return brackets


def conflicts_for(aws: Aws, compositions: list[Composition]) -> list[Conflict]:
    """Other schedules acting on the same resources; foreign schedules listed once."""
    listed: dict[int, Any] = {}  # per account and region reached: listed once there
    found: list[Conflict] = []
    for composition in compositions:
        there = reaching(composition, aws)
        if id(there) not in listed:
            listed[id(there)] = list_foreign_schedules(there)
        found.extend(find_conflicts(there, composition, foreign_schedules=listed[id(there)]))
    return found


def window_notes(analyses: dict[str, list[WindowAnalysis]]) -> list[str]:
    """One line per window that stays uncovered or could not be analysed."""
    notes = []
    for name, entries in analyses.items():
        for entry in entries:
            resource = f"{entry.resource_type} {entry.resource_id}"
            where = f"{name}: {resource} {entry.kind} window {entry.window}"
            if entry.problem:
                notes.append(f"{where}: {entry.problem}")
            elif not entry.covered and entry.brackets:
                notes.append(
                    f"{where} is not covered on {entry.uncovered_occurrences} of "
                    f"{entry.occurrences} occurrences; apply keeps it up with bracket schedules"
                )
    return notes
