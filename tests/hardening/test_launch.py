"""A launch that must fail exits 2 with one line, promptly, every time (loader threads never hang it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from trainer.bundle import Bundle

from .strategies import count

#: Launches in the loop (the issue: 20 out of 20) and how many run at once.
LAUNCHES = int(os.environ.get("HARDENING_LAUNCHES", "20"))
PARALLEL = 4
#: Far above a normal failing launch (2-4 s of imports): a hang or an abort is what this catches.
TIMEOUT_S = 60


def test_a_failing_launch_exits_2_promptly_every_time(
    fitted_bundle: Bundle, synth_dir: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(fitted_bundle.path, bundle)
    model = bundle / "model.ubj"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF  # tampered: the bundle check fails while the CSV portfolio still loads
    model.write_bytes(bytes(data))
    clients = synth_dir / "application_test.csv"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data")}
    command = [sys.executable, "-m", "credit_tui", "--model", str(bundle), "--clients", str(clients)]

    def launch(i: int) -> tuple[int, str, float]:
        start = time.monotonic()
        done = subprocess.run(
            [*command, "--audit-db", str(tmp_path / f"audit{i}.sqlite3")],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        return done.returncode, done.stderr, time.monotonic() - start

    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(launch, range(LAUNCHES)))
    for code, err, _ in results:
        count("failing launches")
        assert code == 2, err
        assert err.strip().count("\n") == 0 and "model.ubj" in err and "Fatal Python error" not in err
    slowest = max(seconds for *_, seconds in results)
    print(f"\n{LAUNCHES} failing launches: exit 2 each, slowest {slowest:.1f} s ({PARALLEL} at a time)")
