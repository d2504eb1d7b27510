"""Pilot tests of recording decisions (accept, refuse, override, REVIEW, correction), the decisions list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from decision_helpers import (
    client_open,
    clients_with,
    decision_dialog,
    dialog_summary,
    seed,
    submit,
)
from textual.widgets import DataTable, Input, Select, Static
from tui_helpers import ready, settle

from credit_tui.app import CreditApp
from credit_tui.audit import AuditStore, input_row_hash
from credit_tui.screens.client import ClientScreen
from credit_tui.screens.decision_dialog import DecisionDialog
from credit_tui.screens.decisions import DecisionsScreen
from credit_tui.screens.dialogs import DateRangeDialog
from credit_tui.services import Services


async def test_record_accept_follows_the_model(
    make_app: Callable[..., CreditApp], services: Services, audit_store: AuditStore
) -> None:
    client_id = clients_with(services, "ACCEPT")[0]
    app = make_app()
    async with client_open(app, client_id) as (pilot, screen):
        assert "No decision recorded yet" in str(screen.query_one("#decision-line", Static).render())
        dialog = await decision_dialog(app, pilot, "a")
        summary = dialog_summary(dialog)
        assert "Model: ACCEPT" in summary and "Your decision: ACCEPT" in summary
        assert "optional" in str(dialog.query_one("#justification-label").render())
        assert audit_store.count() == 0
        await submit(pilot, dialog)
        assert isinstance(app.screen, ClientScreen)
        [record] = audit_store.decisions()
        assert record.client_id == client_id and record.final_decision == "ACCEPT"
        assert record.model_decision == "ACCEPT" and not record.override
        assert record.advisor == "tester" and record.corrects is None
        assert record.bundle_id == services.scorer.bundle.model_id
        assert record.pd == screen.explanation.pd  # type: ignore[union-attr]
        assert record.input_hash == input_row_hash(services.portfolio.record(client_id))
        line = str(screen.query_one("#decision-line", Static).render())
        assert f"Last decision #{record.id}: ACCEPT" in line and "tester" in line
        assert "override" not in line
        assert any("Decision #1 recorded: ACCEPT" in n.message for n in app._notifications)


async def test_refuse_then_correction_references_it(
    make_app: Callable[..., CreditApp], services: Services, audit_store: AuditStore
) -> None:
    client_id = clients_with(services, "REFUSE")[0]
    app = make_app()
    async with client_open(app, client_id) as (pilot, screen):
        await submit(pilot, await decision_dialog(app, pilot, "r"))
        first = audit_store.latest_for(client_id)
        assert first is not None and first.final_decision == "REFUSE" and not first.override
        assert first.reasons == tuple(screen.reasons)
        # A second decision corrects the first: an override that needs a justification.
        dialog = await decision_dialog(app, pilot, "a")
        assert f"corrects decision #{first.id}" in dialog_summary(dialog)
        choose_code(dialog, "collateral")
        await submit(pilot, dialog, "guarantor signed at the branch today")
        second = audit_store.latest_for(client_id)
        assert second is not None and second.id == first.id + 1
        assert second.corrects == first.id and second.override and second.final_decision == "ACCEPT"
        line = str(screen.query_one("#decision-line", Static).render())
        assert "(override of REFUSE)" in line and f"corrects #{first.id}" in line
        assert second.override_code == "collateral"


async def test_override_without_justification_is_refused(
    make_app: Callable[..., CreditApp], services: Services, audit_store: AuditStore
) -> None:
    client_id = clients_with(services, "REFUSE")[1]
    app = make_app()
    async with client_open(app, client_id) as (pilot, _):
        dialog = await decision_dialog(app, pilot, "a")
        assert "overrides the model's REFUSE" in dialog_summary(dialog)
        assert "required" in str(dialog.query_one("#justification-label").render())
        await submit(pilot, dialog)
        assert app.screen is dialog
        assert "Choose a reason code" in dialog.error_text
        choose_code(dialog, "relationship")
        await submit(pilot, dialog)
        assert "at least 3 different words" in dialog.error_text
        await submit(pilot, dialog, "a b c ok ok ok")
        assert app.screen is dialog and "(got 0)" in dialog.error_text
        await submit(pilot, dialog, "too short")
        assert app.screen is dialog and "(got 2)" in dialog.error_text
        assert audit_store.count() == 0
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ClientScreen)
        assert audit_store.count() == 0


async def test_review_client_needs_a_justification(
    make_app: Callable[..., CreditApp], services: Services, audit_store: AuditStore
) -> None:
    client_id = clients_with(services, "REVIEW")[0]
    app = make_app()
    async with client_open(app, client_id) as (pilot, _):
        dialog = await decision_dialog(app, pilot, "r")
        assert "left this client for review" in dialog_summary(dialog)
        await submit(pilot, dialog)
        assert app.screen is dialog and "review" in dialog.error_text
        assert audit_store.count() == 0
        choose_code(dialog, "income_verified")
        await submit(pilot, dialog, "income not verified, payslips missing")
        [record] = audit_store.decisions()
        assert record.model_decision == "REVIEW" and record.final_decision == "REFUSE"
        assert not record.override
        assert record.justification == "income not verified, payslips missing"
        assert record.override_code == "income_verified"


async def test_decisions_screen_filters_and_opens_a_client(
    make_app: Callable[..., CreditApp], services: Services, audit_store: AuditStore
) -> None:
    accepted = clients_with(services, "ACCEPT")[:2]
    refused = clients_with(services, "REFUSE")[0]
    seed(audit_store, services, accepted[0], "ACCEPT", advisor="alice")
    seed(audit_store, services, accepted[1], "ACCEPT", advisor="bob")
    seed(
        audit_store, services, refused, "ACCEPT", advisor="bob", justification="collateral covers the credit"
    )
    seed(audit_store, services, refused, "REFUSE", advisor="alice")
    outsider = 999_999_999
    audit_store.record(
        advisor="carol",
        client_id=outsider,
        bundle_id="b" * 12,
        threshold=0.1,
        pd=0.05,
        model_decision="ACCEPT",
        final_decision="ACCEPT",
        input_hash="0" * 64,
    )
    app = make_app()
    async with client_open(app, refused, size=(140, 40)) as (pilot, _):
        await pilot.press("h")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DecisionsScreen)

        def shown() -> list[int]:
            assert isinstance(screen, DecisionsScreen)
            return [r.id for r in screen.records]

        assert shown() == [4, 3]  # this client, newest first
        table = screen.query_one(DataTable)
        assert table.row_count == 2
        assert f"Client: {refused}" in str(screen.query_one("#decisions-filters", Static).render())
        await pilot.press("c")  # everyone
        await settle(pilot)
        assert shown() == [5, 4, 3, 2, 1]
        await pilot.press("a")  # first advisor: alice
        await settle(pilot)
        assert screen.filter.advisor == "alice" and shown() == [4, 1]
        await pilot.press("a")  # bob
        await settle(pilot)
        assert shown() == [3, 2]
        await pilot.press("o")  # overrides only (bob accepted a refused client)
        await settle(pilot)
        assert shown() == [3]
        await pilot.press("x", "d", "d")  # clear, then REFUSE only
        await settle(pilot)
        assert screen.filter.decision == "REFUSE" and shown() == [4]
        await pilot.press("x", "t")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, DateRangeDialog)
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
        dialog.query_one("#date-from", Input).value = "not a date"
        dialog.query_one("#date-to", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "not a date like" in str(dialog.query_one("#date-error", Static).render())
        dialog.query_one("#date-from", Input).value = tomorrow.isoformat()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen and shown() == []
        await pilot.press("x")
        await settle(pilot)
        assert len(shown()) == 5
        # Enter on a row opens that client; a client outside the portfolio is a notification.
        table.move_cursor(row=0)  # carol's outsider
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert any(f"Client {outsider} is not in" in n.message for n in app._notifications)
        table.move_cursor(row=4)  # alice's first decision
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen) and app.screen.client_id == accepted[0]
        line = str(app.screen.query_one("#decision-line", Static).render())
        assert "Last decision #1: ACCEPT" in line and "alice" in line


async def test_help_and_palette_know_the_decision_keys(make_app: Callable[..., CreditApp]) -> None:
    from test_screens import run_palette

    from credit_tui.screens.help import help_sections

    sections = dict(help_sections())
    client_keys = dict(sections["Client"])
    assert client_keys["a"] == "Accept" and client_keys["r"] == "Refuse"
    assert client_keys["w"].startswith("What-if tab") and client_keys["l"] == "Letter"
    assert dict(sections["Everywhere"])["h"] == "Decisions"
    assert "ctrl+y" in dict(sections["What-if form"])
    assert "o" in dict(sections["Decisions"])
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await run_palette(pilot, "Show decisions")
        assert isinstance(app.screen, DecisionsScreen)
        assert app.screen.filter.client_id is None


def choose_code(dialog: DecisionDialog, code: str) -> None:
    """Pick an override reason code in the dialog and give the focus back to the justification."""
    dialog.query_one("#override-code", Select).value = code
    dialog.query_one("#justification", Input).focus()
