"""`validate` refuses what AWS would refuse (or silently never do), each in one exact line.

Duplicate resources, day and month names in cron, schedules that never run, FSx
throughput capacities FSx refuses, scalable-target minimums above ``desired``, waits
longer than a Step Functions execution, and definitions over Step Functions' 1 MB.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from scheduler_core.asl.limits import MAX_DEFINITION_CHARACTERS, definition_sizes
from scheduler_core.config import parse_config
from scheduler_core.exceptions import ConfigError
from tests.unit.test_config import (
    expected_stderr,
    run_cli,
    with_resources,
    with_settings,
    write,
)

YEAR = "365 days, the longest a Step Functions execution runs"
DAYS = "use MON, TUE, WED, THU, FRI, SAT or SUN (or 1-7, 1 = Sunday)"
FSX = (
    "expected a throughput capacity FSx for Windows File Server accepts: "
    "8, 16, 32, 64, 128, 256, 512, 1024 or 2048 MB/s (Single-AZ 2 and Multi-AZ from 32), "
    "or with SSD storage on Single-AZ 2 and Multi-AZ 4608, 6144, 9216 or 12288"
)
ONCE = "list each resource once"


def cron_file(expression: str, *, timezone: str = "UTC") -> str:
    return with_settings(f'timezone: {timezone}\nstart_resources_at: "{expression}"\n')


REFUSED = [
    # --- the same resource twice ------------------------------------------------------
    pytest.param(
        with_resources(
            "- type: rds_instance\n  params: {id: db1}\n"
            "- type: wait\n  params: {seconds: 5}\n"
            "- type: rds_instance\n  params: {id: db1}\n"
        ),
        [f"staging.resources[2]: duplicate: rds_instance db1 is also resources[0]; {ONCE}"],
        id="rds-instance-twice",
    ),
    pytest.param(
        with_resources(
            "- type: rds_instance\n  params: {id: db1}\n"
            "- parallel:\n"
            "    - type: ec2_instance\n      params: {id: i-1}\n"
            "    - type: rds_instance\n      params: {id: db1}\n"
        ),
        [
            "staging.resources[1].parallel[1]: duplicate: rds_instance db1 is also "
            f"resources[0]; {ONCE}"
        ],
        id="rds-instance-again-inside-parallel",
    ),
    pytest.param(
        with_resources(
            "- parallel:\n"
            "    - type: ec2_instance\n      params: {id: i-1}\n"
            "    - type: ec2_instance\n      params: {id: i-1}\n"
        ),
        [
            "staging.resources[0].parallel[1]: duplicate: ec2_instance i-1 is also "
            f"resources[0].parallel[0]; {ONCE}"
        ],
        id="twice-in-one-parallel-group",
    ),
    pytest.param(
        with_resources(
            "- type: ecs_service\n  params: {cluster_name: shop, name: api, desired: 2}\n"
            "- type: ecs_service\n  params: {cluster_name: shop, name: api, desired: 4}\n"
        ),
        [f"staging.resources[1]: duplicate: ecs_service shop/api is also resources[0]; {ONCE}"],
        id="ecs-service-twice-with-different-desired",
    ),
    pytest.param(
        with_resources(
            "- type: rds_cluster\n  params: {id: c1}\n- type: docdb_cluster\n  params: {id: c1}\n"
        ),
        [
            "staging.resources[1]: duplicate: docdb_cluster c1 is rds_cluster c1, "
            f"resources[0]; {ONCE}"
        ],
        id="one-cluster-as-two-kinds",
    ),
    # --- names in cron fields -----------------------------------------------------------
    pytest.param(
        cron_file("0 8 ? * MONDAY *"),
        [
            'staging.start_resources_at: invalid AWS cron expression "0 8 ? * MONDAY *": '
            f'day-of-week "MONDAY" is not a day name; {DAYS}; or use "on-demand"'
        ],
        id="day-name-spelled-out",
    ),
    pytest.param(
        cron_file("0 8 ? * MON-FRIDAY *"),
        [
            'staging.start_resources_at: invalid AWS cron expression "0 8 ? * MON-FRIDAY *": '
            f'day-of-week "FRIDAY" is not a day name; {DAYS}; or use "on-demand"'
        ],
        id="day-name-spelled-out-in-a-range",
    ),
    pytest.param(
        cron_file("0 8 ? * 0 *"),
        [
            'staging.start_resources_at: invalid AWS cron expression "0 8 ? * 0 *": '
            f'day-of-week 0 is out of range; {DAYS}; or use "on-demand"'
        ],
        id="day-of-week-zero",
    ),
    pytest.param(
        cron_file("0 8 1 JANUARY ? *"),
        [
            'staging.start_resources_at: invalid AWS cron expression "0 8 1 JANUARY ? *": '
            'month "JANUARY" is not a month name; use JAN, FEB, MAR, APR, MAY, JUN, JUL, AUG, '
            'SEP, OCT, NOV or DEC (or 1-12); or use "on-demand"'
        ],
        id="month-name-spelled-out",
    ),
    pytest.param(
        cron_file("0 8 ? * MON 2200"),
        [
            'staging.start_resources_at: invalid AWS cron expression "0 8 ? * MON 2200": '
            'year 2200 is out of range; use 1970-2199; or use "on-demand"'
        ],
        id="year-beyond-aws-range",
    ),
    # --- schedules that never run -------------------------------------------------------
    pytest.param(
        cron_file("0 8 ? * MON 2020", timezone="Europe/Amsterdam"),
        [
            'staging.start_resources_at: "0 8 ? * MON 2020" never runs again: its last run '
            'was 2020-12-28 08:00 (Europe/Amsterdam); or use "on-demand"'
        ],
        id="year-in-the-past",
    ),
    pytest.param(
        cron_file("0 8 30 2 ? *"),
        [
            'staging.start_resources_at: "0 8 30 2 ? *" never runs: February has no day 30; '
            'or use "on-demand"'
        ],
        id="30-february",
    ),
    pytest.param(
        with_settings('stop_resources_at: "0 19 31 FEB,APR ? *"\n'),
        [
            'staging.stop_resources_at: "0 19 31 FEB,APR ? *" never runs: February and April '
            'have no day 31; or use "on-demand"'
        ],
        id="31st-of-short-months",
    ),
    pytest.param(
        cron_file("0 8 29 2 ? 2100-2103"),
        [
            'staging.start_resources_at: "0 8 29 2 ? 2100-2103" never runs: February has no '
            'day 29 in 2100-2103; or use "on-demand"'
        ],
        id="29-february-without-leap-years",
    ),
    # --- values AWS refuses -------------------------------------------------------------
    pytest.param(
        with_resources(
            "- type: fsx_windows_file_system\n"
            "  params: {id: fs-0123456789abcdef0, throughput_capacity: 100}\n"
        ),
        [f"staging.resources[0].params.throughput_capacity: {FSX}; got 100"],
        id="fsx-throughput-not-an-fsx-level",
    ),
    pytest.param(
        with_resources(
            "- type: fsx_windows_file_system\n"
            "  params: {id: fs-0123456789abcdef0, throughput_capacity: 4096}\n"
        ),
        [f"staging.resources[0].params.throughput_capacity: {FSX}; got 4096"],
        id="fsx-throughput-4096",
    ),
    pytest.param(
        with_resources(
            "- type: ecs_service\n"
            "  params: {cluster_name: shop, name: api, desired: 2, min_capacity: 3}\n"
        ),
        [
            "staging.resources[0].params.min_capacity: expected min_capacity <= desired, "
            "got min_capacity 3, desired 2"
        ],
        id="ecs-min-capacity-above-desired",
    ),
    pytest.param(
        with_resources(
            "- type: eks_nodegroup\n"
            "  params: {cluster_name: shop, name: workers, min: 3, max: 4, desired: 2}\n"
        ),
        [
            "staging.resources[0].params: expected min <= desired <= max, "
            "got min 3, desired 2, max 4"
        ],
        id="eks-min-above-desired",
    ),
    pytest.param(
        with_resources(
            "- type: eks_nodegroup\n"
            "  params: {cluster_name: shop, name: workers, min: 1, max: 2, desired: 3}\n"
        ),
        [
            "staging.resources[0].params: expected min <= desired <= max, "
            "got min 1, desired 3, max 2"
        ],
        id="eks-desired-above-max",
    ),
    # --- longer than a Step Functions execution -----------------------------------------
    pytest.param(
        with_resources("- type: wait\n  params: {seconds: 400000000}\n"),
        [
            "staging.resources[0].params.seconds: expected at most 31536000 seconds "
            f"({YEAR}), got 400000000"
        ],
        id="wait-longer-than-a-year",
    ),
    pytest.param(
        with_resources(
            "- type: rds_instance\n  params: {id: db1}\n  ready_timeout_seconds: 31536001\n"
        ),
        [
            "staging.resources[0].ready_timeout_seconds: expected at most 31536000 seconds "
            f"({YEAR}), got 31536001"
        ],
        id="ready-timeout-longer-than-a-year",
    ),
    pytest.param(
        with_resources(
            "- type: wait\n  params: {seconds: 20000000}\n"
            "- parallel:\n"
            "    - type: wait\n      params: {seconds: 12000000}\n"
            "    - type: wait\n      params: {seconds: 1}\n"
        ),
        [
            "staging.resources: the waits add up to 32000000 seconds; a Step Functions "
            "execution runs at most 31536000 seconds (365 days)"
        ],
        id="waits-adding-up-to-more-than-a-year",
    ),
]


@pytest.mark.parametrize(("text", "problems"), REFUSED)
def test_what_aws_would_refuse_exits_2_with_one_exact_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, problems: list[str]
) -> None:
    path = write(tmp_path, text)

    code, out, err = run_cli(["validate", "-c", str(path)], capsys)

    assert (code, out, err) == (2, "", expected_stderr(path, problems))


ACCEPTED = [
    pytest.param(cron_file("0 8 ? * mon-fri *"), id="lower-case-day-names"),
    pytest.param(cron_file("0 8 ? * 2#1 *"), id="first-monday"),
    pytest.param(cron_file("0 8 ? * 6L *"), id="last-friday"),
    pytest.param(cron_file("0 8 L * ? *"), id="last-day-of-month"),
    pytest.param(cron_file("0 8 29 2 ? *"), id="29-february-in-leap-years"),
    pytest.param(cron_file("0 8 30,31 2,4 ? *"), id="30-april"),
    pytest.param(cron_file("0 8 ? JAN-MAR MON 2199"), id="last-year-aws-takes"),
    pytest.param(
        with_resources("- type: wait\n  params: {seconds: 31536000}\n"), id="wait-of-a-year"
    ),
    pytest.param(
        with_resources(
            "- type: fsx_windows_file_system\n  params: {id: fs-1, throughput_capacity: 8}\n"
            "- type: fsx_windows_file_system\n  params: {id: fs-2, throughput_capacity: 12288}\n"
        ),
        id="fsx-smallest-and-largest",
    ),
    pytest.param(
        with_resources(
            "- type: ecs_service\n"
            "  params: {cluster_name: shop, name: api, desired: 2, min_capacity: 2}\n"
            "- type: ecs_service\n  params: {cluster_name: blog, name: api, desired: 1}\n"
        ),
        id="min-capacity-equal-to-desired-and-one-name-in-two-clusters",
    ),
    pytest.param(
        with_resources(
            "- type: rds_instance\n  params: {id: db1}\n"
            "- type: rds_cluster\n  params: {id: db1}\n"
            "- type: wait\n  params: {seconds: 30}\n"
            "- type: wait\n  params: {seconds: 30}\n"
        ),
        id="an-instance-and-a-cluster-of-one-id-and-two-waits",
    ),
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_what_aws_accepts_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    code, out, err = run_cli(["validate", "-c", str(write(tmp_path, text))], capsys)

    assert (code, err) == (0, "")
    assert "all valid" in out


def test_a_year_runs_out_at_the_time_given() -> None:
    text = cron_file("0 8 1 1 ? 2027")
    parse_config(text, path=Path("compositions.yaml"), now=datetime(2026, 12, 31, tzinfo=UTC))

    with pytest.raises(ConfigError) as caught:
        parse_config(text, path=Path("compositions.yaml"), now=datetime(2027, 1, 2, tzinfo=UTC))

    assert caught.value.problems == [
        'compositions.yaml: staging.start_resources_at: "0 8 1 1 ? 2027" never runs again: '
        'its last run was 2027-01-01 08:00 (UTC); or use "on-demand"'
    ]


# --- the 1 MB definition --------------------------------------------------------------


def many(kind: str, count: int, **settings: str) -> str:
    items = [{"type": kind, "params": {"id": f"staging-{n:04d}"}} for n in range(count)]
    return yaml.safe_dump({"compositions": {"big": {**settings, "resources": items}}})


def test_a_definition_over_1_mb_is_refused_naming_composition_size_and_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = many("neptune_cluster", 230)
    composition = parse_config(text, path=Path("c.yaml")).get("big")
    size = max(definition_sizes(composition).values())
    path = write(tmp_path, text)

    code, out, err = run_cli(["validate", "-c", str(path)], capsys)

    assert size > MAX_DEFINITION_CHARACTERS
    assert (code, out, err) == (
        2,
        "",
        expected_stderr(
            path,
            [
                f"big.resources: the start state machine would be {size} characters; "
                "Step Functions takes a definition of at most 1048576: split the composition"
            ],
        ),
    )


def test_200_resources_in_another_account_fit_in_a_definition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # In another account every call carries the role: the largest definitions there are.
    path = write(tmp_path, many("rds_instance", 200, account="210987654321"))

    code, _, err = run_cli(["validate", "-c", str(path)], capsys)

    assert (code, err) == (0, "")
