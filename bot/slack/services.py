"""What the Slack listeners share: config, AWS access, runtime, Slack-side caches.

Everything is created on first use, never at import time (cold start), and lives
as long as the (warm) Lambda process.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from bot.settings import BotSettings
from bot.slack.access import Decision, UsergroupMembers, decide
from scheduler_core.aws import Aws
from scheduler_core.config import Composition, Config, load_config
from scheduler_core.config.models import ON_DEMAND
from scheduler_core.places import regions_of
from scheduler_core.runtime.operations import Actor, Runtime
from scheduler_core.windows import next_occurrences


class Services:
    """Lazily built dependencies of the Slack app."""

    def __init__(self, settings: BotSettings, *, aws: Aws | None = None) -> None:
        self.settings = settings
        self._aws = aws
        self._members: UsergroupMembers | None = None

    @cached_property
    def config(self) -> Config:
        return load_config(self.settings.core.config_path)

    @cached_property
    def aws(self) -> Aws:
        return self._aws or self.settings.core.aws()

    @cached_property
    def runtime(self) -> Runtime:
        return Runtime(self.aws, self.settings.core, regions=regions_of(self.config))

    def zones(self) -> dict[str, ZoneInfo]:
        return {name: c.zone for name, c in self.config.compositions.items()}

    def authorize(
        self, composition: Composition, *, user_id: str, channel_id: str, client: Any
    ) -> Decision:
        if self._members is None:
            self._members = UsergroupMembers(client)
        return decide(
            composition.access, user_id=user_id, channel_id=channel_id, members_of=self._members
        )


def actor(user_id: str, user_name: str | None) -> Actor:
    who = f"{user_name} ({user_id})" if user_name else user_id
    return Actor(who=who, via="slack")


def next_run(
    composition: Composition, action: str, *, now: datetime | None = None
) -> datetime | None:
    """When the scheduled ``start``/``stop`` runs next (UTC), or None when on demand."""
    expression = (
        composition.start_resources_at if action == "start" else composition.stop_resources_at
    )
    if expression == ON_DEMAND:
        return None
    found = next_occurrences(
        expression, composition.timezone, after=now or datetime.now(UTC), count=1
    )
    return found[0].utc if found else None
