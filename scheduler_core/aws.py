"""boto3 access: one session, clients created on first use (never at import time).

boto3 itself honours ``AWS_ENDPOINT_URL``, so the same code talks to AWS or to
the local emulator without ever asking which one it is.

``Aws.at(region)`` is the same credentials in another region and ``Aws.reach(place)``
the credentials that reach a composition's resources (a spoke role assumed in its
account, docs/multi-account.md): one ``Aws`` per (role, region), created on first use
and kept, so a Lambda container assumes each role once and botocore refreshes the
credentials before they expire.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from scheduler_core.exceptions import BadInputError

if TYPE_CHECKING:
    from scheduler_core.places import Place

_RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})


class Aws:
    """Lazily created boto3 clients sharing one session."""

    def __init__(
        self,
        session: boto3.Session | None = None,
        *,
        region: str | None = None,
        spoke_role: str = "envctl-spoke",
    ) -> None:
        """``spoke_role``: the role assumed in another account when a composition names none
        (the deployment's ``ENVCTL_SPOKE_ROLE``)."""
        self._session = session
        self._region = region
        self.spoke_role = spoke_role
        self._clients: dict[str, Any] = {}
        self._elsewhere: dict[tuple[str | None, str], Aws] = {}

    @cached_property
    def session(self) -> boto3.Session:
        return self._session or boto3.Session()

    @property
    def region(self) -> str:
        region = self._region or self.session.region_name
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

    def at(self, region: str | None) -> Aws:
        """These credentials in ``region`` (None or this region: this very ``Aws``)."""
        if region is None or region == self.region:
            return self
        key = (None, region)
        if key not in self._elsewhere:
            there = Aws(self.session, region=region, spoke_role=self.spoke_role)
            if "account_id" in self.__dict__:
                there.__dict__["account_id"] = self.account_id  # the same credentials
            self._elsewhere[key] = there
        return self._elsewhere[key]

    def reach(self, place: Place) -> Aws:
        """What reaches ``place``'s resources: its role assumed there, or these credentials."""
        if place.role_arn is None:
            return self.at(place.region)
        key = (place.role_arn, place.region)
        if key not in self._elsewhere:
            assumed = _assumed(self.session, place.role_arn)
            self._elsewhere[key] = Aws(assumed, region=place.region, spoke_role=self.spoke_role)
        return self._elsewhere[key]


def _assumed(source: boto3.Session, role_arn: str) -> boto3.Session:
    """A session whose credentials come from assuming ``role_arn`` (refreshed as they expire).

    Nothing is called yet: the role is assumed on the first request, so a role that
    cannot be assumed fails that request, with STS's message naming the role.
    """
    import botocore.session
    from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

    fetcher = AssumeRoleCredentialFetcher(
        client_creator=source.client,
        source_credentials=source.get_credentials(),
        role_arn=role_arn,
        extra_args={"RoleSessionName": "envctl"},
    )
    core = botocore.session.Session()
    # botocore's own way to give a session refreshable credentials (no public setter).
    core._credentials = DeferredRefreshableCredentials(  # type: ignore[attr-defined]
        method="assume-role", refresh_using=fetcher.fetch_credentials
    )
    return boto3.Session(botocore_session=core)
