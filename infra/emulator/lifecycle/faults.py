"""Faults tests ask for: held transitions, terminal states, blocking states, throttling.

Resources are named by their id (an ECS service by ``cluster/service``); every fault
lasts as long as its context manager.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from infra.emulator.lifecycle.clock import LOCK, now, speed

_never_ready: dict[str, int] = {}
_ends_in: dict[str, str] = {}
_blocks: dict[str, tuple[str, float]] = {}
_throttles: dict[tuple[str, str], int] = {}


@contextlib.contextmanager
def never_ready(resource_id: str) -> Iterator[None]:
    """Transitions of ``resource_id`` never finish while this lasts."""
    with LOCK:
        _never_ready[resource_id] = _never_ready.get(resource_id, 0) + 1
    try:
        yield
    finally:
        with LOCK:
            _never_ready[resource_id] -= 1
            if not _never_ready[resource_id]:
                del _never_ready[resource_id]


@contextlib.contextmanager
def ends_in(resource_id: str, state: str) -> Iterator[None]:
    """Transitions of ``resource_id`` end in ``state`` (a terminal one) while this lasts."""
    with LOCK:
        _ends_in[resource_id] = state
    try:
        yield
    finally:
        with LOCK:
            _ends_in.pop(resource_id, None)


def is_held(resource_id: str) -> bool:
    """True while ``never_ready(resource_id)`` lasts."""
    return resource_id in _never_ready


def terminal_state(resource_id: str) -> str | None:
    """The state ``ends_in`` asked for, if any."""
    return _ends_in.get(resource_id)


def block(resource_id: str, state: str, seconds: float) -> None:
    """Show ``state`` for an RDS instance or cluster for ``seconds`` base seconds."""
    with LOCK:
        _blocks[resource_id] = (state, now() + seconds / speed())


@contextlib.contextmanager
def blocked(resource_id: str, state: str, seconds: float) -> Iterator[None]:
    block(resource_id, state, seconds)
    try:
        yield
    finally:
        with LOCK:
            _blocks.pop(resource_id, None)


def blocking_state(resource_id: str) -> str | None:
    with LOCK:
        found = _blocks.get(resource_id)
        if found is None:
            return None
        if now() >= found[1]:
            del _blocks[resource_id]
            return None
        return found[0]


@contextlib.contextmanager
def throttled(service: str, action: str, times: int) -> Iterator[None]:
    """The next ``times`` calls of ``service``'s ``action`` (``DescribeDBInstances``) throttle."""
    key = (service.lower(), action.lower())
    with LOCK:
        _throttles[key] = _throttles.get(key, 0) + times
    try:
        yield
    finally:
        with LOCK:
            _throttles.pop(key, None)


def throttles_left(service: str, action: str) -> int:
    with LOCK:
        return _throttles.get((service.lower(), action.lower()), 0)


def any_throttled() -> bool:
    """True while some API is asked to throttle: a cheap check before every call."""
    return bool(_throttles)


def take_throttle(service: str, action: str) -> bool:
    """Use up one throttled call of ``service``'s ``action``; False when none is left."""
    key = (service.lower(), action.lower())
    with LOCK:
        left = _throttles.get(key, 0)
        if left <= 0:
            return False
        _throttles[key] = left - 1
        return True


def reset() -> None:
    """Forget every fault (not the transitions in flight)."""
    with LOCK:
        _never_ready.clear()
        _ends_in.clear()
        _blocks.clear()
        _throttles.clear()
