"""The emulator's DynamoDB keeps AWS's promise: a conditional write is atomic.

Callers (the lease, Powertools idempotency) rely on "of many concurrent conditional
writes exactly one wins". Each caller here has its own boto3 session and connection,
as separate Lambda containers would, and they all write at once.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.emulator.server import Emulator

CALLERS = 24


def test_of_concurrent_conditional_writes_exactly_one_wins(
    aws_env: Emulator, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto reads the item, parses the condition, then writes: widen that window the
    # way a busy machine does, so that a lost race shows every time, not sometimes.
    from moto.dynamodb import models

    parser = models.create_condition_expression_parser

    def slow_parser(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.02)
        return parser(*args, **kwargs)

    monkeypatch.setattr(models, "create_condition_expression_parser", slow_parser)
    key = {"pk": {"S": f"race#{unique}"}, "sk": {"S": "lease"}}
    clients = [boto3.Session().client("dynamodb") for _ in range(CALLERS)]
    barrier = threading.Barrier(CALLERS)

    def write(index: int) -> str:
        barrier.wait()
        try:
            clients[index].update_item(
                TableName="envctl",
                Key=key,
                UpdateExpression="SET holder = :me",
                ConditionExpression="attribute_not_exists(holder)",
                ExpressionAttributeValues={":me": {"S": str(index)}},
            )
        except ClientError as exc:
            return exc.response["Error"]["Code"]
        return "won"

    for _ in range(3):
        key["pk"]["S"] += "+"
        with ThreadPoolExecutor(max_workers=CALLERS) as pool:
            outcomes = list(pool.map(write, range(CALLERS)))
        assert outcomes.count("won") == 1, outcomes
        assert outcomes.count("ConditionalCheckFailedException") == CALLERS - 1
