"""The decisions recorded in the audit log: for the open client or everyone, with filters."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.worker import Worker

from credit_tui.record_view import final_label, latest_ids, record_detail, status_flags
from credit_tui.render import plain
from credit_tui.widgets.app_header import AppFooter, app_header, essential_bindings
from trainer.plain import format_pd

if TYPE_CHECKING:
    from credit_tui.app import CreditApp
    from credit_tui.audit import DecisionRecord
    from credit_tui.audit_log import AuditLog

#: Rows shown at most (the newest ones).
MAX_ROWS = 1000
COLUMNS = (
    "#",
    "Time (UTC)",
    "Client",
    "Advisor",
    "Model",
    "PD",
    "Final",
    "Why",
    "Override",
    "Code",
    "Status",
    "Corrects",
)


@dataclass(frozen=True)
class DecisionFilter:
    """Which decisions to show.

    Attributes:
        client_id: Only this client (None: everyone).
        advisor: Only this advisor.
        since: Recorded on or after this day (UTC).
        until: Recorded on or before this day (UTC).
        decision: Only ACCEPT or only REFUSE.
        override: Only overrides (True) or only decisions following the model (False).
    """

    client_id: int | None = None
    advisor: str | None = None
    since: date | None = None
    until: date | None = None
    decision: str | None = None
    override: bool | None = None

    def describe(self) -> str:
        """The filters in one line."""
        dates = "all"
        if self.since or self.until:
            dates = f"{self.since or '…'} – {self.until or '…'}"
        override = {None: "all", True: "overrides only", False: "follows the model"}[self.override]
        return " · ".join(
            [
                f"Client: {self.client_id if self.client_id is not None else 'everyone'}",
                f"Advisor: {self.advisor or 'all'}",
                f"Decision: {self.decision or 'all'}",
                f"Override: {override}",
                f"Dates: {dates}",
            ]
        )


def row_cells(
    record: DecisionRecord, latest: dict[int, int] | None = None, model_id: str | None = None
) -> tuple[Text, ...]:
    """One table row for a record (``Text`` cells: the log's values are never parsed as markup).

    Args:
        record: The decision.
        latest: Client -> newest record id (marks superseded decisions); None: not marked.
        model_id: The loaded model's id (marks decisions taken under another model); None: not marked.
    """
    cells = (
        str(record.id),
        record.time[:19].replace("T", " "),
        str(record.client_id),
        record.advisor,
        record.model_decision,
        format_pd(record.pd, [record.threshold]),
        final_label(record),
        record.justification[:40] + ("…" if len(record.justification) > 40 else ""),
        "yes" if record.override else "",
        record.override_code,
        ", ".join(status_flags(record, latest or {}, model_id)),
        "" if record.corrects is None else f"#{record.corrects}",
    )
    return tuple(plain(cell) for cell in cells)


class DecisionsScreen(Screen[None]):
    """A table of recorded decisions; Enter opens the client of the highlighted row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *essential_bindings(),  # first, so the footer shows Help, Decisions and Quit at any width
        Binding("escape,backspace", "back", "Back"),
        Binding("c", "toggle_client", "Client / all"),
        Binding("a", "cycle_advisor", "Advisor"),
        Binding("d", "cycle_decision", "Decision"),
        Binding("o", "cycle_override", "Override"),
        Binding("t", "dates", "Dates"),
        Binding("x", "clear_filters", "Clear"),
    ]

    class Loaded(Message):
        """The worker read the decisions matching a filter."""

        def __init__(
            self,
            query: DecisionFilter,
            records: list[DecisionRecord],
            advisors: list[str],
            latest: dict[int, int],
        ) -> None:
            self.query = query
            self.records = records
            self.advisors = advisors
            self.latest = latest
            super().__init__()

    def __init__(self, store: AuditLog, client_id: int | None) -> None:
        super().__init__(id="decisions-screen")
        self.store = store
        self.client_id = client_id
        self.filter = DecisionFilter(client_id=client_id)
        self.records: list[DecisionRecord] = []
        self.advisors: list[str] = []
        self.latest: dict[int, int] = {}
        self.loaded = False

    @property
    def credit_app(self) -> CreditApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    @property
    def table(self) -> DataTable[Text]:
        """The decisions table."""
        return self.query_one("#decisions-table", DataTable)

    def compose(self) -> ComposeResult:
        """Filter line, count, table."""
        yield app_header()
        yield Static("", id="decisions-filters")
        yield Static("Loading…", id="decisions-count")
        yield DataTable(id="decisions-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="decision-detail")
        yield AppFooter(compact=True)

    def on_mount(self) -> None:
        """Columns, then the first load."""
        self.table.add_columns(*COLUMNS)
        self.table.focus()
        self.set_filter(self.filter)

    def set_filter(self, query: DecisionFilter) -> None:
        """Show the decisions matching ``query`` (read in a worker)."""
        self.filter = query
        self.loaded = False
        self.query_one("#decisions-filters", Static).update(plain(query.describe()))
        self._load(query)

    @work(thread=True, exclusive=True, group="decisions", exit_on_error=False)
    def _load(self, query: DecisionFilter) -> None:
        records = self.store.decisions(
            client_id=query.client_id,
            advisor=query.advisor,
            since=query.since,
            until=query.until,
            final_decision=query.decision,
            override=query.override,
        )
        latest = latest_ids(self.store.decisions(client_id=query.client_id))
        self.post_message(self.Loaded(query, records, self.store.advisors(), latest))

    def on_decisions_screen_loaded(self, message: Loaded) -> None:
        """Fill the table, newest first."""
        if message.query != self.filter:
            return
        self.records = list(reversed(message.records))
        self.advisors = message.advisors
        self.latest = message.latest
        shown = self.records[:MAX_ROWS]
        table = self.table
        table.clear()
        model_id = self._model_id()
        for record in shown:
            table.add_row(*row_cells(record, self.latest, model_id), key=str(record.id))
        total = len(self.records)
        count = f"{total:,} decision{'s' if total != 1 else ''}"
        if total > MAX_ROWS:
            count += f" (the newest {MAX_ROWS:,} shown)"
        if total:
            count += " · enter opens the client"
        self.query_one("#decisions-count", Static).update(count)
        self.loaded = True

    def _model_id(self) -> str | None:
        services = self.credit_app.services
        return None if services is None else str(services.scorer.bundle.model_id)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Show the highlighted decision in full: reason code, whole justification, terms, reasons."""
        key = event.row_key.value
        found = [r for r in self.records if str(r.id) == key]
        detail = self.query_one("#decision-detail", Static)
        detail.update(record_detail(found[0], self.latest, self._model_id()) if found else "")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Open the client of the chosen decision (when it is in the portfolio)."""
        event.stop()
        key = event.row_key.value
        found = [r for r in self.records if str(r.id) == key]
        if found:
            self.credit_app.open_client(found[0].client_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Hand worker failures to the app's single error handler."""
        self.credit_app.on_worker_state_changed(event)

    # ------------------------------------------------------------------ actions

    def _cycle(self, options: list[Any], current: Any) -> Any:
        index = options.index(current) if current in options else 0
        return options[(index + 1) % len(options)]

    def action_back(self) -> None:
        """Close the screen."""
        self.dismiss(None)

    def action_toggle_client(self) -> None:
        """Between the open client's decisions and everyone's."""
        if self.filter.client_id is None and self.client_id is None:
            self.notify("No client is open: showing everyone's decisions.", severity="information")
            return
        client = None if self.filter.client_id is not None else self.client_id
        self.set_filter(replace(self.filter, client_id=client))

    def action_cycle_advisor(self) -> None:
        """All advisors -> each advisor who recorded a decision -> all."""
        advisor = self._cycle([None, *self.advisors], self.filter.advisor)
        self.set_filter(replace(self.filter, advisor=advisor))

    def action_cycle_decision(self) -> None:
        """All -> ACCEPT -> REFUSE -> all."""
        decision = self._cycle([None, "ACCEPT", "REFUSE"], self.filter.decision)
        self.set_filter(replace(self.filter, decision=decision))

    def action_cycle_override(self) -> None:
        """All -> overrides only -> follows the model -> all."""
        override = self._cycle([None, True, False], self.filter.override)
        self.set_filter(replace(self.filter, override=override))

    def action_dates(self) -> None:
        """Ask for a date range."""
        from credit_tui.screens.dialogs import DateRangeDialog

        def answered(answer: tuple[date | None, date | None] | bool | None) -> None:
            if isinstance(answer, tuple):
                self.set_filter(replace(self.filter, since=answer[0], until=answer[1]))

        self.app.push_screen(DateRangeDialog(self.filter.since, self.filter.until), answered)

    def action_clear_filters(self) -> None:
        """Everyone's decisions, no filter."""
        self.set_filter(DecisionFilter())
