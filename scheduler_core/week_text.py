"""The week at a glance drawn as monospace text: ``envctl schedule`` and ``/env schedule``.

One character per local hour, aligned on the clock: the ruler's 06 is above 06:00 on
every row. An hour the clocks skip is drawn as ``-`` so that the hours after it stay
aligned; the hour they repeat gets a second character, so the rest of that row sits
one to the right (its note says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from scheduler_core.week import Coverage, DayRow, Mark, Week, WindowOccurrence
from scheduler_core.windows.specs import WindowKind

SYMBOLS: dict[Mark, str] = {
    Mark.RUNNING: "█",
    Mark.KEPT_UP: "▒",
    Mark.STOPPED: "·",
    Mark.PAST: " ",
    Mark.START_SKIPPED: "x",
    Mark.MAINTENANCE: "M",
    Mark.BACKUP: "B",
    Mark.MAINTENANCE_UNCOVERED: "m",
    Mark.BACKUP_UNCOVERED: "b",
}
NO_SUCH_HOUR = "-"
RULER = " ".join(f"{hour:02d}" for hour in range(0, 24, 3))
_LABEL_WIDTH = 12
_MAX_NOTES = 3
_MAX_TIMES = 4
_LEGEND_WIDTH = 60
_LEGEND: tuple[tuple[tuple[Mark, ...], str], ...] = (
    ((Mark.RUNNING,), "running"),
    ((Mark.KEPT_UP,), "kept up past the schedule"),
    ((Mark.STOPPED,), "stopped"),
    ((Mark.START_SKIPPED,), "scheduled start skipped"),
    ((Mark.MAINTENANCE, Mark.BACKUP), "maintenance/backup window, kept up"),
    ((Mark.MAINTENANCE_UNCOVERED, Mark.BACKUP_UNCOVERED), "window NOT covered"),
)
_KINDS = {
    WindowKind.MAINTENANCE: "maintenance",
    WindowKind.BACKUP: "backup",
    WindowKind.AWS_BACKUP: "AWS Backup",
}


def grid_lines(week: Week) -> list[str]:
    """The ruler, then one line per day: its label, its hours, its notes."""
    lines = [" " * _LABEL_WIDTH + RULER]
    for row in week.days:
        line = f"{day_label(row.day):<{_LABEL_WIDTH}}{_hours(row)}"
        if row.notes:
            shown = list(row.notes[:_MAX_NOTES])
            if len(row.notes) > _MAX_NOTES:
                shown.append(f"+{len(row.notes) - _MAX_NOTES} more")
            line += "  " + "; ".join(shown)
        lines.append(line.rstrip())
    return lines


def legend_lines(week: Week) -> list[str]:
    """What each character means: running and stopped always, the others when drawn."""
    used = {cell.mark for row in week.days for cell in row.cells}
    entries = [
        f"{'/'.join(SYMBOLS[mark] for mark in marks)} {words}"
        for marks, words in _LEGEND
        if marks[0] in (Mark.RUNNING, Mark.STOPPED) or used.intersection(marks)
    ]
    if any(_gaps(row) for row in week.days):
        entries.append(f"{NO_SUCH_HOUR} hour the clocks skip")
    lines: list[str] = []
    for entry in entries:
        if lines and len(lines[-1]) + 3 + len(entry) <= _LEGEND_WIDTH:
            lines[-1] += "   " + entry
        else:
            lines.append(entry)
    return lines


def window_lines(week: Week) -> list[str]:
    """One line per window that opens this week, then what could not be shown."""
    grouped: dict[tuple[str, str, str], list[WindowOccurrence]] = {}
    for occurrence in week.windows:
        key = (occurrence.resource_id, occurrence.kind, occurrence.window)
        grouped.setdefault(key, []).append(occurrence)
    lines = [_window_line(occurrences) for occurrences in grouped.values()]
    lines += [f"? {problem}" for problem in week.window_problems]
    if week.windows_unread:
        lines.append(f"Windows not shown: {week.windows_unread}")
    return lines


def week_lines(week: Week) -> list[str]:
    """The whole picture: grid, legend, windows."""
    return [*grid_lines(week), "", *legend_lines(week), *window_lines(week)]


def day_label(day: date) -> str:
    """``Sun  5 Apr``: the same width for every day."""
    return f"{day:%a} {day.day:>2} {day:%b}"


def _hours(row: DayRow) -> str:
    drawn = []
    expected = 0
    for cell in row.cells:
        while expected < cell.hour:
            drawn.append(NO_SUCH_HOUR)
            expected += 1
        drawn.append(SYMBOLS[cell.mark])
        expected = cell.hour + 1
    return "".join(drawn) + NO_SUCH_HOUR * (24 - expected)


def _gaps(row: DayRow) -> bool:
    return len({cell.hour for cell in row.cells}) < 24


def _window_line(occurrences: Sequence[WindowOccurrence]) -> str:
    first = occurrences[0]
    by = {coverage: [o for o in occurrences if o.coverage is coverage] for coverage in Coverage}
    uncovered = bool(by[Coverage.UNCOVERED])
    symbol = SYMBOLS[
        (Mark.MAINTENANCE_UNCOVERED if uncovered else Mark.MAINTENANCE)
        if first.kind is WindowKind.MAINTENANCE
        else (Mark.BACKUP_UNCOVERED if uncovered else Mark.BACKUP)
    ]
    parts = []
    if by[Coverage.UNCOVERED]:
        parts.append(f"NOT covered {_times(by[Coverage.UNCOVERED])}")
    if by[Coverage.BRACKETED]:
        parts.append(f"kept up by bracket schedules {_times(by[Coverage.BRACKETED])}")
    if by[Coverage.COVERED]:
        covered = len(by[Coverage.COVERED])
        parts.append(
            "covered" if covered == len(occurrences) else f"covered {covered} of {len(occurrences)}"
        )
    kind = _KINDS.get(first.kind, str(first.kind))
    return f"{symbol} {first.resource_id} {kind} window {first.window}: {'; '.join(parts)}"


def _times(occurrences: Sequence[WindowOccurrence]) -> str:
    shown = ", ".join(_when(o.opens) for o in occurrences[:_MAX_TIMES])
    hidden = len(occurrences) - _MAX_TIMES
    return shown + (f" and {hidden} more" if hidden > 0 else "")


def _when(moment: datetime) -> str:
    return f"{moment:%a %H:%M %Z}"
