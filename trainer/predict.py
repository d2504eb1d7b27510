"""``trainer predict``: score a clients file and write a Kaggle-style submission atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.text import Text

from trainer.atomic import atomic_file
from trainer.errors import UserError
from trainer.output_guard import check_output_file
from trainer.portfolio import Portfolio
from trainer.scoring import Scorer
from trainer.text_safety import clean_text

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


def missing_history_warning(missing: list[str], clients_file: Path) -> str:
    """The sentence ``predict`` and the advisor app show when history tables of the model are absent."""
    return (
        f"{', '.join(missing)} not found beside {clean_text(clients_file)}; "
        "their features are treated as unknown."
    )


def predict_file(
    model: Path,
    clients_file: Path,
    out: Path,
    *,
    with_decisions: bool,
    console: Console | None = None,
    trusted_keys: tuple[bytes, ...] = (),
    force: bool = False,
    cluster: str | None = None,
    partitions: int | None = None,
) -> int:
    """Score every client of ``clients_file`` with the bundle ``model`` and write ``out``.

    The file has ``SK_ID_CURR,TARGET`` (TARGET = probability of default), plus ``PD_BAND`` and
    ``DECISION`` with ``with_decisions``. It is written to a temporary file and renamed, so a failure
    never leaves half a file.

    ``out`` is checked first (:func:`trainer.output_guard.check_output_file`): never the clients file or
    a history table beside it, an existing file only with ``force``.

    With ``cluster`` (a Dask scheduler address or ``local:N``) the partitions are scored on Dask
    (:func:`trainer.cluster.score_on_cluster`): the same features, PDs and decisions.

    Returns:
        The number of clients written.
    """
    folder = Path(clients_file).parent
    history_files = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    check_output_file(out, inputs=[clients_file, *history_files, model], force=force)
    if cluster is not None:
        from trainer.cluster import score_on_cluster
        from trainer.views import progress_bar

        with progress_bar(console or Console(stderr=True)) as progress:
            scores, missing = score_on_cluster(
                model,
                clients_file,
                cluster,
                progress,
                partitions=partitions,
                stage_beside=Path(out),
                trusted_keys=trusted_keys,
            )
    else:
        scorer = Scorer.load(model, trusted_keys)
        portfolio = Portfolio.load(clients_file, tables=scorer.spec.history_tables)
        missing = sorted(set(scorer.spec.history_tables) - set(portfolio.history_tables))
        if console is not None:
            for notice in portfolio.notices:
                console.print(Text(notice))
        scores = scorer.score(portfolio.applications, portfolio.history)
    if missing and console is not None:
        console.print(
            Text.assemble(("warning:", "yellow"), " ", missing_history_warning(missing, clients_file))
        )
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
