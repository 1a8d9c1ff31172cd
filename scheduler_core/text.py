"""Free text that ends up in the audit log: refused when unsafe, escaped when shown.

Audit entries are printed by ``envctl history`` and ``/env history``; a newline or a
terminal escape sequence in a ``reason`` would let a caller forge lines there. Text is
therefore checked where it enters (webhook bodies, Slack fields, CLI options) and
escaped again wherever it is shown, for entries written before the check existed.
"""

from __future__ import annotations

import unicodedata

from scheduler_core.exceptions import BadInputError

MAX_REASON = 500

# Unicode categories that never belong in one line of text: controls (newline, ESC,
# DEL, C1), format characters (bidi overrides that reorder what a reader sees),
# line/paragraph separators, surrogates and unassigned code points.
_UNSAFE = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def is_plain(text: str) -> bool:
    """True when ``text`` has no control, format or separator characters."""
    return not any(unicodedata.category(char) in _UNSAFE for char in text)


def check_plain(text: str, *, field: str, max_length: int = MAX_REASON) -> str:
    """``text`` unchanged when it is one plain line of at most ``max_length`` characters.

    Raises:
        BadInputError: naming ``field`` and what is allowed.
    """
    if len(text) > max_length:
        raise BadInputError(f"{field}: at most {max_length} characters, got {len(text)}")
    if not is_plain(text):
        raise BadInputError(
            f"{field}: control characters (newlines, tabs, escape sequences) are not allowed"
        )
    return text


def printable(text: str) -> str:
    """``text`` with every unsafe character shown as an escape (``\\n``, ``\\x1b``)."""
    if is_plain(text):
        return text
    return "".join(
        char.encode("unicode_escape").decode("ascii")
        if unicodedata.category(char) in _UNSAFE
        else char
        for char in text
    )
