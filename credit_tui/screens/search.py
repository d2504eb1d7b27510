"""The home screen: find a client by ID prefix, filter, sort, and open one."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, ProgressBar, Static
from textual.worker import Worker

from credit_tui.client_index import (
    COLUMN_TITLES,
    DECISIONS,
    DESCENDING_FIRST,
    SORT_KEYS,
    STATUSES,
    ClientColumns,
    Query,
    SortKey,
    status_code,
)
from credit_tui.render import plain
from credit_tui.widgets.app_header import AppFooter, app_header, essential_bindings
from credit_tui.widgets.client_table import ClientTable
from credit_tui.widgets.search_box import SearchBox
from trainer.decision import Decision

if TYPE_CHECKING:
    from credit_tui.app import CreditApp
    from credit_tui.audit import DecisionRecord
    from credit_tui.services import Services

DEBOUNCE_SECONDS = 0.1


class SearchScreen(Screen[None]):
    """Client list with search-as-you-type, filters and sorting."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Help, Decisions and Quit first so the footer shows them at any width; short labels; the help
        # screen shows the tooltips and lists every key, the hidden ones included.
        *essential_bindings(),
        Binding("u", "to_do", "To do", tooltip="Work queue: REVIEW clients not yet decided (again: all)"),
        Binding("slash", "focus_search", "Search", key_display="/"),
        Binding("d", "cycle_decision", "Model", tooltip="Model decision filter"),
        Binding("s", "cycle_sort", "Sort", tooltip="Sort by the next column"),
        Binding("x", "clear_filters", "Clear", tooltip="Clear filters and search"),
        Binding("c", "cycle_contract", "Contract", tooltip="Contract type filter"),
        Binding("p", "pd_range", "PD", tooltip="PD range filter (percent)"),
        Binding("t", "cycle_status", "Status", tooltip="Status filter (undecided, decided, overridden…)"),
        Binding("r", "reverse_sort", "Reverse", show=False, tooltip="Reverse the sort order"),
        Binding("m", "app.model_card", "Model card", show=False),
        Binding("ctrl+t", "app.toggle_theme", "Theme", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="search-screen")
        self.query_state = Query()
        self.services: Services | None = None
        self.columns: ClientColumns | None = None
        self._debounce: Timer | None = None
        self._last_apply = 0.0
        self.last_apply_seconds = 0.0
        self.progress_text = "Loading clients…"
        self._progress_total: int | None = None
        self._scores: tuple[int, int] | None = None
        self._filters_text = ""

    @property
    def credit_app(self) -> CreditApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    @property
    def _composed(self) -> bool:
        """Whether the widgets exist (the app's messages may arrive while the screen is still mounting)."""
        return bool(self.query(ClientTable))

    @property
    def table(self) -> ClientTable:
        """The client table."""
        return self.query_one(ClientTable)

    @property
    def search_input(self) -> SearchBox:
        """The client ID search box."""
        return self.query_one(SearchBox)

    def compose(self) -> ComposeResult:
        """Search bar, filter summary, progress, table."""
        yield app_header()
        with Horizontal(id="search-bar"):
            yield SearchBox(id="search")
            yield Static("", id="filters")
        with Horizontal(id="status-bar"):
            yield Static(self.progress_text, id="status")
            yield ProgressBar(total=None, show_eta=False, id="score-progress")
        yield ClientTable(id="clients")
        yield AppFooter(compact=True)

    def on_mount(self) -> None:
        """Focus the table; show what arrived before the screen was mounted (data, progress)."""
        self.table.focus()
        self._show_filters(0)
        self._show_progress(self.progress_text, self._progress_total)
        if self._scores is not None:
            self.scores_updated(*self._scores)
        self.apply_query()

    # ------------------------------------------------------------------ data in (from the app)

    def set_data(self, services: Services, columns: ClientColumns, *, history_pending: bool = False) -> None:
        """Receive the loaded services and the column arrays (and whether the history is still loading)."""
        self.services = services
        self.columns = columns
        if history_pending:
            self._show_progress("Aggregating client history…", None)
        else:
            self._show_progress(f"Scoring {len(columns):,} clients…", max(len(columns), 1))
        self.apply_query()
        self._read_statuses(services, columns)

    @work(thread=True, exclusive=True, group="statuses", exit_on_error=False)
    def _read_statuses(self, services: Services, columns: ClientColumns) -> None:
        """Read every client's latest decision from the audit log: the list's status column."""
        if services.audit is None:
            return
        latest = {record.client_id: record for record in services.audit.decisions()}
        columns.set_statuses({cid: status_code(r.final_decision, r.override) for cid, r in latest.items()})
        self.post_message(self.StatusesRead())

    class StatusesRead(Message):
        """The status column was filled from the audit log."""

    def on_search_screen_statuses_read(self, message: StatusesRead) -> None:
        """Show the statuses (the cursor stays where it is)."""
        self.apply_query(keep=True)

    def decision_recorded(self, record: DecisionRecord) -> None:
        """A decision was recorded: update that client's status."""
        if self.columns is None:
            return
        self.columns.set_statuses({record.client_id: status_code(record.final_decision, record.override)})
        self.apply_query(keep=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Hand worker failures to the app's single error handler."""
        self.credit_app.on_worker_state_changed(event)

    def history_loaded(self, services: Services) -> None:
        """The history is there: scoring starts."""
        self.services = services
        if self.columns is not None:
            self._show_progress(f"Scoring {len(self.columns):,} clients…", max(len(self.columns), 1))

    def _show_progress(self, text: str, total: int | None) -> None:
        self.progress_text, self._progress_total = text, total
        if self._composed:
            self.query_one("#status", Static).update(text)
            self.query_one("#score-progress", ProgressBar).update(total=total, progress=0)

    def scores_updated(self, done: int, total: int) -> None:
        """Show scoring progress; re-run the query when every client is scored."""
        self._scores = (done, total)
        if not self._composed:
            return
        bar = self.query_one("#score-progress", ProgressBar)
        status = self.query_one("#status", Static)
        if done >= total:
            bar.display = False
            status.update(f"{total:,} clients scored")
            self.apply_query(keep=True)
        else:
            bar.update(total=total, progress=done)
            status.update(f"Scoring {done:,} / {total:,} clients…")
            needs_scores = self.query_state.filtered or self.query_state.sort in ("pd", "decision")
            if needs_scores:
                self.apply_query(keep=True)
            else:
                self.table.refresh_values()

    def ids_in_order(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Client IDs in the order shown (for next/previous client)."""
        return self.table.ids_in_order()

    # ------------------------------------------------------------------ query

    def set_query(self, **changes: Any) -> None:
        """Change part of the query and show the result."""
        self.query_state = Query(**{**self.query_state.__dict__, **changes})
        self.apply_query()

    def apply_query(self, keep: bool = False) -> None:
        """Filter and sort the column arrays, then hand the index to the table.

        Args:
            keep: Keep the cursor on the highlighted client (new scores or statuses); else the list shows
                its top (a new search, sort or filter).
        """
        if self.columns is None or not self._composed:
            return
        started = time.perf_counter()
        query = self.query_state
        index = self.columns.select(query)
        kept = self.table.highlighted_id if keep else None
        self.table.show(self.columns, index, query.sort, query.descending, keep=kept)
        self._show_filters(len(index))
        self.last_apply_seconds = time.perf_counter() - started
        self._last_apply = time.monotonic()
        self.credit_app.timings.write("apply", self.last_apply_seconds, rows=len(index))

    def _show_filters(self, shown: int) -> None:
        query = self.query_state
        total = 0 if self.columns is None else len(self.columns)
        pd_text = "all" if query.pd_range is None else f"{query.pd_range[0]:.1%}–{query.pd_range[1]:.1%}"
        row = self.table.cursor_row + 1 if shown else 0
        parts = [f"row {row:,} of {shown:,}" + (f" ({total:,} clients)" if shown != total else "")]
        if query.to_do:
            parts.append("To do: REVIEW not yet decided")
        else:
            parts.append(f"Model: {query.decision or 'all'}")
            if query.status is not None:
                parts.append(f"Status: {query.status}")
        if query.contract is not None:
            parts.append(f"Contract: {query.contract}")
        if query.pd_range is not None:
            parts.append(f"PD: {pd_text}")
        parts.append(f"Sort: {COLUMN_TITLES[query.sort]} {'▼' if query.descending else '▲'}")
        text = " · ".join(parts)
        if text != self._filters_text:  # fixed-size label: repaint it only, no layout pass
            self._filters_text = text
            self.query_one("#filters", Static).update(plain(text), layout=False)

    def on_client_table_highlighted(self, message: ClientTable.Highlighted) -> None:
        """Keep "row X of Y" in step with the cursor."""
        if self.columns is not None and self._composed:
            self._show_filters(len(self.table.index))

    def on_input_changed(self, event: Input.Changed) -> None:
        """Search as you type: apply at once if idle, else once typing pauses (~100 ms)."""
        event.stop()
        prefix = event.value.strip()
        self.query_state = Query(**{**self.query_state.__dict__, "prefix": prefix})
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        if time.monotonic() - self._last_apply >= DEBOUNCE_SECONDS:
            self.apply_query()
        else:
            self._debounce = self.set_timer(DEBOUNCE_SECONDS, self._debounced_apply)

    def _debounced_apply(self) -> None:
        self._debounce = None
        self.apply_query()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the search box opens the highlighted client."""
        event.stop()
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
            self.apply_query()
        self.table.action_select()

    def on_key(self, event: events.Key) -> None:
        """Digits typed on the table go to the search box."""
        focused = self.focused
        if focused is self.table and event.character is not None and event.character.isdigit():
            event.stop()
            search = self.search_input
            search.focus()
            search.insert_text_at_cursor(event.character)

    def on_search_box_left(self, message: SearchBox.Left) -> None:
        """Escape, Down or Tab in the search box: back to the table."""
        self.table.focus()

    def on_screen_resume(self) -> None:
        """Back from a client: the table has focus and that client's row is highlighted."""
        self.table.focus()
        client_id = self.credit_app.last_client_id
        if client_id is not None and self.table.highlight_client(client_id):
            self._show_filters(len(self.table.index))

    def on_client_table_selected(self, message: ClientTable.Selected) -> None:
        """Open the chosen client."""
        self.credit_app.open_client(message.client_id, self.ids_in_order())

    def on_client_table_sort_requested(self, message: ClientTable.SortRequested) -> None:
        """A click on a title sorts by it (a second click reverses)."""
        if message.key == self.query_state.sort:
            self.set_query(descending=not self.query_state.descending)
        else:
            self.set_query(sort=message.key, descending=message.key in DESCENDING_FIRST)

    # ------------------------------------------------------------------ actions

    def action_focus_search(self) -> None:
        """Put the cursor in the search box."""
        self.search_input.focus()

    def action_cycle_decision(self) -> None:
        """All -> ACCEPT -> REVIEW -> REFUSE -> all (REVIEW only when the model has a review band)."""
        options: list[str | None] = [None, *DECISIONS]
        if self.services is not None and self.services.scorer.review_band is None:
            options.remove("REVIEW")
        current = options.index(self.query_state.decision) if self.query_state.decision in options else 0
        self.set_query(decision=options[(current + 1) % len(options)])

    def action_to_do(self) -> None:
        """The work queue (REVIEW clients not yet decided, riskiest first); again: every client."""
        if self.query_state.to_do:
            self.set_query(decision=None, status=None)
        else:
            self.set_query(decision=Decision.REVIEW, status=STATUSES[0], sort="pd", descending=True)

    def action_cycle_status(self) -> None:
        """All -> undecided -> decided -> overridden -> counter-offer -> all."""
        options: list[str | None] = [None, *STATUSES]
        current = options.index(self.query_state.status) if self.query_state.status in options else 0
        self.set_query(status=options[(current + 1) % len(options)])

    def action_cycle_contract(self) -> None:
        """All -> each contract type -> all."""
        if self.columns is None:
            return
        options: list[str | None] = [None, *self.columns.contract_levels]
        current = options.index(self.query_state.contract) if self.query_state.contract in options else 0
        self.set_query(contract=options[(current + 1) % len(options)])

    def action_pd_range(self) -> None:
        """Ask for a PD range."""
        from credit_tui.screens.dialogs import PdRangeDialog

        def answered(answer: tuple[float, float] | bool | None) -> None:
            if answer is False:
                return
            self.set_query(pd_range=answer if isinstance(answer, tuple) else None)

        self.app.push_screen(PdRangeDialog(self.query_state.pd_range), answered)

    def action_cycle_sort(self) -> None:
        """Sort by the next column."""
        keys: tuple[SortKey, ...] = SORT_KEYS
        nxt = keys[(keys.index(self.query_state.sort) + 1) % len(keys)]
        self.set_query(sort=nxt, descending=nxt in DESCENDING_FIRST)

    def action_reverse_sort(self) -> None:
        """Reverse the sort direction."""
        self.set_query(descending=not self.query_state.descending)

    def action_clear_filters(self) -> None:
        """Remove every filter and the search text."""
        self.search_input.value = ""
        self.set_query(prefix="", decision=None, contract=None, pd_range=None, status=None)
