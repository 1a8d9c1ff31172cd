"""The dates of holiday calendars, as the compositions file writes them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from scheduler_core.config.reading import brief, key_label
from scheduler_core.fields import shown

MAX_RANGE_DAYS = 366
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_dates(values: Iterable[object]) -> tuple[tuple[date, ...], list[str]]:
    """``["2026-12-25", "2026-12-24..2026-12-31"]`` → the dates, and what was wrong."""
    found: set[date] = set()
    problems: list[str] = []
    for value in values:
        text = str(value).strip() if isinstance(value, str | date) else None
        first, _, last = (text or "").partition("..")
        try:
            start = _one(first)
            end = _one(last) if last else start
        except ValueError:
            problems.append(
                "expected a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD (inclusive), "
                f"got {shown(text if text is not None else value)}"
            )
            continue
        if end < start:
            problems.append(f"{shown(text)}: the range ends before it starts")
        elif (end - start).days >= MAX_RANGE_DAYS:
            problems.append(f"{shown(text)}: a range may span at most {MAX_RANGE_DAYS} days")
        else:
            found.update(start + timedelta(days=n) for n in range((end - start).days + 1))
    return tuple(sorted(found)), problems


def _one(text: str) -> date:
    if not _DATE.fullmatch(text.strip()):
        raise ValueError(text)
    return date.fromisoformat(text.strip())


def read_calendars(raw: Any, *, problems: list[str], where: str) -> dict[str, tuple[date, ...]]:
    """``calendars: {name: {dates: [...]}}`` → the dates of each calendar."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(
            f"{where}: calendars: expected a mapping of calendar names, got {brief(raw)}"
        )
        return {}
    found: dict[str, tuple[date, ...]] = {}
    for key, body in raw.items():
        label = f"calendars.{key_label(str(key))}"
        if (
            not isinstance(body, dict)
            or set(body) != {"dates"}
            or not isinstance(body["dates"], list)
        ):
            problems.append(f'{where}: {label}: expected {{dates: ["YYYY-MM-DD", ...]}}')
            found[str(key)] = ()  # known, so that compositions naming it get no second error
            continue
        dates, wrong = parse_dates(body["dates"])
        problems.extend(f"{where}: {label}.dates: {problem}" for problem in wrong)
        found[str(key)] = dates
    return found


def holidays_of(
    chosen: str | tuple[str, ...] | None, calendars: dict[str, tuple[date, ...]], report: Any
) -> tuple[date, ...]:
    names = (chosen,) if isinstance(chosen, str) else chosen or ()
    dates: set[date] = set()
    for name in names:
        if name not in calendars:
            known = ", ".join(sorted(calendars))
            report(
                "calendar",
                f'unknown calendar "{name}"; '
                + (f"the calendars are: {known}" if known else "no calendars are defined"),
            )
            continue
        dates.update(calendars[name])
    return tuple(sorted(dates))
