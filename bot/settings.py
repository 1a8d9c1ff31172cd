"""Settings of the Lambda entry points (README "Settings"), read from the environment once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from scheduler_core.exceptions import ConfigError
from scheduler_core.settings import Settings


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
        api_url = values.get("SLACK_API_URL") or None
        if api_url and not api_url.endswith("/"):
            api_url += "/"
        return cls(
            core=Settings.from_env(values),
            signing_secret=signing_secret,
            bot_token=bot_token,
            slack_api_url=api_url,
        )
