"""Shift an AWS cron expression by a number of minutes (backup brackets, heads-ups).

Only expressions that run at one fixed minute and hour can be shifted exactly.
When the shift crosses midnight the day fields move too: a day-of-week list turns
round the week (MON-FRI at 00:05 minus 15 minutes is SUN-THU at 23:50); a list of
days of the month moves only while every day stays within 1..28, so that no day
falls off the end of a shorter month. Anything else raises ``ShiftError`` with the
reason, which ends up in the analysis as its ``problem``.
"""

from __future__ import annotations

import re

DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # AWS numbers them 1..7
_FIXED = re.compile(r"^\d{1,2}$")
_MINUTES_PER_DAY = 24 * 60
# Day-of-month values valid in every month: shifted lists must stay in this range.
_SAFE_DAYS = range(1, 29)


class ShiftError(ValueError):
    """The expression cannot be shifted exactly; the message says why."""


def shift_cron(fields: str, minutes: int) -> str:
    """Return the six cron fields that run ``minutes`` later (earlier when negative).

    Raises:
        ShiftError: the expression has no single fixed minute and hour, or its
            day fields cannot be moved across midnight exactly.
    """
    minute, hour, day_of_month, month, day_of_week, year = fields.split()
    if not (_FIXED.match(minute) and _FIXED.match(hour)):
        raise ShiftError(
            f'it runs at more than one time of day (minutes "{minute}", hours "{hour}"); '
            "brackets need a single fixed minute and hour"
        )
    days, time_of_day = divmod(int(hour) * 60 + int(minute) + minutes, _MINUTES_PER_DAY)
    new_hour, new_minute = divmod(time_of_day, 60)
    if days:
        if day_of_week != "?":
            _require_any(month, year, "day-of-week")
            day_of_week = _shift_days_of_week(day_of_week, days)
        elif day_of_month != "*":
            day_of_month = _shift_days_of_month(day_of_month, days)
        else:
            _require_any(month, year, "day-of-month *")
    return f"{new_minute} {new_hour} {day_of_month} {month} {day_of_week} {year}"


def _require_any(month: str, year: str, what: str) -> None:
    # A day that moves across midnight can move into another month or year.
    if month != "*" or year != "*":
        raise ShiftError(
            f"the shifted time crosses midnight and the {what} schedule is limited to "
            f'months "{month}" and years "{year}", which would have to move as well'
        )


def _shift_days_of_week(field: str, days: int) -> str:
    if field == "*":
        return field
    numbers = {(number - 1 + days) % 7 + 1 for number in _days_of_week(field)}
    return _render_days_of_week(numbers)


def _days_of_week(field: str) -> set[int]:
    numbers: set[int] = set()
    for part in field.upper().split(","):
        if "#" in part or "L" in part:
            raise ShiftError(
                f'day-of-week "{field}" names an nth or last weekday of the month, '
                "which does not move with the time of day"
            )
        bounds = [_weekday_number(name, field) for name in part.split("-")]
        if len(bounds) == 1:
            numbers.add(bounds[0])
        elif len(bounds) == 2 and bounds[0] <= bounds[1]:
            numbers.update(range(bounds[0], bounds[1] + 1))
        else:
            raise ShiftError(f'day-of-week "{field}" has a range the shifter cannot read')
    return numbers


def _weekday_number(name: str, field: str) -> int:
    if name in DAY_NAMES:
        return DAY_NAMES.index(name) + 1
    if name.isdigit() and 1 <= int(name) <= 7:
        return int(name)
    raise ShiftError(f'day-of-week "{field}" has "{name}", which the shifter cannot read')


def _render_days_of_week(numbers: set[int]) -> str:
    if len(numbers) == 7:
        return "*"
    return ",".join(
        DAY_NAMES[first - 1] if first == last else f"{DAY_NAMES[first - 1]}-{DAY_NAMES[last - 1]}"
        for first, last in _runs(sorted(numbers))
    )


def _shift_days_of_month(field: str, days: int) -> str:
    shifted = sorted(day + days for day in _days_of_month(field))
    if not all(day in _SAFE_DAYS for day in shifted):
        raise ShiftError(
            f'day-of-month "{field}" moved by {days:+d} day(s) would leave the month '
            "(only days that stay within 1..28 can move)"
        )
    return ",".join(
        str(first) if first == last else f"{first}-{last}" for first, last in _runs(shifted)
    )


def _days_of_month(field: str) -> set[int]:
    days: set[int] = set()
    for part in field.split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?(?:/(\d+))?", part)
        if match is None:
            raise ShiftError(
                f'day-of-month "{field}" uses "{part}" (last day, weekday or wildcard step), '
                "which does not move with the time of day"
            )
        first = int(match.group(1))
        last = int(match.group(2) or (31 if match.group(3) else first))
        days.update(range(first, last + 1, int(match.group(3) or 1)))
    return days


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs of sorted numbers: [1, 2, 3, 5] -> [(1, 3), (5, 5)]."""
    runs: list[tuple[int, int]] = []
    for number in numbers:
        if runs and runs[-1][1] == number - 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs
