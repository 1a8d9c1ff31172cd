"""What ``envctl slack`` prints of a message: the text as Slack shows it."""

from __future__ import annotations

from infra.slack.cli import _describe


def test_entities_are_shown_as_slack_shows_them_and_buttons_are_listed() -> None:
    body = {
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "/env start &lt;name&gt; &amp; go"},
            },
            {
                "type": "actions",
                "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Confirm"}}],
            },
        ]
    }

    assert _describe(body) == "/env start <name> & go  [Confirm]"
