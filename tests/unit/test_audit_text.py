"""Audit text: refused when unsafe on the way in, escaped wherever history is shown.

Entries written before input was checked may carry forged newlines, terminal escapes
or bidi overrides; `envctl history` and `/env history` must show them, never obey them.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from bot.slack.blocks import history_blocks
from scheduler_core.cli import commands
from scheduler_core.config import Composition, parse_config
from scheduler_core.exceptions import BadInputError
from scheduler_core.runtime.store import AuditEntry
from scheduler_core.text import MAX_REASON, check_plain, is_plain, printable

WINTER = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # Fri 27 Nov 19:00 CET
# Each field tries something else: a second history line, clearing the screen, a
# carriage return over the line, text reversed by a bidi override.
FORGED = AuditEntry(
    at=WINTER,
    who="alice\nFri 27 Nov 19:05 CET (Europe/Amsterdam)  root via cli: stop",
    what="start\x1b[2J",
    via="cli\r",
    detail="\u202eevil <!channel> & more",
)


def staging() -> Composition:
    text = (
        "compositions:\n  staging:\n    timezone: Europe/Amsterdam\n"
        "    resources:\n      - type: wait\n        params: {seconds: 1}\n"
    )
    return parse_config(text, path=Path("compositions.yaml")).get("staging")


def unsafe_characters(text: str) -> list[str]:
    return [char for char in text if unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"}]


# --- printable / check_plain -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("start staging for 2h", "start staging for 2h"),
        ("café ☕ Zürich", "café ☕ Zürich"),
        ("one\ntwo", "one\\ntwo"),
        ("tab\there", "tab\\there"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("back\rover", "back\\rover"),
        ("\u202ereversed", "\\u202ereversed"),
        ("line\u2028separator", "line\\u2028separator"),
        ("del\x7f", "del\\x7f"),
    ],
)
def test_printable_escapes_exactly_the_unsafe_characters(text: str, expected: str) -> None:
    assert printable(text) == expected
    assert is_plain(printable(text))


def test_check_plain_returns_plain_text_unchanged() -> None:
    assert check_plain("nightly run — café", field="reason") == "nightly run — café"


@pytest.mark.parametrize("text", ["two\nlines", "\x1b[2J", "bidi\u202e", "nul\x00"])
def test_check_plain_refuses_control_characters(text: str) -> None:
    with pytest.raises(BadInputError) as caught:
        check_plain(text, field="reason")

    assert str(caught.value) == (
        "reason: control characters (newlines, tabs, escape sequences) are not allowed"
    )


def test_check_plain_refuses_text_over_the_limit() -> None:
    check_plain("x" * MAX_REASON, field="reason")

    with pytest.raises(BadInputError) as caught:
        check_plain("x" * (MAX_REASON + 1), field="reason")

    assert str(caught.value) == f"reason: at most {MAX_REASON} characters, got {MAX_REASON + 1}"


# --- envctl history --------------------------------------------------------------------


def test_cli_history_line_escapes_every_field_of_a_forged_entry() -> None:
    line = commands.history_line(FORGED, staging())

    assert line == (
        "Fri 27 Nov 19:00 CET (Europe/Amsterdam)  "
        "alice\\nFri 27 Nov 19:05 CET (Europe/Amsterdam)  root via cli: stop "
        "via cli\\r: start\\x1b[2J (\\u202eevil <!channel> & more)"
    )
    assert unsafe_characters(line) == []


def test_cli_history_line_leaves_plain_entries_as_they_were() -> None:
    entry = AuditEntry(at=WINTER, who="alice@laptop", what="stop", via="cli", detail="for 2h")

    assert commands.history_line(entry, staging()) == (
        "Fri 27 Nov 19:00 CET (Europe/Amsterdam)  alice@laptop via cli: stop (for 2h)"
    )


def test_cli_history_prints_one_line_per_entry(capsys: pytest.CaptureFixture[str]) -> None:
    composition = staging()
    plain = AuditEntry(at=WINTER, who="bob", what="stop", via="slack")
    store = SimpleNamespace(history=lambda name: [FORGED, plain] if name == "staging" else [])
    context = SimpleNamespace(composition=composition, runtime=SimpleNamespace(store=store))

    code = commands._history(cast(commands.Context, context))

    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines() == [
        commands.history_line(FORGED, composition),
        "Fri 27 Nov 19:00 CET (Europe/Amsterdam)  bob via slack: stop",
    ]
    assert unsafe_characters(out.replace("\n", "")) == []


# --- /env history ----------------------------------------------------------------------


def test_slack_history_escapes_control_characters_and_mrkdwn() -> None:
    blocks = history_blocks("staging", [FORGED], zone=staging().zone)

    assert [block["text"]["text"] for block in blocks] == [
        "*staging* history",
        "Fri 27 Nov 19:00 CET — *start\\x1b[2J* by "
        "alice\\nFri 27 Nov 19:05 CET (Europe/Amsterdam)  root via cli: stop "
        "via cli\\r · \\u202eevil &lt;!channel&gt; &amp; more",
    ]
    assert all(unsafe_characters(block["text"]["text"]) == [] for block in blocks)


def test_slack_history_still_mentions_real_user_ids() -> None:
    entry = AuditEntry(at=WINTER, who="U0123ABCD", what="start", via="slack")
    forged_id = AuditEntry(at=WINTER, who="U0123ABCD\n", what="start", via="slack")

    blocks = history_blocks("staging", [entry, forged_id], zone=staging().zone)

    assert blocks[1]["text"]["text"] == (
        "Fri 27 Nov 19:00 CET — *start* by <@U0123ABCD> via slack\n"
        "Fri 27 Nov 19:00 CET — *start* by U0123ABCD\\n via slack"
    )
