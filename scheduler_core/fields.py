"""Field types for the compositions file.

The Terraform module's ``resource_composition`` items carry numbers as strings
(``desired: "1"``), so numeric fields accept numeric strings too. Every failure
message says what is expected and what was given, in the file's own terms.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from functools import cache
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError


def shown(value: Any) -> str:
    """Render a YAML value the way the user wrote it, for error messages."""
    if isinstance(value, str):
        return json.dumps(value)
    if value is None:
        return "nothing"
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)


def _number(value: Any, *, minimum: float, integer: bool) -> int | float:
    expected = f"expected {'an integer' if integer else 'a number'} >= {minimum:g}"
    parsed: int | float | None = None
    if isinstance(value, bool):
        parsed = None
    elif isinstance(value, int):
        parsed = value
    elif isinstance(value, float):
        parsed = int(value) if value.is_integer() and integer else value
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = int(text)
        except ValueError:
            try:
                parsed = float(text)
            except ValueError:
                parsed = None
    if parsed is None or (integer and not isinstance(parsed, int)) or not math.isfinite(parsed):
        raise PydanticCustomError("envctl_number", f"{expected}, got {shown(value)}")
    if parsed < minimum:
        raise PydanticCustomError("envctl_number", f"{expected}, got {shown(value)}")
    return parsed


def _non_negative_int(value: Any) -> int:
    return int(_number(value, minimum=0, integer=True))


def _positive_int(value: Any) -> int:
    return int(_number(value, minimum=1, integer=True))


# Step Functions runs one execution for at most a year (its quota "Maximum execution
# time", a hard limit): a longer wait or ready timeout could never end.
MAX_EXECUTION_SECONDS = 365 * 24 * 60 * 60


def _seconds(value: Any, *, minimum: int) -> int:
    seconds = int(_number(value, minimum=minimum, integer=True))
    if seconds > MAX_EXECUTION_SECONDS:
        raise PydanticCustomError(
            "envctl_seconds",
            f"expected at most {MAX_EXECUTION_SECONDS} seconds (365 days, the longest a "
            f"Step Functions execution runs), got {shown(value)}",
        )
    return seconds


def _wait_seconds(value: Any) -> int:
    return _seconds(value, minimum=0)


def _timeout_seconds(value: Any) -> int:
    return _seconds(value, minimum=1)


def _throughput(value: Any) -> float:
    return float(_number(value, minimum=1, integer=False))


def _identifier(value: Any) -> str:
    # Ids are never numbers in AWS, but YAML turns `id: 123` into one; say so plainly.
    if not isinstance(value, str) or not value.strip():
        raise PydanticCustomError(
            "envctl_identifier", f"expected a non-empty name or id, got {shown(value)}"
        )
    return value.strip()


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise PydanticCustomError("envctl_boolean", f"expected true or false, got {shown(value)}")


def _network(value: Any) -> str:
    # Kept as text (the canonical form) so the config stays plain data.
    try:
        return str(ipaddress.ip_network(str(value).strip(), strict=False))
    except ValueError:
        raise PydanticCustomError(
            "envctl_network",
            f"expected an IPv4 or IPv6 address or CIDR such as 203.0.113.0/24 or 2001:db8::/32, "
            f"got {shown(value)}",
        ) from None


_ACCOUNT = re.compile(r"\d{12}")
# IAM role names (and paths): letters, digits and +=,.@_- ; at most 64 characters.
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_ROLE_ARN = re.compile(
    r"arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}"
)


def _account(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    if text is not None and _ACCOUNT.fullmatch(text):
        return text
    # YAML reads an unquoted 012345678901 as a number and drops the leading zero.
    hint = "; quote it in YAML" if isinstance(value, int) and not isinstance(value, bool) else ""
    raise PydanticCustomError(
        "envctl_account", f"expected a 12-digit AWS account id{hint}, got {shown(value)}"
    )


@cache
def known_regions() -> frozenset[str]:
    """Every region of every partition the installed botocore knows."""
    import botocore.session

    endpoints = botocore.session.get_session().get_data("endpoints")
    return frozenset(
        region for partition in endpoints["partitions"] for region in partition["regions"]
    )


def _region(value: Any) -> str:
    if isinstance(value, str) and value.strip() in known_regions():
        return value.strip()
    raise PydanticCustomError(
        "envctl_region", f"expected an AWS region name such as eu-west-1, got {shown(value)}"
    )


def _role(value: Any) -> str:
    if isinstance(value, str) and (
        _ROLE_NAME.fullmatch(value.strip()) or _ROLE_ARN.fullmatch(value.strip())
    ):
        return value.strip()
    raise PydanticCustomError(
        "envctl_role",
        "expected an IAM role name (such as envctl-spoke) or a role ARN "
        f"(arn:aws:iam::<account>:role/<name>), got {shown(value)}",
    )


def role_arn_account(role: str) -> str | None:
    """The account of a role ARN; None for a role name."""
    found = _ROLE_ARN.fullmatch(role)
    return found.group("account") if found else None


AccountId = Annotated[str, BeforeValidator(_account)]
RegionName = Annotated[str, BeforeValidator(_region)]
RoleRef = Annotated[str, BeforeValidator(_role)]
Count = Annotated[int, BeforeValidator(_non_negative_int)]
Network = Annotated[str, BeforeValidator(_network)]
PositiveInt = Annotated[int, BeforeValidator(_positive_int)]
# Seconds a state machine waits: 0 (or 1 for a timeout) up to MAX_EXECUTION_SECONDS.
WaitSeconds = Annotated[int, BeforeValidator(_wait_seconds)]
TimeoutSeconds = Annotated[int, BeforeValidator(_timeout_seconds)]
Throughput = Annotated[float, BeforeValidator(_throughput)]
Identifier = Annotated[str, BeforeValidator(_identifier)]
Flag = Annotated[bool, BeforeValidator(_boolean)]
