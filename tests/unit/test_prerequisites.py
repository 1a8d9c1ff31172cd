"""The role check before a run: missing is named, unreadable is not held against anyone."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from scheduler_core.exceptions import NotDeployedError
from scheduler_core.runtime import prerequisites
from scheduler_core.settings import Settings


class FakeIam:
    def __init__(self, code: str | None) -> None:
        self.code = code
        self.asked: list[str] = []

    def get_role(self, RoleName: str) -> dict[str, Any]:  # boto3 casing
        self.asked.append(RoleName)
        if self.code is not None:
            raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, "GetRole")
        return {"Role": {"RoleName": RoleName}}


class FakeAws:
    region, account_id, partition = "eu-west-1", "210987654321", "aws"

    def __init__(self, iam: FakeIam) -> None:
        self.iam = iam

    def client(self, service: str) -> FakeIam:
        assert service == "iam"
        return self.iam


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prerequisites, "_seen_roles", set())


def test_missing_state_machine_role_is_named_with_account_and_what_to_do() -> None:
    aws = FakeAws(FakeIam("NoSuchEntity"))

    with pytest.raises(NotDeployedError) as raised:
        prerequisites.require_roles(aws, Settings(), scheduler=False)  # type: ignore[arg-type]

    assert str(raised.value) == (
        "the role arn:aws:iam::210987654321:role/envctl-state-machine does not exist "
        "(account 210987654321); deploy the envctl stack there, or start `envctl local` "
        "for the local emulator, or set ENVCTL_STATE_MACHINE_ROLE_ARN to the role envctl "
        "should use"
    )


def test_scheduler_role_is_checked_only_for_an_auto_stop() -> None:
    iam = FakeIam(None)
    prerequisites.require_roles(FakeAws(iam), Settings(), scheduler=False)  # type: ignore[arg-type]
    prerequisites.require_roles(FakeAws(iam), Settings(), scheduler=True)  # type: ignore[arg-type]

    assert iam.asked == ["envctl-state-machine", "envctl-scheduler"]  # each once per process


def test_caller_without_permission_to_read_roles_is_not_refused() -> None:
    iam = FakeIam("AccessDenied")

    prerequisites.require_roles(FakeAws(iam), Settings(), scheduler=True)  # type: ignore[arg-type]

    assert iam.asked == ["envctl-state-machine", "envctl-scheduler"]


def test_other_iam_errors_are_not_hidden() -> None:
    with pytest.raises(ClientError):
        prerequisites.require_roles(  # type: ignore[arg-type]
            FakeAws(FakeIam("Throttling")), Settings(), scheduler=False
        )
