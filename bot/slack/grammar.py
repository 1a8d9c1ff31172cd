"""The ``/env`` slash command grammar (README "Slack"), parsed without Slack or AWS.

``parse_command`` turns the text after ``/env`` into a ``Command`` or raises
``CommandError`` with one sentence that says what is valid, ready to be shown to the
user as an ephemeral reply (the Slack layer escapes it for mrkdwn)::

    help | list | status <name> | start <name> [for <duration> | until HH:MM] |
    stop <name> | extend <name> <duration> | skip <name> [next-start|next-stop|<date>[..<date>]] |
    pause <name> | resume <name> | schedule <name> | windows <name> | history <name>
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from scheduler_core import names
from scheduler_core.durations import MAX_DURATION, format_duration, parse_duration
from scheduler_core.exceptions import BadInputError

MAX_LENGTH = 2000
SKIP_TARGETS = ("next-start", "next-stop")
SKIP_DATES = re.compile(r"\d{4}-\d{2}-\d{2}(?:\.\.\d{4}-\d{2}-\d{2})?", re.ASCII)
# Unicode category Cc (C0, DEL, C1) plus the line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CLOCK = re.compile(r"(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})")


class CommandError(BadInputError):
    """The ``/env`` text does not follow the grammar; the message says what is valid."""


class Verb(StrEnum):
    """The ``/env`` subcommands, in README "Slack" order."""

    HELP = "help"
    LIST = "list"
    STATUS = "status"
    START = "start"
    STOP = "stop"
    EXTEND = "extend"
    SKIP = "skip"
    PAUSE = "pause"
    RESUME = "resume"
    SCHEDULE = "schedule"
    WINDOWS = "windows"
    HISTORY = "history"


USAGE: dict[Verb, str] = {
    Verb.HELP: "/env help",
    Verb.LIST: "/env list",
    Verb.STATUS: "/env status <name>",
    Verb.START: "/env start <name> [for <duration> | until HH:MM]",
    Verb.STOP: "/env stop <name>",
    Verb.EXTEND: "/env extend <name> <duration>",
    Verb.SKIP: "/env skip <name> [next-start|next-stop|<date>[..<date>]]",
    Verb.PAUSE: "/env pause <name>",
    Verb.RESUME: "/env resume <name>",
    Verb.SCHEDULE: "/env schedule <name>",
    Verb.WINDOWS: "/env windows <name>",
    Verb.HISTORY: "/env history <name>",
}

_DESCRIPTIONS: dict[Verb, str] = {
    Verb.HELP: "this list of commands",
    Verb.LIST: "every composition, its state, next scheduled start and stop",
    Verb.STATUS: "live state of each resource",
    Verb.START: "start now; stop automatically after a duration (30m, 2h, 1h30m) "
    "or at a time in the composition's timezone",
    Verb.STOP: "stop now",
    Verb.EXTEND: "move the pending auto-stop later by a duration",
    Verb.SKIP: "skip one scheduled run (without an argument: the next one), or the starts on dates",
    Verb.PAUSE: "disable scheduled runs",
    Verb.RESUME: "re-enable scheduled runs",
    Verb.SCHEDULE: "the schedule in words and local time",
    Verb.WINDOWS: "maintenance and backup windows and their coverage",
    Verb.HISTORY: "the last 10 audit entries",
}


@dataclass(frozen=True, kw_only=True)
class Command:
    """One parsed ``/env`` command.

    Attributes:
        verb: The subcommand.
        composition: The composition name exactly as typed; None for help and list.
        duration: ``start ... for`` or ``extend``: how long to run / how much longer.
        until: ``start ... until``: the aware instant to stop at.
        which: ``skip``: "next-start", "next-stop" or dates (``2026-12-24..2026-12-31``);
            None when omitted, in which case the caller skips whichever scheduled run
            comes next (runtime knowledge).
    """

    verb: Verb
    composition: str | None = None
    duration: timedelta | None = None
    until: datetime | None = None
    which: str | None = None
    # ``until``'s time as typed, to place it again in the composition's zone.
    clock: str | None = field(default=None, compare=False)


def help_text() -> str:
    """Every usage line with a short description, one per line, in the order of README "Slack"."""
    return "\n".join(f"{USAGE[verb]} — {_DESCRIPTIONS[verb]}" for verb in Verb)


def parse_command(
    text: str,
    *,
    known: Mapping[str, ZoneInfo] | None = None,
    now: datetime | None = None,
) -> Command:
    """Parse the text of an ``/env`` slash command.

    Verbs and keywords are case-insensitive, composition names are kept as typed,
    runs of whitespace count as one separator, and empty text means ``help``.

    Args:
        text: What the user typed after ``/env``.
        known: Composition name → timezone. When given and non-empty, names must be
            among its keys; it also gives the timezone of ``until``. Unknown → UTC.
        now: The current instant (aware) for ``until``; defaults to the clock.

    Returns:
        The command; ``until`` is the next occurrence of that wall-clock time strictly
        after ``now``. A time that spring-forward skips resolves to the end of the gap
        (02:30 on a day that jumps 02:00 → 03:00 gives 03:00); a time that fall-back
        repeats resolves to whichever occurrence comes first after ``now``. ``until``
        is in the composition's zone; in a repeated hour Python's ``==`` against other
        zones is always False (PEP 495), so compare ``until.astimezone(UTC)``.

    Raises:
        CommandError: The text is too long, contains control characters, or does not
            follow the grammar; the message says what is valid.
        ValueError: ``now`` is naive (a programming error, not bad input).
    """
    if now is not None and now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if len(text) > MAX_LENGTH:
        raise CommandError(
            f"the command is too long ({len(text):,} characters; at most {MAX_LENGTH:,})"
        )
    if _CONTROL.search(text):
        raise CommandError("the command contains control characters")
    words = text.split()
    if not words:
        return Command(verb=Verb.HELP)
    verb = _verb(words[0])
    args = words[1:]
    if verb in (Verb.HELP, Verb.LIST):
        _expect(verb, not args)
        return Command(verb=verb)
    _expect(verb, bool(args))
    name, options = args[0], args[1:]
    _expect(verb, _SHAPES.get(verb, _no_options)(options))
    _check_name(name, known)
    if verb is Verb.START:
        return _start(name, options, known=known, now=now)
    if verb is Verb.EXTEND:
        return Command(verb=verb, composition=name, duration=_duration(options[0]))
    if verb is Verb.SKIP:
        return Command(verb=verb, composition=name, which=_skip_target(options))
    return Command(verb=verb, composition=name)


def _verb(word: str) -> Verb:
    try:
        return Verb(word.lower())
    except ValueError:
        pass
    close = difflib.get_close_matches(word.lower(), list(Verb), n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    raise CommandError(f'unknown command "{word}"{hint}; try /env help')


def _expect(verb: Verb, condition: bool) -> None:
    if not condition:
        raise CommandError(f"usage: {USAGE[verb]}")


def _no_options(options: list[str]) -> bool:
    return not options


# The words allowed after the name; anything else is answered with the usage line.
_SHAPES: dict[Verb, Callable[[list[str]], bool]] = {
    Verb.START: lambda options: (
        not options or (len(options) == 2 and options[0].lower() in ("for", "until"))
    ),
    Verb.EXTEND: lambda options: len(options) == 1,
    Verb.SKIP: lambda options: len(options) <= 1,
}


def _check_name(name: str, known: Mapping[str, ZoneInfo] | None) -> None:
    if not names.is_composition_name(name):
        raise CommandError(f'invalid composition name "{name}"; names use {names.COMPOSITION_RULE}')
    if known and name not in known:
        raise CommandError(f'unknown composition "{name}"; known: {", ".join(sorted(known))}')


def _start(
    name: str,
    options: list[str],
    *,
    known: Mapping[str, ZoneInfo] | None,
    now: datetime | None,
) -> Command:
    if not options:
        return Command(verb=Verb.START, composition=name)
    keyword, value = options[0].lower(), options[1]
    if keyword == "for":
        return Command(verb=Verb.START, composition=name, duration=_duration(value))
    clock = _clock(value)
    zone = (known or {}).get(name) or ZoneInfo("UTC")
    now = now or datetime.now(UTC)
    until = next_wall_time(clock, zone, now)
    # The next occurrence of a wall time is at most a day (and a DST hour) away; checked
    # all the same so that "until" can never get past the limit "for" has.
    if until - now > MAX_DURATION:
        raise CommandError(
            f'expected a time within {format_duration(MAX_DURATION)} from now, got "{value}"'
        )
    return Command(verb=Verb.START, composition=name, until=until, clock=value)


def for_compositions(
    command: Command, known: Mapping[str, ZoneInfo], *, now: datetime | None = None
) -> Command:
    """A command parsed without the config, checked against it: what
    ``parse_command(text, known=known, now=now)`` gives, without parsing the text again.

    Raises:
        CommandError: the name is not among ``known`` (the message lists them).
    """
    name = command.composition
    if name is None:
        return command
    _check_name(name, known)
    if command.clock is None:
        return command
    return _start(name, ["until", command.clock], known=known, now=now)


def _skip_target(options: list[str]) -> str | None:
    if not options:
        return None
    which = options[0].lower()
    if which in SKIP_TARGETS or SKIP_DATES.fullmatch(which):
        return which  # dates are checked against the calendar by the runtime
    raise CommandError(
        "expected next-start, next-stop or a date YYYY-MM-DD[..YYYY-MM-DD] after the name, "
        f'got "{options[0]}"'
    )


def _duration(word: str) -> timedelta:
    # parse_duration keeps the limits (longer than zero, at most MAX_DURATION) and bounds
    # the digits, so no number can overflow timedelta: its ValueError is the whole story.
    try:
        return parse_duration(word)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


def _clock(word: str) -> time:
    match = _CLOCK.fullmatch(word)
    if match is None or int(match["hour"]) > 23 or int(match["minute"]) > 59:
        raise CommandError(f'expected a time HH:MM such as 18:00, got "{word}"')
    return time(int(match["hour"]), int(match["minute"]))


# --- wall-clock time → instant -----------------------------------------------------


def next_wall_time(clock: time, zone: ZoneInfo, now: datetime | None = None) -> datetime:
    """The first instant strictly after ``now`` at which ``zone``'s clock shows ``clock``.

    A wall time skipped by spring-forward resolves to the end of the gap (the first
    valid instant after it); a repeated one (fall-back) yields each occurrence in turn.

    Args:
        clock: Hour and minute, naive.
        zone: The timezone whose wall clock is meant.
        now: The current instant (aware); defaults to the clock.

    Returns:
        An aware datetime in ``zone``.
    """
    now = now or datetime.now(UTC)
    today = now.astimezone(zone).date()
    for offset in range(3):  # today or tomorrow always suffices; one spare day
        for instant in _occurrences(today + timedelta(days=offset), clock, zone):
            if instant > now:
                return instant
    raise AssertionError("unreachable: a wall-clock time occurs at least once a day")


def _occurrences(day: date, clock: time, zone: ZoneInfo) -> list[datetime]:
    wall = datetime.combine(day, clock)
    first, second = (wall.replace(tzinfo=zone, fold=fold) for fold in (0, 1))
    if _exists(first, zone):
        return [first] if first.utcoffset() == second.utcoffset() else [first, second]
    return [_gap_end(wall, zone)]


def _exists(local: datetime, zone: ZoneInfo) -> bool:
    round_trip = local.astimezone(UTC).astimezone(zone)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)


def _gap_end(wall: datetime, zone: ZoneInfo) -> datetime:
    """The transition instant at which the clock jumps past ``wall``."""
    # fold=1 reads wall with the offset after the jump, fold=0 with the one before; the
    # transition lies between the two readings. Bisect on whole seconds (transitions
    # fall on whole seconds) so the answer is the exact instant, not one near it.
    low = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    high = int(wall.replace(tzinfo=zone, fold=0).timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) > wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, zone)
