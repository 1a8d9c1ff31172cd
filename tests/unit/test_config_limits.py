"""Hostile compositions files end in one exact line and exit 2, never in a crash or a hang.

Covers the limits of scheduler_core.config.loader: file size, nesting depth, values
after alias expansion, recursive aliases, bytes that are not UTF-8, scalars Python
cannot represent, and values too long to show in full.
"""

from __future__ import annotations

import json
import string
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from scheduler_core.config import load_config, loader, parse_config
from scheduler_core.config.reading import MAX_DEPTH, MAX_FILE_BYTES, MAX_SHOWN, MAX_VALUES
from scheduler_core.exceptions import ConfigError

ROOT = Path(__file__).resolve().parents[2]
FILE = Path("compositions.yaml")
RESOURCES = "    resources:\n      - type: wait\n        params: {seconds: 1}\n"
TOO_MANY_ALIASED = (
    f"line 5: more than {MAX_VALUES} values once aliases are expanded; "
    f"at most {MAX_VALUES} are allowed (an anchor may be shared, not multiplied)"
)
TOO_DEEP = f"lists and mappings nested more than {MAX_DEPTH} levels deep"


def billion_laughs() -> str:
    """Nine anchors, each a list of nine aliases of the one before: 9**9 strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip(string.ascii_lowercase[:8], string.ascii_lowercase[1:9], strict=True):
        lines.append(f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\ncompositions:\n  staging:\n    description: *i\n" + RESOURCES


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path=FILE)
    return caught.value.problems


def staging(settings: str) -> str:
    return f"compositions:\n  staging:\n{textwrap.indent(settings, '    ')}{RESOURCES}"


# --- aliases ---------------------------------------------------------------------------


def test_billion_laughs_is_refused_at_the_alias_that_crosses_the_budget() -> None:
    bomb = billion_laughs()
    assert len(bomb.encode()) < 500

    started = time.perf_counter()
    found = problems(bomb)

    assert found == [f"compositions.yaml: {TOO_MANY_ALIASED}"]
    assert time.perf_counter() - started < 1


def test_anchor_inside_itself_is_refused_as_recursive() -> None:
    assert problems(staging("description: &loop [1, *loop]\n")) == [
        "compositions.yaml: line 3: alias *loop is used inside its own anchor; "
        "recursive structures are not allowed"
    ]


def test_aliases_that_nest_anchors_deeper_than_the_limit_are_refused() -> None:
    # Each anchor is 40 levels around the one before: shallow in the text, 800 expanded.
    chain = [
        f"k{index}: &a{index} {'[' * 40}{f'*a{index - 1}' if index else 'x'}{']' * 40}"
        for index in range(20)
    ]
    assert problems("\n".join(chain) + "\n") == [
        f"compositions.yaml: line 2: {TOO_DEEP} once aliases are expanded; "
        f"at most {MAX_DEPTH} levels are allowed"
    ]


def test_anchors_that_share_resources_and_settings_still_load() -> None:
    items = "".join(
        f"    - type: ec2_instance\n      params: {{id: i-{n:017x}}}\n" for n in range(50)
    )
    shared = [f"  env{n}:\n    notify: *notify\n    resources: *fleet\n" for n in range(1, 20)]
    text = (
        "compositions:\n  env0:\n    notify: &notify {slack_channel: C0OPS}\n"
        f"    resources: &fleet\n{items}{''.join(shared)}"
    )

    config = parse_config(text, path=FILE)

    assert len(config.compositions) == 20
    first = config.get("env0")
    assert len(first.resources) == 50
    for name in config.compositions:
        assert config.get(name).resources == first.resources
        assert config.get(name).notify == first.notify


# --- nesting ---------------------------------------------------------------------------


def test_five_hundred_levels_of_nesting_are_refused_without_recursion_error() -> None:
    assert problems(staging(f"description: {'[' * 500}{']' * 500}\n")) == [
        f"compositions.yaml: line 3: {TOO_DEEP}; at most {MAX_DEPTH} levels are allowed"
    ]


def test_nesting_limit_counts_lists_and_mappings_from_the_top() -> None:
    # The document, "compositions" and "staging" are three levels already.
    at_limit = MAX_DEPTH - 3
    nested: list[object] = []
    for _ in range(at_limit - 1):
        nested = [nested]
    shown = json.dumps(nested)[: MAX_SHOWN - 1] + "…"

    assert problems(staging(f"description: {'[' * at_limit}{']' * at_limit}\n")) == [
        f"compositions.yaml: staging.description: expected a string, got {shown}"
    ]
    assert problems(staging(f"description: {'[' * (at_limit + 1)}{']' * (at_limit + 1)}\n")) == [
        f"compositions.yaml: line 3: {TOO_DEEP}; at most {MAX_DEPTH} levels are allowed"
    ]


def test_unclosed_brackets_filling_the_file_are_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "compositions.yaml"
    path.write_text("compositions: " + "[" * (MAX_FILE_BYTES - 100), encoding="utf-8")

    started = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert caught.value.problems == [
        f"{path}: line 1: {TOO_DEEP}; at most {MAX_DEPTH} levels are allowed"
    ]
    assert time.perf_counter() - started < 1


# --- size and number of values ---------------------------------------------------------


def test_file_larger_than_one_mib_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "compositions.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert caught.value.problems == [
        f"{path}: file is more than 1048576 bytes; at most 1048576 bytes (1 MiB) are allowed"
    ]


def test_text_over_the_limit_is_measured_in_utf8_bytes() -> None:
    # Fewer characters than the limit, but "é" takes two bytes.
    text = staging('description: "' + "é" * (MAX_FILE_BYTES // 2) + '"\n')
    assert len(text) < MAX_FILE_BYTES

    assert problems(text) == [
        f"compositions.yaml: file is {len(text.encode())} bytes; "
        "at most 1048576 bytes (1 MiB) are allowed"
    ]


def test_file_of_exactly_one_mib_still_loads(tmp_path: Path) -> None:
    head = "compositions:\n  staging:\n    description: "
    padding = MAX_FILE_BYTES - len(head) - len(RESOURCES) - 3
    path = tmp_path / "compositions.yaml"
    path.write_text(f'{head}"{"x" * padding}"\n{RESOURCES}', encoding="utf-8")
    assert path.stat().st_size == MAX_FILE_BYTES

    assert load_config(path).get("staging").description == "x" * padding


def test_more_values_than_the_budget_are_refused_without_aliases() -> None:
    assert problems(staging(f"description: [{', '.join(['1'] * MAX_VALUES)}]\n")) == [
        f"compositions.yaml: line 3: more than {MAX_VALUES} values; "
        f"at most {MAX_VALUES} are allowed"
    ]


# --- bytes and scalars that used to raise tracebacks -----------------------------------


def test_bytes_that_are_not_utf8_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "compositions.yaml"
    path.write_bytes(b"compositions:\n  st\xe9:\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert caught.value.problems == [
        f"{path}: line 2: not UTF-8 text (byte 0xe9); save the file as UTF-8"
    ]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        pytest.param(
            "2024-13-45",
            'cannot read "2024-13-45" as timestamp: month must be in 1..12',
            id="impossible-date",
        ),
        pytest.param(
            "1" * 5000,
            f"cannot read {json.dumps('1' * 5000)[: MAX_SHOWN - 1]}… as int: "
            "Exceeds the limit (4300 digits) for integer string conversion",
            id="integer-of-5000-digits",
        ),
        pytest.param(
            "!!float twelve", 'cannot read "twelve" as float: could not convert string to float'
        ),
    ],
)
def test_scalars_python_cannot_represent_are_one_line(value: str, problem: str) -> None:
    assert problems(staging(f"window_margin_minutes: {value}\n")) == [
        f"compositions.yaml: not valid YAML: {problem} (line 3)"
    ]


def test_keys_of_mixed_types_are_reported_not_crashed_on() -> None:
    text = (
        "compositions:\n  staging:\n    resources:\n      - type: wait\n"
        "        params: {seconds: 1}\n        1: one\n        z: zed\n"
    )
    assert problems(text) == [
        "compositions.yaml: staging.resources[0].1: unknown key; "
        "allowed: type, params, wait_until_ready, ready_timeout_seconds"
    ]


# --- what messages show ----------------------------------------------------------------


def test_long_values_are_cut_to_a_short_preview() -> None:
    zone = "Z" * 10_000
    cut = json.dumps(zone)[: MAX_SHOWN - 1] + "…"

    found = problems(staging(f"timezone: {zone}\n"))

    assert found == [
        f"compositions.yaml: staging.timezone: unknown timezone {cut}; "
        "expected an IANA name such as Europe/Amsterdam or UTC"
    ]


def test_field_validators_show_a_cut_preview_of_the_value() -> None:
    numbers = list(range(1000))
    cut = json.dumps(numbers)[: MAX_SHOWN - 1] + "…"

    assert problems(staging(f"window_margin_minutes: {numbers}\n")) == [
        f"compositions.yaml: staging.window_margin_minutes: expected an integer >= 0, got {cut}"
    ]


def test_keys_with_control_characters_are_escaped_in_the_field_path() -> None:
    text = (
        "compositions:\n  staging:\n    resources:\n      - type: wait\n"
        '        params: {seconds: 1}\n        "x\\n\\u001b[2J": 1\n'
    )
    assert problems(text) == [
        "compositions.yaml: staging.resources[0].x\\n\\x1b[2J: unknown key; "
        "allowed: type, params, wait_until_ready, ready_timeout_seconds"
    ]


def test_a_recursion_error_while_loading_becomes_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def overflow(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(loader.yaml, "load", overflow)

    assert problems(staging("")) == [
        f"compositions.yaml: too large or too deeply nested to load; at most {MAX_VALUES} "
        f"values nested at most {MAX_DEPTH} levels deep are allowed"
    ]


# --- the command line, end to end ------------------------------------------------------

# Runs `envctl validate` in a fresh child and reports its exit code, stderr and peak
# RSS: RUSAGE_CHILDREN of this wrapper covers that one child only, not earlier tests.
MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=60)
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": done.returncode, "stderr": done.stderr, "peak_kib": peak_kib}))
"""


def test_envctl_validate_on_the_bomb_exits_2_fast_and_small(tmp_path: Path) -> None:
    path = tmp_path / "compositions.yaml"
    path.write_text(billion_laughs(), encoding="utf-8")
    command = [sys.executable, "-m", "scheduler_core.cli.main", "validate", "-c", str(path)]

    started = time.monotonic()
    wrapper = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    elapsed = time.monotonic() - started
    report = json.loads(wrapper.stdout)

    assert report["code"] == 2
    assert report["stderr"] == f"{path}: {TOO_MANY_ALIASED}\n"
    assert report["peak_kib"] < 100 * 1024
    # Generous: the check itself takes well under a second; this only catches a hang.
    assert elapsed < 10
