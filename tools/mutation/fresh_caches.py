"""pytest plugin for mutation runs: every test session starts with empty caches.

mutmut forks each mutant's test run from a process that already ran the tests once
(to learn which tests reach which function). Any ``functools.cache``/``lru_cache``
filled then, in a test helper or in the code, would hand the mutant's tests the
unmutated result, and the mutant would survive whatever the tests check. Loaded
with ``-p tools.mutation.fresh_caches`` through ``pytest_add_cli_args``.
"""

from __future__ import annotations

import sys

import pytest

PACKAGES = ("tests", "scheduler_core", "bot", "infra")


def clear_caches() -> int:
    cleared = 0
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in PACKAGES:
            continue
        for value in list(vars(module).values()):
            cache_clear = getattr(value, "cache_clear", None)
            if callable(cache_clear):
                cache_clear()
                cleared += 1
    return cleared


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    clear_caches()
