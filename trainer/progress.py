"""Progress of long computations, reported through a plain callback (no display library here).

``fit``, ``synth``, ``compare`` and ``tune`` take a :class:`ProgressReport` and return their results;
the CLI turns the calls into rich progress bars (:func:`trainer.views.progress_bar`), tests pass nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Protocol


class ProgressReport(Protocol):
    """Called as a stage advances."""

    def __call__(self, stage: str, done: float, total: float | None = None, detail: str = "") -> None:
        """Report progress.

        Args:
            stage: A stable name for the stage (one bar per name).
            done: Work done so far, in the stage's unit (0 when it starts).
            total: Work of the whole stage, or None when unknown (a spinner).
            detail: What to show instead of ``stage`` for now (e.g. the current validation AUC).
        """


@contextlib.contextmanager
def stage(report: ProgressReport | None, name: str) -> Iterator[None]:
    """Report a stage without a measurable amount of work: started, then done."""
    if report is not None:
        report(name, 0.0, None)
    yield
    if report is not None:
        report(name, 1.0, 1.0)
