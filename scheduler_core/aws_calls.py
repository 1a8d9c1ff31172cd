"""What every reader of AWS shares: the client factory it is given, and how to read
botocore's answers (error codes, "not found", tag lists).

A leaf module: it imports nothing of envctl, so resource kinds, conflicts and
windows can all use it without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

# ``clients("rds")`` returns a boto3 client; ``scheduler_core.aws.Aws`` is one.
ClientFactory = Callable[[str], Any]


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", ""))


def is_not_found(exc: ClientError, *codes: str) -> bool:
    """True when the error says the resource does not exist."""
    code = error_code(exc)
    return code in codes or code.endswith("NotFound") or code.endswith("NotFoundFault")


def tags_of(tag_list: Any) -> dict[str, str]:
    """``[{"Key": k, "Value": v}, ...]`` (RDS TagList, Redshift Tags) as a dict."""
    return {
        str(tag["Key"]): str(tag.get("Value", ""))
        for tag in tag_list or ()
        if isinstance(tag, Mapping) and "Key" in tag
    }
