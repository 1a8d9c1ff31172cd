"""Instants as whole microseconds since the Unix epoch, for the analysis's inner loop.

Comparing aware datetimes costs several times as much as comparing integers, and an
analysis compares hundreds of thousands of them. Microseconds are what a datetime
holds, so the conversion is exact both ways.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def microseconds(moment: datetime) -> int:
    """An aware datetime as microseconds since the epoch."""
    return (moment - EPOCH) // MICROSECOND


def from_microseconds(count: int) -> datetime:
    """The UTC datetime ``count`` microseconds after the epoch."""
    return EPOCH + timedelta(microseconds=count)
