"""Benchmarks of the advisor app: launch, search keystroke, opening a client, peak memory.

Prints medians and their ratio to the targets (<= 1.0 meets the target). Not run as a test.

Usage:
    python bench/bench_tui.py [--demo-model DIR --demo-clients FILE] [--big-model DIR --big-clients FILE]
                              [--launch-repeats 5] [--keystrokes 100] [--clients-opened 30] [--skip-launch]

Defaults: the bundled demo (credit_tui/demo) when built; the big portfolio at /tmp/big356/clients.parquet
(356,255 synthetic clients: application_train + application_test of `trainer synth --clients 307511`,
history tables beside it) scored with the demo-sized model.

* launch: `credit-tui` is started in a detached tmux pane; the time until the first client row is drawn
  (and until every client is scored) is read from outside by polling the pane.
* keystroke: in-process (headless `run_test`), 100 digits/backspaces into the search box at 356,255
  clients, keystrokes 120 ms apart (the search applies at once when idle for 100 ms, else debounced);
  reports press -> table redrawn, and the query alone (numpy filter/sort + table update).
* open client: `open_client` -> explanation shown and screen redrawn, median over 30 clients.
* peak RSS: a child process loads the big portfolio, scores it, opens a client (VmHWM).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "credit_tui" / "demo"
TARGETS = {"launch_demo": 2.0, "keystroke": 0.050, "open_client": 0.150, "rss_gb": 1.5}
ROW = re.compile(r"^\s*\d{6,}\s+(ACCEPT|REVIEW|REFUSE|…)", re.MULTILINE)


def _bin() -> str:
    local = ROOT / ".venv" / "bin" / "credit-tui"
    return str(local) if local.exists() else "credit-tui"


def launch_once(args: list[str], size: str = "120x40", timeout: float = 300.0) -> tuple[float, float | None]:
    """Seconds to the first client row, and to "clients scored" (None if not seen within the timeout)."""
    session = f"bench-tui-{os.getpid()}-{time.monotonic_ns()}"
    cols, rows = size.split("x")
    command = " ".join([_bin(), *args])
    tmux = ["tmux", "new-session", "-d", "-s", session, "-x", cols, "-y", rows]
    for attempt in range(3):  # a tmux server that is just exiting can refuse the first connection
        if subprocess.run([*tmux, f"TERM=xterm-256color {command}"], check=False).returncode == 0:
            break
        time.sleep(0.5 * (attempt + 1))
    else:
        raise RuntimeError(f"tmux could not start {command}")
    started = time.perf_counter()
    first = scored = None
    try:
        while time.perf_counter() - started < timeout:
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True, check=False
            ).stdout
            now = time.perf_counter() - started
            if first is None and ROW.search(screen):
                first = now
            if first is not None and "clients scored" in screen:
                scored = now
                break
            time.sleep(0.01)
    finally:
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=False)
        time.sleep(0.3)
        subprocess.run(["tmux", "kill-session", "-t", session], check=False, capture_output=True)
    if first is None:
        raise RuntimeError(f"no client row within {timeout} s for {command}")
    return first, scored


def bench_launch(name: str, args: list[str], repeats: int) -> dict[str, Any]:
    firsts, scoreds = [], []
    for _ in range(repeats):
        first, scored = launch_once(args)
        firsts.append(first)
        if scored is not None:
            scoreds.append(scored)
    return {
        "name": name,
        "first_usable_s": statistics.median(firsts),
        "all_scored_s": statistics.median(scoreds) if scoreds else None,
        "runs": len(firsts),
    }


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


def rss_child(model: Path, clients: Path) -> None:
    """Load, score and open one client in the app; print peak RSS in GB (VmHWM)."""

    async def run() -> None:
        from credit_tui.app import create_app
        from credit_tui.screens.client import ClientScreen
        from credit_tui.services import load_services

        services = load_services(model, clients, "bench")
        app = create_app(services=services)
        async with app.run_test(size=(120, 40)) as pilot:
            while not app.scoring_done:
                await pilot.pause(0.05)
            await app.workers.wait_for_complete()
            app.open_client(int(services.portfolio.client_ids[0]))
            while not (isinstance(app.screen, ClientScreen) and app.screen.explanation is not None):
                await pilot.pause(0.01)
            await pilot.press("f")
            await app.workers.wait_for_complete()
            await pilot.pause()

    asyncio.run(run())
    status = Path("/proc/self/status").read_text()
    hwm_kb = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    print(json.dumps({"peak_rss_gb": hwm_kb / 1024 / 1024}))


def bench_rss(model: Path, clients: Path) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--rss-child", "--big-model", str(model), "--big-clients", str(clients)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["peak_rss_gb"])


def ratio(value: float | None, target: float) -> str:
    return "n/a" if value is None else f"{value / target:.2f}"


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
    parser.add_argument("--keystrokes", type=int, default=100)
    parser.add_argument("--clients-opened", type=int, default=30)
    parser.add_argument("--skip-launch", action="store_true")
    parser.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.big_model, args.big_clients)
        return

    print(f"demo:  {args.demo_model} + {args.demo_clients}")
    print(f"big:   {args.big_model} + {args.big_clients}")
    if not args.skip_launch:
        if shutil.which("tmux") is None:
            sys.exit("bench_tui: tmux is needed for the launch benchmark (apt-get install -y tmux)")
        demo = bench_launch(
            "demo",
            ["--model", str(args.demo_model), "--clients", str(args.demo_clients)],
            args.launch_repeats,
        )
        print(
            f"launch demo      first usable {demo['first_usable_s']:.2f} s "
            f"(ratio {ratio(demo['first_usable_s'], TARGETS['launch_demo'])}), "
            f"all scored {demo['all_scored_s'] or float('nan'):.2f} s, median of {demo['runs']}"
        )
        big = bench_launch(
            "big",
            ["--model", str(args.big_model), "--clients", str(args.big_clients)],
            max(1, args.launch_repeats // 2),
        )
        print(
            f"launch 356k      first usable {big['first_usable_s']:.2f} s, "
            f"all scored {big['all_scored_s'] or float('nan'):.2f} s, median of {big['runs']}"
        )
    in_app = asyncio.run(bench_in_app(args.big_model, args.big_clients, args.keystrokes, args.clients_opened))
    print(f"in-app ({in_app['clients']:,} clients, services loaded in {in_app['load_s']:.1f} s)")
    print(
        f"keystroke        press->redraw median {in_app['keystroke_press_to_redraw_s'] * 1000:.1f} ms "
        f"(ratio {ratio(in_app['keystroke_press_to_redraw_s'], TARGETS['keystroke'])}), "
        f"p95 {in_app['keystroke_p95_s'] * 1000:.1f} ms, "
        f"query only {in_app['keystroke_query_s'] * 1000:.2f} ms, "
        f"{in_app['keystrokes']} keystrokes, rows shown {in_app['rows_shown_range']}"
    )
    print(
        f"open client      median {in_app['open_client_s'] * 1000:.1f} ms "
        f"(ratio {ratio(in_app['open_client_s'], TARGETS['open_client'])}), "
        f"p95 {in_app['open_client_p95_s'] * 1000:.1f} ms, "
        f"scorer.explain alone {in_app['explain_only_s'] * 1000:.1f} ms, "
        f"{in_app['opened']} clients"
    )
    rss = bench_rss(args.big_model, args.big_clients)
    print(
        f"peak RSS         {rss:.2f} GB at {in_app['clients']:,} clients "
        f"(ratio {ratio(rss, TARGETS['rss_gb'])})"
    )


if __name__ == "__main__":
    main()
