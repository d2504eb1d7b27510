"""Counter-offers round-trip through the log, the export and the letter; snapshots of the client screen
and of the letter for an ACCEPT, a REFUSE, a REVIEW and a counter-offer.

Update the snapshots with ``UPDATE_SNAPSHOTS=1 pytest tests/tui/test_decision_snapshots.py``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tui_helpers import SNAPSHOT_DIR, UPDATE_ENV, assert_snapshot, ready, scores_of, settle

from credit_tui.app import create_app
from credit_tui.audit import AuditStore, DecisionRecord
from credit_tui.counter_offer import Terms, counter_offer
from credit_tui.decision_flow import DecisionDraft, record_decision
from credit_tui.letter import LetterError, record_letter_fields, render_letter, write_record_letter
from credit_tui.record_view import final_label, latest_ids, status_flags
from credit_tui.screens.client import ClientScreen
from credit_tui.services import Services
from trainer.policy import is_client_facing
from trainer.reasons import client_reasons
from trainer.whatif import lever_changes

FIXED_TIME = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


def fixed_store(path: Path) -> AuditStore:
    return AuditStore(path, clock=lambda: FIXED_TIME)


def first(services: Services, decision: str) -> int:
    return min(i for i, (_, d) in scores_of(services).items() if d == decision)


def counter_offer_client(services: Services) -> tuple[int, dict[str, float]]:
    """The first refused client, with a credit 30 % smaller for the same term (a counter-offer)."""
    client_id = first(services, "REFUSE")
    record = services.portfolio.record(client_id)
    return client_id, lever_changes(record, credit=round(0.7 * float(record["AMT_CREDIT"]), -3))


def decide(
    services: Services, client_id: int, final: str, changes: dict[str, float] | None = None, code: str = ""
) -> DecisionRecord:
    portfolio = services.portfolio
    record = portfolio.record(client_id)
    row = {**record, **(changes or {})}
    explanation = services.scorer.explain(row, portfolio.history_record(client_id))
    whatif = {name: (record.get(name), value) for name, value in (changes or {}).items()}
    draft = DecisionDraft(client_id, final, explanation.decision, explanation.pd, row, None, whatif)
    draft = dataclasses.replace(draft, history=portfolio.history_record(client_id))
    words = "payslips checked with the branch" if draft.needs_justification else ""
    return record_decision(
        services, draft, words, code or ("collateral" if draft.needs_justification else "")
    )


def test_counter_offer_round_trips_through_log_export_and_letter(
    snapshot_services: Services, tmp_path: Path
) -> None:
    client_id, changes = counter_offer_client(snapshot_services)
    with fixed_store(tmp_path / "audit.sqlite3") as store:
        services = dataclasses.replace(snapshot_services, audit=store, advisor="Alice Martin")
        record = decide(services, client_id, "ACCEPT", changes)
        stored = store.latest_for(client_id)
        assert stored == record and store.verify().ok
        terms = counter_offer(stored.final_decision, stored.terms)
        assert terms is not None and terms.modified_loan
        original = services.portfolio.record(client_id)
        assert terms.asked["credit"] == pytest.approx(float(original["AMT_CREDIT"]))
        assert terms.granted["credit"] == pytest.approx(
            changes["AMT_CREDIT"] if "AMT_CREDIT" in changes else float(original["AMT_CREDIT"])
        )
        assert set(changes) <= set(terms.edited)
        assert final_label(stored) == "ACCEPT (modified terms)"
        assert "counter-offer" in status_flags(stored, latest_ids([stored]), None)
        assert store.export_csv(tmp_path / "decisions.csv") == 1
        with (tmp_path / "decisions.csv").open(encoding="utf-8") as fh:
            [row] = list(csv.DictReader(fh))
        assert Terms.from_json(row["terms"]) == terms and json.loads(row["terms"])["granted"]
        md_path, html_path = write_record_letter(tmp_path, stored, services.desk)
        letter = md_path.read_text(encoding="utf-8")
        assert "Accepted on modified terms" in letter
        granted = f"{terms.granted['credit']:,.0f} EUR"
        months = f"{terms.granted['term_months']:.0f} monthly repayments"
        assert granted in letter and months in letter and f"{terms.granted['annuity']:,.0f} EUR" in letter
        assert granted in html_path.read_text(encoding="utf-8")


def test_letters_and_exports_hold_only_client_facing_reasons(
    snapshot_services: Services, tmp_path: Path
) -> None:
    scorer, portfolio = snapshot_services.scorer, snapshot_services.portfolio
    hidden = [
        c.label
        for c in scorer.explain(portfolio.record(first(snapshot_services, "REFUSE")), None).contributions
        if not is_client_facing(c.feature)
    ]
    with fixed_store(tmp_path / "audit.sqlite3") as store:
        services = dataclasses.replace(snapshot_services, audit=store)
        for client_id, (_, decision) in sorted(scores_of(services).items()):
            if decision == "ACCEPT":
                continue
            explanation = scorer.explain(portfolio.record(client_id), portfolio.history_record(client_id))
            assert all(is_client_facing(f) for r in client_reasons(explanation) for f in r.features)
            decide(services, client_id, "REFUSE", code="adverse_information")
        store.export_csv(tmp_path / "decisions.csv")
        text = (tmp_path / "decisions.csv").read_text(encoding="utf-8")
        assert text.count("\n") > 10
        assert not any(f"({label.lower()}:" in text.lower() for label in hidden)


def test_a_model_using_protected_inputs_writes_no_letter(snapshot_services: Services, tmp_path: Path) -> None:
    with fixed_store(tmp_path / "audit.sqlite3") as store:
        services = dataclasses.replace(snapshot_services, audit=store)
        record = decide(services, first(services, "REFUSE"), "REFUSE")
        with pytest.raises(LetterError, match="protected attributes"):
            write_record_letter(tmp_path, record, for_client_decisions=False)


def _letter_snapshot(name: str, markdown: str) -> None:
    path = SNAPSHOT_DIR / f"letter_{name}.md"
    if os.environ.get(UPDATE_ENV) == "1":
        path.write_text(markdown, encoding="utf-8")
        return
    assert path.exists(), f"No snapshot {path}; run with {UPDATE_ENV}=1 to create it."
    assert markdown == path.read_text(encoding="utf-8"), f"letter differs from {path}"


@pytest.mark.parametrize("case", ["accept", "refuse", "review", "counter_offer"])
async def test_client_screen_and_letter_snapshots(
    snapshot_services: Services, tmp_path: Path, case: str
) -> None:
    changes: dict[str, float] | None = None
    if case == "counter_offer":
        client_id, changes = counter_offer_client(snapshot_services)
        final, code = "ACCEPT", ""
    else:
        client_id = first(snapshot_services, case.upper())
        final = "ACCEPT" if case == "accept" else "REFUSE"
        code = "income_verified" if case == "review" else ""
    with fixed_store(tmp_path / "audit.sqlite3") as store:
        services = dataclasses.replace(snapshot_services, audit=store, advisor="Alice Martin")
        record = decide(services, client_id, final, changes, code)
        markdown, _ = render_letter(client_id=record.client_id, **record_letter_fields(record))
        _letter_snapshot(case, markdown)
        app = create_app(services=services)
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(pilot)
            assert app.open_client(client_id)
            await settle(pilot)
            assert isinstance(app.screen, ClientScreen) and app.screen.explanation is not None
            assert_snapshot(app, f"client_{case}_120x40")
