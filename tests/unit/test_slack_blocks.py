"""Block Kit rendering: exact texts, Slack's structural limits, escaping, truncation."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.slack.blocks import (
    STATE_EMOJI,
    CompositionRow,
    confirmation_blocks,
    escape,
    help_blocks,
    history_blocks,
    home_view,
    list_blocks,
    local_time,
    plain_text_fallback,
    progress_blocks,
    result_blocks,
    schedule_blocks,
    state_label,
    status_blocks,
    windows_blocks,
)
from bot.slack.grammar import USAGE
from scheduler_core.resources.base import Action, ResourceState, ResourceStatus
from scheduler_core.runtime.status import CompositionState, CompositionStatus
from scheduler_core.runtime.store import AuditEntry, StateRecord
from scheduler_core.windows.analysis import WindowAnalysis
from scheduler_core.windows.brackets import Bracket
from scheduler_core.windows.specs import WindowKind

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
WINTER = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # Fri 27 Nov 19:00 CET
SUMMER = datetime(2026, 7, 3, 6, 0, tzinfo=UTC)  # Fri 3 Jul 08:00 CEST
HOSTILE = "<!channel> & <@U999> <https://evil.example|click>"

# --- a small Block Kit validator (Slack's documented limits) ------------------------

KNOWN_BLOCKS = {"section", "context", "actions", "divider", "header"}
# The only <…> tokens we emit ourselves: user mentions.
ALLOWED_TOKEN = re.compile(r"<@[UW][A-Z0-9]+>")


def _check_text(text: dict[str, Any], *, limit: int, kinds: tuple[str, ...]) -> None:
    assert text["type"] in kinds
    assert 1 <= len(text["text"]) <= limit, text["text"][:80]
    if text["type"] == "mrkdwn":
        leftover = ALLOWED_TOKEN.sub("", text["text"])
        assert "<" not in leftover and ">" not in leftover, "unescaped < or > in mrkdwn"
        assert not re.search(r"&(?!amp;|lt;|gt;)", leftover), "unescaped & in mrkdwn"


def _check_button(button: dict[str, Any]) -> None:
    assert button["type"] == "button"
    _check_text(button["text"], limit=75, kinds=("plain_text",))
    assert 1 <= len(button["action_id"]) <= 255
    assert len(button.get("value", "")) <= 2000
    assert button.get("style", "primary") in ("primary", "danger")
    if "confirm" in button:
        dialog = button["confirm"]
        _check_text(dialog["title"], limit=100, kinds=("plain_text",))
        _check_text(dialog["text"], limit=300, kinds=("plain_text", "mrkdwn"))
        _check_text(dialog["confirm"], limit=30, kinds=("plain_text",))
        _check_text(dialog["deny"], limit=30, kinds=("plain_text",))
        assert dialog.get("style", "primary") in ("primary", "danger")


def _check_block(block: dict[str, Any]) -> list[str]:
    """Validate one block; return its action_ids."""
    kind = block["type"]
    assert kind in KNOWN_BLOCKS, kind
    if kind == "section":
        assert "text" in block or "fields" in block
        if "text" in block:
            _check_text(block["text"], limit=3000, kinds=("mrkdwn", "plain_text"))
        assert len(block.get("fields", ())) <= 10
        for field in block.get("fields", ()):
            _check_text(field, limit=2000, kinds=("mrkdwn", "plain_text"))
    elif kind == "context":
        assert 1 <= len(block["elements"]) <= 10
        for element in block["elements"]:
            _check_text(element, limit=3000, kinds=("mrkdwn", "plain_text"))
    elif kind == "header":
        _check_text(block["text"], limit=150, kinds=("plain_text",))
    elif kind == "actions":
        assert 1 <= len(block["elements"]) <= 25
        for element in block["elements"]:
            _check_button(element)
    action_ids = [
        element["action_id"] for element in block.get("elements", ()) if "action_id" in element
    ]
    assert len(action_ids) == len(set(action_ids)), "action_id repeated within a block"
    return action_ids


def validate(blocks: list[dict[str, Any]], *, max_blocks: int = 50, home: bool = False) -> None:
    """Assert ``blocks`` is a message (or, with ``home``, a Home tab) Slack accepts."""
    json.dumps(blocks)  # plain data only
    assert 1 <= len(blocks) <= max_blocks
    block_ids = [block["block_id"] for block in blocks if "block_id" in block]
    assert len(block_ids) == len(set(block_ids)), "block_id repeated"
    assert all(len(block_id) <= 255 for block_id in block_ids)
    pairs = [(block.get("block_id"), aid) for block in blocks for aid in _check_block(block)]
    assert len(pairs) == len(set(pairs)), "(block_id, action_id) repeated"
    if not home:
        action_ids = [aid for _, aid in pairs]
        assert len(action_ids) == len(set(action_ids)), "action_id repeated in a message"


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    found = []
    for block in blocks:
        if block["type"] in ("section", "header"):
            found.append(block["text"]["text"])
        elif block["type"] == "context":
            found += [element["text"] for element in block["elements"]]
    return found


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        element for block in blocks if block["type"] == "actions" for element in block["elements"]
    ]


# --- fixtures ---------------------------------------------------------------------------


def row(name: str = "staging", **changes: Any) -> CompositionRow:
    fields: dict[str, Any] = {
        "name": name,
        "description": "Staging stack for QA",
        "state": "running",
        "zone": AMSTERDAM,
        "next_start": datetime(2026, 11, 30, 7, 0, tzinfo=UTC),
        "next_stop": WINTER,
        "auto_stop_at": WINTER - timedelta(hours=4),
    }
    return CompositionRow(**(fields | changes))


def status(
    *resources: ResourceStatus, state: CompositionState = CompositionState.PARTIAL
) -> CompositionStatus:
    return CompositionStatus(composition="staging", state=state, resources=resources)


DB = ResourceStatus(
    type="rds_cluster", id="db-main", state=ResourceState.RUNNING, detail="available"
)
GONE = ResourceStatus(
    type="ec2_instance", id="i-0abc", state=ResourceState.MISSING, detail="not found"
)
FAILED_RUN = StateRecord(
    state="failed",
    execution="arn:aws:states:eu-west-1:1:execution:envctl-staging-start:slack-1",
    trigger="schedule",
    updated_at="2026-11-27T18:00:00.123Z",
    error="States.TaskFailed",
    cause="rds_cluster db-main: InvalidDBClusterStateFault",
)


def analysis(**changes: Any) -> WindowAnalysis:
    fields: dict[str, Any] = {
        "composition": "staging",
        "resource_type": "rds_cluster",
        "resource_id": "db-main",
        "kind": WindowKind.MAINTENANCE,
        "window": "sun:02:00-sun:02:30",
        "key": "mw-3f2a9c0d81b4",
        "covered": True,
        "occurrences": 52,
        "uncovered_occurrences": 0,
        "next_uncovered_at": None,
        "brackets": (),
    }
    return WindowAnalysis(**(fields | changes))


def result(**changes: Any) -> list[dict[str, Any]]:
    fields: dict[str, Any] = {
        "user_id": "U1",
        "composition": "staging",
        "action": "start",
        "succeeded": True,
        "seconds": 123,
        "error": None,
        "cause": None,
        "running": False,
        "value": "staging:start",
    }
    return result_blocks(**(fields | changes))


def confirmation(**changes: Any) -> list[dict[str, Any]]:
    fields: dict[str, Any] = {
        "composition": "staging",
        "action": "start",
        "detail": "Runs until Fri 27 Nov 19:00 CET (4h 12m).",
        "warnings": [],
        "protected": False,
        "value": "staging:start:4h",
    }
    return confirmation_blocks(**(fields | changes))


# --- labels, times, escaping ------------------------------------------------------------


@pytest.mark.parametrize("state", sorted(STATE_EMOJI))
def test_state_label_is_emoji_then_word(state: str) -> None:
    assert state_label(state) == f"{STATE_EMOJI[state]} {state}"


def test_state_label_of_an_unknown_state_uses_the_unknown_emoji_and_escapes() -> None:
    assert state_label("<weird>") == "❔ &lt;weird&gt;"


def test_state_emoji_table_matches_the_contract() -> None:
    assert STATE_EMOJI == {
        "running": "🟢",
        "stopped": "⚪",
        "partial": "🟡",
        "starting": "🔄",
        "stopping": "🔄",
        "transitioning": "🔄",
        "failed": "🔴",
        "missing": "❓",
        "unknown": "❔",
    }


@pytest.mark.parametrize(
    ("moment", "zone", "expected"),
    [
        (WINTER, AMSTERDAM, "Fri 27 Nov 19:00 CET"),
        (SUMMER, AMSTERDAM, "Fri 3 Jul 08:00 CEST"),
        (WINTER, ZoneInfo("America/New_York"), "Fri 27 Nov 13:00 EST"),
        (WINTER, ZoneInfo("UTC"), "Fri 27 Nov 18:00 UTC"),
    ],
)
def test_local_time_uses_the_zone_and_its_abbreviation(
    moment: datetime, zone: ZoneInfo, expected: str
) -> None:
    assert local_time(moment, zone) == expected


def test_local_time_rejects_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_time(datetime(2026, 11, 27, 19, 0), AMSTERDAM)


def test_escape_neutralises_channel_pings_and_ampersands() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


# --- help, list, home --------------------------------------------------------------------


def test_help_lists_every_usage_as_escaped_code() -> None:
    blocks = help_blocks()
    validate(blocks)
    body = "\n".join(texts(blocks)[1:])
    for usage in USAGE.values():
        assert f"`{escape(usage)}` — " in body
    assert body.startswith("`/env help` — this list of commands\n`/env list` — ")


def test_list_shows_state_description_and_local_times() -> None:
    blocks = list_blocks(
        [
            row(),
            row(
                "qa",
                state="stopped",
                description="",
                next_start=None,
                next_stop=None,
                auto_stop_at=None,
            ),
        ]
    )
    validate(blocks)
    assert texts(blocks) == [
        "Compositions (2)",
        "*staging* · 🟢 running\nStaging stack for QA\nNext start: Mon 30 Nov 08:00 CET\n"
        "Next stop: Fri 27 Nov 19:00 CET\nAuto-stop: Fri 27 Nov 15:00 CET",
        "*qa* · ⚪ stopped\nNext start: none scheduled\nNext stop: none scheduled",
    ]
    assert [block.get("block_id") for block in blocks[1:]] == ["list:staging", "list:qa"]


def test_list_of_nothing_says_so() -> None:
    blocks = list_blocks([])
    validate(blocks)
    assert texts(blocks) == ["Compositions (0)", "No compositions are configured."]


def test_list_of_60_compositions_stays_within_50_blocks_and_counts_the_rest() -> None:
    blocks = list_blocks([row(f"env-{index:02d}") for index in range(60)])
    validate(blocks, max_blocks=50)
    assert len(blocks) == 50
    assert texts(blocks)[-1] == "…and 12 more: `/env status &lt;name&gt;`"


def test_list_escapes_descriptions() -> None:
    blocks = list_blocks([row(description=HOSTILE)])
    validate(blocks)
    assert "&lt;!channel&gt; &amp; &lt;@U999&gt;" in texts(blocks)[1]


def test_home_gives_every_composition_start_and_stop_buttons() -> None:
    view = home_view([row(), row("qa", state="stopped")], user_id="U1")
    assert view["type"] == "home"
    validate(view["blocks"], max_blocks=100, home=True)
    assert texts(view["blocks"])[:2] == [
        "Environments",
        "Hi <@U1> · type `/env help` for every command",
    ]
    assert [(b["text"]["text"], b["action_id"], b["value"]) for b in buttons(view["blocks"])] == [
        ("Start", "home_start", "staging"),
        ("Stop", "home_stop", "staging"),
        ("Start", "home_start", "qa"),
        ("Stop", "home_stop", "qa"),
    ]
    assert "home_actions:qa" in {block.get("block_id") for block in view["blocks"]}


def test_home_of_60_compositions_stays_within_100_blocks() -> None:
    view = home_view([row(f"env-{index:02d}") for index in range(60)], user_id="U1")
    validate(view["blocks"], max_blocks=100, home=True)
    assert texts(view["blocks"])[-1] == "…and 12 more: `/env list`"
    assert len({button["value"] for button in buttons(view["blocks"])}) == 48


def test_home_with_no_compositions_still_renders() -> None:
    view = home_view([], user_id="U1")
    validate(view["blocks"], max_blocks=100, home=True)
    assert texts(view["blocks"])[-1] == "No compositions are configured."


# --- status, schedule, windows, history ---------------------------------------------------


def test_status_shows_each_resource_and_the_failed_last_run() -> None:
    blocks = status_blocks(status(DB, GONE), zone=AMSTERDAM, last_run=FAILED_RUN)
    validate(blocks)
    assert texts(blocks) == [
        "*staging* · 🟡 partial",
        "🟢 *db-main* — running (rds_cluster: available)\n"
        "❓ *i-0abc* — missing (ec2_instance: not found)",
        "Last run: 🔴 failed · via schedule · Fri 27 Nov 19:00 CET",
        "`States.TaskFailed`\n```rds_cluster db-main: InvalidDBClusterStateFault```",
    ]


def test_status_of_a_run_in_progress_without_resources_or_history() -> None:
    blocks = status_blocks(
        CompositionStatus(
            composition="staging",
            state=CompositionState.STARTING,
            resources=(),
            execution_arn="arn",
        ),
        zone=AMSTERDAM,
        last_run=None,
    )
    validate(blocks)
    assert texts(blocks) == [
        "*staging* · 🔄 starting\nA run is in progress.",
        "No resources with a live state.",
    ]


def test_status_of_many_resources_packs_sections_within_limits() -> None:
    resources = [
        ResourceStatus(
            type="ec2_instance", id=f"i-{index:05d}", state=ResourceState.STOPPED, detail="x" * 200
        )
        for index in range(2000)
    ]
    blocks = status_blocks(status(*resources), zone=AMSTERDAM, last_run=FAILED_RUN)
    validate(blocks)
    assert len(blocks) == 50
    assert re.fullmatch(r"…and \d+ more resources", texts(blocks)[-3])


def test_schedule_bullets_each_sentence_and_names_the_zone() -> None:
    blocks = schedule_blocks(
        composition="staging",
        zone=AMSTERDAM,
        lines=["Starts Monday to Friday at 08:00 CET", "Stops at 19:00 & never on <!here>"],
    )
    validate(blocks)
    assert texts(blocks) == [
        "*staging* schedule (Europe/Amsterdam)",
        "• Starts Monday to Friday at 08:00 CET\n• Stops at 19:00 &amp; never on &lt;!here&gt;",
    ]


def test_schedule_without_lines_says_it_runs_on_demand() -> None:
    blocks = schedule_blocks(composition="qa", zone=AMSTERDAM, lines=[])
    validate(blocks)
    assert texts(blocks)[-1] == "No schedule: it runs only when started by hand."


def test_windows_show_coverage_brackets_and_problems() -> None:
    uncovered = analysis(
        kind=WindowKind.BACKUP,
        window="03:00-03:30",
        covered=False,
        uncovered_occurrences=12,
        next_uncovered_at=datetime(2026, 11, 29, 3, 0, tzinfo=UTC),
        brackets=(
            Bracket(
                action=Action.START,
                expression="cron(45 2 * * ? *)",
                timezone="UTC",
                run_at="every day at 02:45 UTC, 15 min before it opens",
            ),
            Bracket(
                action=Action.STOP,
                expression="cron(45 3 * * ? *)",
                timezone="UTC",
                run_at="every day at 03:45 UTC, 15 min after it closes",
            ),
        ),
        stop_conflicts=3,
    )
    unparsed = analysis(
        resource_type="aws_backup",
        resource_id="plan`x",
        kind=WindowKind.AWS_BACKUP,
        window="cron(bad)",
        covered=False,
        occurrences=0,
        problem="cannot parse <cron>",
    )
    blocks = windows_blocks("staging", [analysis(), uncovered, unparsed])
    validate(blocks)
    assert texts(blocks) == [
        "⚠️ *staging* windows: 1 of 3 covered",
        "✅ *db-main* (rds_cluster) · maintenance window `sun:02:00-sun:02:30`\n"
        "Covered: all 52 occurrences\n\n"
        "⚠️ *db-main* (rds_cluster) · backup window `03:00-03:30`\n"
        "12 of 52 occurrences not covered; next Sun 29 Nov 03:00 UTC\n"
        "Bracket start: every day at 02:45 UTC, 15 min before it opens\n"
        "Bracket stop: every day at 03:45 UTC, 15 min after it closes\n"
        "3 occurrences fall in scheduled running time; the stop bracket is skipped then\n\n"
        "❔ *plan`x* (aws_backup) · AWS Backup window `cron(bad)`\n"
        "Not analysed: cannot parse &lt;cron&gt;",
    ]


def test_windows_when_there_are_none() -> None:
    blocks = windows_blocks("qa", [])
    validate(blocks)
    assert texts(blocks) == ["*qa* has no maintenance or backup windows."]


def test_history_shows_local_times_mentions_and_escaped_details() -> None:
    entries = [
        AuditEntry(
            at=WINTER, who="U0123ABCD", what="start", via="slack", detail="auto-stop & <!everyone>"
        ),
        AuditEntry(at=SUMMER, who="alice@laptop", what="stop", via="cli"),
    ]
    blocks = history_blocks("staging", entries, zone=AMSTERDAM)
    validate(blocks)
    assert texts(blocks) == [
        "*staging* history",
        "Fri 27 Nov 19:00 CET — *start* by <@U0123ABCD> via slack"
        " · auto-stop &amp; &lt;!everyone&gt;\n"
        "Fri 3 Jul 08:00 CEST — *stop* by alice@laptop via cli",
    ]


def test_history_shows_audited_names_as_mentions_and_iso_times_in_local_time() -> None:
    entries = [
        AuditEntry(
            at=WINTER,
            who="alice (U0ALICE)",
            what="start",
            via="slack",
            detail="auto-stop at 2026-11-27T20:30:00+00:00",
        ),
    ]
    blocks = history_blocks("staging", entries, zone=AMSTERDAM)
    validate(blocks)
    assert texts(blocks)[1] == (
        "Fri 27 Nov 19:00 CET — *start* by <@U0ALICE> via slack · auto-stop at Fri 27 Nov 21:30 CET"
    )


def test_history_when_empty() -> None:
    blocks = history_blocks("staging", [], zone=AMSTERDAM)
    validate(blocks)
    assert texts(blocks)[-1] == "No audit entries yet (they are kept for 90 days)."


# --- confirmation, progress, result ------------------------------------------------------


def test_confirmation_asks_and_offers_confirm_and_cancel() -> None:
    blocks = confirmation(warnings=["A run is already in progress."])
    validate(blocks)
    assert texts(blocks) == [
        "Start *staging*?\nRuns until Fri 27 Nov 19:00 CET (4h 12m).",
        "⚠️ A run is already in progress.",
    ]
    confirm, cancel = buttons(blocks)
    assert confirm == {
        "type": "button",
        "text": {"type": "plain_text", "text": "Confirm", "emoji": True},
        "action_id": "env_confirm",
        "value": "staging:start:4h",
        "style": "primary",
    }
    assert (cancel["action_id"], cancel["value"], "style" in cancel) == (
        "env_cancel",
        "staging:start:4h",
        False,
    )


def test_protected_confirmation_uses_a_danger_dialog_naming_the_composition() -> None:
    blocks = confirmation(action="stop", detail="", protected=True, value="staging:stop")
    validate(blocks)
    assert texts(blocks) == ["Stop *staging*?"]
    confirm = buttons(blocks)[0]
    assert confirm["style"] == "danger"
    dialog = confirm["confirm"]
    assert dialog["style"] == "danger"
    assert "staging" in dialog["title"]["text"] and "staging" in dialog["text"]["text"]
    assert dialog["text"]["text"] == "staging is protected. Do you really want to stop it?"
    assert (dialog["confirm"]["text"], dialog["deny"]["text"]) == ("Yes, stop", "Cancel")


def test_confirmation_escapes_warnings_and_caps_their_number() -> None:
    blocks = confirmation(warnings=[HOSTILE] * 80)
    validate(blocks)
    assert (
        texts(blocks)[1]
        == "⚠️ &lt;!channel&gt; &amp; &lt;@U999&gt; &lt;https://evil.example|click&gt;"
    )
    assert texts(blocks)[-1] == "…and 33 more warnings"
    assert blocks[-1]["type"] == "actions"


def test_a_button_value_longer_than_slack_allows_is_an_error() -> None:
    with pytest.raises(ValueError, match="2000"):
        confirmation(value="x" * 2001)


def test_progress_names_the_user_and_the_composition() -> None:
    blocks = progress_blocks(user_id="U1", composition="staging", action="start")
    validate(blocks)
    assert texts(blocks)[0] == "🔄 <@U1> is starting *staging*…"
    assert texts(progress_blocks(user_id="U1", composition="qa", action="stop"))[0] == (
        "🔄 <@U1> is stopping *qa*…"
    )


def test_progress_of_a_joined_run_says_it_was_already_going() -> None:
    blocks = progress_blocks(user_id="U1", composition="staging", action="start", joined=True)
    validate(blocks)
    assert texts(blocks)[0] == "🔄 *staging* is already starting (<@U1> asked too)…"
    joined_stop = progress_blocks(user_id="<!here>", composition="qa", action="stop", joined=True)
    assert texts(joined_stop)[0] == "🔄 *qa* is already stopping (&lt;!here&gt; asked too)…"


def test_progress_does_not_trust_a_malformed_user_id() -> None:
    blocks = progress_blocks(user_id="!channel>", composition="qa", action="stop")
    validate(blocks)
    assert texts(blocks)[0] == "🔄 !channel&gt; is stopping *qa*…"


def test_success_says_what_took_how_long_and_who() -> None:
    blocks = result()
    validate(blocks)
    assert texts(blocks) == ["✅ *staging* started in 2m 3s (by <@U1>)"]
    assert buttons(blocks) == []


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0s"), (45.4, "45s"), (120, "2m"), (3599, "59m 59s"), (3725, "1h 2m"), (90000, "1d 1h")],
)
def test_scheduled_success_reads_human_durations(seconds: float, expected: str) -> None:
    blocks = result(user_id=None, action="stop", seconds=seconds)
    assert texts(blocks) == [f"✅ *staging* stopped in {expected}"]


def test_failure_shows_the_cause_as_code_and_offers_stop_and_extend_when_running() -> None:
    blocks = result(
        succeeded=False,
        error="States.TaskFailed",
        cause="rds_cluster db-main: <!channel> `boom` & more",
        running=True,
    )
    validate(blocks)
    assert texts(blocks) == [
        "❌ *staging* could not be started: `States.TaskFailed`\n"
        "```rds_cluster db-main: &lt;!channel&gt; ˋboomˋ &amp; more```",
        "after 2m 3s (by <@U1>)",
    ]
    assert [
        (b["text"]["text"], b["action_id"], b["value"], b.get("style")) for b in buttons(blocks)
    ] == [
        ("Stop", "env_stop", "staging:start", "danger"),
        ("Extend 1h", "env_extend", "staging:start", None),
    ]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("States.Timeout", "❌ *staging* could not be started: `States.Timeout`"),
        (None, "❌ *staging* could not be started."),
    ],
)
def test_failure_without_a_cause(error: str | None, expected: str) -> None:
    assert texts(result(succeeded=False, error=error))[0] == expected


def test_a_long_cause_is_truncated_inside_its_code_block() -> None:
    blocks = result(succeeded=False, error="States.TaskFailed", cause="&" * 5000)
    validate(blocks)
    text = texts(blocks)[0]
    assert len(text) <= 3000
    assert text.endswith("&amp;…```")


# --- truncation and fallback ---------------------------------------------------------------


def test_a_long_section_is_cut_at_3000_with_an_ellipsis_and_no_broken_entity() -> None:
    blocks = schedule_blocks(composition="staging", zone=AMSTERDAM, lines=["<" * 4000])
    validate(blocks)
    text = texts(blocks)[1]
    assert len(text) <= 3000
    assert text.endswith("&lt;…")


def test_a_long_description_is_shortened_for_the_phone() -> None:
    blocks = list_blocks([row(description="d" * 5000)])
    validate(blocks)
    assert "d" * 299 + "…\n" in texts(blocks)[1]


def test_plain_text_fallback_reads_sections_and_context_but_not_buttons() -> None:
    blocks = result(succeeded=False, error="States.TaskFailed", cause="boom", running=True)
    assert plain_text_fallback(blocks) == (
        "❌ *staging* could not be started: `States.TaskFailed`\n```boom```\nafter 2m 3s (by <@U1>)"
    )
    assert plain_text_fallback([]) == "envctl"
    assert len(plain_text_fallback(list_blocks([row(f"env-{i:02d}") for i in range(60)]))) <= 3000


# --- every function, structurally ------------------------------------------------------------

BUILDERS: dict[str, Callable[[], list[dict[str, Any]]]] = {
    "help": help_blocks,
    "list": lambda: list_blocks([row(description=HOSTILE)]),
    "status": lambda: status_blocks(status(DB, GONE), zone=AMSTERDAM, last_run=FAILED_RUN),
    "schedule": lambda: schedule_blocks(composition="staging", zone=AMSTERDAM, lines=[HOSTILE]),
    "windows": lambda: windows_blocks("staging", [analysis(problem=HOSTILE, covered=False)]),
    "history": lambda: history_blocks(
        "staging",
        [AuditEntry(at=WINTER, who=HOSTILE, what=HOSTILE, via=HOSTILE, detail=HOSTILE)],
        zone=AMSTERDAM,
    ),
    "confirmation": lambda: confirmation(detail=HOSTILE, warnings=[HOSTILE], protected=True),
    "progress": lambda: progress_blocks(user_id="U1", composition="staging", action="start"),
    "result": lambda: result(succeeded=False, error=HOSTILE, cause=HOSTILE, running=True),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_message_is_valid_block_kit_with_hostile_input(name: str) -> None:
    blocks = BUILDERS[name]()
    validate(blocks)
    assert "<!channel>" not in plain_text_fallback(blocks)


def test_importing_blocks_does_not_load_boto3() -> None:
    # The module is on the 3-second ack path; boto3 costs cold-start time.
    code = "import sys, bot.slack.blocks; sys.exit('boto3' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
