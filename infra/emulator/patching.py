"""Shared pieces of the emulator's moto patches: wrapping once, json-protocol errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError


class JsonProtocolError(JsonRESTError):
    """HTTP 400 whose ``__type`` names the error shape; extra members go next to the message."""

    def __init__(self, error_type: str, message: str, **fields: str) -> None:
        super().__init__(error_type, message)
        # Some errors carry members besides the message (IncompatibleParameterError.Parameter,
        # AlreadyExistsException.CreatorRequestId).
        self.description = json.dumps({"__type": error_type, "message": message, **fields})


ORIGINAL_PREFIX = "_envctl_original_"


def wrap_once(cls: type, name: str, wrapper: Callable[[Any], Any]) -> None:
    """Wrap ``cls.name`` unless already wrapped; the original is kept on the class.

    ``install()`` functions may run more than once (tests, several emulators in a
    process): a second call must not stack another layer.
    """
    marker = f"{ORIGINAL_PREFIX}{name}"
    if marker in cls.__dict__:
        return
    original = getattr(cls, name)
    setattr(cls, marker, original)
    setattr(cls, name, wrapper(original))
