"""``trainer explore``: a repeatable exploratory data report (HTML with figures) for a data folder.

Sections: overview of the tables; missing values; distributions of key fields by outcome; default rate by
category; default rate by decile of key numbers; correlations (Spearman) between key numbers and TARGET.
Key numbers are shown in human units through the shared feature code (age in years, not negative days).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trainer.atomic import atomic_directory
from trainer.data import find_table, load_data
from trainer.errors import DataError
from trainer.features import APP_INPUT_NUMERIC, application_features
from trainer.figures import Figure, Section, page, pyplot, save, table_html
from trainer.labels import feature_label
from trainer.output_guard import check_output_folder, holds_only
from trainer.schema import HISTORY_TABLES

#: Numbers whose distributions, deciles and correlations are shown.
KEY_NUMBERS: tuple[str, ...] = (
    "AMT_INCOME_TOTAL",
    "AMT_CREDIT",
    "AMT_ANNUITY",
    "AGE_YEARS",
    "EMPLOYED_YEARS",
    "CREDIT_INCOME_RATIO",
    "ANNUITY_INCOME_RATIO",
    "EXT_SOURCE_1",
    "EXT_SOURCE_2",
    "EXT_SOURCE_3",
)
#: Categories whose default rates are shown.
KEY_CATEGORIES: tuple[str, ...] = (
    "NAME_CONTRACT_TYPE",
    "CODE_GENDER",
    "NAME_INCOME_TYPE",
    "NAME_EDUCATION_TYPE",
    "NAME_FAMILY_STATUS",
    "NAME_HOUSING_TYPE",
    "OCCUPATION_TYPE",
    "FLAG_OWN_CAR",
)
#: Columns listed in the missing-values chart.
MISSING_SHOWN = 30


def key_numbers(train: pd.DataFrame) -> pd.DataFrame:
    """The key numbers of every client, computed by the shared feature code."""
    cols = {name: train[name].to_numpy(dtype=np.float64, na_value=np.nan) for name in APP_INPUT_NUMERIC}
    engineered = application_features(cols)
    frame = {name: engineered[name] if name in engineered else cols[name] for name in KEY_NUMBERS}
    return pd.DataFrame(frame, index=train.index)


def _label(name: str) -> str:
    return feature_label(name).label


def _figures(train: pd.DataFrame, numbers: pd.DataFrame, folder: Path) -> dict[str, Figure]:
    plt = pyplot()
    y = train["TARGET"].to_numpy(dtype=np.int64)
    figs: dict[str, Figure] = {}

    missing = train.isna().mean().sort_values(ascending=False)
    missing = missing[missing > 0].iloc[:MISSING_SHOWN]
    fig, ax = plt.subplots(figsize=(8, 0.28 * max(len(missing), 1) + 1))
    ax.barh(list(missing.index[::-1]), missing.to_numpy()[::-1], color="#2b6cb0")
    ax.set_xlabel("Share missing")
    ax.set_xlim(0, 1)
    figs["missing"] = save(fig, folder, "missing", f"Share of missing values (top {MISSING_SHOWN} columns)")

    n = len(KEY_NUMBERS)
    fig, axes = plt.subplots((n + 2) // 3, 3, figsize=(13, 3.2 * ((n + 2) // 3)))
    for ax, name in zip(axes.ravel(), KEY_NUMBERS, strict=False):
        values = numbers[name].to_numpy()
        finite = np.isfinite(values)
        lo, hi = np.quantile(values[finite], [0.005, 0.995]) if finite.any() else (0.0, 1.0)
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 40)
        for label, cls in (("repaid", 0), ("defaulted", 1)):
            ax.hist(values[finite & (y == cls)], bins=bins, density=True, alpha=0.55, label=label)
        ax.set_title(_label(name), fontsize=9)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    axes.ravel()[0].legend()
    figs["distributions"] = save(fig, folder, "distributions", "Distributions of key fields by outcome")

    fig, axes = plt.subplots(2, 4, figsize=(15, 7))
    rate = float(y.mean())
    for ax, name in zip(axes.ravel(), KEY_CATEGORIES, strict=False):
        levels = train[name].astype("string").fillna("(missing)")
        grouped = pd.DataFrame({"v": levels, "y": y}).groupby("v")["y"].agg(["mean", "size"])
        grouped = grouped.sort_values("size", ascending=False).iloc[:12].sort_values("mean")
        ax.barh([str(i)[:24] for i in grouped.index], grouped["mean"], color="#2b6cb0")
        ax.axvline(rate, color="red", ls="--", lw=0.8)
        ax.set_title(_label(name), fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    figs["categories"] = save(fig, folder, "default_by_category", "Default rate by category (red: overall)")

    fig, axes = plt.subplots((n + 2) // 3, 3, figsize=(13, 3 * ((n + 2) // 3)))
    for ax, name in zip(axes.ravel(), KEY_NUMBERS, strict=False):
        column: pd.Series = numbers[name]
        deciles = pd.qcut(column.rank(method="first").to_numpy(), 10, labels=False)
        by = pd.DataFrame({"d": deciles, "y": y}).dropna().groupby("d")["y"].mean()
        ax.plot(by.index.to_numpy() + 1, by.to_numpy(), "o-")
        ax.axhline(rate, color="red", ls="--", lw=0.8)
        ax.set_title(_label(name), fontsize=9)
        ax.set_xticks(range(1, 11))
        ax.set_xlabel("decile (missing excluded)", fontsize=8)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    figs["deciles"] = save(fig, folder, "default_by_decile", "Default rate by decile of key numbers")

    corr = numbers.assign(TARGET=y).corr(method="spearman")
    fig, ax = plt.subplots(figsize=(8, 7))
    image = ax.imshow(corr.to_numpy(), cmap="coolwarm", vmin=-1, vmax=1)
    labels = [_label(c) if c != "TARGET" else "TARGET (default)" for c in corr.columns]
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for (i, j), v in np.ndenumerate(corr.to_numpy()):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6)
    fig.colorbar(image, ax=ax, fraction=0.04)
    figs["correlations"] = save(
        fig, folder, "correlations", "Spearman correlations of key numbers and TARGET"
    )
    return figs


def _overview(data: Any, data_dir: Path) -> pd.DataFrame:
    rows = [{"table": "application_train", "rows": f"{len(data.train):,}", "size_mb": ""}]
    if data.test is not None:
        rows.append({"table": "application_test", "rows": f"{len(data.test):,}", "size_mb": ""})
    for name in HISTORY_TABLES:
        path = find_table(data_dir, name)
        size = f"{path.stat().st_size / 1e6:,.1f}" if path is not None else "absent"
        rows.append({"table": name, "rows": "(not read)", "size_mb": size})
    return pd.DataFrame(rows)


def build_explore(data_dir: Path, out: Path) -> Path:
    """Read ``data_dir``, draw the figures and write ``explore.html`` into ``out`` atomically.

    ``out`` must be new or an earlier explore folder (only its files in it): it is replaced whole.
    """
    explore_files = holds_only("explore.html", "*.png", "*.csv")
    check_output_folder(out, explore_files, "an exploration report", "reports/explore", inputs=[data_dir])
    data = load_data(data_dir, need_train=True, history=False)
    train = data.train
    if "TARGET" not in train.columns or not len(train):
        raise DataError(f"application_train in {data_dir} has no labelled rows; explore needs TARGET.")
    numbers = key_numbers(train)
    y = train["TARGET"].to_numpy(dtype=np.int64)
    summary = pd.DataFrame(
        {
            "field": [_label(c) for c in KEY_NUMBERS],
            "name": list(KEY_NUMBERS),
            "missing": numbers.isna().mean().to_numpy(),
            "median": numbers.median().to_numpy(),
            "median_repaid": numbers[y == 0].median().to_numpy(),
            "median_defaulted": numbers[y == 1].median().to_numpy(),
        }
    )
    out = Path(out)
    with atomic_directory(out) as staging:
        figs = _figures(train, numbers, staging)
        source = find_table(data_dir, "application_train")
        intro = (
            f"Data folder <code>{html.escape(str(data_dir))}</code> "
            f"({html.escape(source.name) if source else ''}): {len(train):,} labelled "
            f"clients, default rate {y.mean():.2%}; fingerprint <code>{data.fingerprint()[:16]}</code>."
        )
        sections = [
            Section("overview", "Tables", table_html(_overview(data, data_dir))),
            Section("missing", "Missing values", figs["missing"].img()),
            Section(
                "distributions",
                "Distributions of key fields",
                table_html(summary, "{:,.4g}") + figs["distributions"].img(),
            ),
            Section("categories", "Default rate by category", figs["categories"].img()),
            Section("deciles", "Default rate by decile", figs["deciles"].img()),
            Section("correlations", "Correlations", figs["correlations"].img()),
        ]
        (staging / "explore.html").write_text(page("Data exploration", intro, sections), encoding="utf-8")
    return out / "explore.html"
