"""`envctl demo` (what `make demo` runs) works end to end from a fresh process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_demo_stops_and_starts_staging_and_exits_0() -> None:
    envctl = Path(sys.executable).with_name("envctl")

    done = subprocess.run(
        [str(envctl), "demo"], capture_output=True, text=True, timeout=120, check=False
    )

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "staging: running" in out and "staging: stopped" in out
    assert out.index("staging stopped in") < out.index("✅ *staging* started in")
    assert "[Confirm]  [Cancel]" in out  # the Slack confirmation, clicked by envctl slack
    assert "✓ rds_cluster staging-db stopped" in out
    assert "✓ ec2_instance i-" in out
    # The heads-up before the auto-stop, with its buttons, and the Keep up 1h click.
    assert (
        "*staging* stops at " in out
        and "(in 15 min)  [Keep up 1h]  [Keep up 3h]  [Stop now]" in out
    )
    assert "[reply in its thread in C0123456789] <@U0BOB> kept *staging* up 1h" in out
    assert "Traceback" not in done.stderr
