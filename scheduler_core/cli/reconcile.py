"""``envctl plan``, ``apply``, ``windows`` and ``schedule``."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scheduler_core.actions import Action
from scheduler_core.config.models import ON_DEMAND
from scheduler_core.cron.words import describe_cron
from scheduler_core.durations import format_duration
from scheduler_core.places import Place, place_of
from scheduler_core.reconcile import Change, Plan, apply_plan, plan_everything
from scheduler_core.reconcile.windows import conflicts_for, window_analyses
from scheduler_core.schedule_view import read_schedule, read_windows
from scheduler_core.week_text import week_lines
from scheduler_core.windows import next_occurrences

if TYPE_CHECKING:
    from scheduler_core.cli.commands import Context
    from scheduler_core.windows.analysis import WindowAnalysis


def _plan(ctx: Context) -> Plan:
    return plan_everything(
        ctx.aws, ctx.settings, ctx.config, prune=ctx.args.prune, now=datetime.now(UTC)
    )


def _places(ctx: Context) -> dict[str, Place]:
    """Where each composition that names an account or region has its resources."""
    return {
        name: place_of(composition, ctx.aws)
        for name, composition in ctx.config.compositions.items()
        if composition.account or composition.region or composition.role
    }


def show_plan(ctx: Context, *, as_json: bool) -> int:
    plan = _plan(ctx)
    places = _places(ctx)
    if as_json:
        document = plan.as_json()
        if places:
            document["places"] = {
                name: {"account": p.account, "region": p.region, "role": p.role_arn}
                for name, p in places.items()
            }
        print(json.dumps(document, indent=2))
        return 0
    for name, place in places.items():
        role = f" through {place.role_arn}" if place.role_arn else ""
        print(f"{name}: resources in {place}{role}")
    if plan.empty and not plan.held:
        print("No changes: AWS matches the config.")
    for change in plan.changes:
        print(change.describe())
    if not plan.empty:
        print(f"Plan: {plan.summary()}. Run `envctl apply` to make these changes.")
    for note in plan.notes:
        print(f"note: {note}")
    for held in plan.held:
        print(f"note: {held.describe()}")
    return 0


def run_apply(ctx: Context) -> int:
    """Apply the plan; 1 when a removed composition could not be pruned yet."""
    plan = _plan(ctx)
    for note in plan.notes:
        print(f"note: {note}")
    if plan.empty and not plan.held:
        print("No changes: AWS already matches the config.")
        return 0

    def done(change: Change) -> None:
        print(change.describe(), flush=True)

    if not plan.empty:
        apply_plan(ctx.aws, plan, on_change=done)
        print(f"Apply complete: {plan.summary(done=True)}.")
    # After the other changes: one busy composition must not hold the rest back.
    for held in plan.held:
        print(f"envctl: {held.describe()}", file=sys.stderr)
    return 1 if plan.held else 0


def show_windows(ctx: Context) -> int:
    chosen = [ctx.args.name] if ctx.args.name else None
    if chosen:
        ctx.config.get(ctx.args.name)  # unknown name: exit 2 with the known names
    analyses = window_analyses(ctx.aws, ctx.config, now=datetime.now(UTC), names=chosen)
    entries = [entry for name in analyses for entry in analyses[name]]
    if ctx.args.json:
        print(json.dumps([entry.as_json() for entry in entries], indent=2))
        return 0
    if not entries:
        print("No maintenance or backup windows: no RDS or Redshift resources, or none found.")
    for entry in entries:
        _print_window(entry)
    chosen = [ctx.config.get(name) for name in analyses]
    for conflict in conflicts_for(ctx.aws, chosen):
        print(
            f"conflict: {conflict.composition}: {conflict.resource_type} {conflict.resource_id}: "
            f"{conflict.detail}. {conflict.hint}"
        )
    return 0


def _print_window(entry: WindowAnalysis) -> None:
    """One window of ``envctl windows``: its verdict, its brackets, any note."""
    if entry.problem and entry.occurrences == 0:
        verdict = f"not analysed: {entry.problem}"
    elif entry.covered:
        verdict = "covered by the schedule"
    else:
        verdict = f"NOT covered on {entry.uncovered_occurrences} of {entry.occurrences} occurrences"
    print(
        f"{entry.composition}: {entry.resource_type} {entry.resource_id} "
        f"{entry.kind} {entry.window}: {verdict}"
    )
    for bracket in entry.brackets:
        print(f"    {bracket.action.value} bracket: {bracket.expression} {bracket.timezone}")
    if entry.problem and entry.occurrences:
        print(f"    note: {entry.problem}")


def schedule_document(ctx: Context, *, now: datetime) -> dict[str, Any]:
    """The ``schedule --json`` document: the next 7 days of runs, and the pending auto-stop."""
    return read_schedule(ctx.runtime, ctx.composition, now=now).as_json()


def show_schedule(ctx: Context) -> int:
    composition = ctx.composition
    now = datetime.now(UTC)
    facts = read_schedule(ctx.runtime, composition, now=now)
    if getattr(ctx.args, "json", False):
        print(json.dumps(facts.as_json(), indent=2))
        return 0
    print(f"{composition.name} ({composition.timezone})")
    overrides = ctx.runtime.store.overrides(composition.name)
    for action, expression in (
        (Action.START, composition.start_resources_at),
        (Action.STOP, composition.stop_resources_at),
    ):
        if expression == ON_DEMAND:
            print(f"  {action}: on demand only")
            continue
        print(f"  {action}: {describe_cron(expression)} (cron {expression})")
        state = facts.states.get(action)
        if state:
            print(f"    schedule: {state}")
        if getattr(overrides, f"skip_next_{action.value}"):
            print(f"    the next scheduled {action} will be skipped")
        for occurrence in next_occurrences(expression, composition.timezone, after=now, count=3):
            print(f"    next: {occurrence.local:%a %d %b %Y %H:%M %Z}")
    if composition.auto_stop_after:
        print(f"  on-demand starts stop after {format_duration(composition.auto_stop_after)}")
    if facts.auto_stop_at:
        local = facts.auto_stop_at.astimezone(composition.zone)
        print(f"  pending auto-stop: {local:%a %d %b %H:%M %Z}")
    windows, unread = read_windows(ctx.aws, composition, now=now)
    print()
    print(f"The week at a glance ({composition.timezone}, one character an hour):")
    for line in week_lines(facts.week(windows, windows_unread=unread)):
        print(f"  {line}".rstrip())
    return 0
