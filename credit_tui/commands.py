"""Command palette entries for every action: open a client by ID, filters, sorting, screens, theme."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from credit_tui.client_index import COLUMN_TITLES, DECISIONS, SORT_KEYS
from credit_tui.render import plain
from trainer.text_safety import clean_text

if TYPE_CHECKING:
    from credit_tui.app import CreditApp

_OPEN = re.compile(r"^\s*(?:open\s*)?(?:client\s*)?#?\s*(\d{1,12})\s*$", re.IGNORECASE)

Command = tuple[str, Callable[[], Any], str]


class CreditCommands(Provider):
    """Everything the keys do, plus "open client <ID>"."""

    @property
    def credit_app(self) -> CreditApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def _commands(self) -> list[Command]:
        app = self.credit_app
        search = app.search_screen

        def on_list(action: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], None]:
            def run() -> None:
                app.action_back_to_list()
                action(*args, **kwargs)

            return run

        commands: list[Command] = [
            ("Open client by ID…", self._ask_for_id, "Asks for the ID here in the palette"),
            ("Search clients by ID", on_list(search.action_focus_search), "Focus the search box"),
            ("Show model card", app.action_model_card, "Bundle, data, metrics, threshold, importance"),
            ("Show decisions (audit log)", app.action_decisions, "Recorded decisions, with filters"),
            ("Show approvals (four-eyes)", app.action_approvals, "Team log: decisions waiting for approval"),
            ("Show help (keys)", app.action_help, "Every key of the app"),
            ("Toggle dark / light theme", app.action_toggle_theme, "Switch the colour theme"),
            ("Back to client list", app.action_back_to_list, "Close the screens above the list"),
            ("Clear filters and search", on_list(search.action_clear_filters), "Show every client"),
            ("Filter PD range…", on_list(search.action_pd_range), "Only PDs between two values"),
            ("Reverse sort order", on_list(search.action_reverse_sort), "Ascending / descending"),
        ]
        commands.extend(self._client_commands())
        for decision in (*DECISIONS, None):
            label = decision or "all decisions"
            commands.append(
                (f"Filter decision: {label}", on_list(search.set_query, decision=decision), "Decision filter")
            )
        levels = app.columns.contract_levels if app.columns is not None else ()
        for contract in (*levels, None):
            label = contract or "all contract types"
            commands.append(
                (f"Filter contract: {label}", on_list(search.set_query, contract=contract), "Contract filter")
            )
        for key in SORT_KEYS:
            commands.append(
                (f"Sort by {COLUMN_TITLES[key]}", on_list(search.set_query, sort=key), "Sort the client list")
            )
        return commands

    def _ask_for_id(self) -> None:
        """Open the palette again, asking for a client ID."""
        from textual.command import CommandPalette

        app = self.credit_app
        palette = CommandPalette(providers=[ClientIdProvider], placeholder="Type a client ID, e.g. 100001…")
        app.call_after_refresh(app.push_screen, palette)

    def _client_commands(self) -> list[Command]:
        """Decision, what-if and letter entries when the palette was opened on a client screen."""
        from credit_tui.screens.client import ClientScreen

        screen = self.screen
        if not isinstance(screen, ClientScreen):
            return []
        cid = screen.client_id
        return [
            (f"Accept client {cid}…", partial(screen.action_decide, "ACCEPT"), "Record an ACCEPT decision"),
            (f"Refuse client {cid}…", partial(screen.action_decide, "REFUSE"), "Record a REFUSE decision"),
            ("What-if: open / close the form", screen.action_whatif, "Edit negotiable fields and rescore"),
            (f"Write decision letter for client {cid}", screen.action_letter, "Markdown and HTML letter"),
        ]

    async def discover(self) -> Hits:
        """Shown when the palette opens with nothing typed."""
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(plain(name), callback, help=help_text)  # names quote data (contract levels)

    async def search(self, query: str) -> Hits:
        """A typed ID opens that client; anything else matches command names."""
        match = _OPEN.match(query)
        if match:
            client_id = int(match.group(1))
            yield Hit(
                1.0,
                f"Open client {client_id}",
                partial(self.credit_app.open_client, client_id),
                help="Open the client's screen (an unknown ID is reported)",
            )
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                # highlight() parses markup: escape the name, which may quote a contract level from the data
                yield Hit(score, matcher.highlight(escape(clean_text(name))), callback, help=help_text)


class ClientIdProvider(Provider):
    """The palette's "Open client by ID…" question: every typed ID is an "Open client <ID>" hit."""

    async def discover(self) -> Hits:
        """What to type, before anything is typed."""
        yield DiscoveryHit("Type the client's ID (digits), then Enter", lambda: None, help="e.g. 100001")

    async def search(self, query: str) -> Hits:
        """The typed ID opens that client (an unknown ID is reported by the app)."""
        match = _OPEN.match(query)
        if not match:
            yield Hit(0.1, plain(f"{query!r} is not a client ID: type digits only"), lambda: None)
            return
        client_id = int(match.group(1))
        app: CreditApp = self.app  # type: ignore[assignment]
        yield Hit(1.0, f"Open client {client_id}", partial(app.open_client, client_id), help="Client screen")
