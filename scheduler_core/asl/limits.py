"""What Step Functions refuses of a generated state machine: a definition over 1 MB.

Step Functions takes a state machine definition of at most 1,048,576 characters (its
quota "Maximum size of a state machine definition", a hard limit). A definition
is about 20 KB of run tracking plus 3.5-5 KB per resource; measured with ids of about
20 characters, at most 283 ``rds_instance`` items fit (272 in another account, where
every call carries the role), and 216 of the largest kind, ``neptune_cluster`` (207).
Building both machines takes about 0.1 ms per resource, which is why ``envctl
validate`` checks this and loading a config does not.
"""

from __future__ import annotations

from scheduler_core import names
from scheduler_core.actions import Action
from scheduler_core.asl.builder import DEFAULT_TABLE, build_state_machine, definition_json
from scheduler_core.config.models import Composition
from scheduler_core.places import role_arn

MAX_DEFINITION_CHARACTERS = 1_048_576
# No real deployment has this account: a composition naming an account or a role is
# measured with the role its calls would carry, whichever account deploys it.
_SOME_HOME_ACCOUNT = "000000000000"


def definition_sizes(
    composition: Composition,
    *,
    table: str = DEFAULT_TABLE,
    spoke_role: str = names.SPOKE_ROLE,
) -> dict[Action, int]:
    """The length of each of the composition's definitions as deployed (compact JSON)."""
    credentials = role_arn(
        composition, home_account=_SOME_HOME_ACCOUNT, partition="aws", spoke_role=spoke_role
    )
    return {
        action: len(
            definition_json(
                build_state_machine(composition, action, table=table, credentials=credentials)
            )
        )
        for action in Action
    }


def definition_problem(
    composition: Composition,
    *,
    table: str = DEFAULT_TABLE,
    spoke_role: str = names.SPOKE_ROLE,
) -> str | None:
    """Why Step Functions would refuse one of the composition's definitions, or None."""
    sizes = definition_sizes(composition, table=table, spoke_role=spoke_role)
    action, size = max(sizes.items(), key=lambda pair: pair[1])
    if size <= MAX_DEFINITION_CHARACTERS:
        return None
    return (
        f"the {action.value} state machine would be {size} characters; Step Functions "
        f"takes a definition of at most {MAX_DEFINITION_CHARACTERS}: split the composition"
    )
