"""Load and validate ``compositions.yaml``; every problem becomes one line.

Validation runs piece by piece (file, composition settings, each item) so each
message can name the file, composition, item index and field exactly, in the
terms of README "Config file": ``compositions.yaml: staging.resources[2].params.desired:
expected an integer >= 0, got "two"``.

The file is untrusted input for a process that may run in a Lambda: its size, its
nesting and what its aliases expand to are bounded while it is composed, before any
Python structure is built, so that no file can exhaust memory, time or the stack.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ValidationError

from scheduler_core import names
from scheduler_core.config.cron import cron_problem
from scheduler_core.config.models import (
    ON_DEMAND,
    Composition,
    CompositionSettings,
    Config,
    ParallelGroup,
    ResourceItem,
    Step,
)
from scheduler_core.durations import parse_duration
from scheduler_core.exceptions import ConfigError
from scheduler_core.fields import shown
from scheduler_core.resources import REGISTRY
from scheduler_core.text import printable

DEFAULT_PATH = "compositions.yaml"
ITEM_KEYS = ("type", "params", "wait_until_ready", "ready_timeout_seconds")

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


def resolve_path(explicit: str | os.PathLike[str] | None) -> Path:
    """-c/--config, else $ENVCTL_CONFIG, else ./compositions.yaml."""
    return Path(explicit or os.environ.get("ENVCTL_CONFIG") or DEFAULT_PATH)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate a compositions file.

    Raises:
        ConfigError: one line per problem; nothing is half-loaded.
    """
    file = resolve_path(path)
    try:
        with file.open("rb") as stream:
            # One byte more than allowed tells "too large" apart without reading it all.
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the compositions file ({exc.strerror})") from exc
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(_too_large(str(file), f"more than {MAX_FILE_BYTES} bytes"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{file}: line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); "
            "save the file as UTF-8"
        ) from None
    return parse_config(text, path=file)


def parse_config(text: str, *, path: Path) -> Config:
    """Validate the text of a compositions file (see load_config)."""
    where = str(path)
    # Characters never outnumber UTF-8 bytes, so only short texts need encoding.
    size = len(text) if len(text) > MAX_FILE_BYTES else len(text.encode("utf-8", "replace"))
    if size > MAX_FILE_BYTES:
        raise ConfigError(_too_large(where, f"{size} bytes"))
    try:
        return _parse(text, path=path, where=where)
    except (RecursionError, MemoryError):
        # The limits below should make this unreachable; a traceback must never be
        # what a bad file produces.
        raise ConfigError(
            f"{where}: too large or too deeply nested to load; at most {MAX_VALUES} values "
            f"nested at most {MAX_DEPTH} levels deep are allowed"
        ) from None


def _parse(text: str, *, path: Path, where: str) -> Config:
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)
    except _LimitError as exc:
        raise ConfigError(f"{where}: line {exc.line}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {_yaml_reason(exc)}") from exc
    if not isinstance(document, dict) or set(document) != {"compositions"}:
        raise ConfigError(f'{where}: expected one top-level key "compositions" holding a mapping')
    raw = document["compositions"]
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"{where}: compositions: expected at least one composition")

    problems: list[str] = []
    compositions: dict[str, Composition] = {}
    seen: set[str] = set()
    for key, body in raw.items():
        # YAML keys 1 and "1" differ, but both name composition "1".
        name = str(key)
        if name in seen:
            label = _label(name)
            problems.append(f'{where}: {label}: duplicate composition name "{label}"')
            continue
        seen.add(name)
        built = _composition(name, body, problems=problems, where=where)
        if built is not None:
            compositions[built.name] = built
    if problems:
        raise ConfigError(problems)
    return Config(path=path, compositions=compositions)


def _composition(name: str, body: Any, *, problems: list[str], where: str) -> Composition | None:
    before = len(problems)

    label = _label(name)

    def report(field: str, message: str) -> None:
        problems.append(f"{where}: {label}{'.' + field if field else ''}: {message}")

    if not names.is_composition_name(name):
        report("", f"invalid composition name; use {names.COMPOSITION_RULE}")
    if not isinstance(body, dict):
        report("", f"expected a mapping of composition settings, got {_brief(body)}")
        return None
    settings = _validated(
        CompositionSettings,
        {k: v for k, v in body.items() if k != "resources"},
        report=report,
    )
    if settings is not None:
        _check_schedule(settings, report)
    auto_stop = _auto_stop(settings, report)
    steps = _steps(body.get("resources"), report)
    if len(problems) > before or settings is None or steps is None:
        return None
    return Composition(
        name=name,
        resources=steps,
        auto_stop_after=auto_stop,
        **settings.model_dump(exclude={"auto_stop_after"}),
    )


def _check_schedule(settings: CompositionSettings, report: Any) -> None:
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        report(
            "timezone",
            f"unknown timezone {_brief(settings.timezone)}; expected an IANA name "
            "such as Europe/Amsterdam or UTC",
        )
    for field in ("start_resources_at", "stop_resources_at"):
        expression = getattr(settings, field)
        if expression == ON_DEMAND:
            continue
        problem = cron_problem(expression)
        if problem:
            report(
                field,
                f"invalid AWS cron expression {_brief(expression)}: {problem}; "
                f'or use "{ON_DEMAND}"',
            )


def _auto_stop(settings: CompositionSettings | None, report: Any) -> timedelta | None:
    if settings is None or settings.auto_stop_after is None:
        return None
    try:
        return parse_duration(settings.auto_stop_after)
    except ValueError as exc:
        report("auto_stop_after", str(exc))
        return None


def _steps(raw: Any, report: Any) -> tuple[Step, ...] | None:
    if raw is None:
        report("resources", "missing; list at least one resource")
        return None
    if not isinstance(raw, list) or not raw:
        report("resources", f"expected a non-empty list of resources, got {_brief(raw)}")
        return None
    steps: list[Step] = []
    for index, entry in enumerate(raw):
        field = f"resources[{index}]"
        if isinstance(entry, dict) and "parallel" in entry:
            group = _parallel(entry, field, report)
            if group is not None:
                steps.append(group)
            continue
        item = _item(entry, field, report)
        if item is not None:
            steps.append(item)
    return tuple(steps) if len(steps) == len(raw) else None


def _parallel(entry: dict[str, Any], field: str, report: Any) -> ParallelGroup | None:
    extra = sorted(set(entry) - {"parallel"}, key=str)
    if extra:
        report(f"{field}.{_label(extra[0])}", 'unknown key; a parallel group has only "parallel"')
        return None
    members = entry["parallel"]
    if not isinstance(members, list) or not members:
        report(
            f"{field}.parallel", f"expected a non-empty list of resources, got {_brief(members)}"
        )
        return None
    items = []
    for index, member in enumerate(members):
        member_field = f"{field}.parallel[{index}]"
        if isinstance(member, dict) and "parallel" in member:
            report(member_field, "parallel groups cannot be nested")
            continue
        item = _item(member, member_field, report)
        if item is not None:
            items.append(item)
    return ParallelGroup(parallel=tuple(items)) if len(items) == len(members) else None


def _item(entry: Any, field: str, report: Any) -> ResourceItem | None:
    if not isinstance(entry, dict):
        report(field, f'expected a mapping with "type" and "params", got {_brief(entry)}')
        return None
    extra = sorted(set(entry) - set(ITEM_KEYS), key=str)
    if extra:
        report(f"{field}.{_label(extra[0])}", f"unknown key; allowed: {', '.join(ITEM_KEYS)}")
        return None
    kind_name = entry.get("type")
    if not isinstance(kind_name, str) or kind_name not in REGISTRY:
        given = "missing" if kind_name is None else f"unknown resource type {_brief(kind_name)}"
        report(f"{field}.type", f"{given}; allowed: {', '.join(sorted(REGISTRY))}")
        return None
    kind = REGISTRY[kind_name]
    raw_params = entry.get("params")
    if not isinstance(raw_params, dict):
        report(
            f"{field}.params",
            f"expected a mapping with {', '.join(kind.params_model.model_fields)}, "
            f"got {_brief(raw_params)}",
        )
        return None
    params = _validated(kind.params_model, raw_params, report=report, prefix=f"{field}.params")
    options = _validated(
        ResourceItem,
        {**{k: v for k, v in entry.items() if k != "params"}, "params": None},
        report=report,
        prefix=field,
    )
    if params is None or options is None:
        return None
    return options.model_copy(update={"params": params})


def _validated(
    model: type[BaseModel], data: dict[str, Any], *, report: Any, prefix: str = ""
) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            location = "".join(
                f"[{part}]" if isinstance(part, int) else f".{_label(part)}"
                for part in error["loc"]
            ).lstrip(".")
            field = ".".join(part for part in (prefix, location) if part)
            report(field, _message(error, model))
        return None


def _message(error: Any, model: type[BaseModel]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "missing; required"
    if kind == "extra_forbidden":
        owner = _model_at(model, error["loc"][:-1])
        # resources is validated on its own, item by item, but belongs to the composition.
        extra = ["resources"] if owner is CompositionSettings else []
        return f"unknown key; allowed: {', '.join([*owner.model_fields, *extra])}"
    if kind.startswith("envctl_"):
        # The field validators show the whole value; keep the message one short line.
        full = shown(error["input"])
        return str(error["msg"]).replace(full, _brief(error["input"]))
    if kind in {"string_type", "model_type", "dict_type", "tuple_type", "list_type"}:
        expected = {"string_type": "a string", "tuple_type": "a list", "list_type": "a list"}
        return f"expected {expected.get(kind, 'a mapping')}, got {_brief(error['input'])}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return f"{error['msg']}, got {_brief(error.get('input'))}"


def _model_at(model: type[BaseModel], location: tuple[Any, ...]) -> type[BaseModel]:
    """The (nested) model that owns a field at ``location``, for "allowed:" lists."""
    for part in location:
        field = model.model_fields.get(str(part))
        nested = field and next(
            (
                candidate
                for candidate in (field.annotation, *get_args(field.annotation))
                if isinstance(candidate, type) and issubclass(candidate, BaseModel)
            ),
            None,
        )
        if nested is None:
            break
        model = nested
    return model


def _brief(value: Any) -> str:
    """``shown(value)``, cut to MAX_SHOWN characters: a message never dumps a big value."""
    text = shown(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - len(ELLIPSIS)] + ELLIPSIS


def _label(key: Any) -> str:
    """A key as part of a field path: control characters escaped, cut to MAX_SHOWN."""
    text = printable(str(key))
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - len(ELLIPSIS)] + ELLIPSIS


def _too_large(where: str, size: str) -> str:
    return f"{where}: file is {size}; at most {MAX_FILE_BYTES} bytes (1 MiB) are allowed"


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} (line {mark.line + 1})" if mark else str(problem)


class _LimitError(yaml.YAMLError):
    """The file is valid YAML but exceeds one of the limits above."""

    def __init__(self, mark: yaml.Mark, problem: str) -> None:
        self.line = mark.line + 1
        self.problem = problem
        super().__init__(problem)


class _Extent(NamedTuple):
    """What a composed node becomes once its aliases are expanded."""

    values: int  # nodes in it, itself included
    levels: int  # lists and mappings nested in it, itself included


class _UniqueKeyLoader(yaml.SafeLoader):
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

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            target = self.anchors.get(event.anchor)
            # An undefined alias is left to the composer's own error.
            if target is not None:
                extent = self._extents.get(target)
                if extent is None:
                    raise _LimitError(
                        event.start_mark,
                        f"alias *{_label(event.anchor)} is used inside its own anchor; "
                        "recursive structures are not allowed",
                    )
                self._count(extent, mark=event.start_mark, alias=True)
            return super().compose_node(parent, index)  # type: ignore[no-untyped-call,no-any-return]
        collection = isinstance(event, yaml.CollectionStartEvent)
        depth, deepest, values = self._depth, self._deepest, self._values
        self._deepest = depth
        self._count(_Extent(values=1, levels=int(collection)), mark=event.start_mark, alias=False)
        self._depth += collection
        node: yaml.Node = super().compose_node(parent, index)  # type: ignore[no-untyped-call]
        self._depth = depth
        self._extents[node] = _Extent(values=self._values - values, levels=self._deepest - depth)
        self._deepest = max(deepest, self._deepest)
        return node

    def _count(self, extent: _Extent, *, mark: yaml.Mark, alias: bool) -> None:
        """Add ``extent`` at the current position; refuse the file past a limit."""
        expanded = " once aliases are expanded" if alias else ""
        self._values += extent.values
        if self._values > MAX_VALUES:
            hint = " (an anchor may be shared, not multiplied)" if alias else ""
            raise _LimitError(
                mark,
                f"more than {MAX_VALUES} values{expanded}; at most {MAX_VALUES} are allowed{hint}",
            )
        deepest = self._depth + extent.levels
        if deepest > MAX_DEPTH:
            raise _LimitError(
                mark,
                f"lists and mappings nested more than {MAX_DEPTH} levels deep{expanded}; "
                f"at most {MAX_DEPTH} levels are allowed",
            )
        self._deepest = max(self._deepest, deepest)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)  # type: ignore[no-untyped-call]
        except (ValueError, OverflowError) as exc:
            # e.g. 2024-13-45 (resolved as a date) or an integer of 5000 digits.
            kind = node.tag.rsplit(":", 1)[-1]
            value = _brief(node.value) if isinstance(node, yaml.ScalarNode) else "the value"
            # The first clause only: the rest may repeat the value or give Python advice.
            reason = str(exc).split(":")[0][:MAX_SHOWN]
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {value} as {kind}: {reason}", node.start_mark
            ) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
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
                    f"duplicate key {_brief(key)} "
                    f"(first on line {seen[key]}, again on line {line})",
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)
