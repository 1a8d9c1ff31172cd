"""The emulator's clock and speed, the base durations, and the lock the patches share.

Real time is a base duration (what the transition takes in AWS) divided by the
speed. Durations are registered by the behaviour modules (their ``SECONDS``) when
the package is imported; EFS and FSx, patched in ``infra.emulator.file_systems``,
keep theirs here.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Iterator

SPEED_ENV = "ENVCTL_EMULATOR_SPEED"
#: Tests: a 5-minute RDS start takes 0.3 s.
DEFAULT_SPEED = 1000.0
#: ``make demo`` and ``envctl local``: an RDS start takes 5 s, so waiting is visible.
DEMO_SPEED = 60.0

#: Realistic durations in AWS, in seconds, before the speed divides them.
BASE_SECONDS: dict[str, float] = {"efs.update": 60, "fsx.update": 600}

#: Guards the faults and the transitions: moto's server answers on several threads.
LOCK = threading.RLock()
_speed = DEFAULT_SPEED


def now() -> float:
    return time.monotonic()


def speed_from(value: float | str | None, default: float = DEFAULT_SPEED) -> float:
    """The speed to use: ``value`` if given, else ``ENVCTL_EMULATOR_SPEED``, else ``default``."""
    if value is None:
        value = os.environ.get(SPEED_ENV, "").strip() or default
    speed = float(value)
    if not math.isfinite(speed) or speed <= 0:
        raise ValueError(f"the emulator speed must be a positive number, got {value!r}")
    return speed


def speed() -> float:
    return _speed


def set_speed(value: float) -> float:
    """Set the speed; returns the previous one."""
    global _speed
    previous, _speed = _speed, speed_from(value)
    return previous


@contextlib.contextmanager
def at_speed(value: float) -> Iterator[None]:
    previous = set_speed(value)
    try:
        yield
    finally:
        set_speed(previous)


def duration(key: str) -> float:
    """Real seconds a transition of this kind takes at the current speed."""
    return BASE_SECONDS[key] / _speed
