"""CPU cost of XGBoost external memory against the in-memory QuantileDMatrix (issue 14), one process.

Usage:
    python bench/bench_extmem.py --work /tmp/extmem-micro [--rows 120000 --batches 3 --rounds 100 --repeats 2]

Writes ``--batches`` float32 batches of ``--rows`` rows in total (126 columns, 30 % missing values, like
the feature files of ``trainer fit --cluster``), then, interleaved ``--repeats`` times and each in a
fresh process, builds a ``QuantileDMatrix`` (batches concatenated in memory) or an
``ExtMemQuantileDMatrix`` (:class:`trainer.extmem.FileBatches`, cache pages on disk) and trains
``--rounds`` rounds with the fit's parameters on one thread. Prints the CPU seconds of building and of
training, their medians and the ratio external / in memory, and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WIDTH = 126


def write_batches(work: Path, rows: int, batches: int) -> list[tuple[Path, Path]]:
    """The batch files (made once; kept in ``work`` between runs)."""
    rng = np.random.default_rng(0)
    files = []
    size = rows // batches
    for b in range(batches):
        xp, yp = work / f"x{b}-{size}.npy", work / f"y{b}-{size}.npy"
        if not xp.exists():
            x = rng.normal(size=(size, WIDTH)).astype(np.float32)
            x[rng.random(x.shape) < 0.3] = np.nan
            signal = np.nan_to_num(x[:, 0]) + 0.5 * np.nan_to_num(x[:, 1]) + rng.normal(size=size)
            np.save(xp, x)
            np.save(yp, (signal > 1.2).astype(np.float32))
        files.append((xp, yp))
    return files


def one(mode: str, work: Path, rows: int, batches: int, rounds: int) -> dict[str, float]:
    """Build and train once in this process; CPU seconds of each step."""
    import xgboost

    from trainer.config import DEFAULT_XGB_PARAMS
    from trainer.extmem import FileBatches

    files = write_batches(work, rows, batches)
    params = {**DEFAULT_XGB_PARAMS, "nthread": 1, "seed": 1}
    start = time.process_time()
    if mode == "memory":
        x = np.concatenate([np.load(x) for x, _ in files])
        y = np.concatenate([np.load(y) for _, y in files])
        dtrain: xgboost.DMatrix = xgboost.QuantileDMatrix(x, y, max_bin=256, nthread=1)
    else:
        cache = Path(tempfile.mkdtemp(dir=work))
        names = [f"f{i}" for i in range(WIDTH)]
        dtrain = xgboost.ExtMemQuantileDMatrix(
            FileBatches(files, cache, names, ["q"] * WIDTH), max_bin=256, nthread=1
        )
    built = time.process_time()
    xgboost.train(params, dtrain, num_boost_round=rounds)
    return {"build_s": built - start, "train_s": time.process_time() - built}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=120_000)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--one", choices=("memory", "external"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(one(args.one, args.work, args.rows, args.batches, args.rounds)))
        return
    shape = ["--rows", str(args.rows), "--batches", str(args.batches), "--rounds", str(args.rounds)]
    runs: dict[str, list[dict[str, float]]] = {"memory": [], "external": []}
    for _ in range(args.repeats):
        for mode in runs:
            cmd = [sys.executable, __file__, "--work", str(args.work), *shape, "--one", mode]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            runs[mode].append(result)
            print(
                f"{mode:>8}: build {result['build_s']:.1f} s CPU, "
                f"{args.rounds} rounds {result['train_s']:.1f} s CPU"
            )
    medians = {
        m: {k: statistics.median(r[k] for r in rs) for k in ("build_s", "train_s")} for m, rs in runs.items()
    }
    for key in ("build_s", "train_s"):
        a, b = medians["memory"][key], medians["external"][key]
        print(f"median {key}: in memory {a:.2f} s, external {b:.2f} s, ratio {b / a:.2f}x")
    print("load average:", " ".join(f"{v:.1f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
