"""How often the what-if hint can turn a near refusal into ACCEPT, over a portfolio (issue 12).

Usage:
    python bench/bench_whatif.py                                   # the bundled demo
    python bench/bench_whatif.py --model models/default --clients data/synth/application_test.csv

For every client the model refuses with a PD within ``--points`` (default 5) PD points above the
threshold, runs :func:`trainer.whatif.decision_change_hint` with its default bounds (credit down to
10 % of the amount, terms of 6 to 84 months) and counts the clients for whom it finds an ACCEPT, by
lever. The same for the REVIEW band. Prints counts, shares, the median time per hint and the load
average. Nothing here runs as a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter
from pathlib import Path

from trainer.portfolio import Portfolio
from trainer.scoring import Scorer
from trainer.whatif import decision_change_hint

DEMO = Path(__file__).resolve().parent.parent / "credit_tui" / "demo"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=DEMO / "model")
    parser.add_argument("--clients", type=Path, default=DEMO / "clients" / "application_test.parquet")
    parser.add_argument("--points", type=float, default=5.0, help="PD points above the threshold.")
    args = parser.parse_args()

    scorer = Scorer.load(args.model)
    portfolio = Portfolio.load(args.clients, tables=scorer.spec.history_tables)
    scores = scorer.score(portfolio.applications, portfolio.history)
    threshold = scorer.threshold
    near = scores["PD"] < threshold + args.points / 100
    print(
        f"{len(scores):,} clients; threshold {threshold:.4f}; review band {scorer.review_band}; "
        f"decisions {dict(Counter(scores['DECISION']))}"
    )
    for decision in ("REFUSE", "REVIEW"):
        chosen = scores[(scores["DECISION"] == decision) & near]
        levers: Counter[str] = Counter()
        found = 0
        seconds: list[float] = []
        for client in chosen["SK_ID_CURR"].astype(int):
            start = time.perf_counter()
            hint = decision_change_hint(scorer, portfolio.record(client), portfolio.history_record(client))
            seconds.append(time.perf_counter() - start)
            if hint.status == "found":
                found += 1
                levers.update(option.lever for option in hint.options)
        share = found / len(chosen) if len(chosen) else float("nan")
        median_ms = statistics.median(seconds) * 1000 if seconds else float("nan")
        print(
            f"{decision} with PD < threshold + {args.points:g} points: {len(chosen)} clients; "
            f"ACCEPT found for "
            f"{found} ({share:.1%}); options by lever {dict(levers)}; median {median_ms:.0f} ms per hint"
        )
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
