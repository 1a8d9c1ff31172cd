"""An error for moto patches of json-protocol services (FSx, Backup)."""

from __future__ import annotations

import json

from moto.core.exceptions import JsonRESTError


class JsonProtocolError(JsonRESTError):
    """HTTP 400 whose ``__type`` names the error shape; extra members go next to the message."""

    def __init__(self, error_type: str, message: str, **fields: str) -> None:
        super().__init__(error_type, message)
        # Some errors carry members besides the message (IncompatibleParameterError.Parameter,
        # AlreadyExistsException.CreatorRequestId).
        self.description = json.dumps({"__type": error_type, "message": message, **fields})
