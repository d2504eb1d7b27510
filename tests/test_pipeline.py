"""fit -> bundle -> load -> score/explain/predict, end to end on the shared synthetic data."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from trainer.bundle import MANIFEST_FILE, MODEL_FILE, SCHEMA_VERSION, Bundle, load_bundle, verify_bundle
from trainer.cli import app
from trainer.errors import BundleError, UnknownClientError
from trainer.features import feature_matrix
from trainer.portfolio import Portfolio
from trainer.scoring import Scorer

runner = CliRunner()


def copy_bundle(bundle: Bundle, tmp_path: Path) -> Path:
    target = tmp_path / "bundle"
    shutil.copytree(bundle.path, target)
    return target


def test_bundle_round_trip(fitted_bundle: Bundle) -> None:
    again = load_bundle(fitted_bundle.path)
    assert again.model_id == fitted_bundle.model_id
    manifest = again.manifest
    assert manifest.schema_version == SCHEMA_VERSION
    assert set(manifest.files) == {MODEL_FILE}
    assert manifest.threshold.cost_false_negative == 10.0
    band = manifest.threshold.review_band
    assert band is not None
    assert band[0] < manifest.threshold.value < band[1]
    metrics = manifest.validation
    assert 0.6 < metrics.roc_auc <= 1.0
    assert 0.0 < metrics.pr_auc <= 1.0 and 0.0 < metrics.ks <= 1.0 and 0.0 < metrics.brier < 1.0
    assert sum(vars(metrics.confusion_matrix).values()) == metrics.n
    assert manifest.training_data.fingerprint and manifest.libraries["xgboost_runtime"]
    assert manifest.importance and len(manifest.importance) == len(again.spec.names)
    assert set(again.spec.history_tables) == {
        "bureau",
        "bureau_balance",
        "previous_application",
        "installments_payments",
        "POS_CASH_balance",
        "credit_card_balance",
    }
    # No leftovers of the atomic write beside the bundle.
    assert [p.name for p in fitted_bundle.path.parent.iterdir()] == [fitted_bundle.path.name]


def test_changed_byte_in_model_is_refused(fitted_bundle: Bundle, tmp_path: Path) -> None:
    target = copy_bundle(fitted_bundle, tmp_path)
    data = bytearray((target / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0x01
    (target / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"model\.ubj.*changed.*SHA-256"):
        load_bundle(target)


def test_edited_manifest_is_refused(fitted_bundle: Bundle, tmp_path: Path) -> None:
    target = copy_bundle(fitted_bundle, tmp_path)
    text = (target / MANIFEST_FILE).read_text()
    manifest = json.loads(text)
    manifest["threshold"]["value"] = 0.99
    (target / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    with pytest.raises(BundleError, match="has been edited"):
        load_bundle(target)


def test_newer_schema_version_is_refused(fitted_bundle: Bundle, tmp_path: Path) -> None:
    target = copy_bundle(fitted_bundle, tmp_path)
    manifest = json.loads((target / MANIFEST_FILE).read_text())
    manifest["schema_version"] = SCHEMA_VERSION + 1
    (target / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=f"schema_version {SCHEMA_VERSION + 1}.*upgrade"):
        load_bundle(target)


@pytest.mark.parametrize("damage", ["missing_dir", "missing_manifest", "missing_model", "bad_json"])
def test_broken_bundles_give_one_clear_sentence(fitted_bundle: Bundle, tmp_path: Path, damage: str) -> None:
    target = copy_bundle(fitted_bundle, tmp_path)
    if damage == "missing_dir":
        target = tmp_path / "nowhere"
    elif damage == "missing_manifest":
        (target / MANIFEST_FILE).unlink()
    elif damage == "missing_model":
        (target / MODEL_FILE).unlink()
    else:
        (target / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(BundleError) as info:
        load_bundle(target)
    message = str(info.value)
    assert str(target) in message and "\n" not in message and "Traceback" not in message


def test_shap_contributions_sum_to_the_margin(fitted_bundle: Bundle, synth_dir: Path) -> None:
    scorer = Scorer(fitted_bundle)
    portfolio = Portfolio.load(synth_dir / "application_test.csv")
    for client_id in portfolio.client_ids[:25]:
        explanation = scorer.explain(portfolio.record(client_id), portfolio.history_record(client_id))
        total = explanation.base_value + sum(c.contribution for c in explanation.contributions)
        assert total == pytest.approx(explanation.margin, abs=1e-4)
        assert 1 / (1 + np.exp(-explanation.margin)) == pytest.approx(explanation.pd, abs=1e-5)
        assert explanation.decision == scorer.decide(explanation.pd)


def test_predict_equals_api_to_the_last_digit(fitted_bundle: Bundle, synth_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "submission.csv"
    result = runner.invoke(
        app,
        [
            "predict",
            "--model",
            str(fitted_bundle.path),
            "--data",
            str(synth_dir),
            "--out",
            str(out),
            "--decisions",
        ],
    )
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert list(written.columns) == ["SK_ID_CURR", "TARGET", "PD_BAND", "DECISION"]
    scorer = Scorer(fitted_bundle)
    portfolio = Portfolio.load(synth_dir / "application_test.csv")
    assert len(written) == len(portfolio)
    batch = scorer.score(portfolio.applications, portfolio.history)
    np.testing.assert_array_equal(written["TARGET"].to_numpy(), batch["PD"].to_numpy())
    for position in range(0, len(portfolio), max(1, len(portfolio) // 40)):
        client_id = int(written["SK_ID_CURR"].iloc[position])
        single = scorer.explain(portfolio.record(client_id), portfolio.history_record(client_id))
        assert single.pd == written["TARGET"].iloc[position]
        assert single.decision == written["DECISION"].iloc[position]


def test_refusals_have_at_most_four_plain_reasons(fitted_bundle: Bundle, synth_dir: Path) -> None:
    scorer = Scorer(fitted_bundle)
    portfolio = Portfolio.load(synth_dir / "application_test.csv")
    scores = scorer.score(portfolio.applications, portfolio.history)
    refused = scores.loc[scores["DECISION"] == "REFUSE", "SK_ID_CURR"].head(10)
    assert len(refused) > 0
    for client_id in refused:
        explanation = scorer.explain(portfolio.record(client_id), portfolio.history_record(client_id))
        reasons = scorer.reasons(explanation)
        assert 1 <= len(reasons) <= 4
        for reason in reasons:
            assert reason.endswith(".") and "_" not in reason  # no raw feature names
    accepted = scores.loc[scores["DECISION"] == "ACCEPT", "SK_ID_CURR"].iloc[0]
    explanation = scorer.explain(portfolio.record(accepted), portfolio.history_record(accepted))
    assert scorer.reasons(explanation) == []


def test_unknown_client_is_one_clear_sentence(fitted_bundle: Bundle, synth_dir: Path) -> None:
    portfolio = Portfolio.load(synth_dir / "application_test.csv")
    with pytest.raises(UnknownClientError, match="Client 1 is not in"):
        portfolio.record(1)
    result = runner.invoke(
        app, ["explain", "--model", str(fitted_bundle.path), "--data", str(synth_dir), "--client", "1"]
    )
    assert result.exit_code != 0


def test_what_if_changes_the_score_without_touching_the_portfolio(
    fitted_bundle: Bundle, synth_dir: Path
) -> None:
    scorer = Scorer(fitted_bundle)
    portfolio = Portfolio.load(synth_dir / "application_test.csv")
    client_id = int(portfolio.client_ids[0])
    record = portfolio.record(client_id)
    history = portfolio.history_record(client_id)
    before = scorer.explain(record, history)
    changes = {"EXT_SOURCE_2": 0.01, "EXT_SOURCE_3": 0.01, "AMT_INCOME_TOTAL": 25_000.0}
    after = scorer.what_if(record, changes, history)
    assert after.pd != before.pd
    assert scorer.explain({**record, **changes}, history).pd == after.pd
    assert portfolio.record(client_id) == record


def test_verify_bundle_checks_files_without_loading_the_model(fitted_bundle: Bundle, tmp_path: Path) -> None:
    code = (
        "import sys; from trainer.bundle import verify_bundle; "
        f"m = verify_bundle({str(fitted_bundle.path)!r}); "
        "print(m.model_id, 'xgboost' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == [fitted_bundle.model_id, "False"]
    target = copy_bundle(fitted_bundle, tmp_path)
    with (target / MODEL_FILE).open("ab") as fh:
        fh.write(b"!")
    with pytest.raises(BundleError, match="SHA-256"):
        verify_bundle(target)


def test_explain_contributions_equal_a_typed_dmatrix(fitted_bundle: Bundle, synth_dir: Path) -> None:
    import xgboost as xgb

    from trainer.labels import feature_label, format_value

    scorer = Scorer(fitted_bundle)
    spec = fitted_bundle.spec
    portfolio = Portfolio.load(synth_dir / "application_test.csv")
    ids = portfolio.client_ids[:40]
    x = feature_matrix(portfolio.applications.iloc[:40], portfolio.history, spec)
    typed = xgb.DMatrix(x, feature_types=spec.feature_types, enable_categorical=True)
    expected = fitted_bundle.booster.predict(typed, pred_contribs=True, validate_features=False)
    batch = scorer.predict_matrix(x)  # the PDs trainer predict writes
    assert any(x[:, spec.names.index(name)].any() for name in spec.categories)  # categorical splits in use
    for i, client_id in enumerate(ids):
        record, history = portfolio.record(client_id), portfolio.history_record(client_id)
        reference = scorer.explain(record, history, reference=True)  # XGBoost's own pred_contribs
        by_name = {c.feature: c for c in reference.contributions}
        assert [by_name[n].contribution for n in spec.names] == expected[i, :-1].astype(np.float64).tolist()
        assert reference.base_value == float(expected[i, -1])
        explanation = scorer.explain(record, history)  # the precomputed tables (tests/test_tree_shap.py)
        by_name = {c.feature: c for c in explanation.contributions}
        shares = [by_name[n].contribution for n in spec.names]
        assert shares == pytest.approx(expected[i, :-1].astype(np.float64).tolist(), abs=1e-5)
        assert explanation.base_value == pytest.approx(float(expected[i, -1]), abs=1e-5)
        assert explanation.pd == reference.pd == batch[i]  # to the last digit
        sizes = [abs(c.contribution) for c in explanation.contributions]
        assert sizes == sorted(sizes, reverse=True)
        for name in ("AGE_YEARS", "NAME_CONTRACT_TYPE", "BUREAU_COUNT"):
            shown = by_name[name]
            assert shown.display_value == format_value(shown.value, feature_label(name).unit)
