"""Heads-ups before stops, end to end: apply, the event, the message, each button.

The Slack app runs behind its Lambda handler with signed requests against the mock
Web API (the fixtures of ``test_slack_app``); schedules, executions and audit entries
are read back from the emulator with boto3.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from bot import notifier
from bot.slack_handler import verified
from infra.serve import LocalContext, local_slack_handler
from infra.slack.signing import block_actions_body
from scheduler_core.aws import Aws
from scheduler_core.cli.main import main as envctl
from scheduler_core.cron import next_occurrences
from scheduler_core.runtime import follow
from tests.functional.test_slack_app import (  # noqa: F401 (fixtures)
    USER_NAMES,
    Slack,
    audit_whats,
    block_texts,
    buttons,
    decoded,
    executions,
    last_reply,
    mock,
    schedule,
    slack,
    table_item,
)

CHANNEL = "CTEAM"


@pytest.fixture
def team(slack: Slack) -> Slack:  # noqa: F811 (the imported fixture)
    """The app and the users-only composition notify CHANNEL; apply has run."""
    document = yaml.safe_load(slack.config_path.read_text())
    for name in (slack.names.app, slack.names.users):
        document["compositions"][name]["notify"] = {"slack_channel": CHANNEL}
    document["compositions"][slack.names.users]["stop_resources_at"] = (
        f"0 {slack.stop_hour} ? * * *"
    )
    slack.config_path.write_text(yaml.safe_dump(document))
    slack.handler = verified(local_slack_handler(slack.settings, inline=True), slack.settings)
    assert envctl(["apply", "-c", str(slack.config_path)]) == 0
    return slack


def next_stop(team: Slack) -> datetime:
    [stop] = next_occurrences(
        f"0 {team.stop_hour} ? * * *", "UTC", after=datetime.now(UTC), count=1
    )
    return stop.utc


def heads_up_event(composition: str, fired: datetime) -> dict[str, Any]:
    """The event the heads-up schedule puts on the bus (its input as the detail)."""
    return {
        "source": "envctl",
        "detail-type": "envctl heads-up",
        "detail": {
            "composition": composition,
            "kind": "scheduled",
            "scheduled_time": fired.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


def post(team: Slack, composition: str) -> dict[str, Any]:
    """Fire the scheduled heads-up of ``composition``; returns the posted message call."""
    team.mock.clear()
    result = notifier.handler(
        heads_up_event(composition, next_stop(team) - timedelta(minutes=15)), LocalContext()
    )
    assert result["sent"] is True, result
    [posted] = team.mock.calls("chat.postMessage")
    return {"body": posted.body, "ts": posted.response["ts"]}


def click(
    team: Slack, action_id: str, message: dict[str, Any], *, user_id: str = "U1"
) -> dict[str, Any]:
    """A click on the heads-up in the channel (a stored message, so Slack sends its ts)."""
    body = block_actions_body(
        action_id=action_id,
        value=buttons(message["body"])[action_id]["value"],
        user_id=user_id,
        user_name=USER_NAMES.get(user_id, user_id.lower()),
        channel_id=CHANNEL,
        message_ts=message["ts"],
        response_url=team.mock.response_url(f"heads-up-{action_id}-{user_id}"),
    )
    team.mock.clear()
    return team.deliver(body)


def at_of(expression: str) -> datetime:
    return datetime.fromisoformat(expression.removeprefix("at(").removesuffix(")")).replace(
        tzinfo=UTC
    )


def test_apply_schedules_the_heads_up_before_the_stop_and_pause_pauses_it(team: Slack) -> None:
    live = schedule(team.em, team.names.app, "heads-up")

    hour = (team.stop_hour - 1) % 24
    assert live["ScheduleExpression"] == f"cron(45 {hour} ? * * *)"
    assert live["ScheduleExpressionTimezone"] == "UTC"
    assert live["Target"]["Arn"].endswith(":event-bus/default")
    assert live["Target"]["EventBridgeParameters"] == {
        "Source": "envctl",
        "DetailType": "envctl heads-up",
    }
    assert json.loads(live["Target"]["Input"]) == {
        "composition": team.names.app,
        "kind": "scheduled",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }
    # Nothing to notify: no heads-up schedule.
    with pytest.raises(team.em.client("scheduler").exceptions.ResourceNotFoundException):
        schedule(team.em, team.names.protected, "heads-up")

    assert envctl(["pause", team.names.app, "-c", str(team.config_path)]) == 0
    assert schedule(team.em, team.names.app, "heads-up")["State"] == "DISABLED"
    assert envctl(["apply", "-c", str(team.config_path)]) == 0  # the pause survives apply
    assert schedule(team.em, team.names.app, "heads-up")["State"] == "DISABLED"
    assert envctl(["resume", team.names.app, "-c", str(team.config_path)]) == 0
    assert schedule(team.em, team.names.app, "heads-up")["State"] == "ENABLED"


def test_the_event_posts_the_heads_up_with_its_three_buttons(team: Slack) -> None:
    message = post(team, team.names.app)

    assert message["body"]["channel"] == CHANNEL
    stop = next_stop(team)
    assert re.fullmatch(
        rf"\*{team.names.app}\* stops at {stop:%H:%M} UTC \(in (\d+ min|\d+h \d\dm)\)",
        block_texts(message["body"]).splitlines()[0],
    )
    found = buttons(message["body"])
    assert [b["text"]["text"] for b in found.values()] == ["Keep up 1h", "Keep up 3h", "Stop now"]
    assert json.loads(found["heads_up_stop"]["value"]) == {
        "c": team.names.app,
        "t": int(stop.timestamp()),
    }


def test_keep_up_extends_the_scheduled_stop_answers_in_the_thread_and_is_audited(
    team: Slack,
) -> None:
    stop = next_stop(team)
    message = post(team, team.names.app)

    assert click(team, "heads_up_keep_1h", message)["statusCode"] == 200

    auto = schedule(team.em, team.names.app, "auto-stop")
    assert at_of(auto["ScheduleExpression"]) == stop + timedelta(hours=1)
    override = table_item(team.em, f"composition#{team.names.app}", "override")
    assert override["extended_stop"]["S"] == stop.strftime("%Y-%m-%dT%H:%M:%SZ")
    warning = schedule(team.em, team.names.app, "auto-stop-heads-up")
    assert at_of(warning["ScheduleExpression"]) == stop + timedelta(minutes=45)
    [answer] = team.mock.calls("chat.postMessage")
    assert answer.body["thread_ts"] == message["ts"]
    assert answer.body["text"].startswith(f"<@U1> kept *{team.names.app}* up 1h: it now stops at ")
    [update] = team.mock.calls("chat.update")
    assert update.body["ts"] == message["ts"]
    assert "Kept up 1h by alice" in block_texts(update.body)
    assert [e["what"] for e in audit_whats(team.em, team.names.app)] == ["extend"]

    # The updated message's Keep up 3h moves the auto-stop again.
    moved = {"body": update.body, "ts": message["ts"]}
    click(team, "heads_up_keep_3h", moved)
    auto = schedule(team.em, team.names.app, "auto-stop")
    assert at_of(auto["ScheduleExpression"]) == stop + timedelta(hours=4)

    # The stop the heads-up announced is extended: its heads-up event now posts nothing.
    team.mock.clear()
    result = notifier.handler(
        heads_up_event(team.names.app, stop - timedelta(minutes=15)), LocalContext()
    )
    assert (result["sent"], result["why"]) == (False, "the stop was extended")
    assert team.mock.calls("chat.postMessage") == []


def test_a_user_the_access_rules_leave_out_is_refused_and_audited(team: Slack) -> None:
    message = post(team, team.names.users)

    click(team, "heads_up_keep_1h", message, user_id="U1")

    assert last_reply(team.mock)["text"] == (
        f"You may not operate *{team.names.users}* here: only <@U2> may operate it."
    )
    assert [e["what"] for e in audit_whats(team.em, team.names.users)] == ["refused extend"]
    with pytest.raises(team.em.client("scheduler").exceptions.ResourceNotFoundException):
        schedule(team.em, team.names.users, "auto-stop")
    assert team.mock.calls("chat.postMessage") == []

    click(team, "heads_up_stop", message, user_id="U1")
    assert executions(team.em, team.names.users, "stop") == []
    assert [e["what"] for e in audit_whats(team.em, team.names.users)] == [
        "refused extend",
        "refused stop",
    ]


def test_stop_now_stops_and_reports_progress_in_the_thread(team: Slack) -> None:
    message = post(team, team.names.app)

    click(team, "heads_up_stop", message)

    [arn] = executions(team.em, team.names.app, "stop")
    assert follow(Aws(), arn, poll_seconds=0.1, timeout_seconds=120).status == "SUCCEEDED"
    [progress] = team.mock.calls("chat.postMessage")
    assert progress.body["thread_ts"] == message["ts"]
    assert progress.body["channel"] == CHANNEL
    assert f"<@U1> is stopping *{team.names.app}*" in progress.body["text"]
    # The notifier updates that message when the run ends, as for any Slack stop.
    ref = table_item(team.em, f"execution#{arn}", "slack")
    assert (ref["channel"]["S"], ref["ts"]["S"]) == (CHANNEL, progress.response["ts"])
    # Stopped: the heads-up of that stop has nothing left to announce.
    team.mock.clear()
    result = notifier.handler(
        heads_up_event(team.names.app, next_stop(team) - timedelta(minutes=15)), LocalContext()
    )
    assert result["sent"] is False
    assert result["why"] == f"{team.names.app} is stopped"


def test_a_click_after_the_stop_is_refused_and_changes_nothing(team: Slack) -> None:
    message = post(team, team.names.app)
    stale = json.dumps({"c": team.names.app, "t": int(datetime.now(UTC).timestamp()) - 60})
    blocks = decoded(message["body"]["blocks"])
    for block in blocks:
        for element in block.get("elements", []):
            element["value"] = stale
    message = {"body": {**message["body"], "blocks": blocks}, "ts": message["ts"]}

    click(team, "heads_up_keep_1h", message)

    assert "before this click; nothing was done" in last_reply(team.mock)["text"]
    with pytest.raises(team.em.client("scheduler").exceptions.ResourceNotFoundException):
        schedule(team.em, team.names.app, "auto-stop")
    [entry] = audit_whats(team.em, team.names.app)
    assert entry["what"] == "refused extend"
