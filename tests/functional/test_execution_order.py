"""Stop runs in exact reverse of start, group by group, as the history shows."""

from __future__ import annotations

from infra.emulator.server import Emulator
from scheduler_core.aws import Aws
from scheduler_core.resources import Action
from tests.functional import moto_resources
from tests.functional.helpers import composition, entered_states, run


def _completion_order(aws: Aws, execution_arn: str) -> list[str]:
    """Resource steps in the order they finished (their Done state was entered)."""
    return [
        name.removeprefix("Done ")
        for name in entered_states(aws, execution_arn)
        if name.startswith("Done ") or (name.startswith("Wait ") and "for" not in name)
    ]


def test_stop_is_exact_reverse_of_start_with_a_parallel_group(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    database = moto_resources.rds_cluster(aws_env, f"db-{unique}")
    service = moto_resources.ecs_service(aws_env, f"svc-{unique}")
    workers = moto_resources.auto_scaling_group(aws_env, f"asg-{unique}")
    target = composition(
        f"c-{unique}",
        [
            database.item,
            {"type": "wait", "params": {"seconds": 1}},
            {"parallel": [service.item, workers.item]},
        ],
    )

    stop = run(aws, target, Action.STOP)
    start = run(aws, target, Action.START)

    assert stop.succeeded and start.succeeded
    db, wait = f"rds_cluster db-{unique}", "Wait 1s"
    group = {f"ecs_service svc-{unique}/api", f"auto_scaling_group asg-{unique}"}
    stop_order, start_order = _completion_order(aws, stop.arn), _completion_order(aws, start.arn)
    assert set(stop_order[:2]) == group and stop_order[2:] == [wait, db]
    assert start_order[:2] == [db, wait] and set(start_order[2:]) == group
    # Group by group: nothing of the next step begins before the group has finished.
    entered = entered_states(aws, stop.arn)
    assert entered.index("Wait 1s") > max(entered.index(f"Done {name}") for name in group)
