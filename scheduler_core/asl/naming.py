"""Readable, unique state names within the 80-character limit of Step Functions."""

from __future__ import annotations

from collections.abc import Callable

MAX_STATE_NAME = 80


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
