"""Resources that take time: transitional states driven by a clock, and faults on demand.

moto moves every resource to its final state inside the API call that asks for it,
so a state machine never sees ``starting`` or ``stopping``. Here each start or stop
records when the transition began and when it is due; whatever reads the resource
(a describe call, moto's own checks) computes the state from that record, lazily,
without background threads:

===================  =========================================  ==========
kind                 transitional state(s)                      base time
===================  =========================================  ==========
RDS DB instance      ``starting`` → available, ``stopping`` →   5 / 3 min
                     stopped
Aurora DB cluster    the same; the cluster reports the          5 / 3 min
                     transitional state until every member
                     instance has finished too
Redshift cluster     ``resuming`` / ``pausing``                 3 / 3 min
ECS service          ``runningCount`` moves one task at a time  30 s a task
Auto Scaling group   new instances ``Pending``, removed ones    60 / 30 s
                     ``Terminating``
EC2 instance         ``pending`` / ``stopping``                 30 / 30 s
EFS file system      ``updating`` after a throughput change     1 min
FSx file system      ``FILE_SYSTEM_UPDATE`` action ``PENDING``  10 min
===================  =========================================  ==========

Real time is the base time divided by the **speed** (``Emulator(speed=N)``, the
``ENVCTL_EMULATOR_SPEED`` variable): at 1000 an RDS start takes 0.3 s. The polling
``Wait for …`` states of generated state machines and the Retry back-off of every
Task are shortened by the same factor, so polling stays proportionate to the
transitions it watches. Other ``Wait`` states (a composition's ``wait`` step) keep
their real length: they are what the user asked for.

Faults tests can ask for (context managers; resources are named by their id, an ECS
service by ``cluster/service``):

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
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from infra.emulator.patching import wrap_once

SPEED_ENV = "ENVCTL_EMULATOR_SPEED"
#: Tests: a 5-minute RDS start takes 0.3 s.
DEFAULT_SPEED = 1000.0
#: ``make demo`` and ``envctl local``: an RDS start takes 5 s, so waiting is visible.
DEMO_SPEED = 60.0
#: State-name prefix of the polling waits in generated state machines (asl.fragments).
POLL_WAIT_PREFIX = "Wait for "

#: Realistic durations in AWS, in seconds, before the speed divides them.
BASE_SECONDS: dict[str, float] = {
    "rds_instance.start": 300,
    "rds_instance.stop": 180,
    "rds_cluster.start": 300,
    "rds_cluster.stop": 180,
    "redshift.resume": 180,
    "redshift.pause": 180,
    "ecs.task": 30,
    "asg.launch": 60,
    "asg.terminate": 30,
    "ec2.start": 30,
    "ec2.stop": 30,
    "efs.update": 60,
    "fsx.update": 600,
}

_LOCK = threading.RLock()
_INSTALL_LOCK = threading.Lock()
_speed = DEFAULT_SPEED
_never_ready: dict[str, int] = {}
_ends_in: dict[str, str] = {}
_blocks: dict[str, tuple[str, float]] = {}
_throttles: dict[tuple[str, str], int] = {}
_TRANSITION = "_envctl_transition"


# -- clock and speed ---------------------------------------------------------------


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


# -- faults ------------------------------------------------------------------------


@contextlib.contextmanager
def never_ready(resource_id: str) -> Iterator[None]:
    """Transitions of ``resource_id`` never finish while this lasts."""
    with _LOCK:
        _never_ready[resource_id] = _never_ready.get(resource_id, 0) + 1
    try:
        yield
    finally:
        with _LOCK:
            _never_ready[resource_id] -= 1
            if not _never_ready[resource_id]:
                del _never_ready[resource_id]


@contextlib.contextmanager
def ends_in(resource_id: str, state: str) -> Iterator[None]:
    """Transitions of ``resource_id`` end in ``state`` (a terminal one) while this lasts."""
    with _LOCK:
        _ends_in[resource_id] = state
    try:
        yield
    finally:
        with _LOCK:
            _ends_in.pop(resource_id, None)


def is_held(resource_id: str) -> bool:
    """True while ``never_ready(resource_id)`` lasts."""
    return resource_id in _never_ready


def terminal_state(resource_id: str) -> str | None:
    """The state ``ends_in`` asked for, if any."""
    return _ends_in.get(resource_id)


def block(resource_id: str, state: str, seconds: float) -> None:
    """Show ``state`` for an RDS instance or cluster for ``seconds`` base seconds."""
    with _LOCK:
        _blocks[resource_id] = (state, now() + seconds / _speed)


@contextlib.contextmanager
def blocked(resource_id: str, state: str, seconds: float) -> Iterator[None]:
    block(resource_id, state, seconds)
    try:
        yield
    finally:
        with _LOCK:
            _blocks.pop(resource_id, None)


def blocking_state(resource_id: str) -> str | None:
    with _LOCK:
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
    with _LOCK:
        _throttles[key] = _throttles.get(key, 0) + times
    try:
        yield
    finally:
        with _LOCK:
            _throttles.pop(key, None)


def throttles_left(service: str, action: str) -> int:
    with _LOCK:
        return _throttles.get((service.lower(), action.lower()), 0)


def _take_throttle(service: str, action: str) -> bool:
    key = (service.lower(), action.lower())
    with _LOCK:
        left = _throttles.get(key, 0)
        if left <= 0:
            return False
        _throttles[key] = left - 1
        return True


def reset() -> None:
    """Forget every fault (not the transitions in flight)."""
    with _LOCK:
        _never_ready.clear()
        _ends_in.clear()
        _blocks.clear()
        _throttles.clear()


# -- transitions -------------------------------------------------------------------


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
        return self.resource_id in _never_ready or at < self.due


def begin(
    obj: Any,
    resource_id: str,
    via: Any,
    seconds: float,
    on_terminal: Callable[[str], None] | None = None,
) -> Transition:
    started = now()
    transition = Transition(resource_id, via, started, started + seconds, on_terminal)
    with _LOCK:
        obj.__dict__[_TRANSITION] = transition
    return transition


def current(obj: Any) -> Transition | None:
    """The transition under way on ``obj``, settling it first if it is over."""
    with _LOCK:
        transition = obj.__dict__.get(_TRANSITION)
        if transition is None or transition.pending(now()):
            return transition
        del obj.__dict__[_TRANSITION]
        terminal = _ends_in.get(transition.resource_id)
        if terminal is not None and transition.on_terminal is not None:
            transition.on_terminal(terminal)
        return None


def cancel(obj: Any) -> None:
    with _LOCK:
        obj.__dict__.pop(_TRANSITION, None)


def _install_property(cls: type, name: str, fget: Callable[[Any], Any], fset: Any) -> None:
    marker = f"_envctl_observed_{name}"
    if marker in cls.__dict__:
        return
    setattr(cls, marker, True)
    setattr(cls, name, property(fget, fset))


def _raw_attribute(name: str) -> tuple[Callable[[Any], Any], Callable[[Any, Any], None]]:
    def get(obj: Any) -> Any:
        return obj.__dict__[name]

    def set_(obj: Any, value: Any) -> None:
        obj.__dict__[name] = value

    return get, set_


def _status_property(
    cls: type,
    name: str,
    resource_id: Callable[[Any], str],
    *,
    raw: tuple[Callable[[Any], Any], Callable[[Any, Any], None]] | None = None,
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

    _install_property(cls, name, fget, fset)


# -- RDS ---------------------------------------------------------------------------


def _rds_cluster_status(cluster: Any, observed: str) -> str:
    """A cluster is not available (or stopped) before every member instance is."""
    if observed in ("available", "stopped"):
        for member in cluster._members:
            if member.status != observed:
                return "starting" if observed == "available" else "stopping"
    return observed


def _set_status(obj: Any) -> Callable[[str], None]:
    def apply(state: str) -> None:
        obj.status = state

    return apply


def _wrap_rds_instance(verb: str, via: str) -> Callable[[Any], Any]:
    from moto.rds.exceptions import InvalidDBInstanceStateError

    def wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
        def action(self: Any, db_instance_identifier: str, *args: Any, **kwargs: Any) -> Any:
            if blocking_state(db_instance_identifier) is not None:
                raise InvalidDBInstanceStateError(db_instance_identifier, verb)
            # moto refuses anything but available (stop) or stopped (start); the status
            # it reads is the observed one, so "starting" is refused too, as in AWS.
            database = original(self, db_instance_identifier, *args, **kwargs)
            seconds = duration(f"rds_instance.{verb}")
            begin(database, db_instance_identifier, via, seconds, _set_status(database))
            return database

        return action

    return wrapper


def _wrap_rds_cluster(verb: str, via: str) -> Callable[[Any], Any]:
    from moto.rds.exceptions import InvalidDBClusterStateFault

    def wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
        def action(self: Any, cluster_identifier: str) -> Any:
            blocking = blocking_state(cluster_identifier)
            if blocking is not None:
                raise InvalidDBClusterStateFault(
                    f"DbCluster {cluster_identifier} is in {blocking} state but expected "
                    f"it to be one of {'stopped' if verb == 'start' else 'available'}."
                )
            answer = original(self, cluster_identifier)
            cluster = self.clusters[cluster_identifier]
            seconds = duration(f"rds_cluster.{verb}")
            begin(cluster, cluster_identifier, via, seconds, _set_status(cluster))
            target = "available" if verb == "start" else "stopped"
            # The member instances start and stop with their cluster.
            for member in cluster._members:
                member.status = target
                begin(member, member.db_instance_identifier, via, seconds, _set_status(member))
            return answer

        return action

    return wrapper


def _install_rds() -> None:
    from moto.rds.models import DBCluster, DBInstance, RDSBackend

    _status_property(DBInstance, "status", lambda db: db.db_instance_identifier)
    original = DBCluster.__dict__["status"]
    if not isinstance(original, property):  # pragma: no cover - moto changed shape
        raise TypeError("moto's DBCluster.status is no longer a property")
    _status_property(
        DBCluster,
        "status",
        lambda cluster: cluster.db_cluster_identifier,
        raw=(original.fget, original.fset),  # type: ignore[arg-type]
        extra=_rds_cluster_status,
    )
    wrap_once(RDSBackend, "start_db_instance", _wrap_rds_instance("start", "starting"))
    wrap_once(RDSBackend, "stop_db_instance", _wrap_rds_instance("stop", "stopping"))
    wrap_once(RDSBackend, "start_db_cluster", _wrap_rds_cluster("start", "starting"))
    wrap_once(RDSBackend, "stop_db_cluster", _wrap_rds_cluster("stop", "stopping"))


# -- Redshift ----------------------------------------------------------------------


def _install_redshift() -> None:
    from moto.redshift.exceptions import RedshiftClientError
    from moto.redshift.models import Cluster, RedshiftBackend

    _status_property(Cluster, "status", lambda cluster: cluster.cluster_identifier)

    def wrap(verb: str, source: str, via: str) -> Callable[[Any], Any]:
        def wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
            def action(self: Any, cluster_id: str) -> Any:
                cluster = self.clusters.get(cluster_id)
                if cluster is not None and cluster.status != source:
                    raise RedshiftClientError(
                        "InvalidClusterStateFault",
                        f"You can't {verb} cluster {cluster_id} in its current state "
                        f"{cluster.status}.",
                    )
                answer = original(self, cluster_id)

                def apply(state: str) -> None:
                    answer.status = state

                begin(answer, cluster_id, via, duration(f"redshift.{verb}"), apply)
                return answer

            return action

        return wrapper

    wrap_once(RedshiftBackend, "pause_cluster", wrap("pause", "available", "pausing"))
    wrap_once(RedshiftBackend, "resume_cluster", wrap("resume", "paused", "resuming"))


# -- EC2 ---------------------------------------------------------------------------

_EC2_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48}
_EC2_CODES.update({"stopping": 64, "stopped": 80})


def _install_ec2() -> None:
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.models.instances import Instance, InstanceState

    def observed(instance: Any) -> Any:
        transition = current(instance)
        if transition is None:
            return instance._state
        return InstanceState(transition.via, _EC2_CODES[transition.via])

    if "_envctl_observed_instance_state" not in Instance.__dict__:
        Instance._envctl_observed_instance_state = True
        Instance.instance_state = property(observed)  # type: ignore[assignment]
        Instance.state = property(lambda self: observed(self).name)  # type: ignore[assignment]
        Instance.state_code = property(lambda self: observed(self).code)  # type: ignore[assignment]
        Instance.is_running = lambda self: observed(self).name == "running"  # type: ignore[method-assign]

    def terminal(instance: Any) -> Callable[[str], None]:
        def apply(state: str) -> None:
            instance._state.name, instance._state.code = state, _EC2_CODES.get(state, 0)

        return apply

    def wrap(verb: str, done: tuple[str, ...], via: str) -> Callable[[Any], Any]:
        def wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
            def action(self: Any) -> Any:
                state = observed(self)
                if state.name in done:  # already there or on the way: AWS does nothing
                    return copy.copy(state)
                if current(self) is not None or state.name in ("shutting-down", "terminated"):
                    raise EC2ClientError(
                        "IncorrectInstanceState",
                        f"The instance '{self.id}' is not in a state from which it can be "
                        f"{'started' if verb == 'start' else 'stopped'}.",
                    )
                previous = original(self)
                begin(self, self.id, via, duration(f"ec2.{verb}"), terminal(self))
                return previous

            return action

        return wrapper

    wrap_once(Instance, "start", wrap("start", ("running", "pending"), "pending"))
    wrap_once(Instance, "stop", wrap("stop", ("stopped", "stopping"), "stopping"))

    def wrap_terminate(original: Callable[..., Any]) -> Callable[..., Any]:
        def terminate(self: Any) -> Any:
            cancel(self)
            return original(self)

        return terminate

    wrap_once(Instance, "terminate", wrap_terminate)


# -- ECS ---------------------------------------------------------------------------


@dataclass
class _Convergence:
    resource_id: str
    start: int
    target: int
    began: float
    per_task: float

    def running(self, at: float) -> int:
        if self.resource_id in _never_ready or self.resource_id in _ends_in:
            # Stuck, or every task fails before it runs: no progress.
            return self.start
        steps = int((at - self.began) / self.per_task) if self.per_task > 0 else 1 << 30
        if self.target >= self.start:
            return min(self.target, self.start + steps)
        return max(self.target, self.start - steps)


def _install_ecs() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend, Service

    attr = "_envctl_convergence"

    def running(service: Any) -> int:
        convergence = service.__dict__.get(attr)
        raw = service.__dict__.get("running_count", 0)
        if convergence is None:
            return raw
        count = convergence.running(now())
        if count == convergence.target and convergence.resource_id not in _never_ready:
            service.__dict__.pop(attr, None)
        return count

    def set_running(service: Any, value: int) -> None:
        service.__dict__["running_count"] = value

    def pending(service: Any) -> int:
        if attr in service.__dict__:
            return max(0, service.desired_count - running(service))
        return service.__dict__.get("pending_count", 0)

    def set_pending(service: Any, value: int) -> None:
        service.__dict__["pending_count"] = value

    _install_property(Service, "running_count", running, set_running)
    _install_property(Service, "pending_count", pending, set_pending)

    def wrap_update(original: Callable[..., Any]) -> Callable[..., Any]:
        def update_service(self: Any, service_properties: dict[str, Any]) -> Any:
            cluster = service_properties.get("cluster", "default")
            name = str(service_properties.get("service", "")).split("/")[-1]
            before = None
            with contextlib.suppress(Exception):
                before = self._get_service(cluster, name).running_count
            service = original(self, service_properties)
            if before is not None and before != service.desired_count:
                service.__dict__[attr] = _Convergence(
                    f"{service.cluster_name}/{service.name}",
                    before,
                    service.desired_count,
                    now(),
                    duration("ecs.task"),
                )
            return service

        return update_service

    wrap_once(EC2ContainerServiceBackend, "update_service", wrap_update)


# -- Auto Scaling ------------------------------------------------------------------


def _install_autoscaling() -> None:
    from moto.autoscaling.models import FakeAutoScalingGroup

    departing = "_envctl_departing"

    def wrap_set_desired(original: Callable[..., Any]) -> Callable[..., Any]:
        def set_desired_capacity(self: Any, new_capacity: int | None) -> None:
            # Creating a group is not a start: its first instances are there at once.
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
            with _LOCK:
                self.__dict__.setdefault(departing, []).extend((s, due) for s in leaving)

        return set_desired_capacity

    wrap_once(FakeAutoScalingGroup, "set_desired_capacity", wrap_set_desired)

    def instances(self: Any) -> list[Any]:
        at = now()
        shown = []
        for state in self.instance_states:
            transition = current(state)
            if transition is None:
                shown.append(state)
            else:
                view = copy.copy(state)
                view.__dict__.pop(_TRANSITION, None)
                view.lifecycle_state = transition.via
                shown.append(view)
        with _LOCK:
            leaving = [
                (s, due)
                for s, due in self.__dict__.get(departing, [])
                if due > at or self.name in _never_ready
            ]
            self.__dict__[departing] = leaving
        for state, _due in leaving:
            view = copy.copy(state)
            view.lifecycle_state = "Terminating"
            shown.append(view)
        return shown

    _install_property(FakeAutoScalingGroup, "instances", instances, None)


# -- Step Functions: polling waits and retry back-off -----------------------------


class _ScaledTime:
    """Stands in for ``time`` in moto's retrier: back-off sleeps follow the speed."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds / _speed)


def _install_stepfunctions() -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.state_wait import StateWait

    if not isinstance(retrier_decl.time, _ScaledTime):
        retrier_decl.time = _ScaledTime()  # type: ignore[assignment]

    def wrap_eval(original: Callable[..., Any]) -> Callable[..., Any]:
        def _eval_state(self: Any, env: Any) -> None:
            if not self.name.startswith(POLL_WAIT_PREFIX):
                return original(self, env)
            seconds = self.wait_function._get_wait_seconds(env=env) / _speed
            deadline = time.monotonic() + seconds
            while env.is_running():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                env.program_state_event.wait(left)
            if self.assign_decl:
                self.assign_decl.eval(env=env)
            return None

        return _eval_state

    wrap_once(StateWait, "_eval_state", wrap_eval)


# -- throttling --------------------------------------------------------------------


def _install_throttling() -> None:
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult, BaseResponse

    # Each service's own word for it (the Query services say Throttling).
    codes = {"rds": "Throttling", "redshift": "Throttling", "autoscaling": "Throttling"}
    codes["ec2"] = "RequestLimitExceeded"

    class Throttled(ServiceException):
        """Defined outside moto's packages, so it is serialised for the calling service."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def call_action(self: Any) -> Any:
            if _throttles:
                service = str(getattr(self, "service_name", "") or "")
                action = self._get_action()
                if action and _take_throttle(service, action):
                    code = codes.get(service, "ThrottlingException")
                    error = Throttled(code, "Rate exceeded")
                    with warnings.catch_warnings():
                        # Most services model no throttling error shape; moto warns.
                        warnings.simplefilter("ignore")
                        status, headers, body = self.serialized(ActionResult(error))
                    headers["status"] = status
                    return status, headers, body
            return original(self)

        return call_action

    wrap_once(BaseResponse, "call_action", wrap)


def install() -> None:
    """Install every lifecycle patch (idempotent)."""
    with _INSTALL_LOCK:
        import moto.stepfunctions.parser.models  # noqa: F401 - load the interpreter first

        _install_rds()
        _install_redshift()
        _install_ec2()
        _install_ecs()
        _install_autoscaling()
        _install_stepfunctions()
        _install_throttling()
