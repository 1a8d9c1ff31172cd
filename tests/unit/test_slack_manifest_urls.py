"""The Slack app manifest points where the template's SlackEventsUrl output points."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.unit import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]


def _urls(node: object) -> list[str]:
    """Every ``url`` and ``request_url`` value anywhere in the manifest."""
    if isinstance(node, dict):
        found = [str(v) for k, v in node.items() if k in ("url", "request_url")]
        return found + [u for value in node.values() for u in _urls(value)]
    if isinstance(node, list):
        return [u for item in node for u in _urls(item)]
    return []


def test_every_manifest_url_is_the_template_slack_events_url() -> None:
    template = cfn_yaml.load(ROOT / "template.yaml")
    output = template["Outputs"]["SlackEventsUrl"]["Value"]["Fn::Sub"]
    # https://${SlackApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/slack/events
    expected = (
        output.replace("${SlackApi}", "YOUR-API-ID")
        .replace("${AWS::Region}", "REGION")
        .replace("${AWS::URLSuffix}", "amazonaws.com")
    )
    manifest = yaml.safe_load((ROOT / "infra" / "slack" / "manifest.yaml").read_text())
    urls = _urls(manifest)

    assert len(urls) == 3  # slash command, events, interactivity
    assert set(urls) == {expected}
    assert not re.search(r"/(Prod|Stage)/", expected)
