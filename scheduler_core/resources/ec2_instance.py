"""EC2 instances: StartInstances / StopInstances."""

from __future__ import annotations

from scheduler_core.asl.fragments import SdkCall
from scheduler_core.fields import Identifier
from scheduler_core.resources.base import Action, ClientFactory, Params, StatusStringKind

MALFORMED = "InvalidInstanceID.Malformed"


class Ec2InstanceParams(Params):
    id: Identifier


class Ec2Instance(StatusStringKind):
    type_name = "ec2_instance"
    params_model = Ec2InstanceParams
    service = "ec2"
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
