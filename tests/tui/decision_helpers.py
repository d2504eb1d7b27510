"""Helpers of the decision, what-if and letter tests: pick clients, open them, seed the audit log."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Static
from tui_helpers import ready, scores_of, settle

from credit_tui.app import CreditApp
from credit_tui.audit import AuditStore, DecisionRecord, input_row_hash, needs_justification
from credit_tui.screens.client import ClientScreen
from credit_tui.screens.decision_dialog import DecisionDialog
from credit_tui.services import Services

_SCORES: dict[int, dict[int, tuple[float, str]]] = {}


def clients_with(services: Services, decision: str) -> list[int]:
    """IDs of the portfolio's clients the model gives ``decision``, sorted (scores cached per scorer)."""
    key = id(services.scorer)
    if key not in _SCORES:
        _SCORES[key] = scores_of(services)
    return sorted(i for i, (_, d) in _SCORES[key].items() if d == decision)


@contextlib.asynccontextmanager
async def client_open(
    app: CreditApp, client_id: int, size: tuple[int, int] = (120, 40)
) -> AsyncIterator[tuple[Pilot[Any], ClientScreen]]:
    """Run the app at ``size``, wait for the scores, open ``client_id``: the pilot and the client screen."""
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        yield pilot, await open_client(app, pilot, client_id)


async def open_client(app: CreditApp, pilot: Pilot[Any], client_id: int) -> ClientScreen:
    """Open a client and wait for its explanation."""
    assert app.open_client(client_id)
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, ClientScreen)
    assert screen.explanation is not None
    return screen


def seed(
    store: AuditStore,
    services: Services,
    client_id: int,
    final: str,
    *,
    advisor: str = "tester",
    justification: str = "checked the file with the client",
) -> DecisionRecord:
    """Record a decision for ``client_id`` straight into the store (as the app would)."""
    scorer, portfolio = services.scorer, services.portfolio
    record = portfolio.record(client_id)
    explanation = scorer.explain(record, portfolio.history_record(client_id))
    return store.record(
        advisor=advisor,
        client_id=client_id,
        bundle_id=scorer.bundle.model_id,
        threshold=scorer.threshold,
        pd=explanation.pd,
        model_decision=explanation.decision,
        final_decision=final,
        input_hash=input_row_hash(record),
        reasons=scorer.reasons(explanation),
        justification=justification,
        override_code="collateral" if needs_justification(explanation.decision, final) else "",
    )


async def decision_dialog(app: CreditApp, pilot: Pilot[Any], key: str) -> DecisionDialog:
    """Press ``a`` (accept) or ``r`` (refuse) on the client screen: the decision dialog it opens."""
    await pilot.press(key)
    await pilot.pause()
    dialog = app.screen
    assert isinstance(dialog, DecisionDialog)
    return dialog


def dialog_summary(dialog: DecisionDialog) -> str:
    """The dialog's summary line (model decision, the advisor's, what it corrects)."""
    return str(dialog.query_one("#decision-summary", Static).render())


async def submit(pilot: Pilot[Any], dialog: DecisionDialog, justification: str | None = None) -> None:
    """Type ``justification`` (when given) and press Enter in the decision dialog."""
    if justification is not None:
        dialog.query_one("#justification", Input).value = justification
    await pilot.press("enter")
    await settle(pilot)
