"""The compositions file: pydantic models and the loader."""

from scheduler_core.config.loader import load_config, parse_config, resolve_path
from scheduler_core.config.models import (
    ON_DEMAND,
    Composition,
    Config,
    ParallelGroup,
    ResourceItem,
    Step,
)

__all__ = [
    "ON_DEMAND",
    "Composition",
    "Config",
    "ParallelGroup",
    "ResourceItem",
    "Step",
    "load_config",
    "parse_config",
    "resolve_path",
]
