"""EC2 instances: StartInstances / StopInstances."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scheduler_core.asl.fragments import SdkCall
from scheduler_core.conflicts.identity import TargetIdentity, by_id
from scheduler_core.conflicts.tags import tag_value
from scheduler_core.fields import Identifier
from scheduler_core.resources.base import Action, ClientFactory, KindIam, Params, StatusStringKind

if TYPE_CHECKING:
    from scheduler_core.conflicts.reading import SourceReader

MALFORMED = "InvalidInstanceID.Malformed"


class Ec2InstanceParams(Params):
    id: Identifier


class Ec2Instance(StatusStringKind):
    type_name = "ec2_instance"
    params_model = Ec2InstanceParams
    example = Ec2InstanceParams(id="i-0123456789abcdef0")
    iam = KindIam(
        control=("ec2:StartInstances", "ec2:StopInstances"), read=("ec2:DescribeInstances",)
    )
    error_prefix = "Ec2"
    running_status = "running"
    stopped_status = "stopped"
    unusable_statuses = ("shutting-down", "terminated")
    noun = "instance"
    # An id not shaped like an instance id can only name a missing instance.
    missing_codes = (MALFORMED,)

    def label(self, params: Ec2InstanceParams) -> str:
        return params.id

    def action_call(self, params: Ec2InstanceParams, action: Action) -> SdkCall:
        return SdkCall(
            service="ec2",
            action="startInstances" if action is Action.START else "stopInstances",
            parameters={"InstanceIds": [params.id]},
        )

    def describe_call(self, params: Ec2InstanceParams) -> SdkCall:
        return SdkCall(
            service="ec2",
            action="describeInstances",
            parameters={"InstanceIds": [params.id]},
            result_selector={"status.$": "$.Reservations[0].Instances[0].State.Name"},
        )

    def missing_detail(self, label: str, code: str | None) -> str:
        if code == MALFORMED:
            return f"instance {label} not found: not a valid instance id"
        return super().missing_detail(label, code)

    def fetch_status(self, params: Ec2InstanceParams, clients: ClientFactory) -> str | None:
        # An unknown id is InvalidInstanceID.NotFound; once terminated instances are
        # purged (about an hour later) EC2 answers that for them too.
        found = clients("ec2").describe_instances(InstanceIds=[params.id])
        instances = [i for r in found.get("Reservations", []) for i in r.get("Instances", [])]
        return str(instances[0]["State"]["Name"]) if instances else None

    def schedule_identity(self, params: Ec2InstanceParams) -> TargetIdentity:
        return by_id(
            params.id, service="ec2", keys=("instanceids", "instanceid"), arn_prefix="instance/"
        )

    def scheduler_tag(
        self, reader: SourceReader, params: Ec2InstanceParams, key: str
    ) -> str | None:
        tags = reader.collect(
            "ec2",
            "describe_tags",
            "Tags",
            Filters=[
                {"Name": "resource-id", "Values": [params.id]},
                {"Name": "key", "Values": [key]},
            ],
        )
        return tag_value(tags, key)
