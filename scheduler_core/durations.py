"""Human durations: ``30m``, ``2h``, ``1h30m``, ``90s``, ``1d``."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")
MAX_DURATION = timedelta(days=30)


def parse_duration(text: str) -> timedelta:
    """Parse a duration such as ``2h`` or ``1h30m``.

    Raises:
        ValueError: with a message that says what is allowed.
    """
    cleaned = text.strip().lower().replace(" ", "")
    match = _DURATION.match(cleaned)
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
        raise ValueError(f'expected a duration of at most 30 days, got "{text}"')
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
