"""Pilot tests of the what-if form: rescoring, invalid input, reset, the hint, deciding on edited values."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from decision_helpers import client_open, clients_with
from textual.widgets import Input, Static
from tui_helpers import settle

from credit_tui.app import CreditApp
from credit_tui.audit import AuditStore, input_row_hash
from credit_tui.screens.client import ClientScreen
from credit_tui.screens.decision_dialog import DecisionDialog
from credit_tui.services import Services
from credit_tui.whatif_fields import (
    CO_BORROWER,
    DOWN_PAYMENT,
    FIELDS_BY_NAME,
    TERM,
    changed_values,
    format_number,
    parse_field,
)
from credit_tui.widgets.what_if_result import WhatIfResult
from trainer.plain import format_pd
from trainer.whatif import decision_change_hint


def test_parse_field_accepts_numbers_and_explains_the_rest() -> None:
    credit, family = FIELDS_BY_NAME["AMT_CREDIT"], FIELDS_BY_NAME["CNT_FAM_MEMBERS"]
    assert parse_field(credit, " 450,000 ") == 450_000
    assert parse_field(credit, "450 000.5") == 450_000.5
    assert parse_field(credit, "", original=None) is None
    for text, fragment in [
        ("abc", "is not a number"),
        ("1,5", "dot for decimals"),
        ("-3", "from 1 to"),
        ("nan", "is not a number"),
        ("", "Type a number"),
    ]:
        with pytest.raises(ValueError, match=fragment):
            parse_field(credit, text, original=1000.0)
    with pytest.raises(ValueError, match="whole number"):
        parse_field(family, "2.5")
    assert format_number(312000.0) == "312000" and format_number(float("nan")) == ""
    assert changed_values({"AMT_CREDIT": 1000.0, "CNT_CHILDREN": None}, {"AMT_CREDIT": 1000.0}) == {}
    # A co-borrower's income is added to the declared income; a zero co-borrower income is no edit.
    record = {"AMT_INCOME_TOTAL": 90_000.0}
    assert changed_values(record, {"AMT_INCOME_TOTAL": 90_000.0, CO_BORROWER: 0.0}) == {}
    assert changed_values(record, {"AMT_INCOME_TOTAL": 90_000.0, CO_BORROWER: 30_000.0}) == {
        "AMT_INCOME_TOTAL": (90_000.0, 120_000.0),
        CO_BORROWER: (None, 30_000.0),
    }
    # A down payment sets the credit, a term sets the monthly repayment (before interest).
    loan = {"AMT_CREDIT": 240_000.0, "AMT_ANNUITY": 10_000.0, "AMT_GOODS_PRICE": 250_000.0}
    assert changed_values(loan, {DOWN_PAYMENT: 50_000.0, TERM: 40.0}) == {
        DOWN_PAYMENT: (None, 50_000.0),
        TERM: (None, 40.0),
        "AMT_CREDIT": (240_000.0, 200_000.0),
        "AMT_ANNUITY": (10_000.0, 5_000.0),
    }


async def test_whatif_rescoring_invalid_input_and_reset(
    make_app: Callable[..., CreditApp], services: Services
) -> None:
    portfolio, scorer = services.portfolio, services.scorer

    def moves(cid: int) -> bool:  # a client whose PD changes with a credit 60 % smaller
        record, history = portfolio.record(cid), portfolio.history_record(cid)
        smaller = {"AMT_CREDIT": round(float(record["AMT_CREDIT"]) * 0.4)}
        return scorer.what_if(record, smaller, history).pd != scorer.explain(record, history).pd

    candidates = [
        *clients_with(services, "REFUSE"),
        *clients_with(services, "REVIEW"),
        *clients_with(services, "ACCEPT"),
    ]
    client_id = next(cid for cid in candidates if moves(cid))
    original_record = dict(portfolio.record(client_id))
    app = make_app()
    async with client_open(app, client_id) as (pilot, screen):
        assert not screen.whatif_open and screen.tabs.active == "why"
        await pilot.press("w")
        await settle(pilot)
        assert screen.whatif_open and screen.tabs.active == "whatif-tab"
        form = screen.whatif_panel.form
        credit_input = form.input_for("AMT_CREDIT")
        assert credit_input.has_focus
        assert credit_input.value == format_number(original_record["AMT_CREDIT"])
        assert screen.whatif_panel.changes == {} and screen.whatif_panel.hint is not None

        new_credit = round(float(original_record["AMT_CREDIT"]) * 0.4)
        credit_input.value = str(new_credit)
        await settle(pilot)
        expected = scorer.what_if(
            original_record, {"AMT_CREDIT": new_credit}, portfolio.history_record(client_id)
        )
        assert screen.whatif_panel.explanation is not None
        assert screen.whatif_panel.explanation.pd == expected.pd != screen.explanation.pd  # type: ignore[union-attr]
        result = screen.query_one(WhatIfResult)
        text = result.plain()
        marks = [expected.threshold]
        assert format_pd(expected.pd, marks) in text
        assert format_pd(screen.explanation.pd, marks) in text  # type: ignore[union-attr]
        assert result.changed and any("credit" in label.lower() for label, _, _ in result.changed)
        assert dict(portfolio.record(client_id)) == original_record  # never stored as the client's data

        # An invalid number: an inline error, no crash, the last valid result kept, no decision possible.
        credit_input.value = "12abc"
        await settle(pilot)
        error = str(screen.query_one("#wi-err-AMT_CREDIT", Static).render())
        assert "'12abc' is not a number" in error and credit_input.has_class("-invalid")
        assert "invalid" in result.plain()
        screen.set_focus(None)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ClientScreen)
        assert any("Fix the what-if form first" in n.message for n in app._notifications)

        # Reset puts the client's own values back.
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert credit_input.value == format_number(original_record["AMT_CREDIT"])
        assert str(screen.query_one("#wi-err-AMT_CREDIT", Static).render()) == ""
        assert screen.whatif_panel.changes == {} and screen.whatif_panel.explanation is None
        # Closing drops the what-if.
        await pilot.press("w")
        await settle(pilot)
        assert not screen.whatif_open and screen.tabs.active == "why"


def client_with_hint(services: Services) -> int:
    scorer, portfolio = services.scorer, services.portfolio
    for client_id in clients_with(services, "REFUSE")[:80] + clients_with(services, "REVIEW")[:80]:
        hint = decision_change_hint(scorer, portfolio.record(client_id), portfolio.history_record(client_id))
        if hint.status == "found":
            return client_id
    pytest.skip("no client of the fixture portfolio has a hint")


async def test_apply_hint_then_decide_on_the_edited_values(
    make_app: Callable[..., CreditApp], services: Services, audit_store: AuditStore
) -> None:
    client_id = client_with_hint(services)
    record = dict(services.portfolio.record(client_id))
    app = make_app()
    async with client_open(app, client_id) as (pilot, screen):
        await pilot.press("w")
        await settle(pilot)
        hint = screen.whatif_panel.hint
        assert hint is not None and hint.status == "found"
        assert hint.sentence in str(screen.query_one("#whatif-hint", Static).render())
        await pilot.press("ctrl+y")
        await settle(pilot)
        await settle(pilot)
        applied = {name: new for name, (_, new) in screen.whatif_panel.changes.items()}
        assert applied == pytest.approx(hint.changes)
        assert (
            screen.whatif_panel.explanation is not None
            and screen.whatif_panel.explanation.decision == "ACCEPT"
        )
        # Deciding now records the edited values, and the dialog says so.
        screen.set_focus(None)
        await pilot.press("a")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, DecisionDialog)
        summary = str(dialog.query_one("#decision-summary", Static).render())
        assert "Decided on what-if values" in summary and "Model: ACCEPT" in summary
        await pilot.press("enter")
        await settle(pilot)
        [stored] = audit_store.decisions()
        assert stored.model_decision == "ACCEPT" and not stored.override
        assert stored.pd == screen.whatif_panel.explanation.pd
        assert stored.input_hash == input_row_hash({**record, **applied})
        assert stored.input_hash != input_row_hash(record)
        assert dict(services.portfolio.record(client_id)) == record
        assert isinstance(screen.whatif_panel.form.input_for("AMT_CREDIT"), Input)


async def test_field_errors_stay_on_one_line_at_80x24_with_the_whole_sentence_kept(
    make_app: Callable[..., CreditApp], services: Services
) -> None:
    app = make_app()
    async with client_open(app, clients_with(services, "REFUSE")[0], size=(80, 24)) as (pilot, screen):
        await pilot.press("w")
        await settle(pilot)
        form = screen.whatif_panel.form
        typed = {"AMT_CREDIT": "", "AMT_ANNUITY": "1,5", "CNT_CHILDREN": "99"}  # the longest sentences
        for name, text in typed.items():
            form.input_for(name).value = text
        await settle(pilot)
        for name in typed:
            error = screen.query_one(f"#wi-err-{name}", Static)
            sentence = form.errors[name]
            assert error.region.height == 1, (name, sentence)  # never wrapped over the next fields
            assert len(sentence) > error.region.width  # the case this test is about: it was cut
            assert error.tooltip is not None and str(error.tooltip) == sentence
        note = screen.query_one(WhatIfResult).plain()
        assert any(e in " ".join(note.split()) for e in form.errors.values())  # the result pane, in full
