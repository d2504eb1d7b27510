"""The model card: which bundle, trained on what, how good, which threshold and why, what matters."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Label, Static

from credit_tui.widgets.app_header import app_header, essential_bindings
from credit_tui.widgets.importance_bars import ImportanceBars
from trainer.plain import format_threshold
from trainer.policy import protected_features

if TYPE_CHECKING:
    from trainer.contract import Manifest
    from trainer.scoring import Scorer

NARROW_WIDTH = 100


def _table(rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(label, Text(value))
    return table


def identity_rows(manifest: Manifest) -> list[tuple[str, str]]:
    """Bundle id, date and libraries."""
    libraries = manifest.libraries
    xgb = libraries.get("xgboost-cpu") or libraries.get("xgboost") or libraries.get("xgboost_runtime", "?")
    return [
        ("Model id", manifest.model_id),
        ("Created", manifest.created_at),
        ("Schema version", str(manifest.schema_version)),
        ("XGBoost", str(xgb)),
        ("Features", str(len(manifest.spec.names))),
    ]


def release_rows(scorer: Scorer) -> list[tuple[str, str]]:
    """Who released the model and when, or the unreleased mark."""
    release = scorer.release
    if release is None:
        return [("Release", "UNRELEASED MODEL: not signed by a trusted key")]
    return [
        ("Released by", release.releaser),
        ("Released at", release.released_at),
        ("Release key", release.key_id),
    ]


def data_rows(manifest: Manifest) -> list[tuple[str, str]]:
    """What the model was trained on."""
    data = manifest.training_data
    return [
        ("Source", data.source),
        ("Clients", f"{data.n_clients:,}"),
        ("Train / validation", f"{data.n_train:,} / {data.n_valid:,}"),
        ("Default rate", f"{data.default_rate:.1%}"),
        ("Fingerprint", data.fingerprint[:16]),
    ]


def metric_rows(manifest: Manifest) -> list[tuple[str, str]]:
    """Validation metrics and the confusion matrix at the threshold."""
    m = manifest.validation
    counts = (m.confusion_matrix.tn, m.confusion_matrix.fp, m.confusion_matrix.fn, m.confusion_matrix.tp)
    return [
        ("ROC AUC", f"{m.roc_auc:.3f}"),
        ("PR AUC", f"{m.pr_auc:.3f}"),
        ("KS", f"{m.ks:.3f}"),
        ("Brier", f"{m.brier:.4f}"),
        ("Business cost / client", f"{m.business_cost:.3f}"),
        ("Confusion (TN FP FN TP)", " ".join(f"{n:,}" for n in counts)),
    ]


def threshold_rows(manifest: Manifest) -> list[tuple[str, str]]:
    """The threshold, its costs and the review band (thresholds with two decimals, as everywhere)."""
    threshold = manifest.threshold
    band = threshold.review_band
    return [
        ("Refuse when PD ≥", format_threshold(threshold.value)),
        ("Costs (FN : FP)", f"{threshold.cost_false_negative:g} : {threshold.cost_false_positive:g}"),
        ("Review band", "none" if not band else f"{format_threshold(band[0])} – {format_threshold(band[1])}"),
        ("Chosen by", threshold.method),
    ]


def policy_text(manifest: Manifest) -> Text:
    """Whether protected attributes are inputs (then the model is for analysis only)."""
    used = protected_features(manifest.spec.names)
    if used:
        return Text(
            f"Uses protected attributes ({', '.join(used)}): for analysis only, NOT FOR CLIENT DECISIONS.",
            style="bold",
        )
    return Text("Gender and family status are not model inputs; reasons come from client-facing features.")


def fairness_rows(manifest: Manifest) -> list[tuple[str, str]]:
    """Approval rate, default rate among the approved and approval ratio per group (validation clients)."""
    if manifest.fairness is None:
        return [("Fairness", "not recorded in this bundle (retrain it with this version)")]
    rows = []
    for group in manifest.fairness.groups:
        default_rate = "—" if group.default_rate_approved is None else f"{group.default_rate_approved:.1%}"
        flag = "" if group.four_fifths else "  below 4/5"
        rows.append(
            (
                f"{group.dimension}: {group.group}",
                f"approved {group.approval_rate:.1%} · defaults among approved {default_rate} · "
                f"ratio {group.approval_ratio:.2f}{flag}",
            )
        )
    return rows


def history_text(manifest: Manifest) -> str:
    """History tables the model uses."""
    tables = manifest.history_tables
    return ", ".join(tables) if tables else "none (application table only)"
    """History tables the model uses."""
    tables = manifest.history_tables
    return ", ".join(tables) if tables else "none (application table only)"


def _panel(title: str, *content: Widget) -> Vertical:
    """One fact panel of the card: its title above its content."""
    return Vertical(Label(title, classes="panel-title"), *content, classes="panel")


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
        self.manifest: Manifest = scorer.bundle.manifest
        self.release = release_rows(scorer)

    def compose(self) -> ComposeResult:
        """Four fact panels and the importance chart."""
        m = self.manifest
        yield app_header()
        with VerticalScroll(id="card-body"):
            yield Horizontal(
                _panel("Bundle", Static(_table(identity_rows(m) + self.release), id="card-identity")),
                _panel("Training data", Static(_table(data_rows(m)), id="card-data")),
                classes="card-row",
            )
            yield Horizontal(
                _panel("Validation metrics", Static(_table(metric_rows(m)), id="card-metrics")),
                _panel("Decision threshold", Static(_table(threshold_rows(m)), id="card-threshold")),
                classes="card-row",
            )
            yield _panel(
                "Inputs and fairness (validation clients)",
                Static(policy_text(m), id="card-policy"),
                Static(_table(fairness_rows(m)), id="card-fairness"),
            )
            yield _panel("History tables used", Static(Text(history_text(m)), id="card-history"))
            yield _panel(
                "Global importance (mean |SHAP|, log-odds)",
                ImportanceBars(m.importance, id="card-importance"),
            )
        yield Footer()

    def action_back(self) -> None:
        """Back to where the advisor was."""
        self.dismiss(None)
