"""AWS calls for the Lambda ack path: botocore's signer, no boto3, no service models.

Importing boto3 costs a cold start about as much as the rest of the ack (s3transfer
alone is a third of it), and creating a botocore client loads the service's whole
model and endpoint rules (some 70 ms for ``lambda``, more for ``ssm``). The ack path
needs two calls: one ``ssm:GetParameters`` for the secrets on a cold start and one
``lambda:Invoke`` to start a lazy listener. ``invoke_async`` and ``get_parameters``
send those two requests themselves, signed with botocore's SigV4 signer, to the
endpoint boto3 would use (``AWS_ENDPOINT_URL_<SERVICE>``, ``AWS_ENDPOINT_URL``, else
the regional one), with the credentials Lambda puts in the environment, over one
kept-alive connection pool (urllib3, which botocore uses too); throttling, 5xx
answers and connection errors are retried with backoff as botocore's standard mode
does.

Outside Lambda (no credentials in the environment) or in a partition whose endpoint
is not the common form, they fall back to a botocore client (``client``), kept for
the life of the process.
"""

from __future__ import annotations

import json
import os
import random
import time
from functools import cache
from typing import Any
from urllib.parse import quote

ATTEMPTS = 3
TIMEOUT_SECONDS = 5
_RETRIED = {429, 500, 502, 503, 504}
# Partitions whose regional endpoints are https://{service}.{region}.{suffix}.
_SUFFIXES = (("cn-", "amazonaws.com.cn"), ("", "amazonaws.com"))
_COMMON_REGION_PREFIXES = ("us-", "eu-", "ap-", "ca-", "sa-", "me-", "af-", "il-", "mx-", "cn-")


class AwsCallError(Exception):
    """AWS answered with an error: its HTTP status and the error code it named."""

    def __init__(self, service: str, operation: str, status: int, code: str, message: str):
        super().__init__(f"{service} {operation}: HTTP {status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@cache
def session() -> Any:
    """The process's botocore session (one credentials chain, one event system)."""
    import botocore.session

    return botocore.session.get_session()


def client(service: str) -> Any:
    """The ``service`` client of this process, in the session's region.

    Kept per endpoint and region setting as well, so that a process which points
    ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_<SERVICE>``) elsewhere, as a test or
    the local emulator does, gets a client for it; botocore resolves them as boto3.
    """
    return _client(service, _region(), _endpoint_settings())


@cache
def _client(service: str, region: str | None, _endpoints: tuple[str, ...]) -> Any:
    from botocore.config import Config

    retries = Config(retries={"mode": "standard", "max_attempts": 5})
    return session().create_client(service, region_name=region, config=retries)


def invoke_async(function: str, payload: str) -> None:
    """``lambda:Invoke`` with ``InvocationType=Event``: queued, answered 202."""
    path = f"/2015-03-31/functions/{quote(function, safe='-._~')}/invocations"
    headers = {"X-Amz-Invocation-Type": "Event", "Content-Type": "application/json"}
    if not _light("lambda"):
        client("lambda").invoke(FunctionName=function, InvocationType="Event", Payload=payload)
        return
    _call("lambda", "Invoke", path, payload.encode(), headers)


def get_parameters(names: list[str]) -> dict[str, Any]:
    """``ssm:GetParameters`` with decryption: the response document."""
    if not _light("ssm"):
        found: dict[str, Any] = client("ssm").get_parameters(Names=names, WithDecryption=True)
        return found
    body = json.dumps({"Names": names, "WithDecryption": True}).encode()
    headers = {
        "X-Amz-Target": "AmazonSSM.GetParameters",
        "Content-Type": "application/x-amz-json-1.1",
    }
    answer = _call("ssm", "GetParameters", "/", body, headers)
    document: dict[str, Any] = json.loads(answer or b"{}")
    return document


def _region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def _endpoint_settings() -> tuple[str, ...]:
    return tuple(sorted(v for k, v in os.environ.items() if k.startswith("AWS_ENDPOINT_URL")))


def _light(service: str) -> bool:
    """Whether the request can be sent without a client: credentials, region, endpoint."""
    return bool(
        os.environ.get("AWS_ACCESS_KEY_ID")
        and os.environ.get("AWS_SECRET_ACCESS_KEY")
        and _region()
        and _endpoint(service)
    )


def _endpoint(service: str) -> str | None:
    configured = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get(
        "AWS_ENDPOINT_URL"
    )
    if configured:
        return configured.rstrip("/")
    region = _region()
    if not region or not region.startswith(_COMMON_REGION_PREFIXES):
        return None
    suffix = next(suffix for prefix, suffix in _SUFFIXES if region.startswith(prefix))
    return f"https://{service}.{region}.{suffix}"


def _call(service: str, operation: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    credentials = Credentials(
        os.environ["AWS_ACCESS_KEY_ID"],
        os.environ["AWS_SECRET_ACCESS_KEY"],
        os.environ.get("AWS_SESSION_TOKEN"),
    )
    url, region = f"{_endpoint(service)}{path}", _region() or ""
    import urllib3

    for attempt in range(ATTEMPTS):
        request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
        SigV4Auth(credentials, service, region).add_auth(request)
        try:
            response = _pool().request(
                "POST", url, body=body, headers=dict(request.headers.items())
            )
        except urllib3.exceptions.HTTPError:
            if attempt == ATTEMPTS - 1:
                raise
        else:
            answer: bytes = response.data
            if response.status < 300:
                return answer
            if response.status not in _RETRIED or attempt == ATTEMPTS - 1:
                raise _error(service, operation, response.status, answer)
        # Full jitter, as botocore's standard retry mode: up to 0.1 s, 0.2 s, ...
        time.sleep(random.uniform(0, 0.1 * 2**attempt))
    raise AssertionError("unreachable")


@cache
def _pool() -> Any:
    """One connection pool per process: a warm function reuses its TLS connections."""
    import urllib3

    return urllib3.PoolManager(
        retries=False,
        timeout=urllib3.Timeout(connect=TIMEOUT_SECONDS, read=TIMEOUT_SECONDS),
        ca_certs=os.environ.get("AWS_CA_BUNDLE"),
    )


def _error(service: str, operation: str, status: int, content: bytes) -> AwsCallError:
    try:
        document = json.loads(content or b"{}")
    except ValueError:
        document = {}
    code = str(document.get("__type") or document.get("Type") or "").rpartition("#")[2]
    message = str(document.get("message") or document.get("Message") or content[:200])
    return AwsCallError(service, operation, status, code or "Error", message)
