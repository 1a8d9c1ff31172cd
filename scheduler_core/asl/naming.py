"""State names: unique within the 80-character limit, and the kinds that are read back.

``StateNamer`` hands out readable, unique names. Some kinds of state name are read
back by other parts of envctl, so each has its format and its parse here, in one
place (``StateName``):

=================  =====================================  ==========================
kind               example                                read by
=================  =====================================  ==========================
``PREPARE``        ``Prepare ecs_service shop/api``       execution progress (since)
``act(verb)``      ``Start ecs_service shop/api``         execution progress
``POLL_WAIT``      ``Wait for ecs_service shop/api``      the emulator (speeds it up)
``DONE``           ``Done ecs_service shop/api``          execution progress
``WAIT_STEP``      ``Wait 30s``                           execution progress
``parallel(verb)`` ``Start in parallel: a, b``            (told apart from ``act``)
=================  =====================================  ==========================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MAX_STATE_NAME = 80


@dataclass(frozen=True)
class StateName:
    """A kind of state name: a fixed prefix, then the subject.

    ``template`` is what ``StateNamer`` takes (it may shorten the subject or add
    `` #2``); ``parse`` gives back the subject as shown, or None for another kind.
    ``excludes``: prefixes of other kinds that begin with this one.
    """

    prefix: str
    excludes: tuple[str, ...] = ()

    @property
    def template(self) -> str:
        return self.prefix + "{}"

    def format(self, subject: str) -> str:
        return self.prefix + subject

    def parse(self, name: str) -> str | None:
        if not name.startswith(self.prefix) or name.startswith(self.excludes):
            return None
        return name.removeprefix(self.prefix)


PREPARE = StateName("Prepare ")
POLL_WAIT = StateName("Wait for ")
DONE = StateName("Done ")
#: A composition's ``wait`` step, whose subject is its length (``30s``).
WAIT_STEP = StateName("Wait ", excludes=(POLL_WAIT.prefix,))


def parallel(verb: str) -> StateName:
    """``Start in parallel: a, b``: the Parallel state of a group of steps."""
    return StateName(f"{verb} in parallel: ")


def act(verb: str) -> StateName:
    """``Start ecs_service shop/api``: the call that starts (or stops) one resource."""
    return StateName(f"{verb} ", excludes=(parallel(verb).prefix,))


class StateNamer:
    """Hands out state names that are unique across a whole state machine.

    State names must be unique even across Parallel branches, and a composition may
    list the same resource twice, so every subject gets a tag that is unique
    ("ecs_service shop/api", then "ecs_service shop/api #2").
    """

    def __init__(self) -> None:
        self._used: set[str] = set()
        self._subjects: dict[str, int] = {}

    def for_subject(self, subject: str) -> Callable[[str], str]:
        """Return a function that turns templates like "Start {}" into state names."""
        seen = self._subjects.get(subject, 0) + 1
        self._subjects[subject] = seen
        tag = subject if seen == 1 else f"{subject} #{seen}"
        return lambda template: self.claim(template, tag)

    def claim(self, template: str, tag: str = "") -> str:
        """Reserve the name for ``template`` (``{}`` stands for the tag)."""
        budget = MAX_STATE_NAME - len(template.replace("{}", ""))
        shown = tag if len(tag) <= budget else tag[: max(budget - 1, 1)] + "…"
        candidate = template.replace("{}", shown)
        number = 2
        while candidate in self._used or len(candidate) > MAX_STATE_NAME:
            suffix = f" #{number}"
            candidate = template.replace("{}", shown)[: MAX_STATE_NAME - len(suffix)] + suffix
            number += 1
        self._used.add(candidate)
        return candidate
