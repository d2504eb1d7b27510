"""Benchmark of ``trainer compare`` at full scale: wall time per model and the AUC table beside the oracle.

Usage:
    python bench/bench_compare.py [--data DIR] [--folds 3] [--models lr,tree,rf,hgb,xgb] [--sample N]

The data folder defaults to /tmp/credit-bench/data (written by bench_trainer.py scale) and is generated
with ``trainer synth --clients 307511`` into /tmp/credit-bench/data when it does not exist. The oracle
AUC is the AUC of the planted true PD (``synth_truth.csv``, TRUE_PD) on the same clients and folds: no
model can beat it on average. Runs in-process through the same functions the command uses
(:func:`trainer.compare.load_dataset` and :func:`trainer.compare.run_compare`), one model at a time so
each model's wall time is measured on its own. Nothing here runs as a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from trainer.compare import MODEL_NAMES, CompareConfig, folds, load_dataset, parse_models, run_compare

DEFAULT_DATA = Path("/tmp/credit-bench/data")
FULL_SCALE = 307_511


def ensure_data(data: Path) -> None:
    if (data / "application_train.csv").exists() or (data / "application_train.parquet").exists():
        return
    print(f"generating {FULL_SCALE:,} synthetic clients into {data} ...", flush=True)
    cmd = [sys.executable, "-c", "from trainer.cli import main; main()", "synth"]
    subprocess.run([*cmd, "--clients", str(FULL_SCALE), "--out", str(data)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--models", default=",".join(MODEL_NAMES))
    parser.add_argument("--sample", type=int, default=None, help="stratified sample for every model")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "compare.json")
    args = parser.parse_args()

    ensure_data(args.data)
    start = time.perf_counter()
    dataset = load_dataset(args.data, sample=args.sample, seed=args.seed)
    load_s = time.perf_counter() - start
    print(
        f"read + features: {load_s:.1f} s for {len(dataset.y):,} clients x {dataset.x.shape[1]} features "
        f"(default rate {dataset.y.mean():.2%})",
        flush=True,
    )

    truth = pd.read_csv(args.data / "synth_truth.csv").set_index("SK_ID_CURR")["TRUE_PD"]
    true_pd = truth.reindex(dataset.ids).to_numpy(dtype=np.float64)
    splits = folds(dataset.y, args.folds, args.seed)
    oracle_folds = [roc_auc_score(dataset.y[te], true_pd[te]) for _, te in splits]
    oracle = float(np.mean(oracle_folds))

    rows = []
    for key in parse_models(args.models):
        config = CompareConfig(
            data_dir=args.data, models=(key,), n_folds=args.folds, sample=args.sample, seed=args.seed
        )
        t0 = time.perf_counter()
        result = run_compare(config, dataset)
        wall = time.perf_counter() - t0
        s = result.scores[0]
        rows.append(
            {
                "model": s.name,
                "roc_auc": s.roc_auc_mean,
                "std": s.roc_auc_std,
                "oracle_auc": oracle,
                "auc_over_oracle": s.roc_auc_mean / oracle,
                "pr_auc": s.pr_auc,
                "f1": s.f1,
                "accuracy": s.accuracy,
                "cost": s.business_cost,
                "wall_s": wall,
                "s_per_fold": s.fit_seconds,
            }
        )
        print(f"{s.name:22s} AUC {s.roc_auc_mean:.4f} ± {s.roc_auc_std:.4f}  wall {wall:7.1f} s", flush=True)

    table = pd.DataFrame(rows)
    print()
    print(
        f"{args.folds}-fold CV on {len(dataset.y):,} clients; oracle AUC (TRUE_PD, same folds) {oracle:.4f}; "
        f"read + features {load_s:.1f} s"
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "clients": len(dataset.y),
                "folds": args.folds,
                "load_s": load_s,
                "oracle_auc": oracle,
                "rows": rows,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
