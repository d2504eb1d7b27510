"""Fixtures of the hardening suite: a writable copy of the small synthetic data, and a case counter.

Every generated case is counted per class (``CASES``) and the totals are printed at the end of the
session, so the closing note can say how many cases each class ran.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

#: Generated cases run, per class of the issue (filled by the tests through :func:`count`).
CASES: Counter[str] = Counter()

#: Settings of every property test here (a decorator, so no global profile leaks into other suites):
#: few examples (the whole suite stays well under a minute), no deadline, the same cases every run.
hardening = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)


def count(kind: str) -> None:
    """Count one generated case of class ``kind``."""
    CASES[kind] += 1


@pytest.fixture
def data_copy(synth_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the session's synthetic tables."""
    target = tmp_path / "data"
    shutil.copytree(synth_dir, target)
    return target


@pytest.fixture(scope="session", autouse=True)
def report_cases() -> Iterator[None]:
    """Print the number of generated cases per class once the suite is done (``pytest -s`` shows it)."""
    yield
    if CASES:
        lines = [f"  {kind}: {n}" for kind, n in sorted(CASES.items())]
        print("\nhardening cases per class:\n" + "\n".join(lines))
