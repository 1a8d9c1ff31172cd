"""pytest plugin for mutation runs: fresh caches and cheap property tests.

mutmut forks each mutant's test run from a process that already ran the tests once
(to learn which tests reach which function). Any ``functools.cache``/``lru_cache``
filled then, in a test helper or in the code, would hand the mutant's tests the
unmutated result, and the mutant would survive whatever the tests check. Loaded
with ``-p tools.mutation.fresh_caches`` through ``pytest_add_cli_args``, so only in
mutation runs.

Property tests: under a mutant, a hypothesis test against a brute-force oracle can
run for minutes (until mutmut's timeout). Mutation runs load the hypothesis profile
``mutation``: at most ``MAX_EXAMPLES`` examples, no deadline, derandomized (the same
examples in every mutant's run, so a score is repeatable) and no example database
(nothing of one mutant's run replays in another's). A test's own ``@settings`` sets
``max_examples`` explicitly and would win over any profile, so the cap is also
applied to every collected hypothesis test. ``make test`` never loads this plugin.
"""

from __future__ import annotations

import sys

import pytest
from hypothesis import settings

PACKAGES = ("tests", "scheduler_core", "bot", "infra")
MAX_EXAMPLES = 25
PROFILE = "mutation"

settings.register_profile(
    PROFILE, max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None
)
settings.load_profile(PROFILE)


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


def cheapen(test: object) -> None:
    """Cap a hypothesis test's own settings to the mutation profile."""
    own = getattr(test, "_hypothesis_internal_use_settings", None)
    if own is None or not getattr(test, "is_hypothesis_test", False):
        return
    test._hypothesis_internal_use_settings = settings(  # type: ignore[attr-defined]
        own,
        max_examples=min(own.max_examples, MAX_EXAMPLES),
        deadline=None,
        derandomize=True,
        database=None,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    clear_caches()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        cheapen(getattr(item, "obj", None))
