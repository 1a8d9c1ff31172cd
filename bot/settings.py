"""Settings of the Lambda entry points (README "Settings"), read from the environment once.

One tree per entry point: the core settings (``scheduler_core.settings.Settings``)
plus the part only that entry point needs (Slack, re-stop, webhooks), read together by
one ``from_env`` call, so each variable is read and normalised in one place.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scheduler_core.exceptions import ConfigError
from scheduler_core.settings import Settings

if TYPE_CHECKING:
    from bot.webhooks.security import Network


def slack_api_url(values: Mapping[str, str]) -> str | None:
    """``SLACK_API_URL`` (the local mock), ending in "/" as slack_sdk expects; else None."""
    api_url = values.get("SLACK_API_URL") or None
    if api_url and not api_url.endswith("/"):
        api_url += "/"
    return api_url


@dataclass(frozen=True, kw_only=True)
class BotSettings:
    """What the Slack app and the notifier need; secrets stay references until used."""

    core: Settings
    signing_secret: str
    bot_token: str
    slack_api_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BotSettings:
        values = os.environ if env is None else env
        try:
            signing_secret = values["SLACK_SIGNING_SECRET"]
            bot_token = values["SLACK_BOT_TOKEN"]
        except KeyError as err:
            raise ConfigError(f"missing environment variable {err.args[0]}") from err
        return cls(
            core=Settings.from_env(values),
            signing_secret=signing_secret,
            bot_token=bot_token,
            slack_api_url=slack_api_url(values),
        )


@dataclass(frozen=True, kw_only=True)
class RestopSettings:
    """The core settings plus the optional Slack credentials (a reference, resolved late)."""

    core: Settings
    bot_token: str | None = None
    slack_api_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RestopSettings:
        values = os.environ if env is None else env
        return cls(
            core=Settings.from_env(values),
            bot_token=values.get("SLACK_BOT_TOKEN") or None,
            slack_api_url=slack_api_url(values),
        )


@dataclass(frozen=True, kw_only=True)
class WebhookSettings:
    """The core settings plus the webhook API's keys (resolved) and source allowlist."""

    core: Settings = field(default_factory=Settings)
    api_keys: dict[str, str] = field(default_factory=dict)
    ip_allowlist: tuple[Network, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebhookSettings:
        # Imported here: the Slack functions read this module too, and never need these.
        from bot.secrets import resolve_secret
        from bot.webhooks.security import parse_api_keys, parse_networks

        values = os.environ if env is None else env
        keys_setting = values.get("ENVCTL_WEBHOOK_API_KEYS", "")
        allowlist = values.get("ENVCTL_WEBHOOK_IP_ALLOWLIST", "")
        return cls(
            core=Settings.from_env(values),
            api_keys=parse_api_keys(resolve_secret(keys_setting)) if keys_setting else {},
            ip_allowlist=parse_networks(
                filter(None, allowlist.split(",")), setting="ENVCTL_WEBHOOK_IP_ALLOWLIST"
            ),
        )
