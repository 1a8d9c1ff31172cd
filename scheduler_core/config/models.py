"""The validated compositions file, as the rest of envctl sees it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from scheduler_core.exceptions import UnknownCompositionError
from scheduler_core.fields import (
    AccountId,
    Count,
    Flag,
    Identifier,
    Network,
    RegionName,
    RoleRef,
    TimeoutSeconds,
)
from scheduler_core.resources import REGISTRY, ResourceKind

ON_DEMAND = "on-demand"
DEFAULT_READY_TIMEOUT_SECONDS = 1800


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResourceItem(Strict):
    """One ``type`` + ``params`` item, exactly as the Terraform module had it."""

    type: str
    params: Any
    wait_until_ready: Flag = True
    ready_timeout_seconds: TimeoutSeconds = DEFAULT_READY_TIMEOUT_SECONDS

    @property
    def kind(self) -> ResourceKind:
        return REGISTRY[self.type]

    @property
    def label(self) -> str:
        return f"{self.type} {self.kind.label(self.params)}"


class ParallelGroup(Strict):
    """Items started (and stopped) at the same time."""

    parallel: tuple[ResourceItem, ...]


Step = ResourceItem | ParallelGroup


DEFAULT_HEADS_UP_MINUTES = 15
MAX_HEADS_UP_MINUTES = 720


class Notify(Strict):
    slack_channel: Identifier | None = None
    # Minutes before each scheduled stop and auto-stop that the channel is told;
    # unset: DEFAULT_HEADS_UP_MINUTES when there is a channel, 0 (none) otherwise.
    heads_up_minutes: Count | None = Field(default=None, le=MAX_HEADS_UP_MINUTES)

    @property
    def heads_up(self) -> int:
        """The heads-up lead in minutes; 0 when no heads-up is sent."""
        if not self.slack_channel:
            return 0
        if self.heads_up_minutes is None:
            return DEFAULT_HEADS_UP_MINUTES
        return self.heads_up_minutes


class Access(Strict):
    users: tuple[Identifier, ...] = ()
    usergroups: tuple[Identifier, ...] = ()
    channels: tuple[Identifier, ...] = ()
    protected: Flag = False


class Webhooks(Strict):
    """Per-composition webhook settings: who may call, by source network."""

    ip_allowlist: tuple[Network, ...] = ()


class CompositionSettings(Strict):
    """Every composition field except ``resources`` (validated item by item)."""

    description: str = ""
    timezone: str = "UTC"
    start_resources_at: str = ON_DEMAND
    stop_resources_at: str = ON_DEMAND
    auto_stop_after: str | None = None
    window_margin_minutes: Count = 15
    notify: Notify = Field(default_factory=Notify)
    access: Access | None = None
    webhooks: Webhooks = Field(default_factory=Webhooks)
    account: AccountId | None = None
    region: RegionName | None = None
    role: RoleRef | None = None
    calendar: Identifier | tuple[Identifier, ...] | None = None


class Composition(Strict):
    """A validated composition: settings plus its ordered steps."""

    name: str
    description: str
    timezone: str
    start_resources_at: str
    stop_resources_at: str
    auto_stop_after: timedelta | None
    window_margin_minutes: int
    notify: Notify
    access: Access | None
    webhooks: Webhooks = Field(default_factory=Webhooks)
    # Where its resources are (docs/multi-account.md); None: the deployment's own.
    account: str | None = None
    region: str | None = None
    role: str | None = None
    # The calendars it follows, and their dates (local): scheduled starts skip them.
    calendar: str | tuple[str, ...] | None = None
    holidays: tuple[date, ...] = ()
    resources: tuple[Step, ...]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def items(self) -> list[ResourceItem]:
        """Every resource item in start order, parallel groups flattened."""
        flat: list[ResourceItem] = []
        for step in self.resources:
            flat.extend(step.parallel if isinstance(step, ParallelGroup) else (step,))
        return flat


class Config(Strict):
    """All compositions of one file."""

    path: Path
    compositions: dict[str, Composition]

    def get(self, name: str) -> Composition:
        """Return the named composition or raise UnknownCompositionError."""
        try:
            return self.compositions[name]
        except KeyError:
            raise UnknownCompositionError(name, list(self.compositions)) from None
