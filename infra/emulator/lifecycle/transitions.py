"""Transitions in flight, kept on moto's objects and settled lazily when read.

A start or stop records when the transition began and when it is due; whatever
reads the resource computes its state from that record, without background threads.
``status_property`` makes a moto attribute report the transitional state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.emulator.lifecycle.clock import LOCK, now
from infra.emulator.lifecycle.faults import blocking_state, is_held, terminal_state

#: Where a transition is kept on a moto object (moto never serialises ``_`` names).
TRANSITION = "_envctl_transition"

Getter = Callable[[Any], Any]
Setter = Callable[[Any, Any], None]


@dataclass
class Transition:
    """A change under way: ``via`` is shown until ``due``; then ``finish`` runs once."""

    resource_id: str
    via: Any
    began: float
    due: float
    # Called with the terminal state a fault asked for, if any, when the transition ends.
    on_terminal: Callable[[str], None] | None = None

    def pending(self, at: float) -> bool:
        return is_held(self.resource_id) or at < self.due


def begin(
    obj: Any,
    resource_id: str,
    via: Any,
    seconds: float,
    on_terminal: Callable[[str], None] | None = None,
) -> Transition:
    started = now()
    transition = Transition(resource_id, via, started, started + seconds, on_terminal)
    with LOCK:
        obj.__dict__[TRANSITION] = transition
    return transition


def current(obj: Any) -> Transition | None:
    """The transition under way on ``obj``, settling it first if it is over."""
    with LOCK:
        transition: Transition | None = obj.__dict__.get(TRANSITION)
        if transition is None or transition.pending(now()):
            return transition
        del obj.__dict__[TRANSITION]
        terminal = terminal_state(transition.resource_id)
        if terminal is not None and transition.on_terminal is not None:
            transition.on_terminal(terminal)
        return None


def cancel(obj: Any) -> None:
    with LOCK:
        obj.__dict__.pop(TRANSITION, None)


def set_status(obj: Any) -> Callable[[str], None]:
    """An ``on_terminal`` that sets ``obj.status`` to the terminal state."""

    def apply(state: str) -> None:
        obj.status = state

    return apply


def install_property(cls: type, name: str, fget: Getter, fset: Setter | None) -> None:
    """Replace ``cls.name`` by a property, once."""
    marker = f"_envctl_observed_{name}"
    if marker in cls.__dict__:
        return
    setattr(cls, marker, True)
    setattr(cls, name, property(fget, fset))


def _raw_attribute(name: str) -> tuple[Getter, Setter]:
    def get(obj: Any) -> Any:
        return obj.__dict__[name]

    def set_(obj: Any, value: Any) -> None:
        obj.__dict__[name] = value

    return get, set_


def status_property(
    cls: type,
    name: str,
    resource_id: Callable[[Any], str],
    *,
    raw: tuple[Getter, Setter] | None = None,
    extra: Callable[[Any, Any], Any] | None = None,
) -> None:
    """Make ``cls.name`` report the transitional state; setting it ends any transition.

    The raw value (what moto set, the state the resource is heading for) stays in the
    instance's ``__dict__`` (or behind moto's own property). ``extra(obj, observed)``
    may refine the observed value (members of a cluster).
    """
    if f"_envctl_observed_{name}" in cls.__dict__:
        return
    raw_get, raw_set = raw or _raw_attribute(name)

    def fget(obj: Any) -> Any:
        blocking = blocking_state(resource_id(obj))
        if blocking is not None:
            return blocking
        transition = current(obj)
        observed = transition.via if transition is not None else raw_get(obj)
        return extra(obj, observed) if extra is not None else observed

    def fset(obj: Any, value: Any) -> None:
        cancel(obj)
        raw_set(obj, value)

    install_property(cls, name, fget, fset)
