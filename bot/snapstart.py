"""Lambda SnapStart: what goes into the snapshot, and what is renewed after a restore.

With the template's ``SnapStart`` parameter on, Lambda runs a function's init once
per published version, snapshots the memory, and starts later environments from
that snapshot. The init here only imports code: no client, connection, credential or
secret is created before the first request (the handlers build them on first use),
so none is frozen into the snapshot and shared by every restored environment.

``register`` (called by each handler module at import) adds two hooks, when
``ENVCTL_SNAPSTART`` is ``true`` and the runtime's ``snapshot_restore_py`` library is
there:

* before the snapshot: import ``modules`` as well (the Slack app's lazy-listener code,
  which a normal cold start leaves out of the ack path), so a restore has them
  already;
* after a restore: reseed ``random``, whose state would otherwise be the same in
  every environment restored from one snapshot (``uuid4`` and ``secrets`` read the
  OS and need nothing).
"""

from __future__ import annotations

import importlib
import os
import random
from collections.abc import Mapping, Sequence

# What the Slack app's lazy listeners import (the ack path imports none of it).
SLACK_LISTENER_MODULES = (
    "bot.slack.commands",
    "bot.slack.actions",
    "bot.slack.heads_up_actions",
    "bot.slack.services",
)


def enabled(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("ENVCTL_SNAPSTART", "").lower() == "true"


def preload(modules: Sequence[str]) -> None:
    """Import ``modules`` (before the snapshot is taken)."""
    for name in modules:
        importlib.import_module(name)


def renew() -> None:
    """After a restore: what must differ between restored environments."""
    random.seed()


def register(modules: Sequence[str] = (), environ: Mapping[str, str] = os.environ) -> bool:
    """Register the hooks; False when SnapStart is off or not this runtime's."""
    if not enabled(environ):
        return False
    try:
        from snapshot_restore_py import (  # type: ignore[import-untyped]
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:  # not on Lambda (the managed Python runtimes include it)
        return False
    register_before_snapshot(preload, tuple(modules))
    register_after_restore(renew)
    return True
