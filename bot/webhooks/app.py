"""The webhook API (DESIGN §4) with Powertools' ``APIGatewayRestResolver``.

Checks run outside-in: source IP (as API Gateway saw it, never X-Forwarded-For),
API key (constant time, several named keys for rotation), body size and JSON, then
the route with its pydantic-validated body. Every error is ``{"error", "message"}``
with the status code of the contract; nothing ever answers with a stack trace.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.webhooks.security import WebhookSettings, allowed, key_name, parse_networks
from scheduler_core.config import Config
from scheduler_core.durations import parse_duration
from scheduler_core.exceptions import BadInputError, UnknownCompositionError
from scheduler_core.runtime import ExecutionConflictError, read_status
from scheduler_core.runtime.operations import Actor, Runtime

MAX_BODY_BYTES = 16 * 1024
BASE = "/webhooks"
ROUTES = {
    re.compile(rf"^{BASE}/compositions/[^/]+/(start|stop)$"): {"POST"},
    re.compile(rf"^{BASE}/compositions/[^/]+$"): {"GET"},
    re.compile(rf"^{BASE}/compositions$"): {"GET"},
    re.compile(rf"^{BASE}/openapi\.json$"): {"GET"},
}


class StartBody(BaseModel):
    """Optional body of a start: how long to keep it up, and why."""

    model_config = ConfigDict(extra="forbid")
    duration: str | None = Field(default=None, description="e.g. 30m, 2h, 1h30m", examples=["2h"])
    reason: str | None = Field(default=None, max_length=500, examples=["ticket CHG-42"])

    @field_validator("duration")
    @classmethod
    def _valid_duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)  # raises ValueError with what is allowed
        return value


class StopBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=500)


class Accepted(BaseModel):
    """202 answer of start and stop."""

    model_config = ConfigDict(extra="forbid")
    composition: str
    action: str
    executionArn: str  # the contract's name


class AcceptedWithAutoStop(Accepted):
    """202 answer of a start that stops by itself (``auto_stop_at`` only then)."""

    auto_stop_at: str = Field(description="when it stops by itself (ISO 8601, UTC)")


class SourceRefusedError(BadInputError):
    """The composition's own allowlist refuses the caller's address."""


def error(status: int, code: str, message: str) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps({"error": code, "message": message}),
    )


def as_json_request(event: dict[str, Any]) -> dict[str, Any]:
    """The event with Content-Type application/json: the body was checked to be JSON.

    curl and many CI tools send JSON as application/x-www-form-urlencoded by default;
    the resolver would then parse it as a form.
    """
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "content-type"}
    multi = {
        k: v
        for k, v in (event.get("multiValueHeaders") or {}).items()
        if k.lower() != "content-type"
    }
    headers["Content-Type"] = "application/json"
    multi["Content-Type"] = ["application/json"]
    body = event.get("body")
    # Only blanks is no body at all (the JSON check let it through as empty).
    blank = isinstance(body, str) and not body.strip() and not event.get("isBase64Encoded")
    return {
        **event,
        "headers": headers,
        "multiValueHeaders": multi,
        "body": None if blank else body,
    }


def proxy_error(status: int, code: str, message: str) -> dict[str, Any]:
    """The same error as an API Gateway proxy response (before the resolver runs)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"error": code, "message": message}),
        "isBase64Encoded": False,
    }


class WebhookApi:
    """Builds the resolver; services (config, AWS, idempotency) are injected or lazy."""

    def __init__(
        self,
        *,
        settings: WebhookSettings,
        config: Callable[[], Config],
        runtime: Callable[[], Runtime],
        idempotent: Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]],
        logger: Logger,
        on_request: Callable[[Any], None] = lambda _: None,
    ) -> None:
        self.on_request = on_request
        self.settings = settings
        self.config = config
        self.runtime = runtime
        self.logger = logger
        self.app = APIGatewayRestResolver(enable_validation=True)
        self._run_once = idempotent(self._perform)
        self._routes()

    # --- checks, outside in, before the resolver (whose validation would answer first) --
    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """The Lambda entry: source, key, size and JSON checks, then the routes."""
        refused = self._refusal(event)
        if refused is not None:
            return refused
        self.on_request(context)
        return self.app.resolve(as_json_request(event), context)

    def _refusal(self, event: dict[str, Any]) -> dict[str, Any] | None:
        identity = (event.get("requestContext") or {}).get("identity") or {}
        source = str(identity.get("sourceIp") or "")
        if not allowed(source, self.settings.ip_allowlist):
            return proxy_error(
                403, "forbidden", f"requests from {source or 'an unknown address'} are not allowed"
            )
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        path = str(event.get("path") or "")
        if path != f"{BASE}/openapi.json":
            name = key_name(headers.get("x-api-key"), self.settings.api_keys)
            if name is None:
                return proxy_error(401, "unauthorized", "missing or wrong x-api-key header")
            self.app.append_context(key_name=name)
        body = event.get("body") or ""
        if event.get("isBase64Encoded") and body:
            try:
                body = base64.b64decode(body).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return proxy_error(400, "bad_request", "the body is not valid UTF-8 JSON")
        if len(body.encode("utf-8")) > MAX_BODY_BYTES:
            return proxy_error(
                413, "payload_too_large", f"the body must be at most {MAX_BODY_BYTES} bytes"
            )
        if body.strip():
            try:
                parsed = json.loads(body)
            except ValueError:
                return proxy_error(400, "bad_request", "the body is not valid JSON")
            if not isinstance(parsed, dict):
                return proxy_error(400, "bad_request", "the body must be a JSON object")
        return None

    # --- routes -------------------------------------------------------------------------
    def _routes(self) -> None:
        app = self.app

        @app.post(f"{BASE}/compositions/<name>/start", summary="Start a composition")
        def start(
            name: Annotated[str, Path()], body: Annotated[StartBody | None, Body()] = None
        ) -> Response[Accepted | AcceptedWithAutoStop]:
            return self._act(name, "start", body.model_dump() if body else {})

        @app.post(f"{BASE}/compositions/<name>/stop", summary="Stop a composition")
        def stop(
            name: Annotated[str, Path()], body: Annotated[StopBody | None, Body()] = None
        ) -> Response[Accepted]:
            return self._act(name, "stop", body.model_dump() if body else {})

        @app.get(f"{BASE}/compositions/<name>", summary="Live state of a composition")
        def status(name: Annotated[str, Path()]) -> dict[str, Any]:
            composition = self.config().get(name)
            return read_status(self.runtime().aws, composition).as_json()

        @app.get(f"{BASE}/compositions", summary="Every composition and its recorded state")
        def compositions() -> dict[str, Any]:
            store = self.runtime().store
            found = []
            for name in self.config().compositions:
                record = store.state(name)
                found.append({"name": name, "state": record.state if record else "unknown"})
            return {"compositions": found}

        @app.get(f"{BASE}/openapi.json", summary="This API's OpenAPI document")
        def openapi():  # type: ignore[no-untyped-def] # a Response of the document itself
            document = app.get_openapi_json_schema(title="envctl webhooks", version="1")
            return Response(status_code=200, content_type="application/json", body=document)

        app.not_found(self._not_found)
        app.exception_handler(RequestValidationError)(self._invalid)
        app.exception_handler(UnknownCompositionError)(
            lambda exc: error(404, "not_found", str(exc))
        )
        app.exception_handler(ExecutionConflictError)(lambda exc: error(409, "conflict", str(exc)))
        app.exception_handler(IdempotencyAlreadyInProgressError)(
            lambda _: error(
                409, "conflict", "a request with this Idempotency-Key is still in progress"
            )
        )
        app.exception_handler(IdempotencyValidationError)(
            lambda _: error(
                422, "invalid_field", "this Idempotency-Key was used with another request"
            )
        )
        app.exception_handler(SourceRefusedError)(lambda exc: error(403, "forbidden", str(exc)))
        app.exception_handler(BadInputError)(lambda exc: error(422, "invalid_field", str(exc)))
        app.exception_handler(ClientError)(self._aws_error)
        app.exception_handler(IdempotencyPersistenceLayerError)(self._aws_error)
        app.exception_handler(BotoCoreError)(self._aws_error)

    def _act(self, name: str, action: str, body: dict[str, Any]) -> Response[Any]:
        composition = self.config().get(name)  # 404 before anything else
        self._check_composition_source(composition)
        request = {
            # Powertools v3 headers are case-insensitive.
            "key": self.app.current_event.headers.get("idempotency-key"),
            "composition": composition.name,
            "action": action,
            "body": body,
            "caller": self.app.context.get("key_name", ""),
        }
        result = (
            self._run_once(request=request) if request["key"] else self._perform(request=request)
        )
        return Response(status_code=202, content_type="application/json", body=result)

    def _perform(self, request: dict[str, Any]) -> dict[str, Any]:
        composition = self.config().get(request["composition"])
        caller = request["caller"]
        reason = request["body"].get("reason") or ""
        who = f"api key {caller}" + (f" ({reason})" if reason else "")
        actor = Actor(who=who, via="webhook")
        runtime = self.runtime()
        if request["action"] == "start":
            duration = request["body"].get("duration")
            started = runtime.start(
                composition,
                actor=actor,
                duration=parse_duration(duration) if duration else None,
                now=datetime.now(UTC),
            )
            accepted = Accepted(
                composition=composition.name, action="start", executionArn=started.execution_arn
            ).model_dump()
            if started.auto_stop_at:
                accepted["auto_stop_at"] = started.auto_stop_at.isoformat()
            return accepted
        stopped = runtime.stop(composition, actor=actor, now=datetime.now(UTC))
        return Accepted(
            composition=composition.name, action="stop", executionArn=stopped.execution_arn
        ).model_dump()

    def _check_composition_source(self, composition: Any) -> None:
        networks = parse_networks(
            composition.webhooks.ip_allowlist, setting="webhooks.ip_allowlist"
        )
        source = self.app.current_event.request_context.identity.source_ip or ""
        if not allowed(source, networks):
            raise SourceRefusedError(f"requests from {source} may not operate {composition.name}")

    def _not_found(self, _: Exception) -> Response:
        path, method = self.app.current_event.path, self.app.current_event.http_method
        for pattern, methods in ROUTES.items():
            if pattern.match(path) and method not in methods:
                return error(
                    405, "method_not_allowed", f"{path} accepts {', '.join(sorted(methods))}"
                )
        return error(404, "not_found", f"no such endpoint: {method} {path}")

    def _invalid(self, exc: RequestValidationError) -> Response:
        problems = []
        for item in exc.errors():
            location = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
            message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
            problems.append(f"{location}: {message}" if location else message)
        return error(422, "invalid_field", "; ".join(problems) or "invalid request")

    def _aws_error(self, exc: Exception) -> Response:
        self.logger.exception("AWS call failed")
        return error(502, "aws_error", "envctl could not complete the AWS call; see its logs")
