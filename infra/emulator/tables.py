"""The envctl table in every region of the default account, created on first use.

A deployed stack creates the table in the region it is deployed to; a local user may
pick any region (``AWS_DEFAULT_REGION=eu-west-1``). moto builds a region's DynamoDB
backend the first time a request (or a state machine's task) reaches that region, so
the table is created there and then: ``install()`` wraps the backend's constructor
(which moto also runs when it resets its state). Only the names passed to
``register`` are created, and only in the default account (the hub): any other
table, in any account, is missing until someone creates it, as in AWS.

Creating the table in all ~30 regions up front would cost every ``Emulator.prepare()``
a few dozen requests; creating it lazily costs nothing until a region is used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from infra.emulator.patching import wrap_once

#: The table a deployed stack creates (template.yaml): pk/sk strings, on demand, TTL.
ATTRIBUTES = [
    {"AttributeName": "pk", "AttributeType": "S"},
    {"AttributeName": "sk", "AttributeType": "S"},
]
KEY_SCHEMA = [
    {"AttributeName": "pk", "KeyType": "HASH"},
    {"AttributeName": "sk", "KeyType": "RANGE"},
]
TTL_ATTRIBUTE = "expires_at"

_NAMES: set[str] = set()
_LOCK = threading.Lock()


def _default_account() -> str:
    from moto.core.models import DEFAULT_ACCOUNT_ID

    return str(DEFAULT_ACCOUNT_ID)


def ensure(backend: Any, name: str) -> None:
    """Create ``name`` in this DynamoDB backend (one account, one region) unless present."""
    if name in backend.tables:
        return
    backend.create_table(
        name,
        schema=KEY_SCHEMA,
        throughput=None,
        attr=ATTRIBUTES,
        global_indexes=[],
        indexes=[],
        streams=None,
        billing_mode="PAY_PER_REQUEST",
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    backend.update_time_to_live(name, {"Enabled": True, "AttributeName": TTL_ATTRIBUTE})


def _wrap_init(original: Callable[..., None]) -> Callable[..., None]:
    def init(self: Any, region_name: str, account_id: str, *args: Any, **kwargs: Any) -> None:
        original(self, region_name, account_id, *args, **kwargs)
        if account_id == _default_account():
            with _LOCK:
                names = sorted(_NAMES)
            for name in names:
                ensure(self, name)

    return init


def register(name: str) -> None:
    """Have ``name`` exist in every region of the default account from now on.

    Regions whose backend moto has already built get it now; the others when first used.
    """
    from moto.dynamodb.models import dynamodb_backends

    with _LOCK:
        _NAMES.add(name)
    account = _default_account()
    # ``in`` does not build an account's backends; a fresh process has none yet.
    if account not in dynamodb_backends:
        return
    for backend in list(dynamodb_backends[account].values()):
        ensure(backend, name)


def install() -> None:
    """Wrap moto's DynamoDB backend constructor (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend

    wrap_once(DynamoDBBackend, "__init__", _wrap_init)
