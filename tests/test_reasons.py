"""Reason policy: protected inputs left out, families, PD points, client-facing reasons, plain numbers."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trainer.bundle import Bundle
from trainer.fairness import approval_ratio, fairness_table
from trainer.labels import feature_label
from trainer.plain import ProductTerms, distance_to_threshold, format_pd, format_points, pd_in_words
from trainer.policy import is_client_facing, is_protected
from trainer.portfolio import Portfolio
from trainer.reasons import (
    FAMILIES,
    MIN_REASON_POINTS,
    NOT_SHOWN,
    base_rate,
    client_reasons,
    explain_families,
    family_of,
    feature_points,
    strengths,
)
from trainer.scoring import Explanation, Scorer
from trainer.train import FitConfig, fit_bundle
from trainer.whatif import lever_changes


@pytest.fixture(scope="module")
def explained(fitted_bundle: Bundle, synth_dir: Path) -> list[Explanation]:
    """Every client of the synthetic application_test, explained by the shared bundle."""
    scorer = Scorer(fitted_bundle)
    portfolio = Portfolio.load(synth_dir / "application_test.csv", tables=scorer.spec.history_tables)
    ids = portfolio.applications["SK_ID_CURR"].to_numpy(dtype=np.int64)
    return [scorer.explain(portfolio.record(int(i)), portfolio.history_record(int(i))) for i in ids]


def test_fit_leaves_protected_attributes_out_and_records_the_policy(fitted_bundle: Bundle) -> None:
    assert not any(is_protected(name) for name in fitted_bundle.spec.names)
    assert "CODE_GENDER" not in fitted_bundle.spec.categories
    assert fitted_bundle.for_client_decisions and fitted_bundle.protected_inputs == []
    policy = fitted_bundle.manifest.input_policy
    assert policy is not None and policy.protected_inputs == () and policy.client_decisions
    assert policy.protected_excluded == ("CODE_GENDER", "NAME_FAMILY_STATUS")
    fairness = fitted_bundle.manifest.fairness
    assert fairness is not None
    groups = {(row.dimension, row.group) for row in fairness.groups}
    assert {("Gender", "Women"), ("Gender", "Men")} <= groups


def test_allow_protected_marks_the_bundle_for_analysis_only(synth_dir: Path, tmp_path: Path) -> None:
    config = FitConfig(
        data_dir=synth_dir,
        out=tmp_path / "with-gender",
        num_boost_round=10,
        nthread=2,
        allow_protected=("CODE_GENDER",),
    )
    bundle = fit_bundle(config)
    assert "CODE_GENDER" in bundle.spec.names and "NAME_FAMILY_STATUS" not in bundle.spec.names
    assert not bundle.for_client_decisions and bundle.protected_inputs == ["CODE_GENDER"]
    assert bundle.manifest.input_policy is not None and not bundle.manifest.input_policy.client_decisions
    # `credit-tui letter --model DIR` refuses the letters of decisions taken with it.
    from credit_tui.letter_cli import for_client_decisions

    assert not for_client_decisions(bundle.model_id, bundle.path)
    assert for_client_decisions("another-model", bundle.path)


def test_every_client_facing_feature_has_one_family_and_families_hold_only_client_facing(
    fitted_bundle: Bundle,
) -> None:
    members = [name for family in FAMILIES for name in family.members]
    assert len(members) == len(set(members)), "a feature sits in two families"
    assert all(is_client_facing(name) for name in members), "a family holds a feature not told to clients"
    for name in fitted_bundle.spec.names:
        family = family_of(name)
        assert (family is NOT_SHOWN) == (not is_client_facing(name)), name
    for name in (
        "AGE_YEARS",
        "EMPLOYED_AGE_RATIO",
        "HOUR_APPR_PROCESS_START",
        "FLAG_DOCUMENT_3",
        "NAME_EDUCATION_TYPE",
    ):
        assert family_of(name) is NOT_SHOWN
    assert family_of("APARTMENTS_AVG") is NOT_SHOWN


def test_family_sums_and_pd_points_add_up(explained: list[Explanation]) -> None:
    for explanation in explained[:200]:
        families = explain_families(explanation)
        by_feature = {c.feature: c.contribution for c in explanation.contributions}
        for fc in families:
            assert fc.log_odds == pytest.approx(sum(by_feature[c.feature] for c in fc.members), abs=1e-12)
        assert sum(len(fc.members) for fc in families) == len(explanation.contributions)
        pd_from_margin = 1 / (1 + math.exp(-explanation.margin))
        total = sum(fc.points for fc in families)
        assert total == pytest.approx(pd_from_margin - base_rate(explanation), abs=1e-9)
        assert total == pytest.approx(explanation.pd - base_rate(explanation), abs=1e-6)
        points = feature_points(explanation)
        assert sum(points.values()) == pytest.approx(pd_from_margin - base_rate(explanation), abs=1e-9)


def test_reasons_never_name_a_protected_or_hidden_feature(explained: list[Explanation]) -> None:
    hidden_labels = {
        feature_label(c.feature).label.lower()
        for c in explained[0].contributions
        if not is_client_facing(c.feature)
    }
    refused = [e for e in explained if e.decision != "ACCEPT"]
    assert len(refused) > 20
    for explanation in explained:
        reasons = client_reasons(explanation)
        if explanation.decision == "ACCEPT":
            assert reasons == []
            continue
        assert len(reasons) <= 4
        if not reasons:
            # Only a REVIEW client (never a REFUSE) may have no reason: then no client-facing family
            # raises its risk (its PD comes from the base rate and inputs never given as reasons).
            assert explanation.decision == "REVIEW"
            assert all(fc.log_odds <= 0 for fc in explain_families(explanation) if fc.client_facing)
        assert len({r.family for r in reasons}) == len(reasons)
        assert all(r.points >= MIN_REASON_POINTS for r in reasons[1:])
        for reason in reasons:
            assert reason.family != NOT_SHOWN.key and reason.points > 0
            assert all(is_client_facing(name) for name in reason.features)
            text = reason.render().lower()
            assert not any(f"({label}" in text or text.startswith(label) for label in hidden_labels), text
            named = re.findall(r"\(([^():]+(?:\([^)]*\))?): ", reason.text.lower())
            assert all(label not in hidden_labels for label in named), text
            assert reason.text.startswith(("Your ", "You ", "The ", "What ", "How ", "Defaults "))
        for item in strengths(explanation):
            assert all(is_client_facing(name) for name in item.features) and item.points < 0


def test_plain_numbers_follow_one_rounding_rule() -> None:
    assert format_pd(0.1123, [0.0914]) == "11.2 %"
    assert format_pd(0.0918, [0.0914]) == "9.18 %"  # within 0.1 pt of the threshold
    assert format_points(0.0004) == "0.04 pts"
    assert format_points(0.00001) == "less than 0.01 pts"
    assert "0.0 pts" not in distance_to_threshold(0.09139, 0.0914)
    assert distance_to_threshold(0.12, 0.0914) == "2.9 pts above the threshold"
    assert pd_in_words(0.112, 0.0914) == (
        "About 11 in 100 clients with a profile like this did not repay; the bank refuses from 9 in 100."
    )
    # Same count per 100: the scale grows until they differ.
    assert pd_in_words(0.0904, 0.0914) == (
        "About 90 in 1,000 clients with a profile like this did not repay; the bank refuses from 91 in 1,000."
    )


def test_terms_and_levers_use_monthly_repayments() -> None:
    product = ProductTerms()
    assert product.term_months(240_000, 10_000) == 24
    assert product.term_text(240_000, 10_000) == "24 monthly repayments (before interest)"
    with_rate = ProductTerms(interest_rate=0.12)
    assert with_rate.term_months(240_000, with_rate.repayment(240_000, 36)) == pytest.approx(36)
    record = {
        "AMT_CREDIT": 240_000.0,
        "AMT_ANNUITY": 10_000.0,
        "AMT_GOODS_PRICE": 240_000.0,
        "AMT_INCOME_TOTAL": 120_000.0,
    }
    assert lever_changes(record, term_months=48) == {"AMT_ANNUITY": 5000.0}
    assert lever_changes(record, down_payment=40_000) == {"AMT_CREDIT": 200_000.0, "AMT_ANNUITY": 8333.33}
    assert lever_changes(record, co_borrower_income=30_000) == {"AMT_INCOME_TOTAL": 150_000.0}
    with pytest.raises(ValueError, match="down payment"):
        lever_changes(record, down_payment=300_000)


def test_fairness_matches_a_hand_computed_example() -> None:
    groups = {"Gender": pd.Series(["Women"] * 4 + ["Men"] * 6, dtype="string")}
    approved = np.array([1, 1, 1, 0, 1, 1, 1, 1, 1, 0], dtype=bool)
    y = np.array([0, 1, 0, 0, 0, 0, 0, 1, 0, 1])
    table = fairness_table(groups, approved, y).set_index("group")
    # Women: 3 of 4 approved (0.75), 1 default among them; men: 5 of 6 (0.8333), 1 default among them.
    assert table.loc["Women", "approval_rate"] == pytest.approx(0.75)
    assert table.loc["Men", "approval_rate"] == pytest.approx(5 / 6)
    assert table.loc["Women", "default_rate_approved"] == pytest.approx(1 / 3)
    assert table.loc["Men", "default_rate_approved"] == pytest.approx(1 / 5)
    assert table.loc["Women", "approval_ratio"] == pytest.approx(0.75 / (5 / 6))  # 0.9: passes 4/5
    assert bool(table.loc["Women", "four_fifths"]) and bool(table.loc["Men", "four_fifths"])
    assert approval_ratio(table.reset_index(), "Women", "Men") == pytest.approx(0.9)
