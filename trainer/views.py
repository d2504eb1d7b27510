"""Rich renderables for the trainer CLI: progress bars, summaries, metric tables, explanations, checks.

(The HTML model-risk report is :mod:`trainer.report`; this module only draws on the terminal.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rich import box
from rich.columns import Columns
from rich.console import Console, Group
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from trainer.bundle import Bundle
from trainer.decision import Decision
from trainer.scoring import Explanation

if TYPE_CHECKING:
    from trainer.compare import CompareResult
    from trainer.synth_check import SynthCheck
    from trainer.tune import TuneResult

_METRIC_LABELS = {
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "ks": "KS",
    "brier": "Brier score",
    "business_cost": "Business cost per client",
    "business_cost_at_0_5": "Business cost at PD 0.5",
    "refusal_rate": "Refusal rate",
    "default_rate": "Default rate",
    "n": "Clients",
}


class RichProgress:
    """A :class:`~trainer.progress.ProgressReport` that draws one rich bar per stage."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: float, total: float | None = None, detail: str = "") -> None:
        """Create the stage's bar on first call, then move it."""
        description = detail or stage
        task = self._tasks.get(stage)
        if task is None:
            self._tasks[stage] = self._progress.add_task(description, total=total)
            self._progress.update(self._tasks[stage], completed=done)
        else:
            self._progress.update(task, completed=done, total=total, description=description)


@contextlib.contextmanager
def progress_bar(console: Console) -> Iterator[RichProgress]:
    """Progress bars for long stages, drawn on ``console`` (stderr for the CLI) while the body runs."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        yield RichProgress(progress)


def metrics_table(metrics: dict[str, Any], title: str) -> Table:
    """One row per metric, plus the confusion matrix at the threshold."""
    table = Table(title=title, show_header=True)
    table.add_column("Metric")
    table.add_column("Value", justify="right")
    for key, label in _METRIC_LABELS.items():
        if key in metrics:
            value = metrics[key]
            table.add_row(label, f"{value:,}" if isinstance(value, int) else f"{value:.4f}")
    cm = metrics.get("confusion_matrix")
    if cm:
        table.add_row(
            "Confusion (TN / FP / FN / TP)", f"{cm['tn']:,} / {cm['fp']:,} / {cm['fn']:,} / {cm['tp']:,}"
        )
    return table


def fit_summary(bundle: Bundle) -> Group:
    """What ``trainer fit`` produced: bundle, data, threshold and validation metrics."""
    manifest = bundle.manifest
    info = Table.grid(padding=(0, 2))
    info.add_row("Bundle", f"{bundle.path} (model_id {bundle.model_id})")
    data = manifest.training_data
    info.add_row("Training data", f"{data.n_clients:,} clients, default rate {data.default_rate:.2%}")
    info.add_row("History tables", ", ".join(bundle.spec.history_tables) or "none (application table only)")
    info.add_row("Features", f"{len(bundle.spec.names)}")
    info.add_row("Trees", f"{manifest.training.best_iteration}")
    thr = manifest.threshold
    info.add_row(
        "Threshold",
        f"{thr.value:.4f} (refuse when PD >= threshold; cost FN:FP = "
        f"{thr.cost_false_negative:g}:{thr.cost_false_positive:g})",
    )
    if thr.review_band:
        low, high = thr.review_band
        info.add_row("Review band", f"{low:.4f} <= PD < {high:.4f}")
    return Group(info, metrics_table(manifest.validation.to_dict(), title="Validation metrics"))


def contribution_bar(value: float, scale: float, width: int = 10) -> Text:
    """A signed bar: red to the right raises risk, green to the left lowers it."""
    cells = 0 if scale <= 0 else round(abs(value) / scale * width)
    if value >= 0:
        return Text(" " * width + "│" + "█" * cells, style="red")
    return Text(" " * (width - cells) + "█" * cells + "│", style="green")


def explanation_view(client_id: int, explanation: Explanation, reasons: list[str], top: int) -> Group:
    """PD in numbers and in words, reasons, reason families in PD points, and the top contributions.

    Args:
        client_id: The client's SK_ID_CURR.
        explanation: :meth:`~trainer.scoring.Scorer.explain` of the client.
        reasons: :meth:`~trainer.scoring.Scorer.reasons` (what the letter and the audit log say).
        top: Feature contributions to list.
    """
    from trainer.plain import distance_to_threshold, format_pd, format_points, format_threshold, pd_in_words
    from trainer.reasons import base_rate, explain_families, feature_points, near_threshold, strengths

    colour = {Decision.ACCEPT: "green", Decision.REFUSE: "red", Decision.REVIEW: "yellow"}[
        explanation.decision
    ]
    marks = [explanation.threshold]
    head = Text.assemble(
        (f"Client {client_id}  ", "bold"),
        (f"PD {format_pd(explanation.pd, marks)}  ", "bold"),
        (f" {explanation.decision} ", f"bold reverse {colour}"),
        f"  threshold {format_threshold(explanation.threshold)}, "
        f"{distance_to_threshold(explanation.pd, explanation.threshold)}",
    )
    parts: list[Any] = [head, Text(pd_in_words(explanation.pd, explanation.threshold))]
    if reasons:
        parts.append(Text("Main reasons (as the client reads them):", style="bold"))
        parts.extend(Text(f"  • {reason}") for reason in reasons)
    if near_threshold(explanation):
        parts.append(Text("Strengths (advisor only; accepted close to the threshold):", style="bold"))
        parts.extend(Text(f"  + {item.text}") for item in strengths(explanation))
    families = Table(
        title=f"Reason families (PD points from the base rate {format_pd(base_rate(explanation))}: "
        "exact, families added in order of |log-odds|)"
    )
    for name, justify in (("Family", "left"), ("PD points", "right"), ("log-odds", "right")):
        families.add_column(name, justify=justify)  # type: ignore[arg-type]
    for fc in explain_families(explanation):
        families.add_row(fc.family.label, format_points(fc.points, signed=True), f"{fc.log_odds:+.3f}")
    points = feature_points(explanation)
    shown, rest = explanation.top(top)
    scale = max([abs(c.contribution) for c in shown] + [abs(rest), 1e-9])
    table = Table(title="Contributions (red raises the risk)")
    table.add_column("Feature")
    table.add_column("Value", justify="right")
    table.add_column("PD points", justify="right")
    table.add_column("log-odds", justify="right")
    table.add_column("", no_wrap=True, min_width=21)
    for c in shown:
        table.add_row(
            c.label,
            c.display_value,
            format_points(points[c.feature], signed=True),
            f"{c.contribution:+.3f}",
            contribution_bar(c.contribution, scale),
        )
    others = len(explanation.contributions) - len(shown)
    rest_points = sum(points[c.feature] for c in explanation.contributions[len(shown) :])
    table.add_row(
        f"All {others} others",
        "",
        format_points(rest_points, signed=True),
        f"{rest:+.3f}",
        contribution_bar(rest, scale),
    )
    parts += [families, table]
    return Group(*parts)


def compare_table(result: CompareResult) -> Table:
    """The terminal table: one row per model, best ROC AUC in bold."""
    cfg = result.config
    table = Table(
        title=(
            f"{cfg.n_folds}-fold stratified CV on {result.n_clients:,} clients (seed {cfg.seed}; "
            f"cost FN:FP = {cfg.cost_fn:g}:{cfg.cost_fp:g})"
        ),
        caption="LogReg = Logistic Regression, RandForest = Random Forest, HistGB = HistGradientBoosting. "
        "AUC = ROC AUC mean over folds; F1, accuracy and cost per client at each model's cost-optimal "
        "threshold; fit s = seconds per fold.",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
    )
    table.add_column("Model", no_wrap=True, min_width=10)
    for header in ("AUC", "std", "PR AUC", "F1", "Acc", "Cost", "Thr", "Fit s"):
        table.add_column(header, justify="right", no_wrap=True)
    from trainer.compare import MODEL_LABELS

    best = result.best().key
    for s in result.scores:
        table.add_row(
            MODEL_LABELS[s.key],
            f"{s.roc_auc_mean:.4f}",
            f"{s.roc_auc_std:.4f}",
            f"{s.pr_auc:.4f}",
            f"{s.f1:.4f}",
            f"{s.accuracy:.4f}",
            f"{s.business_cost:.4f}",
            f"{s.threshold:.4f}",
            f"{s.fit_seconds:.1f}",
            style="bold" if s.key == best else None,
        )
    return table


def tune_table(result: TuneResult) -> Table:
    """Summary of the search for the terminal."""
    table = Table(title=f"XGBoost tuning: {result.config.n_folds}-fold CV ROC AUC")
    table.add_column("")
    table.add_column("Value", justify="right")
    table.add_row("Baseline CV AUC (defaults)", f"{result.baseline_auc:.4f}")
    table.add_row("Best CV AUC", f"{result.best_auc:.4f}")
    table.add_row("Gain", f"{result.best_auc - result.baseline_auc:+.4f}")
    table.add_row("Complete / pruned trials", f"{result.n_trials} / {result.n_pruned}")
    table.add_row("Wall time", f"{result.seconds:.1f} s (budget {result.config.budget_minutes * 60:.0f} s)")
    for name, value in result.best_params.items():
        table.add_row(f"  {name}", f"{value:.4g}" if isinstance(value, float) else str(value))
    return table


def synth_check_view(report: SynthCheck) -> Group:
    """Rich tables for the terminal: the nine curves and the two-way table side by side, then verdicts."""
    from trainer.synth_check import curve_rows, summary_lines
    from trainer.synth_effects import LEVEL_CURVES

    tables: list[Table] = []
    for curve in (*(c for c in report.curves if c.name not in LEVEL_CURVES), report.two_way):
        table = Table(title=f"{curve.name} (gap {curve.max_gap:.1f})", title_justify="left")
        for header in ("bin", "real %", "synth %", "true PD %", "clients"):
            table.add_column(header, justify="left" if header == "bin" else "right")
        for row in curve_rows(curve):
            table.add_row(*(Text(cell) for cell in row))
        tables.append(table)
    levels = Table(title="categories (largest gap, points)", title_justify="left")
    levels.add_column("category")
    levels.add_column("gap", justify="right")
    for curve in report.curves:
        if curve.name in LEVEL_CURVES:
            levels.add_row(Text(curve.name), f"{curve.max_gap:.1f}")
    importance = Table(title="top 10 inputs", title_justify="left")
    importance.add_column("real")
    importance.add_column("synthetic")
    for real, (synth, _) in zip(report.real_top10, report.importance[:10], strict=False):
        importance.add_row(Text(real), Text(synth))
    verdicts = [
        Text(line, style="red" if line.startswith("FAILED") else "") for line in summary_lines(report)
    ]
    return Group(Columns([*tables, levels, importance]), *verdicts)
