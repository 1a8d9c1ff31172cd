"""State names that are read back: each kind's format and parse round-trip."""

from __future__ import annotations

import pytest

from scheduler_core.asl import naming
from scheduler_core.asl.naming import StateName, StateNamer

SUBJECTS = ("ecs_service shop/api", "rds_instance db-1", "30s", "x" * 120)
KINDS = (
    naming.PREPARE,
    naming.POLL_WAIT,
    naming.DONE,
    naming.WAIT_STEP,
    naming.act("Start"),
    naming.act("Stop"),
    naming.parallel("Start"),
)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.prefix.strip())
@pytest.mark.parametrize("subject", SUBJECTS[:3])
def test_format_then_parse_gives_the_subject(kind: StateName, subject: str) -> None:
    assert kind.parse(kind.format(subject)) == subject


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.prefix.strip())
def test_a_claimed_name_parses_to_its_tag_as_shown(kind: StateName) -> None:
    namer = StateNamer()
    first = namer.for_subject("ecs_service shop/api")(kind.template)
    second = namer.for_subject("ecs_service shop/api")(kind.template)
    assert kind.parse(first) == "ecs_service shop/api"
    assert kind.parse(second) == "ecs_service shop/api #2"


def test_a_shortened_subject_still_parses() -> None:
    name = StateNamer().for_subject(SUBJECTS[3])(naming.DONE.template)
    assert len(name) == naming.MAX_STATE_NAME
    parsed = naming.DONE.parse(name)
    assert parsed is not None and parsed.endswith("…") and SUBJECTS[3].startswith(parsed[:-1])


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        (naming.WAIT_STEP, "Wait for ecs_service shop/api"),
        (naming.act("Start"), "Start in parallel: a, b"),
        (naming.act("Stop"), "Start ecs_service shop/api"),
        (naming.DONE, "Describe ecs_service shop/api"),
        (naming.POLL_WAIT, "Wait 30s"),
        (naming.PREPARE, "Prepared x"),
    ],
)
def test_other_kinds_do_not_parse(kind: StateName, name: str) -> None:
    assert kind.parse(name) is None
