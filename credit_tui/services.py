"""The services the app works with (scorer, portfolio, advisor), built once and injected into the App.

The CLI builds them in background threads while Textual is imported; tests build them from a fixture
bundle. The App only ever sees loaders, blocking callables it runs in thread workers: a
:data:`ServicesLoader` (the verified bundle and the application rows: enough for the client list) and,
optionally, a :data:`HistoryLoader` that adds the history aggregates behind the first screen (the slow
part of a big portfolio with a cold history cache).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from credit_tui.config import DeskConfig

if TYPE_CHECKING:
    from credit_tui.audit_log import AuditLog
    from trainer.history_cache import ChildBuild
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
    """Import xgboost without its optional scikit-learn integration (0.8 s less at launch), OpenMP passive.

    The app only uses ``xgboost.Booster``; xgboost's scikit-learn wrappers (which import scikit-learn and
    SciPy's statistics) are never needed here, and xgboost falls back cleanly when scikit-learn is
    missing. Nothing happens when xgboost is already imported (tests, or a second call).
    """
    if "xgboost" in sys.modules:
        return
    # Scoring runs in chunks between the UI's work: OpenMP threads left spinning after each chunk
    # (libgomp's default, read when xgboost loads it) took the cores the UI and the history child
    # needed (0.35 s of CPU over 356k clients). A value the user set is kept.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
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

    Only a hint to start aggregating history before the bundle is verified (standard library only,
    so a first opening starts its history build before the app's heavy imports);
    :func:`with_history_on_hint` confirms it against the verified spec.
    """
    from trainer.config import MANIFEST_FILE, MAX_MANIFEST_BYTES
    from trainer.schema import HISTORY_TABLES

    path = Path(model) / MANIFEST_FILE
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            return None
        tables = json.loads(path.read_bytes()).get("history_tables")
    except (OSError, ValueError, AttributeError, RecursionError):  # the bundle check says why, later
        return None
    if not isinstance(tables, list) or not all(isinstance(t, str) and t in HISTORY_TABLES for t in tables):
        return None
    return tuple(tables)


def start_history_build(model: Path, clients: Path) -> ChildBuild | None:
    """On a first opening of a large portfolio, start aggregating its history in a child process now.

    Called before the app's heavy imports (it imports none): the child's work, the long pole of a cold
    launch, starts half a second earlier. Pass the result to :func:`aggregate_history`. None when there
    is nothing to start (a cache may exist, the history is small, or none is found).
    """
    from trainer.history_cache import start_cold_build
    from trainer.table_files import history_files

    return start_cold_build(history_files(Path(clients).parent, manifest_history_tables(model)))


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


def aggregate_history(
    clients: Path, tables: tuple[str, ...] | None, started: ChildBuild | None = None
) -> HistoryAggregates:
    """The history tables beside a clients file (``tables``, or all found) aggregated, from the cache.

    Needs nothing from the clients file itself, so it runs while the application rows are read.
    ``started``: the build :func:`start_history_build` started for these tables.
    """
    from trainer.portfolio import aggregate_history_beside

    return aggregate_history_beside(Path(clients).parent, tables, cache=True, started=started)


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
