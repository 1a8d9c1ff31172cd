"""The cron of a heads-up: a stop's cron moved earlier by the heads-up lead.

Kept apart from ``scheduler_core.heads_up`` because the config loader refuses, at
load time, a stop that no heads-up can precede exactly.
"""

from __future__ import annotations

import re

from scheduler_core.cron.expression import ON_DEMAND
from scheduler_core.cron.shift import ShiftError, shift_cron

_FIXED = re.compile(r"^\d{1,2}$")


class HeadsUpError(ValueError):
    """No heads-up can be scheduled before this stop cron; the message says why."""


def heads_up_cron(stop_fields: str, lead_minutes: int) -> str:
    """The six cron fields that run ``lead_minutes`` before ``stop_fields``.

    Across midnight the day fields move with it (a stop ``0 0 ? * TUE-SAT *`` with
    15 minutes is ``45 23 ? * MON-FRI *``).

    Raises:
        HeadsUpError: the stop has no single fixed time of day, or its day fields
            cannot move across midnight exactly (``L``, ``#``, months or years).
    """
    minute, hour = stop_fields.split()[:2]
    if not (_FIXED.match(minute) and _FIXED.match(hour)):
        raise HeadsUpError(
            f'the stop runs at more than one time of day (minutes "{minute}", hours "{hour}")'
        )
    try:
        return shift_cron(stop_fields, -lead_minutes)
    except ShiftError as exc:
        raise HeadsUpError(str(exc)) from exc


def problem(stop_resources_at: str, lead_minutes: int) -> str | None:
    """Why a stop on ``stop_resources_at`` can get no heads-up that early, or None."""
    if not lead_minutes or stop_resources_at == ON_DEMAND:
        return None
    try:
        heads_up_cron(stop_resources_at, lead_minutes)
    except HeadsUpError as exc:
        return (
            f"no heads-up can be scheduled {lead_minutes} min before stop_resources_at "
            f'"{stop_resources_at}": {exc}; set heads_up_minutes: 0 or stop at one fixed time'
        )
    return None
