"""The emulator, started once per test session on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from infra.emulator.server import Emulator
from scheduler_core.aws import Aws
from scheduler_core.settings import Settings


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


@pytest.fixture
def aws_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """Point boto3 (and so envctl) at the emulator for one test."""
    emulator.prepare()
    for name, value in emulator.environment().items():
        monkeypatch.setenv(name, value)
    return emulator


@pytest.fixture
def aws(aws_env: Emulator) -> Aws:
    return Aws()


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def unique() -> str:
    """A short unique suffix: tests share one emulator, so names must not collide."""
    return uuid4().hex[:8]


@pytest.fixture
def write_config(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(text: str) -> Path:
        path = tmp_path / "compositions.yaml"
        path.write_text(text)
        return path

    return write
