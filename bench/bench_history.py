"""History aggregation and Dask scaling benchmarks (issue "Scale"). Not run as a test.

Usage:
    python bench/bench_history.py aggregate --data DIR [--repeats 3]
        DuckDB (the project) vs the former pandas path on the same history files: wall time and peak
        RSS of each in a fresh process, and their ratios (targets: >= 4x faster, <= 1/3 of the memory).
    python bench/bench_history.py parquet --data DIR --out DIR
        Copy a CSV data folder to parquet, plus ``clients.parquet`` (application_train + _test rows, for
        bench_tui.py's big portfolio).
    python bench/bench_history.py cluster --data DIR --work DIR [--workers 2]
        ``trainer fit --cluster local:N`` and ``trainer predict --cluster local:N``: wall time, peak RSS
        of the driver and of each worker process (VmHWM polled from /proc).
    python bench/bench_history.py fit --data DIR --work DIR [--repeats 1]
        ``trainer fit`` on one machine, then ``trainer evaluate`` of the bundle it wrote: wall time and
        peak RSS of each command's process, validation AUC and trees (targets for fit at 307,511
        clients: <= 30 s, <= 2.5 GB).

Every figure is printed with the load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

AGGREGATE = {
    "duckdb": ("from trainer.history_sql import aggregate_sources as a; f = a(paths); print(f.shape)"),
    "pandas": (
        "from trainer.features import aggregate_history as a; from trainer.data import read_table; "
        "f = a(lambda n, c: read_table(paths[n], n, c), list(paths)); print(f.shape)"
    ),
}
PATHS = (
    "import sys; from pathlib import Path; from trainer.data import find_table; "
    "from trainer.schema import HISTORY_TABLES; d = Path(sys.argv[1]); "
    "paths = {n: p for n in HISTORY_TABLES if (p := find_table(d, n)) is not None}; "
)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (5 min {five:.2f}) on {os.cpu_count()} cores"


#: CPU seconds (user + system) of the last :func:`timed` command: on a busy machine a fairer figure than
#: the wall time (OpenMP threads spinning for a core inflate it too, but far less).
last_cpu = 0.0


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """Run ``cmd`` under /usr/bin/time -v: (wall seconds, peak RSS GB, stdout); CPU time in ``last_cpu``."""
    global last_cpu
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr[-3000:])
        raise SystemExit(f"command failed: {' '.join(cmd)}")
    rss = next(int(line.split()[-1]) for line in proc.stderr.splitlines() if "Maximum resident" in line)
    last_cpu = sum(
        float(line.split()[-1])
        for line in proc.stderr.splitlines()
        if line.strip().startswith(("User time", "System time"))
    )
    return wall, rss / 1024 / 1024, proc.stdout.strip()


def aggregate(data: Path, repeats: int) -> None:
    results: dict[str, list[tuple[float, float]]] = {"duckdb": [], "pandas": []}
    for _ in range(repeats):
        for name, code in AGGREGATE.items():  # interleaved, one fresh process each
            wall, rss, shape = timed([sys.executable, "-c", PATHS + code, str(data)])
            results[name].append((wall, rss))
            print(f"  {name:6s} wall {wall:6.2f} s  peak RSS {rss:5.2f} GB  {shape}  [{load()}]", flush=True)
    med = {
        n: (statistics.median(w for w, _ in r), statistics.median(m for _, m in r))
        for n, r in results.items()
    }
    (dw, dm), (pw, pm) = med["duckdb"], med["pandas"]
    print(f"aggregation of {data} (medians of {repeats}):")
    print(f"  DuckDB (project) {dw:6.2f} s  {dm:5.2f} GB")
    print(f"  pandas (former)  {pw:6.2f} s  {pm:5.2f} GB")
    print(f"  speed-up {pw / dw:4.1f}x (target >= 4x); memory {dm / pm:4.2f} of pandas (target <= 0.33)")


FIT_TARGET_S = 30.0
FIT_TARGET_GB = 2.5


def fit(data: Path, work: Path, repeats: int) -> None:
    """``trainer fit`` then ``trainer evaluate`` in fresh processes: wall, peak RSS, AUC, trees."""
    import json

    trainer = [sys.executable, "-c", "from trainer.cli import main; main()"]
    model = work / "fit-model"
    fits: list[tuple[float, float]] = []
    for _ in range(repeats):
        before = load()
        wall, rss, _ = timed(
            [*trainer, "fit", "--data", str(data), "--out", str(model), "--tracking-uri", "off"]
        )
        fits.append((wall, rss))
        manifest = json.loads((model / "manifest.json").read_text())
        auc = manifest["metrics"]["validation"]["roc_auc"]
        trees = manifest["training"].get("best_iteration", "?")
        print(
            f"  fit      wall {wall:6.1f} s  CPU {last_cpu:6.1f} s  peak RSS {rss:5.2f} GB  "
            f"valid AUC {auc:.4f}  trees {trees}  "
            f"[before: {before}; after: {load()}]",
            flush=True,
        )
    before = load()
    wall, rss, out = timed([*trainer, "evaluate", "--model", str(model), "--data", str(data)])
    cells = next((line.split("│") for line in out.splitlines() if "ROC AUC" in line), ["", "", "?"])
    roc = f"ROC AUC {cells[2].strip()}"
    print(
        f"  evaluate wall {wall:6.1f} s  peak RSS {rss:5.2f} GB  {roc}  [before: {before}; after: {load()}]"
    )
    wall = statistics.median(w for w, _ in fits)
    rss = statistics.median(m for _, m in fits)
    print(
        f"trainer fit on {data} (median of {repeats}): {wall:.1f} s "
        f"(ratio {wall / FIT_TARGET_S:.2f} of {FIT_TARGET_S:.0f} s), peak RSS {rss:.2f} GB "
        f"(ratio {rss / FIT_TARGET_GB:.2f} of {FIT_TARGET_GB} GB)"
    )


def parquet(data: Path, out: Path) -> None:
    import duckdb

    from trainer.data import find_table
    from trainer.schema import TABLE_NAMES

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    for name in TABLE_NAMES:
        path = find_table(data, name)
        if path is not None:
            con.execute(f"COPY (SELECT * FROM read_csv('{path}')) TO '{out / name}.parquet' (FORMAT parquet)")
    con.execute(
        f"COPY (SELECT * EXCLUDE (TARGET) FROM read_csv('{data / 'application_train.csv'}') "
        f"UNION ALL BY NAME SELECT * FROM read_csv('{data / 'application_test.csv'}')) "
        f"TO '{out / 'clients.parquet'}' (FORMAT parquet)"
    )
    print(f"wrote {out}")


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        children: list[str] = []
        for task in Path(f"/proc/{parent}/task").glob("*"):  # children of every thread
            try:
                children += (task / "children").read_text().split()
            except OSError:
                continue
        for child in map(int, children):
            found.append(child)
            todo.append(child)
    return found


def _hwm_gb(pid: int) -> tuple[float, str]:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return 0.0, ""
    kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")), 0)
    return kb / 1024 / 1024, cmd


def watched(cmd: list[str]) -> tuple[float, float, dict[int, float]]:
    """Run ``cmd``; (wall s, driver peak GB, {worker pid: peak GB}) by polling VmHWM of the tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peaks: dict[int, float] = {}
    kinds: dict[int, str] = {}
    while proc.poll() is None:
        for pid in [proc.pid, *_descendants(proc.pid)]:
            gb, line = _hwm_gb(pid)
            if gb:
                peaks[pid] = max(peaks.get(pid, 0.0), gb)
                kinds.setdefault(pid, line)
        time.sleep(0.2)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write((proc.stderr.read() if proc.stderr else "")[-3000:])
        raise SystemExit(f"command failed: {' '.join(cmd)}")
    driver = peaks.pop(proc.pid, 0.0)
    workers = {pid: gb for pid, gb in peaks.items() if "spawn_main" in kinds.get(pid, "")}
    return wall, driver, workers


def cluster(data: Path, work: Path, workers: int) -> None:
    trainer = [sys.executable, "-c", "from trainer.cli import main; main()"]
    spec = f"local:{workers}"
    model = work / "cluster-model"
    fit = [
        *trainer,
        "fit",
        "--data",
        str(data),
        "--out",
        str(model),
        "--cluster",
        spec,
        "--tracking-uri",
        "off",
    ]
    wall, driver, peaks = watched(fit)
    shown = ", ".join(f"{gb:.2f}" for gb in sorted(peaks.values(), reverse=True)[:workers])
    report = f"driver {driver:5.2f} GB  workers [{shown}] GB  [{load()}]"
    print(f"fit --cluster {spec} on {data}: wall {wall:7.1f} s  {report}", flush=True)
    out = work / "cluster-submission.csv"
    predict = [
        *trainer,
        "predict",
        "--model",
        str(model),
        "--data",
        str(data),
        "--out",
        str(out),
        "--cluster",
        spec,
    ]
    wall, driver, peaks = watched(predict)
    shown = ", ".join(f"{gb:.2f}" for gb in sorted(peaks.values(), reverse=True)[:workers])
    report = f"driver {driver:5.2f} GB  workers [{shown}] GB  [{load()}]"
    print(f"predict --cluster {spec}:    wall {wall:7.1f} s  {report}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["aggregate", "parquet", "cluster", "fit"])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--work", type=Path, default=Path("/tmp/credit-bench-cluster"))
    parser.add_argument("--repeats", type=int, help="runs per measurement (aggregate: 3, fit: 1)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if args.what == "aggregate":
        aggregate(args.data, args.repeats or 3)
    elif args.what == "fit":
        args.work.mkdir(parents=True, exist_ok=True)
        fit(args.data, args.work, args.repeats or 1)
    elif args.what == "parquet":
        parquet(args.data, args.out or args.data.with_name(args.data.name + "-parquet"))
    else:
        args.work.mkdir(parents=True, exist_ok=True)
        cluster(args.data, args.work, args.workers)


if __name__ == "__main__":
    main()
