"""DocumentDB clusters and instances: moto 5.2 serves them but refuses the engine.

The ``docdb`` API is the RDS API (same endpoint, same signing name), so moto's RDS
backend answers it, and the RDS lifecycle (``rds``: ``starting`` / ``stopping``, the
members finishing after their cluster, blocking states) applies as it is. Only the
engine is missing: moto's engine lists and its per-engine defaults (version, port,
storage) know no ``docdb``. ``install()`` adds it to each, nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.emulator.patching import wrap_once

SECONDS: dict[str, float] = {}  # the RDS cluster durations apply
ENGINE = "docdb"
VERSION = "5.0.0"
PORT = 27017


def _listed(original: Callable[[], list[str]]) -> Callable[[], list[str]]:
    def engines() -> list[str]:
        return sorted({*original(), ENGINE})

    return engines


def _default(value: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A per-engine default that answers ``value`` for docdb."""

    def wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
        def default(engine: str, *args: Any, **kwargs: Any) -> Any:
            return value if engine == ENGINE else original(engine, *args, **kwargs)

        return staticmethod(default)

    return wrapper


def _storage(original: Callable[..., int]) -> Any:
    def default(engine: str, storage_type: str) -> int:
        return 0 if engine == ENGINE else original(engine=engine, storage_type=storage_type)

    return staticmethod(default)


def install() -> None:
    from moto.rds.models import DBCluster, DBInstance
    from moto.rds.utils import ClusterEngine, DbInstanceEngine

    wrap_once(ClusterEngine, "list_cluster_engines", _listed)
    wrap_once(DbInstanceEngine, "valid_db_instance_engine", _listed)
    for cls in (DBCluster, DBInstance):
        wrap_once(cls, "default_port", _default(PORT))
        wrap_once(cls, "default_allocated_storage", _storage)
    wrap_once(DBCluster, "default_engine_version", _default(VERSION))
    DBInstance.default_engine_versions.setdefault(ENGINE, VERSION)
