"""A portfolio: the clients an advisor works on, with their history aggregates computed once.

Loaded from a clients file (application rows, e.g. the real ``application_test.csv``); history tables
found in the same folder are aggregated at load time, so scoring one client later is a lookup. A caller
that must show the clients before their history is ready loads in two steps:
``Portfolio.load_applications(file)`` (fast), then ``.with_history(...)``; or, to aggregate the history
while the application rows are being read, :func:`aggregate_history_beside` in parallel with
``load_applications``, then ``.with_aggregates(...)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trainer.data import read_applications
from trainer.errors import DataError, UnknownClientError
from trainer.features import align_history, history_record
from trainer.history_cache import ChildBuild, load_history_features
from trainer.history_sql import aggregate_sources
from trainer.id_positions import IdPositions
from trainer.table_files import history_files


@dataclass(frozen=True)
class HistoryAggregates:
    """History tables aggregated over every client they mention, not yet aligned on a portfolio.

    Attributes:
        tables: The history tables found and aggregated (empty when none was found).
        frame: Their features indexed by SK_ID_CURR, or None when no table was found.
        notices: Sentences for the user about how the history was obtained (a damaged cache rebuilt).
    """

    tables: tuple[str, ...]
    frame: pd.DataFrame | None
    notices: tuple[str, ...] = ()


def aggregate_history_beside(
    folder: Path,
    tables: Sequence[str] | None = None,
    *,
    cache: bool = False,
    started: ChildBuild | None = None,
) -> HistoryAggregates:
    """Aggregate the history tables found in ``folder`` (only ``tables`` when given), every client.

    Args:
        folder: Where to look for history tables (a clients file's folder).
        tables: Only aggregate these history tables (e.g. those a bundle uses); None for all found.
        cache: Reuse (or build and keep) the aggregates in a cache (see :mod:`trainer.history_cache`).
        started: The cache build of these files already running (see
            :func:`trainer.history_cache.start_cold_build`), with ``cache``.

    Raises:
        DataError: When a history file cannot be used (one clear sentence).
    """
    sources = history_files(folder, tables)
    if not sources:
        return HistoryAggregates((), None)
    notices: list[str] = []
    frame = load_history_features(sources, notices.append, started) if cache else aggregate_sources(sources)
    return HistoryAggregates(tuple(sources), frame, tuple(notices))


@dataclass
class Portfolio:
    """Application rows plus per-client history features.

    Attributes:
        source: The clients file.
        applications: Raw application rows, one per client.
        history: History features indexed by SK_ID_CURR (every client present), or None when no
            history table was found.
        history_tables: History tables that were found and aggregated.
        notices: Sentences for the user about how the history was obtained (a damaged cache rebuilt).
        partial: Only some application columns were read (``load_applications(file, columns)``): enough
            to list the clients, not to score, explain or show one; read the file whole for that.
    """

    source: Path
    applications: pd.DataFrame
    history: pd.DataFrame | None
    history_tables: tuple[str, ...]
    notices: tuple[str, ...] = ()
    partial: bool = False

    def __post_init__(self) -> None:
        self._positions = IdPositions(self.applications["SK_ID_CURR"].to_numpy(dtype=np.int64))

    @classmethod
    def load(
        cls,
        clients_file: Path,
        history_dir: Path | None = None,
        tables: Sequence[str] | None = None,
        *,
        cache: bool = False,
    ) -> Portfolio:
        """Read a clients file and aggregate the history tables beside it (or in ``history_dir``).

        The same as :meth:`load_applications` followed by :meth:`with_history`.

        Args:
            clients_file: CSV or parquet of application rows.
            history_dir: Where to look for history tables; defaults to the clients file's folder.
            tables: Only aggregate these history tables (e.g. those a bundle uses); None for all found.
            cache: Reuse (or build and keep) the aggregates in a cache (see :mod:`trainer.history_cache`):
                for the advisor app, which opens the same portfolio again and again.

        Raises:
            DataError: When a file cannot be used (one clear sentence).
        """
        return cls.load_applications(clients_file).with_history(history_dir, tables, cache=cache)

    @classmethod
    def load_applications(cls, clients_file: Path, columns: Sequence[str] | None = None) -> Portfolio:
        """Read only the application rows of a clients file: a portfolio without history yet.

        Fast (no history table is read), for a caller that shows the clients first and adds their
        history later with :meth:`with_history`. Its ``history`` is None and ``history_tables`` empty.

        Args:
            clients_file: CSV or parquet of application rows.
            columns: Read only these columns (``SK_ID_CURR`` always): a :attr:`partial` portfolio, for a
                list shown before the whole file is read (a fraction of the time from parquet).

        Raises:
            DataError: When the clients file cannot be used (one clear sentence).
        """
        clients_file = Path(clients_file)
        if columns is None:
            return cls(clients_file, read_applications(clients_file), None, ())
        wanted = ["SK_ID_CURR", *(c for c in dict.fromkeys(columns) if c != "SK_ID_CURR")]
        return cls(clients_file, read_applications(clients_file, wanted), None, (), partial=True)

    def check_same_clients(self, earlier: Portfolio) -> None:
        """Refuse when ``earlier``, read before from the same file, holds other values in its columns.

        A clients file replaced or rewritten between a first partial read and the whole read would
        otherwise put one client's scores beside another's row.

        Raises:
            DataError: When the rows differ (one sentence naming the file).
        """
        columns = list(earlier.applications.columns)
        if not set(columns) <= set(self.applications.columns) or not self.applications[columns].equals(
            earlier.applications
        ):
            raise DataError(
                f"{self.source} changed while it was being read; open it again once it is no longer "
                "being written."
            )

    def with_history(
        self,
        history_dir: Path | None = None,
        tables: Sequence[str] | None = None,
        *,
        cache: bool = False,
    ) -> Portfolio:
        """A new portfolio with the same application rows and the history tables aggregated.

        Args:
            history_dir: Where to look for history tables; defaults to the clients file's folder.
            tables: Only aggregate these history tables (e.g. those a bundle uses); None for all found.
            cache: Reuse (or build and keep) the aggregates in a cache (see :mod:`trainer.history_cache`).

        Raises:
            DataError: When a history file cannot be used (one clear sentence).
        """
        folder = history_dir if history_dir is not None else self.source.parent
        return self.with_aggregates(aggregate_history_beside(folder, tables, cache=cache))

    def with_aggregates(self, aggregates: HistoryAggregates) -> Portfolio:
        """A new portfolio with the same application rows and ``aggregates`` aligned on its clients.

        Clients without history rows get zero counts and missing rates.
        """
        self._require_whole("scored")
        history = None
        if aggregates.frame is not None:
            ids = self.applications["SK_ID_CURR"].to_numpy(dtype=np.int64)
            history = align_history(aggregates.frame, aggregates.tables, ids)
        return Portfolio(self.source, self.applications, history, aggregates.tables, aggregates.notices)

    def _require_whole(self, use: str) -> None:
        if self.partial:  # a programming error, never a user's: the caller must read the whole file
            raise ValueError(f"a portfolio read with only some columns cannot be {use}; read the file whole")

    @property
    def client_ids(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        """SK_ID_CURR of every client, in file order."""
        return self.applications["SK_ID_CURR"].to_numpy(dtype=np.int64)

    def __len__(self) -> int:
        return len(self.applications)

    def __contains__(self, client_id: object) -> bool:
        return isinstance(client_id, int | np.integer) and int(client_id) in self._positions

    def record(self, client_id: int) -> dict[str, Any]:
        """The client's raw application row as column -> value (missing values as None).

        Raises:
            UnknownClientError: When the client is not in the portfolio.
        """
        self._require_whole("shown")
        position = self._positions.get(int(client_id))
        if position is None:
            raise UnknownClientError(
                f"Client {client_id} is not in {self.source}; "
                "check the SK_ID_CURR or open the file that holds it."
            )
        row = self.applications.iloc[position]
        return {str(name): (None if pd.isna(value) else value) for name, value in row.items()}

    def history_record(self, client_id: int) -> dict[str, float] | None:
        """The client's history features (None when the portfolio has no history tables)."""
        return history_record(self.history, int(client_id))
