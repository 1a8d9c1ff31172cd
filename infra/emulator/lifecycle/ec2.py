"""EC2 instances: ``pending`` / ``stopping``, then the state (and code) AWS reports.

Starting a running or pending instance (stopping a stopped or stopping one) does
nothing, as in AWS; starting one that is stopping is refused with
``IncorrectInstanceState``. Terminating ends any transition.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from infra.emulator.lifecycle.clock import duration
from infra.emulator.lifecycle.transitions import begin, cancel, current
from infra.emulator.patching import wrap_once

SECONDS: dict[str, float] = {"ec2.start": 30, "ec2.stop": 30}

_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48}
_CODES.update({"stopping": 64, "stopped": 80})
_MARKER = "_envctl_observed_instance_state"


def _observed(instance: Any) -> Any:
    from moto.ec2.models.instances import InstanceState

    transition = current(instance)
    if transition is None:
        return instance._state
    return InstanceState(transition.via, _CODES[transition.via])


def _terminal(instance: Any) -> Callable[[str], None]:
    def apply(state: str) -> None:
        instance._state.name, instance._state.code = state, _CODES.get(state, 0)

    return apply


def _wrap(verb: str, done: tuple[str, ...], via: str) -> Callable[[Any], Any]:
    from moto.ec2.exceptions import EC2ClientError

    def wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
        def action(self: Any) -> Any:
            state = _observed(self)
            if state.name in done:  # already there or on the way: AWS does nothing
                return copy.copy(state)
            if current(self) is not None or state.name in ("shutting-down", "terminated"):
                raise EC2ClientError(
                    "IncorrectInstanceState",
                    f"The instance '{self.id}' is not in a state from which it can be "
                    f"{'started' if verb == 'start' else 'stopped'}.",
                )
            previous = original(self)
            begin(self, self.id, via, duration(f"ec2.{verb}"), _terminal(self))
            return previous

        return action

    return wrapper


def _wrap_terminate(original: Callable[..., Any]) -> Callable[..., Any]:
    def terminate(self: Any) -> Any:
        cancel(self)
        return original(self)

    return terminate


def install() -> None:
    from moto.ec2.models.instances import Instance

    if _MARKER not in Instance.__dict__:
        setattr(Instance, _MARKER, True)
        Instance.instance_state = property(_observed)  # type: ignore[assignment]
        Instance.state = property(lambda self: _observed(self).name)  # type: ignore[assignment]
        Instance.state_code = property(lambda self: _observed(self).code)  # type: ignore[assignment]
        Instance.is_running = lambda self: _observed(self).name == "running"  # type: ignore[method-assign]
    wrap_once(Instance, "start", _wrap("start", ("running", "pending"), "pending"))
    wrap_once(Instance, "stop", _wrap("stop", ("stopped", "stopping"), "stopping"))
    wrap_once(Instance, "terminate", _wrap_terminate)
