"""AWS clients for the Lambda ack path: botocore alone, no boto3.

Importing boto3 costs a cold start about as much as the rest of the ack (s3transfer
alone is a third of it), and the ack needs only two calls: one ``ssm:GetParameters``
for the secrets and one ``lambda:Invoke`` to start a lazy listener. botocore signs
both. The clients honour the same settings as boto3 (``AWS_ENDPOINT_URL``, region,
credentials chain) and use standard retries; they are created on first use, never at
import time, and kept for the life of the process.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any


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
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    endpoints = tuple(sorted(v for k, v in os.environ.items() if k.startswith("AWS_ENDPOINT_URL")))
    return _client(service, region, endpoints)


@cache
def _client(service: str, region: str | None, _endpoints: tuple[str, ...]) -> Any:
    from botocore.config import Config

    retries = Config(retries={"mode": "standard", "max_attempts": 5})
    return session().create_client(service, region_name=region, config=retries)
