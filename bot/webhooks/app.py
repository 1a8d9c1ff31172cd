"""The webhook API (README "Webhooks") with Powertools' ``APIGatewayRestResolver``.

Checks run outside-in, before the resolver (whose own validation would answer
first): the event's shape, source IP (as API Gateway saw it, never X-Forwarded-For),
API key (constant time, several named keys for rotation), the allowlist of the
composition the path names, body size in bytes, and bounded JSON. Then the route with
its pydantic-validated body. Every error is ``{"error", "message"}`` (a 409 adds the
running ``executionArn``) with the status code of the contract; nothing ever answers
with a stack trace, and no input may raise out of ``handle``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
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

from bot.settings import WebhookSettings
from bot.webhooks.events import (
    Request,
    clean_event,
    decoded_body,
    echo,
    proxy_error,
    read_request,
)
from bot.webhooks.models import (
    Accepted,
    StartAccepted,
    StartBody,
    StopBody,
    accepted,
    accepted_response,
    validation_message,
)
from bot.webhooks.security import (
    MalformedBodyError,
    allowed,
    check_idempotency_key,
    execution_name,
    key_name,
    parse_json_body,
    parse_networks,
)
from scheduler_core.config import Config
from scheduler_core.config.models import Composition
from scheduler_core.durations import parse_duration
from scheduler_core.exceptions import (
    AwsCallError,
    ConfigError,
    ConflictError,
    EnvctlError,
    ErrorKind,
    NotDeployedError,
    UnknownCompositionError,
    fault_of,
)
from scheduler_core.runtime.operations import Actor, Runtime

BASE = "/webhooks"
ROUTES = {
    re.compile(rf"^{BASE}/compositions/[^/]+/(start|stop)/*$"): {"POST"},
    re.compile(rf"^{BASE}/compositions/[^/]+/*$"): {"GET"},
    re.compile(rf"^{BASE}/compositions/*$"): {"GET"},
    re.compile(rf"^{BASE}/openapi\.json/*$"): {"GET"},
}
# The paths that name a composition; trailing slashes as the REST resolver allows them.
NAMING = re.compile(rf"^{BASE}/compositions/(?P<name>[^/]+)(?:/(?P<action>start|stop))?/*$")


# Each kind's status and error code (README "Webhooks"); the messages are in _envctl_error.
ANSWERS: dict[ErrorKind, tuple[int, str]] = {
    ErrorKind.BAD_INPUT: (422, "invalid_field"),
    ErrorKind.NOT_FOUND: (404, "not_found"),
    ErrorKind.INVALID_CONFIG: (503, "not_deployed"),
    ErrorKind.CONFLICT: (409, "conflict"),
    ErrorKind.NOT_DEPLOYED: (503, "not_deployed"),
    ErrorKind.AWS_REFUSED: (502, "aws_error"),
    ErrorKind.AWS_UNREACHABLE: (502, "aws_error"),
    ErrorKind.FAILED: (502, "aws_error"),
}


def error(status: int, code: str, message: str, **extra: str) -> Response[str]:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps({"error": code, "message": message, **extra}),
    )


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
    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        """The Lambda entry: shape, source, key, allowlist, size and JSON, then the routes."""
        # Powertools leaves clear_context/append_context unannotated.
        self.app.clear_context()  # type: ignore[no-untyped-call]
        if not isinstance(event, Mapping):
            return proxy_error(400, "bad_request", "the event is not an API Gateway request")
        request = read_request(event)
        refused = self._refusal(request)
        if refused is not None:
            return refused
        body = decoded_body(event)
        if not isinstance(body, str):
            return body
        if body.strip():
            try:
                parsed = parse_json_body(body)
            except MalformedBodyError as exc:
                return proxy_error(400, "bad_request", str(exc))
            if not isinstance(parsed, dict):
                return proxy_error(400, "bad_request", "the body must be a JSON object")
        self.on_request(context)
        return self.app.resolve(clean_event(event, request, body=body), context)

    def _refusal(self, request: Request) -> dict[str, Any] | None:
        """Who may ask at all: deployment allowlist, API key, the composition's allowlist."""
        source = request.source
        if not allowed(source, self.settings.ip_allowlist):
            return proxy_error(
                403,
                "forbidden",
                f"requests from {echo(source) or 'an unknown address'} are not allowed",
            )
        if request.path.rstrip("/") == f"{BASE}/openapi.json":
            return None
        name = key_name(request.headers.get("x-api-key"), self.settings.api_keys)
        if name is None:
            return proxy_error(401, "unauthorized", "missing or wrong x-api-key header")
        self.app.append_context(key_name=name)  # type: ignore[no-untyped-call]
        return self._composition_refusal(request, caller=name)

    def _composition_refusal(self, request: Request, *, caller: str) -> dict[str, Any] | None:
        """403 (audited) when the path names a composition whose allowlist refuses the source.

        Checked before the body, so a refused source learns nothing from validation.
        An unknown name is left to the route (404, not audited: it is no composition's).
        """
        named = NAMING.match(request.path)
        if named is None:
            return None
        try:
            composition = self.config().compositions.get(named["name"])
        except ConfigError as exc:
            return self._config_failure(exc)
        if composition is None or self._admits(composition, request.source):
            return None
        action = named["action"] or "status"
        shown = echo(request.source) or "(none)"
        self._audit_refusal(
            composition.name,
            caller=caller,
            action=action,
            why=f"source {shown} not in the composition's ip_allowlist",
        )
        return proxy_error(
            403,
            "forbidden",
            f"requests from {echo(request.source) or 'an unknown address'} "
            f"may not operate {composition.name}",
        )

    @staticmethod
    def _admits(composition: Composition, source: str) -> bool:
        networks = parse_networks(
            composition.webhooks.ip_allowlist, setting="webhooks.ip_allowlist"
        )
        return allowed(source, networks)

    def _audit_refusal(self, composition: str, *, caller: str, action: str, why: str) -> None:
        """Record a refusal in the composition's audit log.

        A failed write is logged but does not change the answer: the caller is refused
        either way, and a 502 would tell them more than the 403 does.
        """
        try:
            self.runtime().refused(
                composition,
                action=action,
                actor=Actor(who=f"api key {caller}", via="webhook"),
                why=why,
            )
        except (ClientError, BotoCoreError):
            self.logger.exception("could not audit a refused request")

    def _config_failure(self, exc: ConfigError) -> dict[str, Any]:
        # The problems name files and settings: for the logs, not for callers.
        self.logger.error("the compositions file could not be loaded", problems=exc.problems)
        return proxy_error(
            503, "not_deployed", "envctl's compositions file could not be loaded; see its logs"
        )

    # --- routes -------------------------------------------------------------------------
    def _routes(self) -> None:
        app = self.app

        # The 202 models document the answers; they are not the return annotation, where
        # Powertools would serialise them with "joined": null and "auto_stop_at": null.
        @app.post(
            f"{BASE}/compositions/<name>/start",
            summary="Start a composition",
            responses={202: accepted_response(StartAccepted, "start")},
        )
        def start(
            name: Annotated[str, Path()], body: Annotated[StartBody | None, Body()] = None
        ) -> Response[dict[str, Any]]:
            return self._act(name, "start", body.model_dump() if body else {})

        @app.post(
            f"{BASE}/compositions/<name>/stop",
            summary="Stop a composition",
            responses={202: accepted_response(Accepted, "stop")},
        )
        def stop(
            name: Annotated[str, Path()], body: Annotated[StopBody | None, Body()] = None
        ) -> Response[dict[str, Any]]:
            return self._act(name, "stop", body.model_dump() if body else {})

        @app.get(f"{BASE}/compositions/<name>", summary="Live state of a composition")
        def status(name: Annotated[str, Path()]) -> dict[str, Any]:
            composition = self.config().get(name)  # its allowlist was checked before
            return self.runtime().status(composition).as_json()

        @app.get(
            f"{BASE}/compositions",
            summary="The compositions this source may operate, with their recorded state",
        )
        def compositions() -> dict[str, Any]:
            source = self.app.current_event.request_context.identity.source_ip or ""
            store = self.runtime().store
            found = []
            for name, composition in self.config().compositions.items():
                if not self._admits(composition, source):
                    continue
                try:
                    record = store.state(name)
                except ClientError as exc:
                    raise self._missing_table(exc) from exc
                found.append({"name": name, "state": record.state if record else "unknown"})
            return {"compositions": found}

        @app.get(f"{BASE}/openapi.json", summary="This API's OpenAPI document")
        def openapi():  # type: ignore[no-untyped-def] # a Response of the document itself
            document = app.get_openapi_json_schema(title="envctl webhooks", version="1")
            return Response(status_code=200, content_type="application/json", body=document)

        app.not_found(self._not_found)
        app.exception_handler(RequestValidationError)(self._invalid)
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
        app.exception_handler(IdempotencyPersistenceLayerError)(self._idempotency_store_error)
        for caught in (EnvctlError, ClientError, BotoCoreError):
            app.exception_handler(caught)(self._envctl_error)

    def _envctl_error(self, exc: Exception) -> Response[str]:
        """The one place an error's kind becomes the contract's status and error code."""
        fault = fault_of(exc)
        if fault is None:  # unreachable: only envctl's and botocore's errors come here
            raise exc
        status, code = ANSWERS[fault.kind]
        if fault.kind is ErrorKind.NOT_FOUND and isinstance(exc, UnknownCompositionError):
            return error(status, code, f'no composition named "{echo(exc.name)}"')
        if fault.kind is ErrorKind.CONFLICT and isinstance(exc, ConflictError):
            return error(status, code, fault.detail, executionArn=exc.execution_arn)
        if fault.kind is ErrorKind.INVALID_CONFIG and isinstance(exc, ConfigError):
            return Response(
                status_code=status,
                content_type="application/json",
                body=self._config_failure(exc)["body"],
            )
        if fault.kind is ErrorKind.NOT_DEPLOYED:
            self.logger.warning("envctl is not deployed", problem=fault.detail)
            return error(status, code, fault.detail)
        if code == "aws_error":
            self.logger.exception("AWS call failed")
            return error(status, code, "envctl could not complete the AWS call; see its logs")
        return error(status, code, fault.detail)

    def _act(self, name: str, action: str, body: dict[str, Any]) -> Response[dict[str, Any]]:
        composition = self.config().get(name)  # 404 before anything else
        presented = self.app.current_event.headers.get("idempotency-key")
        caller = self.app.context.get("key_name", "")
        request = {
            # The key names the execution: a retry after any failure finds the first run.
            "key": None
            if presented is None
            else execution_name(caller, check_idempotency_key(presented)),
            "composition": composition.name,
            "action": action,
            "body": body,
            "caller": caller,
        }
        result = (
            self._run_once(request=request) if request["key"] else self._perform(request=request)
        )
        return Response(status_code=202, content_type="application/json", body=result)

    def _perform(self, request: dict[str, Any]) -> dict[str, Any]:
        composition = self.config().get(request["composition"])
        actor = Actor(who=f"api key {request['caller']}", via="webhook")
        reason = request["body"].get("reason") or ""
        runtime = self.runtime()
        if request["action"] == "start":
            duration = request["body"].get("duration")
            run = runtime.start(
                composition,
                actor=actor,
                duration=parse_duration(duration) if duration else None,
                now=datetime.now(UTC),
                execution_name=request["key"],
                reason=reason,
            )
        else:
            run = runtime.stop(
                composition,
                actor=actor,
                now=datetime.now(UTC),
                execution_name=request["key"],
                reason=reason,
            )
        return accepted(composition.name, request["action"], run)

    def _not_found(self, _: Exception) -> Response[str]:
        path, method = self.app.current_event.path, self.app.current_event.http_method
        for pattern, methods in ROUTES.items():
            if pattern.match(path) and method not in methods:
                return error(
                    405,
                    "method_not_allowed",
                    f"{echo(path)} accepts {', '.join(sorted(methods))}",
                )
        return error(404, "not_found", f"no such endpoint: {echo(method)} {echo(path)}")

    def _invalid(self, exc: RequestValidationError) -> Response[str]:
        path = str(self.app.current_event.path)
        return error(422, "invalid_field", validation_message(exc.errors(), path=path))

    def _missing_table(self, exc: ClientError) -> Exception:
        """NotDeployedError when the envctl table is missing, else the AWS error itself."""
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            return exc
        table = self.runtime().settings.table_name
        return NotDeployedError(
            f"the DynamoDB table {table} does not exist; deploy envctl before calling its webhooks"
        )

    def _idempotency_store_error(self, exc: IdempotencyPersistenceLayerError) -> Response[str]:
        cause = exc.__cause__
        if isinstance(cause, ClientError):
            missing = self._missing_table(cause)
            if isinstance(missing, NotDeployedError):
                return self._envctl_error(missing)
        return self._envctl_error(AwsCallError(str(exc)))
