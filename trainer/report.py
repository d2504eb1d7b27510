"""``trainer report``: the model-risk report of a bundle, one self-contained HTML file plus its PNGs.

Sections: summary metrics; ROC and PR curves; calibration with the Brier score; business cost against the
threshold with the bundle's threshold marked; confusion matrix at the threshold; score distributions by
class; global SHAP importance and a SHAP summary (beeswarm) of the top features; metrics by segment
(contract type, gender, age band, income band) with the best-worst gap; population stability (PSI) of
the top features between the training data and a scoring population (``application_test``).

On the bundle's own training data the evaluation uses its validation clients (re-drawn with the recorded
seed), where the threshold was chosen, so the marked threshold is the minimum of the plotted cost curve.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve

from trainer.atomic import atomic_directory
from trainer.bundle import Bundle, load_bundle
from trainer.decision import Decision
from trainer.errors import DataError
from trainer.fairness import FOUR_FIFTHS, approval_ratio, fairness_groups, fairness_table
from trainer.features import FeatureSpec, feature_matrix
from trainer.figures import Figure, Section, page, pyplot, save, table_html
from trainer.labels import feature_label
from trainer.model import ThresholdChoice, Vector, cost_curve, evaluate, make_dmatrix, stratified_split
from trainer.output_guard import check_output_folder, holds_only
from trainer.scoring import Scorer
from trainer.train import read_labelled_data

#: Clients used for SHAP plots (exact TreeSHAP; enough for stable pictures, bounded cost).
SHAP_SAMPLE = 3000
#: Features shown in the SHAP summary and checked for PSI.
TOP_FEATURES = 12
#: PSI above this is a significant shift; between 0.1 and this, a moderate one.
PSI_SHIFT = 0.25
PSI_MODERATE = 0.1
AGE_BANDS = (0, 30, 40, 50, 60, 200)
AGE_LABELS = ("<30", "30-39", "40-49", "50-59", "60+")
INCOME_LABELS = ("Q1 (lowest)", "Q2", "Q3", "Q4 (highest)")


def psi(expected: Vector, actual: Vector, categorical: bool, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected`` (missing values are their own bin)."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    if categorical:
        levels = np.unique(np.concatenate([expected[~np.isnan(expected)], actual[~np.isnan(actual)]]))
        e_counts = [np.sum(expected == v) for v in levels]
        a_counts = [np.sum(actual == v) for v in levels]
    else:
        finite = expected[~np.isnan(expected)]
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1))) if len(finite) else np.array([])
        inner = edges[1:-1]
        e_counts = list(np.bincount(np.searchsorted(inner, finite, side="right"), minlength=len(inner) + 1))
        a_fin = actual[~np.isnan(actual)]
        a_counts = list(np.bincount(np.searchsorted(inner, a_fin, side="right"), minlength=len(inner) + 1))
    e = np.array([*e_counts, np.isnan(expected).sum()], dtype=np.float64)
    a = np.array([*a_counts, np.isnan(actual).sum()], dtype=np.float64)
    e = np.maximum(e / max(e.sum(), 1.0), 1e-4)
    a = np.maximum(a / max(a.sum(), 1.0), 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass
class ReportData:
    """The numbers behind the report (tests check them; the HTML shows them).

    Attributes:
        bundle: The bundle reported on.
        title: Which clients the evaluation used.
        y: Labels of the evaluation clients. pds: Their PDs.
        threshold: The bundle's threshold (the one marked on the cost curve).
        curve_thresholds, curve_costs: The plotted cost curve.
        metrics: :func:`trainer.model.evaluate` at the threshold.
        importance: Mean |SHAP| per feature on the SHAP sample, largest first.
        segments: Metrics per segment. gaps: Best-worst gap per segment dimension.
        psi: PSI per top feature (empty without a scoring population).
        fairness: :func:`trainer.fairness.fairness_table` of the evaluation clients.
    """

    bundle: Bundle
    title: str
    y: Vector
    pds: Vector
    threshold: float
    curve_thresholds: Vector
    curve_costs: Vector
    metrics: dict[str, Any]
    importance: pd.Series
    contribs: np.ndarray[Any, Any]
    shap_values: np.ndarray[Any, Any]
    base_value: float
    segments: pd.DataFrame
    gaps: pd.DataFrame
    psi: pd.DataFrame = field(default_factory=pd.DataFrame)
    scoring_population: str = ""
    fairness: pd.DataFrame = field(default_factory=pd.DataFrame)


def _segments(frame: pd.DataFrame, y: Vector, p: Vector, choice: ThresholdChoice) -> pd.DataFrame:
    age = -frame["DAYS_BIRTH"].to_numpy(dtype=np.float64) / 365.25
    age_band = pd.cut(
        pd.Series(age), AGE_BANDS, right=False, labels=["<30", "30-39", "40-49", "50-59", "60+"]
    )
    income = pd.Series(frame["AMT_INCOME_TOTAL"].to_numpy(dtype=np.float64))
    income_band = pd.qcut(income, 4, labels=list(INCOME_LABELS), duplicates="drop")
    dims = {
        "Contract type": pd.Series(frame["NAME_CONTRACT_TYPE"].astype("string").to_numpy()),
        "Gender": pd.Series(frame["CODE_GENDER"].astype("string").to_numpy()),
        "Age band": age_band.astype("string"),
        "Income band": income_band.astype("string"),
    }
    rows = []
    refuse = p >= choice.threshold
    for dim, values in dims.items():
        present = set(values.dropna().unique())
        order = {"Age band": AGE_LABELS, "Income band": INCOME_LABELS}.get(dim, sorted(present))
        for level in [lv for lv in order if lv in present]:
            mask = (values == level).to_numpy(dtype=bool)
            ys, ps, rs = y[mask], p[mask], refuse[mask]
            n = int(mask.sum())
            has_both = 0 < ys.sum() < n
            fn = int(np.sum((ys == 1) & ~rs))
            fp = int(np.sum((ys == 0) & rs))
            rows.append(
                {
                    "segment": dim,
                    "level": str(level),
                    "clients": n,
                    "default_rate": float(ys.mean()) if n else np.nan,
                    "roc_auc": float(roc_auc_score(ys, ps)) if has_both and n >= 20 else np.nan,
                    "refusal_rate": float(rs.mean()) if n else np.nan,
                    "recall_defaults": float(rs[ys == 1].mean()) if ys.sum() else np.nan,
                    "cost_per_client": (choice.cost_fn * fn + choice.cost_fp * fp) / n if n else np.nan,
                }
            )
    return pd.DataFrame(rows)


def _gaps(segments: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for dim, part in segments.groupby("segment", sort=False):
        auc = part.dropna(subset=["roc_auc"]).sort_values("roc_auc")
        rows.append(
            {
                "segment": dim,
                "best_auc": str(auc["level"].iloc[-1]) if len(auc) else "",
                "worst_auc": str(auc["level"].iloc[0]) if len(auc) else "",
                "auc_gap": float(auc["roc_auc"].max() - auc["roc_auc"].min()) if len(auc) else np.nan,
                "refusal_rate_gap": float(part["refusal_rate"].max() - part["refusal_rate"].min()),
                "recall_gap": float(part["recall_defaults"].max() - part["recall_defaults"].min()),
            }
        )
    return pd.DataFrame(rows)


def compute_report(model: Path, data_dir: Path | None = None) -> ReportData:
    """Score the evaluation clients and compute every number the report shows."""
    bundle = load_bundle(model)
    spec: FeatureSpec = bundle.spec
    source = data_dir if data_dir is not None else Path(bundle.manifest.training_data.source)
    tables = spec.history_tables
    data = read_labelled_data(source, tables, use_history=bool(tables), with_test=True)
    if "TARGET" not in data.train.columns:
        raise DataError(f"application_train in {source} has no TARGET column; the report needs labels.")
    history = data.history
    y_all = data.train["TARGET"].to_numpy(dtype=np.int64)
    rows = np.arange(len(y_all))
    title = f"all {len(y_all):,} labelled clients of {source}"
    if bundle.manifest.training_data.fingerprint == data.fingerprint:
        settings = bundle.manifest.training
        train_rows, rows = stratified_split(y_all, settings.valid_share, settings.seed)
        title = f"the bundle's {len(rows):,} validation clients"
    else:
        train_rows = rows
    x_all = feature_matrix(data.train, history, spec)
    x, y = x_all[rows], y_all[rows]
    p = Scorer(bundle).predict_matrix(x)
    thr = bundle.manifest.threshold
    choice = ThresholdChoice(thr.value, thr.cost_false_negative, thr.cost_false_positive, float("nan"))
    thresholds, costs = cost_curve(y, p, choice.cost_fn, choice.cost_fp)

    sample = np.sort(np.random.default_rng(0).permutation(len(rows))[:SHAP_SAMPLE])
    with_bias = bundle.booster.predict(make_dmatrix(x[sample], spec), pred_contribs=True)
    contribs, base_value = with_bias[:, :-1], float(with_bias[0, -1])
    importance = pd.Series(np.abs(contribs).mean(axis=0), index=list(spec.names)).sort_values(ascending=False)

    segments = _segments(data.train.iloc[rows], y, p, choice)
    report = ReportData(
        bundle=bundle,
        title=title,
        y=y,
        pds=p,
        threshold=choice.threshold,
        curve_thresholds=thresholds,
        curve_costs=costs,
        metrics=evaluate(y, p, choice),
        importance=importance,
        contribs=contribs,
        shap_values=x[sample],
        base_value=base_value,
        segments=segments,
        gaps=_gaps(segments),
        fairness=fairness_table(fairness_groups(data.train.iloc[rows]), p < choice.threshold, y),
    )
    if data.test is not None and len(data.test):
        x_test = feature_matrix(data.test, history, spec)
        top = list(importance.index[:TOP_FEATURES])
        psi_rows = []
        for name in top:
            j = spec.names.index(name)
            value = psi(x_all[train_rows, j], x_test[:, j], name in spec.categories)
            status = "shift" if value > PSI_SHIFT else "moderate" if value > PSI_MODERATE else "stable"
            psi_rows.append(
                {"feature": feature_label(name).label, "name": name, "psi": value, "status": status}
            )
        report.psi = pd.DataFrame(psi_rows)
        report.scoring_population = f"application_test ({len(data.test):,} clients)"
    return report


# --------------------------------------------------------------------------------------------------
# Figures and page
# --------------------------------------------------------------------------------------------------


def _figures(r: ReportData, folder: Path) -> dict[str, Figure]:
    plt = pyplot()
    figs: dict[str, Figure] = {}
    y, p = r.y, r.pds

    fig, ax = plt.subplots(figsize=(5, 4.5))
    fpr, tpr, _ = roc_curve(y, p)
    ax.plot(fpr, tpr, label=f"model (AUC {r.metrics['roc_auc']:.4f})")
    ax.plot([0, 1], [0, 1], "--", color="#999", label="chance")
    ax.set_xlabel("False positive rate")
    ax.set_ylabel("True positive rate")
    ax.legend(loc="lower right")
    figs["roc"] = save(fig, folder, "roc", "ROC curve")

    fig, ax = plt.subplots(figsize=(5, 4.5))
    precision, recall, _ = precision_recall_curve(y, p)
    ax.plot(recall, precision, label=f"model (AP {r.metrics['pr_auc']:.4f})")
    ax.axhline(y.mean(), ls="--", color="#999", label=f"default rate {y.mean():.2%}")
    ax.set_xlabel("Recall (defaults caught)")
    ax.set_ylabel("Precision")
    ax.legend(loc="upper right")
    figs["pr"] = save(fig, folder, "pr", "Precision-recall curve")

    fig, ax = plt.subplots(figsize=(5, 4.5))
    frac, mean_pred = calibration_curve(y, p, n_bins=10, strategy="quantile")
    ax.plot(mean_pred, frac, "o-", label="model (deciles of PD)")
    hi = float(max(mean_pred.max(), frac.max()))
    ax.plot([0, hi], [0, hi], "--", color="#999", label="perfect calibration")
    ax.set_xlabel("Mean predicted PD")
    ax.set_ylabel("Observed default rate")
    ax.set_title(f"Brier score {r.metrics['brier']:.4f}")
    ax.legend(loc="upper left")
    figs["calibration"] = save(fig, folder, "calibration", f"Calibration (Brier {r.metrics['brier']:.4f})")

    fig, ax = plt.subplots(figsize=(7, 4.5))
    t = np.minimum(r.curve_thresholds, 1.0)
    ax.plot(t, r.curve_costs, drawstyle="steps-post", label="expected cost per client")
    best = int(np.argmin(r.curve_costs))
    cost_at = float(r.curve_costs[np.argmin(np.abs(r.curve_thresholds - r.threshold))])
    ax.axvline(
        r.threshold, color="red", ls="--", label=f"bundle threshold {r.threshold:.4f} (cost {cost_at:.4f})"
    )
    ax.plot([t[best]], [r.curve_costs[best]], "o", color="black", label="minimum of this curve")
    ax.set_xlabel("Threshold (refuse when PD >= threshold)")
    ax.set_ylabel("Cost per client (FN x cost_fn + FP x cost_fp) / n")
    ax.set_xlim(0, min(1.0, float(np.quantile(p, 0.995)) * 1.2 + 0.02))
    ax.legend(loc="upper right")
    figs["cost"] = save(fig, folder, "cost", "Business cost against threshold")

    fig, ax = plt.subplots(figsize=(4.5, 4))
    cm = r.metrics["confusion_matrix"]
    grid = np.array([[cm["tn"], cm["fp"]], [cm["fn"], cm["tp"]]])
    ax.imshow(grid, cmap="Blues")
    for (i, j), v in np.ndenumerate(grid):
        ax.text(j, i, f"{v:,}", ha="center", va="center", color="black", fontsize=12)
    ax.set_xticks([0, 1], [Decision.ACCEPT.value, Decision.REFUSE.value])
    ax.set_yticks([0, 1], ["repaid (0)", "defaulted (1)"])
    ax.set_xlabel("Decision at the threshold")
    ax.set_ylabel("Outcome")
    figs["confusion"] = save(fig, folder, "confusion", f"Confusion matrix at threshold {r.threshold:.4f}")

    fig, ax = plt.subplots(figsize=(7, 4))
    bins = np.linspace(0, float(np.quantile(p, 0.995)), 50)
    ax.hist(p[y == 0], bins=bins, density=True, alpha=0.55, label="repaid (0)")
    ax.hist(p[y == 1], bins=bins, density=True, alpha=0.55, label="defaulted (1)")
    ax.axvline(r.threshold, color="red", ls="--", label="threshold")
    ax.set_xlabel("PD")
    ax.set_ylabel("Density")
    ax.legend()
    figs["scores"] = save(fig, folder, "scores", "Score distributions by class")

    top = list(r.importance.index[:TOP_FEATURES])
    labels = [feature_label(n).label for n in top]
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(top) + 1))
    ax.barh(labels[::-1], r.importance.iloc[: len(top)].to_numpy()[::-1], color="#2b6cb0")
    ax.set_xlabel("Mean |SHAP| (log-odds)")
    figs["importance"] = save(fig, folder, "shap_importance", "Global SHAP importance (top features)")

    figs.update(_shap_figures(r, folder, top))

    fig, axes = plt.subplots(1, 4, figsize=(14, 3.5), sharey=True)
    for ax, (dim, part) in zip(axes, r.segments.groupby("segment", sort=False), strict=False):
        ax.bar(part["level"], part["roc_auc"].fillna(0), color="#2b6cb0")
        ax.set_title(dim)
        ax.tick_params(axis="x", rotation=30)
        ax.set_ylim(0.5, 1.0)
    axes[0].set_ylabel("ROC AUC")
    figs["segments"] = save(fig, folder, "segments", "ROC AUC by segment")

    if len(r.psi):
        fig, ax = plt.subplots(figsize=(7, 0.4 * len(r.psi) + 1))
        colours = [
            "#c53030" if s == "shift" else "#dd6b20" if s == "moderate" else "#2f855a"
            for s in r.psi["status"]
        ]
        ax.barh(r.psi["feature"][::-1], r.psi["psi"][::-1], color=colours[::-1])
        ax.axvline(PSI_MODERATE, color="#dd6b20", ls="--", lw=0.8)
        ax.axvline(PSI_SHIFT, color="#c53030", ls="--", lw=0.8)
        ax.set_xlabel("PSI (training -> scoring population)")
        figs["psi"] = save(fig, folder, "psi", "Population stability of the top features")
    return figs


def _shap_figures(r: ReportData, folder: Path, top: list[str]) -> dict[str, Figure]:
    """The SHAP library's own beeswarm, waterfall and dependence plots (``shap`` is in the analyst extra).

    The contributions are XGBoost's exact TreeSHAP values (``pred_contribs``), wrapped in a
    ``shap.Explanation``: the plots are the standard ones reviewers know, drawn from the same numbers
    the app shows as bars.
    """
    import warnings

    with warnings.catch_warnings():  # shap's colour maps use matplotlib calls matplotlib plans to deprecate
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import shap

    plt = pyplot()
    names = list(r.bundle.spec.names)
    cols = [names.index(n) for n in top]
    labels = [feature_label(n).label for n in names]
    explanation = shap.Explanation(
        values=r.contribs,
        base_values=np.full(len(r.contribs), r.base_value),
        data=r.shap_values.astype(np.float64),
        feature_names=labels,
    )
    figs: dict[str, Figure] = {}
    plt.figure()
    shap.plots.beeswarm(explanation[:, cols], max_display=len(cols), show=False)
    figs["beeswarm"] = save(plt.gcf(), folder, "shap_beeswarm", "SHAP summary (beeswarm) of the top features")
    riskiest = int(np.argmax(r.contribs.sum(axis=1)))
    plt.figure()
    shap.plots.waterfall(explanation[riskiest], max_display=12, show=False)
    figs["waterfall"] = save(
        plt.gcf(), folder, "shap_waterfall", "SHAP waterfall of the sampled client with the highest risk"
    )
    plt.figure()
    shap.plots.scatter(explanation[:, cols[0]], show=False)
    figs["dependence"] = save(
        plt.gcf(), folder, "shap_dependence", f"SHAP dependence on {labels[cols[0]]} (the top feature)"
    )
    return figs


def _metrics_frame(metrics: dict[str, Any]) -> pd.DataFrame:
    keys = ["roc_auc", "pr_auc", "ks", "brier", "business_cost", "business_cost_at_0_5", "refusal_rate"]
    rows: list[dict[str, Any]] = [{"metric": k, "value": float(metrics[k])} for k in keys]
    rows += [
        {"metric": "clients", "value": int(metrics["n"])},
        {"metric": "default_rate", "value": metrics["default_rate"]},
    ]
    return pd.DataFrame(rows)


def _fairness_body(r: ReportData) -> str:
    policy = r.bundle.protected_inputs
    inputs = (
        f"<p><b>This model uses protected attributes as inputs ({', '.join(policy)}): it is for analysis "
        "only, not for client decisions.</b></p>"
        if policy
        else "<p>Gender and family status are not model inputs; the groups below come from the data.</p>"
    )
    ratio = approval_ratio(r.fairness, "Women", "Men")
    shown = r.fairness.copy()
    for column in ("approval_rate", "default_rate_approved", "approval_ratio"):
        shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.4f}")
    return (
        inputs
        + "<p>Approved: PD below the threshold. Approval ratio: a group's approval rate over the highest "
        f"of its dimension; below {FOUR_FIFTHS:g} the four-fifths rule flags it for review. "
        f"Approval rate women / men: <b>{ratio:.4f}</b>.</p>" + table_html(shown)
    )


def render_html(r: ReportData, figs: dict[str, Figure]) -> str:
    """The report page (figures embedded as base64 PNG)."""
    b = r.bundle
    thr = b.manifest.threshold
    best = float(np.minimum(r.curve_thresholds[int(np.argmin(r.curve_costs))], 1.0))
    tracking = b.manifest.tracking or {}
    intro = (
        f"Bundle <code>{b.path}</code>, model_id <code>{b.model_id}</code>, "
        f"created {b.manifest.created_at}; "
        f"{len(b.spec.names)} features; evaluated on {r.title}."
        + (f" MLflow run <code>{tracking.get('run_id')}</code>." if tracking else "")
    )
    psi_body = (
        f"<p>Training data (the bundle's training clients) against {r.scoring_population}. PSI &lt; "
        f"{PSI_MODERATE} stable, up to {PSI_SHIFT} moderate, above it a shift.</p>"
        + table_html(r.psi[["feature", "name", "psi", "status"]])
        + figs["psi"].img()
        if len(r.psi)
        else "<p class='note'>No scoring population (application_test) in the data folder: "
        "PSI not computed.</p>"
    )
    sections = [
        Section("summary", "Summary", table_html(_metrics_frame(r.metrics))),
        Section("curves", "ROC and precision-recall curves", figs["roc"].img() + figs["pr"].img()),
        Section("calibration", "Calibration", figs["calibration"].img()),
        Section(
            "cost",
            "Business cost and threshold",
            f"<p>Cost of a false negative {thr.cost_false_negative:g}, of a false positive "
            f"{thr.cost_false_positive:g}. Bundle threshold <b>{r.threshold:.6f}</b>; "
            f"minimum of the plotted curve at {best:.6f}.</p>" + figs["cost"].img(),
        ),
        Section("confusion", "Confusion matrix at the threshold", figs["confusion"].img()),
        Section("scores", "Score distributions by class", figs["scores"].img()),
        Section("importance", "Global SHAP importance", figs["importance"].img()),
        Section("beeswarm", "SHAP summary (beeswarm)", figs["beeswarm"].img()),
        Section("waterfall", "SHAP waterfall of one client", figs["waterfall"].img()),
        Section("dependence", "SHAP dependence of the top feature", figs["dependence"].img()),
        Section(
            "segments",
            "Metrics by segment",
            "<p>A first fairness view: the gap between the best and the worst segment.</p>"
            + table_html(r.gaps)
            + table_html(r.segments)
            + figs["segments"].img(),
        ),
        Section("fairness", "Fairness: approval and default rates by gender and age band", _fairness_body(r)),
        Section("psi", "Population stability (PSI)", psi_body),
    ]
    return page(f"Model report: {b.path.name}", intro, sections)


def build_report(model: Path, data: Path | None, out: Path) -> Path:
    """Compute, draw and write the report to ``out`` atomically; return the HTML file.

    ``out`` must be new or an earlier report folder (only report files in it): it is replaced whole.
    """
    report_files = holds_only("report.html", "*.png", "*.csv")
    check_output_folder(
        out, report_files, "a report", "reports/NAME", inputs=[model, *([data] if data else [])]
    )
    r = compute_report(model, data)
    out = Path(out)
    with atomic_directory(out) as staging:
        figs = _figures(r, staging)
        (staging / "report.html").write_text(render_html(r, figs), encoding="utf-8")
        r.segments.to_csv(staging / "segments.csv", index=False)
        r.fairness.to_csv(staging / "fairness.csv", index=False)
        if len(r.psi):
            r.psi.to_csv(staging / "psi.csv", index=False)
    return out / "report.html"
