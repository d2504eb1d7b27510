"""The services the app works with (scorer, portfolio, advisor), built once and injected into the App.

The CLI builds them in background threads while Textual is imported; tests build them from a fixture
bundle. The App only ever sees loaders, blocking callables it runs in thread workers: a
:data:`ServicesLoader` (the verified bundle and the application rows: enough for the client list) and,
optionally, a :data:`HistoryLoader` that adds the history aggregates behind the first screen (the slow
part of a big portfolio with a cold history cache).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from credit_tui.config import DeskConfig

if TYPE_CHECKING:
    from credit_tui.audit_log import AuditLog
    from trainer.portfolio import HistoryAggregates, Portfolio
    from trainer.scoring import Scorer


@dataclass(frozen=True)
class Services:
    """Everything the app needs from the trainer.

    Attributes:
        scorer: The verified model bundle's scorer.
        portfolio: The clients being worked on, with their history aggregates.
        advisor: Name of the advisor using the app (shown in the header).
        audit: The decision log the advisor records into (None: decisions cannot be recorded).
        desk: The desk's settings (bank contact, review deadline, product terms) from the config file.
    """

    scorer: Scorer
    portfolio: Portfolio
    advisor: str
    audit: AuditLog | None = None
    desk: DeskConfig = field(default_factory=DeskConfig)


ServicesLoader = Callable[[], Services]
"""A blocking callable returning the services or raising :class:`trainer.errors.UserError`."""

HistoryLoader = Callable[[Services], Services]
"""A blocking callable adding the history to services loaded without it (raises ``UserError``)."""


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


def load_scorer(model: Path, trusted_keys: tuple[bytes, ...] = ()) -> Scorer:
    """Load and verify a model bundle and its release (raises :class:`trainer.errors.BundleError`)."""
    import_xgboost_without_sklearn()
    from trainer.scoring import Scorer

    return Scorer.load(model, trusted_keys)


def load_portfolio(clients: Path, scorer: Scorer) -> Portfolio:
    """Read a clients file and the history tables the model uses (raises ``DataError``)."""
    from trainer.portfolio import Portfolio

    return Portfolio.load(clients, tables=scorer.spec.history_tables, cache=True)


def manifest_history_tables(model: Path) -> tuple[str, ...] | None:
    """The history tables a bundle's manifest lists, read without verification (None if unreadable).

    Only a hint to start aggregating history while the bundle is verified in parallel;
    :func:`check_history` confirms it against the verified spec.
    """
    from trainer.bundle import MANIFEST_FILE
    from trainer.contract import Manifest
    from trainer.errors import BundleError

    try:
        return Manifest.from_json((Path(model) / MANIFEST_FILE).read_bytes()).history_tables
    except (OSError, BundleError):
        return None


def load_applications(clients: Path) -> Portfolio:
    """Read only the application rows of a clients file (no history yet); raises ``DataError``."""
    from trainer.portfolio import Portfolio

    return Portfolio.load_applications(clients)


def load_client_list(clients: Path) -> Portfolio:
    """The application rows the client list needs, read before anything else (raises ``DataError``).

    From parquet only the list's columns are read (0.1 s instead of 1-2 s at 356k clients): a partial
    portfolio, which :func:`complete_applications` reads whole behind the first screen. A CSV has to be
    parsed whole anyway, so it is read whole at once.
    """
    from credit_tui.client_index import LIST_COLUMNS
    from trainer.data import is_csv_path
    from trainer.portfolio import Portfolio

    if is_csv_path(Path(clients)):
        return load_applications(clients)
    return Portfolio.load_applications(clients, LIST_COLUMNS)


def complete_applications(listed: Portfolio) -> Portfolio:
    """Every application column of a portfolio read partially (``listed`` itself when it is whole).

    Raises:
        trainer.errors.DataError: When the file cannot be used, or changed since ``listed`` was read.
    """
    if not listed.partial:
        return listed
    whole = load_applications(listed.source)
    whole.check_same_clients(listed)
    return whole


def aggregate_history(clients: Path, tables: tuple[str, ...] | None) -> HistoryAggregates:
    """The history tables beside a clients file (``tables``, or all found) aggregated, from the cache.

    Needs nothing from the clients file itself, so it runs while the application rows are read.
    """
    from trainer.portfolio import aggregate_history_beside

    return aggregate_history_beside(Path(clients).parent, tables, cache=True)


def add_history(portfolio: Portfolio, tables: tuple[str, ...] | None) -> Portfolio:
    """The portfolio with ``tables`` of its history aggregated (all found when None), cached."""
    return portfolio.with_history(tables=tables, cache=True)


def with_history(services: Services) -> Services:
    """Services whose portfolio has the history tables the bundle uses (raises ``DataError``)."""
    portfolio = add_history(services.portfolio, tuple(services.scorer.spec.history_tables))
    return dataclasses.replace(services, portfolio=portfolio)


def with_history_on_hint(services: Services, portfolio: Portfolio, hint: tuple[str, ...] | None) -> Services:
    """Services with ``portfolio``, whose history was aggregated on a manifest hint (redone if it was off).

    ``portfolio`` holds every application column; ``services`` may hold only the list's.
    """
    tables = tuple(services.scorer.spec.history_tables)
    if hint is None or tuple(hint) != tables:
        portfolio = add_history(portfolio, tables)
    return dataclasses.replace(services, portfolio=portfolio)


def load_services(model: Path, clients: Path, advisor: str, audit: AuditLog | None = None) -> Services:
    """Load the bundle, then the portfolio.

    Raises:
        trainer.errors.UserError: When the bundle or the clients file cannot be used.
    """
    scorer = load_scorer(model)
    return Services(scorer, load_portfolio(clients, scorer), advisor, audit)
