"""Settings of envctl, read from the environment in one place (README "Settings")."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scheduler_core.aws import Aws


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What the CLI and the Lambda entry points need to know about their deployment.

    Role ARNs left empty default to ``arn:aws:iam::<account>:role/envctl-...`` of the
    caller's account, resolved when first needed.
    """

    config_path: str | None = None
    table_name: str = "envctl"
    state_machine_role_arn: str | None = None
    scheduler_role_arn: str | None = None
    # The role other regions' rules forward run events to this region's bus with.
    events_role_arn: str | None = None
    # Several envctl deployments may share an account and region: each prunes only
    # what it created itself (tag envctl:deployment).
    deployment: str = "default"
    # Regions besides the deployment's where compositions may live (ENVCTL_REGIONS):
    # apply --prune looks there too, for what a removed composition left behind.
    regions: tuple[str, ...] = ()
    # The role assumed in another account when a composition names none.
    spoke_role: str = "envctl-spoke"

    def aws(self) -> Aws:
        """The AWS access of this deployment (each entry point makes one)."""
        from scheduler_core.aws import Aws

        return Aws(spoke_role=self.spoke_role)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        values = os.environ if env is None else env
        return cls(
            config_path=values.get("ENVCTL_CONFIG") or None,
            table_name=values.get("ENVCTL_TABLE") or "envctl",
            state_machine_role_arn=values.get("ENVCTL_STATE_MACHINE_ROLE_ARN") or None,
            scheduler_role_arn=values.get("ENVCTL_SCHEDULER_ROLE_ARN") or None,
            events_role_arn=values.get("ENVCTL_EVENTS_ROLE_ARN") or None,
            deployment=values.get("ENVCTL_DEPLOYMENT") or "default",
            spoke_role=values.get("ENVCTL_SPOKE_ROLE") or "envctl-spoke",
            regions=tuple(
                region.strip()
                for region in (values.get("ENVCTL_REGIONS") or "").split(",")
                if region.strip()
            ),
        )
