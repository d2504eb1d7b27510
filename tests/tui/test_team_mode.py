"""Pilot tests of the team mode: four-eyes in the app, the Approvals screen, a lost server while deciding.

Marked ``postgres``: they use the session's throwaway PostgreSQL server (``team_log`` in tests/conftest.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from decision_helpers import clients_with, open_client
from textual.widgets import DataTable, Input, Select, Static
from tui_helpers import ready, settle

from credit_tui.app import CreditApp
from credit_tui.audit_pg import PgAuditStore
from credit_tui.screens.approvals import ApprovalsScreen, ReviewDialog
from credit_tui.screens.client import ClientScreen
from credit_tui.screens.decision_dialog import DecisionDialog
from credit_tui.services import Services

pytestmark = pytest.mark.postgres


def _messages(app: CreditApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def _type(pilot: Any, text: str) -> None:
    for char in text:
        await pilot.press("space" if char == " " else char)


async def test_override_waits_for_a_supervisor_who_approves_it_in_the_approvals_screen(
    make_app: Callable[..., CreditApp], services: Services, team_log: Any, letters_dir: Path
) -> None:
    db = team_log.new_database()
    client_id = clients_with(services, "ACCEPT")[0]
    with PgAuditStore(team_log.url("alice", db)) as alice, PgAuditStore(team_log.url("sue", db)) as sue:
        app = make_app(services=dataclasses.replace(services, audit=alice, advisor=alice.user))
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(pilot)
            assert "UNRELEASED MODEL" in app.sub_title and "team log" in app.sub_title
            await open_client(app, pilot, client_id)
            await pilot.press("r")  # an override of the model's ACCEPT
            await pilot.pause()
            assert isinstance(app.screen, DecisionDialog)
            app.screen.query_one("#override-code", Select).value = "adverse_information"  # issue 10
            app.screen.query_one("#justification", Input).focus()
            await _type(pilot, "fraud alert from bank")
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ClientScreen)
            assert any("waits for a supervisor's approval" in m for m in _messages(app))
            await pilot.press("l")
            await settle(pilot)
            assert any("no letter until it is approved" in m for m in _messages(app))
            assert list(letters_dir.iterdir()) == []
            await pilot.press("A")  # alice is no supervisor, but the screen opens: the server decides
            await settle(pilot)
            assert isinstance(app.screen, ApprovalsScreen)
            await pilot.press("y")
            await pilot.pause()
            await _type(pilot, "approving my own decision")
            await pilot.press("enter")
            await settle(pilot)
            assert any("not a credit supervisor" in m for m in _messages(app))
        [pending] = sue.pending()
        assert pending.override_code == "adverse_information"
        assert pending.justification == "fraud alert from bank"
        supervisor = make_app(services=dataclasses.replace(services, audit=sue, advisor=sue.user))
        async with supervisor.run_test(size=(120, 40)) as pilot:
            await ready(pilot)
            await pilot.press("A")
            await settle(pilot)
            screen = supervisor.screen
            assert isinstance(screen, ApprovalsScreen) and screen.loaded
            table = screen.query_one("#approvals-table", DataTable)
            assert table.row_count == 1 and str(table.get_row_at(0)[0]) == str(pending.id)
            await pilot.press("y")
            await pilot.pause()
            assert isinstance(supervisor.screen, ReviewDialog)
            await _type(pilot, "fraud alert confirmed by phone")
            await pilot.press("enter")
            await settle(pilot)
            assert any(f"Decision #{pending.id} approved by sue" in m for m in _messages(supervisor))
            assert screen.query_one("#approvals-table", DataTable).row_count == 0
        assert alice.status(pending.id) == "approved"
        app = make_app(services=dataclasses.replace(services, audit=alice, advisor=alice.user))
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(pilot)
            await open_client(app, pilot, client_id)
            await pilot.press("l")
            await settle(pilot)
        [markdown] = sorted(letters_dir.glob("*.md"))
        text = markdown.read_text(encoding="utf-8")
        assert "Refused" in text and "alice" in text and "UNRELEASED MODEL" in text


async def test_server_lost_while_deciding_can_be_retried_and_records_once(
    make_app: Callable[..., CreditApp], services: Services, team_log: Any
) -> None:
    db = team_log.new_database()
    client_id = clients_with(services, "ACCEPT")[1]
    with PgAuditStore(team_log.url("bob", db)) as bob:
        app = make_app(services=dataclasses.replace(services, audit=bob, advisor=bob.user))
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(pilot)
            await open_client(app, pilot, client_id)
            team_log.server.sql(f"SELECT pg_terminate_backend({bob._conn.info.backend_pid})", db)  # type: ignore[union-attr]
            await pilot.press("a")
            await pilot.pause()
            await pilot.press("enter")
            await settle(pilot)
            dialog = app.screen
            assert isinstance(dialog, DecisionDialog)
            error = str(dialog.query_one("#decision-error", Static).render())
            assert "Not recorded yet" in error and "was lost" in error and "Enter retries" in error
            assert bob.count() == 0
            dialog.query_one("#justification", Input).focus()
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ClientScreen)
        assert bob.count() == 1 and bob.verify().ok
