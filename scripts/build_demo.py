"""Rebuild the demo that ``credit-tui`` opens with no arguments (package data in ``credit_tui/demo/``).

    python scripts/build_demo.py [--clients 20000] [--seed 42]
    python scripts/build_demo.py --sign-only   # only re-sign the demo bundle (after another rebuild)

Generates synthetic tables with ``trainer synth``, trains a bundle on application_train with
``trainer fit`` (review band of 2 PD points), and keeps application_test with the history rows of
those clients only, as parquet, so the demo portfolio is small and loads fast. Deterministic for a
given seed and library versions (but for the dates in the manifest and signature).

The bundle is then released (``signature.json``) with the committed DEMO-ONLY key in
``scripts/DEMO-ONLY-release-key/``: the app trusts that key for the bundled demo only (see its README).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from trainer.data import read_table
from trainer.release import PRIVATE_KEY_FILE, release
from trainer.schema import HISTORY_TABLES
from trainer.synth import generate
from trainer.train import FitConfig, fit_bundle

DEMO_DIR = Path(__file__).resolve().parent.parent / "credit_tui" / "demo"
#: Signs the demo bundle; committed on purpose and trusted by the app for the bundled demo only.
DEMO_KEY = Path(__file__).resolve().parent / "DEMO-ONLY-release-key" / PRIVATE_KEY_FILE
DEMO_RELEASER = "demo build (DEMO-ONLY key)"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--sign-only", action="store_true", help="only release the existing demo bundle with the demo key"
    )
    args = parser.parse_args()
    if args.sign_only:
        done = release(DEMO_DIR / "model", DEMO_KEY, releaser=DEMO_RELEASER)
        print(f"demo bundle released by {done.releaser} with key {done.key_id}")
        return

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        generate(data, n_clients=args.clients, seed=args.seed)
        model_dir = DEMO_DIR / "model"
        fit_bundle(FitConfig(data_dir=data, out=model_dir, seed=args.seed, review_band=0.02, nthread=2))
        release(model_dir, DEMO_KEY, releaser=DEMO_RELEASER)

        clients_dir = DEMO_DIR / "clients"
        shutil.rmtree(clients_dir, ignore_errors=True)
        clients_dir.mkdir(parents=True)
        test = pd.read_csv(data / "application_test.csv")
        test.to_parquet(clients_dir / "application_test.parquet", index=False, compression="zstd")
        ids = set(test["SK_ID_CURR"])
        bureau_ids: set[int] = set()
        for name in HISTORY_TABLES:
            frame = pd.read_csv(data / f"{name}.csv")
            if "SK_ID_CURR" in frame.columns:
                frame = frame[frame["SK_ID_CURR"].isin(ids)]
            else:  # bureau_balance joins through bureau
                frame = frame[frame["SK_ID_BUREAU"].isin(bureau_ids)]
            if name == "bureau":
                bureau_ids = set(frame["SK_ID_BUREAU"])
            frame.to_parquet(clients_dir / f"{name}.parquet", index=False, compression="zstd")
            read_table(clients_dir / f"{name}.parquet", name)  # fail now, not in the app, if it does not read
        # No history cache is shipped: caches live only in the user's cache folder (trainer.history_cache).
    size = sum(p.stat().st_size for p in DEMO_DIR.rglob("*") if p.is_file())
    print(f"demo written to {DEMO_DIR} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
