"""The week at a glance as monospace text: one character per local hour."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from scheduler_core.actions import Action
from scheduler_core.config import Composition
from scheduler_core.upcoming import upcoming_runs
from scheduler_core.week import Week, week_at_a_glance
from scheduler_core.week_text import (
    RULER,
    day_label,
    grid_lines,
    legend_lines,
    week_lines,
    window_lines,
)
from scheduler_core.windows.analysis import analyse_windows
from scheduler_core.windows.resource_window import ResourceWindow
from tests.functional.helpers import composition

WAIT = [{"type": "wait", "params": {"seconds": 1}}]
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 12, 7, 10, 30, tzinfo=AMSTERDAM)  # Monday, 10:30 CET
LABEL = 12  # "Mon  7 Dec" and two spaces
OFFICE_DAY = "········███████████·····"  # 00-07 stopped, 08-18 running, 19-23 stopped
STOPPED_DAY = "·" * 24


def office(**settings: Any) -> Composition:
    return composition(
        "staging",
        WAIT,
        **{
            "timezone": "Europe/Amsterdam",
            "start_resources_at": "0 8 ? * MON-FRI *",
            "stop_resources_at": "0 19 ? * MON-FRI *",
            **settings,
        },
    )


def week(
    target: Composition,
    now: datetime = NOW,
    *,
    extended_stop: str | None = None,
    **kwargs: Any,
) -> Week:
    runs = upcoming_runs(target, now=now, paused={}, skip_next={}, extended_stop=extended_stop)
    kwargs.setdefault("auto_stop_at", None)
    return week_at_a_glance(target, now=now, runs=runs, **kwargs)


def hours_part(line: str, notes: tuple[str, ...] = ()) -> str:
    """The hour characters of a grid line: after the label, before the notes."""
    body = line[LABEL:]
    return body.removesuffix("  " + "; ".join(notes)) if notes else body


def test_day_labels_have_one_width() -> None:
    assert day_label(date(2026, 4, 5)) == "Sun  5 Apr"
    assert day_label(date(2026, 12, 14)) == "Mon 14 Dec"
    assert len({len(day_label(date(2026, 1, 1 + n))) for n in range(31)}) == 1


def test_the_ruler_stands_above_the_hours_it_names() -> None:
    [ruler, *_] = grid_lines(week(office()))

    assert ruler == " " * LABEL + "00 03 06 09 12 15 18 21"
    assert RULER == "00 03 06 09 12 15 18 21"
    for hour in range(0, 24, 3):
        assert ruler[LABEL + hour : LABEL + hour + 2] == f"{hour:02d}"


def test_office_hours_are_drawn_one_character_per_hour() -> None:
    lines = grid_lines(week(office()))

    assert lines[1:] == [
        "Mon  7 Dec  " + " " * 10 + "█" * 9 + "·" * 5,  # 00-09 past, from 10:00 on running
        "Tue  8 Dec  ········███████████·····",
        "Wed  9 Dec  ········███████████·····",
        "Thu 10 Dec  ········███████████·····",
        "Fri 11 Dec  ········███████████·····",
        "Sat 12 Dec  ························",
        "Sun 13 Dec  ························",
    ]
    assert hours_part(lines[2]) == OFFICE_DAY
    assert OFFICE_DAY.index("█") == 8 and OFFICE_DAY.rindex("█") == 18


def test_a_whole_monday_before_it_begins() -> None:
    sunday_night = datetime(2026, 12, 6, 23, 30, tzinfo=AMSTERDAM)

    lines = grid_lines(week(office(), sunday_night))

    assert lines[1] == "Sun  6 Dec  " + " " * 23 + "·"
    assert lines[2] == "Mon  7 Dec  ········███████████·····"


def test_a_holiday_draws_its_skipped_start_and_says_why() -> None:
    target = office().model_copy(update={"holidays": (date(2026, 12, 8),)})

    lines = grid_lines(week(target))

    assert lines[2] == "Tue  8 Dec  ········x···············  start 08:00 skipped (holiday)"


def test_an_extended_stop_and_an_auto_stop_are_drawn_kept_up() -> None:
    extended = week(
        office(),
        extended_stop="2026-12-07T18:00:00Z",
        auto_stop_at=datetime(2026, 12, 7, 21, 0, tzinfo=AMSTERDAM),
    )
    assert grid_lines(extended)[1] == (
        "Mon  7 Dec  " + " " * 10 + "█" * 9 + "▒▒···  stop 19:00 extended to 21:00"
    )

    saturday = datetime(2026, 12, 12, 10, 30, tzinfo=AMSTERDAM)
    by_hand = week(
        office(),
        saturday,
        running_now=True,
        auto_stop_at=datetime(2026, 12, 12, 12, 30, tzinfo=AMSTERDAM),
    )
    assert (
        grid_lines(by_hand)[1] == "Sat 12 Dec  " + " " * 10 + "▒▒▒" + "·" * 11 + "  auto-stop 12:30"
    )


def test_the_hour_the_clocks_skip_is_a_dash_and_the_repeated_hour_an_extra_character() -> None:
    spring = grid_lines(week(office(), datetime(2026, 3, 26, 13, 0, tzinfo=AMSTERDAM)))
    autumn = grid_lines(week(office(), datetime(2026, 10, 22, 13, 0, tzinfo=AMSTERDAM)))

    assert "Sun 29 Mar  ··-·····················  23 h: clocks go forward" in spring
    assert "Sun 25 Oct  ·························  25 h: clocks go back" in autumn
    for lines, changed in ((spring, "Sun 29 Mar"), (autumn, "Sun 25 Oct")):
        others = [line for line in lines[1:] if not line.startswith(changed)]
        assert len(others) == 6
        # Today's past hours are blanks (not stripped: running hours follow them).
        assert all(len(hours_part(line)) == 24 for line in others)
    [forward] = [line for line in spring if line.startswith("Sun 29 Mar")]
    assert len(hours_part(forward, ("23 h: clocks go forward",))) == 24  # aligned by the dash
    assert forward[LABEL + 2] == "-"
    [back] = [line for line in autumn if line.startswith("Sun 25 Oct")]
    assert len(hours_part(back, ("25 h: clocks go back",))) == 25


def test_the_skipped_hour_of_today_stays_a_dash_among_the_past_hours() -> None:
    morning = datetime(2026, 3, 29, 5, 30, tzinfo=AMSTERDAM)

    today = grid_lines(week(office(), morning))[1]

    assert today == "Sun 29 Mar    -  " + "·" * 19 + "  23 h: clocks go forward"


def test_where_midnight_does_not_exist_the_row_begins_with_a_dash() -> None:
    # Chile moves to summer time at midnight: 6 September 2026 begins at 01:00.
    santiago = office(timezone="America/Santiago")

    lines = grid_lines(week(santiago, datetime(2026, 9, 3, 12, 0, tzinfo=UTC)))

    assert "Sun  6 Sep  -·······················  23 h: clocks go forward" in lines
    assert "Mon  7 Sep  ········███████████·····" in lines


def test_the_legend_names_running_and_stopped_always() -> None:
    assert legend_lines(week(office())) == ["█ running   · stopped"]


def test_the_legend_names_a_skipped_start_only_when_one_is_drawn() -> None:
    plain = week(office())
    holiday = week(office().model_copy(update={"holidays": (date(2026, 12, 8),)}))

    assert not any("scheduled start skipped" in line for line in legend_lines(plain))
    assert legend_lines(holiday) == ["█ running   · stopped   x scheduled start skipped"]


def test_a_skipped_start_in_the_past_is_not_in_the_legend() -> None:
    # Today's start at 08:00 was skipped, but at 10:30 that hour is past and blank.
    target = office().model_copy(update={"holidays": (date(2026, 12, 7),)})

    shown = week(target)

    assert "x" not in grid_lines(shown)[1]
    assert legend_lines(shown) == ["█ running   · stopped"]


def test_the_legend_names_kept_up_and_skipped_hours_when_drawn() -> None:
    extended = week(
        office(),
        extended_stop="2026-12-07T18:00:00Z",
        auto_stop_at=datetime(2026, 12, 7, 21, 0, tzinfo=AMSTERDAM),
    )
    spring = week(office(), datetime(2026, 3, 26, 13, 0, tzinfo=AMSTERDAM))
    autumn = week(office(), datetime(2026, 10, 22, 13, 0, tzinfo=AMSTERDAM))

    assert legend_lines(extended) == ["█ running   ▒ kept up past the schedule   · stopped"]
    assert legend_lines(spring) == ["█ running   · stopped   - hour the clocks skip"]
    assert legend_lines(autumn) == ["█ running   · stopped"]  # no hour is skipped


def test_more_than_three_notes_are_cut_short() -> None:
    hourly = office(start_resources_at="0 * ? * * *", stop_resources_at="30 23 ? * * *")
    runs = upcoming_runs(
        hourly, now=NOW, paused={Action.START: True, Action.STOP: True}, skip_next={}
    )

    shown = week_at_a_glance(hourly, now=NOW, runs=runs, auto_stop_at=None)

    tuesday = grid_lines(shown)[2]
    assert tuesday == (
        "Tue  8 Dec  " + "x" * 24 + "  start 00:00 paused; start 01:00 paused; start 02:00 paused"
        "; +22 more"
    )


# --- windows -----------------------------------------------------------------------------


def windows_of(target: Composition, *windows: ResourceWindow, brackets: bool = True) -> list[Any]:
    analyses = analyse_windows(target, list(windows), now=NOW, weeks=1)
    if not brackets:
        analyses = [replace(analysis, brackets=()) for analysis in analyses]
    return list(zip(windows, analyses, strict=True))


SUNDAY_NIGHT = ResourceWindow.maintenance("rds_instance", "db1", "sun:03:00-sun:03:30")
TUESDAY_MORNING = ResourceWindow.maintenance("rds_instance", "db2", "tue:10:00-tue:10:30")


def test_a_window_while_stopped_without_brackets_is_drawn_and_said_not_covered() -> None:
    target = office()
    shown = week(target, windows=windows_of(target, SUNDAY_NIGHT, brackets=False))

    assert grid_lines(shown)[-1] == "Sun 13 Dec  ····m···················"
    assert window_lines(shown) == [
        "m db1 maintenance window sun:03:00-sun:03:30: NOT covered Sun 04:00 CET"
    ]
    assert legend_lines(shown) == ["█ running   · stopped   m/b window NOT covered"]


def test_a_window_while_running_is_drawn_and_said_covered() -> None:
    target = office()
    shown = week(target, windows=windows_of(target, TUESDAY_MORNING))

    assert grid_lines(shown)[2] == "Tue  8 Dec  ········███M███████·····"
    assert window_lines(shown) == ["M db2 maintenance window tue:10:00-tue:10:30: covered"]
    assert "M/B maintenance/backup window, kept up" in legend_lines(shown)


def test_a_bracketed_window_says_the_brackets_keep_it_up() -> None:
    target = office()
    shown = week(target, windows=windows_of(target, SUNDAY_NIGHT))

    assert grid_lines(shown)[-1] == "Sun 13 Dec  ····M···················"
    assert window_lines(shown) == [
        "M db1 maintenance window sun:03:00-sun:03:30: kept up by bracket schedules Sun 04:00 CET"
    ]


def test_a_window_covered_on_some_days_lists_the_others_and_counts() -> None:
    # A daily backup at 20:00 UTC (21:00 CET): only Monday's, in an extension, is covered.
    target = office()
    evening = ResourceWindow.backup("rds_cluster", "c1", "20:00-20:30")
    shown = week(
        target,
        extended_stop="2026-12-07T18:00:00Z",
        auto_stop_at=datetime(2026, 12, 7, 23, 0, tzinfo=AMSTERDAM),
        windows=windows_of(target, evening, brackets=False),
    )

    assert window_lines(shown) == [
        "b c1 backup window 20:00-20:30: NOT covered Tue 21:00 CET, Wed 21:00 CET, "
        "Thu 21:00 CET, Fri 21:00 CET and 2 more; covered 1 of 7"
    ]
    assert grid_lines(shown)[1] == (
        "Mon  7 Dec  " + " " * 10 + "█" * 9 + "▒▒B▒·  stop 19:00 extended to 23:00"
    )
    assert legend_lines(shown) == [
        "█ running   ▒ kept up past the schedule   · stopped",
        "M/B maintenance/backup window, kept up",
        "m/b window NOT covered",
    ]


def test_an_aws_backup_rule_is_named_as_such() -> None:
    target = office()
    rule = ResourceWindow.aws_backup(
        "rds_cluster",
        "c2",
        expression="cron(0 12 ? * SAT *)",
        timezone="UTC",
        start_window_minutes=60,
    )
    shown = week(target, windows=windows_of(target, rule, brackets=False))

    assert window_lines(shown) == [
        "b c2 AWS Backup window cron(0 12 ? * SAT *) UTC, start within 60 min: "
        "NOT covered Sat 13:00 CET"
    ]
    assert grid_lines(shown)[6] == "Sat 12 Dec  " + "·" * 13 + "b" + "·" * 10


def test_what_could_not_be_shown_is_said_after_the_windows() -> None:
    target = office()
    broken = ResourceWindow.maintenance("rds_instance", "db9", "sometime")
    shown = week(
        target,
        windows=windows_of(target, TUESDAY_MORNING, broken),
        windows_unread="AccessDenied on rds:DescribeDBClusters",
    )

    assert window_lines(shown) == [
        "M db2 maintenance window tue:10:00-tue:10:30: covered",
        "? db9 maintenance window: maintenance window not analysed: expected "
        "ddd:hh24:mi-ddd:hh24:mi such as sun:03:00-sun:03:30, got 'sometime'",
        "Windows not shown: AccessDenied on rds:DescribeDBClusters",
    ]


def test_week_lines_are_the_grid_a_blank_the_legend_and_the_windows() -> None:
    target = office()
    shown = week(target, windows=windows_of(target, TUESDAY_MORNING))

    assert week_lines(shown) == [
        *grid_lines(shown),
        "",
        *legend_lines(shown),
        *window_lines(shown),
    ]
    assert week_lines(week(office()))[-2:] == ["", "█ running   · stopped"]
