"""What a generated state machine was made from, written into it and read back.

``apply`` is the only writer of state machines; a start or stop only starts an
execution. To refuse a run of a machine that no longer matches the config (edited
and not applied yet), every generated start/stop machine carries a fingerprint of
its source in its top-level ``Comment``: the composition's name and resources, the
table it records to, the role it reaches them with, and the generator's version.
The request path computes the same fingerprint from the config without rendering
any ASL, and compares.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from scheduler_core import __version__
from scheduler_core.config.models import Composition

_MARK = "Source "
_FOUND = re.compile(rf"{_MARK}([0-9a-f]{{16}})\.")


def fingerprint(composition: Composition, *, table: str, credentials: str | None = None) -> str:
    """16 hex digits that change whenever the generated machines would."""
    source: dict[str, object] = {
        "generator": __version__,
        "table": table,
        "composition": composition.name,
        "resources": [step.model_dump(mode="json") for step in composition.resources],
    }
    if credentials is not None:
        # Only when set, so that machines in the deployment's own account keep theirs.
        source["credentials"] = credentials
    text = json.dumps(source, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def mark(fingerprint_text: str) -> str:
    """The sentence the machine's ``Comment`` ends with."""
    return f"{_MARK}{fingerprint_text}."


def recorded(definition: dict[str, Any]) -> str | None:
    """The fingerprint a deployed definition carries, if any."""
    found = _FOUND.search(str(definition.get("Comment", "")))
    return found.group(1) if found else None
