"""A pause between steps (``wait: {seconds: 30}``); stop waits as long as start."""

from __future__ import annotations

from scheduler_core.asl import naming
from scheduler_core.asl.fragments import States, link
from scheduler_core.asl.naming import StateNamer
from scheduler_core.fields import WaitSeconds
from scheduler_core.resources.base import Action, ClientFactory, Params, ResourceKind


class WaitParams(Params):
    seconds: WaitSeconds


class Wait(ResourceKind):
    type_name = "wait"
    params_model = WaitParams
    example = WaitParams(seconds=30)
    has_resource = False

    def pause_seconds(self, params: WaitParams) -> int:
        return params.seconds

    def label(self, params: WaitParams) -> str:
        return f"{params.seconds}s"

    def build_states(
        self,
        params: WaitParams,
        *,
        action: Action,
        wait_until_ready: bool,
        ready_timeout_seconds: int,
        next_state: str | None,
        namer: StateNamer,
    ) -> tuple[str, States]:
        name = namer.for_subject(self.label(params))(naming.WAIT_STEP.template)
        return name, {name: {"Type": "Wait", "Seconds": params.seconds, **link(next_state)}}

    def read_status(self, params: WaitParams, clients: ClientFactory) -> None:
        return None
