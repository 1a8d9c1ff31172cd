"""Names envctl writes are the names it reads back: format and parse agree."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler_core import names
from scheduler_core.actions import Action

composition_names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}", fullmatch=True)


@given(composition=composition_names, action=st.sampled_from(Action))
def test_a_machine_name_reads_back_as_its_composition_and_action(
    composition: str, action: Action
) -> None:
    name = names.state_machine(composition, action)
    arn = f"arn:aws:states:eu-west-1:123456789012:stateMachine:{name}"

    assert names.parse_state_machine(name) == names.MachineName(
        composition=composition, action=action
    )
    assert names.parse_state_machine(arn) == names.parse_state_machine(name)
    assert len(name) <= 80  # Step Functions' limit


@given(composition=composition_names)
def test_the_window_machine_reads_back_without_an_action(composition: str) -> None:
    parsed = names.parse_state_machine(names.windows_machine(composition))

    assert parsed == names.MachineName(composition=composition, action=None)


@given(composition=composition_names)
def test_every_derived_name_fits_its_service(composition: str) -> None:
    assert names.is_composition_name(composition)
    assert len(names.schedule_group(composition)) <= 64  # EventBridge Scheduler's limit
    assert len(names.windows_machine(composition)) <= 80


@pytest.mark.parametrize(
    "foreign",
    [
        "envctl-",
        "envctl--start",
        "envctl-shop-restart-now",
        "shop-start",
        "my-envctl-shop-start",
        "envctl-shop-Start",
        "arn:aws:states:eu-west-1:123456789012:stateMachine:other-start",
    ],
)
def test_names_envctl_did_not_write_are_not_read_as_its_own(foreign: str) -> None:
    assert names.parse_state_machine(foreign) is None


def test_the_names_of_one_composition() -> None:
    assert names.state_machine("shop", Action.START) == "envctl-shop-start"
    assert names.state_machine("shop", Action.STOP) == "envctl-shop-stop"
    assert names.windows_machine("shop") == "envctl-shop-windows"
    assert names.schedule_group("shop") == "envctl-shop"
    assert names.scheduled(Action.START) == "start"
    assert names.window_schedule("db-maintenance", Action.STOP) == "window-db-maintenance-stop"


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("a", True),
        ("A-b_9", True),
        ("a" * 40, True),
        ("a" * 41, False),
        ("-a", False),
        ("_a", False),
        ("", False),
        ("qå", False),
        ("a b", False),
        ("a\n", False),
    ],
)
def test_the_composition_name_rule(name: str, valid: bool) -> None:
    assert names.is_composition_name(name) is valid


def test_actions_have_their_verbs() -> None:
    assert [a.verb for a in Action] == ["Start", "Stop"]
