"""Every name envctl gives an AWS object, written and read back in one place.

One part of envctl writes these names and another reads them: the generator names
the state machines and ``apply`` creates them, the runtime starts them by name, the
notifier and the conflict finder recognise them in ARNs and schedule targets. Each
name therefore has its format here and, where something reads it back, its parse.

==========================  =========================================
state machines              ``envctl-<composition>-start`` / ``-stop``
window bracket machine      ``envctl-<composition>-windows``
schedule group              ``envctl-<composition>``
schedules in the group      ``start``, ``stop``, ``auto-stop``,
                            ``window-<key>-<start|stop>``
IAM roles (defaults)        ``envctl-state-machine``, ``envctl-scheduler``,
                            ``envctl-spoke`` (in other accounts)
==========================  =========================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scheduler_core.actions import Action

PREFIX = "envctl-"
WINDOWS = "windows"
AUTO_STOP = "auto-stop"
# Heads-ups before stops (scheduler_core.heads_up): the scheduled stop's and the auto-stop's.
HEADS_UP = "heads-up"
AUTO_STOP_HEADS_UP = "auto-stop-heads-up"
STATE_MACHINE_ROLE = "envctl-state-machine"
SCHEDULER_ROLE = "envctl-scheduler"
#: The role a composition in another account is reached through, unless it names one.
SPOKE_ROLE = "envctl-spoke"
#: The role EventBridge forwards other regions' run events to the deployment's bus as.
EVENTS_ROLE = "envctl-event-forwarding"

#: What a composition may be called: short enough for every derived name (Step
#: Functions allows 80 characters, schedule groups 64) and safe in all of them.
COMPOSITION_RULE = (
    "letters, digits, '-' and '_', at most 40 characters, starting with a letter or digit"
)
_COMPOSITION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
_MACHINE = re.compile(rf"^{re.escape(PREFIX)}(?P<composition>.+)-(?P<kind>start|stop|{WINDOWS})$")


def is_composition_name(name: str) -> bool:
    return _COMPOSITION.fullmatch(name) is not None


def state_machine(composition: str, action: Action) -> str:
    """``envctl-staging-start``."""
    return f"{PREFIX}{composition}-{action.value}"


def windows_machine(composition: str) -> str:
    """``envctl-staging-windows``: starts and stops single resources around windows."""
    return f"{PREFIX}{composition}-{WINDOWS}"


@dataclass(frozen=True, kw_only=True)
class MachineName:
    """A state machine name read back: whose it is, and what it does."""

    composition: str
    action: Action | None  # None: the window bracket machine


def parse_state_machine(name_or_arn: str) -> MachineName | None:
    """The parts of one of envctl's machine names (or ARNs); None for anyone else's."""
    found = _MACHINE.match(name_or_arn.rsplit(":", 1)[-1])
    if found is None:
        return None
    kind = found["kind"]
    return MachineName(
        composition=found["composition"], action=None if kind == WINDOWS else Action(kind)
    )


def schedule_group(composition: str) -> str:
    """``envctl-staging``: the group that holds all of a composition's schedules."""
    return f"{PREFIX}{composition}"


def scheduled(action: Action) -> str:
    """The name of the office-hours schedule of ``action``: ``start`` / ``stop``."""
    return action.value


def window_schedule(key: str, action: Action) -> str:
    """``window-<key>-start``: one side of a bracket around a maintenance/backup window."""
    return f"window-{key}-{action.value}"


def arn_region(arn: str) -> str | None:
    """The region field of an ARN (``arn:aws:states:eu-west-1:...``); None if it has none."""
    parts = arn.split(":")
    return parts[3] or None if len(parts) > 3 and parts[0] == "arn" else None
