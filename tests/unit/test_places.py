"""Where a composition's resources are: config fields, the role that reaches them, and
the ``Credentials`` the generated machines carry."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from scheduler_core.actions import Action
from scheduler_core.asl.builder import build_state_machine
from scheduler_core.asl.credentials import BOOKKEEPING, SDK, touches_a_resource
from scheduler_core.asl.source import fingerprint
from scheduler_core.config import Composition, parse_config
from scheduler_core.exceptions import ConfigError
from scheduler_core.places import role_arn
from scheduler_core.resources import REGISTRY

HUB = "123456789012"
SPOKE = "210987654321"


def load(settings: str, resources: str | None = None) -> Composition:
    items = resources or "- type: rds_instance\n  params: {id: db1}\n"
    text = (
        "compositions:\n  staging:\n"
        + textwrap.indent(settings, "    ")
        + "    resources:\n"
        + textwrap.indent(items, "      ")
    )
    return parse_config(text, path=Path("c.yaml")).get("staging")


def problems(settings: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(settings)
    return list(raised.value.problems)


def test_account_region_and_role_default_to_the_deployment() -> None:
    composition = load("description: x\n")

    assert (composition.account, composition.region, composition.role) == (None, None, None)
    assert role_arn(composition, home_account=HUB, partition="aws") is None


def test_another_account_is_reached_through_envctl_spoke() -> None:
    composition = load(f'account: "{SPOKE}"\nregion: eu-central-1\n')

    assert composition.region == "eu-central-1"
    assert role_arn(composition, home_account=HUB, partition="aws") == (
        f"arn:aws:iam::{SPOKE}:role/envctl-spoke"
    )


def test_a_role_name_is_looked_up_in_the_composition_account_and_partition() -> None:
    composition = load(f'account: "{SPOKE}"\nrole: ops/envctl-qa\n'.replace("ops/", ""))

    assert role_arn(composition, home_account=HUB, partition="aws-cn") == (
        f"arn:aws-cn:iam::{SPOKE}:role/envctl-qa"
    )


def test_a_role_arn_is_used_as_written_and_names_the_account() -> None:
    arn = f"arn:aws:iam::{SPOKE}:role/platform/envctl-spoke"
    composition = load(f"role: {arn}\n")

    assert composition.account == SPOKE
    assert role_arn(composition, home_account=HUB, partition="aws") == arn


def test_the_deployment_account_named_explicitly_needs_no_role() -> None:
    composition = load(f'account: "{HUB}"\n')

    assert role_arn(composition, home_account=HUB, partition="aws") is None


def test_an_unquoted_account_id_is_read_as_its_digits() -> None:
    assert load(f"account: {SPOKE}\n").account == SPOKE


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        (
            "account: 12345\n",
            "staging.account: expected a 12-digit AWS account id; quote it in YAML, got 12345",
        ),
        (
            'account: "1234-5678-9012"\n',
            'staging.account: expected a 12-digit AWS account id, got "1234-5678-9012"',
        ),
        (
            "region: eu-wst-1\n",
            'staging.region: expected an AWS region name such as eu-west-1, got "eu-wst-1"',
        ),
        (
            'role: "not a role"\n',
            "staging.role: expected an IAM role name (such as envctl-spoke) or a role ARN "
            '(arn:aws:iam::<account>:role/<name>), got "not a role"',
        ),
        (
            f'account: "{SPOKE}"\nrole: arn:aws:iam::{HUB}:role/envctl-spoke\n',
            f"staging.role: the role ARN is in account {HUB}, but account is {SPOKE}; "
            "the role must be in the account the resources are in",
        ),
    ],
)
def test_bad_places_are_refused_naming_the_field(settings: str, problem: str) -> None:
    assert problems(settings) == [f"c.yaml: {problem}"]


def _tasks(states: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for state in states.values():
        if state.get("Type") == "Task":
            found.append(state)
        for branch in state.get("Branches", []):
            found.extend(_tasks(branch["States"]))
    return found


EVERY_KIND = "".join(
    f"- type: {name}\n  params: {json.dumps(kind.example.model_dump(mode='json'))}\n"
    for name, kind in sorted(REGISTRY.items())
)


@pytest.mark.parametrize("action", list(Action))
def test_every_resource_call_and_only_those_carry_the_spoke_role(action: Action) -> None:
    arn = f"arn:aws:iam::{SPOKE}:role/envctl-spoke"
    composition = load(f'account: "{SPOKE}"\n', resources=EVERY_KIND)

    tasks = _tasks(build_state_machine(composition, action, credentials=arn)["States"])

    resource_tasks = [t for t in tasks if touches_a_resource(t)]
    for task in tasks:
        expected = {"RoleArn": arn} if task in resource_tasks else None
        assert task.get("Credentials") == expected, task["Resource"]
    bookkeeping = {t["Resource"] for t in tasks if t not in resource_tasks}
    assert bookkeeping and all(
        r.startswith("arn:aws:states:::dynamodb:") or r[len(SDK) :].split(":")[0] in BOOKKEEPING
        for r in bookkeeping
    )


@pytest.mark.parametrize("name", sorted(n for n, k in REGISTRY.items() if k.has_resource))
def test_each_kind_has_calls_that_count_as_touching_its_resource(name: str) -> None:
    params = json.dumps(REGISTRY[name].example.model_dump(mode="json"))
    composition = load("description: x\n", resources=f"- type: {name}\n  params: {params}\n")

    for action in Action:
        tasks = _tasks(build_state_machine(composition, action)["States"])
        assert any(touches_a_resource(task) for task in tasks), (name, action)


def test_without_a_role_no_task_carries_credentials() -> None:
    composition = load("description: x\n", resources=EVERY_KIND)

    tasks = _tasks(build_state_machine(composition, Action.START)["States"])

    assert tasks and not any("Credentials" in task for task in tasks)


def test_the_role_is_part_of_the_fingerprint_only_when_there_is_one() -> None:
    composition = load("description: x\n")
    arn = f"arn:aws:iam::{SPOKE}:role/envctl-spoke"

    plain = fingerprint(composition, table="envctl")

    assert fingerprint(composition, table="envctl", credentials=None) == plain
    assert fingerprint(composition, table="envctl", credentials=arn) != plain


def test_the_deployment_names_the_default_spoke_role() -> None:
    from scheduler_core.settings import Settings

    settings = Settings.from_env({"ENVCTL_SPOKE_ROLE": "platform-envctl"})
    composition = load(f'account: "{SPOKE}"\n')

    assert settings.aws().spoke_role == "platform-envctl"
    assert (
        role_arn(composition, home_account=HUB, partition="aws", spoke_role=settings.spoke_role)
        == f"arn:aws:iam::{SPOKE}:role/platform-envctl"
    )
    assert Settings.from_env({}).spoke_role == "envctl-spoke"


def test_managed_regions_are_read_from_the_environment() -> None:
    from scheduler_core.settings import Settings

    settings = Settings.from_env({"ENVCTL_REGIONS": "eu-west-1, ap-southeast-2,"})

    assert settings.regions == ("eu-west-1", "ap-southeast-2")
