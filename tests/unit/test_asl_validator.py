"""Generated state machines pass an independent ASL validator (npm asl-validator).

The validator checks the States Language schema, payload templates, JSONPath and
intrinsic-function syntax, and Resource ARNs: things the emulator is lenient about.
`make test` installs it into .tools/.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from scheduler_core.asl.builder import build_state_machine
from scheduler_core.config import load_config, parse_config
from scheduler_core.resources import REGISTRY, Action

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / ".tools" / "node_modules" / ".bin" / "asl-validator"

EVERY_KIND = """
compositions:
  every-kind:
    resources:
      - type: rds_cluster
        params: {id: db}
      - type: rds_instance
        params: {id: db1}
        wait_until_ready: false
      - parallel:
          - type: redshift_cluster
            params: {id: wh}
          - type: ec2_instance
            params: {id: i-0123456789abcdef0}
          - type: wait
            params: {seconds: 5}
      - type: ecs_service
        params: {cluster_name: shop, name: api, desired: "2"}
      - type: ecs_service
        params: {cluster_name: shop, name: web, desired: 1, min_capacity: 1}
      - type: auto_scaling_group
        params: {name: workers, min: 0, max: 4, desired: 0}
      - type: auto_scaling_group
        params: {name: workers2, min: 1, max: 4, desired: 3}
        ready_timeout_seconds: 86400
      - type: efs_file_system
        params: {id: fs-1, provisioned_throughput_in_mibps: 64.5}
      - type: fsx_windows_file_system
        params: {id: fs-0123456789abcdef0, throughput_capacity: 64}
        ready_timeout_seconds: 1
      - type: eks_nodegroup
        params: {cluster_name: shop, name: workers, min: 1, max: 3, desired: 2}
      - type: sagemaker_notebook_instance
        params: {name: research}
      - type: docdb_cluster
        params: {id: docs}
      - type: neptune_cluster
        params: {id: graph}
"""


def _validate(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    assert VALIDATOR.exists(), f"{VALIDATOR} is missing: `make test` installs it"
    arguments = [argument for path in paths for argument in ("--json-path", str(path))]
    return subprocess.run(
        [str(VALIDATOR), *arguments], capture_output=True, text=True, timeout=120, check=False
    )


def test_fixture_uses_every_kind() -> None:
    composition = parse_config(EVERY_KIND, path=Path("x.yaml")).get("every-kind")
    assert {item.type for item in composition.items()} == set(REGISTRY)


def test_generated_state_machines_are_valid_asl(tmp_path: Path) -> None:
    compositions = [
        parse_config(EVERY_KIND, path=Path("x.yaml")).get("every-kind"),
        *load_config(ROOT / "examples" / "compositions.yaml").compositions.values(),
    ]
    paths = []
    for composition in compositions:
        for action in Action:
            path = tmp_path / f"{composition.name}-{action.value}.json"
            path.write_text(json.dumps(build_state_machine(composition, action)))
            paths.append(path)

    done = _validate(paths)

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("is valid") == len(paths)


@pytest.mark.parametrize(
    ("breakage", "reported"),
    [
        (
            lambda states, name: states[name].update({"Type": "Teleport"}),
            "SCHEMA_VALIDATION_FAILED",
        ),
        (
            lambda states, name: states[name].update({"Parameters": {"x.$": "not a path"}}),
            "SCHEMA_VALIDATION_FAILED",
        ),
    ],
)
def test_validator_rejects_broken_definitions(tmp_path: Path, breakage, reported: str) -> None:  # type: ignore[no-untyped-def]
    composition = parse_config(EVERY_KIND, path=Path("x.yaml")).get("every-kind")
    document = build_state_machine(composition, Action.START)
    # The resource steps run inside the one branch of the body Parallel state: breaking
    # one there also shows that the validator looks into nested branches.
    [branch] = document["States"]["Run start of every-kind"]["Branches"]
    breakage(branch["States"], "Describe rds_cluster db")
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))

    done = _validate([path])

    assert done.returncode != 0
    assert reported in done.stdout + done.stderr
