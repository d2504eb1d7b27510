"""Fixtures of the TUI tests: one tiny synthetic portfolio and bundle, built once per session."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from credit_tui.app import CreditApp, create_app
from credit_tui.audit import AuditStore, open_audit_store
from credit_tui.services import Services, load_services
from trainer.scoring import Scorer
from trainer.synth import generate
from trainer.train import FitConfig, fit_bundle

TUI_CLIENTS = 1500
#: XGBoost parameters of the TUI tests' model, over trainer.config.DEFAULT_XGB_PARAMS.
TUI_MODEL_PARAMS: dict[str, Any] = {"learning_rate": 0.05}


@dataclasses.dataclass(frozen=True)
class TuiData:
    """Paths of the session's data set and bundle."""

    data_dir: Path
    model_dir: Path
    clients: Path


@pytest.fixture(scope="session")
def tui_data(tmp_path_factory: pytest.TempPathFactory) -> TuiData:
    """Synthetic tables (parquet) and a bundle with a review band; deterministic seeds and threads.

    The learning rate is pinned (the default's value before issue 14) so that tuning ``trainer fit``'s
    defaults does not move every screenshot: the snapshots and the decision tests pick clients by the
    decision this model gives them.
    """
    data_dir = tmp_path_factory.mktemp("tui_data")
    generate(data_dir, n_clients=TUI_CLIENTS, seed=11, fmt="parquet")
    model_dir = tmp_path_factory.mktemp("tui_models") / "tiny"
    fit_bundle(
        FitConfig(
            data_dir=data_dir,
            out=model_dir,
            seed=5,
            review_band=0.02,
            params=TUI_MODEL_PARAMS,
            num_boost_round=60,
            nthread=1,
        )
    )
    return TuiData(data_dir, model_dir, data_dir / "application_test.parquet")


@pytest.fixture(scope="session")
def services(tui_data: TuiData) -> Services:
    """Scorer and portfolio loaded the way the CLI loads them."""
    return load_services(tui_data.model_dir, tui_data.clients, "tester")


FIXED_MANIFEST = {
    "model_id": "0123456789abcdef",
    "created_at": "2026-01-01T00:00:00+00:00",
}


@pytest.fixture(scope="session")
def snapshot_services(services: Services) -> Services:
    """The same services with a manifest whose id, date and paths do not change between runs."""
    bundle = services.scorer.bundle
    manifest = dataclasses.replace(
        bundle.manifest,
        **FIXED_MANIFEST,
        training_data=dataclasses.replace(
            bundle.manifest.training_data, source="data/synthetic", fingerprint="f" * 64
        ),
        libraries={"xgboost-cpu": "3.x"},
    )
    scorer = Scorer(dataclasses.replace(bundle, manifest=manifest))
    return Services(scorer, services.portfolio, "advisor")


@pytest.fixture(autouse=True)
def no_user_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's real data folder: the default audit file goes to a temporary folder."""
    data_home = tmp_path_factory.mktemp("xdg_data")
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    monkeypatch.setattr("credit_tui.audit.default_audit_path", lambda: data_home / "audit.sqlite3")


@pytest.fixture
def audit_store(tmp_path: Path) -> Iterator[AuditStore]:
    """A fresh audit log in the test's temporary folder."""
    store = open_audit_store(tmp_path / "audit.sqlite3")
    yield store
    store.close()


@pytest.fixture
def letters_dir(tmp_path: Path) -> Path:
    """A folder for decision letters."""
    folder = tmp_path / "letters"
    folder.mkdir()
    return folder


@pytest.fixture
def make_app(services: Services, audit_store: AuditStore, letters_dir: Path) -> Callable[..., CreditApp]:
    """Build an app on the session's services with a temporary audit log (kwargs go to :func:`create_app`)."""

    def build(**kwargs: Any) -> CreditApp:
        base = kwargs.pop("services", services)
        if base.audit is None:
            base = dataclasses.replace(base, audit=audit_store)
        kwargs.setdefault("letters_dir", letters_dir)
        return create_app(services=base, **kwargs)

    return build
