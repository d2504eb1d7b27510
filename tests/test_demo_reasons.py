"""Over the whole bundled demo portfolio, no reason, letter or export names a hidden or protected feature."""

from __future__ import annotations

from datetime import date

import numpy as np

from credit_tui.cli import DEMO_CLIENTS, DEMO_MODEL
from credit_tui.letter import render_letter
from trainer.policy import is_client_facing, is_protected
from trainer.portfolio import Portfolio
from trainer.reasons import client_reasons
from trainer.registry import REGISTRY
from trainer.scoring import Scorer


def test_every_refused_demo_client_gets_only_client_facing_reasons() -> None:
    scorer = Scorer.load(DEMO_MODEL)
    portfolio = Portfolio.load(DEMO_CLIENTS, tables=scorer.spec.history_tables)
    scores = scorer.score(portfolio.applications, portfolio.history)
    not_accepted = scores.loc[scores["DECISION"] != "ACCEPT", "SK_ID_CURR"].to_numpy(dtype=np.int64)
    assert len(not_accepted) > 100
    hidden = [r.label.lower() for r in REGISTRY if not is_client_facing(r.name)]
    for client_id in not_accepted:
        explanation = scorer.explain(
            portfolio.record(int(client_id)), portfolio.history_record(int(client_id))
        )
        reasons = client_reasons(explanation)
        assert 1 <= len(reasons) <= 4
        for reason in reasons:
            assert all(is_client_facing(f) and not is_protected(f) for f in reason.features)
            assert not any(f"({label}:" in reason.text.lower() for label in hidden), reason.text
        if client_id % 25 == 0:  # the letter says exactly these reasons, and nothing hidden
            markdown, _ = render_letter(
                client_id=int(client_id),
                decision="REFUSE",
                date=date(2026, 3, 2),
                reasons=[r.render() for r in reasons],
                advisor="Alice Martin",
                model_id=scorer.bundle.model_id,
            )
            assert all(r.text in markdown.replace("\\", "") for r in reasons)
            assert not any(f"({label}:" in markdown.lower() for label in hidden)
