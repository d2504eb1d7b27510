"""Scaling of the Dask cluster fit and predict (issue 14): memory per worker as the data grows.

Usage (hours on 2 busy cores for the three sizes, 3M alone over an hour; data kept in WORK between runs):
    nice -n 10 python bench/bench_cluster.py --work /tmp/scale                   # 0.3M, 1M, 3M clients
    nice -n 10 python bench/bench_cluster.py --work /tmp/scale --clients 300000  # one size

For each size: ``trainer synth --format parquet`` (skipped when ``WORK/clients-N/data`` is complete:
timed, peak memory), then in a fresh process ``fit --cluster local:W`` and ``predict --cluster
local:W`` (timed). It prints, per size: the wall times, the validation AUC, and each worker's peak
memory in each phase (features, training, scoring) sampled every 0.1 s on the workers, split into
the worker's own heap (``anon``) and memory-mapped feature files (``file``: page cache the kernel can
drop), plus the driver's peak; then every figure's ratio to the smallest size, and the load average.
Nothing here runs as a test. Delete WORK afterwards (3M clients take ~8 GB of parquet).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SIZES = (300_000, 1_000_000, 3_000_000)
GB = 1024**3


def synth(data: Path, clients: int) -> dict[str, float]:
    """Generate the parquet tables in a child process; its wall time and peak RSS (GB)."""
    if (data / "synth_truth.csv").exists():
        return {"synth_s": float("nan"), "synth_gb": float("nan")}
    code = (
        "import resource, sys; from pathlib import Path; from trainer.synth import generate; "
        "generate(Path(sys.argv[1]), int(sys.argv[2]), fmt='parquet'); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, str(data), str(clients)], capture_output=True, text=True, check=True
    )
    return {"synth_s": time.perf_counter() - start, "synth_gb": int(out.stdout.split()[-1]) / 1024**2}


def one(data: Path, models: Path, workers: int) -> dict[str, Any]:
    """Fit and predict on a new local cluster (run in a fresh process: the driver's peak is its own)."""
    from trainer.bundle import load_bundle
    from trainer.cluster import fit_on_cluster, score_on_cluster
    from trainer.train import FitConfig

    address = f"local:{workers}"
    memory: dict[str, dict[str, int]] = {}
    start = time.perf_counter()
    shown: set[str] = set()

    def progress(stage: str, done: float, total: float | None = None, detail: str = "") -> None:
        """Print each phase's memory as soon as it is known, and the stages (on stderr)."""
        for phase, peaks in memory.items():
            if phase not in shown:
                shown.add(phase)
                print(
                    f"  {time.perf_counter() - start:6.0f} s  {phase} peak per worker {_gb(peaks)} GB",
                    file=sys.stderr,
                    flush=True,
                )
        if done == 0:
            print(f"  {time.perf_counter() - start:6.0f} s  {detail or stage}", file=sys.stderr, flush=True)

    fit_on_cluster(FitConfig(data, models / "cluster"), address, progress, memory=memory)
    fit_s = time.perf_counter() - start
    bundle = load_bundle(models / "cluster")
    start = time.perf_counter()
    scores, _ = score_on_cluster(
        models / "cluster", data / "application_test.parquet", address, memory=memory
    )
    predict_s = time.perf_counter() - start
    return {
        "fit_s": fit_s,
        "predict_s": predict_s,
        "auc": bundle.manifest.validation.roc_auc,
        "n_train": bundle.manifest.training_data.n_train,
        "n_scored": len(scores),
        "memory": memory,
        "driver_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--clients", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # internal: one size, JSON out
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one / "data", args.one / "models", args.workers)))
        return

    rows: list[dict[str, Any]] = []
    for clients in args.clients:
        folder = args.work / f"clients-{clients}"
        row: dict[str, Any] = {"clients": clients, "load_before": os.getloadavg()}
        row |= synth(folder / "data", clients)
        print(f"{clients:,} clients: fit and predict --cluster local:{args.workers}", file=sys.stderr)
        cmd = [sys.executable, __file__, "--work", str(args.work), "--one", str(folder)]
        out = subprocess.run([*cmd, "--workers", str(args.workers)], stdout=subprocess.PIPE, text=True)
        if out.returncode != 0:
            raise SystemExit(f"fit/predict failed at {clients:,} clients")
        row |= json.loads(out.stdout.strip().splitlines()[-1])
        row["load_after"] = os.getloadavg()
        rows.append(row)
        report(rows, args.workers)


def report(rows: list[dict[str, Any]], workers: int) -> None:
    """Print one line per size and the ratios to the first size."""
    print(f"\n--cluster local:{workers}; memory = largest worker's peak, GB (anon heap + mapped files)")
    head = (
        f"{'clients':>10} {'synth s':>8} {'synth GB':>8} {'fit s':>7} {'predict s':>9} {'AUC':>6} "
        f"{'features':>13} {'training':>13} {'scoring':>13} {'driver':>6}  load avg"
    )
    print(head)
    for r in rows:
        mem = {phase: _gb(r["memory"].get(phase, {})) for phase in ("features", "training", "scoring")}
        print(
            f"{r['clients']:>10,} {r['synth_s']:>8.0f} {r['synth_gb']:>8.2f} {r['fit_s']:>7.0f} "
            f"{r['predict_s']:>9.0f} {r['auc']:>6.4f} {mem['features']:>13} {mem['training']:>13} "
            f"{mem['scoring']:>13} {r['driver_gb']:>6.2f}  "
            f"{' '.join(f'{v:.1f}' for v in r['load_before'])} -> "
            f"{' '.join(f'{v:.1f}' for v in r['load_after'])}"
        )
    first = rows[0]
    for r in rows[1:]:
        ratios = {
            "clients": r["clients"] / first["clients"],
            "fit time": r["fit_s"] / first["fit_s"],
            "predict time": r["predict_s"] / first["predict_s"],
        }
        for phase in ("features", "training", "scoring"):
            for kind in ("anon", "total"):
                a, b = first["memory"][phase][kind], r["memory"][phase][kind]
                ratios[f"{phase} {kind}"] = b / a if a else float("nan")
        train_anon = r["memory"]["training"]["anon"] - first["memory"]["training"]["anon"]
        per_client = train_anon / max(1, (r["n_train"] - first["n_train"]) / workers)
        text = ", ".join(f"{k} x{v:.2f}" for k, v in ratios.items())
        print(f"{r['clients']:,} vs {first['clients']:,}: {text}")
        print(f"  training heap grows {per_client:.0f} bytes per training client per worker")


def _gb(peaks: dict[str, int]) -> str:
    if not peaks:
        return "-"
    return f"{peaks['anon'] / GB:.2f}+{peaks['file'] / GB:.2f}"


if __name__ == "__main__":
    main()
