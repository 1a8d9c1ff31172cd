"""The Slack app: slack-bolt ``App`` with every ``/env`` command, button and App Home.

Listeners ack at once and do the work in lazy listeners (``process_before_response``
on Lambda): nothing on the ack path calls AWS, so Slack gets its answer in time even
on a cold start. Requests with ``X-Slack-Retry-Num`` are acknowledged and dropped:
the first delivery is already being handled.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult

from bot.secrets import resolve_secret
from bot.settings import BotSettings
from bot.slack import blocks
from bot.slack.grammar import (
    Command,
    CommandError,
    Verb,
    for_compositions,
    help_text,
    parse_command,
)
from bot.slack_client import slack_client
from scheduler_core.exceptions import ErrorKind, Fault, fault_of

if TYPE_CHECKING:
    from bot.slack.commands import Request
    from bot.slack.services import Services

logger = logging.getLogger(__name__)

# Each button's work as "module:function", imported when a lazy listener runs it: the
# ack path never imports the command code (config, AWS, windows), only this table.
BUTTONS: dict[str, str] = {
    "env_confirm": "bot.slack.actions:confirm",
    "env_cancel": "bot.slack.actions:cancel",
    "env_stop": "bot.slack.actions:stop_button",
    "env_extend": "bot.slack.actions:extend_button",
    "home_start": "bot.slack.actions:home_button",
    "home_stop": "bot.slack.actions:home_button",
    "heads_up_keep_1h": "bot.slack.heads_up_actions:heads_up_keep",
    "heads_up_keep_3h": "bot.slack.heads_up_actions:heads_up_keep",
    "heads_up_stop": "bot.slack.heads_up_actions:heads_up_stop",
}

ServicesFactory = Callable[[], "Services"]


def work_of(reference: str) -> Callable[..., None]:
    """The function a ``BUTTONS`` entry names, imported on first use."""
    module, name = reference.split(":")
    work: Callable[..., None] = getattr(importlib.import_module(module), name)
    return work


def build_app(settings: BotSettings, *, services: Services | None = None) -> App:
    """The app; ``services`` may be injected (tests), else built on first use.

    Building it imports and reads nothing the ack does not need: the services (config,
    AWS clients) are created by the first lazy listener that runs.
    """
    services_of = _services_factory(settings, services)
    token = resolve_secret(settings.bot_token)
    # No token on the shared client: Bolt gives each request's client the token from
    # authorize() below.
    client = slack_client(api_url=settings.slack_api_url)

    def authorize(**_: Any) -> AuthorizeResult:
        # A single workspace with a known bot token: no auth.test round trip on the first
        # request of every cold start (an installation store would plug in here).
        return AuthorizeResult(enterprise_id=None, team_id=None, bot_token=token)

    app = App(
        signing_secret=resolve_secret(settings.signing_secret),
        client=client,
        authorize=authorize,
        process_before_response=True,
    )
    app.middleware(_drop_retries)
    app.middleware(_parse_once)
    # Help and syntax errors are answered in the ack; only the rest starts a lazy listener
    # (on Lambda each lazy start is an extra invocation).
    app.command("/env", matchers=[_answered_in_ack])(_ack_command)
    app.command("/env")(ack=_ack_command, lazy=[_lazy(services_of, _run_command)])
    for action_id, work in BUTTONS.items():
        app.action(action_id)(ack=_ack, lazy=[_lazy(services_of, _button(work))])
    app.event("app_home_opened")(ack=_ack, lazy=[_lazy(services_of, _publish_home)])
    return app


def _services_factory(settings: BotSettings, services: Services | None) -> ServicesFactory:
    @cache
    def services_of() -> Services:
        if services is not None:
            return services
        from bot.slack.services import Services

        return Services(settings)

    return services_of


def _drop_retries(request: Any, next: Callable[[], Any]) -> Any:
    if request.headers.get("x-slack-retry-num"):
        return BoltResponse(status=200, body="")
    return next()


# Where the one parse of a command's text is kept for its listeners (Bolt context key).
PARSED = "env_command"


def _parse_once(body: dict[str, Any], context: Any, next: Callable[[], Any]) -> Any:
    """Parse a slash command's text once per request, for the matcher, ack and lazy work.

    Kept in the context: the parsed command, or the syntax error's message.
    """
    if body.get("command") and PARSED not in context:
        try:
            context[PARSED] = parse_command(body.get("text", ""), now=datetime.now(UTC))
        except CommandError as exc:
            context[PARSED] = str(exc)
    return next()


def _answered_in_ack(context: Any) -> bool:
    parsed = context.get(PARSED)
    return not isinstance(parsed, Command) or parsed.verb is Verb.HELP


def _ack(ack: Callable[..., None]) -> None:
    ack()


def _ack_command(ack: Callable[..., None], context: Any) -> None:
    """Answer syntax errors and help right away; everything else runs in the lazy listener."""
    parsed = context.get(PARSED)
    if not isinstance(parsed, Command):
        ack(text=blocks.escape(str(parsed)), response_type="ephemeral")
        return
    if parsed.verb is Verb.HELP:
        ack(text=help_text(), blocks=blocks.help_blocks(), response_type="ephemeral")
        return
    ack()


def _lazy(services_of: ServicesFactory, work: Callable[..., None]) -> Callable[..., None]:
    """A lazy listener that turns envctl and AWS errors into a sentence for the user."""

    def listener(body: dict[str, Any], respond: Any, client: Any, context: Any) -> None:
        from bot.slack import commands

        request = commands.Request(
            user_id=str(context.user_id or ""),
            user_name=_user_name(body),
            channel_id=str(context.channel_id or ""),
            respond=respond,
            client=client,
            now=datetime.now(UTC),
        )
        try:
            work(services_of(), body, request, context)
        except Exception as exc:
            fault = fault_of(exc)
            if fault is None:
                raise
            commands.reply(request, sentence(fault))

    listener.__name__ = f"lazy_{work.__name__}"
    return listener


def sentence(fault: Fault) -> str:
    """What the user reads for an error of any kind (the one place Slack words them)."""
    from botocore.exceptions import ClientError

    if fault.kind is ErrorKind.AWS_UNREACHABLE:
        logger.warning("cannot reach AWS: %s", fault.error)
        return "envctl cannot reach AWS right now; try again in a minute."
    if isinstance(fault.error, ClientError):
        logger.warning("AWS refused %s: %s", fault.operation, fault.error.response.get("Error", {}))
        return f"AWS refused {fault.operation}: {blocks.escape(fault.detail)}"
    return blocks.escape(fault.detail)


def _run_command(services: Services, body: dict[str, Any], request: Request, context: Any) -> None:
    from bot.slack import commands

    parsed = context.get(PARSED)
    if not isinstance(parsed, Command) or parsed.verb is Verb.HELP:
        return  # the ack already answered (help, or what is wrong)
    # Only now, off the ack path, are the composition names known.
    commands.run(services, for_compositions(parsed, services.zones(), now=request.now), request)


def _button(reference: str) -> Callable[..., None]:
    def run(services: Services, body: dict[str, Any], request: Request, _: Any) -> None:
        work_of(reference)(services, body, request)

    run.__name__ = reference.partition(":")[2]  # Bolt finds the lazy function by name
    return run


def _publish_home(services: Services, body: dict[str, Any], request: Request, _: Any) -> None:
    from bot.slack import commands

    user_id = body.get("event", {}).get("user", request.user_id)
    rows = [
        commands.row(services, c, now=request.now) for c in services.config.compositions.values()
    ]
    request.client.views_publish(user_id=user_id, view=blocks.home_view(rows, user_id=user_id))


def _user_name(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if isinstance(user, dict):
        return user.get("username") or user.get("name")
    return body.get("user_name")
