"""Reading the compositions file's YAML within bounds (see ``scheduler_core.config.loader``).

Its size, nesting and what its aliases expand to are bounded while it is composed,
before any Python structure is built, so that no file can exhaust memory, time or the
stack. Also the short renderings of values and keys that error messages quote.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import yaml

from scheduler_core.fields import shown
from scheduler_core.text import printable

# Limits on the compositions file. A real file is a few KiB, nests about 7 levels and
# holds a few thousand values; anchors that share a resource list between compositions
# stay far below MAX_VALUES, while an alias "bomb" (anchors of aliases of anchors)
# crosses it after a few aliases instead of expanding to billions of values.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_VALUES = 20_000
# Longest rendering of a value or key in an error message.
MAX_SHOWN = 80
ELLIPSIS = "…"


def brief(value: Any) -> str:
    """``shown(value)``, cut to MAX_SHOWN characters: a message never dumps a big value."""
    text = shown(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - len(ELLIPSIS)] + ELLIPSIS


def key_label(key: Any) -> str:
    """A key as part of a field path: control characters escaped, cut to MAX_SHOWN."""
    text = printable(str(key))
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - len(ELLIPSIS)] + ELLIPSIS


def too_large(where: str, size: str) -> str:
    return f"{where}: file is {size}; at most {MAX_FILE_BYTES} bytes (1 MiB) are allowed"


def yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} (line {mark.line + 1})" if mark else str(problem)


class Marked(Protocol):
    """A position in the file (PyYAML's pure and C marks both have one)."""

    line: int


class LimitError(yaml.YAMLError):
    """The file is valid YAML but exceeds one of the limits above."""

    def __init__(self, mark: Marked | None, problem: str) -> None:
        # Events read from a stream always carry their position; 0 if one ever did not.
        self.line = mark.line + 1 if mark is not None else 0
        self.problem = problem
        super().__init__(problem)


class _Extent(NamedTuple):
    """What a composed node becomes once its aliases are expanded."""

    values: int  # nodes in it, itself included
    levels: int  # lists and mappings nested in it, itself included


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and enforces the file's limits.

    PyYAML shares one node (and one object) between an anchor and its aliases, so
    composing a bomb is cheap; what explodes is every later walk over the result
    (validation, error messages). The composer therefore tracks, for every node, how
    many values and levels it expands to: an alias adds its anchor's whole extent, so
    the total is known, and refused, without expanding anything.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._extents: dict[yaml.Node, _Extent] = {}
        self._values = 0
        self._depth = 0
        self._deepest = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            target = self.anchors.get(event.anchor)
            # An undefined alias is left to the composer's own error.
            if target is not None:
                extent = self._extents.get(target)
                if extent is None:
                    raise LimitError(
                        event.start_mark,
                        f"alias *{key_label(event.anchor)} is used inside its own anchor; "
                        "recursive structures are not allowed",
                    )
                self._count(extent, mark=event.start_mark, alias=True)
            return super().compose_node(parent, index)
        collection = isinstance(event, yaml.CollectionStartEvent)
        depth, deepest, values = self._depth, self._deepest, self._values
        self._deepest = depth
        self._count(_Extent(values=1, levels=int(collection)), mark=event.start_mark, alias=False)
        self._depth += collection
        node = super().compose_node(parent, index)
        self._depth = depth
        if node is not None:
            self._extents[node] = _Extent(
                values=self._values - values, levels=self._deepest - depth
            )
        self._deepest = max(deepest, self._deepest)
        return node

    def _count(self, extent: _Extent, *, mark: Marked | None, alias: bool) -> None:
        """Add ``extent`` at the current position; refuse the file past a limit."""
        expanded = " once aliases are expanded" if alias else ""
        self._values += extent.values
        if self._values > MAX_VALUES:
            hint = " (an anchor may be shared, not multiplied)" if alias else ""
            raise LimitError(
                mark,
                f"more than {MAX_VALUES} values{expanded}; at most {MAX_VALUES} are allowed{hint}",
            )
        deepest = self._depth + extent.levels
        if deepest > MAX_DEPTH:
            raise LimitError(
                mark,
                f"lists and mappings nested more than {MAX_DEPTH} levels deep{expanded}; "
                f"at most {MAX_DEPTH} levels are allowed",
            )
        self._deepest = max(self._deepest, deepest)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            # e.g. 2024-13-45 (resolved as a date) or an integer of 5000 digits.
            kind = node.tag.rsplit(":", 1)[-1]
            value = brief(node.value) if isinstance(node, yaml.ScalarNode) else "the value"
            # The first clause only: the rest may repeat the value or give Python advice.
            reason = str(exc).split(":")[0][:MAX_SHOWN]
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {value} as {kind}: {reason}", node.start_mark
            ) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                duplicate = key in seen
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, f"found unhashable key (line {line})"
                ) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {brief(key)} (first on line {seen[key]}, again on line {line})",
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)
