"""Stop databases again after RDS starts them because they were stopped for 7 days.

RDS starts a stopped DB instance (event RDS-EVENT-0154) or DB cluster
(RDS-EVENT-0153) by itself after seven days. EventBridge delivers those events
(``source: aws.rds``, ``detail-type: RDS DB Instance Event | RDS DB Cluster Event``,
``detail: {EventID, SourceIdentifier, SourceArn, SourceType, Message, ...}``) here.

For the compositions of the bundled config that contain the resource:

- if every one of them is recorded ``stopped`` (the state row the state machines
  write), the first one's STOP state machine runs with ``trigger="restop"``. Its
  readiness loop waits while the database is still ``starting`` and stops it once it
  is ``available``; its other resources are already stopped, so they are no-ops.
  The action is audited (who ``aws rds auto-start``, via ``restop``).
- otherwise nothing is stopped: a composition that is running, starting, stopping,
  failed or has no recorded state may need the database (or a person is on it).

Each composition's ``notify.slack_channel`` gets a short notice when
``SLACK_BOT_TOKEN`` is set; a Slack failure is logged and never fails the re-stop.
Errors of the re-stop itself propagate, so Lambda's retries and alarms apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from slack_sdk.errors import SlackClientError

from bot.secrets import resolve_secret
from bot.settings import RestopSettings
from bot.slack_client import slack_client
from scheduler_core.actions import Action
from scheduler_core.aws import Aws
from scheduler_core.config import Composition, Config, load_config
from scheduler_core.exceptions import EnvctlError
from scheduler_core.places import regions_of
from scheduler_core.resources import REGISTRY
from scheduler_core.runtime.executions import ExecutionConflictError, RunRequest, launch
from scheduler_core.runtime.store import Store
from scheduler_core.settings import Settings

logger = Logger(service="envctl-restop")


def _auto_start_events() -> dict[str, tuple[str, ...]]:
    """Event ID -> the type names of the kinds it can be about, in registry order.

    Each kind names its own auto-start event, and several may share one: the clusters
    of every engine the RDS API serves (Aurora, DocumentDB, Neptune) report
    RDS-EVENT-0153. Their identifiers share one namespace, so the compositions tell
    which kind the event's resource is.
    """
    events: dict[str, tuple[str, ...]] = {}
    for kind in REGISTRY.values():
        if kind.auto_start_event:
            events[kind.auto_start_event] = (*events.get(kind.auto_start_event, ()), kind.type_name)
    return events


AUTO_START_EVENTS = _auto_start_events()
TRIGGER = "restop"
AUDIT_WHO = "aws rds auto-start"


@dataclass(frozen=True, kw_only=True)
class AutoStart:
    """An RDS resource that RDS started because it had been stopped for 7 days."""

    # The type names of the kinds whose auto_start_event it is (one, or those sharing it).
    resource_types: tuple[str, ...]
    identifier: str
    # Where it happened (the event's envelope); None: the deployment's own account/region.
    # A spoke forwards its events to the hub's bus with these unchanged.
    account: str | None = None
    region: str | None = None

    @property
    def label(self) -> str:
        return f"{REGISTRY[self.resource_types[0]].noun} {self.identifier}"


def auto_start_of(event: dict[str, Any]) -> AutoStart | None:
    """The auto-started resource an event reports, or None for any other event."""
    detail = event.get("detail") or {}
    resource_types = AUTO_START_EVENTS.get(str(detail.get("EventID", "")))
    if event.get("source") != "aws.rds" or not resource_types:
        return None
    # SourceIdentifier is the id; the ARN's last part (…:db:<id>, …:cluster:<id>) backs it up.
    identifier = detail.get("SourceIdentifier") or str(detail.get("SourceArn", "")).rsplit(":")[-1]
    if not identifier:
        return None
    account, region = event.get("account"), event.get("region")
    return AutoStart(
        resource_types=resource_types,
        identifier=identifier,
        account=account if isinstance(account, str) and account else None,
        region=region if isinstance(region, str) and region else None,
    )


def compositions_with(
    config: Config, started: AutoStart, *, home_account: str, home_region: str
) -> list[Composition]:
    """Compositions (in file order) that contain the resource, in its account and region.

    The same id in another account or region is another database: never confused.
    """
    return [
        composition
        for composition in config.compositions.values()
        if (composition.account or home_account) == (started.account or home_account)
        and (composition.region or home_region) == (started.region or home_region)
        and any(
            item.type in started.resource_types
            and item.kind.label(item.params) == started.identifier
            for item in composition.items()
        )
    ]


def restop(
    started: AutoStart, *, config: Config, aws: Aws, settings: Settings
) -> tuple[dict[str, Any], list[tuple[Composition, str]]]:
    """Stop the resource again if every composition with it is stopped.

    Returns:
        A summary for the log, and (composition, Slack text) notices to send.
    """
    # Which account this is matters only when an account is named somewhere.
    named = started.account or any(c.account for c in config.compositions.values())
    matching = compositions_with(
        config,
        started,
        home_account=aws.account_id if named else "",
        home_region=aws.region,
    )
    store = Store(aws, settings.table_name, regions_of(config))
    states = {}
    for composition in matching:
        record = store.state(composition.name)
        states[composition.name] = record.state if record else "unknown"
    summary: dict[str, Any] = {"resource": started.label, "compositions": states}
    if not matching:
        summary["outcome"] = "not in any composition; left alone"
        return summary, []
    busy = {name: state for name, state in states.items() if state != "stopped"}
    prefix = f"RDS restarted {started.label} after 7 days stopped"
    if busy:
        name, state = next(iter(busy.items()))
        summary["outcome"] = f"left running: {name} is {state}"
        return summary, [
            (composition, f"{prefix}; left running because {name} is {state}.")
            for composition in matching
        ]
    chosen = matching[0]
    # The run audits itself, with who asked and why.
    request = RunRequest(
        who=AUDIT_WHO,
        via=TRIGGER,
        detail=f"{started.label} was restarted by RDS after 7 days stopped",
    )
    try:
        launched = launch(aws, settings, chosen, Action.STOP, trigger=TRIGGER, request=request)
    except ExecutionConflictError as exc:
        # Someone started or stopped it since the state was recorded: theirs wins.
        summary["outcome"] = f"left alone: {exc}"
        return summary, [(c, f"{prefix}; left alone because {exc}.") for c in matching]
    execution = launched.execution_arn
    summary.update(outcome=f"stopping again via {chosen.name}", execution_arn=execution)
    return summary, [
        (composition, f"{prefix}; envctl is stopping it again ({chosen.name} is stopped).")
        for composition in matching
    ]


def notify(notices: list[tuple[Composition, str]], settings: RestopSettings) -> list[str]:
    """Post each notice to its composition's channel (once per channel); best effort."""
    if not settings.bot_token:
        return []
    posted: list[str] = []
    seen: set[str] = set()
    for composition, text in notices:
        channel = composition.notify.slack_channel
        if not channel or channel in seen:
            continue
        seen.add(channel)
        try:
            client = slack_client(
                resolve_secret(settings.bot_token), api_url=settings.slack_api_url
            )
            client.chat_postMessage(channel=channel, text=text)
            posted.append(channel)
        # The database is already being handled; a lost notice must not undo that.
        except (SlackClientError, ClientError, BotoCoreError, EnvctlError, OSError) as exc:
            logger.warning("could not post to Slack", extra={"channel": channel, "error": str(exc)})
    return posted


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda handler for the EventBridge rule on RDS-EVENT-0153/0154."""
    started = auto_start_of(event)
    if started is None:
        logger.info("not an RDS 7-day auto-start event; ignored")
        return {"handled": False}
    settings = RestopSettings.from_env()
    summary, notices = restop(
        started,
        config=load_config(settings.core.config_path),
        aws=settings.core.aws(),
        settings=settings.core,
    )
    summary["slack"] = notify(notices, settings)
    logger.info("auto-start handled", extra=summary)
    return {"handled": True, **summary}
