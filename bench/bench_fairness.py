"""What leaving the protected attributes out of the model costs and changes (issue 10's closing figures).

    python bench/bench_fairness.py --clients 20000 --seed 42 --work /tmp/credit-fairness [--demo]

Fits two bundles on the same synthetic data (same seed and settings as ``scripts/build_demo.py``): the
default one, without gender and family status, and one with them (``--allow-protected``). For each it
prints the validation ROC AUC, the approval rates of women and men (PD below the threshold) and their
ratio on the validation clients and on the scoring portfolio (application_test), and the share of
refused clients whose reasons are all client-facing. ``--demo`` also scores the bundled demo portfolio
with the bundled demo model. Prints the load average beside the figures.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from trainer.bundle import Bundle, load_bundle
from trainer.fairness import approval_ratio, fairness_groups, fairness_table
from trainer.policy import is_client_facing
from trainer.portfolio import Portfolio
from trainer.reasons import client_reasons
from trainer.scoring import Scorer
from trainer.synth import generate
from trainer.train import FitConfig, fit_bundle

PROTECTED = ("CODE_GENDER", "NAME_FAMILY_STATUS")


def portfolio_figures(bundle: Bundle, clients: Path) -> dict[str, float]:
    """Approval ratio women / men and the client-facing share of refused clients' reasons."""
    scorer = Scorer(bundle)
    portfolio = Portfolio.load(clients, tables=scorer.spec.history_tables)
    apps = portfolio.applications
    scores = scorer.score(apps, portfolio.history)
    pds = scores["PD"].to_numpy()
    table = fairness_table(fairness_groups(apps), pds < scorer.threshold, None)
    refused = scores.loc[scores["DECISION"] == "REFUSE", "SK_ID_CURR"].to_numpy(dtype=np.int64)
    clean = 0
    for client_id in refused:
        explanation = scorer.explain(
            portfolio.record(int(client_id)), portfolio.history_record(int(client_id))
        )
        reasons = client_reasons(explanation)
        clean += all(is_client_facing(f) for r in reasons for f in r.features) and 1 <= len(reasons) <= 4
    return {
        "clients": float(len(apps)),
        "refused": float(len(refused)),
        "client_facing_share": clean / len(refused) if len(refused) else float("nan"),
        "ratio_women_men": approval_ratio(table, "Women", "Men"),
        "approval_women": float(table.set_index("group").loc["Women", "approval_rate"]),
        "approval_men": float(table.set_index("group").loc["Men", "approval_rate"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work", type=Path, default=Path("/tmp/credit-fairness"))
    parser.add_argument("--demo", action="store_true", help="also score the bundled demo with its model")
    args = parser.parse_args()
    data = args.work / f"data-{args.clients}-{args.seed}"
    if not (data / "application_train.csv").is_file():
        generate(data, n_clients=args.clients, seed=args.seed)
    rows = []
    for name, allow in (("without protected inputs", ()), ("with gender and family status", PROTECTED)):
        out = args.work / f"model-{args.clients}-{args.seed}-{'with' if allow else 'without'}"
        start = time.perf_counter()
        bundle = fit_bundle(
            FitConfig(
                data_dir=data, out=out, seed=args.seed, review_band=0.02, nthread=2, allow_protected=allow
            )
        )
        seconds = time.perf_counter() - start
        assert bundle.manifest.fairness is not None
        card = bundle.manifest.fairness.groups
        rates = {g.group: g.approval_rate for g in card if g.dimension == "Gender"}
        figures = portfolio_figures(bundle, data / "application_test.csv")
        rows.append((name, bundle, rates, figures, seconds))
    load = os.getloadavg()
    print(
        f"synthetic {args.clients:,} clients, seed {args.seed}; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    base_auc = rows[0][1].manifest.validation.roc_auc
    for name, bundle, rates, figures, seconds in rows:
        auc = bundle.manifest.validation.roc_auc
        print(
            f"- {name}: validation ROC AUC {auc:.4f} (diff vs without {auc - base_auc:+.4f}); "
            f"validation approval women {rates['Women']:.4f} / men {rates['Men']:.4f} = "
            f"{rates['Women'] / rates['Men']:.4f}; portfolio ({figures['clients']:.0f} clients) approval "
            f"women {figures['approval_women']:.4f} / men {figures['approval_men']:.4f} = "
            f"{figures['ratio_women_men']:.4f}; refused {figures['refused']:.0f}, reasons all client-facing "
            f"{figures['client_facing_share']:.1%}; fit {seconds:.0f} s"
        )
    if args.demo:
        from credit_tui.cli import DEMO_CLIENTS, DEMO_MODEL

        demo = load_bundle(DEMO_MODEL)
        figures = portfolio_figures(demo, DEMO_CLIENTS)
        print(
            f"- bundled demo model {demo.model_id} (protected inputs: {demo.protected_inputs or 'none'}) on "
            f"the demo portfolio: approval women {figures['approval_women']:.4f} / men "
            f"{figures['approval_men']:.4f} = {figures['ratio_women_men']:.4f}; "
            f"refused {figures['refused']:.0f}, "
            f"reasons all client-facing {figures['client_facing_share']:.1%}"
        )


if __name__ == "__main__":
    main()
