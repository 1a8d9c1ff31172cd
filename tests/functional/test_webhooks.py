"""The webhook API (README "Webhooks") against the emulator.

Requests are REST API Gateway proxy events through ``WebhookApi.handle`` (what the
Lambda handler runs), and real HTTP through ``LocalServer``. The effect on AWS is
read back with boto3, independently of envctl's own status code.
"""

from __future__ import annotations

import base64
import hashlib
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
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from bot import webhook_handler
from bot.settings import WebhookSettings
from bot.webhook_handler import build_api
from bot.webhooks.app import WebhookApi
from infra.emulator.server import Emulator
from infra.serve import LocalContext, LocalServer
from infra.slack.signing import api_gateway_event
from scheduler_core.aws import Aws
from scheduler_core.cli.main import main
from scheduler_core.runtime import follow
from scheduler_core.runtime.operations import Runtime
from scheduler_core.runtime.store import Store
from tests.functional import moto_resources
from tests.functional.helpers import deploy_when_first_started, state_machine_names

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
    quick: str  # a wait of 1 second
    instance: moto_resources.Created

    def build(self, **env: str) -> WebhookApi:
        """Another API on the same config and table (another Lambda container)."""
        variables = {"ENVCTL_WEBHOOK_API_KEYS": API_KEYS, **env}
        return build_api(
            WebhookSettings.from_env({"ENVCTL_CONFIG": str(self.config_path), **variables})
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
def hooks(aws_env: Emulator, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Hooks:
    instance = moto_resources.ec2_instance(aws_env, f"i-{unique}")
    names = {
        "app": f"wh-app-{unique}",
        "slow": f"wh-slow-{unique}",
        "fenced": f"wh-fen-{unique}",
        "quick": f"wh-quick-{unique}",
    }
    compositions = {
        names["app"]: {"resources": [instance.item]},
        names["slow"]: {"resources": [{"type": "wait", "params": {"seconds": 4}}]},
        names["fenced"]: {
            "webhooks": {"ip_allowlist": ["192.0.2.0/24"]},
            "resources": [{"type": "wait", "params": {"seconds": 1}}],
        },
        names["quick"]: {"resources": [{"type": "wait", "params": {"seconds": 1}}]},
    }
    config_path = tmp_path / "compositions.yaml"
    config_path.write_text(yaml.safe_dump({"compositions": compositions}))
    deploy_when_first_started(monkeypatch)
    api = build_api(
        WebhookSettings.from_env(
            {"ENVCTL_CONFIG": str(config_path), "ENVCTL_WEBHOOK_API_KEYS": API_KEYS}
        )
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


def assert_error(
    response: Response, status: int, code: str, *, extra: frozenset[str] = frozenset()
) -> None:
    """The contract's error: exactly {"error", "message"}, a sentence, no stack trace."""
    assert response.status == status, response.raw
    assert isinstance(response.body, dict), response.raw
    assert set(response.body) == {"error", "message"} | extra, response.raw
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
    finish(response.body["executionArn"])  # the run may be what creates the schedule
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


def test_list_route_returns_every_composition_the_source_may_see_with_its_recorded_state(
    hooks: Hooks,
) -> None:
    stopped = hooks.call("POST", f"/webhooks/compositions/{hooks.app}/stop")
    finish(stopped.body["executionArn"])

    response = hooks.call("GET", "/webhooks/compositions")

    assert response.status == 200, response.raw
    assert set(response.body) == {"compositions"}
    listed = {entry["name"]: entry for entry in response.body["compositions"]}
    # 127.0.0.1 is outside the fenced composition's own allowlist: not listed.
    assert set(listed) == {hooks.app, hooks.slow, hooks.quick}
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

    assert_error(response, 409, "conflict", extra=frozenset({"executionArn"}))
    assert response.body["executionArn"] == stopping.body["executionArn"]
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
    assert response.body["message"] == (
        "durration: unknown field; allowed: duration, reason (did you mean duration?)"
    )


def test_an_unknown_field_of_a_stop_lists_what_a_stop_takes(hooks: Hooks) -> None:
    response = hooks.call(
        "POST", f"/webhooks/compositions/{hooks.app}/stop", json.dumps({"duration": "2h"})
    )

    assert_error(response, 422, "invalid_field")
    assert response.body["message"] == "duration: unknown field; allowed: reason"
    assert executions(hooks.em, hooks.app, "stop") == []


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


def test_audit_records_the_key_name_and_the_reason_apart_and_never_the_key(
    hooks: Hooks, aws: Aws
) -> None:
    response = hooks.call(
        "POST", f"/webhooks/compositions/{hooks.app}/start", json.dumps({"reason": "CHG-42"})
    )
    assert response.status == 202, response.raw
    finish(response.body["executionArn"])  # the run may be what writes the entry

    entries = Store(aws, "envctl").history(hooks.app)

    assert [(e.who, e.what, e.via) for e in entries] == [("api key new", "start", "webhook")]
    assert "CHG-42" in entries[0].detail
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

    # The table is missing: 503 not_deployed (the start's needs the new runtime).
    assert statuses == [503, 503, 422, 401]
    logged = buffer.getvalue()
    assert "envctl is not deployed" in logged  # the failures were logged
    assert NEW_KEY not in logged and OLD_KEY not in logged
    assert marker not in logged


def misshapen_table(em: Emulator, unique: str) -> str:
    """A table named like envctl's but keyed by pk alone: every envctl call on it fails."""
    name = f"envctl-misshapen-{unique}"
    em.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def test_failed_aws_calls_are_502_and_their_logged_tracebacks_carry_no_key_or_body(
    hooks: Hooks, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVCTL_CONFIG", str(hooks.config_path))
    monkeypatch.setenv("ENVCTL_TABLE", misshapen_table(hooks.em, unique))
    monkeypatch.setenv("ENVCTL_WEBHOOK_API_KEYS", API_KEYS)
    webhook_handler.api.cache_clear()
    logger = webhook_handler.logger
    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)
    marker = f"MARKER-{unique}-body"
    try:
        event = api_gateway_event(
            json.dumps({"reason": marker}),
            {**JSON_HEADERS, "x-api-key": NEW_KEY, "Idempotency-Key": marker},
            path=f"/webhooks/compositions/{hooks.quick}/start",
        )
        answer = webhook_handler.handler(event, LocalContext())
    finally:
        logger.registered_handler.setStream(previous)
        webhook_handler.api.cache_clear()

    assert_error(parse(answer["statusCode"], answer["body"]), 502, "aws_error")
    logged = buffer.getvalue()
    assert "AWS call failed" in logged and "Traceback" in logged
    assert NEW_KEY not in logged and marker not in logged
    assert executions(hooks.em, hooks.quick, "start") == []


def test_idempotency_store_without_its_table_is_503_not_deployed_and_starts_nothing(
    hooks: Hooks, unique: str
) -> None:
    api = build_api(
        WebhookSettings.from_env(
            {
                "ENVCTL_CONFIG": str(hooks.config_path),
                "ENVCTL_TABLE": "envctl-missing",
                "ENVCTL_WEBHOOK_API_KEYS": API_KEYS,
            }
        )
    )

    response = hooks.call(
        "POST",
        f"/webhooks/compositions/{hooks.slow}/start",
        headers={"Idempotency-Key": f"idem-{unique}"},
        api=api,
    )

    assert_error(response, 503, "not_deployed")
    assert "envctl-missing" in response.body["message"]
    assert executions(hooks.em, hooks.slow, "start") == []


def test_idempotency_store_failing_otherwise_is_502(hooks: Hooks, unique: str) -> None:
    api = build_api(
        WebhookSettings.from_env(
            {
                "ENVCTL_CONFIG": str(hooks.config_path),
                "ENVCTL_TABLE": misshapen_table(hooks.em, unique),
                "ENVCTL_WEBHOOK_API_KEYS": API_KEYS,
            }
        )
    )

    response = hooks.call(
        "POST",
        f"/webhooks/compositions/{hooks.slow}/start",
        headers={"Idempotency-Key": f"idem-{unique}"},
        api=api,
    )

    assert_error(response, 502, "aws_error")
    assert executions(hooks.em, hooks.slow, "start") == []


def test_list_without_the_table_is_503_not_deployed(hooks: Hooks) -> None:
    api = build_api(
        WebhookSettings.from_env(
            {
                "ENVCTL_CONFIG": str(hooks.config_path),
                "ENVCTL_TABLE": "envctl-missing",
                "ENVCTL_WEBHOOK_API_KEYS": API_KEYS,
            }
        )
    )

    response = hooks.call("GET", "/webhooks/compositions", api=api)

    assert_error(response, 503, "not_deployed")
    assert "envctl-missing" in response.body["message"]


def test_start_without_the_table_is_503_not_deployed_and_starts_nothing(hooks: Hooks) -> None:
    """Needs the runtime's prerequisite check (it refuses before starting anything)."""
    api = build_api(
        WebhookSettings.from_env(
            {
                "ENVCTL_CONFIG": str(hooks.config_path),
                "ENVCTL_TABLE": "envctl-missing",
                "ENVCTL_WEBHOOK_API_KEYS": API_KEYS,
            }
        )
    )

    response = hooks.call("POST", f"/webhooks/compositions/{hooks.quick}/start", api=api)

    assert_error(response, 503, "not_deployed")
    assert executions(hooks.em, hooks.quick, "start") == []


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


def test_openapi_document_describes_the_202_answers_with_their_optional_fields(
    hooks: Hooks,
) -> None:
    document = hooks.call("GET", "/webhooks/openapi.json", key=None).body

    for action, optional in (("start", {"joined", "auto_stop_at"}), ("stop", {"joined"})):
        answer = document["paths"][f"/webhooks/compositions/{{name}}/{action}"]["post"]
        schema = resolve(
            document, answer["responses"]["202"]["content"]["application/json"]["schema"]
        )
        assert set(schema["properties"]) == {"composition", "action", "executionArn"} | optional
        assert set(schema["required"]) == {"composition", "action", "executionArn"}


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


# --- bounded bodies: depth, numbers, bytes ---------------------------------------------------


def test_5000_nested_arrays_under_16_kb_are_400_and_start_nothing(hooks: Hooks) -> None:
    body = "[" * 5000 + "]" * 5000
    assert len(body.encode()) < 16 * 1024

    response = hooks.call("POST", f"/webhooks/compositions/{hooks.quick}/start", body)

    assert_error(response, 400, "bad_request")
    assert response.body["message"] == "the body nests arrays or objects deeper than 20 levels"
    assert executions(hooks.em, hooks.quick, "start") == []


def test_deep_nesting_inside_an_object_field_is_400(hooks: Hooks) -> None:
    body = '{"reason": ' + "{" * 3000 + "}" * 3000 + "}"

    response = hooks.call("POST", f"/webhooks/compositions/{hooks.quick}/start", body)

    assert_error(response, 400, "bad_request")
    assert "deeper than 20 levels" in response.body["message"]


def test_brackets_inside_a_reason_are_text_not_nesting(hooks: Hooks) -> None:
    body = json.dumps({"reason": "[" * 400})

    response = hooks.call("POST", f"/webhooks/compositions/{hooks.quick}/start", body)

    assert response.status == 202, response.raw


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"duration": 1e999}', "the body contains a number too large for a 64-bit float"),
        ('{"duration": NaN}', "the body contains NaN, which is not a JSON number"),
        ('{"duration": -Infinity}', "the body contains -Infinity, which is not a JSON number"),
        ('{"x": ' + "7" * 5000 + "}", "the body contains an integer of more than 20 digits"),
    ],
    ids=["1e999", "nan", "minus-infinity", "5000-digits"],
)
def test_numbers_json_cannot_carry_safely_are_400_with_what_was_wrong(
    hooks: Hooks, body: str, message: str
) -> None:
    response = hooks.call("POST", f"/webhooks/compositions/{hooks.quick}/start", body)

    assert_error(response, 400, "bad_request")
    assert response.body["message"] == message
    assert executions(hooks.em, hooks.quick, "start") == []


def test_a_number_where_a_duration_belongs_is_422(hooks: Hooks) -> None:
    response = hooks.call("POST", f"/webhooks/compositions/{hooks.quick}/start", '{"duration": 5}')

    assert_error(response, 422, "invalid_field")
    assert response.body["message"].startswith("duration: ")


def test_body_over_16_kb_in_bytes_but_not_in_characters_is_413(hooks: Hooks) -> None:
    body = json.dumps({"reason": "€" * 5500}, ensure_ascii=False)  # 3 bytes each
    assert len(body) < 16 * 1024 < len(body.encode("utf-8"))

    response = hooks.call("POST", f"/webhooks/compositions/{hooks.quick}/start", body)

    assert_error(response, 413, "payload_too_large")
    assert executions(hooks.em, hooks.quick, "start") == []


def test_body_of_exactly_16_kb_passes_the_size_check(hooks: Hooks) -> None:
    body = json.dumps({"reason": "x" * (16 * 1024 - len('{"reason": ""}'))})
    assert len(body.encode()) == 16 * 1024

    response = hooks.call("POST", f"/webhooks/compositions/{hooks.quick}/start", body)

    # Past the size check, the reason is too long for the audit log.
    assert_error(response, 422, "invalid_field")
    assert response.body["message"].startswith("reason: ")


def test_base64_body_over_16_kb_once_decoded_is_413(hooks: Hooks) -> None:
    body = json.dumps({"reason": "é" * 8300}, ensure_ascii=False)  # 2 bytes each
    event = api_gateway_event(
        body,
        {**JSON_HEADERS, "x-api-key": NEW_KEY},
        path=f"/webhooks/compositions/{hooks.quick}/start",
        base64_encoded=True,
    )

    result = hooks.api.handle(event, LocalContext())

    assert_error(parse(result["statusCode"], result["body"]), 413, "payload_too_large")


def test_base64_body_is_decoded_and_read_as_json(hooks: Hooks) -> None:
    event = api_gateway_event(
        json.dumps({"duration": "8d"}),
        {**JSON_HEADERS, "x-api-key": NEW_KEY},
        path=f"/webhooks/compositions/{hooks.quick}/start",
        base64_encoded=True,
    )

    result = hooks.api.handle(event, LocalContext())

    response = parse(result["statusCode"], result["body"])
    assert_error(response, 422, "invalid_field")
    assert response.body["message"] == 'duration: expected a duration of at most 7 days, got "8d"'


# --- durations and reasons ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        ("9999999999d", 'expected a duration such as 30m, 2h or 1h30m, got "9999999999d"'),
        ("8d", 'expected a duration of at most 7 days, got "8d"'),
        ("7d1s", 'expected a duration of at most 7 days, got "7d1s"'),
        ("0m", 'expected a duration longer than zero, got "0m"'),
        ("-1h", 'expected a duration such as 30m, 2h or 1h30m, got "-1h"'),
        ("9" * 41, "expected a duration such as 30m, 2h or 1h30m, got 41 characters"),
    ],
    ids=["huge", "8-days", "7-days-and-a-second", "zero", "negative", "41-characters"],
)
def test_durations_outside_0_to_7_days_are_422_with_the_parsers_message(
    hooks: Hooks, duration: str, message: str
) -> None:
    response = hooks.call(
        "POST", f"/webhooks/compositions/{hooks.quick}/start", json.dumps({"duration": duration})
    )

    assert_error(response, 422, "invalid_field")
    assert response.body["message"] == f"duration: {message}"
    assert executions(hooks.em, hooks.quick, "start") == []


def test_a_duration_of_7_days_is_accepted(hooks: Hooks) -> None:
    response = hooks.call(
        "POST", f"/webhooks/compositions/{hooks.quick}/start", json.dumps({"duration": "7d"})
    )

    assert response.status == 202, response.raw
    assert "auto_stop_at" in response.body


@pytest.mark.parametrize("action", ["start", "stop"])
@pytest.mark.parametrize(
    "reason",
    ["CHG-42\nat 2026-12-01 admin stop prod", "ok\x1b[2K\rforged", "a\u202eb", "tab\there"],
    ids=["newline", "terminal-escape", "bidi-override", "tab"],
)
def test_reason_with_control_characters_is_422_and_audits_nothing(
    hooks: Hooks, aws: Aws, action: str, reason: str
) -> None:
    response = hooks.call(
        "POST", f"/webhooks/compositions/{hooks.quick}/{action}", json.dumps({"reason": reason})
    )

    assert_error(response, 422, "invalid_field")
    assert response.body["message"] == (
        "reason: control characters (newlines, tabs, escape sequences) are not allowed"
    )
    assert executions(hooks.em, hooks.quick, action) == []
    assert Store(aws, TABLE).history(hooks.quick) == []


def test_reason_of_501_characters_is_422_and_500_are_accepted(hooks: Hooks) -> None:
    path = f"/webhooks/compositions/{hooks.quick}/start"

    refused = hooks.call("POST", path, json.dumps({"reason": "r" * 501}))
    accepted = hooks.call("POST", path, json.dumps({"reason": "r" * 500}))

    assert_error(refused, 422, "invalid_field")
    assert refused.body["message"].startswith("reason: ")
    assert "500" in refused.body["message"]
    assert accepted.status == 202, accepted.raw


# --- a composition's own allowlist, on every request that names it -----------------------------

OUTSIDE = "198.51.100.7"
INSIDE = "192.0.2.10"


def test_status_from_outside_the_compositions_allowlist_is_403_and_audited(
    hooks: Hooks, aws: Aws
) -> None:
    response = hooks.call("GET", f"/webhooks/compositions/{hooks.fenced}", ip=OUTSIDE)

    assert_error(response, 403, "forbidden")
    entries = Store(aws, TABLE).history(hooks.fenced)
    assert [(e.who, e.what, e.via, e.detail) for e in entries] == [
        (
            "api key new",
            "refused status",
            "webhook",
            f"source {OUTSIDE} not in the composition's ip_allowlist",
        )
    ]


def test_status_from_inside_the_compositions_allowlist_is_200(hooks: Hooks, aws: Aws) -> None:
    response = hooks.call("GET", f"/webhooks/compositions/{hooks.fenced}", ip=INSIDE)

    assert response.status == 200, response.raw
    assert response.body["composition"] == hooks.fenced
    assert Store(aws, TABLE).history(hooks.fenced) == []


@pytest.mark.parametrize("action", ["start", "stop"])
def test_start_and_stop_refused_by_the_compositions_allowlist_are_audited(
    hooks: Hooks, aws: Aws, action: str
) -> None:
    response = hooks.call(
        "POST", f"/webhooks/compositions/{hooks.fenced}/{action}", ip=OUTSIDE, key=OLD_KEY
    )

    assert_error(response, 403, "forbidden")
    assert response.body["message"] == f"requests from {OUTSIDE} may not operate {hooks.fenced}"
    entries = Store(aws, TABLE).history(hooks.fenced)
    assert [(e.who, e.what, e.via) for e in entries] == [
        ("api key old", f"refused {action}", "webhook")
    ]
    assert executions(hooks.em, hooks.fenced, action) == []


def test_the_compositions_allowlist_answers_before_the_body_is_read(hooks: Hooks) -> None:
    """A refused source learns nothing from validation: 403, not 400 or 413."""
    for body in ("not json {", "[" * 5000, json.dumps({"reason": "x" * 17 * 1024})):
        response = hooks.call(
            "POST", f"/webhooks/compositions/{hooks.fenced}/start", body, ip=OUTSIDE
        )

        assert_error(response, 403, "forbidden")


def test_a_trailing_slash_does_not_bypass_the_compositions_allowlist(hooks: Hooks) -> None:
    response = hooks.call("POST", f"/webhooks/compositions/{hooks.fenced}/start/", ip=OUTSIDE)

    assert_error(response, 403, "forbidden")
    assert executions(hooks.em, hooks.fenced, "start") == []


def test_key_failures_deployment_refusals_and_unknown_names_are_not_audited(
    hooks: Hooks, aws: Aws, unique: str
) -> None:
    fenced_api = hooks.build(ENVCTL_WEBHOOK_IP_ALLOWLIST="10.0.0.0/8")
    path = f"/webhooks/compositions/{hooks.fenced}/start"

    answers = [
        hooks.call("POST", path, ip=OUTSIDE, key=None).status,
        hooks.call("POST", path, ip=OUTSIDE, key="wrong").status,
        hooks.call("POST", path, ip=OUTSIDE, api=fenced_api).status,
        hooks.call("POST", f"/webhooks/compositions/ghost-{unique}/start", ip=OUTSIDE).status,
    ]

    assert answers == [401, 401, 403, 404]
    assert Store(aws, TABLE).history(hooks.fenced) == []
    assert Store(aws, TABLE).history(f"ghost-{unique}") == []


def test_list_from_outside_shows_only_the_compositions_that_admit_the_source(
    hooks: Hooks,
) -> None:
    outside = hooks.call("GET", "/webhooks/compositions", ip=OUTSIDE)
    inside = hooks.call("GET", "/webhooks/compositions", ip=INSIDE)

    assert outside.status == inside.status == 200, (outside.raw, inside.raw)
    assert {entry["name"] for entry in outside.body["compositions"]} == {
        hooks.app,
        hooks.slow,
        hooks.quick,
    }
    assert {entry["name"] for entry in inside.body["compositions"]} == {
        hooks.app,
        hooks.slow,
        hooks.quick,
        hooks.fenced,
    }


def test_unknown_composition_404_does_not_list_the_others(hooks: Hooks, unique: str) -> None:
    response = hooks.call("GET", f"/webhooks/compositions/ghost-{unique}", ip=OUTSIDE)

    assert_error(response, 404, "not_found")
    assert response.body["message"] == f'no composition named "ghost-{unique}"'


# --- joins and conflicts (need the runtime's one-run-at-a-time lease) --------------------------


@pytest.mark.parametrize("action", ["start", "stop"])
def test_the_same_action_while_it_runs_joins_the_run_and_starts_nothing(
    hooks: Hooks, action: str
) -> None:
    path = f"/webhooks/compositions/{hooks.slow}/{action}"
    first = hooks.call("POST", path)
    assert first.status == 202, first.raw

    second = hooks.call("POST", path)

    assert second.status == 202, second.raw
    assert second.body["joined"] is True
    assert second.body["executionArn"] == first.body["executionArn"]
    assert second.body["action"] == action and second.body["composition"] == hooks.slow
    assert "joined" not in first.body
    assert executions(hooks.em, hooks.slow, action) == [first.body["executionArn"]]


def test_stop_while_a_start_runs_is_409_naming_the_start(hooks: Hooks) -> None:
    starting = hooks.call("POST", f"/webhooks/compositions/{hooks.slow}/start")
    assert starting.status == 202, starting.raw

    response = hooks.call("POST", f"/webhooks/compositions/{hooks.slow}/stop")

    assert_error(response, 409, "conflict", extra=frozenset({"executionArn"}))
    assert response.body["executionArn"] == starting.body["executionArn"]
    assert executions(hooks.em, hooks.slow, "stop") == []


# --- Idempotency-Key names the execution ------------------------------------------------------


def test_idempotency_key_names_the_execution_after_the_caller_and_the_key(
    hooks: Hooks, unique: str
) -> None:
    key = f"deploy-{unique}"

    response = hooks.call(
        "POST", f"/webhooks/compositions/{hooks.quick}/start", headers={"Idempotency-Key": key}
    )

    assert response.status == 202, response.raw
    digest = hashlib.sha256(f"new:{key}".encode()).hexdigest()[:40]
    assert response.body["executionArn"].endswith(f":webhook-{digest}")


def test_two_callers_with_the_same_idempotency_key_do_not_share_a_record(
    hooks: Hooks, unique: str
) -> None:
    headers = {"Idempotency-Key": f"shared-{unique}"}
    started = hooks.call(
        "POST", f"/webhooks/compositions/{hooks.quick}/start", headers=headers, key=NEW_KEY
    )
    assert started.status == 202, started.raw
    finish(started.body["executionArn"])

    # Another request under the same key from the same caller would be a 422.
    stopped = hooks.call(
        "POST", f"/webhooks/compositions/{hooks.quick}/stop", headers=headers, key=OLD_KEY
    )

    assert stopped.status == 202, stopped.raw
    digest = hashlib.sha256(f"old:shared-{unique}".encode()).hexdigest()[:40]
    assert stopped.body["executionArn"].endswith(f":webhook-{digest}")
    assert executions(hooks.em, hooks.quick, "stop") == [stopped.body["executionArn"]]


def test_retry_after_a_failure_finds_the_execution_the_first_attempt_started(
    hooks: Hooks, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first attempt starts the run, then fails (502): the retry must not start another."""
    original = Runtime.start
    attempts: list[str] = []

    def start_then_fail(self: Runtime, *args: Any, **kwargs: Any) -> Any:
        run = original(self, *args, **kwargs)
        attempts.append(run.execution_arn)
        if len(attempts) == 1:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "PutItem"
            )
        return run

    monkeypatch.setattr(Runtime, "start", start_then_fail)
    path = f"/webhooks/compositions/{hooks.slow}/start"
    headers = {"Idempotency-Key": f"retry-{unique}"}

    failed = hooks.call("POST", path, headers=headers)
    retried = hooks.call("POST", path, headers=headers)

    assert_error(failed, 502, "aws_error")
    assert retried.status == 202, retried.raw
    assert retried.body["executionArn"] == attempts[0]
    assert executions(hooks.em, hooks.slow, "start") == [attempts[0]]


@pytest.mark.parametrize(
    "key",
    ["k" * 256, "line\nbreak", "esc\x1b[0m", "   "],
    ids=["256-characters", "newline", "escape", "blank"],
)
def test_malformed_idempotency_key_is_422_and_starts_nothing(hooks: Hooks, key: str) -> None:
    records = len(idempotency_items(hooks.em))

    response = hooks.call(
        "POST", f"/webhooks/compositions/{hooks.quick}/start", headers={"Idempotency-Key": key}
    )

    assert_error(response, 422, "invalid_field")
    assert response.body["message"] == (
        "Idempotency-Key: expected 1 to 255 printable characters without control characters"
    )
    assert executions(hooks.em, hooks.quick, "start") == []
    assert len(idempotency_items(hooks.em)) == records  # no record was written


# --- events of odd shape -----------------------------------------------------------------------


def event_for(hooks: Hooks, **changes: Any) -> dict[str, Any]:
    event = api_gateway_event(
        "", {"x-api-key": NEW_KEY}, path="/webhooks/compositions", method="GET"
    )
    event.update(changes)
    return event


def answer(hooks: Hooks, event: Any) -> Response:
    result = hooks.api.handle(event, LocalContext())
    return parse(result["statusCode"], result["body"])


def test_an_event_without_request_context_is_read_as_from_no_address(hooks: Hooks) -> None:
    event = event_for(hooks)
    del event["requestContext"]

    listed = answer(hooks, event)
    refused = hooks.build(ENVCTL_WEBHOOK_IP_ALLOWLIST="10.0.0.0/8").handle(event, LocalContext())

    assert listed.status == 200, listed.raw
    # No address is inside no composition's allowlist: the fenced one is not listed.
    assert hooks.fenced not in {entry["name"] for entry in listed.body["compositions"]}
    assert_error(parse(refused["statusCode"], refused["body"]), 403, "forbidden")


@pytest.mark.parametrize(
    "headers",
    [None, [], "x-api-key: k", {"x-api-key": 12345}, {"x-api-key": [NEW_KEY]}, {7: NEW_KEY}],
    ids=["none", "list", "text", "int-value", "list-value", "int-name"],
)
def test_headers_of_the_wrong_type_are_no_key_401(hooks: Hooks, headers: Any) -> None:
    response = answer(hooks, event_for(hooks, headers=headers, multiValueHeaders=None))

    assert_error(response, 401, "unauthorized")


def test_a_key_in_multi_value_headers_only_is_read(hooks: Hooks) -> None:
    event = event_for(hooks, headers=None, multiValueHeaders={"X-Api-Key": ["other", NEW_KEY]})

    assert answer(hooks, event).status == 200


def test_a_100_kb_api_key_is_401(hooks: Hooks) -> None:
    response = hooks.call("GET", "/webhooks/compositions", key="k" * 100_000)

    assert_error(response, 401, "unauthorized")


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"body": {"duration": "2h"}}, 400),
        ({"body": 42}, 400),
        ({"httpMethod": None}, 405),
        ({"path": 17}, 404),
        ({"path": None, "httpMethod": None}, 404),
        ({"queryStringParameters": {"a": 1}, "multiValueQueryStringParameters": "x"}, 200),
        ({"pathParameters": [1, 2], "stageVariables": 3}, 200),
        ({"isBase64Encoded": "true", "body": "{}"}, 200),
        ({"body": "not base64 !", "isBase64Encoded": True}, 400),
        ({"body": base64.b64encode(b"\xff\xfe").decode(), "isBase64Encoded": True}, 400),
        ({"body": '{"a": "\ud800"}'}, 400),
    ],
    ids=[
        "body-dict",
        "body-int",
        "method-none",
        "path-int",
        "no-path-no-method",
        "query-odd",
        "path-params-odd",
        "base64-flag-text",
        "bad-base64",
        "base64-not-utf8",
        "lone-surrogate",
    ],
)
def test_fields_of_the_wrong_type_are_answered_in_the_contract(
    hooks: Hooks, changes: dict[str, Any], status: int
) -> None:
    response = answer(hooks, event_for(hooks, **changes))

    assert response.status == status, response.raw
    if status >= 400:
        assert set(response.body) == {"error", "message"}, response.raw


@pytest.mark.parametrize("event", [None, [], "GET /webhooks/compositions", 3])
def test_an_event_that_is_not_a_mapping_is_400(hooks: Hooks, event: Any) -> None:
    assert_error(answer(hooks, event), 400, "bad_request")


def test_the_lambda_handler_answers_an_unforeseen_failure_as_a_502_in_shape(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook_handler, "api", lambda: hooks.api)
    monkeypatch.setattr(hooks.api, "handle", lambda *_: {}["boom"])

    result = webhook_handler.handler(event_for(hooks), LocalContext())

    assert_error(parse(result["statusCode"], result["body"]), 502, "internal_error")


def test_the_lambda_handler_with_invalid_webhook_settings_is_503(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVCTL_CONFIG", str(hooks.config_path))
    monkeypatch.setenv("ENVCTL_WEBHOOK_API_KEYS", "no-separator")
    webhook_handler.api.cache_clear()
    try:
        result = webhook_handler.handler("not an event", LocalContext())
    finally:
        webhook_handler.api.cache_clear()

    assert_error(parse(result["statusCode"], result["body"]), 503, "not_deployed")
