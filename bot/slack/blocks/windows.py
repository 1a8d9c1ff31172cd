"""``/env windows``: each maintenance/backup window, its coverage and its brackets."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.slack.blocks.kit import (
    MAX_MESSAGE_BLOCKS,
    Block,
    bold,
    code,
    escape,
    local_time,
    packed,
    section,
)

if TYPE_CHECKING:
    from scheduler_core.windows.analysis import WindowAnalysis


_WINDOW_KINDS = {"maintenance": "maintenance", "backup": "backup", "aws_backup": "AWS Backup"}


def _analysis_text(analysis: WindowAnalysis) -> str:
    unanalysed = analysis.problem is not None and analysis.occurrences == 0
    mark = "✅" if analysis.covered else "❔" if unanalysed else "⚠️"
    kind = _WINDOW_KINDS.get(str(analysis.kind), escape(str(analysis.kind)))
    lines = [
        f"{mark} {bold(analysis.resource_id)} ({escape(analysis.resource_type)}) · "
        f"{kind} window {code(analysis.window)}"
    ]
    if analysis.covered:
        lines.append(f"Covered: all {analysis.occurrences} occurrences")
    elif not unanalysed:
        line = f"{analysis.uncovered_occurrences} of {analysis.occurrences} occurrences not covered"
        if analysis.next_uncovered_at is not None:
            line += f"; next {local_time(analysis.next_uncovered_at, ZoneInfo('UTC'))}"
        lines.append(line)
    lines += [
        f"Bracket {bracket.action}: {escape(bracket.run_at)}" for bracket in analysis.brackets
    ]
    if analysis.stop_conflicts:
        lines.append(
            f"{analysis.stop_conflicts} occurrences fall in scheduled running time; "
            "the stop bracket is skipped then"
        )
    if analysis.problem:
        lines.append(f"{'Not analysed' if unanalysed else 'Note'}: {escape(analysis.problem)}")
    return "\n".join(lines)


def windows_blocks(composition: str, analyses: list[WindowAnalysis]) -> list[Block]:
    """``/env windows``: each maintenance/backup window, its coverage and brackets (UTC)."""
    if not analyses:
        return [section(f"{bold(composition)} has no maintenance or backup windows.")]
    covered = sum(analysis.covered for analysis in analyses)
    mark = "✅" if covered == len(analyses) else "⚠️"
    title = f"{mark} {bold(composition)} windows: {covered} of {len(analyses)} covered"
    texts = [_analysis_text(analysis) for analysis in analyses]
    room = MAX_MESSAGE_BLOCKS - 1
    return [section(title), *packed(texts, max_blocks=room, noun="windows", separator="\n\n")]
