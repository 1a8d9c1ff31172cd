"""Resources that take time: transitional states driven by a clock, and faults on demand.

moto moves every resource to its final state inside the API call that asks for it,
so a state machine never sees ``starting`` or ``stopping``. Here each start or stop
records when the transition began and when it is due; whatever reads the resource
(a describe call, moto's own checks) computes the state from that record, lazily,
without background threads (``transitions``):

===================  =========================================  ==========
kind                 transitional state(s)                      base time
===================  =========================================  ==========
RDS DB instance      ``starting`` → available, ``stopping`` →   5 / 3 min
                     stopped
Aurora DB cluster    the same; its member instances finish      5 / 3 min
                     1 min after the cluster (it is              + 1 min
                     ``available`` while they are ``starting``)
DocumentDB cluster   the same (moto lacks the ``docdb``         5 / 3 min
                     engine: ``docdb`` adds it)
Neptune DB cluster   the same (moto has the engine)             5 / 3 min
Redshift cluster     ``resuming`` / ``pausing``                 3 / 3 min
ECS service          ``runningCount`` moves one task at a time  30 s a task
Auto Scaling group   new instances ``Pending``, removed ones    60 / 30 s
                     ``Terminating``
EC2 instance         ``pending`` / ``stopping``                 30 / 30 s
EFS file system      ``updating`` after a throughput change     1 min
FSx file system      ``FILE_SYSTEM_UPDATE`` action ``PENDING``  10 min
EKS node group       ``UPDATING`` (its update ``InProgress``)   1 min
SageMaker notebook   ``Pending`` / ``Stopping``                 5 / 2 min
===================  =========================================  ==========

Real time is the base time divided by the **speed** (``Emulator(speed=N)``, the
``ENVCTL_EMULATOR_SPEED`` variable): at 1000 an RDS start takes 0.3 s. The polling
``Wait for …`` states of generated state machines and the Retry back-off of every
Task are shortened by the same factor (``stepfunctions``).

Faults tests can ask for (``faults``; context managers; resources are named by their
id, an ECS service by ``cluster/service``):

- ``never_ready(id)``: the resource's transitions never finish (stays ``starting``).
- ``ends_in(id, state)``: the next transition ends in ``state`` instead of the target
  (RDS ``incompatible-parameters``, EC2 ``terminated``; ECS tasks fail, so the running
  count never reaches the desired count).
- ``blocked(id, state, seconds)``: an RDS instance or cluster shows ``backing-up``,
  ``modifying``, ``maintenance``… for that long (base seconds, divided by the speed);
  a start or stop meanwhile is refused with ``InvalidDBInstanceState`` /
  ``InvalidDBClusterStateFault``.
- ``throttled(service, action, times)``: the next ``times`` calls of that API answer
  a throttling error.

Everything here is process-global, like moto's backends.

**Adding the behaviour of a new resource kind** (one module, one line):

1. Write ``infra/emulator/lifecycle/<kind>.py`` with ``SECONDS`` (its base durations,
   ``{"<kind>.start": 300, ...}``, read with ``clock.duration``) and ``install()``,
   which patches moto: wrap the backend's start/stop with ``patching.wrap_once`` and
   ``transitions.begin`` a transition on the resource, and make its status attribute
   report it with ``transitions.status_property``. Import moto inside ``install``.
   Honour the faults: ``faults.blocking_state``, and ``set_status`` (or your own
   ``on_terminal``) for ``ends_in``; ``never_ready`` holds every transition already.
2. Add the module to ``BEHAVIOURS`` below, and a line to the table above.
"""

from __future__ import annotations

import threading
from typing import Protocol

from infra.emulator.lifecycle import (
    autoscaling,
    docdb,
    ec2,
    ecs,
    eks,
    rds,
    redshift,
    sagemaker,
    stepfunctions,
    throttling,
)
from infra.emulator.lifecycle.clock import (
    BASE_SECONDS,
    DEFAULT_SPEED,
    DEMO_SPEED,
    SPEED_ENV,
    at_speed,
    duration,
    now,
    set_speed,
    speed,
    speed_from,
)
from infra.emulator.lifecycle.faults import (
    block,
    blocked,
    blocking_state,
    ends_in,
    is_held,
    never_ready,
    reset,
    terminal_state,
    throttled,
    throttles_left,
)
from infra.emulator.lifecycle.transitions import Transition, begin, cancel, current

__all__ = [
    "BASE_SECONDS",
    "BEHAVIOURS",
    "DEFAULT_SPEED",
    "DEMO_SPEED",
    "SPEED_ENV",
    "Transition",
    "at_speed",
    "begin",
    "block",
    "blocked",
    "blocking_state",
    "cancel",
    "current",
    "duration",
    "ends_in",
    "install",
    "is_held",
    "never_ready",
    "now",
    "reset",
    "set_speed",
    "speed",
    "speed_from",
    "terminal_state",
    "throttled",
    "throttles_left",
]


class Behaviour(Protocol):
    """What a behaviour module provides (see "Adding the behaviour" above)."""

    SECONDS: dict[str, float]

    def install(self) -> None: ...


#: Every emulated behaviour, installed in this order: Step Functions first, so moto's
#: interpreter is loaded before anything else is patched (as it always was).
BEHAVIOURS: tuple[Behaviour, ...] = (
    stepfunctions,
    rds,
    docdb,
    redshift,
    ec2,
    ecs,
    autoscaling,
    eks,
    sagemaker,
    throttling,
)

for _behaviour in BEHAVIOURS:
    BASE_SECONDS.update(_behaviour.SECONDS)

_INSTALL_LOCK = threading.Lock()


def install() -> None:
    """Install every lifecycle patch (idempotent)."""
    with _INSTALL_LOCK:
        for behaviour in BEHAVIOURS:
            behaviour.install()
