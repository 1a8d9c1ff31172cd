"""Throttling on demand (``faults.throttled``): the next calls of an API answer the
throttling error of their service, serialised as that service serialises errors."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from infra.emulator.lifecycle.faults import any_throttled, take_throttle
from infra.emulator.patching import wrap_once

SECONDS: dict[str, float] = {}

# Each service's own word for it (the Query services say Throttling).
_CODES = {
    "rds": "Throttling",
    "redshift": "Throttling",
    "autoscaling": "Throttling",
    "ec2": "RequestLimitExceeded",
}


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult

    class Throttled(ServiceException):
        """Defined outside moto's packages, so it is serialised for the calling service."""

    def call_action(self: Any) -> Any:
        if any_throttled():
            service = str(getattr(self, "service_name", "") or "")
            action = self._get_action()
            if action and take_throttle(service, action):
                error = Throttled(_CODES.get(service, "ThrottlingException"), "Rate exceeded")
                with warnings.catch_warnings():
                    # Most services model no throttling error shape; moto warns.
                    warnings.simplefilter("ignore")
                    status, headers, body = self.serialized(ActionResult(error))
                headers["status"] = status
                return status, headers, body
        return original(self)

    return call_action


def install() -> None:
    from moto.core.responses import BaseResponse

    wrap_once(BaseResponse, "call_action", _wrap)
