"""The ``/env`` grammar: tables of good and bad inputs, ``until`` across DST, safety."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.grammar import (
    USAGE,
    Command,
    CommandError,
    Verb,
    help_text,
    next_wall_time,
    parse_command,
)
from scheduler_core.durations import MAX_DURATION
from scheduler_core.exceptions import BadInputError
from scheduler_core.names import COMPOSITION_RULE, is_composition_name

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NEW_YORK = ZoneInfo("America/New_York")
KNOWN = {"qa": AMSTERDAM, "staging": ZoneInfo("UTC"), "US-east_2": NEW_YORK}
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # 13:00 in Amsterdam (CET)


def parse(text: str, *, now: datetime = NOW) -> Command:
    return parse_command(text, known=KNOWN, now=now)


# --- good inputs ------------------------------------------------------------------

GOOD = [
    ("", Command(verb=Verb.HELP)),
    ("   ", Command(verb=Verb.HELP)),
    ("help", Command(verb=Verb.HELP)),
    ("HELP", Command(verb=Verb.HELP)),
    ("list", Command(verb=Verb.LIST)),
    ("  List  ", Command(verb=Verb.LIST)),
    ("status qa", Command(verb=Verb.STATUS, composition="qa")),
    ("start qa", Command(verb=Verb.START, composition="qa")),
    (
        "start qa for 30m",
        Command(verb=Verb.START, composition="qa", duration=timedelta(minutes=30)),
    ),
    ("Start  qa  FOR  2h", Command(verb=Verb.START, composition="qa", duration=timedelta(hours=2))),
    (
        "start US-east_2 for 1h30m",
        Command(verb=Verb.START, composition="US-east_2", duration=timedelta(minutes=90)),
    ),
    (
        "start qa until 18:00",
        Command(
            verb=Verb.START, composition="qa", until=datetime(2026, 1, 5, 18, 0, tzinfo=AMSTERDAM)
        ),
    ),
    (
        "start qa UNTIL 9:05",  # earlier than 13:00 local: tomorrow
        Command(
            verb=Verb.START, composition="qa", until=datetime(2026, 1, 6, 9, 5, tzinfo=AMSTERDAM)
        ),
    ),
    (
        "start US-east_2 until 00:00",
        Command(
            verb=Verb.START,
            composition="US-east_2",
            until=datetime(2026, 1, 6, 0, 0, tzinfo=NEW_YORK),
        ),
    ),
    ("stop qa", Command(verb=Verb.STOP, composition="qa")),
    ("extend qa 1h", Command(verb=Verb.EXTEND, composition="qa", duration=timedelta(hours=1))),
    ("start qa for 7d", Command(verb=Verb.START, composition="qa", duration=timedelta(days=7))),
    ("start qa for 168h", Command(verb=Verb.START, composition="qa", duration=timedelta(days=7))),
    ("extend qa 7d", Command(verb=Verb.EXTEND, composition="qa", duration=timedelta(days=7))),
    ("skip qa", Command(verb=Verb.SKIP, composition="qa")),
    ("skip qa next-start", Command(verb=Verb.SKIP, composition="qa", which="next-start")),
    (
        "skip qa 2026-12-24..2026-12-31",
        Command(verb=Verb.SKIP, composition="qa", which="2026-12-24..2026-12-31"),
    ),
    ("SKIP qa Next-Stop", Command(verb=Verb.SKIP, composition="qa", which="next-stop")),
    ("pause staging", Command(verb=Verb.PAUSE, composition="staging")),
    ("resume staging", Command(verb=Verb.RESUME, composition="staging")),
    ("schedule qa", Command(verb=Verb.SCHEDULE, composition="qa")),
    ("windows qa", Command(verb=Verb.WINDOWS, composition="qa")),
    ("history qa", Command(verb=Verb.HISTORY, composition="qa")),
    ("\u00a0status\u3000qa\u2003", Command(verb=Verb.STATUS, composition="qa")),  # Zs spaces
]


@pytest.mark.parametrize(("text", "expected"), GOOD, ids=[text or "<empty>" for text, _ in GOOD])
def test_good_input_parses_to_exact_command(text: str, expected: Command) -> None:
    assert parse(text) == expected


def test_until_is_aware_and_in_the_composition_timezone() -> None:
    until = parse("start qa until 18:00").until
    assert until is not None
    assert until.tzinfo is AMSTERDAM
    assert until.astimezone(UTC) == datetime(2026, 1, 5, 17, 0, tzinfo=UTC)


def test_until_for_a_composition_missing_from_known_uses_utc() -> None:
    command = parse_command("start other until 18:00", now=NOW)
    assert command.until == datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
    assert command.until is not None and command.until.utcoffset() == timedelta(0)


def test_empty_known_accepts_any_valid_name() -> None:
    assert parse_command("stop prod", known={}) == Command(verb=Verb.STOP, composition="prod")


def test_composition_name_keeps_its_case_and_must_match_known_exactly() -> None:
    known = {"QA-Main": AMSTERDAM}
    assert parse_command("stop QA-Main", known=known).composition == "QA-Main"
    with pytest.raises(CommandError, match='unknown composition "qa-main"; known: QA-Main'):
        parse_command("stop qa-main", known=known)


def test_until_equal_to_now_means_tomorrow() -> None:
    now = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)  # 18:00 in Amsterdam
    assert parse("start qa until 18:00", now=now).until == datetime(
        2026, 1, 6, 18, 0, tzinfo=AMSTERDAM
    )


def test_until_one_minute_ahead_is_today() -> None:
    now = datetime(2026, 1, 5, 16, 59, 30, tzinfo=UTC)  # 17:59:30 in Amsterdam
    assert parse("start qa until 18:00", now=now).until == datetime(
        2026, 1, 5, 18, 0, tzinfo=AMSTERDAM
    )


def test_now_defaults_to_the_clock() -> None:
    until = parse_command("start qa until 12:00", known=KNOWN).until
    assert until is not None
    assert timedelta(0) < until - datetime.now(UTC) <= timedelta(days=1)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_command("start qa until 18:00", now=datetime(2026, 1, 5, 12, 0))


# --- until across DST (Europe/Amsterdam: 2026-03-29 02:00→03:00, 2026-10-25 03:00→02:00)


def test_until_in_the_spring_forward_gap_resolves_to_the_end_of_the_gap() -> None:
    now = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # 00:00 CET on the 29th
    until = parse("start qa until 02:30", now=now).until
    assert until is not None
    assert until.astimezone(UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST
    assert (until.hour, until.minute, until.utcoffset()) == (3, 0, timedelta(hours=2))


def test_until_in_the_gap_resolves_to_the_exact_transition_instant() -> None:
    now = datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC)  # 01:59:59 CET, a second before
    until = parse("start qa until 02:59", now=now).until
    assert until is not None
    assert until.astimezone(UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert (until.second, until.microsecond) == (0, 0)


def test_until_whose_gap_end_is_now_means_tomorrow() -> None:
    now = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST, the instant of the jump
    until = parse("start qa until 02:59", now=now).until
    assert until == datetime(2026, 3, 30, 2, 59, tzinfo=AMSTERDAM)


def test_until_after_the_spring_forward_jump_uses_the_new_offset() -> None:
    now = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    until = parse("start qa until 18:00", now=now).until
    assert until is not None
    assert until.astimezone(UTC) == datetime(2026, 3, 29, 16, 0, tzinfo=UTC)


def test_until_on_the_day_before_spring_forward_rolls_into_the_gap_day() -> None:
    now = datetime(2026, 3, 28, 2, 0, tzinfo=UTC)  # 03:00 CET on the 28th, past 02:30
    until = parse("start qa until 02:30", now=now).until
    assert until is not None
    assert until.astimezone(UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_until_in_the_fall_back_repeat_takes_the_first_occurrence() -> None:
    now = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # 00:00 CEST on the 25th
    until = parse("start qa until 02:30", now=now).until
    assert until is not None
    assert until.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST


def test_until_between_the_two_fall_back_occurrences_takes_the_second() -> None:
    now = datetime(2026, 10, 25, 0, 40, tzinfo=UTC)  # 02:40 CEST, first pass
    until = parse("start qa until 02:30", now=now).until
    assert until is not None
    assert until.astimezone(UTC) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    assert until.utcoffset() == timedelta(hours=1)


def test_until_after_fall_back_uses_the_new_offset() -> None:
    now = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    until = parse("start qa until 18:00", now=now).until
    assert until is not None
    assert until.astimezone(UTC) == datetime(2026, 10, 25, 17, 0, tzinfo=UTC)


# 2026 transitions (UTC instant, zone), including Lord Howe's 30-minute shifts.
TRANSITIONS = [
    (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), AMSTERDAM),  # forward 02:00 → 03:00
    (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), AMSTERDAM),  # back 03:00 → 02:00
    (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), NEW_YORK),
    (datetime(2026, 11, 1, 6, 0, tzinfo=UTC), NEW_YORK),
    (datetime(2026, 4, 4, 15, 0, tzinfo=UTC), ZoneInfo("Australia/Lord_Howe")),
    (datetime(2026, 10, 3, 15, 30, tzinfo=UTC), ZoneInfo("Australia/Lord_Howe")),
]


@st.composite
def wall_time_cases(draw: st.DrawFn) -> tuple[datetime, time, ZoneInfo]:
    """A (now, clock, zone) triple, mostly with both now and clock near a DST change."""
    if draw(st.booleans()):
        now = draw(
            st.datetimes(datetime(2025, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC))
        )
        zone = draw(st.sampled_from([AMSTERDAM, NEW_YORK, UTC]))
        return now, time(draw(st.integers(0, 23)), draw(st.integers(0, 59))), zone
    transition, zone = draw(st.sampled_from(TRANSITIONS))
    now = transition + timedelta(minutes=draw(st.integers(-1500, 1500)))
    now += timedelta(seconds=draw(st.integers(0, 59)))
    around = transition.astimezone(zone) + timedelta(minutes=draw(st.integers(-90, 90)))
    return now, time(around.hour, around.minute), zone


@settings(max_examples=300, deadline=None)
@given(case=wall_time_cases())
def test_next_wall_time_is_the_first_matching_minute_after_now(
    case: tuple[datetime, time, ZoneInfo],
) -> None:
    """Oracle: walk UTC minutes; the first one after now showing hour:minute (or, in a
    gap, the first one whose wall clock has passed it) is the answer."""
    now, clock, zone = case
    hour, minute = clock.hour, clock.minute
    until = next_wall_time(clock, zone, now)
    assert until > now
    assert until - now <= timedelta(days=1, hours=1)
    probe = now.replace(second=0, microsecond=0)
    while True:
        probe += timedelta(minutes=1)
        if probe <= now:
            continue
        local = probe.astimezone(zone)
        previous = (probe - timedelta(minutes=1)).astimezone(zone)
        target = local.replace(hour=hour, minute=minute, second=0, microsecond=0, tzinfo=None)
        wall, before = local.replace(tzinfo=None), previous.replace(tzinfo=None)
        if wall == target or (before < target < wall and wall - before > timedelta(minutes=1)):
            assert until.astimezone(UTC) == probe  # PEP 495: no inter-zone == in a fold
            return


@settings(max_examples=300, deadline=None)
@given(case=wall_time_cases(), name=st.sampled_from(sorted(KNOWN)))
def test_until_is_never_beyond_the_duration_limit(
    case: tuple[datetime, time, ZoneInfo], name: str
) -> None:
    now, clock, _ = case
    until = parse_command(f"start {name} until {clock:%H:%M}", known=KNOWN, now=now).until
    assert until is not None
    assert timedelta(0) < until - now <= MAX_DURATION


# --- bad inputs -------------------------------------------------------------------

BAD = [
    ("strat qa", 'unknown command "strat" (did you mean "start"?); try /env help'),
    ("STPO qa", 'unknown command "STPO" (did you mean "stop"?); try /env help'),
    ("deploy qa", 'unknown command "deploy"; try /env help'),
    ("help me", "usage: /env help"),
    ("list all", "usage: /env list"),
    ("status", "usage: /env status <name>"),
    ("status qa staging", "usage: /env status <name>"),
    ("start", "usage: /env start <name> [for <duration> | until HH:MM]"),
    ("start qa 2h", "usage: /env start <name> [for <duration> | until HH:MM]"),
    ("start qa for", "usage: /env start <name> [for <duration> | until HH:MM]"),
    ("start qa until", "usage: /env start <name> [for <duration> | until HH:MM]"),
    ("start qa for 1h 30m", "usage: /env start <name> [for <duration> | until HH:MM]"),
    ("start qa for 2h until 18:00", "usage: /env start <name> [for <duration> | until HH:MM]"),
    ("start qa for 5y", 'expected a duration such as 30m, 2h or 1h30m, got "5y"'),
    ("start qa for 0m", 'expected a duration longer than zero, got "0m"'),
    ("start qa for 8d", 'expected a duration of at most 7 days, got "8d"'),
    ("start qa for 7d1s", 'expected a duration of at most 7 days, got "7d1s"'),
    ("start qa for 169h", 'expected a duration of at most 7 days, got "169h"'),
    ("start qa for 31d", 'expected a duration of at most 7 days, got "31d"'),
    ("extend qa 8d", 'expected a duration of at most 7 days, got "8d"'),
    ("start qa for 999999d", 'expected a duration of at most 7 days, got "999999d"'),
    (
        "start qa for 99999999999999999999d",
        'expected a duration such as 30m, 2h or 1h30m, got "99999999999999999999d"',
    ),
    ("start qa until 25:00", 'expected a time HH:MM such as 18:00, got "25:00"'),
    ("start qa until 12:60", 'expected a time HH:MM such as 18:00, got "12:60"'),
    ("start qa until 6pm", 'expected a time HH:MM such as 18:00, got "6pm"'),
    ("start qa until 18:00:00", 'expected a time HH:MM such as 18:00, got "18:00:00"'),
    ("start qa until 1８:00", 'expected a time HH:MM such as 18:00, got "1８:00"'),
    ("stop", "usage: /env stop <name>"),
    ("stop qa now", "usage: /env stop <name>"),
    ("extend qa", "usage: /env extend <name> <duration>"),
    ("extend qa for 1h", "usage: /env extend <name> <duration>"),
    ("extend qa soon", 'expected a duration such as 30m, 2h or 1h30m, got "soon"'),
    (
        "skip qa next-start next-stop",
        "usage: /env skip <name> [next-start|next-stop|<date>[..<date>]]",
    ),
    (
        "skip qa tomorrow",
        "expected next-start, next-stop or a date YYYY-MM-DD[..YYYY-MM-DD] after the name, "
        'got "tomorrow"',
    ),
    ("pause", "usage: /env pause <name>"),
    ("resume qa please", "usage: /env resume <name>"),
    ("schedule", "usage: /env schedule <name>"),
    ("windows qa x", "usage: /env windows <name>"),
    ("history", "usage: /env history <name>"),
    ("stop prod", 'unknown composition "prod"; known: US-east_2, qa, staging'),
    ("stop -qa", f'invalid composition name "-qa"; names use {COMPOSITION_RULE}'),
    ("stop qa!", f'invalid composition name "qa!"; names use {COMPOSITION_RULE}'),
    ("stop " + "a" * 41, f'invalid composition name "{"a" * 41}"; names use {COMPOSITION_RULE}'),
    ("stop qå", f'invalid composition name "qå"; names use {COMPOSITION_RULE}'),
    ("stop <!channel>", f'invalid composition name "<!channel>"; names use {COMPOSITION_RULE}'),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[text[:40] for text, _ in BAD])
def test_bad_input_is_refused_with_exact_message(text: str, message: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse(text)
    assert str(caught.value) == message


def test_invalid_name_is_reported_before_unknown_name() -> None:
    with pytest.raises(CommandError, match="invalid composition name"):
        parse("stop qa$")


def test_usage_is_reported_before_a_bad_name() -> None:
    with pytest.raises(CommandError) as caught:
        parse("stop qa$ now")
    assert str(caught.value) == "usage: /env stop <name>"


def test_command_error_is_a_bad_input_error() -> None:
    assert issubclass(CommandError, BadInputError)


# --- safety -----------------------------------------------------------------------


def test_text_of_exactly_2000_characters_is_accepted() -> None:
    assert parse("list" + " " * 1996) == Command(verb=Verb.LIST)


def test_text_longer_than_2000_characters_is_refused() -> None:
    with pytest.raises(CommandError) as caught:
        parse("stop qa" + " " * 2338)
    assert str(caught.value) == "the command is too long (2,345 characters; at most 2,000)"


@pytest.mark.parametrize(
    "character",
    ["\x00", "\t", "\n", "\r", "\x1b", "\x1f", "\x7f", "\x85", "\x9f", "\u2028", "\u2029"],
)
def test_control_characters_are_refused(character: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse(f"stop qa{character}")
    assert str(caught.value) == "the command contains control characters"


def test_length_is_checked_before_control_characters() -> None:
    with pytest.raises(CommandError, match="too long"):
        parse("\x00" * 2001)


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_parse_command_only_ever_raises_command_error(text: str) -> None:
    with contextlib.suppress(CommandError):
        parse(text)


@settings(max_examples=300, deadline=None)
@given(
    verb=st.sampled_from(list(Verb)),
    words=st.lists(
        st.one_of(
            st.sampled_from(["qa", "for", "until", "next-stop", "1h30m", "23:59", "99:99"]),
            st.from_regex(r"[0-9]{1,25}[dhms]", fullmatch=True),
            st.text(max_size=8),
        ),
        max_size=4,
    ),
)
def test_grammar_shaped_text_only_ever_raises_command_error(verb: Verb, words: list[str]) -> None:
    with contextlib.suppress(CommandError):
        parse(" ".join([verb.value, *words]))


@settings(max_examples=300, deadline=None)
@given(name=st.text(alphabet=st.characters(max_codepoint=0x17F), max_size=45))
def test_name_rule_agrees_with_the_config_loader(name: str) -> None:
    if not name or any(c.isspace() for c in name) or not name.isprintable():
        return  # cannot arrive as a single word of a valid command
    try:
        accepted = parse_command(f"stop {name}").composition == name
    except CommandError:
        accepted = False
    assert accepted == is_composition_name(name)


# --- help -------------------------------------------------------------------------


def test_usage_has_one_line_per_verb() -> None:
    assert list(USAGE) == list(Verb)
    assert all(line.startswith(f"/env {verb.value}") for verb, line in USAGE.items())
    assert all("\n" not in line for line in USAGE.values())


def test_help_text_lists_every_usage_line_with_a_description_in_design_order() -> None:
    lines = help_text().splitlines()
    assert [line.split(" — ")[0] for line in lines] == list(USAGE.values())
    assert all(len(line.split(" — ")[1]) > 5 for line in lines)
    assert [verb.value for verb in Verb] == [
        "help",
        "list",
        "status",
        "start",
        "stop",
        "extend",
        "skip",
        "pause",
        "resume",
        "schedule",
        "windows",
        "history",
    ]
