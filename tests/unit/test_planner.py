"""The plan as a table: desired objects and a snapshot of AWS in, changes out.

The planner reads nothing itself (``reconcile.live`` does), so every decision is
tested here without the emulator: what is created, updated, deleted or left alone,
with which calls, in which order, and which prunes wait for a running execution.
The functional tests in ``tests/functional/test_reconcile.py`` check the same plans
against real reads and writes.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from scheduler_core.reconcile.desired import Desired, StateMachineSpec
from scheduler_core.reconcile.live import Live, LiveGroup, LiveMachine, owned_by
from scheduler_core.reconcile.model import Call, Change, ChangeAction, HeldPrune, ObjectKind
from scheduler_core.reconcile.planner import hold_busy_prunes, plan_changes, pruned_machine_arns
from scheduler_core.schedules import ScheduleSpec

PREFIX = "arn:aws:states:eu-west-1:123456789012:stateMachine:"
ROLE = "arn:aws:iam::123456789012:role/envctl-state-machine"
OTHER_ROLE = "arn:aws:iam::123456789012:role/someone-else"
SCHEDULER_ROLE = "arn:aws:iam::123456789012:role/envctl-scheduler"


def definition(name: str) -> dict[str, Any]:
    return {"StartAt": name, "States": {name: {"Type": "Succeed"}}}


def schedule(composition: str, action: str, expression: str, **fields: Any) -> ScheduleSpec:
    return ScheduleSpec(
        group=f"envctl-{composition}",
        name=action,
        expression=f"cron({expression})",
        timezone="Europe/Amsterdam",
        target_arn=f"{PREFIX}envctl-{composition}-{action}",
        role_arn=SCHEDULER_ROLE,
        input={"trigger": "schedule"},
        description=f"envctl: scheduled {action} of {composition}",
        **fields,
    )


def desired(*compositions: str, deployment: str = "default", **schedules: str) -> Desired:
    """Start and stop machines per composition, its group, and ``start``/``stop`` crons."""
    wanted = Desired(deployment=deployment)
    for name in compositions:
        for action in ("start", "stop"):
            machine = f"envctl-{name}-{action}"
            wanted.state_machines[machine] = StateMachineSpec(
                name=machine, composition=name, definition=definition(machine)
            )
            if action in schedules:
                spec = schedule(name, action, schedules[action])
                wanted.schedules[spec.full_name] = spec
        wanted.groups[f"envctl-{name}"] = name
    return wanted


def live_schedule(spec: ScheduleSpec, **overrides: Any) -> dict[str, Any]:
    """What get_schedule answers for a schedule envctl created from ``spec``."""
    answer = spec.request(state=spec.state or "ENABLED")
    answer.pop("FlexibleTimeWindow")
    return {**answer, "Arn": f"arn:aws:scheduler:::schedule/{spec.full_name}", **overrides}


def live_of(wanted: Desired) -> Live:
    """AWS exactly as ``apply`` of ``wanted`` leaves it."""
    machines = {
        name: LiveMachine(name=name, arn=PREFIX + name, definition=spec.definition, role_arn=ROLE)
        for name, spec in wanted.state_machines.items()
    }
    groups = {
        group: LiveGroup(
            name=group,
            arn=f"arn:aws:scheduler:::schedule-group/{group}",
            schedules={
                spec.name: live_schedule(spec)
                for spec in wanted.schedules.values()
                if spec.group == group
            },
        )
        for group in wanted.groups
    }
    return Live(machines=machines, groups=groups)


def tags(composition: str, deployment: str | None = "default") -> dict[str, str]:
    found = {"envctl:managed": "true", "envctl:composition": composition}
    if deployment is not None:
        found["envctl:deployment"] = deployment
    return found


def leftover(composition: str, *, tagged: dict[str, str] | None = None, **group: Any) -> Live:
    """A composition no longer in the config: its machines and group, listed by prune."""
    found_tags = tags(composition) if tagged is None else tagged
    machines = {
        f"envctl-{composition}-{action}": LiveMachine(
            name=f"envctl-{composition}-{action}",
            arn=f"{PREFIX}envctl-{composition}-{action}",
            tags=found_tags,
        )
        for action in ("start", "stop")
    }
    name = f"envctl-{composition}"
    live_group = LiveGroup(
        name=name, arn=f"arn:aws:scheduler:::schedule-group/{name}", tags=found_tags, **group
    )
    return Live(machines=machines, groups={name: live_group})


def merged(*snapshots: Live) -> Live:
    machines: dict[str, LiveMachine] = {}
    groups: dict[str, LiveGroup] = {}
    for snapshot in snapshots:
        machines.update(snapshot.machines)
        groups.update(snapshot.groups)
    return Live(machines=machines, groups=groups)


def plan(wanted: Desired, live: Live, *, prune: bool = False) -> list[Change]:
    return plan_changes(wanted, live, role_arn=ROLE, prune=prune)


def described(changes: list[Change]) -> list[str]:
    return [change.describe() for change in changes]


# -- creating ----------------------------------------------------------------------


def test_an_empty_account_gets_machines_then_the_group_then_its_schedules() -> None:
    wanted = desired("shop", start="0 8 ? * MON-FRI *", stop="0 19 ? * MON-FRI *")

    changes = plan(wanted, Live())

    assert described(changes) == [
        "+ state machine envctl-shop-start",
        "+ state machine envctl-shop-stop",
        "+ schedule group envctl-shop",
        "+ schedule envctl-shop/start (expression: (none) → cron(0 8 ? * MON-FRI *) "
        "Europe/Amsterdam)",
        "+ schedule envctl-shop/stop (expression: (none) → cron(0 19 ? * MON-FRI *) "
        "Europe/Amsterdam)",
    ]
    assert {change.composition for change in changes} == {"shop"}


def test_a_new_machine_is_created_standard_with_the_role_and_envctl_tags() -> None:
    wanted = desired("shop", deployment="team-a")

    created = plan(wanted, Live())[0]

    assert created.calls == (
        Call(
            service="stepfunctions",
            operation="create_state_machine",
            arguments={
                "name": "envctl-shop-start",
                "definition": json.dumps(definition("envctl-shop-start"), separators=(",", ":")),
                "roleArn": ROLE,
                "type": "STANDARD",
                "tags": [
                    {"key": "envctl:managed", "value": "true"},
                    {"key": "envctl:composition", "value": "shop"},
                    {"key": "envctl:deployment", "value": "team-a"},
                ],
            },
        ),
    )
    assert created.action is ChangeAction.CREATE and created.kind is ObjectKind.STATE_MACHINE


def test_a_new_group_is_tagged_for_the_composition_and_deployment() -> None:
    group = plan(desired("shop", deployment="team-a"), Live())[2]

    assert group.calls == (
        Call(
            service="scheduler",
            operation="create_schedule_group",
            arguments={
                "Name": "envctl-shop",
                "Tags": [
                    {"Key": "envctl:managed", "Value": "true"},
                    {"Key": "envctl:composition", "Value": "shop"},
                    {"Key": "envctl:deployment", "Value": "team-a"},
                ],
            },
        ),
    )
    assert (group.action, group.kind, group.name) == (
        ChangeAction.CREATE,
        ObjectKind.SCHEDULE_GROUP,
        "envctl-shop",
    )


def test_a_new_schedule_is_created_enabled_unless_the_config_pauses_it() -> None:
    wanted = desired("shop", start="0 8 * * ? *")
    paused = Desired(
        deployment="default",
        state_machines=wanted.state_machines,
        groups=wanted.groups,
        schedules={
            name: replace(spec, state="DISABLED") for name, spec in wanted.schedules.items()
        },
    )
    live = replace(live_of(wanted), groups={})

    enabled = plan(wanted, live)[-1]
    disabled = plan(paused, live)[-1]

    spec = wanted.schedules["envctl-shop/start"]
    assert enabled.calls == (
        Call(
            service="scheduler",
            operation="create_schedule",
            arguments=spec.request(state="ENABLED"),
        ),
    )
    assert disabled.calls[0].arguments["State"] == "DISABLED"


def test_a_live_group_missing_a_schedule_gets_only_that_schedule() -> None:
    wanted = desired("shop", start="0 8 * * ? *", stop="0 19 * * ? *")
    live = live_of(wanted)
    group = live.groups["envctl-shop"]
    without_stop = replace(group, schedules={"start": group.schedules["start"]})

    changes = plan(wanted, replace(live, groups={"envctl-shop": without_stop}))

    assert described(changes) == [
        "+ schedule envctl-shop/stop (expression: (none) → cron(0 19 * * ? *) Europe/Amsterdam)"
    ]


# -- nothing to do -----------------------------------------------------------------


def test_aws_as_the_config_wants_it_gives_an_empty_plan() -> None:
    wanted = desired("shop", "crm", start="0 8 * * ? *", stop="0 19 * * ? *")

    assert plan(wanted, live_of(wanted)) == []
    assert plan(wanted, live_of(wanted), prune=True) == []


def test_foreign_schedules_in_our_group_are_left_alone() -> None:
    wanted = desired("shop", start="0 8 * * ? *")
    live = live_of(wanted)
    group = replace(live.groups["envctl-shop"], foreign=("someone-elses",))

    assert plan(wanted, replace(live, groups={"envctl-shop": group}), prune=True) == []


def test_the_pending_auto_stop_belongs_to_the_runtime_and_is_never_deleted() -> None:
    wanted = desired("shop")
    live = live_of(wanted)
    auto_stop = replace(
        schedule("shop", "auto-stop", "0 12 * * ? *"), expression="at(2026-12-01T12:00:00)"
    )
    group = replace(live.groups["envctl-shop"], schedules={"auto-stop": live_schedule(auto_stop)})

    assert plan(wanted, replace(live, groups={"envctl-shop": group})) == []


# -- updating ----------------------------------------------------------------------


def test_a_changed_definition_updates_the_machine_in_place() -> None:
    wanted = desired("shop")
    live = live_of(wanted)
    stale = replace(live.machines["envctl-shop-stop"], definition=definition("old"))

    changes = plan(wanted, replace(live, machines={**live.machines, stale.name: stale}))

    assert described(changes) == [
        "~ state machine envctl-shop-stop (definition: (differs) → (generated))"
    ]
    assert changes[0].calls == (
        Call(
            service="stepfunctions",
            operation="update_state_machine",
            arguments={
                "stateMachineArn": f"{PREFIX}envctl-shop-stop",
                "definition": json.dumps(definition("envctl-shop-stop"), separators=(",", ":")),
                "roleArn": ROLE,
            },
        ),
    )
    assert changes[0].composition == "shop"


def test_a_changed_role_is_reported_from_old_to_new() -> None:
    wanted = desired("shop")
    live = live_of(wanted)
    other = replace(live.machines["envctl-shop-start"], role_arn=OTHER_ROLE)

    changes = plan(wanted, replace(live, machines={**live.machines, other.name: other}))

    assert [change.fields for change in changes] == [{"role": (OTHER_ROLE, ROLE)}]
    assert changes[0].calls[0].arguments["roleArn"] == ROLE


def test_an_update_of_a_paused_schedule_keeps_it_paused() -> None:
    # apply after a cron change must not silently resume a paused environment.
    wanted = desired("shop", start="0 7 * * ? *")
    before = schedule("shop", "start", "0 8 * * ? *")
    live = live_of(wanted)
    paused = live_schedule(before, State="DISABLED")
    group = replace(live.groups["envctl-shop"], schedules={"start": paused})

    changes = plan(wanted, replace(live, groups={"envctl-shop": group}))

    assert described(changes) == [
        "~ schedule envctl-shop/start (expression: cron(0 8 * * ? *) → cron(0 7 * * ? *))"
    ]
    assert changes[0].calls == (
        Call(
            service="scheduler",
            operation="update_schedule",
            arguments=wanted.schedules["envctl-shop/start"].request(state="DISABLED"),
        ),
    )
    assert changes[0].composition == "shop"


def test_a_config_that_sets_the_state_wins_over_the_live_one() -> None:
    wanted = desired("shop", start="0 8 * * ? *")
    spec = replace(wanted.schedules["envctl-shop/start"], state="ENABLED")
    wanted.schedules[spec.full_name] = spec
    live = live_of(wanted)
    group = replace(
        live.groups["envctl-shop"], schedules={"start": live_schedule(spec, State="DISABLED")}
    )

    changes = plan(wanted, replace(live, groups={"envctl-shop": group}))

    assert [change.fields for change in changes] == [{"state": ("DISABLED", "ENABLED")}]
    assert changes[0].calls[0].arguments["State"] == "ENABLED"


def test_a_live_schedule_without_a_state_is_updated_as_enabled() -> None:
    wanted = desired("shop", start="0 7 * * ? *")
    live = live_of(wanted)
    answer = live_schedule(schedule("shop", "start", "0 8 * * ? *"))
    del answer["State"]
    group = replace(live.groups["envctl-shop"], schedules={"start": answer})

    changes = plan(wanted, replace(live, groups={"envctl-shop": group}))

    assert changes[0].calls[0].arguments["State"] == "ENABLED"


def test_a_schedule_the_config_dropped_is_deleted_from_its_group() -> None:
    wanted = desired("shop", start="0 8 * * ? *")
    live = live_of(desired("shop", start="0 8 * * ? *", stop="0 19 * * ? *"))

    changes = plan(wanted, live)

    assert described(changes) == ["- schedule envctl-shop/stop"]
    assert changes[0].calls == (
        Call(
            service="scheduler",
            operation="delete_schedule",
            arguments={"GroupName": "envctl-shop", "Name": "stop"},
        ),
    )
    assert changes[0].composition == "shop"


# -- pruning -----------------------------------------------------------------------


def test_without_prune_a_composition_gone_from_the_config_is_kept() -> None:
    wanted = desired("shop")
    gone = leftover(
        "crm", schedules={"start": live_schedule(schedule("crm", "start", "0 8 * * ? *"))}
    )

    assert plan(wanted, merged(live_of(wanted), gone)) == []


def test_prune_deletes_schedules_then_the_group_then_the_machines() -> None:
    wanted = desired("shop")
    gone = leftover(
        "crm",
        schedules={
            "start": live_schedule(schedule("crm", "start", "0 8 * * ? *")),
            "stop": live_schedule(schedule("crm", "stop", "0 19 * * ? *")),
        },
    )

    changes = plan(wanted, merged(live_of(wanted), gone), prune=True)

    assert described(changes) == [
        "- schedule envctl-crm/start",
        "- schedule envctl-crm/stop",
        "- schedule group envctl-crm",
        "- state machine envctl-crm-start",
        "- state machine envctl-crm-stop",
    ]
    assert {change.composition for change in changes} == {"crm"}
    assert changes[2].calls == (
        Call(
            service="scheduler", operation="delete_schedule_group", arguments={"Name": "envctl-crm"}
        ),
    )
    assert changes[3].calls == (
        Call(
            service="stepfunctions",
            operation="delete_state_machine",
            arguments={"stateMachineArn": f"{PREFIX}envctl-crm-start"},
        ),
    )


def test_prune_keeps_a_group_that_holds_someone_elses_schedule() -> None:
    gone = leftover(
        "crm",
        schedules={"start": live_schedule(schedule("crm", "start", "0 8 * * ? *"))},
        foreign=("hand-made",),
    )

    changes = plan(desired("shop"), merged(live_of(desired("shop")), gone), prune=True)

    assert described(changes) == [
        "- schedule envctl-crm/start",
        "- state machine envctl-crm-start",
        "- state machine envctl-crm-stop",
    ]


@pytest.mark.parametrize(
    "found",
    [
        tags("crm", deployment="team-b"),  # another deployment's
        {"envctl:composition": "crm"},  # not managed by envctl
        {**tags("crm"), "envctl:managed": "false"},
        {},
    ],
)
def test_prune_never_deletes_what_is_not_this_deployments(found: dict[str, str]) -> None:
    gone = leftover("crm", tagged=found)

    assert plan(desired("shop"), merged(live_of(desired("shop")), gone), prune=True) == []


def test_objects_without_a_deployment_tag_are_the_default_deployments() -> None:
    gone = leftover("crm", tagged=tags("crm", deployment=None))

    assert len(plan(desired("shop"), merged(live_of(desired("shop")), gone), prune=True)) == 3
    team_a = desired("shop", deployment="team-a")
    assert plan(team_a, merged(live_of(team_a), gone), prune=True) == []
    assert owned_by(tags("crm", deployment=None), "default")
    assert not owned_by(tags("crm", deployment=None), "team-a")


def test_prune_leaves_a_kept_compositions_other_machines() -> None:
    # A machine tagged for a composition still in the config is not a leftover.
    wanted = desired("shop")
    spare = LiveMachine(
        name="envctl-shop-windows", arn=f"{PREFIX}envctl-shop-windows", tags=tags("shop")
    )
    live = live_of(wanted)

    assert (
        plan(wanted, replace(live, machines={**live.machines, spare.name: spare}), prune=True) == []
    )


def test_prune_goes_on_past_objects_it_must_not_touch() -> None:
    # Listing order mixes other teams' machines and ours; every leftover of ours goes.
    foreign = leftover("aaa", tagged=tags("aaa", deployment="team-b"))
    ours = leftover("zzz")
    live = merged(foreign, leftover("crm"), ours)

    changes = plan(Desired(), live, prune=True)

    assert [change.name for change in changes if change.kind is ObjectKind.STATE_MACHINE] == [
        "envctl-crm-start",
        "envctl-crm-stop",
        "envctl-zzz-start",
        "envctl-zzz-stop",
    ]


def test_an_envctl_object_that_lost_its_composition_tag_is_pruned_under_no_name() -> None:
    untagged = {"envctl:managed": "true"}
    gone = leftover(
        "crm",
        tagged=untagged,
        schedules={"start": live_schedule(schedule("crm", "start", "0 8 * * ? *"))},
    )

    changes = plan(Desired(), gone, prune=True)

    assert [(change.name, change.composition) for change in changes] == [
        ("envctl-crm/start", ""),
        ("envctl-crm", ""),
        ("envctl-crm-start", ""),
        ("envctl-crm-stop", ""),
    ]


# -- prunes that wait for a running execution ----------------------------------------


def prune_plan() -> tuple[Desired, list[Change]]:
    wanted = desired("shop")
    live = merged(
        live_of(desired("shop", stop="0 19 * * ? *")),  # shop/stop dropped from the config
        leftover(
            "crm", schedules={"start": live_schedule(schedule("crm", "start", "0 8 * * ? *"))}
        ),
        leftover("old"),
    )
    return wanted, plan(wanted, live, prune=True)


def test_the_prunable_machines_are_listed_per_pruned_composition() -> None:
    wanted, changes = prune_plan()

    assert pruned_machine_arns(changes, wanted) == {
        "crm": [f"{PREFIX}envctl-crm-start", f"{PREFIX}envctl-crm-stop"],
        "old": [f"{PREFIX}envctl-old-start", f"{PREFIX}envctl-old-stop"],
    }


def test_a_pruned_composition_with_a_running_execution_keeps_everything() -> None:
    wanted, changes = prune_plan()
    running = {f"{PREFIX}envctl-crm-stop": "arn:execution:crm-stop-1"}

    remaining, held = hold_busy_prunes(changes, desired=wanted, running=running)

    assert held == [HeldPrune(composition="crm", execution_arn="arn:execution:crm-stop-1")]
    assert described(remaining) == [
        "- schedule envctl-shop/stop",
        "- schedule group envctl-old",
        "- state machine envctl-old-start",
        "- state machine envctl-old-stop",
    ]


def test_a_held_prune_names_the_first_running_machines_execution() -> None:
    wanted, changes = prune_plan()
    running = {
        f"{PREFIX}envctl-crm-stop": "arn:execution:stop",
        f"{PREFIX}envctl-crm-start": "arn:execution:start",
    }

    _, held = hold_busy_prunes(changes, desired=wanted, running=running)

    assert held == [HeldPrune(composition="crm", execution_arn="arn:execution:start")]


def test_nothing_is_held_when_nothing_runs_and_kept_compositions_are_never_held() -> None:
    wanted, changes = prune_plan()
    # A running execution of a composition still in the config does not hold its own
    # schedule deletions.
    running = {f"{PREFIX}envctl-shop-start": "arn:execution:shop"}

    remaining, held = hold_busy_prunes(changes, desired=wanted, running=running)

    assert held == []
    assert remaining == changes


def test_deletions_come_last_and_in_reverse_dependency_order() -> None:
    wanted = desired("new", start="0 8 * * ? *")
    live = leftover(
        "gone", schedules={"stop": live_schedule(schedule("gone", "stop", "0 19 * * ? *"))}
    )

    changes = plan(wanted, live, prune=True)

    assert [(change.action, change.kind) for change in changes] == [
        (ChangeAction.CREATE, ObjectKind.STATE_MACHINE),
        (ChangeAction.CREATE, ObjectKind.STATE_MACHINE),
        (ChangeAction.CREATE, ObjectKind.SCHEDULE_GROUP),
        (ChangeAction.CREATE, ObjectKind.SCHEDULE),
        (ChangeAction.DELETE, ObjectKind.SCHEDULE),
        (ChangeAction.DELETE, ObjectKind.SCHEDULE_GROUP),
        (ChangeAction.DELETE, ObjectKind.STATE_MACHINE),
        (ChangeAction.DELETE, ObjectKind.STATE_MACHINE),
    ]
