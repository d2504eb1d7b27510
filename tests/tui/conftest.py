"""Fixtures of the TUI tests: one tiny synthetic portfolio and bundle, built once per session."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from credit_tui.app import CreditApp, create_app
from credit_tui.services import Services, load_services
from trainer.scoring import Scorer
from trainer.synth import generate
from trainer.train import FitConfig, fit_bundle

TUI_CLIENTS = 1500


@dataclasses.dataclass(frozen=True)
class TuiData:
    """Paths of the session's data set and bundle."""

    data_dir: Path
    model_dir: Path
    clients: Path


@pytest.fixture(scope="session")
def tui_data(tmp_path_factory: pytest.TempPathFactory) -> TuiData:
    """Synthetic tables (parquet) and a bundle with a review band; deterministic seeds and threads."""
    data_dir = tmp_path_factory.mktemp("tui_data")
    generate(data_dir, n_clients=TUI_CLIENTS, seed=11, fmt="parquet")
    model_dir = tmp_path_factory.mktemp("tui_models") / "tiny"
    fit_bundle(
        FitConfig(data_dir=data_dir, out=model_dir, seed=5, review_band=0.02, num_boost_round=60, nthread=1)
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
    manifest: dict[str, Any] = {**bundle.manifest, **FIXED_MANIFEST}
    manifest["training_data"] = {
        **manifest["training_data"],
        "source": "data/synthetic",
        "fingerprint": "f" * 64,
    }
    manifest["libraries"] = {"xgboost-cpu": "3.x"}
    scorer = Scorer(dataclasses.replace(bundle, manifest=manifest))
    return Services(scorer, services.portfolio, "advisor")


@pytest.fixture
def make_app(services: Services) -> Callable[..., CreditApp]:
    """Build an app on the session's services (keyword arguments go to :func:`create_app`)."""

    def build(**kwargs: Any) -> CreditApp:
        return create_app(services=kwargs.pop("services", services), **kwargs)

    return build
