"""The values AWS allows in the month, day-of-week and year fields, and dates that never come.

pyawscron replaces the names it knows inside a field's text, so ``MONDAY`` becomes
``2DAY`` and fails as ``invalid literal for int() with base 10: '2DAY'``, and a
day-of-week of 0 or 8 fails as "iter 11 > 10". These checks run first and say which
field holds what, in the terms of the EventBridge Scheduler User Guide ("Cron
expressions"): month 1-12 or JAN-DEC, day-of-week 1-7 (1 is Sunday) or SUN-SAT,
year 1970-2199.
"""

from __future__ import annotations

import calendar
import re

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
YEARS = range(1970, 2200)
# Day-of-week names as people read a week; AWS numbers them from Sunday.
DAY_NAMES = "MON, TUE, WED, THU, FRI, SAT or SUN (or 1-7, 1 = Sunday)"
MONTH_NAMES = f"{', '.join(MONTHS[:-1])} or {MONTHS[-1]} (or 1-12)"
_TOKENS = re.compile(r"[A-Za-z]+|\d+")
# A field's own syntax: "L" (last) in day-of-week, as in "6L".
_WILDCARD_LETTERS = frozenset({"L"})


def value_problem(parts: list[str]) -> str | None:
    """Why the month, day-of-week or year field of six cron fields holds a value AWS refuses."""
    _, _, _, month, day_of_week, year = parts
    for token in _values(month):
        if token.isalpha() and token.upper() not in MONTHS:
            return f'month "{token}" is not a month name; use {MONTH_NAMES}'
    for token in _values(day_of_week):
        if token.isalpha() and token.upper() not in (*DAYS, *_WILDCARD_LETTERS):
            return f'day-of-week "{token}" is not a day name; use {DAY_NAMES}'
        if token.isdigit() and not 1 <= int(token) <= len(DAYS):
            return f"day-of-week {token} is out of range; use {DAY_NAMES}"
    for token in _values(year):
        if token.isdigit() and int(token) not in YEARS:
            return f"year {token} is out of range; use {YEARS.start}-{YEARS.stop - 1}"
    return None


def impossible_dates(parts: list[str]) -> str | None:
    """Why no date matches the day-of-month, month and year fields, or None.

    Only plain lists, ranges and steps of numbers are judged (``30``, ``30,31``,
    ``29-31``); a day-of-month with ``*``, ``?``, ``L`` or ``W`` matches some date.
    """
    _, _, day_of_month, month, _, year = parts
    days = _numbers(day_of_month, first=1, last=31)
    months = _numbers(month, first=1, last=12, names=MONTHS)
    years = _numbers(year, first=YEARS.start, last=YEARS.stop - 1)
    if not days or not months or years == set():
        return None
    leap = years is None or any(calendar.isleap(y) for y in years)

    def length(number: int) -> int:
        return 29 if number == 2 and leap else calendar.monthrange(2001, number)[1]

    if any(day <= length(number) for day in days for number in months):
        return None
    in_years = f" in {year}" if years is not None and 2 in months and 29 in days else ""
    return _no_such_day(days, months) + in_years


def _no_such_day(days: set[int], months: set[int]) -> str:
    """``February and April have no day 31``."""
    named = [calendar.month_name[number] for number in sorted(months)]
    which = " and ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
    verb = "have" if len(named) > 1 else "has"
    return f"{which} {verb} no day {' or '.join(str(day) for day in sorted(days))}"


def _values(field: str) -> list[str]:
    """The names and numbers a field lists, without its increments (/n) or nth (#n)."""
    found: list[str] = []
    for part in field.split(","):
        base = part.split("/")[0].split("#")[0]
        found.extend(_TOKENS.findall(base))
    return found


def _numbers(field: str, *, first: int, last: int, names: tuple[str, ...] = ()) -> set[int] | None:
    """The values a field lists; None when it matches every value or is not a plain list."""
    if field == "*":
        return None
    values: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        if step_text and not step_text.isdigit():
            return None
        step = int(step_text or 1)
        low_text, _, high_text = ("" if base == "*" else base).partition("-")
        low = _number(low_text, names) if low_text else first
        high = _number(high_text, names) if high_text else (last if step_text else low)
        if low is None or high is None or not first <= low <= high <= last or step < 1:
            return None
        values.update(range(low, high + 1, step))
    return values


def _number(text: str, names: tuple[str, ...]) -> int | None:
    if text.isdigit():
        return int(text)
    upper = text.upper()
    return names.index(upper) + 1 if upper in names else None
