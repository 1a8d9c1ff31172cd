"""The compositions file: every problem is one exact line, and good files load as written."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from scheduler_core.cli.main import main
from scheduler_core.config import (
    ON_DEMAND,
    Composition,
    ParallelGroup,
    ResourceItem,
    load_config,
    parse_config,
)
from scheduler_core.exceptions import ConfigError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "compositions.yaml"
ALLOWED_TYPES = (
    "auto_scaling_group, docdb_cluster, ec2_instance, ecs_service, efs_file_system, "
    "eks_nodegroup, fsx_windows_file_system, neptune_cluster, rds_cluster, rds_instance, "
    "redshift_cluster, sagemaker_notebook_instance, wait"
)
COMPOSITION_KEYS = (
    "description, timezone, start_resources_at, stop_resources_at, auto_stop_after, "
    "window_margin_minutes, notify, access, webhooks, account, region, role, calendar, resources"
)
ONE_RDS_INSTANCE = """\
- type: rds_instance
  params: {id: db1}
"""


def staging(*, settings: str = "", resources: str = ONE_RDS_INSTANCE) -> str:
    """A file with one composition "staging": extra settings lines, then its resources."""
    body = textwrap.indent(settings, "    ")
    items = textwrap.indent(resources, "      ")
    return f"compositions:\n  staging:\n{body}    resources:\n{items}"


def with_resources(resources: str) -> str:
    return staging(resources=resources)


def with_settings(settings: str) -> str:
    return staging(settings=settings)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "compositions.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def expected_stderr(path: Path, problems: list[str]) -> str:
    """What the CLI prints for a ConfigError: one line per problem."""
    return "".join(f"{path}: {problem}\n" for problem in problems)


def load(text: str) -> Composition:
    return parse_config(text, path=Path("compositions.yaml")).get("staging")


BAD_FILES = [
    pytest.param(
        with_settings('start_resources_at: "0 8 * * MON-FRI"\n'),
        [
            'staging.start_resources_at: invalid AWS cron expression "0 8 * * MON-FRI": '
            "expected 6 fields (minutes hours day-of-month month day-of-week year), got 5; "
            'for example "0 8 ? * MON-FRI *"; or use "on-demand"'
        ],
        id="cron-with-five-fields",
    ),
    pytest.param(
        with_settings('start_resources_at: "0 8 * * MON-FRI *"\n'),
        [
            'staging.start_resources_at: invalid AWS cron expression "0 8 * * MON-FRI *": '
            'exactly one of day-of-month and day-of-week must be ?; or use "on-demand"'
        ],
        id="cron-with-both-day-fields",
    ),
    pytest.param(
        with_settings('stop_resources_at: "0 25 ? * MON-FRI *"\n'),
        [
            'staging.stop_resources_at: invalid AWS cron expression "0 25 ? * MON-FRI *": '
            'a field is out of range or malformed (hour must be in 0..23); or use "on-demand"'
        ],
        id="cron-hour-out-of-range",
    ),
    pytest.param(
        with_settings("timezone: Europe/Amsterdm\n"),
        [
            'staging.timezone: unknown timezone "Europe/Amsterdm"; '
            "expected an IANA name such as Europe/Amsterdam or UTC"
        ],
        id="unknown-timezone",
    ),
    pytest.param(
        with_resources("- type: rds\n  params: {id: db1}\n"),
        [f'staging.resources[0].type: unknown resource type "rds"; allowed: {ALLOWED_TYPES}'],
        id="unknown-resource-type",
    ),
    pytest.param(
        with_resources("- params: {id: db1}\n"),
        [f"staging.resources[0].type: missing; allowed: {ALLOWED_TYPES}"],
        id="missing-resource-type",
    ),
    pytest.param(
        with_resources("- type: [rds_instance]\n  params: {id: db1}\n"),
        [
            'staging.resources[0].type: unknown resource type ["rds_instance"]; '
            f"allowed: {ALLOWED_TYPES}"
        ],
        id="resource-type-not-a-string",
    ),
    pytest.param(
        with_resources("- type: ecs_service\n  params: {cluster_name: shop, name: api}\n"),
        ["staging.resources[0].params.desired: missing; required"],
        id="missing-param",
    ),
    pytest.param(
        with_resources("- type: rds_instance\n"),
        ["staging.resources[0].params: expected a mapping with id, got nothing"],
        id="missing-params",
    ),
    pytest.param(
        with_resources(
            "- type: ecs_service\n  params: {cluster_name: shop, name: api, desired: -1}\n"
        ),
        ["staging.resources[0].params.desired: expected an integer >= 0, got -1"],
        id="negative-desired",
    ),
    pytest.param(
        with_resources(
            '- type: ecs_service\n  params: {cluster_name: shop, name: api, desired: "two"}\n'
        ),
        ['staging.resources[0].params.desired: expected an integer >= 0, got "two"'],
        id="non-numeric-desired",
    ),
    pytest.param(
        with_resources(
            '- type: ecs_service\n  params: {cluster_name: shop, name: api, desired: "1.5"}\n'
        ),
        ['staging.resources[0].params.desired: expected an integer >= 0, got "1.5"'],
        id="fractional-desired",
    ),
    pytest.param(
        with_resources("- type: rds_instance\n  params: {id: 123}\n"),
        ["staging.resources[0].params.id: expected a non-empty name or id, got 123"],
        id="numeric-id",
    ),
    pytest.param(
        with_resources(
            "- type: ecs_service\n"
            "  params: {cluster_name: shop, name: api, desird: 2, desired: 2}\n"
        ),
        [
            "staging.resources[0].params.desird: unknown key; "
            "allowed: cluster_name, name, desired, min_capacity"
        ],
        id="unknown-key-in-params",
    ),
    pytest.param(
        with_resources("- type: rds_instance\n  params: {id: db1}\n  wait_until_redy: false\n"),
        [
            "staging.resources[0].wait_until_redy: unknown key; "
            "allowed: type, params, wait_until_ready, ready_timeout_seconds"
        ],
        id="unknown-key-on-item",
    ),
    pytest.param(
        with_resources("- type: rds_instance\n  params: {id: db1}\n  wait_until_ready: maybe\n"),
        ['staging.resources[0].wait_until_ready: expected true or false, got "maybe"'],
        id="wait-until-ready-not-a-boolean",
    ),
    pytest.param(
        with_resources("- type: rds_instance\n  params: {id: db1}\n  ready_timeout_seconds: 0\n"),
        ["staging.resources[0].ready_timeout_seconds: expected an integer >= 1, got 0"],
        id="zero-ready-timeout",
    ),
    pytest.param(
        with_settings("timezon: UTC\n"),
        [f"staging.timezon: unknown key; allowed: {COMPOSITION_KEYS}"],
        id="unknown-key-on-composition",
    ),
    pytest.param(
        with_settings("notify: {slack: C0123456789}\n"),
        ["staging.notify.slack: unknown key; allowed: slack_channel, heads_up_minutes"],
        id="unknown-key-in-notify",
    ),
    pytest.param(
        with_settings("access: {user: [U0123456789]}\n"),
        ["staging.access.user: unknown key; allowed: users, usergroups, channels, protected"],
        id="unknown-key-in-access",
    ),
    pytest.param(
        with_settings("window_margin_minutes: -5\n"),
        ["staging.window_margin_minutes: expected an integer >= 0, got -5"],
        id="negative-window-margin",
    ),
    pytest.param(
        textwrap.dedent(
            """\
            compositions:
              staging:
                resources:
                  - type: wait
                    params: {seconds: 1}
              staging:
                resources:
                  - type: wait
                    params: {seconds: 2}
            """
        ),
        ['not valid YAML: duplicate key "staging" (first on line 2, again on line 6)'],
        id="duplicate-composition-name",
    ),
    pytest.param(
        "compositions:\n  staging:\n    resources: []\n",
        ["staging.resources: expected a non-empty list of resources, got []"],
        id="empty-resources",
    ),
    pytest.param(
        "compositions:\n  staging:\n    timezone: UTC\n",
        ["staging.resources: missing; list at least one resource"],
        id="missing-resources",
    ),
    pytest.param(
        with_resources(
            "- parallel:\n    - parallel:\n        - type: wait\n          params: {seconds: 1}\n"
        ),
        ["staging.resources[0].parallel[0]: parallel groups cannot be nested"],
        id="nested-parallel-group",
    ),
    pytest.param(
        with_resources("- parallel: []\n"),
        ["staging.resources[0].parallel: expected a non-empty list of resources, got []"],
        id="empty-parallel-group",
    ),
    pytest.param(
        with_resources(
            "- parallel:\n    - type: wait\n      params: {seconds: 1}\n  name: workers\n"
        ),
        ['staging.resources[0].name: unknown key; a parallel group has only "parallel"'],
        id="unknown-key-on-parallel-group",
    ),
    pytest.param(
        with_resources(
            "- type: auto_scaling_group\n  params: {name: workers, min: 1, max: 4, desired: 5}\n"
        ),
        [
            "staging.resources[0].params: expected min <= desired <= max, "
            "got min 1, desired 5, max 4"
        ],
        id="asg-desired-above-max",
    ),
    pytest.param(
        with_resources(
            "- type: auto_scaling_group\n  params: {name: workers, min: 2, max: 4, desired: 1}\n"
        ),
        [
            "staging.resources[0].params: expected min <= desired <= max, "
            "got min 2, desired 1, max 4"
        ],
        id="asg-desired-below-min",
    ),
    pytest.param(
        with_settings("auto_stop_after: soon\n"),
        ['staging.auto_stop_after: expected a duration such as 30m, 2h or 1h30m, got "soon"'],
        id="bad-auto-stop-after",
    ),
    pytest.param(
        with_settings("auto_stop_after: 0m\n"),
        ['staging.auto_stop_after: expected a duration longer than zero, got "0m"'],
        id="zero-auto-stop-after",
    ),
    pytest.param(
        "compositions:\n  staging env:\n    resources:\n      - type: wait\n"
        "        params: {seconds: 1}\n",
        [
            "staging env: invalid composition name; use letters, digits, '-' and '_', "
            "at most 40 characters, starting with a letter or digit"
        ],
        id="invalid-composition-name",
    ),
    pytest.param(
        "compositions:\n  staging: 3\n",
        ["staging: expected a mapping of composition settings, got 3"],
        id="composition-not-a-mapping",
    ),
    pytest.param(
        "compositions:\n  staging: [\n",
        ["not valid YAML: expected the node content, but found '<stream end>' (line 3)"],
        id="invalid-yaml",
    ),
    pytest.param(
        "compositions:\n  staging:\n    resources:\n      - ? [a, b]\n        : 1\n",
        ["not valid YAML: found unhashable key (line 4)"],
        id="unhashable-yaml-key",
    ),
    pytest.param(
        "staging:\n  resources: []\n",
        [
            'expected the top-level key "compositions" holding a mapping '
            '(and optionally "calendars")'
        ],
        id="top-level-not-compositions",
    ),
    pytest.param(
        "",
        [
            'expected the top-level key "compositions" holding a mapping '
            '(and optionally "calendars")'
        ],
        id="empty-file",
    ),
    pytest.param(
        "compositions: {}\n",
        ["compositions: expected at least one composition"],
        id="no-compositions",
    ),
]


@pytest.mark.parametrize(("text", "problems"), BAD_FILES)
def test_bad_file_exits_2_with_exact_one_line_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, problems: list[str]
) -> None:
    path = write(tmp_path, text)

    code, out, err = run_cli(["validate", "-c", str(path)], capsys)

    assert (code, out, err) == (2, "", expected_stderr(path, problems))


def test_every_problem_in_a_file_is_reported_on_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = textwrap.dedent(
        """\
        compositions:
          staging:
            timezone: Mars/Base
            start_resources_at: "0 8 * * *"
            resources:
              - type: rds
                params: {id: db1}
              - parallel:
                  - type: ecs_service
                    params: {cluster_name: shop, name: api, desired: "two"}
          qa:
            auto_stop_after: soon
            resources:
              - type: wait
                params: {seconds: -1}
        """
    )
    path = write(tmp_path, text)

    code, _, err = run_cli(["validate", "-c", str(path)], capsys)

    assert code == 2
    assert err == expected_stderr(
        path,
        [
            'staging.timezone: unknown timezone "Mars/Base"; '
            "expected an IANA name such as Europe/Amsterdam or UTC",
            'staging.start_resources_at: invalid AWS cron expression "0 8 * * *": '
            "expected 6 fields (minutes hours day-of-month month day-of-week year), got 5; "
            'for example "0 8 ? * MON-FRI *"; or use "on-demand"',
            f'staging.resources[0].type: unknown resource type "rds"; allowed: {ALLOWED_TYPES}',
            'staging.resources[1].parallel[0].params.desired: expected an integer >= 0, got "two"',
            'qa.auto_stop_after: expected a duration such as 30m, 2h or 1h30m, got "soon"',
            "qa.resources[0].params.seconds: expected an integer >= 0, got -1",
        ],
    )


def test_bad_file_never_shows_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, with_resources("- type: ecs_service\n  params: {desired: x}\n"))

    _, _, err = run_cli(["validate", "-c", str(path)], capsys)

    assert "Traceback" not in err
    assert len(err.splitlines()) == 3  # name, cluster_name missing; desired not a number


def test_missing_file_exits_2_naming_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "absent.yaml"

    code, out, err = run_cli(["validate", "-c", str(path)], capsys)

    assert (code, out) == (2, "")
    assert err == f"{path}: cannot read the compositions file (No such file or directory)\n"


def test_composition_names_equal_as_text_are_duplicates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # YAML keys 1 and "1" differ, but both become composition "1": one would vanish.
    text = textwrap.dedent(
        """\
        compositions:
          1:
            resources:
              - type: wait
                params: {seconds: 1}
          "1":
            resources:
              - type: wait
                params: {seconds: 2}
        """
    )
    path = write(tmp_path, text)

    code, _, err = run_cli(["validate", "-c", str(path)], capsys)

    assert code == 2
    assert "duplicate" in err
    assert "Traceback" not in err


def test_infinite_efs_throughput_is_rejected() -> None:
    text = with_resources(
        "- type: efs_file_system\n  params: {id: fs-1, provisioned_throughput_in_mibps: .inf}\n"
    )

    with pytest.raises(ConfigError) as raised:
        load(text)

    [problem] = raised.value.problems
    assert problem.startswith(
        "compositions.yaml: staging.resources[0].params.provisioned_throughput_in_mibps: "
        "expected a number >= 1"
    )


# --- numbers written as strings, as the Terraform module's items have them ---------------


@pytest.mark.parametrize(("written", "loaded"), [("2", 2), (" 3 ", 3), (4, 4), (5.0, 5)])
def test_numeric_strings_load_as_integer_counts(written: object, loaded: int) -> None:
    text = with_resources(
        f"- type: ecs_service\n  params: {{cluster_name: shop, name: api, desired: {written!r}}}\n"
    )

    item = load(text).resources[0]

    assert isinstance(item, ResourceItem)
    assert item.params.desired == loaded
    assert type(item.params.desired) is int


def test_numeric_string_throughput_loads_as_float() -> None:
    text = with_resources(
        '- type: efs_file_system\n  params: {id: fs-1, provisioned_throughput_in_mibps: "64.5"}\n'
    )

    item = load(text).resources[0]

    assert isinstance(item, ResourceItem)
    assert item.params.provisioned_throughput_in_mibps == 64.5


def test_numeric_string_ready_timeout_loads_as_integer() -> None:
    text = with_resources(
        '- type: rds_instance\n  params: {id: db1}\n  ready_timeout_seconds: " 600 "\n'
    )

    item = load(text).resources[0]

    assert isinstance(item, ResourceItem)
    assert item.ready_timeout_seconds == 600


@pytest.mark.parametrize("flag", ["true", "false"])
def test_boolean_is_rejected_as_a_count(flag: str) -> None:
    text = with_resources(
        f"- type: ecs_service\n  params: {{cluster_name: shop, name: api, desired: {flag}}}\n"
    )

    with pytest.raises(ConfigError) as raised:
        load(text)

    assert raised.value.problems == [
        "compositions.yaml: staging.resources[0].params.desired: "
        f"expected an integer >= 0, got {flag}"
    ]


# --- the Terraform module's resource_composition, pasted in unchanged ---------------------

TERRAFORM_EXAMPLE = """\
compositions:
  staging:
    start_resources_at: "0 8 ? * MON-FRI *"
    stop_resources_at: "0 18 ? * MON-FRI *"
    timezone: Europe/Amsterdam
    resources:
      - type: rds_instance
        params: {id: "rds-instance-1"}
      - type: wait
        params: {seconds: "600"}
      - type: ecs_service
        params: {cluster_name: "my-cluster", name: "my-service", desired: "1"}
"""


def test_terraform_resource_composition_loads_unchanged() -> None:
    composition = load(TERRAFORM_EXAMPLE)

    rds, wait, ecs = composition.resources
    assert isinstance(rds, ResourceItem)
    assert isinstance(wait, ResourceItem)
    assert isinstance(ecs, ResourceItem)
    assert (rds.type, rds.params.id) == ("rds_instance", "rds-instance-1")
    assert (wait.type, wait.params.seconds) == ("wait", 600)
    assert (ecs.type, ecs.params.cluster_name, ecs.params.name, ecs.params.desired) == (
        "ecs_service",
        "my-cluster",
        "my-service",
        1,
    )


def test_terraform_schedule_and_timezone_load_unchanged() -> None:
    composition = load(TERRAFORM_EXAMPLE)

    assert composition.start_resources_at == "0 8 ? * MON-FRI *"
    assert composition.stop_resources_at == "0 18 ? * MON-FRI *"
    assert composition.timezone == "Europe/Amsterdam"
    assert composition.zone.key == "Europe/Amsterdam"


# --- defaults --------------------------------------------------------------------------


def test_composition_defaults() -> None:
    composition = load(staging())

    assert composition.timezone == "UTC"
    assert composition.start_resources_at == ON_DEMAND
    assert composition.stop_resources_at == ON_DEMAND
    assert composition.window_margin_minutes == 15
    assert composition.auto_stop_after is None
    assert composition.description == ""
    assert composition.access is None
    assert composition.notify.slack_channel is None


def test_resource_item_defaults() -> None:
    item = load(staging()).resources[0]

    assert isinstance(item, ResourceItem)
    assert item.wait_until_ready is True
    assert item.ready_timeout_seconds == 1800


def test_auto_stop_after_parses_hours_and_minutes() -> None:
    composition = load(with_settings("auto_stop_after: 1h30m\n"))

    assert composition.auto_stop_after == timedelta(minutes=90)


def test_parallel_group_keeps_its_items_in_order() -> None:
    composition = load(
        with_resources(
            "- parallel:\n"
            "    - type: rds_instance\n      params: {id: a}\n"
            "    - type: rds_cluster\n      params: {id: b}\n"
        )
    )

    [group] = composition.resources
    assert isinstance(group, ParallelGroup)
    assert [(item.type, item.params.id) for item in group.parallel] == [
        ("rds_instance", "a"),
        ("rds_cluster", "b"),
    ]


# --- the CLI ---------------------------------------------------------------------------


def test_validate_example_file_exits_0_with_a_summary_naming_both_compositions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(["validate", "-c", str(EXAMPLES)], capsys)

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"{EXAMPLES}: 2 compositions, all valid"
    assert any(line.strip().startswith("staging:") for line in lines[1:])
    assert any(line.strip().startswith("qa:") for line in lines[1:])


def test_render_of_unknown_composition_exits_2_listing_known_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(["render", "nope", "--action", "start", "-c", str(EXAMPLES)], capsys)

    assert (code, out) == (2, "")
    assert err == 'envctl: unknown composition "nope"; known compositions: qa, staging\n'


@pytest.mark.parametrize(
    ("notify", "lead"),
    [
        ("{}", 0),
        ("{slack_channel: C0123456789}", 15),
        ("{slack_channel: C0123456789, heads_up_minutes: 0}", 0),
        ("{slack_channel: C0123456789, heads_up_minutes: '30'}", 30),
        ("{heads_up_minutes: 30}", 0),
    ],
)
def test_heads_up_lead_defaults_to_15_minutes_with_a_channel(tmp_path, notify, lead):
    path = tmp_path / "compositions.yaml"
    path.write_text(
        "compositions:\n  staging:\n"
        f"    notify: {notify}\n"
        "    resources: [{type: wait, params: {seconds: 1}}]\n"
    )
    assert load_config(path).get("staging").notify.heads_up == lead
