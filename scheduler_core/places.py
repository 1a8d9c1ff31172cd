"""Where a composition's resources are: the account, the region, the role that reaches them.

A composition may name an ``account``, a ``region`` and a ``role`` (a name, or an ARN
in that account); left out, each is the deployment's own. Its state machines and
schedules live in its region (Step Functions' SDK integrations call their own
region), in the deployment's account; in another account, every call that touches
a resource is made with the role assumed there (docs/multi-account.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scheduler_core import names
from scheduler_core.config.models import Composition, Config
from scheduler_core.fields import role_arn_account

if TYPE_CHECKING:
    from scheduler_core.aws import Aws


@dataclass(frozen=True, kw_only=True)
class Place:
    account: str
    region: str
    role_arn: str | None  # None: the deployment's own credentials reach it

    def __str__(self) -> str:
        return described(self.account, self.region)


def described(account: str | None, region: str | None) -> str:
    """ "account 210987654321, eu-west-1", leaving out what is not given ("" for neither)."""
    return ", ".join([*([f"account {account}"] if account else []), *([region] if region else [])])


def role_arn(
    composition: Composition,
    *,
    home_account: str,
    partition: str,
    spoke_role: str = names.SPOKE_ROLE,
) -> str | None:
    """The role that reaches the composition's resources; None when no role is needed.

    A role ARN is taken as written; a role name is looked up in the composition's
    account; a composition in another account without a role uses ``spoke_role``
    (the deployment's ``ENVCTL_SPOKE_ROLE``, by default ``envctl-spoke``).
    """
    role = composition.role
    if role is not None and role_arn_account(role) is not None:
        return role
    account = composition.account or home_account
    if role is None:
        if account == home_account:
            return None
        role = spoke_role
    return f"arn:{partition}:iam::{account}:role/{role}"


def regions_of(config: Config) -> dict[str, str | None]:
    """The region of each composition that names one (its rows are kept there)."""
    return {name: c.region for name, c in config.compositions.items() if c.region}


def place_of(composition: Composition, home: Aws) -> Place:
    """Where ``composition``'s resources are, seen from the deployment ``home``."""
    return Place(
        account=composition.account or home.account_id,
        region=composition.region or home.region,
        role_arn=role_arn(
            composition,
            home_account=home.account_id,
            partition=home.partition,
            spoke_role=home.spoke_role,
        ),
    )


def reaching(composition: Composition, home: Aws) -> Aws:
    """The ``Aws`` that reads and acts on ``composition``'s resources where they are."""
    if composition.account is None and composition.role is None:
        return home.at(composition.region)  # no role to assume, no need to ask STS
    return home.reach(place_of(composition, home))
