"""Trainer benchmarks (issue "Trainer core"): full-scale synth + fit, quality vs oracle, latency.

Usage:
    python bench/bench_trainer.py scale --clients 307511 --work /tmp/bench  # synth + fit: time, peak RSS
    python bench/bench_trainer.py quality --work /tmp/bench                 # AUC / oracle AUC, app-only AUC
    python bench/bench_trainer.py latency --work /tmp/bench --calls 1000    # one-client score + explain

``scale`` must run first (it writes ``WORK/data`` and ``WORK/models/full`` and ``WORK/models/app_only``).
Figures are printed as medians and ratios; nothing here runs as a test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TARGET_FIT_SECONDS = 600
TARGET_FIT_GB = 8.0


def timed(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd`` under /usr/bin/time -v; return (wall seconds, peak RSS in GB)."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"command failed: {' '.join(cmd)}")
    rss_kb = next(
        int(line.split()[-1]) for line in proc.stderr.splitlines() if "Maximum resident set size" in line
    )
    return wall, rss_kb / 1024 / 1024


def trainer_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from trainer.cli import main; main()", *args]


def scale(work: Path, clients: int) -> None:
    data, models = work / "data", work / "models"
    wall, rss = timed(trainer_cmd("synth", "--clients", str(clients), "--out", str(data)))
    print(f"synth  {clients:,} + test clients with history: wall {wall:7.1f} s   peak RSS {rss:5.2f} GB")
    wall, rss = timed(trainer_cmd("fit", "--data", str(data), "--out", str(models / "full")))
    print(
        f"fit    (read + features + training):      wall {wall:7.1f} s   peak RSS {rss:5.2f} GB   "
        f"(targets <= {TARGET_FIT_SECONDS} s, <= {TARGET_FIT_GB} GB; "
        f"time ratio {wall / TARGET_FIT_SECONDS:.2f})"
    )
    wall, rss = timed(
        trainer_cmd("fit", "--data", str(data), "--out", str(models / "app_only"), "--no-history")
    )
    print(f"fit    --no-history:                      wall {wall:7.1f} s   peak RSS {rss:5.2f} GB")


def validation_auc(bundle_dir: Path, data_dir: Path, truth: pd.DataFrame) -> tuple[float, float, int]:
    """(model AUC, oracle AUC) on the bundle's own validation clients."""
    from sklearn.metrics import roc_auc_score

    from trainer.bundle import load_bundle
    from trainer.data import read_table
    from trainer.model import stratified_split

    bundle = load_bundle(bundle_dir)
    train = read_table(data_dir / "application_train.csv", "application_train")
    y = train["TARGET"].to_numpy(dtype=np.int64)
    settings = bundle.manifest.training
    _, valid = stratified_split(y, settings.valid_share, settings.seed)
    ids = train["SK_ID_CURR"].to_numpy()[valid]
    true_pd = truth.set_index("SK_ID_CURR").loc[ids, "TRUE_PD"].to_numpy()
    model_auc = bundle.manifest.validation.roc_auc
    return model_auc, float(roc_auc_score(y[valid], true_pd)), len(valid)


def quality(work: Path) -> None:
    data = work / "data"
    truth = pd.read_csv(data / "synth_truth.csv")
    full_auc, oracle, n = validation_auc(work / "models" / "full", data, truth)
    app_auc, _, _ = validation_auc(work / "models" / "app_only", data, truth)
    print(f"validation clients: {n:,}")
    print(f"oracle AUC (true PD):            {oracle:.4f}")
    print(
        f"model AUC, all tables:           {full_auc:.4f}   "
        f"ratio to oracle {full_auc / oracle:.4f} (target >= 0.97)"
    )
    print(f"model AUC, application only:     {app_auc:.4f}   ratio to oracle {app_auc / oracle:.4f}")
    print(f"gain from history tables:        {full_auc - app_auc:+.4f} AUC")


def latency(work: Path, calls: int) -> None:
    import shap
    import xgboost as xgb

    from trainer.features import feature_matrix
    from trainer.portfolio import Portfolio
    from trainer.scoring import Scorer

    bundle_dir = work / "models" / "full"
    scorer = Scorer.load(bundle_dir)
    portfolio = Portfolio.load(work / "data" / "application_test.csv", tables=scorer.spec.history_tables)
    ids = portfolio.client_ids[:calls]
    records = [(portfolio.record(i), portfolio.history_record(i)) for i in ids]

    api: list[float] = []
    for record, history in records:
        start = time.perf_counter()
        explanation = scorer.explain(record, history)
        api.append(time.perf_counter() - start)
    assert explanation.contributions

    # The straightforward path: one-row DataFrame -> feature code -> predict_proba -> TreeExplainer.
    classifier = xgb.XGBClassifier()
    classifier.load_model(bundle_dir / "model.ubj")
    explainer = shap.TreeExplainer(classifier)
    names = list(scorer.spec.names)
    history = portfolio.history
    naive: list[float] = []
    for record, _ in records:
        start = time.perf_counter()
        frame = pd.DataFrame([record])
        x = pd.DataFrame(feature_matrix(frame, history, scorer.spec), columns=names)
        for name in scorer.spec.categories:
            x[name] = pd.Categorical.from_codes(
                x[name].fillna(-1).astype(int), categories=list(scorer.spec.categories[name])
            )
        proba = classifier.predict_proba(x)[:, 1]
        values = explainer.shap_values(x)
        naive.append(time.perf_counter() - start)
    assert proba.shape == (1,) and np.asarray(values).shape[-1] == len(names)

    api_ms, naive_ms = statistics.median(api) * 1000, statistics.median(naive) * 1000
    print(f"calls: {len(api)} clients")
    print(f"scoring API   (score + explain one client): median {api_ms:6.2f} ms (target <= 5 ms)")
    print(f"straightforward path (DataFrame, predict_proba, TreeExplainer): median {naive_ms:6.2f} ms")
    print(f"speed-up: {naive_ms / api_ms:.1f}x (target >= 5x)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["scale", "quality", "latency"])
    parser.add_argument("--work", type=Path, default=Path("/tmp/credit-bench"))
    parser.add_argument("--clients", type=int, default=307_511)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    actions: dict[str, Any] = {
        "scale": lambda: scale(args.work, args.clients),
        "quality": lambda: quality(args.work),
        "latency": lambda: latency(args.work, args.calls),
    }
    actions[args.what]()


if __name__ == "__main__":
    main()
