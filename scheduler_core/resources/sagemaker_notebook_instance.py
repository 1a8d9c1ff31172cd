"""SageMaker notebook instances: StartNotebookInstance / StopNotebookInstance.

Ready when ``InService`` (start) or ``Stopped`` (stop). ``Pending``, ``Stopping`` and
``Updating`` are waited through; ``Failed`` and ``Deleting`` are unusable. SageMaker
starts only a ``Stopped`` instance and stops only an ``InService`` one, so the loop
calls the action only from there.

An unknown name is not a "not found" code: SageMaker answers ``ValidationException``
with the message ``RecordNotFound``.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from scheduler_core.asl.fragments import SdkCall
from scheduler_core.conflicts.identity import TargetIdentity, by_id
from scheduler_core.fields import Identifier
from scheduler_core.resources.base import (
    Action,
    ClientFactory,
    KindIam,
    Params,
    StatusStringKind,
    error_code,
    error_message,
)

RECORD_NOT_FOUND = "RecordNotFound"


class SagemakerNotebookInstanceParams(Params):
    name: Identifier


class SagemakerNotebookInstance(StatusStringKind):
    type_name = "sagemaker_notebook_instance"
    params_model = SagemakerNotebookInstanceParams
    example = SagemakerNotebookInstanceParams(name="research")
    iam = KindIam(
        control=("sagemaker:StartNotebookInstance", "sagemaker:StopNotebookInstance"),
        read=("sagemaker:DescribeNotebookInstance",),
    )
    error_prefix = "SageMaker"
    running_status = "InService"
    stopped_status = "Stopped"
    unusable_statuses = ("Failed", "Deleting")
    noun = "notebook instance"

    def label(self, params: SagemakerNotebookInstanceParams) -> str:
        return params.name

    def action_call(self, params: SagemakerNotebookInstanceParams, action: Action) -> SdkCall:
        return SdkCall(
            service="sagemaker",
            action="startNotebookInstance" if action is Action.START else "stopNotebookInstance",
            parameters={"NotebookInstanceName": params.name},
        )

    def describe_call(self, params: SagemakerNotebookInstanceParams) -> SdkCall:
        return SdkCall(
            service="sagemaker",
            action="describeNotebookInstance",
            parameters={"NotebookInstanceName": params.name},
            result_selector={"status.$": "$.NotebookInstanceStatus"},
        )

    def fetch_status(
        self, params: SagemakerNotebookInstanceParams, clients: ClientFactory
    ) -> str | None:
        try:
            found = clients("sagemaker").describe_notebook_instance(
                NotebookInstanceName=params.name
            )
        except ClientError as exc:
            if error_code(exc) == "ValidationException" and RECORD_NOT_FOUND in error_message(exc):
                return None
            raise
        return str(found["NotebookInstanceStatus"])

    def schedule_identity(self, params: SagemakerNotebookInstanceParams) -> TargetIdentity:
        return by_id(
            params.name,
            service="sagemaker",
            keys=("notebookinstancename",),
            arn_prefix="notebook-instance/",
        )
