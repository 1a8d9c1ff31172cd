"""Commands that other packages add to ``envctl``, found through package metadata.

The local tools (``local``, ``demo``, ``serve``, ``slack``) live in ``infra``, which
depends on scheduler_core and not the other way round: ``infra`` declares them under
the entry-point group ``envctl.commands`` (pyproject.toml), and the CLI lists them
here without importing ``infra`` by name. An installation without ``infra`` (the
Lambda bundle) simply has no such commands.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points

GROUP = "envctl.commands"


@dataclass(frozen=True, kw_only=True)
class PluginCommand:
    """One sub-command: its name and help, its arguments, and what runs it.

    ``run`` gets the parsed arguments (``config`` and ``debug`` among them when given)
    and returns the exit code. Its module should import its heavy parts inside ``run``,
    so that listing the commands stays cheap.
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def discovered() -> list[PluginCommand]:
    """Every command the installed packages declare (entries in name order)."""
    found: list[PluginCommand] = []
    for entry in sorted(entry_points(group=GROUP), key=lambda entry: entry.name):
        try:
            declared = entry.load()
        except ImportError:
            continue  # declared by an installation whose code is not here: not offered

        found.extend(declared if isinstance(declared, Iterable) else [declared])
    return found
