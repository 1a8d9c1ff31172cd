"""Every resource kind, both directions, executed for real in the emulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.emulator.server import Emulator
from scheduler_core.aws import Aws
from scheduler_core.resources import Action
from tests.functional import moto_resources
from tests.functional.helpers import called_actions, composition, run

# kind -> (factory, state word when running, state word when stopped)
KINDS: dict[str, tuple[Callable[..., moto_resources.Created], str, str]] = {
    "docdb_cluster": (moto_resources.docdb_cluster, "available", "stopped"),
    "rds_cluster": (moto_resources.rds_cluster, "available", "stopped"),
    "rds_instance": (moto_resources.rds_instance, "available", "stopped"),
    "redshift_cluster": (moto_resources.redshift_cluster, "available", "paused"),
    "ec2_instance": (moto_resources.ec2_instance, "running", "stopped"),
    "ecs_service": (moto_resources.ecs_service, "2/2", "0/0"),
    "auto_scaling_group": (
        moto_resources.auto_scaling_group,
        "1/4/2 2 in service",
        "0/0/0 0 in service",
    ),
    "efs_file_system": (moto_resources.efs_file_system, "64", "1"),
    "fsx_windows_file_system": (moto_resources.fsx_windows_file_system, "64", "32"),
    "neptune_cluster": (moto_resources.neptune_cluster, "available", "stopped"),
    "eks_nodegroup": (moto_resources.eks_nodegroup, "ACTIVE 1/4/2", "ACTIVE 0/4/0"),
    "sagemaker_notebook_instance": (
        moto_resources.sagemaker_notebook_instance,
        "InService",
        "Stopped",
    ),
}


def test_every_registered_kind_except_wait_is_covered() -> None:
    from scheduler_core.resources import REGISTRY

    assert set(REGISTRY) - {"wait"} == set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_stop_then_start_drives_resource_to_each_state(
    kind: str, aws_env: Emulator, aws: Aws, unique: str
) -> None:
    factory, running, stopped = KINDS[kind]
    created = factory(aws_env, f"k-{unique}")
    target = composition(f"c-{unique}", [created.item])
    assert created.read() == running

    stop = run(aws, target, Action.STOP)
    assert stop.succeeded, stop.cause
    assert created.read() == stopped

    start = run(aws, target, Action.START)
    assert start.succeeded, start.cause
    assert created.read() == running


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_already_in_target_state_succeeds_without_calling_the_action(
    kind: str, aws_env: Emulator, aws: Aws, unique: str
) -> None:
    factory, running, _ = KINDS[kind]
    created = factory(aws_env, f"a-{unique}")
    target = composition(f"c-{unique}", [created.item])

    result = run(aws, target, Action.START)

    assert result.succeeded, result.cause
    assert created.read() == running
    calls = called_actions(aws, result.arn)
    assert calls and all(":describe" in call for call in calls), calls


def test_already_stopped_composition_stop_changes_nothing(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    created = moto_resources.rds_instance(aws_env, f"s-{unique}")
    target = composition(f"c-{unique}", [created.item])
    assert run(aws, target, Action.STOP).succeeded

    again = run(aws, target, Action.STOP)

    assert again.succeeded, again.cause
    assert created.read() == "stopped"
    assert called_actions(aws, again.arn) == ["rds:describeDBInstances"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_status_read_calls_only_what_the_kind_declares_for_iam(
    kind: str, aws_env: Emulator, aws: Aws, unique: str
) -> None:
    """template.yaml grants ``iam.read`` to the roles that show status, so a status
    read calling anything else would be denied in AWS (test_template_iam checks the
    grants; this checks the calls)."""
    from scheduler_core.resources import REGISTRY

    factory, _, _ = KINDS[kind]
    created = factory(aws_env, f"r-{unique}")
    item = composition(f"c-{unique}", [created.item]).items()[0]
    called: set[str] = set()

    def clients(service: str) -> object:
        client = aws(service)
        prefix = client.meta.service_model.signing_name

        def record(model: object, **_: object) -> None:
            called.add(f"{prefix}:{model.name}")  # type: ignore[attr-defined]

        client.meta.events.register("before-call", record)
        return client

    status = REGISTRY[kind].read_status(item.params, clients)

    assert status is not None and status.state != "unknown", status
    assert called and called <= set(REGISTRY[kind].iam.read), called
