"""The services the app works with (scorer, portfolio, advisor), built once and injected into the App.

The CLI builds them in a background thread while Textual is imported; tests build them from a fixture
bundle. The App only ever sees a :data:`ServicesLoader`, a blocking callable it runs in a thread worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trainer.portfolio import Portfolio
    from trainer.scoring import Scorer


@dataclass(frozen=True)
class Services:
    """Everything the app needs from the trainer.

    Attributes:
        scorer: The verified model bundle's scorer.
        portfolio: The clients being worked on, with their history aggregates.
        advisor: Name of the advisor using the app (shown in the header).
    """

    scorer: Scorer
    portfolio: Portfolio
    advisor: str


ServicesLoader = Callable[[], Services]
"""A blocking callable returning the services or raising :class:`trainer.errors.UserError`."""


def load_scorer(model: Path) -> Scorer:
    """Load and verify a model bundle (raises :class:`trainer.errors.BundleError`)."""
    from trainer.scoring import Scorer

    return Scorer.load(model)


def load_portfolio(clients: Path, scorer: Scorer) -> Portfolio:
    """Read a clients file and the history tables the model uses (raises ``DataError``)."""
    from trainer.portfolio import Portfolio

    return Portfolio.load(clients, tables=scorer.spec.history_tables)


def load_services(model: Path, clients: Path, advisor: str) -> Services:
    """Load the bundle, then the portfolio.

    Raises:
        trainer.errors.UserError: When the bundle or the clients file cannot be used.
    """
    scorer = load_scorer(model)
    return Services(scorer, load_portfolio(clients, scorer), advisor)
