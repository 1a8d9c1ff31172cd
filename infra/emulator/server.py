"""The local AWS: moto's server with Step Functions execution and envctl's fixes.

``Emulator`` runs moto's threaded server on 127.0.0.1 in this process, so the
patches below (request/response casing of SDK integrations, EFS and FSx
UpdateFileSystem, resources that take time to start and stop, task ``Credentials``)
apply to the state machines it executes. ``speed`` divides every emulated duration
(``lifecycle``): by default ``ENVCTL_EMULATOR_SPEED`` or 1000, so a 5-minute RDS start
takes 0.3 s. It then creates what a deployed stack would have created: the two default
roles and the DynamoDB table (README "Settings"), so every command works against a
bare emulator.

Regions and accounts. ``region`` is the region ``environment()`` exports and
``client()`` calls (default: ``AWS_DEFAULT_REGION`` or ``AWS_REGION``, read when used,
else us-east-1), but nothing is tied to it: the envctl table appears in any region of
the default account (123456789012) the first time that region is used (``tables``),
the roles are global, and a state machine runs its tasks in its own region. Other
accounts are reached as in AWS, by assuming a role there: a client whose credentials
come from ``sts.assume_role`` of ``arn:aws:iam::<account>:role/...`` acts in that
account, and so does a Task whose ``Credentials`` name such a role, if the role exists
and trusts the state machine's role or account (``credentials``).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from typing import Any

import boto3

from infra.emulator import (
    backup_selections,
    casing,
    credentials,
    fidelity,
    file_systems,
    lifecycle,
    missing,
    tables,
)
from scheduler_core import names

#: The region used when neither the caller nor the environment names one.
REGION = DEFAULT_REGION = "us-east-1"
REGION_VARIABLES = ("AWS_DEFAULT_REGION", "AWS_REGION")
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
STATE_MACHINE_ROLE = names.STATE_MACHINE_ROLE
SCHEDULER_ROLE = names.SCHEDULER_ROLE
TRUST = {
    STATE_MACHINE_ROLE: "states.amazonaws.com",
    SCHEDULER_ROLE: "scheduler.amazonaws.com",
}


def region_from_environment(default: str = DEFAULT_REGION) -> str:
    """The region the environment names (``AWS_DEFAULT_REGION``, then ``AWS_REGION``)."""
    for name in REGION_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return default


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Emulator:
    """moto's server on 127.0.0.1:port, patched and bootstrapped for envctl."""

    port: int = 0
    table_name: str = "envctl"
    #: Emulated time runs this many times faster than AWS; None: the environment or 1000.
    speed: float | None = None
    #: The region ``environment()`` exports and ``client()`` uses; None: the environment's
    #: (read at each use, so a caller that sets it later is followed), else us-east-1.
    region: str | None = None
    _server: Any = field(default=None, init=False, repr=False)
    _previous_speed: float | None = field(default=None, init=False, repr=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def region_name(self) -> str:
        """The region in use: ``region`` if set, else the environment's, else us-east-1."""
        return self.region or region_from_environment()

    def start(self) -> Emulator:
        """Start serving and bootstrap; returns self so ``Emulator().start()`` reads well."""
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        self.port = self.port or free_port()
        # moto's executor calls back into the server at localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.port)
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        casing.install()
        fidelity.install()
        file_systems.install()
        backup_selections.install()
        missing.install()
        lifecycle.install()
        credentials.install()
        tables.install()
        tables.register(self.table_name)
        # The speed is process-wide (so are moto's backends); stop() restores the last one.
        self.speed = lifecycle.speed_from(self.speed)
        self._previous_speed = lifecycle.set_speed(self.speed)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self.bootstrap()
        return self

    def prepare(self) -> None:
        """Re-assert execution and the bootstrap resources.

        ``moto.mock_aws`` resets moto's global state and settings when it exits, and
        another emulator in the same process moves ``MOTO_PORT``; a long-lived
        emulator (tests) calls this before use.
        """
        from moto.core.config import default_user_config

        os.environ["MOTO_PORT"] = str(self.port)
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        if self.speed is not None:
            lifecycle.set_speed(self.speed)
        self.bootstrap()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
            if self._previous_speed is not None:
                lifecycle.set_speed(self._previous_speed)
                self._previous_speed = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self, service: str) -> Any:
        # The stubs type each service name as a literal; this one is a runtime string.
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=self.region_name,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def environment(self) -> dict[str, str]:
        """Variables that point boto3 (and envctl) at this emulator."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region_name,
            **FAKE_CREDENTIALS,
        }

    def bootstrap(self) -> None:
        """Create the default roles, and the envctl table in this region, if missing.

        The table also appears by itself in any other region when first used (``tables``).
        """
        iam = self.client("iam")
        existing = {role["RoleName"] for role in iam.list_roles()["Roles"]}
        for role, principal in TRUST.items():
            if role in existing:
                continue
            policy = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": principal},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(policy))
        dynamodb = self.client("dynamodb")
        if self.table_name not in dynamodb.list_tables()["TableNames"]:
            dynamodb.create_table(
                TableName=self.table_name,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=tables.ATTRIBUTES,
                KeySchema=tables.KEY_SCHEMA,
            )
            dynamodb.update_time_to_live(
                TableName=self.table_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": tables.TTL_ATTRIBUTE},
            )
