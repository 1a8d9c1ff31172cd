"""Step Functions: polling waits and the Retry back-off follow the emulator's speed.

The ``Wait for …`` states of generated state machines (``asl.naming.POLL_WAIT``) and
the back-off of every Task's Retry are divided by the speed, so polling stays
proportionate to the transitions it watches. Other ``Wait`` states (a composition's
``wait`` step) keep their real length: they are what the user asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from infra.emulator.lifecycle.clock import speed
from infra.emulator.patching import wrap_once
from scheduler_core.asl.naming import POLL_WAIT

SECONDS: dict[str, float] = {}


class _ScaledTime:
    """Stands in for ``time`` in moto's retrier: back-off sleeps follow the speed."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds / speed())


def _wrap_eval(original: Callable[..., Any]) -> Callable[..., Any]:
    def _eval_state(self: Any, env: Any) -> None:
        if POLL_WAIT.parse(self.name) is None:
            original(self, env)
            return
        seconds = self.wait_function._get_wait_seconds(env=env) / speed()
        deadline = time.monotonic() + seconds
        while env.is_running():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            env.program_state_event.wait(left)
        if self.assign_decl:
            self.assign_decl.eval(env=env)

    return _eval_state


def install() -> None:
    import moto.stepfunctions.parser.models  # noqa: F401 - load the interpreter first
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.state_wait import StateWait

    # retrier_decl uses the time module it imports; moto does not re-export it.
    if not isinstance(retrier_decl.time, _ScaledTime):  # type: ignore[attr-defined]
        retrier_decl.time = _ScaledTime()  # type: ignore[attr-defined,assignment]
    wrap_once(StateWait, "_eval_state", _wrap_eval)
