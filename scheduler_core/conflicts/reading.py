"""Reads for conflict detection, where a missing resource or a denied API is no error.

Conflict detection is advisory: it must never make ``plan`` or ``windows`` fail
because a resource was deleted or because the caller's role lacks an optional
read permission. Both give "nothing found" here. A denied API is remembered for
the rest of the call so that it is asked once, not once per resource, and it is
logged (INFO) so that ``--debug`` runs can tell "no conflict" from "not checked".
Every other error propagates: throttling beyond the retries, or a broken endpoint,
must not pass for a clean report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from scheduler_core.aws_calls import ClientFactory, error_code, is_not_found

logger = logging.getLogger(__name__)

T = TypeVar("T")

ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
)
# Codes that mean "no such resource" but do not end in NotFound/NotFoundFault.
MISSING_CODES = (
    "ResourceNotFoundException",
    "ObjectNotFoundException",
    "ClusterNotFoundException",
    "ServiceNotFoundException",
    "StateMachineDoesNotExist",
    "InvalidInstanceID.Malformed",
)


def is_access_denied(exc: ClientError) -> bool:
    return error_code(exc) in ACCESS_DENIED_CODES


def is_missing(exc: ClientError) -> bool:
    """True when the error says the resource (or the thing asked about) does not exist."""
    if is_not_found(exc, *MISSING_CODES):
        return True
    # EC2 Auto Scaling reports an unknown group as a generic validation error.
    message = str(exc.response.get("Error", {}).get("Message", "")).lower()
    return error_code(exc) == "ValidationError" and "not found" in message


class SourceReader:
    """Runs the read calls of one detection run, tolerating missing and denied."""

    def __init__(self, clients: ClientFactory) -> None:
        self._clients = clients
        self.denied: set[tuple[str, str]] = set()

    def read(self, service: str, operation: str, **kwargs: Any) -> dict[str, Any] | None:
        """One call; None when the resource is missing or the API is denied."""
        return self._tolerant(
            service, operation, lambda client: getattr(client, operation)(**kwargs)
        )

    def collect(
        self, service: str, operation: str, result_key: str, **kwargs: Any
    ) -> list[dict[str, Any]] | None:
        """Every page's ``result_key`` items; None when missing or denied."""

        def pages(client: Any) -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = []
            for page in client.get_paginator(operation).paginate(**kwargs):
                items.extend(page.get(result_key, []))
            return items

        return self._tolerant(service, operation, pages)

    def was_denied(self, service: str, operation: str) -> bool:
        return (service, operation) in self.denied

    def _tolerant(self, service: str, operation: str, call: Callable[[Any], T]) -> T | None:
        if (service, operation) in self.denied:
            return None
        try:
            return call(self._clients(service))
        except ClientError as exc:
            if is_access_denied(exc):
                logger.info(
                    "conflict check skips %s:%s: access denied (%s)",
                    service,
                    operation,
                    error_code(exc),
                )
                self.denied.add((service, operation))
                return None
            if is_missing(exc):
                return None
            raise
