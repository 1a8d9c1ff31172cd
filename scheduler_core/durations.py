"""Human durations: ``30m``, ``2h``, ``1h30m``, ``90s``, ``1d``."""

from __future__ import annotations

import re
from datetime import timedelta

# At most 6 digits per part: enough for any real duration, and no number can overflow.
_DURATION = re.compile(
    r"^(?:(?P<d>\d{1,6})d)?(?:(?P<h>\d{1,6})h)?(?:(?P<m>\d{1,6})m)?(?:(?P<s>\d{1,6})s)?$"
)
MAX_DURATION = timedelta(days=7)
MAX_TEXT = 40


def parse_duration(text: str) -> timedelta:
    """Parse a duration such as ``2h`` or ``1h30m``.

    Raises:
        ValueError: with a message that says what is allowed.
    """
    if len(text) > MAX_TEXT:
        raise ValueError(
            f"expected a duration such as 30m, 2h or 1h30m, got {len(text)} characters"
        )
    cleaned = text.strip().lower().replace(" ", "")
    match = _DURATION.fullmatch(cleaned)
    if not cleaned or match is None or not any(match.groupdict().values()):
        raise ValueError(f'expected a duration such as 30m, 2h or 1h30m, got "{text}"')
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    value = timedelta(
        days=parts.get("d", 0),
        hours=parts.get("h", 0),
        minutes=parts.get("m", 0),
        seconds=parts.get("s", 0),
    )
    if value <= timedelta(0):
        raise ValueError(f'expected a duration longer than zero, got "{text}"')
    if value > MAX_DURATION:
        raise ValueError(f'expected a duration of at most 7 days, got "{text}"')
    return value


def format_duration(value: timedelta) -> str:
    """Format a duration for people: ``4h 12m``, ``45s``, ``2d 3h``."""
    total = int(value.total_seconds())
    if total < 60:
        return f"{total}s"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days}d"] if days else []
    if hours:
        parts.append(f"{hours}h")
    if minutes and not days:
        parts.append(f"{minutes}m")
    return " ".join(parts)
