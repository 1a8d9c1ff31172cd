"""boto3 access: one session, clients created on first use (never at import time).

boto3 itself honours ``AWS_ENDPOINT_URL``, so the same code talks to AWS or to
the local emulator without ever asking which one it is.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config

from scheduler_core.exceptions import BadInputError

_RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})


class Aws:
    """Lazily created boto3 clients sharing one session."""

    def __init__(self, session: boto3.Session | None = None) -> None:
        self._session = session
        self._clients: dict[str, Any] = {}

    @cached_property
    def session(self) -> boto3.Session:
        return self._session or boto3.Session()

    @property
    def region(self) -> str:
        region = self.session.region_name
        if not region:
            raise BadInputError(
                "no AWS region configured; set AWS_REGION (or AWS_DEFAULT_REGION) "
                "or a region in your AWS profile"
            )
        return region

    def client(self, service: str) -> Any:
        if service not in self._clients:
            # The stubs type each service name as a literal; these are runtime strings.
            self._clients[service] = self.session.client(  # type: ignore[call-overload]
                service, region_name=self.region, config=_RETRIES
            )
        return self._clients[service]

    __call__ = client

    @cached_property
    def account_id(self) -> str:
        return str(self.client("sts").get_caller_identity()["Account"])

    @property
    def partition(self) -> str:
        return self.session.get_partition_for_region(self.region)
