"""Read the windows of a composition's databases from AWS.

For each item whose kind has windows (``ResourceKind.read_windows``: RDS and
Redshift today): the maintenance window, the backup window (RDS only; an Aurora
member instance reports its cluster's) and one window per AWS Backup plan rule
whose resource assignment selects the resource (matched by ARN and tags, see
``selection``).

Failure handling, on purpose:

* a resource that does not exist has no windows (``status`` reports it missing);
* AWS Backup APIs refused with AccessDenied: the RDS/Redshift windows are still
  returned, and each resource gets one unanalysed ``aws_backup`` entry whose
  ``problem`` names the missing permission (also logged as a warning), so
  ``windows`` shows the gap instead of silently claiming there are no backup rules;
* any other AWS error propagates (the CLI turns it into one line, exit 1).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from botocore.exceptions import ClientError

from scheduler_core.aws_calls import ClientFactory, error_code
from scheduler_core.windows.resource_window import ResourceWindow
from scheduler_core.windows.selection import BackupSelection
from scheduler_core.windows.specs import WindowKind

log = logging.getLogger(__name__)

BACKUP_PERMISSIONS = (
    "backup:ListBackupPlans, backup:GetBackupPlan, "
    "backup:ListBackupSelections, backup:GetBackupSelection"
)


class ItemsOf(Protocol):
    """What collection needs of a composition (``config.Composition`` fits)."""

    def items(self) -> list[Any]: ...


@dataclass(frozen=True, kw_only=True)
class DescribedResource:
    """What a describe call tells about one resource's windows and identity."""

    resource_type: str
    resource_id: str
    arn: str
    tags: dict[str, str]
    windows: tuple[ResourceWindow, ...]


def describe(
    clients: ClientFactory, item: Any, account_id: Callable[[], str]
) -> DescribedResource | None:
    """The windows of one item, from its kind's describe call; None if it has none."""
    label = item.kind.label(item.params)
    facts = item.kind.read_windows(item.params, clients, account_id)
    if facts is None:
        return None
    windows = [ResourceWindow.maintenance(item.type, label, facts.maintenance)]
    if facts.has_backup:
        windows.append(ResourceWindow.backup(item.type, label, facts.backup))
    return DescribedResource(
        resource_type=item.type,
        resource_id=label,
        arn=facts.arn,
        tags=facts.tags,
        windows=tuple(windows),
    )


@dataclass(frozen=True, kw_only=True)
class BackupRule:
    """One rule of an AWS Backup plan, as the API returns it."""

    plan_name: str
    rule_name: str
    expression: str | None
    timezone: str | None
    start_window_minutes: int | None


@dataclass(frozen=True, kw_only=True)
class BackupPlans:
    """Every backup selection of the account with the rules of its plan."""

    assignments: tuple[tuple[BackupSelection, tuple[BackupRule, ...]], ...] = ()
    problem: str | None = None  # set when the plans could not be read

    def rules_for(self, *, arn: str, tags: dict[str, str]) -> list[BackupRule]:
        """Rules of every plan with a selection that selects the resource."""
        return [
            rule
            for selection, rules in self.assignments
            if selection.selects(arn=arn, tags=tags)
            for rule in rules
        ]


def read_backup_plans(clients: ClientFactory) -> BackupPlans:
    """Read all backup plans, their rules and selections (share it across compositions).

    Returns:
        The plans; on AccessDenied an empty ``BackupPlans`` whose ``problem`` says
        which permissions are missing.
    """
    backup = clients("backup")
    assignments: list[tuple[BackupSelection, tuple[BackupRule, ...]]] = []
    try:
        for plan in _pages(backup, "list_backup_plans", "BackupPlansList"):
            plan_id = plan["BackupPlanId"]
            document = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]
            rules = tuple(
                _rule(document.get("BackupPlanName", plan_id), rule)
                for rule in document.get("Rules", ())
            )
            for listed in _pages(
                backup, "list_backup_selections", "BackupSelectionsList", BackupPlanId=plan_id
            ):
                selection = backup.get_backup_selection(
                    BackupPlanId=plan_id, SelectionId=listed["SelectionId"]
                )["BackupSelection"]
                assignments.append((BackupSelection.from_api(selection), rules))
    except ClientError as exc:
        if not error_code(exc).startswith("AccessDenied"):
            raise
        problem = (
            f"AWS Backup plans could not be read ({error_code(exc)}); "
            f"allow {BACKUP_PERMISSIONS} to analyse backup rules"
        )
        log.warning("%s", problem)
        return BackupPlans(problem=problem)
    return BackupPlans(assignments=tuple(assignments))


def collect_windows(
    clients: ClientFactory, composition: ItemsOf, *, backup_plans: BackupPlans | None = None
) -> list[ResourceWindow]:
    """Every window of the composition's RDS and Redshift resources.

    Args:
        clients: ``clients(service_name)`` returns a boto3 client (``Aws()`` fits).
        composition: the composition whose items are read.
        backup_plans: from ``read_backup_plans``; read here when not given.

    Returns:
        Windows in item order: maintenance, backup (RDS), then AWS Backup rules.
    """
    account_id = cache(lambda: str(clients("sts").get_caller_identity()["Account"]))
    described = [
        resource
        for item in composition.items()
        if item.kind.has_windows and (resource := describe(clients, item, account_id)) is not None
    ]
    if described and backup_plans is None:
        backup_plans = read_backup_plans(clients)
    windows: list[ResourceWindow] = []
    for resource in described:
        windows.extend(resource.windows)
        windows.extend(_backup_windows(resource, backup_plans or BackupPlans()))
    return windows


def _backup_windows(resource: DescribedResource, plans: BackupPlans) -> Iterable[ResourceWindow]:
    if plans.problem:
        yield ResourceWindow(
            resource_type=resource.resource_type,
            resource_id=resource.resource_id,
            kind=WindowKind.AWS_BACKUP,
            window="",
            spec=None,
            problem=plans.problem,
        )
        return
    seen: set[str] = set()
    for rule in plans.rules_for(arn=resource.arn, tags=resource.tags):
        window = ResourceWindow.aws_backup(
            resource.resource_type,
            resource.resource_id,
            expression=rule.expression,
            timezone=rule.timezone,
            start_window_minutes=rule.start_window_minutes,
        )
        # Two rules with the same schedule need the same brackets once.
        if window.window not in seen:
            seen.add(window.window)
            yield window


def _rule(plan_name: str, rule: dict[str, Any]) -> BackupRule:
    return BackupRule(
        plan_name=str(plan_name),
        rule_name=str(rule.get("RuleName", "")),
        expression=rule.get("ScheduleExpression"),
        timezone=rule.get("ScheduleExpressionTimezone"),
        start_window_minutes=rule.get("StartWindowMinutes"),
    )


def _pages(client: Any, operation: str, key: str, **arguments: Any) -> Iterable[dict[str, Any]]:
    for page in client.get_paginator(operation).paginate(**arguments):
        yield from page.get(key, ())
