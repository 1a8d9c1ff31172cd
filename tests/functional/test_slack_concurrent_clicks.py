"""Concurrent Confirm clicks, each through its own Lambda container, start one execution."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.slack_handler import verified
from infra.emulator import lifecycle
from infra.serve import LocalContext, local_slack_handler
from infra.slack.signing import api_gateway_event, signed_headers
from tests.functional.test_slack_app import (  # noqa: F401 - fixtures used by name
    SECRET,
    Slack,
    buttons,
    database_status,
    executions,
    mock,
    slack,
    stop_resources,
)

CLICKS = 5


def test_concurrent_confirm_clicks_start_exactly_one_execution(slack: Slack) -> None:  # noqa: F811
    value = buttons(slack.confirmation(f"start {slack.names.app}"))["env_confirm"]["value"]
    # Five people (or one double-clicking) on the same confirmation, each click its own
    # request to its own container: independently built handlers, released together.
    bodies = [slack.click_body("env_confirm", value, user_id=f"U{n}") for n in range(CLICKS)]
    handlers = [
        verified(local_slack_handler(slack.settings, inline=True), slack.settings)
        for _ in range(CLICKS)
    ]
    barrier = threading.Barrier(CLICKS)

    def click(index: int) -> Any:
        event = api_gateway_event(bodies[index], signed_headers(bodies[index], SECRET))
        barrier.wait()
        return handlers[index].handle(event, LocalContext())

    stop_resources(slack)
    while database_status(slack.em, slack.database) != "stopped":
        time.sleep(0.05)
    # At AWS's own pace the winner's run takes minutes: no click, however late on a
    # loaded machine, finds it finished and starts another.
    with lifecycle.at_speed(1):
        with ThreadPoolExecutor(max_workers=CLICKS) as pool:
            answers = list(pool.map(click, range(CLICKS)))

        assert [answer["statusCode"] for answer in answers] == [200] * CLICKS
        [arn] = executions(slack.em, slack.names.app, "start")
        slack.em.client("stepfunctions").stop_execution(executionArn=arn)
