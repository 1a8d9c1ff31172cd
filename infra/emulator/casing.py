"""Make moto's Step Functions AWS SDK integrations behave like the real service.

The real service takes parameters in its own casing (``DbClusterIdentifier``,
``Cluster``, ``DesiredCount``), returns responses in that casing with timestamps
as strings, and names errors ``<Service>.<Exception>`` the way the AWS SDK for
Java v2 names them (``Rds.InvalidDbClusterStateException``; unmodelled errors
become ``Ec2.Ec2Exception``). moto 5.2 passes parameters to boto3 unchanged and
returns boto3's casing, so generated ASL that is right for AWS would fail here.

This module is emulator-only: production code and generated ASL never bend to
moto. ``install()`` fills moto's own normalisation hooks for aws-sdk tasks.
"""

from __future__ import annotations

import base64
import re
from datetime import date, datetime
from functools import cache
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

# Step Functions' service prefixes in error names (the SDK for Java v2 client names).
ERROR_PREFIXES = {
    "application-autoscaling": "ApplicationAutoScaling",
    "autoscaling": "AutoScaling",
    "dynamodb": "DynamoDb",
    "ec2": "Ec2",
    "ecs": "Ecs",
    "efs": "Efs",
    "fsx": "FSx",
    "rds": "Rds",
    "redshift": "Redshift",
    "scheduler": "Scheduler",
    "sfn": "Sfn",
}

# Step Functions service name -> boto3 service name, where they differ.
BOTO_SERVICE_NAMES = {"applicationautoscaling": "application-autoscaling"}

_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")


def sfn_case(member_name: str) -> str:
    """Step Functions casing of a member name: ``DBClusterIdentifier`` → ``DbClusterIdentifier``."""
    words = _WORDS.findall(member_name)
    if not words:
        return member_name
    return "".join(word[:1].upper() + word[1:].lower() for word in words)


@cache
def service_model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def operation_model(service: str, api_action: str) -> OperationModel:
    """The botocore operation for an ASL action such as ``startDBCluster``."""
    return service_model(service).operation_model(api_action[:1].upper() + api_action[1:])


def to_botocore(value: Any, shape: Shape | None) -> Any:
    """Rename Step Functions-cased request keys to botocore member names, recursively."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        members = {name.lower(): name for name in shape.members}
        renamed = {}
        for key, item in value.items():
            member = members.get(key.lower())
            if member is None:
                renamed[key] = item  # unknown: let botocore's validation speak
            else:
                renamed[member] = to_botocore(item, shape.members[member])
        return renamed
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [to_botocore(item, shape.member) for item in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {key: to_botocore(item, shape.value) for key, item in value.items()}
    return value


def to_step_functions(value: Any, shape: Shape | None) -> Any:
    """Rename botocore response keys to Step Functions casing; timestamps become strings."""
    if isinstance(value, dict):
        if isinstance(shape, MapShape):
            return {key: to_step_functions(item, shape.value) for key, item in value.items()}
        members = shape.members if isinstance(shape, StructureShape) else {}
        return {
            sfn_case(key): to_step_functions(item, members.get(key))
            for key, item in value.items()
            if key != "ResponseMetadata"
        }
    if isinstance(value, list):
        member = shape.member if isinstance(shape, ListShape) else None
        return [to_step_functions(item, member) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def error_name(service: str, exc: ClientError) -> str:
    """``Rds.InvalidDbClusterStateException`` for a modelled error, ``Ec2.Ec2Exception`` if not."""
    prefix = ERROR_PREFIXES.get(service) or sfn_case(
        service_model(service).service_id.replace(" ", "")
    )
    code = str(exc.response.get("Error", {}).get("Code", ""))
    for shape in service_model(service).error_shapes:
        if code in (shape.name, shape.metadata.get("error", {}).get("code")):
            base = re.sub(r"(Fault|Exception)$", "", shape.name)
            return f"{prefix}.{sfn_case(base)}Exception"
    return f"{prefix}.{prefix}Exception"


def _service_and_action(task: Any) -> tuple[str, str]:
    return task._get_boto_service_name(), task.resource.api_action


def install() -> None:
    """Fill moto's aws-sdk normalisation hooks (idempotent)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as aws_sdk,
    )

    cls = aws_sdk.StateTaskServiceAwsSdk
    if getattr(cls, "_envctl_casing", False):
        return
    # Step Functions names services as the SDK for Java does; boto3 sometimes differs.
    cls._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES.update(BOTO_SERVICE_NAMES)

    def normalise_parameters(self: Any, parameters: dict[str, Any], *_: Any, **__: Any) -> None:
        service, action = _service_and_action(self)
        renamed = to_botocore(parameters, operation_model(service, action).input_shape)
        parameters.clear()
        parameters.update(renamed)

    def normalise_response(self: Any, response: Any, *_: Any, **__: Any) -> None:
        if not isinstance(response, dict):
            return
        service, action = _service_and_action(self)
        renamed = to_step_functions(response, operation_model(service, action).output_shape)
        response.clear()
        response.update(renamed)

    original_from_error = cls._from_error

    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        if not isinstance(ex, ClientError):
            return original_from_error(self, env, ex)
        service, _ = _service_and_action(self)
        metadata = ex.response.get("ResponseMetadata", {})
        message = ex.response["Error"].get("Message", "")
        cause = (
            f"{message} (Service: {ERROR_PREFIXES.get(service, service)}, "
            f"Status Code: {metadata.get('HTTPStatusCode')}, "
            f"Request ID: {metadata.get('RequestId')})"
        )
        return self._get_task_failure_event(env=env, error=error_name(service, ex), cause=cause)

    # Patching moto's class in place: mypy rightly refuses method assignment.
    cls._normalise_parameters = normalise_parameters  # type: ignore[method-assign]
    cls._normalise_response = normalise_response  # type: ignore[method-assign]
    cls._from_error = from_error  # type: ignore[method-assign]
    setattr(cls, "_envctl_casing", True)  # noqa: B010 (a marker attribute moto lacks)
