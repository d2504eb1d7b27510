"""Helpers shared by the TUI tests (waiting for workers, reference scores, snapshots)."""

from __future__ import annotations

from typing import Any

import numpy as np
from textual.pilot import Pilot

from credit_tui.services import Services


async def ready(pilot: Pilot[Any]) -> None:
    """Wait until loading and scoring are done and the screen has settled."""
    app = pilot.app
    for _ in range(200):
        await pilot.pause(0.02)
        if getattr(app, "scoring_done", False):
            break
    await app.workers.wait_for_complete()
    await pilot.pause()


async def settle(pilot: Pilot[Any]) -> None:
    """Let workers finish and messages be handled."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def scores_of(services: Services) -> dict[int, tuple[float, str]]:
    """Batch scores of the whole portfolio: ID -> (PD, decision)."""
    frame = services.scorer.score(services.portfolio.applications, services.portfolio.history)
    ids = frame["SK_ID_CURR"].to_numpy(dtype=np.int64)
    return {
        int(i): (float(p), str(d))
        for i, p, d in zip(ids, frame["PD"].to_numpy(), frame["DECISION"].to_numpy(), strict=True)
    }
