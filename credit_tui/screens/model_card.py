"""The model card: which bundle, trained on what, how good, which threshold and why, what matters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from credit_tui.widgets.app_header import app_header, essential_bindings
from credit_tui.widgets.importance_bars import ImportanceBars

if TYPE_CHECKING:
    from trainer.scoring import Scorer

NARROW_WIDTH = 100


def _table(rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(label, value)
    return table


def _num(value: Any, fmt: str) -> str:
    return format(value, fmt) if isinstance(value, int | float) else "—"


def identity_rows(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Bundle id, date and libraries."""
    libraries = manifest.get("libraries", {})
    xgb = libraries.get("xgboost-cpu") or libraries.get("xgboost") or libraries.get("xgboost_runtime", "?")
    return [
        ("Model id", str(manifest.get("model_id", "?"))),
        ("Created", str(manifest.get("created_at", "?"))),
        ("Schema version", str(manifest.get("schema_version", "?"))),
        ("XGBoost", str(xgb)),
        ("Features", str(len(manifest.get("features", [])))),
    ]


def data_rows(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What the model was trained on."""
    data = manifest.get("training_data", {})
    return [
        ("Source", str(data.get("source", "?"))),
        ("Clients", _num(data.get("n_clients"), ",")),
        ("Train / validation", f"{_num(data.get('n_train'), ',')} / {_num(data.get('n_valid'), ',')}"),
        ("Default rate", _num(data.get("default_rate"), ".1%")),
        ("Fingerprint", str(data.get("fingerprint", "?"))[:16]),
    ]


def metric_rows(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Validation metrics and the confusion matrix at the threshold."""
    metrics = manifest.get("metrics", {}).get("validation", {})
    cm = metrics.get("confusion_matrix", {})
    rows = [
        ("ROC AUC", _num(metrics.get("roc_auc"), ".3f")),
        ("PR AUC", _num(metrics.get("pr_auc"), ".3f")),
        ("KS", _num(metrics.get("ks"), ".3f")),
        ("Brier", _num(metrics.get("brier"), ".4f")),
        ("Business cost / client", _num(metrics.get("business_cost"), ".3f")),
    ]
    if cm:
        rows.append(
            (
                "Confusion (TN FP FN TP)",
                " ".join(_num(cm.get(k), ",") for k in ("tn", "fp", "fn", "tp")),
            )
        )
    return rows


def threshold_rows(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The threshold, its costs and the review band."""
    threshold = manifest.get("threshold", {})
    band = threshold.get("review_band")
    costs = (_num(threshold.get(f"cost_false_{kind}"), "g") for kind in ("negative", "positive"))
    return [
        ("Refuse when PD ≥", _num(threshold.get("value"), ".2%")),
        ("Costs (FN : FP)", " : ".join(costs)),
        ("Review band", "none" if not band else f"{band[0]:.2%} – {band[1]:.2%}"),
        ("Chosen by", str(threshold.get("method", "?"))),
    ]


def history_text(manifest: Mapping[str, Any]) -> str:
    """History tables the model uses."""
    tables = manifest.get("history_tables") or []
    return ", ".join(str(t) for t in tables) if tables else "none (application table only)"


class ModelCardScreen(Screen[None]):
    """Read-only facts about the loaded model bundle."""

    #: The fact panels stack below 100 cells.
    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012 (Textual's own ClassVar name)
        (0, "-narrow"),
        (NARROW_WIDTH, "-normal"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        *essential_bindings(),
        Binding("escape,backspace,m", "back", "Back"),
    ]

    def __init__(self, scorer: Scorer) -> None:
        super().__init__(id="model-card-screen")
        self.manifest: Mapping[str, Any] = scorer.bundle.manifest

    def compose(self) -> ComposeResult:
        """Four fact panels and the importance chart."""
        m = self.manifest
        yield app_header()
        with VerticalScroll(id="card-body"):
            with Horizontal(classes="card-row"):
                with Vertical(classes="panel"):
                    yield Label("Bundle", classes="panel-title")
                    yield Static(_table(identity_rows(m)), id="card-identity")
                with Vertical(classes="panel"):
                    yield Label("Training data", classes="panel-title")
                    yield Static(_table(data_rows(m)), id="card-data")
            with Horizontal(classes="card-row"):
                with Vertical(classes="panel"):
                    yield Label("Validation metrics", classes="panel-title")
                    yield Static(_table(metric_rows(m)), id="card-metrics")
                with Vertical(classes="panel"):
                    yield Label("Decision threshold", classes="panel-title")
                    yield Static(_table(threshold_rows(m)), id="card-threshold")
            with Vertical(classes="panel"):
                yield Label("History tables used", classes="panel-title")
                yield Static(Text(history_text(m)), id="card-history")
            with Vertical(classes="panel"):
                yield Label("Global importance (mean |SHAP|, log-odds)", classes="panel-title")
                yield ImportanceBars(list(m.get("importance", [])), id="card-importance")
        yield Footer()

    def action_back(self) -> None:
        """Back to where the advisor was."""
        self.dismiss(None)
