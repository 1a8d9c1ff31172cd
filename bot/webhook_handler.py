"""Lambda entry point of the webhook API (API Gateway REST API → Powertools resolver).

Logs never carry the API key or the request body: the event is not logged, and
only the method, path, source address and the key's *name* are added to log lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from bot import snapstart
from bot.settings import WebhookSettings
from bot.webhooks.app import WebhookApi
from bot.webhooks.events import proxy_error
from scheduler_core.aws import Aws
from scheduler_core.config import load_config
from scheduler_core.exceptions import ConfigError
from scheduler_core.places import regions_of
from scheduler_core.runtime.operations import Runtime

logger = Logger(service="envctl-webhooks")
snapstart.register()  # everything is imported at init already; the hook reseeds random
IDEMPOTENCY_SECONDS = 3600


def idempotency(table_name: str, aws: Aws) -> tuple[Any, IdempotencyConfig]:
    """Powertools idempotency on the envctl table: a replay within an hour gets the first answer."""
    persistence = DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value="idempotency#webhooks",
        expiry_attr="expires_at",
        boto3_client=aws.client("dynamodb"),
    )
    config = IdempotencyConfig(
        # The execution name derived from the caller's key name and Idempotency-Key.
        event_key_jmespath="key",
        # The same key with another request is an error, not a silent replay.
        payload_validation_jmespath="[composition, action, body]",
        expires_after_seconds=IDEMPOTENCY_SECONDS,
    )

    def decorate(function: Any) -> Any:
        return idempotent_function(
            data_keyword_argument="request", persistence_store=persistence, config=config
        )(function)

    return decorate, config


def build_api(settings: WebhookSettings | None = None) -> WebhookApi:
    """The API of one container: its settings are read from the environment once."""
    settings = settings or WebhookSettings.from_env()
    core = settings.core
    aws = core.aws()
    decorate, config = idempotency(core.table_name, aws)
    compositions = cache(lambda: load_config(core.config_path))
    return WebhookApi(
        settings=settings,
        config=compositions,
        runtime=cache(lambda: Runtime(aws, core, regions=regions_of(compositions()))),
        idempotent=decorate,
        logger=logger,
        # In-progress records then expire with the invocation, not only after the hour.
        on_request=config.register_lambda_context,
    )


@cache
def api() -> WebhookApi:
    return build_api()


def _text(value: Any) -> str | None:
    return value[:200] if isinstance(value, str) else None


def handler(event: Any, context: Any) -> dict[str, Any]:
    """AWS Lambda handler for ``/webhooks/...``."""
    fields = event if isinstance(event, Mapping) else {}
    context_field = fields.get("requestContext")
    identity = context_field.get("identity") if isinstance(context_field, Mapping) else None
    logger.append_keys(
        method=_text(fields.get("httpMethod")),
        path=_text(fields.get("path")),
        source_ip=_text(identity.get("sourceIp")) if isinstance(identity, Mapping) else None,
    )
    try:
        webhooks = api()
    except ConfigError as exc:
        # Bad ENVCTL_WEBHOOK_* settings: a deployment problem, not the caller's.
        logger.error("the webhook settings are invalid", problems=exc.problems)
        return proxy_error(
            503, "not_deployed", "envctl's webhook settings are invalid; see its logs"
        )
    try:
        return webhooks.handle(event, context)
    except Exception:
        # A failure nobody foresaw: logged with its traceback, answered in the contract's
        # shape (Lambda itself would answer an unformatted 502).
        logger.exception("the webhook request failed unexpectedly")
        return proxy_error(
            502, "internal_error", "envctl could not answer this request; see its logs"
        )
