"""Rich renderables for the trainer CLI: progress bars, summaries, metric tables, explanations."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from trainer.bundle import Bundle
from trainer.scoring import Explanation

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


def progress_bar(console: Console) -> Progress:
    """A progress display for long stages, drawn on ``console`` (stderr for the CLI)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


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
    data = manifest["training_data"]
    info.add_row("Training data", f"{data['n_clients']:,} clients, default rate {data['default_rate']:.2%}")
    info.add_row("History tables", ", ".join(bundle.spec.history_tables) or "none (application table only)")
    info.add_row("Features", f"{len(bundle.spec.names)}")
    info.add_row("Trees", f"{manifest['training']['best_iteration']}")
    thr = manifest["threshold"]
    info.add_row(
        "Threshold",
        f"{thr['value']:.4f} (refuse when PD >= threshold; cost FN:FP = "
        f"{thr['cost_false_negative']:g}:{thr['cost_false_positive']:g})",
    )
    if thr.get("review_band"):
        low, high = thr["review_band"]
        info.add_row("Review band", f"{low:.4f} <= PD < {high:.4f}")
    return Group(info, metrics_table(manifest["metrics"]["validation"], title="Validation metrics"))


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

    colour = {"ACCEPT": "green", "REFUSE": "red", "REVIEW": "yellow"}[explanation.decision]
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
