"""Load and fault benchmark of the team decision log on PostgreSQL. Not run as a test.

    python bench/bench_audit_pg.py [--advisors 20] [--decisions 200] [--crash-writers 10]

Starts a throwaway PostgreSQL (``tests/pg_server.py``: Debian ``postgresql`` package, fsync on, loopback
TCP with scram-sha-256 logins), creates the log with ``audit init`` (four-eyes above PD 0.5) and one login
role per advisor, then:

0. **Alone**: one advisor records DECISIONS decisions (the time of one decision without contention:
   mostly the one WAL flush that makes it durable).
1. **Load**: ADVISORS processes record DECISIONS decisions each, all at once, through
   :class:`PgAuditStore` (one connection per process, one server round trip per decision). Each process
   times every ``record()`` call (from the call to the acknowledged, committed row). Reports records
   stored vs acknowledged, whether the chain verifies without gaps, median / p95 / max time to record
   one decision, and the throughput. Target: p95 <= 25 ms on loopback.
2. **Crash**: CRASH_WRITERS processes record in a loop; after about a second the server is stopped with
   ``pg_ctl stop -m immediate`` (no checkpoint, like a power cut of the server process) and restarted.
   Every decision a writer saw acknowledged must be there with the same hash, and the chain must verify.

Prints the load average beside the figures (the machine is shared), and one ``RESULT`` line per phase
with median, p95, throughput, acknowledged-but-lost count and whether the chain verifies.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from pg_server import PgServer, throwaway_server  # noqa: E402

from credit_tui.audit_pg import PgAuditStore, init_schema  # noqa: E402

WRITER = textwrap.dedent(
    """
    import sys, time
    from credit_tui.audit import AuditError, input_row_hash
    from credit_tui.audit_pg import PgAuditStore

    url, count, tag = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = PgAuditStore(url)
    print("ready", flush=True)
    sys.stdin.readline()  # every advisor starts at the same moment
    cpu = time.process_time()
    for i in range(count):
        refused = i % 4 == 0
        t0 = time.perf_counter()
        try:
            rec = store.record(
                advisor="x", client_id=tag * 100000 + i, bundle_id="b" * 16, threshold=0.3,
                pd=0.6 if refused else 0.1, model_decision="REFUSE" if refused else "ACCEPT",
                final_decision="REFUSE" if refused else "ACCEPT", input_hash=input_row_hash({"i": i}),
                reasons=["Reason"] if refused else [],
            )
        except AuditError:
            break
        print(rec.id, rec.hash, f"{(time.perf_counter() - t0) * 1000:.3f}", flush=True)
    print("cpu", time.process_time() - cpu, "-", flush=True)
    """
)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _spawn(urls: list[str], count: int) -> list[subprocess.Popen[str]]:
    """Start one writer per URL, wait until each is connected, then release them all at once."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(count), str(i + 1)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i, url in enumerate(urls)
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    return procs


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _server_cpu(server: PgServer) -> float:
    """CPU seconds used so far by the server's postmaster and its children (backends, WAL writer, ...)."""
    postmaster = int((server.root / "data" / "postmaster.pid").read_text().split()[0])
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(postmaster):  # its own, and its children's that ended
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        elif int(fields[1]) == postmaster:  # a running child: utime + stime, in clock ticks
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def load_run(server: PgServer, db: str, advisors: int, decisions: int, phase: str) -> None:
    """ADVISORS x DECISIONS at once (their login roles are created when missing)."""
    urls = [server.url(f"adv{i}", db) for i in range(advisors)]
    load_before = _load()
    server_before = _server_cpu(server)
    procs = _spawn(urls, decisions)
    start_at = time.time()
    acked: list[tuple[int, str, float]] = []
    client_cpu = 0.0
    for proc in procs:
        out, _ = proc.communicate(timeout=900)
        for a, b, c in (line.split() for line in out.splitlines()):
            if a == "cpu":
                client_cpu += float(b)
            else:
                acked.append((int(a), b, float(c)))
    wall = time.time() - start_at
    load_after = _load()
    client_ms = client_cpu * 1000 / max(1, len(acked))
    server_ms = (_server_cpu(server) - server_before) * 1000 / max(1, len(acked))
    with PgAuditStore(server.url("adv0", db)) as store:
        result = store.verify()
        stored = {r.id: r.hash for r in store.decisions()}
        pending = len(store.pending())
    times = [t for _, _, t in acked]
    lost = [i for i, h, _ in acked if stored.get(i) != h]
    print(
        f"== {phase}: {advisors} advisor process{'es' if advisors > 1 else ''} x {decisions} decisions "
        f"at once (load before: {load_before}, after: {load_after})"
    )
    print(f"acknowledged {len(acked)}, stored {len(stored)}, acknowledged but missing {len(lost)}")
    print(f"chain: {'intact' if result.ok else 'BROKEN'} ({result.message}); ids 1..{max(stored, default=0)}")
    print(f"four-eyes: {pending} pending (PD 0.6 > level 0.5)")
    print(
        f"time to record one decision: median {statistics.median(times):.2f} ms, "
        f"p95 {_percentile(times, 0.95):.2f} ms, max {max(times):.2f} ms "
        f"(target p95 <= 25 ms: ratio {_percentile(times, 0.95) / 25:.2f})"
    )
    print(f"throughput: {len(acked) / wall:.0f} decisions/s over {wall:.1f} s")
    print(
        f"CPU per decision: advisor process {client_ms:.2f} ms, server "
        f"{server_ms:.2f} ms: on {os.cpu_count()} idle cores at most "
        f"~{1000 * (os.cpu_count() or 1) / (client_ms + server_ms):.0f} decisions/s"
    )
    print(
        f"RESULT {phase}: median {statistics.median(times):.1f} ms, p95 {_percentile(times, 0.95):.1f} ms, "
        f"throughput {len(acked) / wall:.0f}/s, lost {len(lost)}, chain {'ok' if result.ok else 'BROKEN'}, "
        f"load {load_after.split()[0]}"
    )


def crash_run(server: PgServer, db: str, writers: int) -> None:
    """Phase 2: stop the server immediately in the middle of a run, restart, check what was acknowledged."""
    urls = [server.url(f"adv{i}", db) for i in range(writers)]
    procs = _spawn(urls, 100_000)
    time.sleep(1.0)
    t0 = time.time()
    server.stop("immediate")
    acked: list[tuple[int, str]] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        acked += [(int(a), b) for a, b, _ in (line.split() for line in out.splitlines()) if a != "cpu"]
    server.start()
    restart = time.time() - t0
    with PgAuditStore(server.url("adv0", db)) as store:
        result = store.verify()
        stored = {r.id: r.hash for r in store.decisions()}
    lost = [i for i, h in acked if stored.get(i) != h]
    print(f"== crash: {writers} writers, pg_ctl stop -m immediate after ~1 s, restart (load: {_load()})")
    print(
        f"acknowledged before the stop {len(acked)}, stored after restart {len(stored)}, "
        f"acknowledged but missing {len(lost)}; chain {'intact' if result.ok else 'BROKEN'}; "
        f"stop + restart {restart:.1f} s"
    )
    print(
        f"RESULT crash: acknowledged {len(acked)}, lost {len(lost)}, "
        f"chain {'ok' if result.ok else 'BROKEN'}, load {_load().split()[0]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--advisors", type=int, default=20)
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--crash-writers", type=int, default=10)
    parser.add_argument(
        "--no-fsync",
        action="store_true",
        help="server with fsync off: the cost of the work without the disk flush (load phase only)",
    )
    parser.add_argument(
        "--commit-delay",
        type=int,
        default=0,
        metavar="US",
        help="server commit_delay in microseconds (a flush waits for more commits to share it; default 0)",
    )
    args = parser.parse_args()
    with throwaway_server(fsync=not args.no_fsync) as server:
        print(f"server fsync: {'off' if args.no_fsync else 'on'}, commit_delay {args.commit_delay} us")
        server.sql(f"ALTER SYSTEM SET commit_delay = {int(args.commit_delay)}")
        server.sql("SELECT pg_reload_conf()")
        server.sql("CREATE DATABASE credit")
        init_schema(server.admin_url("credit"), four_eyes_pd=0.5)
        for i in range(args.advisors):
            server.create_login(f"adv{i}", "credit_advisor", dbname="credit")
        load_run(server, "credit", 1, args.decisions, "alone")
        load_run(server, "credit", args.advisors, args.decisions, "load")
        if not args.no_fsync:
            crash_run(server, "credit", min(args.crash_writers, args.advisors))


if __name__ == "__main__":
    main()
