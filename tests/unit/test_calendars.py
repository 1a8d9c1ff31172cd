"""Holiday calendars in the compositions file: dates, ranges, names, and what is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from scheduler_core.config import parse_config
from scheduler_core.exceptions import ConfigError
from scheduler_core.holidays import holiday_skips

WAIT = [{"type": "wait", "params": {"seconds": 1}}]


def load(calendars: object, calendar: object = "nl") -> object:
    document = {
        "calendars": calendars,
        "compositions": {
            "staging": {
                "timezone": "Europe/Amsterdam",
                "start_resources_at": "0 8 ? * MON-FRI *",
                "calendar": calendar,
                "resources": WAIT,
            }
        },
    }
    return parse_config(yaml.safe_dump(document), path=Path("c.yaml")).get("staging")


def problems(calendars: object, calendar: object = "nl") -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(calendars, calendar)
    return list(raised.value.problems)


def test_dates_and_inclusive_ranges_of_every_named_calendar_are_the_holidays() -> None:
    composition = load(
        {
            "nl": {"dates": ["2026-12-25", "2026-12-30..2027-01-01"]},
            "it": {"dates": ["2026-12-08"]},
        },
        calendar=["nl", "it"],
    )

    assert composition.holidays == (  # type: ignore[attr-defined]
        date(2026, 12, 8),
        date(2026, 12, 25),
        date(2026, 12, 30),
        date(2026, 12, 31),
        date(2027, 1, 1),
    )


@pytest.mark.parametrize(
    ("calendars", "calendar", "problem"),
    [
        (
            {"nl": {"dates": ["2026-02-30"]}},
            "nl",
            "c.yaml: calendars.nl.dates: expected a date YYYY-MM-DD or a range "
            'YYYY-MM-DD..YYYY-MM-DD (inclusive), got "2026-02-30"',
        ),
        (
            {"nl": {"dates": ["2026-12-31..2026-12-01"]}},
            "nl",
            'c.yaml: calendars.nl.dates: "2026-12-31..2026-12-01": the range ends before it starts',
        ),
        (
            {"nl": {"dates": ["2026-01-01..2027-06-01"]}},
            "nl",
            'c.yaml: calendars.nl.dates: "2026-01-01..2027-06-01": a range may span at most '
            "366 days",
        ),
        (
            {"nl": ["2026-12-25"]},
            "nl",
            'c.yaml: calendars.nl: expected {dates: ["YYYY-MM-DD", ...]}',
        ),
        (
            {"nl": {"dates": ["2026-12-25"]}},
            "be",
            'c.yaml: staging.calendar: unknown calendar "be"; the calendars are: nl',
        ),
    ],
)
def test_bad_calendars_are_refused_naming_the_place(
    calendars: object, calendar: object, problem: str
) -> None:
    assert problems(calendars, calendar) == [problem]


def test_only_starts_on_a_holiday_get_a_row_keyed_by_their_utc_due_time() -> None:
    composition = load({"nl": {"dates": ["2026-12-25", "2026-12-26"]}})  # a Friday, a Saturday

    rows = holiday_skips(composition, now=datetime(2026, 12, 1, tzinfo=UTC))  # type: ignore[arg-type]

    # 08:00 in Amsterdam in winter is 07:00 UTC; the Saturday has no start to skip.
    assert rows == {"skip#2026-12-25T07:00:00Z": "holiday 2026-12-25"}
