"""slack-bolt on Lambda without boto3: the event in, Bolt's response out, lazy invokes.

slack-bolt's own adapter (``slack_bolt.adapter.aws_lambda``) imports boto3 at module
level for its lazy-listener runner, so every cold start pays for boto3 before the ack
although the ack makes one AWS call at most. ``LambdaHandler`` does what that adapter
does for this app's routes, and ``LambdaLazyRunner`` re-invokes the function with one
request signed by botocore's signer (``bot.aws_light.invoke_async``), no client.

The self-invocation is the one Bolt's runner makes, so ``bot.slack_handler`` verifies
it the same way: the event Bolt was given (already verified and normalised) with
``x-slack-bolt-lazy-only`` and ``x-slack-bolt-lazy-function-name`` headers and the
top-level ``"method": "NONE"``, invoked asynchronously (``InvocationType=Event``) by
its own ARN.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.lazy_listener import LazyListenerRunner

logger = logging.getLogger(__name__)

NOT_FOUND: dict[str, Any] = {"statusCode": 404, "body": "Not Found", "headers": {}}


class LambdaLazyRunner(LazyListenerRunner):
    """Starts a lazy listener as an asynchronous invocation of this same function."""

    def __init__(self, lambda_client: Any = None) -> None:
        self.logger = logger
        self.lambda_client = lambda_client  # injectable (tests); else created on first use

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        event: dict[str, Any] = request.context["lambda_request"]
        event["headers"]["x-slack-bolt-lazy-only"] = "1"
        event["headers"]["x-slack-bolt-lazy-function-name"] = request.lazy_function_name
        event["method"] = "NONE"
        arn = request.context["aws_lambda_invoked_function_arn"]
        if self.lambda_client is not None:
            self.lambda_client.invoke(
                FunctionName=arn, InvocationType="Event", Payload=json.dumps(event)
            )
            return
        from bot import aws_light

        aws_light.invoke_async(arn, json.dumps(event))


class LambdaHandler:
    """An API Gateway (HTTP API v2 or REST v1) event through ``app``; POST only."""

    def __init__(self, app: App, *, lambda_client: Any = None) -> None:
        self.app = app
        app.listener_runner.lazy_listener_runner = LambdaLazyRunner(lambda_client)

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Bolt's answer to ``event``, which ``bot.slack_handler`` has verified and normalised.

        ``POST``: a request from Slack; top-level ``"method": "NONE"``: this function's
        own lazy invocation (the headers name the listener). Anything else: 404.
        """
        if event.get("method") == "NONE":
            return _response(self.app.dispatch(_bolt_request(event)))
        if _method(event) != "POST":
            return dict(NOT_FOUND)
        request = _bolt_request(event)
        request.context["aws_lambda_function_name"] = context.function_name
        request.context["aws_lambda_invoked_function_arn"] = context.invoked_function_arn
        request.context["lambda_request"] = event
        return _response(self.app.dispatch(request))


def _method(event: dict[str, Any]) -> str | None:
    request_context = event.get("requestContext") or {}
    method = (request_context.get("http") or {}).get("method")
    return method if method is not None else request_context.get("httpMethod")


def _bolt_request(event: dict[str, Any]) -> BoltRequest:
    headers = dict(event.get("headers") or {})
    headers["cookie"] = list(event.get("cookies") or [])
    return BoltRequest(
        body=event.get("body") or "",
        query=event.get("queryStringParameters") or {},
        headers=headers,
    )


def _response(response: BoltResponse) -> dict[str, Any]:
    headers = response.first_headers()
    return {"statusCode": response.status, "body": response.body, "headers": headers}
