"""Fixtures of the hardening suite: a writable copy of the small synthetic data, and a case counter.

Every generated case is counted per class (``CASES``) and the totals are printed at the end of the
session, so the closing note can say how many cases each class ran.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from trainer import cli as trainer_cli

from .strategies import CASES

#: Runs ``trainer ARGS...`` in-process: (exit code, stderr), stderr without a traceback.
RunTrainer = Callable[[list[str]], tuple[int, str]]


@pytest.fixture
def data_copy(synth_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the session's synthetic tables."""
    target = tmp_path / "data"
    shutil.copytree(synth_dir, target)
    return target


@pytest.fixture
def run_trainer(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> RunTrainer:
    """``trainer`` as a user runs it (argv, exit code, stderr), in this process."""

    def run(args: list[str]) -> tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["trainer", *args])
        with pytest.raises(SystemExit) as exited:
            trainer_cli.main()
            raise SystemExit(0)
        err = capsys.readouterr().err
        assert "Traceback" not in err
        return int(exited.value.code or 0), err

    return run


@pytest.fixture(scope="session", autouse=True)
def report_cases() -> Iterator[None]:
    """Print the number of generated cases per class once the suite is done (``pytest -s`` shows it)."""
    yield
    if CASES:
        lines = [f"  {kind}: {n}" for kind, n in sorted(CASES.items())]
        print("\nhardening cases per class:\n" + "\n".join(lines))
