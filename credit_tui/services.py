"""The services the app works with (scorer, portfolio, advisor), built once and injected into the App.

The CLI builds them in a background thread while Textual is imported; tests build them from a fixture
bundle. The App only ever sees a :data:`ServicesLoader`, a blocking callable it runs in a thread worker.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from credit_tui.audit import AuditStore
    from trainer.portfolio import Portfolio
    from trainer.scoring import Scorer


@dataclass(frozen=True)
class Services:
    """Everything the app needs from the trainer.

    Attributes:
        scorer: The verified model bundle's scorer.
        portfolio: The clients being worked on, with their history aggregates.
        advisor: Name of the advisor using the app (shown in the header).
        audit: The decision log the advisor records into (None: decisions cannot be recorded).
    """

    scorer: Scorer
    portfolio: Portfolio
    advisor: str
    audit: AuditStore | None = None


ServicesLoader = Callable[[], Services]
"""A blocking callable returning the services or raising :class:`trainer.errors.UserError`."""


def import_xgboost_without_sklearn() -> None:
    """Import xgboost without its optional scikit-learn integration: about 0.8 s less at launch.

    The app only uses ``xgboost.Booster``; xgboost's scikit-learn wrappers (which import scikit-learn and
    SciPy's statistics) are never needed here, and xgboost falls back cleanly when scikit-learn is
    missing. Nothing happens when xgboost is already imported (tests, or a second call).
    """
    if "xgboost" in sys.modules:
        return
    blocked = "sklearn" not in sys.modules
    if blocked:
        sys.modules["sklearn"] = None  # type: ignore[assignment]  # makes `import sklearn` fail fast
    try:
        import xgboost  # noqa: F401
    finally:
        if blocked:
            del sys.modules["sklearn"]


def load_scorer(model: Path) -> Scorer:
    """Load and verify a model bundle (raises :class:`trainer.errors.BundleError`)."""
    import_xgboost_without_sklearn()
    from trainer.scoring import Scorer

    return Scorer.load(model)


def load_portfolio(clients: Path, scorer: Scorer) -> Portfolio:
    """Read a clients file and the history tables the model uses (raises ``DataError``)."""
    from trainer.portfolio import Portfolio

    return Portfolio.load(clients, tables=scorer.spec.history_tables, cache=True)


def manifest_history_tables(model: Path) -> tuple[str, ...] | None:
    """The history tables a bundle's manifest lists, read without verification (None if unreadable).

    Only a hint to start aggregating history while the bundle is verified in parallel;
    :func:`check_history` confirms it against the verified spec.
    """
    import json

    try:
        manifest = json.loads((Path(model) / "manifest.json").read_text(encoding="utf-8"))
        return tuple(str(t) for t in manifest["history_tables"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_portfolio_for(clients: Path, tables: tuple[str, ...] | None) -> Portfolio:
    """Read a clients file, aggregating only ``tables`` (all found when None); raises ``DataError``."""
    from trainer.portfolio import Portfolio

    return Portfolio.load(clients, tables=tables, cache=True)


def services_from(
    scorer: Scorer,
    portfolio: Portfolio,
    hint: tuple[str, ...] | None,
    advisor: str,
    audit: AuditStore | None = None,
) -> Services:
    """Combine a verified scorer with a portfolio loaded on a manifest hint (reloaded if the hint was off)."""
    if hint is None or tuple(hint) != tuple(scorer.spec.history_tables):
        portfolio = load_portfolio(portfolio.source, scorer)
    return Services(scorer, portfolio, advisor, audit)


def load_services(model: Path, clients: Path, advisor: str, audit: AuditStore | None = None) -> Services:
    """Load the bundle, then the portfolio.

    Raises:
        trainer.errors.UserError: When the bundle or the clients file cannot be used.
    """
    scorer = load_scorer(model)
    return Services(scorer, load_portfolio(clients, scorer), advisor, audit)
