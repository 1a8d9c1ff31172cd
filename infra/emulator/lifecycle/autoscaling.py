"""Auto Scaling groups: new instances are ``Pending``, removed ones ``Terminating``.

Creating a group is not a start: its first instances are there at once. A held
group (``faults.never_ready``) keeps its transitional instances.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from infra.emulator.lifecycle.clock import LOCK, duration, now
from infra.emulator.lifecycle.faults import is_held
from infra.emulator.lifecycle.transitions import TRANSITION, begin, current, install_property
from infra.emulator.patching import wrap_once

SECONDS: dict[str, float] = {"asg.launch": 60, "asg.terminate": 30}

_DEPARTING = "_envctl_departing"


def _wrap_set_desired(original: Callable[..., Any]) -> Callable[..., Any]:
    def set_desired_capacity(self: Any, new_capacity: int | None) -> None:
        live = self.name in self.autoscaling_backend.autoscaling_groups
        before = list(self.instance_states)
        original(self, new_capacity)
        if not live:
            return
        kept = {id(state) for state in self.instance_states}
        known = {id(state) for state in before}
        for state in self.instance_states:
            if id(state) not in known:
                begin(state, self.name, "Pending", duration("asg.launch"))
        leaving = [state for state in before if id(state) not in kept]
        due = now() + duration("asg.terminate")
        with LOCK:
            self.__dict__.setdefault(_DEPARTING, []).extend((s, due) for s in leaving)

    return set_desired_capacity


def _launching(state: Any) -> Any:
    """The instance as shown: a copy in ``Pending`` while it is launching."""
    transition = current(state)
    if transition is None:
        return state
    view = copy.copy(state)
    view.__dict__.pop(TRANSITION, None)
    view.lifecycle_state = transition.via
    return view


def _instances(self: Any) -> list[Any]:
    at = now()
    shown = [_launching(state) for state in self.instance_states]
    with LOCK:
        leaving = [
            (s, due)
            for s, due in self.__dict__.get(_DEPARTING, [])
            if due > at or is_held(self.name)
        ]
        self.__dict__[_DEPARTING] = leaving
    for state, _due in leaving:
        view = copy.copy(state)
        view.lifecycle_state = "Terminating"
        shown.append(view)
    return shown


def install() -> None:
    from moto.autoscaling.models import FakeAutoScalingGroup

    wrap_once(FakeAutoScalingGroup, "set_desired_capacity", _wrap_set_desired)
    install_property(FakeAutoScalingGroup, "instances", _instances, None)
