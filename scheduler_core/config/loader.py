"""Load and validate ``compositions.yaml``; every problem becomes one line.

Validation runs piece by piece (file, composition settings, each item) so each
message can name the file, composition, item index and field exactly, in the
terms of README "Config file": ``compositions.yaml: staging.resources[2].params.desired:
expected an integer >= 0, got "two"``.

The file is untrusted input for a process that may run in a Lambda: it is read within
bounds by ``scheduler_core.config.reading``.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ValidationError

from scheduler_core import names
from scheduler_core.config.calendars import holidays_of, read_calendars
from scheduler_core.config.models import (
    ON_DEMAND,
    Composition,
    CompositionSettings,
    Config,
    ParallelGroup,
    ResourceItem,
    Step,
)
from scheduler_core.config.reading import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_VALUES,
    LimitError,
    UniqueKeyLoader,
    brief,
    key_label,
    too_large,
    yaml_reason,
)
from scheduler_core.config.resource_checks import resource_list_problems
from scheduler_core.cron import cron_problem
from scheduler_core.cron.firing import never_runs
from scheduler_core.cron.lead import problem as heads_up_problem
from scheduler_core.durations import parse_duration
from scheduler_core.exceptions import ConfigError
from scheduler_core.fields import role_arn_account, shown
from scheduler_core.resources import REGISTRY

DEFAULT_PATH = "compositions.yaml"
ITEM_KEYS = ("type", "params", "wait_until_ready", "ready_timeout_seconds")


def resolve_path(explicit: str | os.PathLike[str] | None) -> Path:
    """The path given (-c/--config, else the ENVCTL_CONFIG setting), else ./compositions.yaml.

    The loader never reads the environment: each entry point passes its settings' path.
    """
    return Path(explicit or DEFAULT_PATH)


def load_config(
    path: str | os.PathLike[str] | None = None, *, now: datetime | None = None
) -> Config:
    """Read and validate a compositions file.

    ``now`` (default: the current time) is when a schedule must still run after.

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
        raise ConfigError(too_large(str(file), f"more than {MAX_FILE_BYTES} bytes"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{file}: line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); "
            "save the file as UTF-8"
        ) from None
    return parse_config(text, path=file, now=now)


def parse_config(text: str, *, path: Path, now: datetime | None = None) -> Config:
    """Validate the text of a compositions file (see load_config)."""
    where = str(path)
    # Characters never outnumber UTF-8 bytes, so only short texts need encoding.
    size = len(text) if len(text) > MAX_FILE_BYTES else len(text.encode("utf-8", "replace"))
    if size > MAX_FILE_BYTES:
        raise ConfigError(too_large(where, f"{size} bytes"))
    try:
        return _parse(text, path=path, where=where, now=now or datetime.now(UTC))
    except (RecursionError, MemoryError):
        # The limits below should make this unreachable; a traceback must never be
        # what a bad file produces.
        raise ConfigError(
            f"{where}: too large or too deeply nested to load; at most {MAX_VALUES} values "
            f"nested at most {MAX_DEPTH} levels deep are allowed"
        ) from None


def _parse(text: str, *, path: Path, where: str, now: datetime) -> Config:
    try:
        document = yaml.load(text, Loader=UniqueKeyLoader)
    except LimitError as exc:
        raise ConfigError(f"{where}: line {exc.line}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {yaml_reason(exc)}") from exc
    if (
        not isinstance(document, dict)
        or "compositions" not in document
        or not set(document) <= {"compositions", "calendars"}
    ):
        raise ConfigError(
            f'{where}: expected the top-level key "compositions" holding a mapping '
            '(and optionally "calendars")'
        )
    raw = document["compositions"]
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"{where}: compositions: expected at least one composition")

    problems: list[str] = []
    calendars = read_calendars(document.get("calendars"), problems=problems, where=where)
    compositions: dict[str, Composition] = {}
    seen: set[str] = set()
    for key, body in raw.items():
        # YAML keys 1 and "1" differ, but both name composition "1".
        name = str(key)
        if name in seen:
            label = key_label(name)
            problems.append(f'{where}: {label}: duplicate composition name "{label}"')
            continue
        seen.add(name)
        built = _composition(
            name, body, problems=problems, where=where, calendars=calendars, now=now
        )
        if built is not None:
            compositions[built.name] = built
    if problems:
        raise ConfigError(problems)
    return Config(path=path, compositions=compositions)


def _composition(
    name: str,
    body: Any,
    *,
    problems: list[str],
    where: str,
    calendars: dict[str, tuple[date, ...]] | None = None,
    now: datetime,
) -> Composition | None:
    before = len(problems)

    label = key_label(name)

    def report(field: str, message: str) -> None:
        problems.append(f"{where}: {label}{'.' + field if field else ''}: {message}")

    if not names.is_composition_name(name):
        report("", f"invalid composition name; use {names.COMPOSITION_RULE}")
    if not isinstance(body, dict):
        report("", f"expected a mapping of composition settings, got {brief(body)}")
        return None
    settings = _validated(
        CompositionSettings,
        {k: v for k, v in body.items() if k != "resources"},
        report=report,
    )
    holidays: tuple[date, ...] = ()
    if settings is not None:
        _check_schedule(settings, report, now=now)
        settings = _check_place(settings, report)
        holidays = holidays_of(settings.calendar, calendars or {}, report)
    auto_stop = _auto_stop(settings, report)
    steps = _steps(body.get("resources"), report)
    if steps is not None:
        for field, message in resource_list_problems(steps):
            report(field, message)
    if len(problems) > before or settings is None or steps is None:
        return None
    return Composition(
        name=name,
        resources=steps,
        auto_stop_after=auto_stop,
        holidays=holidays,
        **settings.model_dump(exclude={"auto_stop_after"}),
    )


def _check_schedule(settings: CompositionSettings, report: Any, *, now: datetime) -> None:
    timezone = settings.timezone
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        report(
            "timezone",
            f"unknown timezone {brief(timezone)}; expected an IANA name "
            "such as Europe/Amsterdam or UTC",
        )
        timezone = "UTC"
    for field in ("start_resources_at", "stop_resources_at"):
        expression = getattr(settings, field)
        if expression == ON_DEMAND:
            continue
        never = never_runs(expression, timezone, now=now)
        if never:
            report(field, f'{brief(expression)} {never}; or use "{ON_DEMAND}"')
            continue
        problem = cron_problem(expression)
        if problem:
            report(
                field,
                f'invalid AWS cron expression {brief(expression)}: {problem}; or use "{ON_DEMAND}"',
            )
        elif field == "stop_resources_at":
            unsent = heads_up_problem(expression, settings.notify.heads_up)
            if unsent:
                report("notify.heads_up_minutes", unsent)


def _check_place(settings: CompositionSettings, report: Any) -> CompositionSettings:
    """A role ARN names the account the resources are in: it must agree with ``account``."""
    if settings.role is None:
        return settings
    in_account = role_arn_account(settings.role)
    if in_account is None:
        return settings
    if settings.account is None:
        return settings.model_copy(update={"account": in_account})
    if in_account != settings.account:
        report(
            "role",
            f"the role ARN is in account {in_account}, but account is {settings.account}; "
            "the role must be in the account the resources are in",
        )
    return settings


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
        report("resources", f"expected a non-empty list of resources, got {brief(raw)}")
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
        report(
            f"{field}.{key_label(extra[0])}", 'unknown key; a parallel group has only "parallel"'
        )
        return None
    members = entry["parallel"]
    if not isinstance(members, list) or not members:
        report(f"{field}.parallel", f"expected a non-empty list of resources, got {brief(members)}")
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
        report(field, f'expected a mapping with "type" and "params", got {brief(entry)}')
        return None
    extra = sorted(set(entry) - set(ITEM_KEYS), key=str)
    if extra:
        report(f"{field}.{key_label(extra[0])}", f"unknown key; allowed: {', '.join(ITEM_KEYS)}")
        return None
    kind_name = entry.get("type")
    if not isinstance(kind_name, str) or kind_name not in REGISTRY:
        given = "missing" if kind_name is None else f"unknown resource type {brief(kind_name)}"
        report(f"{field}.type", f"{given}; allowed: {', '.join(sorted(REGISTRY))}")
        return None
    kind = REGISTRY[kind_name]
    raw_params = entry.get("params")
    if not isinstance(raw_params, dict):
        report(
            f"{field}.params",
            f"expected a mapping with {', '.join(kind.params_model.model_fields)}, "
            f"got {brief(raw_params)}",
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
    item: ResourceItem = options.model_copy(update={"params": params})
    return item


def _validated(
    model: type[BaseModel], data: dict[str, Any], *, report: Any, prefix: str = ""
) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            location = "".join(
                f"[{part}]" if isinstance(part, int) else f".{key_label(part)}"
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
        return str(error["msg"]).replace(full, brief(error["input"]))
    if kind in {"string_type", "model_type", "dict_type", "tuple_type", "list_type"}:
        expected = {"string_type": "a string", "tuple_type": "a list", "list_type": "a list"}
        return f"expected {expected.get(kind, 'a mapping')}, got {brief(error['input'])}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return f"{error['msg']}, got {brief(error.get('input'))}"


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
