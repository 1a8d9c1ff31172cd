"""SnapStart hooks, run as the Lambda runtime runs them, in fresh interpreters.

The runtime imports the handler module (the init), calls the registered
before-snapshot hooks, snapshots, and after each restore calls the after-restore
hooks. Here the same library the managed runtimes include (``snapshot_restore_py``)
holds the registrations, and the child calls them in that order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import json, random, sys
import snapshot_restore_py as hooks
module = __import__(sys.argv[1], fromlist=["_"])
from bot import aws_light
listener = "bot.slack.commands"
seen = {
    "before": len(hooks.get_before_snapshot()),
    "after": len(hooks.get_after_restore()),
    "listener_at_init": listener in sys.modules,
}
for func, args, kwargs in hooks.get_before_snapshot():
    func(*args, **kwargs)
seen["listener_in_snapshot"] = listener in sys.modules
# Nothing that talks to AWS or holds credentials exists in the snapshot.
seen["clients_in_snapshot"] = aws_light._client.cache_info().currsize
seen["boto3_sessions_in_snapshot"] = "boto3" in sys.modules and bool(
    __import__("boto3").DEFAULT_SESSION
)
frozen = random.getstate()
for func, args, kwargs in hooks.get_after_restore():
    func(*args, **kwargs)
seen["random_renewed"] = random.getstate() != frozen
print(json.dumps(seen))
"""


def init(module: str, snapstart: str, tmp_path: Path) -> dict[str, Any]:
    config = tmp_path / "compositions.yaml"
    config.write_text(
        "compositions:\n  staging:\n    resources: [{type: wait, params: {seconds: 1}}]\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ENVCTL_SNAPSTART": snapstart,
        "ENVCTL_CONFIG": str(config),
        "AWS_DEFAULT_REGION": "us-east-1",
        "SLACK_SIGNING_SECRET": "ssm:/never/read/at/init",
        "SLACK_BOT_TOKEN": "ssm:/never/read/at/init/either",
        "ENVCTL_WEBHOOK_API_KEYS": "ssm:/never/read/keys",
    }
    child = subprocess.run(
        [sys.executable, "-c", CHILD, module],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def test_the_slack_snapshot_holds_the_listener_code_and_no_client(tmp_path: Path) -> None:
    seen = init("bot.slack_handler", "true", tmp_path)

    assert (seen["before"], seen["after"]) == (1, 1)
    assert seen["listener_at_init"] is False
    assert seen["listener_in_snapshot"] is True
    assert seen["clients_in_snapshot"] == 0
    assert seen["boto3_sessions_in_snapshot"] is False
    assert seen["random_renewed"] is True


def test_the_webhook_snapshot_holds_no_client_and_renews_random(tmp_path: Path) -> None:
    seen = init("bot.webhook_handler", "true", tmp_path)

    assert (seen["before"], seen["after"]) == (1, 1)
    assert seen["clients_in_snapshot"] == 0
    assert seen["boto3_sessions_in_snapshot"] is False
    assert seen["random_renewed"] is True


def test_without_snapstart_no_hook_is_registered(tmp_path: Path) -> None:
    seen = init("bot.slack_handler", "false", tmp_path)

    assert (seen["before"], seen["after"]) == (0, 0)
    assert seen["listener_in_snapshot"] is False
    assert seen["random_renewed"] is False
