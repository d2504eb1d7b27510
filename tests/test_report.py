"""trainer report: every section with embedded figures; the marked threshold is the cost minimum it plots."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pytest

from trainer.bundle import Bundle
from trainer.model import choose_threshold
from trainer.report import build_report, compute_report, cost_curve, psi

SECTIONS = (
    "summary",
    "curves",
    "calibration",
    "cost",
    "confusion",
    "scores",
    "importance",
    "beeswarm",
    "waterfall",
    "dependence",
    "segments",
    "fairness",
    "psi",
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report_dir(fitted_bundle: Bundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "small"
    build_report(fitted_bundle.path, None, out)
    return out


def test_report_has_every_section_with_embedded_figures(report_dir: Path) -> None:
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert re.findall(r'<section id="([^"]+)"', html) == list(SECTIONS)
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    pngs = sorted(report_dir.glob("*.png"))
    assert len(images) == len(pngs) == 12  # with the shap beeswarm, waterfall and dependence plots
    assert all(base64.b64decode(img)[:8] == PNG_MAGIC for img in images)
    assert 'src="http' not in html and "<script" not in html  # self-contained
    for segment in ("Contract type", "Gender", "Age band", "Income band"):
        assert segment in html
    assert "auc_gap" in html
    assert not [p for p in report_dir.parent.iterdir() if p.name.startswith(".")]


def test_marked_threshold_is_the_minimum_of_the_plotted_cost_curve(fitted_bundle: Bundle) -> None:
    data = compute_report(fitted_bundle.path)
    assert "validation clients" in data.title
    best = int(np.argmin(data.curve_costs))
    assert data.threshold == pytest.approx(data.curve_thresholds[best], abs=0)
    assert data.metrics["business_cost"] == pytest.approx(data.curve_costs[best])
    assert len(data.psi) > 0 and (data.psi["psi"] >= 0).all()
    # The fairness table of the report (validation clients) is the one fit stored for the model card.
    assert fitted_bundle.manifest.fairness is not None
    stored = {(g.dimension, g.group): g for g in fitted_bundle.manifest.fairness.groups}
    assert len(data.fairness) == len(stored) > 0
    for row in data.fairness.to_dict(orient="records"):
        card = stored[(row["dimension"], row["group"])]
        assert card.clients == row["clients"] and card.approved == row["approved"]
        assert card.approval_rate == pytest.approx(row["approval_rate"], abs=1e-6)


def test_cost_curve_agrees_with_choose_threshold() -> None:
    rng = np.random.default_rng(4)
    y = (rng.random(3000) < 0.08).astype(np.int64)
    p = np.round(np.clip(0.08 + 0.2 * y + rng.normal(0, 0.1, 3000), 0, 1), 3)  # ties on purpose
    thresholds, costs = cost_curve(y, p, 10.0, 1.0)
    choice = choose_threshold(y, p, 10.0, 1.0)
    assert thresholds[int(np.argmin(costs))] == choice.threshold
    assert costs.min() == pytest.approx(choice.cost_per_client)


def test_psi_is_zero_for_the_same_population_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(0, 1, 5000)
    assert psi(base, base.copy(), categorical=False) == pytest.approx(0.0, abs=1e-9)
    assert psi(base, rng.normal(1.5, 1, 5000), categorical=False) > 0.25
    codes = rng.integers(0, 3, 5000).astype(float)
    assert psi(codes, codes, categorical=True) == pytest.approx(0.0, abs=1e-9)
