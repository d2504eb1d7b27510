"""Benchmarks of the advisor app: launch, search keystroke, opening a client, peak memory.

Prints medians and their ratio to the targets (<= 1.0 meets the target), with the load average at the
time of each measurement. Not run as a test.

Usage:
    python bench/bench_tui.py [--demo-model DIR --demo-clients FILE] [--big-model DIR --big-clients FILE]
                              [--launch-repeats 5] [--keystrokes 100] [--clients-opened 30]
                              [--skip-launch] [--skip-cold] [--cold-repeats 3] [--cold-versus TREE]
                              [--only launch|cold|terminal|in-app ...]

Defaults: the bundled demo (credit_tui/demo) when built; the big portfolio at /tmp/big356/clients.parquet
(356,255 synthetic clients: application_train + application_test of `trainer synth --clients 307511`,
history tables beside it) scored with the demo-sized model.

Everything measured from outside runs `credit-tui` in a detached tmux pane (120x40) and polls
`tmux capture-pane -p` in a tight loop, so the figures are what an advisor sees in a real terminal:

* launch: time until the first client row is drawn (and until every client is scored); for the big
  portfolio with a cold history cache and with a warm one, separately; for the cold one also the CPU
  time of the app and of its history child until every client is scored. Cold means a first opening: the
  app runs with an empty cache folder of its own (XDG_CACHE_HOME), so it hashes the history files and
  aggregates them (in a child process); the user's cache is left alone. `--only cold` runs that alone.
* keystroke (terminal): 100 keys (digits building a 5-digit ID prefix, then 5 backspaces, repeated) sent
  with `tmux send-keys`, each timed until the pane shows the expected "N of TOTAL" count and first row;
  keys 0.2 s apart after the previous change was seen (an advisor typing; an idle key applies at once).
  The app's own share (filter/sort + table update, per key) is written by the app when
  CREDIT_TUI_TIMINGS=FILE is set and reported beside it.
* open client (terminal): Enter on a row until the explanation is drawn, median and p95 over the clients
  opened; beside it the app's own figures (CREDIT_TUI_TIMINGS): from the key event to the frame drawn,
  its laps (queued before the handler, explain, fill the panes, draw), the main thread's CPU time and the
  time spent in garbage collections, so a run on a busy machine still tells what the app itself costs.
* peak RSS: VmHWM of the credit-tui process itself (from /proc/PID/status) while it runs in tmux, after
  every client is scored and one client was opened; with the history cache cold and warm.
* in-app (headless `run_test`): the query alone (numpy filter/sort + table update) and `open_client`
  -> explanation shown, median over 30 clients, plus `scorer.explain` alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "credit_tui" / "demo"
TARGETS = {
    "launch_demo": 2.0,
    "launch_big": 5.0,
    "cold_first": 2.0,
    "cold_scored": 8.0,
    "keystroke": 0.050,
    "open_client": 0.100,
    "open_client_p95": 0.200,
    "rss_gb": 1.5,
}
#: A client row: ID, work-queue status, model decision.
ROW = re.compile(
    r"^\s*\d{6,}\s+(undecided|decided|overridden|counter-\S*)\s+(ACCEPT|REVIEW|REFUSE|…)", re.MULTILINE
)


def _bin() -> str:
    local = ROOT / ".venv" / "bin" / "credit-tui"
    return str(local) if local.exists() else "credit-tui"


def load_average() -> str:
    """The 1-minute load average and the number of cores, e.g. "load 1.23/2 cores"."""
    return f"load {os.getloadavg()[0]:.2f}/{os.cpu_count()} cores"


class Pane:
    """`credit-tui` running in a detached tmux session (a real terminal for the app)."""

    def __init__(self, args: list[str], size: str = "120x40", env: dict[str, str] | None = None) -> None:
        self.session = f"bench-tui-{os.getpid()}-{time.monotonic_ns()}"
        cols, rows = size.split("x")
        exports = " ".join(f"{k}={v}" for k, v in {"TERM": "xterm-256color", **(env or {})}.items())
        self.command = " ".join([_bin(), *args])
        tmux = ["tmux", "new-session", "-d", "-s", self.session, "-x", cols, "-y", rows]
        for attempt in range(3):  # a tmux server that is just exiting can refuse the first connection
            if subprocess.run([*tmux, f"exec env {exports} {self.command}"], check=False).returncode == 0:
                break
            time.sleep(0.5 * (attempt + 1))
        else:
            raise RuntimeError(f"tmux could not start {self.command}")
        self.started = time.perf_counter()

    def capture(self) -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.session], capture_output=True, text=True, check=False
        ).stdout

    def send(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.session, *keys], check=False)

    def wait_for(self, found: Any, timeout: float = 60.0, pause: float = 0.0) -> tuple[float, str]:
        """Poll the pane until ``found(screen)`` is true; seconds since the call and the screen."""
        t0 = time.perf_counter()
        while True:
            screen = self.capture()
            now = time.perf_counter() - t0
            if found(screen):
                return now, screen
            if now > timeout:
                raise TimeoutError(f"pane never showed the expected screen; last screen:\n{screen}")
            if pause:
                time.sleep(pause)

    def app_pid(self) -> int:
        """PID of the credit-tui process (the pane's process: it is started with exec)."""
        out = subprocess.run(
            ["tmux", "list-panes", "-t", self.session, "-F", "#{pane_pid}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return int(out.split()[0])

    def close(self) -> None:
        self.send("q")
        time.sleep(0.3)
        subprocess.run(["tmux", "kill-session", "-t", self.session], check=False, capture_output=True)


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user + system) of a running process and of the children it has waited for.

    The app waits for its history child (a cold launch), so the second figure is the child's CPU.
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    own = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    children = (int(fields[13]) + int(fields[14])) / ticks  # cutime, cstime
    return own, children


def vm_hwm_gb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a running process, in GB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024 / 1024  # type: ignore[union-attr]


def launch_once(
    args: list[str],
    size: str = "120x40",
    timeout: float = 300.0,
    open_one: bool = False,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Seconds to the first client row and to "clients scored"; with ``open_one``, the app's VmHWM after
    scoring and opening the first client."""
    pane = Pane(args, size, env)
    first = scored = None
    result: dict[str, Any] = {}
    try:
        while time.perf_counter() - pane.started < timeout:
            screen = pane.capture()
            now = time.perf_counter() - pane.started
            if first is None and ROW.search(screen):
                first = now
            if first is not None and "clients scored" in screen:
                scored = now
                result["cpu_app_s"], result["cpu_child_s"] = cpu_seconds(pane.app_pid())
                break
            time.sleep(0.01)
        if open_one and scored is not None:
            pane.send("Enter")
            pane.wait_for(lambda screen: EXPLAINED in screen, timeout=60, pause=0.01)
            time.sleep(1.0)  # the population histogram is computed in a worker after the explanation
            result["peak_rss_gb"] = vm_hwm_gb(pane.app_pid())
    finally:
        pane.close()
    if first is None:
        raise RuntimeError(f"no client row within {timeout} s for {pane.command}")
    result.update(first=first, scored=scored)
    return result


EXPLAINED = "the threshold ("  # in the verdict header of a client screen once the explanation is shown


def bench_launch(
    name: str, args: list[str], repeats: int, cold: bool = False, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Median launch figures over ``repeats`` runs; ``cold``: each run with a fresh, empty cache folder."""
    firsts, scoreds, rss = [], [], []
    loads: list[float] = []
    cpus: list[tuple[float, float]] = []
    for _ in range(repeats):
        cache_home = tempfile.mkdtemp(prefix="bench-tui-cold-cache-") if cold else None
        loads.append(os.getloadavg()[0])
        try:
            cache_env = {"XDG_CACHE_HOME": cache_home} if cache_home else {}
            run = launch_once(args, open_one=True, env={**(env or {}), **cache_env})
        finally:
            if cache_home is not None:
                shutil.rmtree(cache_home, ignore_errors=True)
        firsts.append(run["first"])
        if run["scored"] is not None:
            scoreds.append(run["scored"])
        if "peak_rss_gb" in run:
            rss.append(run["peak_rss_gb"])
        if "cpu_app_s" in run:
            cpus.append((run["cpu_app_s"], run["cpu_child_s"]))
    return {
        "name": name,
        "first_usable_s": statistics.median(firsts),
        "all_scored_s": statistics.median(scoreds) if scoreds else None,
        "peak_rss_gb": max(rss) if rss else None,
        "runs": len(firsts),
        "cpu_app_s": statistics.median(c[0] for c in cpus) if cpus else None,
        "cpu_child_s": statistics.median(c[1] for c in cpus) if cpus else None,
        "load": f"load {statistics.median(loads):.2f}/{os.cpu_count()} cores",
    }


def bench_cold_versus(args: list[str], tree: Path, repeats: int) -> None:
    """Cold launches alternating between another source tree of the project and this one.

    The other tree (e.g. ``git worktree add /tmp/base main``) runs on this venv with ``PYTHONPATH`` set
    to it (its history child too), so both see the same machine, one launch after the other.
    """
    runs: dict[str, list[dict[str, Any]]] = {"other": [], "this": []}
    for _ in range(repeats):
        for name, env in (("other", {"PYTHONPATH": str(tree)}), ("this", {})):
            runs[name].append(bench_launch(name, args, 1, cold=True, env=env))
    for name, results in runs.items():
        where = tree if name == "other" else ROOT
        keys = ("first_usable_s", "all_scored_s", "cpu_app_s", "cpu_child_s")
        median = {k: statistics.median(r[k] for r in results if r[k] is not None) for k in keys}
        print(
            f"cold {name:5s} {where}: first rows {median['first_usable_s']:.2f} s, all scored "
            f"{median['all_scored_s']:.2f} s, CPU app {median['cpu_app_s']:.2f} s + child "
            f"{median['cpu_child_s']:.2f} s (medians of {repeats}; {', '.join(r['load'] for r in results)})"
        )


def history_cache_file(model: Path, clients: Path) -> Path | None:
    """The user-cache file holding the big portfolio's history aggregates (None: no history)."""
    from credit_tui.services import manifest_history_tables
    from trainer.data import find_table
    from trainer.features import history_tables_used
    from trainer.history_cache import cache_file_name, user_cache_dir
    from trainer.schema import HISTORY_TABLES

    tables = manifest_history_tables(model)
    folder = clients.parent
    paths = {name: path for name in HISTORY_TABLES if (path := find_table(folder, name)) is not None}
    if tables is not None:
        paths = {name: path for name, path in paths.items() if name in set(tables)}
    used = history_tables_used(paths)
    if not used:
        return None
    return user_cache_dir() / cache_file_name({name: paths[name] for name in used})


def _ids_of(clients: Path) -> np.ndarray[Any, Any]:
    import pandas as pd

    if clients.suffix == ".parquet":
        frame = pd.read_parquet(clients, columns=["SK_ID_CURR"])
    else:
        frame = pd.read_csv(clients, usecols=["SK_ID_CURR"])
    return frame["SK_ID_CURR"].to_numpy(dtype=np.int64)


def keystroke_plan(ids: np.ndarray[Any, Any], keystrokes: int) -> list[tuple[str, str]]:
    """(tmux key, prefix after it): 5 digits of a client ID, then 5 backspaces, over spread-out clients."""
    plan: list[tuple[str, str]] = []
    for client in ids[:: max(1, len(ids) // 50)]:
        digits = str(int(client))[:5]
        for i in range(len(digits)):
            plan.append((digits[i], digits[: i + 1]))
        for i in range(len(digits) - 1, -1, -1):
            plan.append(("BSpace", digits[:i]))
        if len(plan) >= keystrokes:
            break
    return plan[:keystrokes]


def expected_count(ids: np.ndarray[Any, Any], id_strings: np.ndarray[Any, Any], prefix: str) -> str:
    """The "row X of N (TOTAL clients)" text the pane shows for ``prefix`` (from "of")."""
    hits = int(np.char.startswith(id_strings, prefix).sum()) if prefix else len(ids)
    return f"of {hits:,} ·" if hits == len(ids) else f"of {hits:,} ({len(ids):,} clients)"


def table_shows(screen: str, count: str, prefix: str) -> bool:
    """The pane shows ``count`` and a table whose rows all match ``prefix`` (at least one row unless empty).

    The first row is not predictable (the cursor stays on the highlighted client when it still matches),
    so every visible row is checked instead.
    """
    if count not in screen:
        return False
    rows = [match.group(0).split()[0] for match in ROW.finditer(screen)]
    if count.startswith("of 0 "):
        return not rows
    return bool(rows) and all(row.startswith(prefix) for row in rows)


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank below)."""
    return sorted(values)[int(0.95 * (len(values) - 1))]


def app_open_lines(text: str) -> list[dict[str, float]]:
    """The app's own ``open`` timings (CREDIT_TUI_TIMINGS): seconds key -> frame drawn, and its laps in ms."""
    opens = []
    for line in text.splitlines():
        if line.startswith("open "):
            _, seconds, *fields = line.split()
            entry = {"s": float(seconds)}
            entry.update({k: float(v) for k, v in (field.split("=") for field in fields)})
            opens.append(entry)
    return opens


def describe_app_opens(opens: list[dict[str, float]]) -> str:
    """Median and p95 of the app's own open time, with the median of each lap and the slowest opens."""
    if not opens:
        return "no open timings written by the app"
    totals = [entry["s"] for entry in opens]
    laps = [key for key in opens[0] if key not in ("s", "client")]
    medians = ", ".join(f"{key} {statistics.median(e[key] for e in opens):.1f}" for key in laps)
    slow = sorted(opens, key=lambda e: e["s"])[-3:]
    slowest = "; ".join(
        f"{e['s'] * 1000:.0f} ms (" + ", ".join(f"{k} {e[k]:.0f}" for k in laps) + ")" for e in slow
    )
    cpu = [entry["cpu"] for entry in opens]
    return (
        f"app's own key->frame drawn median {statistics.median(totals) * 1000:.1f} ms, "
        f"p95 {p95(totals) * 1000:.1f} ms over {len(opens)} (main thread CPU median "
        f"{statistics.median(cpu):.1f} ms, p95 {p95(cpu):.1f} ms, which load inflates far less); "
        f"median laps (ms) {medians}; slowest: {slowest}"
    )


def bench_terminal(model: Path, clients: Path, keystrokes: int, opened: int) -> dict[str, Any]:
    """Keystroke -> updated table and Enter -> client explained, in a tmux pane (see the module doc)."""
    ids = _ids_of(clients)
    id_strings = ids.astype(str)
    plan = keystroke_plan(ids, keystrokes)
    expected = [expected_count(ids, id_strings, prefix) for _, prefix in plan]
    timings_file = Path(f"/tmp/bench-tui-timings-{os.getpid()}.txt")
    timings_file.unlink(missing_ok=True)
    pane = Pane(
        ["--model", str(model), "--clients", str(clients)], env={"CREDIT_TUI_TIMINGS": str(timings_file)}
    )
    result: dict[str, Any] = {"clients": len(ids)}
    try:
        pane.wait_for(lambda screen: "clients scored" in screen, timeout=600, pause=0.05)
        time.sleep(1.0)
        # the cost of one poll bounds the resolution of every figure below
        polls = []
        for _ in range(20):
            t0 = time.perf_counter()
            pane.capture()
            polls.append(time.perf_counter() - t0)
        result["poll_s"] = statistics.median(polls)
        pane.send("/")
        time.sleep(0.3)
        loads = [os.getloadavg()[0]]
        times, previous = [], expected_count(ids, id_strings, "")
        skipped = 0
        for (key, prefix), count in zip(plan, expected, strict=True):
            time.sleep(0.2)
            t0 = time.perf_counter()
            pane.send(key)
            pane.wait_for(lambda screen, c=count, p=prefix: table_shows(screen, c, p), timeout=30)
            if count == previous:
                skipped += 1  # the count does not change: not a measurement of the table update
            else:
                times.append(time.perf_counter() - t0)
            previous = count
        loads.append(os.getloadavg()[0])
        result["keystroke_s"] = statistics.median(times)
        result["keystroke_p95_s"] = sorted(times)[int(0.95 * (len(times) - 1))]
        result["keystrokes"] = len(times)
        result["keystrokes_skipped"] = skipped
        result["keystroke_load"] = f"load {statistics.mean(loads):.2f}/{os.cpu_count()} cores"
        app_times = [
            float(line.split()[1])
            for line in timings_file.read_text().splitlines()
            if line.startswith("apply ")
        ]
        app_times = app_times[-len(plan) :]
        result["apply_s"] = statistics.median(app_times) if app_times else None

        pane.send("Escape")  # back to the table, which keeps the last (empty) prefix
        time.sleep(0.5)
        open_times = []
        loads = [os.getloadavg()[0]]
        for _ in range(opened):
            time.sleep(0.2)
            t0 = time.perf_counter()
            pane.send("Enter")
            pane.wait_for(lambda screen: EXPLAINED in screen, timeout=30)
            open_times.append(time.perf_counter() - t0)
            time.sleep(0.3)
            pane.send("Escape")
            pane.wait_for(
                lambda screen: EXPLAINED not in screen and ROW.search(screen) is not None, timeout=30
            )
            pane.send("Down")
        loads.append(os.getloadavg()[0])
        result["open_s"] = statistics.median(open_times)
        result["open_p95_s"] = p95(open_times)
        result["opened"] = len(open_times)
        result["open_load"] = f"load {statistics.mean(loads):.2f}/{os.cpu_count()} cores"
        time.sleep(0.3)
        result["app_opens"] = app_open_lines(timings_file.read_text())[-opened:]
    finally:
        pane.close()
        timings_file.unlink(missing_ok=True)
    return result


async def bench_in_app(model: Path, clients: Path, keystrokes: int, opened: int) -> dict[str, Any]:
    from credit_tui.app import create_app
    from credit_tui.screens.client import ClientScreen
    from credit_tui.services import load_services

    started = time.perf_counter()
    services = load_services(model, clients, "bench")
    load_s = time.perf_counter() - started
    app = create_app(services=services)
    result: dict[str, Any] = {"clients": len(services.portfolio), "load_s": load_s}
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.scoring_done:
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause()
        search = app.search_screen
        ids = [str(int(i)) for i in services.portfolio.client_ids[:: max(1, len(services.portfolio) // 50)]]
        keys: list[str] = []
        for client in ids:
            for ch in client[:5]:
                keys.append(ch)
            keys.extend(["backspace"] * 5)
            if len(keys) >= keystrokes:
                break
        keys = keys[:keystrokes]
        search.search_input.focus()
        await pilot.pause()
        press_times, query_times, shown = [], [], []
        for key in keys:
            await asyncio.sleep(0.12)
            t0 = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            press_times.append(time.perf_counter() - t0)
            query_times.append(search.last_apply_seconds)
            shown.append(len(search.table.index))
        result["keystroke_press_to_redraw_s"] = statistics.median(press_times)
        result["keystroke_query_s"] = statistics.median(query_times)
        result["keystroke_p95_s"] = sorted(press_times)[int(0.95 * (len(press_times) - 1))]
        result["keystrokes"] = len(press_times)
        result["rows_shown_range"] = (min(shown), max(shown))

        search.search_input.value = ""
        await pilot.pause(0.2)
        client_ids = [
            int(i) for i in services.portfolio.client_ids[:: max(1, len(services.portfolio) // opened)]
        ]
        open_times, explain_times = [], []
        for client_id in client_ids[:opened]:
            t0 = time.perf_counter()
            app.open_client(client_id)
            while True:
                await asyncio.sleep(0.001)
                screen = app.screen
                if (
                    isinstance(screen, ClientScreen)
                    and screen.client_id == client_id
                    and screen.explanation is not None
                ):
                    break
            await pilot.pause()
            open_times.append(time.perf_counter() - t0)
            record = services.portfolio.record(client_id)
            history = services.portfolio.history_record(client_id)
            t1 = time.perf_counter()
            services.scorer.explain(record, history)
            explain_times.append(time.perf_counter() - t1)
        result["open_client_s"] = statistics.median(open_times)
        result["open_client_p95_s"] = sorted(open_times)[int(0.95 * (len(open_times) - 1))]
        result["explain_only_s"] = statistics.median(explain_times)
        result["opened"] = len(open_times)
    return result


def ratio(value: float | None, target: float) -> str:
    return "n/a" if value is None else f"{value / target:.2f}"


SECTIONS = ("launch", "cold", "terminal", "in-app")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_demo_model = DEMO / "model" if (DEMO / "model").exists() else Path("/tmp/tuimodel")
    default_demo_clients = (
        DEMO / "clients" / "application_test.parquet"
        if (DEMO / "clients").exists()
        else Path("/tmp/tuidata/application_test.parquet")
    )
    parser.add_argument("--demo-model", type=Path, default=default_demo_model)
    parser.add_argument("--demo-clients", type=Path, default=default_demo_clients)
    parser.add_argument("--big-model", type=Path, default=default_demo_model)
    parser.add_argument("--big-clients", type=Path, default=Path("/tmp/big356/clients.parquet"))
    parser.add_argument("--launch-repeats", type=int, default=5)
    parser.add_argument("--audit-db", type=Path, help="audit log the app writes (default: the user's)")
    parser.add_argument("--keystrokes", type=int, default=100)
    parser.add_argument("--clients-opened", type=int, default=30)
    parser.add_argument("--skip-launch", action="store_true", help="same as --only terminal in-app")
    parser.add_argument(
        "--skip-cold", action="store_true", help="no cold-cache launch (it aggregates the whole history)"
    )
    parser.add_argument("--cold-repeats", type=int, default=3, help="cold launches (median)")
    parser.add_argument(
        "--cold-versus",
        type=Path,
        metavar="TREE",
        help="cold: alternate the launches with another source tree of the project (e.g. a git worktree "
        "of main), on this venv, and print both",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        default=[s for s in SECTIONS if s != "cold"],
        help="launch: demo, big cold and warm; cold: the big cold launch alone",
    )
    args = parser.parse_args()
    sections = set(args.only) - ({"launch"} if args.skip_launch else set())
    if "launch" in sections and not args.skip_cold:
        sections.add("cold")
    if sections & {"launch", "cold", "terminal"} and shutil.which("tmux") is None:
        sys.exit("bench_tui: tmux is needed (apt-get install -y tmux)")

    print(f"demo:  {args.demo_model} + {args.demo_clients}")
    print(f"big:   {args.big_model} + {args.big_clients}")
    audit = ["--audit-db", str(args.audit_db)] if args.audit_db else []
    big_args = ["--model", str(args.big_model), "--clients", str(args.big_clients), *audit]
    if "launch" in sections:
        demo = bench_launch(
            "demo",
            ["--model", str(args.demo_model), "--clients", str(args.demo_clients), *audit],
            args.launch_repeats,
        )
        print(
            f"launch demo        first usable {demo['first_usable_s']:.2f} s "
            f"(ratio {ratio(demo['first_usable_s'], TARGETS['launch_demo'])}), "
            f"all scored {demo['all_scored_s'] or float('nan'):.2f} s, median of {demo['runs']} "
            f"[{demo['load']}]"
        )
    if "cold" in sections and args.cold_versus is not None:
        bench_cold_versus(big_args, args.cold_versus.resolve(), args.cold_repeats)
    elif "cold" in sections:
        big = bench_launch("big cold", big_args, args.cold_repeats, cold=True)
        print(
            f"launch 356k cold   first rows {big['first_usable_s']:.2f} s "
            f"(ratio {ratio(big['first_usable_s'], TARGETS['cold_first'])}), "
            f"all scored {big['all_scored_s'] or float('nan'):.2f} s "
            f"(ratio {ratio(big['all_scored_s'], TARGETS['cold_scored'])}), median of {big['runs']} "
            f"[{big['load']}]"
        )
        print(
            f"peak RSS cold      {big['peak_rss_gb'] or float('nan'):.2f} GB, credit-tui process VmHWM "
            f"after scoring and opening a client (ratio {ratio(big['peak_rss_gb'], TARGETS['rss_gb'])})"
        )
        if big["cpu_app_s"] is not None:
            print(
                f"CPU cold           app {big['cpu_app_s']:.2f} s + history child {big['cpu_child_s']:.2f} s "
                "until every client is scored (medians; what load inflates least)"
            )
    if "launch" in sections:
        cache = history_cache_file(args.big_model, args.big_clients)
        label = "warm" if cache is not None else "no history"
        if cache is not None and not cache.is_file():
            launch_once(big_args)  # build the cache first
        big = bench_launch(f"big {label}", big_args, max(1, args.launch_repeats // 2))
        print(
            f"launch 356k {label:<6} first usable {big['first_usable_s']:.2f} s "
            f"(ratio {ratio(big['first_usable_s'], TARGETS['launch_big'])}), "
            f"all scored {big['all_scored_s'] or float('nan'):.2f} s, median of {big['runs']} "
            f"[{big['load']}]"
        )
        print(
            f"peak RSS {label:<9} {big['peak_rss_gb'] or float('nan'):.2f} GB, credit-tui process VmHWM "
            f"after scoring and opening a client (ratio {ratio(big['peak_rss_gb'], TARGETS['rss_gb'])})"
        )
    if "terminal" in sections:
        term = bench_terminal(args.big_model, args.big_clients, args.keystrokes, args.clients_opened)
        apply_ms = "n/a" if term["apply_s"] is None else f"{term['apply_s'] * 1000:.2f} ms"
        print(
            f"terminal (tmux 120x40, {term['clients']:,} clients; "
            f"one capture-pane poll {term['poll_s'] * 1000:.1f} ms)"
        )
        print(
            f"keystroke          key->table median {term['keystroke_s'] * 1000:.1f} ms "
            f"(ratio {ratio(term['keystroke_s'], TARGETS['keystroke'])}), "
            f"p95 {term['keystroke_p95_s'] * 1000:.1f} ms, {term['keystrokes']} keystrokes "
            f"({term['keystrokes_skipped']} without visible change skipped); "
            f"app's query+table update median {apply_ms} [{term['keystroke_load']}]"
        )
        print(
            f"open client        Enter->explained median {term['open_s'] * 1000:.1f} ms "
            f"(ratio {ratio(term['open_s'], TARGETS['open_client'])}), "
            f"p95 {term['open_p95_s'] * 1000:.1f} ms "
            f"(ratio {ratio(term['open_p95_s'], TARGETS['open_client_p95'])}), "
            f"{term['opened']} clients [{term['open_load']}]"
        )
        print(f"                   {describe_app_opens(term['app_opens'])}")
    if "in-app" in sections:
        load = load_average()
        in_app = asyncio.run(
            bench_in_app(args.big_model, args.big_clients, args.keystrokes, args.clients_opened)
        )
        print(
            f"in-app headless ({in_app['clients']:,} clients, services loaded in {in_app['load_s']:.1f} s) "
            f"[{load}]"
        )
        print(
            f"keystroke          query only median {in_app['keystroke_query_s'] * 1000:.2f} ms; "
            f"pilot press->redraw {in_app['keystroke_press_to_redraw_s'] * 1000:.1f} ms "
            f"(includes the pilot harness), p95 {in_app['keystroke_p95_s'] * 1000:.1f} ms, "
            f"{in_app['keystrokes']} keystrokes, rows shown {in_app['rows_shown_range']}"
        )
        print(
            f"open client        median {in_app['open_client_s'] * 1000:.1f} ms "
            f"(ratio {ratio(in_app['open_client_s'], TARGETS['open_client'])}), "
            f"p95 {in_app['open_client_p95_s'] * 1000:.1f} ms "
            f"(ratio {ratio(in_app['open_client_p95_s'], TARGETS['open_client_p95'])}), "
            f"scorer.explain alone {in_app['explain_only_s'] * 1000:.1f} ms, "
            f"{in_app['opened']} clients"
        )


if __name__ == "__main__":
    main()
