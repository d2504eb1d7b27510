"""Fixtures of the hardening suite: a writable copy of the small synthetic data, and a case counter.

Every generated case is counted per class (``CASES``) and the totals are printed at the end of the
session, so the closing note can say how many cases each class ran.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .strategies import CASES


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
