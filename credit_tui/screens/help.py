"""Every key of the app, read from the screens' own BINDINGS so the list never goes stale."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from credit_tui.widgets.app_header import APP_BINDINGS, app_header

GLOSSARY: list[tuple[str, str]] = [
    ("PD", "Probability of default: the model's estimate that the client will not repay (0-100 %)."),
    ("Threshold", "The PD from which the model refuses, chosen to minimise the expected business cost."),
    ("Review band", "PDs just around the threshold: the model says REVIEW and an advisor decides."),
    (
        "Contribution",
        "How much one feature moved this client's score (log-odds): + raises the risk, - lowers it.",
    ),
    (
        "Override",
        "An advisor's decision against the model's ACCEPT or REFUSE; needs a written justification.",
    ),
    ("Counter-offer", "A different amount or term proposed to the client instead of a plain refusal."),
    ("Status", "From the decision log: undecided, decided, overridden, or counter-offer."),
]

EXTRA_KEYS: dict[str, list[tuple[str, str]]] = {
    "Everywhere": [("ctrl+p", "Command palette: open a client by ID, filters, sort, screens, theme")],
    "Client list": [
        ("0-9", "Type a client ID prefix: the search box takes the digits (search as you type)"),
        ("↑ ↓ PgUp PgDn Home End", "Move in the list"),
        ("enter", "Open the highlighted client"),
        ("click a title", "Sort by that column (again: reverse)"),
    ],
    "Search box": [
        ("0-9 backspace", "Edit the client ID prefix"),
        ("enter", "Open the highlighted client"),
        ("esc ↓ tab", "Back to the list (letters always work as list keys: the box takes digits only)"),
    ],
    "Client": [
        ("1 2 3 4 5 6", "Tabs: Why, Profile, History, Portfolio, What-if, Decisions (← → on the tab bar)"),
        ("f", "Portfolio tab: show the next feature (where this client stands among all clients)"),
        ("w", "What-if tab: edit credit, annuity, income… and see the new PD (w again drops the edits)"),
    ],
    "What-if form": [
        ("tab shift+tab", "Next / previous field (enter: next field)"),
        ("esc", "Leave the form (the client keys work again)"),
        ("ctrl+y", "Apply the hint: the change that would bring the decision to ACCEPT"),
        ("ctrl+r", "Reset the form to the client's own values"),
    ],
    "Decision dialog": [
        ("enter", "Record (a justification of 3+ words when overriding or deciding a REVIEW client)"),
        ("esc", "Cancel: nothing is recorded"),
    ],
    "Decisions": [("enter", "Open the client of the highlighted decision")],
}


_KEY_NAMES = {"right_square_bracket": "]", "left_square_bracket": "[", "question_mark": "?", "slash": "/"}


def _rows(bindings: list[BindingType]) -> list[tuple[str, str]]:
    rows = []
    for item in bindings:
        if isinstance(item, Binding):  # app keys are listed under "Everywhere"
            keys = " ".join(_KEY_NAMES.get(key, key) for key in item.key.split(","))
            if item.action.startswith("app.") or item.action.startswith("tab("):
                continue
            rows.append((keys, item.tooltip or item.description))
    return rows


def help_sections() -> list[tuple[str, list[tuple[str, str]]]]:
    """(section title, [(key, what it does)]) for the whole app."""
    from credit_tui.screens.approvals import ApprovalsScreen
    from credit_tui.screens.client import ClientScreen
    from credit_tui.screens.decisions import DecisionsScreen
    from credit_tui.screens.model_card import ModelCardScreen
    from credit_tui.screens.search import SearchScreen
    from credit_tui.widgets.client_table import ClientTable

    return [
        ("Everywhere", _rows(APP_BINDINGS) + EXTRA_KEYS["Everywhere"]),
        ("Client list", _rows(SearchScreen.BINDINGS) + EXTRA_KEYS["Client list"]),
        ("Client list table", [r for r in _rows(ClientTable.BINDINGS) if r[1] != "Open client"]),
        ("Search box", EXTRA_KEYS["Search box"]),
        (
            "Client",
            [r for r in _rows(ClientScreen.BINDINGS) if r[0] not in ("f", "w")] + EXTRA_KEYS["Client"],
        ),
        ("What-if form", EXTRA_KEYS["What-if form"]),
        ("Decision dialog", EXTRA_KEYS["Decision dialog"]),
        ("Decisions", _rows(DecisionsScreen.BINDINGS) + EXTRA_KEYS["Decisions"]),
        ("Model card", _rows(ModelCardScreen.BINDINGS)),
        ("Approvals (team mode, A)", _rows(ApprovalsScreen.BINDINGS)),
        ("Help", _rows(HelpScreen.BINDINGS)),
    ]


class HelpScreen(Screen[None]):
    """A table of keys per screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace,f1", "back", "Back", key_display="esc"),
        Binding("h", "app.decisions", "Decisions"),
        Binding("q", "app.quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        """The glossary, then one table of keys per section."""
        yield app_header()
        with VerticalScroll(id="help-body"):
            for title, rows in [("Glossary", GLOSSARY), *help_sections()]:
                table = Table.grid(padding=(0, 2))
                table.add_column(style="bold", no_wrap=True, min_width=14)
                table.add_column()
                for key, description in rows:
                    table.add_row(Text(key), Text(description))
                yield Static(Text(title, style="bold underline"), classes="help-title")
                yield Static(table, classes="help-table")
        yield Footer()

    def action_back(self) -> None:
        """Close help."""
        self.dismiss(None)
