"""Synthetic-data fidelity at scale (issue "Synthetic risk that behaves like the real one").

Usage:
    python bench/bench_synth.py --clients 20000 --work /tmp/synth20k [--folds 5] [--threads 2]
    nice python bench/bench_synth.py --clients 307511 --work /tmp/synth_full

Generates the tables (timed), then runs ``trainer synth --check`` in-process (timed): default-rate
curves per real decile, the external score x term table, top-10 importance overlap, the XGBoost -
logistic regression AUC gap. Prints the report as markdown (every curve real vs synthetic), the
generation and check times, the rows per client of every history table against the real averages,
and the load average. Exit 1 when a check fails. Nothing here runs as a test.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from trainer.schema import load_profile
from trainer.synth import REAL_TEST_ROWS, REAL_TRAIN_ROWS, generate
from trainer.synth_check import check_synthetic, to_markdown


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model-sample", type=int, default=None, help="Clients the models are fitted on.")
    parser.add_argument("--skip-generate", action="store_true", help="Check the data already in --work.")
    args = parser.parse_args()

    data = args.work / "data"
    if not args.skip_generate:
        start = time.perf_counter()
        summary = generate(data, args.clients, seed=args.seed)
        gen_seconds = time.perf_counter() - start
        print(f"generate {args.clients:,} clients: {gen_seconds:.0f} s (load {os.getloadavg()})")
        real = load_profile()["full_table_rows"]
        clients = summary.rows["application_train"] + summary.rows["application_test"]
        print("\n| table | rows per client | real | difference |\n| --- | ---: | ---: | ---: |")
        for name, rows in summary.rows.items():
            if name in real and not name.startswith("application"):
                ours, theirs = rows / clients, real[name] / (REAL_TRAIN_ROWS + REAL_TEST_ROWS)
                print(f"| {name} | {ours:.2f} | {theirs:.2f} | {ours / theirs - 1:+.1%} |")
        print()
    start = time.perf_counter()
    report = check_synthetic(
        data, folds=args.folds, seed=args.seed, nthread=args.threads, model_sample=args.model_sample
    )
    check_seconds = time.perf_counter() - start
    print(to_markdown(report))
    print(f"check ({args.folds} folds): {check_seconds:.0f} s (load {os.getloadavg()})")
    raise SystemExit(0 if report.passed else 1)


if __name__ == "__main__":
    main()
