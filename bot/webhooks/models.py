"""The webhook API's bodies: what a start or stop may send, and what it answers.

pydantic models, so the resolver validates requests and documents both in OpenAPI.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.webhooks.events import echo
from scheduler_core.durations import parse_duration
from scheduler_core.exceptions import BadInputError
from scheduler_core.runtime.operations import Run
from scheduler_core.text import check_plain


class StartBody(BaseModel):
    """Optional body of a start: how long to keep it up, and why."""

    model_config = ConfigDict(extra="forbid")
    duration: str | None = Field(
        default=None, description="e.g. 30m, 2h, 1h30m; at most 7d", examples=["2h"]
    )
    reason: str | None = Field(default=None, max_length=500, examples=["ticket CHG-42"])

    @field_validator("duration")
    @classmethod
    def _valid_duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)  # raises ValueError with what is allowed
        return value

    @field_validator("reason")
    @classmethod
    def _plain_reason(cls, value: str | None) -> str | None:
        return _plain_reason(value)


class StopBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=500)

    @field_validator("reason")
    @classmethod
    def _plain_reason(cls, value: str | None) -> str | None:
        return _plain_reason(value)


def _plain_reason(value: str | None) -> str | None:
    """A reason goes into the audit log: one plain line, or a 422."""
    if value is None:
        return None
    try:
        check_plain(value, field="reason")
    except BadInputError as exc:
        # pydantic turns ValueError (not BadInputError) into a validation error.
        raise ValueError(str(exc).removeprefix("reason: ")) from None
    return value


class Accepted(BaseModel):
    """202 answer of start and stop."""

    model_config = ConfigDict(extra="forbid")
    composition: str
    action: str
    executionArn: str  # the contract's name
    joined: bool | None = Field(
        default=None,
        description="true when a run of the same action was already in progress: "
        "nothing new was started and executionArn is that run's (absent otherwise)",
    )


class StartAccepted(Accepted):
    """202 answer of start: ``auto_stop_at`` when it stops by itself (absent, not null)."""

    auto_stop_at: str | None = Field(
        default=None, description="when it stops by itself (ISO 8601, UTC); absent otherwise"
    )


def accepted_response(model: type[Accepted], action: str) -> OpenAPIResponse:
    """The OpenAPI description of a 202 answer."""
    return {
        "description": f"the {action} was accepted, or joined the {action} already running",
        "content": {"application/json": {"model": model}},
    }


def accepted(composition: str, action: str, run: Run) -> dict[str, Any]:
    """The 202 body: ``auto_stop_at`` and ``joined`` only when they apply (never null)."""
    answer: dict[str, Any] = {
        "composition": composition,
        "action": action,
        "executionArn": run.execution_arn,
    }
    if run.joined:
        answer["joined"] = True
    if action != "start":
        return Accepted.model_validate(answer).model_dump(exclude_none=True)
    if run.auto_stop_at is not None:
        answer["auto_stop_at"] = run.auto_stop_at.isoformat()
    return StartAccepted.model_validate(answer).model_dump(exclude_none=True)


def validation_message(errors: Sequence[Any], *, path: str) -> str:
    """The 422 sentence for pydantic's errors of a request body (at most five)."""
    problems = []
    for item in errors:
        location = ".".join(echo(str(part)) for part in item.get("loc", ()) if part != "body")
        if item.get("type") == "extra_forbidden":
            message = _unknown_field(str(item.get("loc", ("",))[-1]), path=path)
        else:
            message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append(f"{location}: {message}" if location else message)
    return "; ".join(problems[:5]) or "invalid request"


def _unknown_field(name: str, *, path: str) -> str:
    """``unknown field; allowed: duration, reason (did you mean duration?)``."""
    model = StopBody if path.rstrip("/").endswith("/stop") else StartBody
    allowed = sorted(model.model_fields)
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown field; allowed: {', '.join(allowed)}{hint}"
