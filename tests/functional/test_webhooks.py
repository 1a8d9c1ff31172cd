"""The webhook API (DESIGN §4) against the emulator.

Requests are REST API Gateway proxy events through ``WebhookApi.handle`` (what the
Lambda handler runs), and real HTTP through ``LocalServer``. The effect on AWS is
read back with boto3, independently of envctl's own status code.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from bot import webhook_handler
from bot.webhook_handler import build_api
from bot.webhooks.app import WebhookApi
from bot.webhooks.security import WebhookSettings
from infra.emulator.server import Emulator
from infra.serve import LocalContext, LocalServer
from infra.slack.signing import api_gateway_event
from scheduler_core.aws import Aws
from scheduler_core.cli.main import main
from scheduler_core.runtime import follow
from scheduler_core.runtime.operations import Runtime
from scheduler_core.runtime.store import Store
from scheduler_core.settings import Settings
from tests.functional import moto_resources
from tests.functional.helpers import state_machine_names

NEW_KEY = "new-key-value-7f3a9c1e5b2d"
OLD_KEY = "old-key-value-0d8e6b4a2c1f"
API_KEYS = f"new={NEW_KEY},old={OLD_KEY}"
TABLE = "envctl"
IDEMPOTENCY_PK = "idempotency#webhooks"
JSON_HEADERS = {"Content-Type": "application/json"}
ERROR_STATUSES = {400, 401, 403, 404, 405, 409, 413, 422}


@dataclass
class Response:
    status: int
    body: Any
    raw: str


@dataclass
class Hooks:
    """One config file (several compositions) and an API built on it."""

    em: Emulator
    config_path: Path
    api: WebhookApi
    app: str  # one EC2 instance
    slow: str  # a wait of a few seconds
    fenced: str  # its own webhooks.ip_allowlist
    instance: moto_resources.Created

    def build(self, **env: str) -> WebhookApi:
        """Another API on the same config and table (another Lambda container)."""
        variables = {"ENVCTL_WEBHOOK_API_KEYS": API_KEYS, **env}
        return build_api(
            settings=Settings(config_path=str(self.config_path)),
            webhook_settings=WebhookSettings.from_env(variables),
        )

    def call(
        self,
        method: str,
        path: str,
        body: str = "",
        headers: dict[str, str] | None = None,
        *,
        key: str | None = NEW_KEY,
        ip: str = "127.0.0.1",
        api: WebhookApi | None = None,
    ) -> Response:
        sent = dict(JSON_HEADERS) if body else {}
        if key is not None:
            sent["x-api-key"] = key
        sent.update(headers or {})
        event = api_gateway_event(body, sent, path=path, method=method, source_ip=ip)
        result = (api or self.api).handle(event, LocalContext())
        return parse(result["statusCode"], result["body"])


def parse(status: int, raw: str) -> Response:
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    return Response(status=status, body=body, raw=raw)


@pytest.fixture
def hooks(aws_env: Emulator, unique: str, tmp_path: Path) -> Hooks:
    instance = moto_resources.ec2_instance(aws_env, f"i-{unique}")
    names = {"app": f"wh-app-{unique}", "slow": f"wh-slow-{unique}", "fenced": f"wh-fen-{unique}"}
    compositions = {
        names["app"]: {"resources": [instance.item]},
        names["slow"]: {"resources": [{"type": "wait", "params": {"seconds": 4}}]},
        names["fenced"]: {
            "webhooks": {"ip_allowlist": ["192.0.2.0/24"]},
            "resources": [{"type": "wait", "params": {"seconds": 1}}],
        },
    }
    config_path = tmp_path / "compositions.yaml"
    config_path.write_text(yaml.safe_dump({"compositions": compositions}))
    api = build_api(
        settings=Settings(config_path=str(config_path)),
        webhook_settings=WebhookSettings.from_env({"ENVCTL_WEBHOOK_API_KEYS": API_KEYS}),
    )
    return Hooks(em=aws_env, config_path=config_path, api=api, instance=instance, **names)


# --- reading AWS with boto3 ------------------------------------------------------------


def executions(em: Emulator, composition: str, action: str) -> list[str]:
    """ARNs of every execution of the composition's start or stop state machine."""
    sfn = em.client("stepfunctions")
    name = f"envctl-{composition}-{action}"
    if name not in state_machine_names(sfn):
        return []
    arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=arn)
    return [execution["executionArn"] for page in pages for execution in page["executions"]]


def finish(execution_arn: str) -> None:
    result = follow(Aws(), execution_arn, poll_seconds=0.1, timeout_seconds=60)
    assert result.succeeded, result.cause


def idempotency_items(em: Emulator) -> list[dict[str, Any]]:
    found = em.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": IDEMPOTENCY_PK}},
        ConsistentRead=True,
    )
    return list(found["Items"])


def assert_error(response: Response, status: int, code: str) -> None:
    """The contract's error: exactly {"error", "message"}, a sentence, no stack trace."""
    assert response.status == status, response.raw
    assert isinstance(response.body, dict), response.raw
    assert set(response.body) == {"error", "message"}, response.raw
    assert response.body["error"] == code
    assert isinstance(response.body["message"], str) and response.body["message"].strip()
    assert "Traceback" not in response.raw and 'File "' not in response.raw


# --- every route's success, with AWS really changing -----------------------------------


def test_stop_answers_202_with_exactly_the_contract_keys_and_stops_the_instance(
    hooks: Hooks,
) -> None:
    response = hooks.call("POST", f"/webhooks/compositions/{hooks.app}/stop")

    assert response.status == 202, response.raw
    assert set(response.body) == {"composition", "action", "executionArn"}
    assert response.body["composition"] == hooks.app
    assert response.body["action"] == "stop"
    assert executions(hooks.em, hooks.app, "stop") == [response.body["executionArn"]]
    finish(response.body["executionArn"])
    assert hooks.instance.read() == "stopped"


def test_start_answers_202_and_starts_the_stopped_instance(hooks: Hooks) -> None:
    stopped = hooks.call("POST", f"/webhooks/compositions/{hooks.app}/stop")
    finish(stopped.body["executionArn"])
    assert hooks.instance.read() == "stopped"

    response = hooks.call("POST", f"/webhooks/compositions/{hooks.app}/start")

    assert response.status == 202, response.raw
    # "auto_stop_at"? is optional: absent (not null) when nothing will stop it.
    assert set(response.body) == {"composition", "action", "executionArn"}, response.raw
    assert response.body["composition"] == hooks.app
    assert response.body["action"] == "start"
    assert executions(hooks.em, hooks.app, "start") == [response.body["executionArn"]]
    finish(response.body["executionArn"])
    assert hooks.instance.read() == "running"


def test_start_with_duration_returns_auto_stop_at_and_creates_the_auto_stop_schedule(
    hooks: Hooks,
) -> None:
    response = hooks.call(
        "POST", f"/webhooks/compositions/{hooks.app}/start", json.dumps({"duration": "2h"})
    )

    assert response.status == 202, response.raw
    assert set(response.body) == {"composition", "action", "executionArn", "auto_stop_at"}
    schedule = hooks.em.client("scheduler").get_schedule(
        GroupName=f"envctl-{hooks.app}", Name="auto-stop"
    )
    at = response.body["auto_stop_at"][:19]  # 2026-11-27T12:01:00+00:00 → no offset
    assert schedule["ScheduleExpression"] == f"at({at})"
    assert schedule["Target"]["Arn"].endswith(f"envctl-{hooks.app}-stop")
    assert executions(hooks.em, hooks.app, "start") == [response.body["executionArn"]]


def test_status_route_returns_the_status_json_document_of_the_cli(
    hooks: Hooks, capsys: pytest.CaptureFixture[str]
) -> None:
    response = hooks.call("GET", f"/webhooks/compositions/{hooks.app}")

    assert response.status == 200, response.raw
    capsys.readouterr()
    assert main(["status", hooks.app, "--json", "-c", str(hooks.config_path)]) == 0
    assert response.body == json.loads(capsys.readouterr().out)
    assert response.body["resources"][0]["state"] == "running"


def test_list_route_returns_every_composition_with_its_recorded_state(hooks: Hooks) -> None:
    stopped = hooks.call("POST", f"/webhooks/compositions/{hooks.app}/stop")
    finish(stopped.body["executionArn"])

    response = hooks.call("GET", "/webhooks/compositions")

    assert response.status == 200, response.raw
    assert set(response.body) == {"compositions"}
    listed = {entry["name"]: entry for entry in response.body["compositions"]}
    assert set(listed) == {hooks.app, hooks.slow, hooks.fenced}
    assert all(set(entry) == {"name", "state"} for entry in listed.values())
    recorded = hooks.em.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": f"composition#{hooks.app}"}, "sk": {"S": "state"}}
    )["Item"]["state"]["S"]
    assert listed[hooks.app]["state"] == recorded
    assert listed[hooks.slow]["state"] == "unknown"


# --- every error: status, {"error", "message"}, no stack trace --------------------------


def test_non_json_body_is_400(hooks: Hooks) -> None:
    response = hooks.call("POST", f"/webhooks/compositions/{hooks.app}/start", "not json {")

    assert_error(response, 400, "bad_request")
    assert executions(hooks.em, hooks.app, "start") == []


def test_json_array_body_is_400(hooks: Hooks) -> None:
    response = hooks.call("POST", f"/webhooks/compositions/{hooks.app}/start", '["2h"]')

    assert_error(response, 400, "bad_request")


def test_whitespace_only_body_is_not_a_422_json_decode_error(hooks: Hooks) -> None:
    """A blank body is no body (202) or malformed JSON (400), never a 422 about 'JSON'."""
    response = hooks.call("POST", f"/webhooks/compositions/{hooks.slow}/stop", "   ")

    assert response.status in {202, 400}, response.raw


def test_missing_key_is_401(hooks: Hooks) -> None:
    response = hooks.call("POST", f"/webhooks/compositions/{hooks.app}/start", key=None)

    assert_error(response, 401, "unauthorized")
    assert executions(hooks.em, hooks.app, "start") == []


def test_wrong_key_is_401(hooks: Hooks) -> None:
    response = hooks.call("GET", "/webhooks/compositions", key=NEW_KEY + "x")

    assert_error(response, 401, "unauthorized")


def test_source_outside_the_deployment_allowlist_is_403(hooks: Hooks) -> None:
    api = hooks.build(ENVCTL_WEBHOOK_IP_ALLOWLIST="10.0.0.0/8")

    response = hooks.call("GET", "/webhooks/compositions", ip="203.0.113.9", api=api)

    assert_error(response, 403, "forbidden")


def test_source_outside_the_compositions_own_allowlist_is_403_and_starts_nothing(
    hooks: Hooks,
) -> None:
    response = hooks.call("POST", f"/webhooks/compositions/{hooks.fenced}/start", ip="198.51.100.7")

    assert_error(response, 403, "forbidden")
    assert executions(hooks.em, hooks.fenced, "start") == []


def test_source_inside_the_compositions_own_allowlist_may_start_it(hooks: Hooks) -> None:
    response = hooks.call("POST", f"/webhooks/compositions/{hooks.fenced}/start", ip="192.0.2.10")

    assert response.status == 202, response.raw


def test_unknown_composition_is_404(hooks: Hooks, unique: str) -> None:
    response = hooks.call("POST", f"/webhooks/compositions/ghost-{unique}/start")

    assert_error(response, 404, "not_found")


def test_unknown_route_is_404(hooks: Hooks) -> None:
    response = hooks.call("GET", "/webhooks/nothing/here")

    assert_error(response, 404, "not_found")


def test_wrong_method_is_405(hooks: Hooks) -> None:
    response = hooks.call("GET", f"/webhooks/compositions/{hooks.app}/start")

    assert_error(response, 405, "method_not_allowed")


def test_start_while_a_stop_is_running_is_409_and_starts_nothing(hooks: Hooks) -> None:
    stopping = hooks.call("POST", f"/webhooks/compositions/{hooks.slow}/stop")
    assert stopping.status == 202, stopping.raw

    response = hooks.call("POST", f"/webhooks/compositions/{hooks.slow}/start")

    assert_error(response, 409, "conflict")
    assert executions(hooks.em, hooks.slow, "start") == []


def test_body_of_17_kb_is_413(hooks: Hooks) -> None:
    body = json.dumps({"reason": "x" * 17 * 1024})

    response = hooks.call("POST", f"/webhooks/compositions/{hooks.app}/start", body)

    assert_error(response, 413, "payload_too_large")


def test_duration_of_5y_is_422(hooks: Hooks) -> None:
    response = hooks.call(
        "POST", f"/webhooks/compositions/{hooks.app}/start", json.dumps({"duration": "5y"})
    )

    assert_error(response, 422, "invalid_field")
    assert "duration" in response.body["message"]
    assert executions(hooks.em, hooks.app, "start") == []


def test_unknown_field_is_422(hooks: Hooks) -> None:
    response = hooks.call(
        "POST", f"/webhooks/compositions/{hooks.app}/start", json.dumps({"durration": "2h"})
    )

    assert_error(response, 422, "invalid_field")
    assert "durration" in response.body["message"]


def test_same_idempotency_key_with_another_body_is_422(hooks: Hooks, unique: str) -> None:
    path = f"/webhooks/compositions/{hooks.app}/start"
    headers = {"Idempotency-Key": f"idem-{unique}"}
    first = hooks.call("POST", path, json.dumps({"duration": "1h"}), headers)
    assert first.status == 202, first.raw

    response = hooks.call("POST", path, json.dumps({"duration": "3h"}), headers)

    assert_error(response, 422, "invalid_field")
    assert executions(hooks.em, hooks.app, "start") == [first.body["executionArn"]]


def test_json_body_with_a_non_json_content_type_is_answered_in_the_contract_shape(
    hooks: Hooks,
) -> None:
    """``curl -d`` and urllib send form/text content types; errors keep the shape."""
    response = hooks.call(
        "POST",
        f"/webhooks/compositions/{hooks.slow}/stop",
        json.dumps({"reason": "deploy"}),
        {"Content-Type": "text/plain"},
    )

    assert response.status < 500, response.raw
    if response.status >= 400:
        assert isinstance(response.body, dict) and set(response.body) == {"error", "message"}, (
            response.raw
        )


# --- idempotency -------------------------------------------------------------------------


def test_replayed_idempotency_key_returns_the_same_execution_and_starts_one(
    hooks: Hooks, unique: str
) -> None:
    path = f"/webhooks/compositions/{hooks.app}/start"
    headers = {"Idempotency-Key": f"idem-{unique}"}

    first = hooks.call("POST", path, "", headers)
    second = hooks.call("POST", path, "", headers)

    assert first.status == second.status == 202, (first.raw, second.raw)
    assert second.body == first.body
    assert executions(hooks.em, hooks.app, "start") == [first.body["executionArn"]]


def test_duplicate_idempotency_key_while_the_first_is_in_progress_is_409(
    hooks: Hooks, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two containers, one table: the second sees the first's INPROGRESS record."""
    entered, release = threading.Event(), threading.Event()
    original = Runtime.start

    def slow_start(self: Runtime, *args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(30)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Runtime, "start", slow_start)
    path = f"/webhooks/compositions/{hooks.app}/start"
    headers = {"Idempotency-Key": f"idem-{unique}"}
    results: list[Response] = []
    first = threading.Thread(target=lambda: results.append(hooks.call("POST", path, "", headers)))
    first.start()
    try:
        assert entered.wait(30), "the first request never reached Runtime.start"
        statuses = [item.get("status", {}).get("S") for item in idempotency_items(hooks.em)]
        assert "INPROGRESS" in statuses

        response = hooks.call("POST", path, "", headers, api=hooks.build())
    finally:
        release.set()
        first.join(60)

    assert_error(response, 409, "conflict")
    assert [result.status for result in results] == [202]
    assert executions(hooks.em, hooks.app, "start") == [results[0].body["executionArn"]]


# --- keys, rotation and audit --------------------------------------------------------------


@pytest.mark.parametrize("key", [NEW_KEY, OLD_KEY], ids=["new", "old"])
def test_both_rotated_keys_are_accepted(hooks: Hooks, key: str) -> None:
    response = hooks.call("GET", "/webhooks/compositions", key=key)

    assert response.status == 200, response.raw


def test_audit_records_the_key_name_and_never_its_value(hooks: Hooks, aws: Aws) -> None:
    response = hooks.call(
        "POST", f"/webhooks/compositions/{hooks.app}/start", json.dumps({"reason": "CHG-42"})
    )
    assert response.status == 202, response.raw

    entries = Store(aws, "envctl").history(hooks.app)

    assert [(e.who, e.what, e.via) for e in entries] == [
        ("api key new (CHG-42)", "start", "webhook")
    ]
    everything = json.dumps(hooks.em.client("dynamodb").scan(TableName=TABLE)["Items"], default=str)
    assert NEW_KEY not in everything and OLD_KEY not in everything


# --- source addresses ------------------------------------------------------------------


def test_ipv6_source_inside_an_ipv6_allowlist_is_allowed(hooks: Hooks) -> None:
    api = hooks.build(ENVCTL_WEBHOOK_IP_ALLOWLIST="2001:db8::/32")

    response = hooks.call("GET", "/webhooks/compositions", ip="2001:db8::5", api=api)

    assert response.status == 200, response.raw


def test_ipv6_source_outside_an_ipv6_allowlist_is_403(hooks: Hooks) -> None:
    api = hooks.build(ENVCTL_WEBHOOK_IP_ALLOWLIST="2001:db8::/32")

    response = hooks.call("GET", "/webhooks/compositions", ip="2001:db9::1", api=api)

    assert_error(response, 403, "forbidden")


def test_spoofed_x_forwarded_for_from_a_refused_source_is_ignored(hooks: Hooks) -> None:
    api = hooks.build(ENVCTL_WEBHOOK_IP_ALLOWLIST="10.0.0.0/8")

    response = hooks.call(
        "POST",
        f"/webhooks/compositions/{hooks.app}/start",
        headers={"X-Forwarded-For": "10.0.0.1"},
        ip="203.0.113.9",
        api=api,
    )

    assert_error(response, 403, "forbidden")
    assert executions(hooks.em, hooks.app, "start") == []


def test_spoofed_x_forwarded_for_does_not_pass_a_compositions_own_allowlist(
    hooks: Hooks,
) -> None:
    response = hooks.call(
        "POST",
        f"/webhooks/compositions/{hooks.fenced}/start",
        headers={"X-Forwarded-For": "192.0.2.10"},
        ip="198.51.100.7",
    )

    assert_error(response, 403, "forbidden")


# --- logs ------------------------------------------------------------------------------------


@pytest.fixture
def lambda_log(hooks: Hooks, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[io.StringIO, Any]]:
    """What the Lambda handler's Powertools Logger writes (stdout there), at DEBUG.

    The table is missing, so AWS calls fail and the handler logs an exception.
    """
    monkeypatch.setenv("ENVCTL_CONFIG", str(hooks.config_path))
    monkeypatch.setenv("ENVCTL_TABLE", "envctl-missing-table")
    monkeypatch.setenv("ENVCTL_WEBHOOK_API_KEYS", API_KEYS)
    webhook_handler.api.cache_clear()
    logger = webhook_handler.logger
    level = logger.log_level
    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)
    logger.setLevel("DEBUG")
    try:
        yield buffer, webhook_handler.handler
    finally:
        logger.setLevel(level)
        logger.registered_handler.setStream(previous)
        webhook_handler.api.cache_clear()


def test_logs_never_contain_the_api_key_or_the_body(
    hooks: Hooks, lambda_log: tuple[io.StringIO, Any], unique: str
) -> None:
    buffer, handler = lambda_log
    marker = f"MARKER-{unique}-body"
    requests = [
        ("POST", f"/webhooks/compositions/{hooks.app}/start", {"reason": marker}, NEW_KEY),
        ("GET", "/webhooks/compositions", {}, OLD_KEY),
        ("POST", f"/webhooks/compositions/{hooks.app}/start", {marker: "x"}, NEW_KEY),
        ("POST", f"/webhooks/compositions/{hooks.app}/start", {"reason": marker}, marker),
    ]
    statuses = []
    for method, path, body, key in requests:
        text = json.dumps(body) if body else ""
        headers = {**JSON_HEADERS, "x-api-key": key}
        event = api_gateway_event(text, headers, path=path, method=method)
        statuses.append(handler(event, LocalContext())["statusCode"])

    assert statuses == [502, 502, 422, 401]
    logged = buffer.getvalue()
    assert "AWS call failed" in logged  # the failures were logged, with their traceback
    assert NEW_KEY not in logged and OLD_KEY not in logged
    assert marker not in logged


def test_idempotency_store_failure_is_answered_as_an_aws_error(hooks: Hooks, unique: str) -> None:
    """DynamoDB failing under Powertools idempotency is an AWS error like any other."""
    api = build_api(
        settings=Settings(config_path=str(hooks.config_path), table_name="envctl-missing"),
        webhook_settings=WebhookSettings.from_env({"ENVCTL_WEBHOOK_API_KEYS": API_KEYS}),
    )

    response = hooks.call(
        "POST",
        f"/webhooks/compositions/{hooks.slow}/start",
        headers={"Idempotency-Key": f"idem-{unique}"},
        api=api,
    )

    assert_error(response, 502, "aws_error")


# --- OpenAPI -----------------------------------------------------------------------------------


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow $ref and the nullable anyOf Powertools writes for optional bodies."""
    if "$ref" in schema:
        target: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return resolve(document, target)
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return resolve(document, option)
    return schema


def test_openapi_document_is_served_without_a_key_and_describes_the_four_routes(
    hooks: Hooks,
) -> None:
    response = hooks.call("GET", "/webhooks/openapi.json", key=None)

    assert response.status == 200, response.raw
    document = response.body
    assert str(document["openapi"]).startswith("3.")
    operations = {
        path: set(item) & {"get", "post", "put", "delete", "patch"}
        for path, item in document["paths"].items()
    }
    assert operations["/webhooks/compositions/{name}/start"] == {"post"}
    assert operations["/webhooks/compositions/{name}/stop"] == {"post"}
    assert operations["/webhooks/compositions/{name}"] == {"get"}
    assert operations["/webhooks/compositions"] == {"get"}
    start = document["paths"]["/webhooks/compositions/{name}/start"]["post"]
    body = resolve(document, start["requestBody"]["content"]["application/json"]["schema"])
    assert {"duration", "reason"} <= set(body["properties"])


def test_openapi_document_is_a_valid_openapi_document(hooks: Hooks) -> None:
    response = hooks.call("GET", "/webhooks/openapi.json", key=None)

    validate(response.body)


# --- over real HTTP ------------------------------------------------------------------------


@pytest.fixture
def server(hooks: Hooks) -> Iterator[LocalServer]:
    running = LocalServer(None, webhooks=hooks.api.handle).start()
    yield running
    running.stop()


def http(
    server: LocalServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    request = urllib.request.Request(
        server.url + path, data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return parse(answer.status, answer.read().decode())
    except urllib.error.HTTPError as refused:
        return parse(refused.code, refused.read().decode())


def test_http_start_with_duration_starts_the_composition(hooks: Hooks, server: LocalServer) -> None:
    response = http(
        server,
        "POST",
        f"/webhooks/compositions/{hooks.app}/start",
        json.dumps({"duration": "2h", "reason": "CHG-42"}).encode(),
        {"x-api-key": OLD_KEY, **JSON_HEADERS},
    )

    assert response.status == 202, response.raw
    assert set(response.body) == {"composition", "action", "executionArn", "auto_stop_at"}
    assert executions(hooks.em, hooks.app, "start") == [response.body["executionArn"]]
    finish(response.body["executionArn"])
    assert hooks.instance.read() == "running"


def test_http_request_without_key_is_401(hooks: Hooks, server: LocalServer) -> None:
    response = http(server, "GET", "/webhooks/compositions")

    assert_error(response, 401, "unauthorized")


def test_http_spoofed_x_forwarded_for_is_ignored(hooks: Hooks) -> None:
    api = hooks.build(ENVCTL_WEBHOOK_IP_ALLOWLIST="10.0.0.0/8")
    running = LocalServer(None, webhooks=api.handle).start()
    try:
        response = http(
            running,
            "GET",
            "/webhooks/compositions",
            headers={"x-api-key": NEW_KEY, "X-Forwarded-For": "10.0.0.1"},
        )
    finally:
        running.stop()

    assert_error(response, 403, "forbidden")


def test_http_json_body_with_urllibs_default_form_content_type_is_accepted_or_refused_in_shape(
    hooks: Hooks, server: LocalServer
) -> None:
    """urllib (like ``curl -d``) labels a body application/x-www-form-urlencoded."""
    response = http(
        server,
        "POST",
        f"/webhooks/compositions/{hooks.slow}/stop",
        json.dumps({"reason": "deploy"}).encode(),
        {"x-api-key": NEW_KEY},
    )

    assert response.status < 500, response.raw
    if response.status >= 400:
        assert isinstance(response.body, dict) and set(response.body) == {"error", "message"}, (
            response.raw
        )


# --- property: nothing a caller sends produces a 5xx or another error shape ----------------

HEADER_NAMES = st.one_of(
    st.sampled_from(
        ["Content-Type", "Idempotency-Key", "x-api-key", "X-API-Key", "X-Forwarded-For", "Accept"]
    ),
    st.text(min_size=1, max_size=20),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)
BODIES = st.one_of(
    st.just(""),
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda raw: raw.decode("utf-8", errors="replace")),
    st.dictionaries(
        st.sampled_from(["duration", "reason"]) | st.text(max_size=10), JSON_VALUES, max_size=4
    ).map(json.dumps),
    JSON_VALUES.map(json.dumps),
)
NAMES = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/?#"),
    min_size=1,
    max_size=20,
)


@st.composite
def requests(draw: st.DrawFn, existing: str) -> dict[str, Any]:
    ghost = "ghost-" + draw(NAMES)
    path = draw(
        st.sampled_from(
            [
                "/webhooks/compositions",
                f"/webhooks/compositions/{ghost}",
                f"/webhooks/compositions/{ghost}/start",
                f"/webhooks/compositions/{ghost}/stop",
                f"/webhooks/compositions/{existing}",  # a GET reads AWS, a POST is 405/401
                "/webhooks/openapi.json",
                f"/webhooks/{draw(NAMES)}",
            ]
        )
    )
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
    headers = draw(st.dictionaries(HEADER_NAMES, st.text(max_size=40), max_size=5))
    if draw(st.booleans()):  # a valid key, so the routes themselves are reached
        headers = {k: v for k, v in headers.items() if k.lower() != "x-api-key"}
        headers["x-api-key"] = NEW_KEY
    event = api_gateway_event(draw(BODIES), headers, path=path, method=method)
    if draw(st.integers(0, 4)) == 0:  # a binary body as API Gateway passes it
        event["body"] = base64.b64encode(draw(st.binary(max_size=100))).decode()
        event["isBase64Encoded"] = True
    return event


@given(data=st.data())
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_random_requests_never_get_a_5xx_and_errors_keep_the_contract_shape(
    hooks: Hooks, data: st.DataObject
) -> None:
    event = data.draw(requests(hooks.app))

    result = hooks.api.handle(event, LocalContext())

    status, raw = result["statusCode"], result["body"]
    assert status < 500, raw
    if status >= 400:
        body = json.loads(raw)
        assert isinstance(body, dict) and set(body) == {"error", "message"}, raw
        assert status in ERROR_STATUSES, raw
