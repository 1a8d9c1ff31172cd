"""Who may operate a composition from Slack (``access`` in the config, README "Config file").

Without ``access`` everyone may operate (everything is audited). With it, the user
must be listed or belong to a listed user group (when users or usergroups are
given), and the command must come from a listed channel (when channels are given).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scheduler_core.config.models import Access

USERGROUP_CACHE_SECONDS = 300


@dataclass(frozen=True, kw_only=True)
class Decision:
    allowed: bool
    reason: str = ""


def decide(
    access: Access | None,
    *,
    user_id: str,
    channel_id: str,
    members_of: Callable[[str], set[str]],
) -> Decision:
    """May ``user_id`` operate from ``channel_id``? The reason names who may."""
    if access is None:
        return Decision(allowed=True)
    if access.channels and channel_id not in access.channels:
        channels = ", ".join(f"<#{channel}>" for channel in access.channels)
        return Decision(allowed=False, reason=f"it can only be operated from {channels}")
    if not access.users and not access.usergroups:
        return Decision(allowed=True)
    if user_id in access.users or any(user_id in members_of(group) for group in access.usergroups):
        return Decision(allowed=True)
    return Decision(allowed=False, reason=f"only {who_may(access)} may operate it")


def who_may(access: Access) -> str:
    """ "<@U1>, <@U2> or members of <!subteam^S1>" for refusals."""
    people = [f"<@{user}>" for user in access.users]
    groups = [f"members of <!subteam^{group}>" for group in access.usergroups]
    names = people + groups
    if len(names) <= 1:
        return "".join(names) or "nobody"
    return ", ".join(names[:-1]) + " or " + names[-1]


@dataclass
class UsergroupMembers:
    """``usergroups.users.list`` with a short cache: membership changes rarely."""

    client: Any
    ttl_seconds: float = USERGROUP_CACHE_SECONDS
    clock: Callable[[], float] = time.monotonic
    _cache: dict[str, tuple[float, set[str]]] = field(default_factory=dict)

    def __call__(self, usergroup: str) -> set[str]:
        cached = self._cache.get(usergroup)
        if cached and self.clock() - cached[0] < self.ttl_seconds:
            return cached[1]
        found = self.client.usergroups_users_list(usergroup=usergroup)
        members = set(found.get("users", []))
        self._cache[usergroup] = (self.clock(), members)
        return members
