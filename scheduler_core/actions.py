"""Start or stop: the one vocabulary every part of envctl uses for what a run does.

A module of its own so that naming, schedules and windows can say ``Action`` without
loading the resource kinds.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    START = "start"
    STOP = "stop"

    @property
    def verb(self) -> str:
        """``Start`` / ``Stop``: how state names begin."""
        return self.value.capitalize()
