"""find_conflicts against the emulator: every source, and what must not be reported.

Tests share one emulator, so every name carries ``unique`` and assertions only look
at the resources a test created.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra.emulator.server import Emulator
from scheduler_core.actions import Action
from scheduler_core.asl.builder import build_state_machine
from scheduler_core.aws import Aws
from scheduler_core.config import Composition
from scheduler_core.conflicts.finder import find_conflicts
from scheduler_core.conflicts.identity import parse_input
from scheduler_core.conflicts.model import Conflict, ConflictSource
from scheduler_core.conflicts.schedules import list_foreign_schedules, targeted_services
from scheduler_core.resources import REGISTRY
from tests.functional import moto_resources
from tests.functional.helpers import composition

ACCOUNT = "123456789012"
SCHEDULER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/envctl-scheduler"
STATE_MACHINE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/envctl-state-machine"
EVENING = "cron(0 19 ? * MON-FRI *)"
SCHEDULE_HINT = (
    "Delete or disable the schedule (aws scheduler delete-schedule --group-name {group} "
    "--name {name}) or take the resource out of the composition, so that only one of them "
    "starts and stops it."
)


def universal(service: str, action: str) -> str:
    return f"arn:aws:scheduler:::aws-sdk:{service}:{action}"


def create_group(em: Emulator, name: str, *, managed: bool = False) -> None:
    tags = [{"Key": "envctl:managed", "Value": "true"}] if managed else []
    em.client("scheduler").create_schedule_group(Name=name, Tags=tags)


def create_schedule(
    em: Emulator,
    *,
    group: str,
    name: str,
    target_arn: str,
    payload: Any = None,
    state: str = "ENABLED",
) -> None:
    target = {"Arn": target_arn, "RoleArn": SCHEDULER_ROLE}
    if payload is not None:
        target["Input"] = json.dumps(payload)
    em.client("scheduler").create_schedule(
        Name=name,
        GroupName=group,
        ScheduleExpression=EVENING,
        ScheduleExpressionTimezone="Europe/Amsterdam",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target,
        State=state,
    )


def create_state_machine(em: Emulator, name: str, *, managed: bool = False) -> str:
    tags = [{"key": "envctl:managed", "value": "true"}] if managed else []
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    created = em.client("stepfunctions").create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=STATE_MACHINE_ROLE, tags=tags
    )
    return str(created["stateMachineArn"])


def schedule_conflict(
    target: Composition, item: dict[str, Any], resource_id: str, *, group: str, name: str, does: str
) -> Conflict:
    return Conflict(
        composition=target.name,
        resource_type=item["type"],
        resource_id=resource_id,
        source=ConflictSource.EVENTBRIDGE_SCHEDULE,
        detail=(
            f'EventBridge Scheduler schedule "{group}/{name}" {does} '
            "at cron 0 19 ? * MON-FRI * (Europe/Amsterdam)"
        ),
        hint=SCHEDULE_HINT.format(group=group, name=name),
    )


class RecordingClients:
    """``clients`` that records every call and answers AccessDenied for chosen ones."""

    def __init__(self, aws: Aws, deny: tuple[tuple[str, str], ...] = ()) -> None:
        self.aws = aws
        self.deny = set(deny)
        self.calls: list[tuple[str, str]] = []

    def __call__(self, service: str) -> Any:
        return _RecordingClient(self, service)

    def record(self, service: str, operation: str) -> None:
        self.calls.append((service, operation))
        if (service, operation) in self.deny:
            error = {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}
            raise ClientError(error, operation)


class _RecordingClient:
    def __init__(self, owner: RecordingClients, service: str) -> None:
        self._owner, self._service, self._real = owner, service, owner.aws(service)

    def get_paginator(self, operation: str) -> Any:
        owner, service, real = self._owner, self._service, self._real.get_paginator(operation)

        class Paginator:
            def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
                owner.record(service, operation)
                yield from real.paginate(**kwargs)

        return Paginator()

    def __getattr__(self, operation: str) -> Any:
        method = getattr(self._real, operation)

        def call(**kwargs: Any) -> Any:
            self._owner.record(self._service, operation)
            return method(**kwargs)

        return call


# --- clean and missing ----------------------------------------------------------------


def test_clean_composition_has_no_conflicts(aws_env: Emulator, aws: Aws, unique: str) -> None:
    created = [
        moto_resources.auto_scaling_group(aws_env, f"clean-asg-{unique}"),
        moto_resources.ecs_service(aws_env, f"clean-shop-{unique}"),
        moto_resources.rds_instance(aws_env, f"clean-db-{unique}"),
        moto_resources.rds_cluster(aws_env, f"clean-cluster-{unique}"),
        moto_resources.ec2_instance(aws_env, f"clean-vm-{unique}"),
        moto_resources.redshift_cluster(aws_env, f"clean-dw-{unique}"),
    ]
    items = [c.item for c in created] + [{"type": "wait", "params": {"seconds": 5}}]

    assert find_conflicts(aws, composition(f"clean-{unique}", items)) == []


def test_missing_resources_give_no_conflicts(aws_env: Emulator, aws: Aws, unique: str) -> None:
    items = [
        {
            "type": "auto_scaling_group",
            "params": {"name": f"gone-{unique}", "min": 0, "max": 1, "desired": 0},
        },
        {
            "type": "ecs_service",
            "params": {"cluster_name": f"gone-{unique}", "name": "api", "desired": 1},
        },
        {"type": "ec2_instance", "params": {"id": "i-0123456789abcdef0"}},
        {"type": "rds_instance", "params": {"id": f"gone-db-{unique}"}},
        {"type": "rds_cluster", "params": {"id": f"gone-cluster-{unique}"}},
        {"type": "redshift_cluster", "params": {"id": f"gone-dw-{unique}"}},
        {
            "type": "efs_file_system",
            "params": {"id": "fs-0123456789abcdef0", "provisioned_throughput_in_mibps": 8},
        },
        {
            "type": "fsx_windows_file_system",
            "params": {"id": "fs-0123456789abcdef1", "throughput_capacity": 64},
        },
    ]

    assert find_conflicts(aws, composition(f"gone-{unique}", items)) == []


# --- scaling ----------------------------------------------------------------------------


def test_asg_scheduled_action_is_reported(aws_env: Emulator, aws: Aws, unique: str) -> None:
    name = f"workers-{unique}"
    group = moto_resources.auto_scaling_group(aws_env, name)
    aws_env.client("autoscaling").put_scheduled_update_group_action(
        AutoScalingGroupName=name,
        ScheduledActionName="scale-up-morning",
        Recurrence="0 7 * * 1-5",
        DesiredCapacity=3,
    )
    target = composition(f"asg-{unique}", [group.item])

    assert find_conflicts(aws, target) == [
        Conflict(
            composition=target.name,
            resource_type="auto_scaling_group",
            resource_id=name,
            source=ConflictSource.ASG_SCHEDULED_ACTION,
            detail='Auto Scaling scheduled action "scale-up-morning" sets desired 3 '
            "at cron 0 7 * * 1-5 (UTC)",
            hint="Delete the scheduled action (aws autoscaling delete-scheduled-action "
            f"--auto-scaling-group-name {name} --scheduled-action-name scale-up-morning) "
            "or take the group out of the composition, so that only one of them sets its sizes.",
        )
    ]


def test_ecs_scheduled_action_is_reported(aws_env: Emulator, aws: Aws, unique: str) -> None:
    cluster = f"shop-{unique}"
    service = moto_resources.ecs_service(aws_env, cluster)
    scaling = aws_env.client("application-autoscaling")
    scope = {
        "ServiceNamespace": "ecs",
        "ResourceId": f"service/{cluster}/api",
        "ScalableDimension": "ecs:service:DesiredCount",
    }
    scaling.register_scalable_target(MinCapacity=0, MaxCapacity=4, **scope)
    scaling.put_scheduled_action(
        ScheduledActionName="night",
        Schedule="cron(0 20 ? * MON-FRI *)",
        Timezone="Europe/Amsterdam",
        ScalableTargetAction={"MinCapacity": 0, "MaxCapacity": 0},
        **scope,
    )
    target = composition(f"ecs-{unique}", [service.item])

    assert find_conflicts(aws, target) == [
        Conflict(
            composition=target.name,
            resource_type="ecs_service",
            resource_id=f"{cluster}/api",
            source=ConflictSource.APPLICATION_AUTOSCALING_SCHEDULED_ACTION,
            detail='Application Auto Scaling scheduled action "night" sets min 0, max 0 '
            "at cron 0 20 ? * MON-FRI * (Europe/Amsterdam)",
            hint="Delete the scheduled action (aws application-autoscaling "
            "delete-scheduled-action --service-namespace ecs "
            f"--resource-id service/{cluster}/api --scalable-dimension ecs:service:DesiredCount "
            "--scheduled-action-name night) or take the service out of the composition, so "
            "that only one of them sets its task count.",
        )
    ]


def test_ecs_scalable_target_with_min_capacity_is_reported(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    cluster = f"shop-{unique}"
    service = moto_resources.ecs_service(aws_env, cluster)
    aws_env.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=f"service/{cluster}/api",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=2,
        MaxCapacity=6,
    )
    target = composition(f"ecs-{unique}", [service.item])

    assert find_conflicts(aws, target) == [
        Conflict(
            composition=target.name,
            resource_type="ecs_service",
            resource_id=f"{cluster}/api",
            source=ConflictSource.APPLICATION_AUTOSCALING_MIN_CAPACITY,
            detail=f"Application Auto Scaling scalable target service/{cluster}/api has "
            "MinCapacity 2, so it raises desiredCount back to 2 after envctl stops the service",
            hint="Let envctl manage it: add `min_capacity: 2` to the item's params (stop sets "
            "MinCapacity to 0, start restores it), or deregister the target "
            "(aws application-autoscaling deregister-scalable-target "
            f"--service-namespace ecs --resource-id service/{cluster}/api "
            "--scalable-dimension ecs:service:DesiredCount).",
        )
    ]


# --- EventBridge Scheduler --------------------------------------------------------------


def test_universal_schedule_on_same_instance_is_reported(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    db = moto_resources.rds_instance(aws_env, f"db-{unique}")
    group = f"ops-{unique}"
    create_group(aws_env, group)
    create_schedule(
        aws_env,
        group=group,
        name="stop-db",
        target_arn=universal("rds", "stopDBInstance"),
        payload={"DbInstanceIdentifier": f"db-{unique}"},
    )
    target = composition(f"rds-{unique}", [db.item])

    assert find_conflicts(aws, target) == [
        schedule_conflict(
            target,
            db.item,
            f"db-{unique}",
            group=group,
            name="stop-db",
            does="calls rds:stopDBInstance on it",
        )
    ]


def test_universal_ecs_update_service_is_reported(aws_env: Emulator, aws: Aws, unique: str) -> None:
    cluster = f"shop-{unique}"
    service = moto_resources.ecs_service(aws_env, cluster)
    group = f"ops-{unique}"
    create_group(aws_env, group)
    create_schedule(
        aws_env,
        group=group,
        name="scale-down",
        target_arn=universal("ecs", "updateService"),
        payload={"Cluster": cluster, "Service": "api", "DesiredCount": 0},
    )
    target = composition(f"ecs-{unique}", [service.item])

    assert find_conflicts(aws, target) == [
        schedule_conflict(
            target,
            service.item,
            f"{cluster}/api",
            group=group,
            name="scale-down",
            does="calls ecs:updateService on it",
        )
    ]


def test_templated_schedule_with_resource_arn_is_reported(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    cluster = moto_resources.rds_cluster(aws_env, f"cluster-{unique}")
    found = aws_env.client("rds").describe_db_clusters(DBClusterIdentifier=f"cluster-{unique}")
    arn = found["DBClusters"][0]["DBClusterArn"]
    group = f"ops-{unique}"
    create_group(aws_env, group)
    create_schedule(aws_env, group=group, name="by-arn", target_arn=arn)
    target = composition(f"arn-{unique}", [cluster.item])

    assert find_conflicts(aws, target) == [
        schedule_conflict(
            target,
            cluster.item,
            f"cluster-{unique}",
            group=group,
            name="by-arn",
            does="targets it by ARN",
        )
    ]


def test_foreign_state_machine_schedule_mentioning_resource_is_reported(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    dw = moto_resources.redshift_cluster(aws_env, f"dw-{unique}")
    machine = create_state_machine(aws_env, f"nightly-{unique}")
    group = f"ops-{unique}"
    create_group(aws_env, group)
    create_schedule(
        aws_env,
        group=group,
        name="nightly",
        target_arn=machine,
        payload={"clusters": [f"dw-{unique}"], "action": "pause"},
    )
    target = composition(f"sfn-{unique}", [dw.item])

    assert find_conflicts(aws, target) == [
        schedule_conflict(
            target,
            dw.item,
            f"dw-{unique}",
            group=group,
            name="nightly",
            does=f'starts state machine "nightly-{unique}" with it in the input',
        )
    ]


def test_envctl_managed_group_and_state_machines_are_ignored(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    db = moto_resources.rds_instance(aws_env, f"db-{unique}")
    name = f"own-{unique}"
    own_group = f"envctl-{name}"
    create_group(aws_env, own_group, managed=True)
    create_schedule(
        aws_env,
        group=own_group,
        name="window-start",
        target_arn=universal("rds", "startDBInstance"),
        payload={"DbInstanceIdentifier": f"db-{unique}"},
    )
    own_machine = create_state_machine(aws_env, f"envctl-{name}-stop", managed=True)
    elsewhere = f"ops-{unique}"
    create_group(aws_env, elsewhere)
    create_schedule(
        aws_env,
        group=elsewhere,
        name="stop-via-envctl",
        target_arn=own_machine,
        payload={"db": f"db-{unique}"},
    )

    assert find_conflicts(aws, composition(name, [db.item])) == []


def test_envctl_named_group_without_managed_tag_is_reported(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    db = moto_resources.rds_instance(aws_env, f"db-{unique}")
    group = f"envctl-lookalike-{unique}"
    create_group(aws_env, group)
    create_schedule(
        aws_env,
        group=group,
        name="stop",
        target_arn=universal("rds", "stopDBInstance"),
        payload={"DBInstanceIdentifier": f"db-{unique}"},
    )
    target = composition(f"rds-{unique}", [db.item])

    assert [c.detail for c in find_conflicts(aws, target)] == [
        f'EventBridge Scheduler schedule "{group}/stop" calls rds:stopDBInstance on it '
        "at cron 0 19 ? * MON-FRI * (Europe/Amsterdam)"
    ]


def test_schedules_for_other_resources_or_disabled_are_not_reported(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    db = moto_resources.rds_instance(aws_env, f"db-{unique}")
    group = f"ops-{unique}"
    create_group(aws_env, group)
    create_schedule(
        aws_env,
        group=group,
        name="other-db",
        target_arn=universal("rds", "stopDBInstance"),
        payload={"DbInstanceIdentifier": f"other-db-{unique}"},
    )
    create_schedule(
        aws_env,
        group=group,
        name="read-only",
        target_arn=universal("rds", "describeDBInstances"),
        payload={"DbInstanceIdentifier": f"db-{unique}"},
    )
    create_schedule(
        aws_env,
        group=group,
        name="disabled",
        target_arn=universal("rds", "stopDBInstance"),
        payload={"DbInstanceIdentifier": f"db-{unique}"},
        state="DISABLED",
    )

    assert find_conflicts(aws, composition(f"rds-{unique}", [db.item])) == []


def test_one_listing_serves_several_compositions(aws_env: Emulator, aws: Aws, unique: str) -> None:
    first = moto_resources.rds_instance(aws_env, f"first-{unique}")
    second = moto_resources.rds_cluster(aws_env, f"second-{unique}")
    group = f"ops-{unique}"
    create_group(aws_env, group)
    create_schedule(
        aws_env,
        group=group,
        name="stop-first",
        target_arn=universal("rds", "stopDBInstance"),
        payload={"DbInstanceIdentifier": f"first-{unique}"},
    )
    create_schedule(
        aws_env,
        group=group,
        name="stop-second",
        target_arn=universal("rds", "stopDBCluster"),
        payload={"DbClusterIdentifier": f"second-{unique}"},
    )
    listing = list_foreign_schedules(aws)
    clients = RecordingClients(aws)

    found = [
        find_conflicts(clients, composition(f"{label}-{unique}", [item]), foreign_schedules=listing)
        for label, item in (("first", first.item), ("second", second.item))
    ]

    assert [[c.resource_id for c in conflicts] for conflicts in found] == [
        [f"first-{unique}"],
        [f"second-{unique}"],
    ]
    assert not [call for call in clients.calls if call[0] == "scheduler"]


def test_calls_are_bounded_and_read_only(aws_env: Emulator, aws: Aws, unique: str) -> None:
    db = moto_resources.rds_instance(aws_env, f"db-{unique}")
    service = moto_resources.ecs_service(aws_env, f"shop-{unique}")
    # A group that does not exist costs the same calls as one that does, and is faster.
    group = {
        "type": "auto_scaling_group",
        "params": {"name": f"w-{unique}", "min": 0, "max": 1, "desired": 0},
    }
    clients = RecordingClients(aws)
    target = composition(f"bounded-{unique}", [db.item, group, service.item])

    find_conflicts(clients, target)

    scheduler_listings = [c for c in clients.calls if c[1].startswith("list_schedule")]
    assert scheduler_listings == [
        ("scheduler", "list_schedule_groups"),
        ("scheduler", "list_schedules"),
    ]
    assert clients.calls.count(("rds", "describe_db_instances")) == 1  # one read per source
    assert all(op.startswith(("describe_", "list_", "get_")) for _, op in clients.calls)


# --- AWS Instance Scheduler -------------------------------------------------------------


def _tag_ec2(em: Emulator, item: dict[str, Any]) -> None:
    em.client("ec2").create_tags(
        Resources=[item["params"]["id"]], Tags=[{"Key": "Schedule", "Value": "office-hours"}]
    )


def _tag_rds_instance(em: Emulator, item: dict[str, Any]) -> None:
    rds = em.client("rds")
    found = rds.describe_db_instances(DBInstanceIdentifier=item["params"]["id"])
    rds.add_tags_to_resource(
        ResourceName=found["DBInstances"][0]["DBInstanceArn"],
        Tags=[{"Key": "Schedule", "Value": "office-hours"}],
    )


def _tag_rds_cluster(em: Emulator, item: dict[str, Any]) -> None:
    rds = em.client("rds")
    found = rds.describe_db_clusters(DBClusterIdentifier=item["params"]["id"])
    rds.add_tags_to_resource(
        ResourceName=found["DBClusters"][0]["DBClusterArn"],
        Tags=[{"Key": "Schedule", "Value": "office-hours"}],
    )


def _tag_asg(em: Emulator, item: dict[str, Any]) -> None:
    em.client("autoscaling").create_or_update_tags(
        Tags=[
            {
                "ResourceId": item["params"]["name"],
                "ResourceType": "auto-scaling-group",
                "Key": "Schedule",
                "Value": "office-hours",
                "PropagateAtLaunch": False,
            }
        ]
    )


@pytest.mark.parametrize(
    ("factory", "tag"),
    [
        (moto_resources.ec2_instance, _tag_ec2),
        (moto_resources.rds_instance, _tag_rds_instance),
        (moto_resources.rds_cluster, _tag_rds_cluster),
        (moto_resources.auto_scaling_group, _tag_asg),
    ],
    ids=["ec2_instance", "rds_instance", "rds_cluster", "auto_scaling_group"],
)
def test_instance_scheduler_tag_is_reported(
    aws_env: Emulator, aws: Aws, unique: str, factory: Any, tag: Any
) -> None:
    created = factory(aws_env, f"tagged-{unique}")
    tag(aws_env, created.item)
    target = composition(f"tagged-{unique}", [created.item])
    params = created.item["params"]

    assert find_conflicts(aws, target) == [
        Conflict(
            composition=target.name,
            resource_type=created.item["type"],
            resource_id=params.get("id") or params.get("name"),
            source=ConflictSource.INSTANCE_SCHEDULER_TAG,
            detail='Tag "Schedule" = "office-hours" puts this resource under AWS Instance '
            'Scheduler\'s "office-hours" schedule, which starts and stops it on its own',
            hint='Remove the "Schedule" tag so that Instance Scheduler leaves the resource to '
            "envctl, or take the resource out of the composition.",
        )
    ]


# --- denied APIs ------------------------------------------------------------------------


def test_denied_source_is_skipped_and_others_still_checked(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    name = f"workers-{unique}"
    group = moto_resources.auto_scaling_group(aws_env, name)
    aws_env.client("autoscaling").put_scheduled_update_group_action(
        AutoScalingGroupName=name,
        ScheduledActionName="morning",
        Recurrence="0 7 * * *",
        DesiredCapacity=3,
    )
    _tag_asg(aws_env, group.item)
    second = {
        "type": "auto_scaling_group",
        "params": {"name": f"more-{unique}", "min": 0, "max": 1, "desired": 0},
    }
    clients = RecordingClients(
        aws,
        deny=(("autoscaling", "describe_scheduled_actions"), ("scheduler", "list_schedule_groups")),
    )

    conflicts = find_conflicts(clients, composition(f"denied-{unique}", [group.item, second]))

    assert [c.source for c in conflicts] == [ConflictSource.INSTANCE_SCHEDULER_TAG]
    # A denied API is asked once per call, not once per resource.
    assert clients.calls.count(("autoscaling", "describe_scheduled_actions")) == 1
    assert clients.calls.count(("scheduler", "list_schedule_groups")) == 1


# --- pure matching ----------------------------------------------------------------------

RDS_ARN = f"arn:aws:rds:eu-west-1:{ACCOUNT}:db:db1"
ECS_ARN = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/shop/api"


@pytest.mark.parametrize(
    ("item", "service", "action", "payload", "expected"),
    [
        (
            {"type": "rds_instance", "params": {"id": "db1"}},
            "rds",
            "stopDBInstance",
            {"DBInstanceIdentifier": "db1"},
            True,
        ),
        (
            {"type": "rds_instance", "params": {"id": "db1"}},
            "rds",
            "stopDBInstance",
            {"DbInstanceIdentifier": RDS_ARN},
            True,
        ),
        (
            {"type": "rds_instance", "params": {"id": "db1"}},
            "rds",
            "stopDBCluster",
            {"DbClusterIdentifier": "db1"},
            False,
        ),
        (
            {"type": "rds_instance", "params": {"id": "db1"}},
            "docdb",
            "stopDBInstance",
            {"DbInstanceIdentifier": "db1"},
            False,
        ),
        (
            {"type": "ec2_instance", "params": {"id": "i-1"}},
            "ec2",
            "stopInstances",
            {"InstanceIds": ["i-0", "i-1"]},
            True,
        ),
        (
            {"type": "ec2_instance", "params": {"id": "i-1"}},
            "ec2",
            "describeInstances",
            {"InstanceIds": ["i-1"]},
            False,
        ),
        (
            {
                "type": "ecs_service",
                "params": {"cluster_name": "shop", "name": "api", "desired": 1},
            },
            "ecs",
            "updateService",
            {"Service": ECS_ARN, "DesiredCount": 0},
            True,
        ),
        (
            {
                "type": "ecs_service",
                "params": {"cluster_name": "shop", "name": "api", "desired": 1},
            },
            "ecs",
            "updateService",
            {"Cluster": "other", "Service": "api"},
            False,
        ),
        (
            {
                "type": "ecs_service",
                "params": {"cluster_name": "shop", "name": "api", "desired": 1},
            },
            "applicationautoscaling",
            "registerScalableTarget",
            {"ResourceId": "service/shop/api", "MinCapacity": 0},
            True,
        ),
        (
            {
                "type": "auto_scaling_group",
                "params": {"name": "workers", "min": 0, "max": 1, "desired": 0},
            },
            "autoscaling",
            "setDesiredCapacity",
            {"AutoScalingGroupName": "workers"},
            True,
        ),
        (
            {
                "type": "efs_file_system",
                "params": {"id": "fs-1", "provisioned_throughput_in_mibps": 8},
            },
            "efs",
            "updateFileSystem",
            {"FileSystemId": "fs-1"},
            True,
        ),
        (
            {"type": "redshift_cluster", "params": {"id": "dw"}},
            "redshift",
            "pauseCluster",
            parse_input("not json"),
            False,
        ),
    ],
)
def test_universal_target_matching(
    item: dict[str, Any], service: str, action: str, payload: Any, expected: bool
) -> None:
    resource = composition("table", [item]).items()[0]
    identity = resource.kind.schedule_identity(resource.params)

    assert identity is not None
    assert identity.called_by(service, action, payload) is expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"targets": ["shop/api"]}, True),
        ({"cluster": "shop", "service": "api"}, True),
        ({"arn": ECS_ARN}, True),
        ({"service": "api"}, False),
        ("restart shop/api tonight", False),
        (None, False),
    ],
)
def test_state_machine_input_mentions(payload: Any, expected: bool) -> None:
    item = {"type": "ecs_service", "params": {"cluster_name": "shop", "name": "api", "desired": 1}}
    resource = composition("table", [item]).items()[0]

    identity = resource.kind.schedule_identity(resource.params)

    assert identity is not None
    assert identity.mentioned_in(payload) is expected


def test_every_kind_with_a_resource_is_known_by_the_services_its_machines_call() -> None:
    """A schedule making the same SDK calls as envctl's own machines is looked at."""
    sdk_services, arn_services = targeted_services()
    for kind in REGISTRY.values():
        identity = kind.schedule_identity(kind.example)
        if not kind.has_resource:
            assert identity is None, kind.type_name
            continue
        assert identity is not None, kind.type_name
        item = {"type": kind.type_name, "params": kind.example.model_dump(exclude_none=True)}
        called = {
            resource.split(":")[-2]
            for action in Action
            for resource in _task_resources(build_state_machine(composition("k", [item]), action))
            if ":aws-sdk:" in resource
        }
        acting = {service for service in called if service not in ("dynamodb", "scheduler", "sfn")}
        assert acting and acting <= identity.sdk_services <= sdk_services, kind.type_name
        assert identity.arn_service in arn_services, kind.type_name


def _task_resources(scope: dict[str, Any]) -> list[str]:
    """The Resource of every Task state, in Parallel branches too."""
    found = []
    for state in scope["States"].values():
        if state["Type"] == "Task":
            found.append(str(state["Resource"]))
        for branch in state.get("Branches", []):
            found.extend(_task_resources(branch))
    return found
