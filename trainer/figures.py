"""Matplotlib figures (Agg backend, no display needed) and a small self-contained HTML page builder.

Used by ``trainer report``, ``trainer explore`` and ``trainer compare`` (its figure is drawn here, apart
from the computation in :mod:`trainer.compare`): every figure is saved as a PNG and embedded in the
HTML page as base64, so the page is one file that opens anywhere.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trainer.atomic import atomic_path
from trainer.errors import UserError

if TYPE_CHECKING:
    from trainer.compare import CompareResult


def pyplot() -> Any:
    """Return ``matplotlib.pyplot`` on the Agg backend (raises a UserError without matplotlib)."""
    try:
        import matplotlib
    except ImportError:
        raise UserError(
            "Figures need matplotlib; install the analyst extra: pip install 'credit-tui[analyst]'."
        ) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


@dataclass(frozen=True)
class Figure:
    """A saved figure: its PNG file and a caption."""

    name: str
    path: Path
    caption: str = ""

    def img(self) -> str:
        """An ``<img>`` tag holding the PNG as base64 (self-contained)."""
        data = base64.b64encode(self.path.read_bytes()).decode("ascii")
        alt = html.escape(self.caption or self.name)
        return (
            f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
            f"<figcaption>{alt}</figcaption></figure>"
        )


def save(fig: Any, folder: Path, name: str, caption: str = "") -> Figure:
    """Save ``fig`` as ``folder/name.png`` and close it."""
    plt = pyplot()
    path = folder / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Figure(name, path, caption)


def table_html(frame: pd.DataFrame, float_format: str = "{:.4f}") -> str:
    """Render a small frame as an HTML table (numbers formatted, text escaped)."""

    def cell(value: Any) -> str:
        if isinstance(value, float | np.floating):
            return "" if np.isnan(value) else float_format.format(value)
        if isinstance(value, int | np.integer):
            return f"{int(value):,}"
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass(frozen=True)
class Section:
    """One section of a report page: an anchor id, a title and its HTML body."""

    id: str
    title: str
    body: str


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
color:#222;line-height:1.45;padding:0 1em}
h1{border-bottom:2px solid #2b6cb0}h2{color:#2b6cb0;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f0f4f8}
td:first-child,th:first-child{text-align:left}
figure{display:inline-block;margin:.5em}img{max-width:100%}figcaption{font-size:.85em;color:#555}
nav a{margin-right:1em}.note{color:#555;font-size:.9em}
"""


def page(title: str, intro: str, sections: Sequence[Section]) -> str:
    """A complete HTML document with a table of contents."""
    nav = "".join(f'<a href="#{s.id}">{html.escape(s.title)}</a>' for s in sections)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{intro}</p>",
        f"<nav>{nav}</nav>",
    ]
    for s in sections:
        parts.append(f'<section id="{s.id}"><h2>{html.escape(s.title)}</h2>{s.body}</section>')
    parts.append("</body></html>")
    return "\n".join(parts)


def comparison_figure(result: CompareResult, out: Path) -> Path | None:
    """``comparison.png``: ROC AUC (± std over folds) and seconds per fold of every model.

    Returns None when matplotlib is not installed (the tables are written anyway).
    """
    from trainer.compare import MODEL_LABELS

    try:
        plt = pyplot()
    except UserError:
        return None
    labels = [MODEL_LABELS[s.key] for s in result.scores]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    aucs = [s.roc_auc_mean for s in result.scores]
    left.bar(labels, aucs, yerr=[s.roc_auc_std for s in result.scores], color="#2b6cb0", capsize=4)
    low = min(aucs) - 0.03
    left.set_ylim(max(0.5, low), min(1.0, max(aucs) + 0.02))
    left.set_ylabel(f"ROC AUC ({result.config.n_folds}-fold mean ± std)")
    right.bar(labels, [s.fit_seconds for s in result.scores], color="#718096")
    right.set_ylabel("Seconds per fold (fit + predict)")
    target = out / "comparison.png"
    with atomic_path(target) as tmp:
        save(fig, tmp.parent, tmp.name.removesuffix(".png"))
    return target
