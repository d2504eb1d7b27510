"""Helpers shared by the TUI tests (waiting for workers, reference scores, snapshots)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from textual.app import App
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


async def until(pilot: Pilot[Any], condition: Callable[[], bool]) -> None:
    """Wait (up to 5 s) until ``condition()`` holds; fail the test otherwise."""
    for _ in range(250):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("the app never reached the expected state")


def error_dialog_text(app: App[Any]) -> str:
    """The message of the error dialog on top (the test fails when there is none)."""
    from textual.widgets import Static

    from credit_tui.screens.dialogs import ErrorDialog

    assert isinstance(app.screen, ErrorDialog)
    return str(app.screen.query_one("#error-message", Static).render())


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


SNAPSHOT_DIR = Path(__file__).parent / "snapshots"
UPDATE_ENV = "UPDATE_SNAPSHOTS"


def assert_snapshot(app: App[Any], name: str) -> None:
    """Compare the app's SVG screenshot with ``snapshots/<name>.svg`` (``UPDATE_SNAPSHOTS=1`` rewrites it).

    The SVG is deterministic for fixed data: no clock, fixed manifest, cursor blink off, fixed size.
    """
    svg = app.export_screenshot(title="credit-tui")
    path = SNAPSHOT_DIR / f"{name}.svg"
    if os.environ.get(UPDATE_ENV) == "1":
        SNAPSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(svg, encoding="utf-8")
        return
    if not path.exists():
        raise AssertionError(f"No snapshot {path}; run the tests with {UPDATE_ENV}=1 to create it.")
    expected = path.read_text(encoding="utf-8")
    if svg != expected:
        actual = path.with_suffix(".actual.svg")
        actual.write_text(svg, encoding="utf-8")
        raise AssertionError(
            f"Screenshot differs from {path} (new one written to {actual}); inspect both, and if the change "
            f"is intended rerun with {UPDATE_ENV}=1."
        )
