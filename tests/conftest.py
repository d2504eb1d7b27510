"""Shared fixtures: one small synthetic data set and one bundle trained on it, built once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_server import TeamLog, pg_bin, throwaway_server

from trainer.bundle import Bundle
from trainer.synth import generate
from trainer.train import FitConfig, fit_bundle

#: Clients in the shared synthetic application_train (application_test gets ~16 % more).
SMALL_CLIENTS = 2000


@pytest.fixture(scope="session", autouse=True)
def isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep tests out of the user's real cache, data and config folders (history cache, audit, config)."""
    root = tmp_path_factory.mktemp("home")
    names = ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "CREDIT_TUI_CONFIG")
    saved = {name: os.environ.get(name) for name in names}
    os.environ["XDG_CACHE_HOME"] = str(root / "cache")
    os.environ["XDG_DATA_HOME"] = str(root / "data")
    os.environ["XDG_CONFIG_HOME"] = str(root / "config")  # no config file: the single-desk defaults
    os.environ.pop("CREDIT_TUI_CONFIG", None)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session", autouse=True)
def _no_tracking_into_the_repo() -> Iterator[None]:
    """CLI runs in tests (subprocesses too) track nothing unless a test passes --tracking-uri itself."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRAINER_TRACKING_URI", "off")
        yield


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with all eight synthetic Home Credit tables (read-only for tests: copy before editing)."""
    out = tmp_path_factory.mktemp("synth")
    generate(out, n_clients=SMALL_CLIENTS, seed=7)
    return out


@pytest.fixture(scope="session")
def fitted_bundle(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """A bundle trained on :func:`synth_dir` with a review band (small and quick)."""
    out = tmp_path_factory.mktemp("models") / "small"
    config = FitConfig(data_dir=synth_dir, out=out, seed=3, review_band=0.02, num_boost_round=80, nthread=2)
    return fit_bundle(config)


# -- team mode: one throwaway PostgreSQL server per test session ---------------------------------------


@pytest.fixture(scope="session")
def team_log() -> Iterator[TeamLog]:
    """Start PostgreSQL once, create the log (four-eyes above PD 0.5) and the test login roles."""
    if pg_bin() is None:
        missing = "PostgreSQL server binaries not found: apt-get install -y postgresql (CI installs them)"
        if os.environ.get("CREDIT_TUI_REQUIRE_POSTGRES"):
            pytest.fail(missing)
        pytest.skip(missing)
    from credit_tui.audit_pg import init_schema

    with throwaway_server() as server:
        server.sql("CREATE DATABASE credit")
        init_schema(server.admin_url("credit"), four_eyes_pd=0.5)
        for name in ("alice", "bob"):
            server.create_login(name, "credit_advisor")
        for name in ("sue", "sam"):
            server.create_login(name, "credit_supervisor")
        server.create_login("nobody")
        yield TeamLog(server)
