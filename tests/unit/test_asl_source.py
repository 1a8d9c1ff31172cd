"""A generated machine records what it was made from; the request path compares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from scheduler_core.actions import Action
from scheduler_core.asl import source
from scheduler_core.asl.builder import build_state_machine
from scheduler_core.config import Composition, parse_config

BASE: dict[str, Any] = {
    "timezone": "Europe/Amsterdam",
    "start_resources_at": "0 8 ? * MON-FRI *",
    "stop_resources_at": "0 19 ? * MON-FRI *",
    "resources": [{"type": "rds_instance", "params": {"id": "db1"}}],
}


def composition(name: str = "shop", **changes: Any) -> Composition:
    body = {**BASE, **changes}
    config = parse_config(yaml.safe_dump({"compositions": {name: body}}), path=Path("c.yaml"))
    return config.get(name)


@pytest.mark.parametrize("action", list(Action))
def test_every_generated_machine_records_the_fingerprint_of_its_source(action: Action) -> None:
    target = composition()

    definition = build_state_machine(target, action, table="envctl")

    assert source.recorded(definition) == source.fingerprint(target, table="envctl")


@pytest.mark.parametrize(
    "changed",
    [
        {"resources": [{"type": "rds_instance", "params": {"id": "db2"}}]},
        {
            "resources": [
                {"type": "rds_instance", "params": {"id": "db1"}, "wait_until_ready": False}
            ]
        },
        {"resources": BASE["resources"] + [{"type": "wait", "params": {"seconds": 5}}]},
    ],
)
def test_a_change_to_the_resources_changes_the_fingerprint(changed: dict[str, Any]) -> None:
    assert source.fingerprint(composition(**changed), table="envctl") != source.fingerprint(
        composition(), table="envctl"
    )


def test_the_name_and_the_table_are_part_of_the_source() -> None:
    base = source.fingerprint(composition(), table="envctl")

    assert source.fingerprint(composition("crm"), table="envctl") != base
    assert source.fingerprint(composition(), table="other") != base


@pytest.mark.parametrize(
    "changed",
    [
        {"start_resources_at": "0 7 ? * MON-FRI *"},
        {"timezone": "UTC"},
        {"access": {"users": ["U1"]}},
        {"description": "the shop"},
    ],
)
def test_what_the_machines_do_not_contain_leaves_the_fingerprint(changed: dict[str, Any]) -> None:
    # Schedules, access and words are not in the state machines: no redeploy needed.
    changed_machine = build_state_machine(composition(**changed), Action.START, table="envctl")
    assert changed_machine == build_state_machine(composition(), Action.START, table="envctl")
    assert source.fingerprint(composition(**changed), table="envctl") == source.fingerprint(
        composition(), table="envctl"
    )


def test_a_definition_without_a_fingerprint_records_none() -> None:
    assert source.recorded({"Comment": "made by hand", "StartAt": "x", "States": {}}) is None
    assert source.recorded({"StartAt": "x", "States": {}}) is None
