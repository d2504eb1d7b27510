"""Where a client stands in the portfolio: per-feature arrays for the population histogram.

Feature values come from the trainer (``application_features`` and the portfolio's history
aggregates), computed once for the whole portfolio on first use and cached; the UI never derives a
feature itself.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from credit_tui.client_index import ClientColumns, FloatArray
    from credit_tui.services import Services

PD_FEATURE = "PD"
MAX_FEATURES = 8
BINS = 30

#: Histogram of a feature: bin centres, counts, bin width.
Bins = tuple[list[float], list[int], float]


def histogram(values: np.ndarray[Any, Any]) -> Bins:
    """Bin centres, counts and bin width of the finite values, outliers (1 %/99 %) clipped."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return [], [], 1.0
    low, high = np.percentile(finite, [1, 99]) if finite.size > 100 else (finite.min(), finite.max())
    if high <= low:
        high = low + 1.0
    counts, edges = np.histogram(np.clip(finite, low, high), bins=BINS, range=(low, high))
    centres = ((edges[:-1] + edges[1:]) / 2).tolist()
    return [float(c) for c in centres], [int(c) for c in counts], float(edges[1] - edges[0])


class Population:
    """Lazily computed feature arrays over every client of the portfolio."""

    def __init__(self, services: Services, columns: ClientColumns) -> None:
        self._services = services
        self._columns = columns
        self._cache: dict[str, FloatArray] = {}
        self._bins: dict[str, tuple[int, Bins]] = {}
        self._lock = threading.Lock()
        self.features = self._choose_features()

    def _choose_features(self) -> list[str]:
        from trainer.features import APP_ENGINEERED, APP_NUMERIC_PASSTHROUGH

        scorer = self._services.scorer
        history = self._services.portfolio.history
        available = set(APP_ENGINEERED) | set(APP_NUMERIC_PASSTHROUGH)
        if history is not None:
            available |= {str(c) for c in history.columns}
        ranked = sorted(scorer.bundle.manifest.importance, key=lambda item: -item.mean_abs_shap)
        chosen = [
            item.feature
            for item in ranked
            if item.feature in available and item.feature not in scorer.spec.categories
        ]
        if not chosen:
            chosen = [
                name for name in ("EXT_SOURCE_MEAN", "CREDIT_INCOME_RATIO", "AGE_YEARS") if name in available
            ]
        return [PD_FEATURE, *chosen[: MAX_FEATURES - 1]]

    def label(self, name: str) -> str:
        """Human label of a feature."""
        from trainer.labels import feature_label

        return "Probability of default" if name == PD_FEATURE else feature_label(name).label

    def format(self, name: str, value: float | str | None) -> str:
        """A value in the feature's human units."""
        from trainer.labels import feature_label, format_value

        if name == PD_FEATURE:
            return "unknown" if value is None or isinstance(value, str) else f"{value:.1%}"
        return format_value(value, feature_label(name).unit)

    def values(self, name: str) -> FloatArray:
        """Every client's value of ``name`` (NaN when missing or, for PD, not scored yet)."""
        if name == PD_FEATURE:
            return self._columns.pd
        with self._lock:
            if name not in self._cache:
                self._compute(name)
            return self._cache[name]

    def bins(self, name: str) -> Bins:
        """The histogram of ``name`` over the portfolio, computed once per feature and cached.

        The PD's is computed again only after more clients were scored. Call it from a worker: the first
        call per feature reads every client.
        """
        version = self._columns.scored if name == PD_FEATURE else 0
        cached = self._bins.get(name)
        if cached is not None and cached[0] == version:
            return cached[1]
        bins = histogram(self.values(name))
        self._bins[name] = (version, bins)
        return bins

    def share_below(self, name: str, value: float | None) -> float | None:
        """Share of the portfolio's known values of ``name`` strictly below ``value`` (None when unknown)."""
        if value is None or not np.isfinite(value):
            return None
        values = self.values(name)
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return None
        return float(np.count_nonzero(finite < value)) / float(finite.size)

    def position_sentence(self, name: str, value: float | None) -> str:
        """Where the client stands, in words: "riskier than 82 % of this portfolio"."""
        share = self.share_below(name, value)
        if share is None:
            return "This client's value is unknown, so it has no place in the portfolio."
        percent = f"{share * 100:.0f} %"
        if name == PD_FEATURE:
            return f"This client is riskier than {percent} of this portfolio."
        return f"This client's {self.label(name).lower()} is higher than {percent} of this portfolio's."

    def _compute(self, name: str) -> None:
        from trainer.features import APP_INPUT_NUMERIC, application_features

        portfolio = self._services.portfolio
        history = portfolio.history
        if history is not None and name in history.columns:
            aligned = history[name].reindex(portfolio.client_ids)
            self._cache[name] = aligned.to_numpy(dtype=np.float64, na_value=np.nan)
            return
        apps = portfolio.applications
        cols: dict[str, Any] = {
            c: apps[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in APP_INPUT_NUMERIC
        }
        computed = application_features(cols)
        for feature in self.features:
            if feature in computed:
                self._cache[feature] = np.asarray(computed[feature], dtype=np.float64)
        self._cache.setdefault(name, np.full(len(apps), np.nan))
