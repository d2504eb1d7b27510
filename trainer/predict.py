"""``trainer predict``: score a clients file and write a Kaggle-style submission atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console

from trainer.atomic import atomic_file
from trainer.errors import UserError
from trainer.portfolio import Portfolio
from trainer.scoring import Scorer

#: Upper edges of the PD bands written with ``--decisions``.
PD_BANDS: tuple[tuple[float, str], ...] = (
    (0.05, "0-5%"),
    (0.10, "5-10%"),
    (0.20, "10-20%"),
    (0.40, "20-40%"),
)


def pd_band(pds: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Label each PD with its band ("0-5%", ..., "40-100%")."""
    edges = [edge for edge, _ in PD_BANDS]
    labels = np.array([label for _, label in PD_BANDS] + ["40-100%"], dtype=object)
    return labels[np.searchsorted(edges, pds, side="right")]


def predict_file(
    model: Path,
    clients_file: Path,
    out: Path,
    *,
    with_decisions: bool,
    console: Console | None = None,
    trusted_keys: tuple[bytes, ...] = (),
) -> int:
    """Score every client of ``clients_file`` with the bundle ``model`` and write ``out``.

    The file has ``SK_ID_CURR,TARGET`` (TARGET = probability of default), plus ``PD_BAND`` and
    ``DECISION`` with ``with_decisions``. It is written to a temporary file and renamed, so a failure
    never leaves half a file.

    Returns:
        The number of clients written.
    """
    scorer = Scorer.load(model, trusted_keys)
    portfolio = Portfolio.load(clients_file, tables=scorer.spec.history_tables)
    missing = sorted(set(scorer.spec.history_tables) - set(portfolio.history_tables))
    if missing and console is not None:
        console.print(
            f"[yellow]warning:[/] {', '.join(missing)} not found beside {clients_file}; "
            "their features are treated as unknown."
        )
    scores = scorer.score(portfolio.applications, portfolio.history)
    frame = pd.DataFrame({"SK_ID_CURR": scores["SK_ID_CURR"], "TARGET": scores["PD"]})
    if with_decisions:
        frame["PD_BAND"] = pd_band(scores["PD"].to_numpy())
        frame["DECISION"] = scores["DECISION"]
    write_csv_atomic(frame, out)
    return len(frame)


def write_csv_atomic(frame: pd.DataFrame, out: Path) -> None:
    """Write ``frame`` to ``out`` through a temporary file in the same folder, then rename."""
    out = Path(out)
    if not out.parent.exists():
        raise UserError(f"Folder {out.parent} does not exist; create it or choose another --out path.")
    with atomic_file(out, newline="") as fh:
        frame.to_csv(fh, index=False)
