"""``envctl status`` of resources that do not exist: ``missing`` with a reason, never an error.

Every kind is covered through the registry: the params of a missing resource are
generated from the kind's params model, so a new kind is checked without a new line
here. Start and stop of a missing resource fail with the resource named.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from bot.settings import WebhookSettings
from bot.webhook_handler import build_api
from infra.demo import EXAMPLE, PLACEHOLDER_INSTANCE, create_demo_resources
from infra.emulator.server import Emulator
from infra.serve import LocalContext
from infra.slack.signing import api_gateway_event
from scheduler_core.aws import Aws
from scheduler_core.cli.main import main
from scheduler_core.config import parse_config
from scheduler_core.resources import REGISTRY, Action, ResourceKind, ResourceState
from scheduler_core.runtime import read_status
from tests.functional import moto_resources
from tests.functional.helpers import composition, run

KINDS_WITH_RESOURCES = sorted(
    (kind for kind in REGISTRY.values() if kind.has_resource), key=lambda kind: kind.type_name
)
KIND_IDS = [kind.type_name for kind in KINDS_WITH_RESOURCES]
FAILURES = {"envctl.ResourceFailed", "envctl.ResourceMissing"}
API_KEY = "status-missing-key-5e1d7c"
SIZES = {"min": 1, "max": 1, "desired": 1}


def missing_params(kind: ResourceKind, unique: str) -> dict[str, Any]:
    """Valid params naming nothing that exists: a name per kind and text field, 8 per number
    (a count every kind accepts, and a throughput FSx accepts)."""
    params: dict[str, Any] = {}
    for name, field in kind.params_model.model_fields.items():
        if not field.is_required():
            continue
        if field.annotation is str:
            params[name] = f"gone-{kind.type_name}-{name}-{unique}".replace("_", "-")
        elif field.annotation in (int, float):
            params[name] = 8
        else:
            raise AssertionError(
                f"{kind.type_name}.{name}: no missing value for {field.annotation}"
            )
    return params


def missing_item(kind: ResourceKind, unique: str) -> dict[str, Any]:
    return {"type": kind.type_name, "params": missing_params(kind, unique)}


def names_in(item: dict[str, Any]) -> list[str]:
    return [value for value in item["params"].values() if isinstance(value, str)]


def test_only_kinds_without_a_resource_are_left_out() -> None:
    left_out = [kind for kind in REGISTRY.values() if not kind.has_resource]

    assert KINDS_WITH_RESOURCES, "no kind manages a resource"
    for kind in left_out:
        params = kind.params_model.model_validate(missing_params(kind, "x"))
        assert kind.read_status(params, lambda service: None) is None, kind.type_name


# --- read_status: every kind ---------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS_WITH_RESOURCES, ids=KIND_IDS)
def test_status_of_a_missing_resource_is_missing_with_what_was_not_found(
    kind: ResourceKind, aws_env: Emulator, aws: Aws, unique: str
) -> None:
    item = missing_item(kind, unique)

    status = read_status(aws, composition(f"m-{unique}", [item]), table_name="envctl")

    (resource,) = status.resources
    assert resource.type == kind.type_name
    assert resource.state is ResourceState.MISSING
    assert "not found" in resource.detail, resource.detail
    assert any(name in resource.detail for name in names_in(item)), resource.detail
    assert status.state == "partial"


def test_status_json_of_every_missing_kind_exits_0(
    aws_env: Emulator, unique: str, write_config: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    items = [missing_item(kind, unique) for kind in KINDS_WITH_RESOURCES]
    items.insert(1, {"type": "wait", "params": {"seconds": 1}})
    name = f"all-{unique}"
    config = write_config(yaml.safe_dump({"compositions": {name: {"resources": items}}}))

    code = main(["status", name, "--json", "-c", str(config)])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    document = json.loads(captured.out)
    assert document["composition"] == name
    assert document["state"] == "partial"
    assert [r["type"] for r in document["resources"]] == KIND_IDS
    read = [item for item in items if item["type"] != "wait"]
    for resource, item in zip(document["resources"], read, strict=True):
        assert resource["state"] == "missing", resource
        assert any(n in resource["detail"] for n in names_in(item)), resource


# --- the reasons, kind by kind -----------------------------------------------------------


def test_ecs_service_of_a_missing_cluster_is_missing(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    item = {
        "type": "ecs_service",
        "params": {"cluster_name": f"nocluster-{unique}", "name": "api", "desired": 1},
    }

    (resource,) = read_status(
        aws, composition(f"c-{unique}", [item]), table_name="envctl"
    ).resources

    assert resource.state is ResourceState.MISSING
    assert resource.id == f"nocluster-{unique}/api"
    assert resource.detail == f"cluster nocluster-{unique} not found"


def test_missing_ecs_service_in_an_existing_cluster_is_missing(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    aws_env.client("ecs").create_cluster(clusterName=f"empty-{unique}")
    item = {
        "type": "ecs_service",
        "params": {"cluster_name": f"empty-{unique}", "name": "ghost", "desired": 1},
    }

    (resource,) = read_status(
        aws, composition(f"c-{unique}", [item]), table_name="envctl"
    ).resources

    assert resource.state is ResourceState.MISSING
    assert resource.detail == f"service ghost not found in cluster empty-{unique}"


def test_deleted_ecs_service_is_missing(aws_env: Emulator, aws: Aws, unique: str) -> None:
    created = moto_resources.ecs_service(aws_env, f"del-{unique}", desired=0)
    aws_env.client("ecs").delete_service(cluster=f"del-{unique}", service="api")

    (resource,) = read_status(
        aws, composition(f"c-{unique}", [created.item]), table_name="envctl"
    ).resources

    assert resource.state is ResourceState.MISSING
    assert resource.detail == f"service api was deleted from cluster del-{unique}"


@pytest.mark.parametrize(
    ("instance_id", "detail"),
    [
        ("i-0123456789abcdef0", "instance i-0123456789abcdef0 not found"),
        ("web-server", "instance web-server not found: not a valid instance id"),
    ],
)
def test_ec2_instance_not_found_or_malformed_is_missing(
    instance_id: str, detail: str, aws_env: Emulator, aws: Aws, unique: str
) -> None:
    item = {"type": "ec2_instance", "params": {"id": instance_id}}

    (resource,) = read_status(
        aws, composition(f"c-{unique}", [item]), table_name="envctl"
    ).resources

    assert resource.state is ResourceState.MISSING
    assert resource.detail == detail


def test_deleted_fsx_file_system_is_missing(aws_env: Emulator, aws: Aws, unique: str) -> None:
    created = moto_resources.fsx_windows_file_system(aws_env, f"del-{unique}")
    system_id = created.item["params"]["id"]
    aws_env.client("fsx").delete_file_system(FileSystemId=system_id)

    (resource,) = read_status(
        aws, composition(f"c-{unique}", [created.item]), table_name="envctl"
    ).resources

    assert resource.state is ResourceState.MISSING
    assert resource.detail == f"file system {system_id} not found"


def test_missing_resource_beside_a_running_one_makes_the_composition_partial(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    present = moto_resources.rds_cluster(aws_env, f"here-{unique}")
    absent = {"type": "auto_scaling_group", "params": {"name": f"gone-{unique}", **SIZES}}

    status = read_status(
        aws, composition(f"c-{unique}", [present.item, absent]), table_name="envctl"
    )

    assert [r.state for r in status.resources] == [ResourceState.RUNNING, ResourceState.MISSING]
    assert status.resources[1].detail == f"Auto Scaling group gone-{unique} not found"
    assert status.state == "partial"


# --- other AWS errors: that resource is unknown, the others are still read ----------------


@pytest.mark.parametrize(
    ("service", "operation", "item"),
    [
        ("rds", "describe_db_instances", {"type": "rds_instance", "params": {"id": "denied"}}),
        (
            "ecs",
            "describe_services",
            {"type": "ecs_service", "params": {"cluster_name": "c", "name": "s", "desired": 1}},
        ),
    ],
)
def test_other_aws_error_makes_that_resource_unknown_and_reads_the_rest(
    service: str, operation: str, item: dict[str, Any], aws_env: Emulator, aws: Aws, unique: str
) -> None:
    # On another service than the stubbed one, so its read reaches the emulator.
    present = moto_resources.ec2_instance(aws_env, f"ok-{unique}")
    stubber = Stubber(aws.client(service))
    stubber.add_client_error(
        operation,
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform this operation",
        http_status_code=403,
    )

    with stubber:
        status = read_status(
            aws, composition(f"c-{unique}", [item, present.item]), table_name="envctl"
        )

    stubber.assert_no_pending_responses()
    denied, readable = status.resources
    assert denied.state is ResourceState.UNKNOWN
    assert denied.detail == "AccessDeniedException: not authorized to perform this operation"
    assert readable.state is ResourceState.RUNNING
    assert status.state == "partial"


# --- start and stop of a missing resource ---------------------------------------------------


@pytest.mark.parametrize("kind", KINDS_WITH_RESOURCES, ids=KIND_IDS)
def test_start_of_a_missing_resource_fails_naming_it(
    kind: ResourceKind, aws_env: Emulator, aws: Aws, unique: str
) -> None:
    item = missing_item(kind, unique)
    target = composition(f"s-{unique}", [item])
    subject = target.items()[0].label

    result = run(aws, target, Action.START)

    assert result.status == "FAILED"
    assert result.error in FAILURES, (result.error, result.cause)
    assert result.cause.startswith(subject), result.cause
    # The describe call's own "not found" answer, not a path into an empty result.
    assert "JSONPath" not in result.cause, result.cause


@pytest.mark.parametrize("action", list(Action))
def test_missing_fsx_file_system_fails_with_file_system_not_found(
    action: Action, aws_env: Emulator, aws: Aws, unique: str
) -> None:
    system_id = f"fs-{unique}0000"
    item = {
        "type": "fsx_windows_file_system",
        "params": {"id": system_id, "throughput_capacity": 64},
    }

    result = run(aws, composition(f"f-{unique}", [item]), action)

    assert result.status == "FAILED"
    assert result.error == "envctl.ResourceFailed"
    assert result.cause.startswith(f"fsx_windows_file_system {system_id}: ")
    assert f"File system '{system_id}' does not exist" in result.cause


# --- the emulator answers like AWS ---------------------------------------------------------


def test_emulator_fsx_describe_of_an_unknown_id_is_file_system_not_found(
    aws_env: Emulator, unique: str
) -> None:
    created = moto_resources.fsx_windows_file_system(aws_env, f"known-{unique}")
    known = created.item["params"]["id"]
    fsx = aws_env.client("fsx")

    with pytest.raises(ClientError) as raised:
        fsx.describe_file_systems(FileSystemIds=[known, "fs-0000000000000dead"])

    assert raised.value.response["Error"]["Code"] == "FileSystemNotFound"
    assert "fs-0000000000000dead" in raised.value.response["Error"]["Message"]
    listed = fsx.describe_file_systems(FileSystemIds=[known])["FileSystems"]
    assert [system["FileSystemId"] for system in listed] == [known]
    everything = fsx.describe_file_systems()["FileSystems"]
    assert known in {system["FileSystemId"] for system in everything}


@pytest.mark.parametrize(
    ("instance_id", "code"),
    [
        ("i-0123456789abcdef0", "InvalidInstanceID.NotFound"),
        ("i-12345678", "InvalidInstanceID.NotFound"),
        ("web-server", "InvalidInstanceID.Malformed"),
    ],
)
def test_emulator_ec2_tells_malformed_ids_from_unknown_ones(
    instance_id: str, code: str, aws_env: Emulator
) -> None:
    ec2 = aws_env.client("ec2")

    for call in (ec2.describe_instances, ec2.start_instances):
        with pytest.raises(ClientError) as raised:
            call(InstanceIds=[instance_id])
        assert raised.value.response["Error"]["Code"] == code, call


# --- the demo's qa composition, whose resources the demo does not create ----------------


@pytest.fixture
def demo_config(aws_env: Emulator, tmp_path: Path) -> Path:
    """The demo's setup (resources and config) in the shared emulator, once per session."""
    existing = aws_env.client("rds").describe_db_clusters()["DBClusters"]
    text = EXAMPLE.read_text()
    if not any(cluster["DBClusterIdentifier"] == "staging-db" for cluster in existing):
        ids = create_demo_resources(aws_env)
        text = text.replace(PLACEHOLDER_INSTANCE, ids["ec2_instance"])
    path = tmp_path / "compositions.yaml"
    path.write_text(text)
    return path


def test_demo_qa_composition_status_shows_its_resources_missing(
    demo_config: Path, aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    qa = parse_config(demo_config.read_text(), path=demo_config).get("qa")

    status = read_status(aws, qa, table_name="envctl")

    assert [(r.type, r.id, r.state, r.detail) for r in status.resources] == [
        ("rds_instance", "qa-db", ResourceState.MISSING, "DB instance qa-db not found"),
        ("ecs_service", "qa/api", ResourceState.MISSING, "cluster qa not found"),
    ]
    assert status.state == "partial"
    assert main(["status", "qa", "--json", "-c", str(demo_config)]) == 0
    assert json.loads(capsys.readouterr().out) == status.as_json()


def test_demo_qa_composition_status_webhook_answers_200(demo_config: Path, aws: Aws) -> None:
    api = build_api(
        WebhookSettings.from_env(
            {"ENVCTL_CONFIG": str(demo_config), "ENVCTL_WEBHOOK_API_KEYS": f"t={API_KEY}"}
        )
    )
    event = api_gateway_event(
        "", {"x-api-key": API_KEY}, path="/webhooks/compositions/qa", method="GET"
    )

    response = api.handle(event, LocalContext())

    assert response["statusCode"] == 200, response["body"]
    qa = parse_config(demo_config.read_text(), path=demo_config).get("qa")
    assert json.loads(response["body"]) == read_status(aws, qa, table_name="envctl").as_json()
