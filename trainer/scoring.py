"""The public scoring API: load a verified bundle, score many clients, score and explain one.

The advisor app and ``trainer predict``/``trainer explain`` all go through :class:`Scorer`, so a PD
shown in the TUI is the PD ``trainer predict`` writes, to the last digit.

Explanations are exact TreeSHAP contributions in log-odds: the contributions plus the base value equal
the model's margin. One client is explained from tables precomputed for the model
(:class:`trainer.tree_shap.TreeShapTables`, built once: on the first explain, or ahead in a background
thread with :meth:`Scorer.prepare_explanations`):
the same margin and PD as XGBoost to the last digit, contributions within 1e-5 of XGBoost's
``pred_contribs``, which stays the reference (``explain(..., reference=True)``) and the fallback for a
model the tables do not cover.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import xgboost as xgb

from trainer.bundle import Bundle, load_bundle
from trainer.decision import Decision, ThresholdPolicy
from trainer.features import FeatureSpec, RowBuilder, feature_matrix, refuse_non_finite
from trainer.labels import Unit, feature_label, format_value
from trainer.release import Release, check_release
from trainer.tree_shap import TreeShapTables, xgboost_sigmoid

__all__ = ["Contribution", "Decision", "Explanation", "Scorer"]

MAX_REASONS = 4


class Contribution(NamedTuple):
    """One feature's share of a client's score (a named tuple: an explanation builds one per feature).

    Attributes:
        feature: Feature name as the model knows it.
        label: Human label.
        value: The client's value (number, category level, or None when unknown).
        unit: How the value is shown (see :func:`trainer.labels.format_value`).
        contribution: TreeSHAP contribution in log-odds (positive raises the risk).
    """

    feature: str
    label: str
    value: float | str | None
    unit: Unit
    contribution: float

    @property
    def display_value(self) -> str:
        """The value in human units (formatted when asked: most contributions are never shown)."""
        return format_value(self.value, self.unit)


@dataclass(frozen=True)
class Explanation:
    """A client's PD, decision and why.

    Attributes:
        pd: Probability of default.
        decision: ACCEPT, REFUSE or REVIEW.
        threshold: The bundle's decision threshold.
        margin: The model's raw output (log-odds): the base value plus the contributions.
        base_value: Expected log-odds over the training data (the SHAP base value).
        contributions: Every feature's contribution, largest absolute value first.
    """

    pd: float
    decision: Decision
    threshold: float
    margin: float
    base_value: float
    contributions: tuple[Contribution, ...]

    def top(self, n: int) -> tuple[list[Contribution], float]:
        """Return the ``n`` largest contributions and the sum of all the others."""
        head = list(self.contributions[:n])
        rest = float(sum(c.contribution for c in self.contributions[n:]))
        return head, rest


class Scorer:
    """Scores and explains clients with one verified model bundle."""

    def __init__(self, bundle: Bundle, release: Release | None = None) -> None:
        self.bundle = bundle
        #: Who released the bundle and when (verified against a trusted key); None: an unreleased model.
        self.release = release
        self.spec: FeatureSpec = bundle.spec
        self._booster: xgb.Booster = bundle.booster
        # One client at a time is fastest on one thread: no thread pool to wake for a single row.
        self._single: xgb.Booster = bundle.booster.copy()
        self._single.set_param({"nthread": 1})
        self._feature_types = self.spec.feature_types
        self._names = list(self.spec.names)
        self._rows = RowBuilder(self.spec)
        self._labels = [feature_label(name) for name in self._names]
        self._label_texts = [info.label for info in self._labels]
        self._units = [info.unit for info in self._labels]
        self._categorical = [
            (j, self.spec.categories[name])
            for j, name in enumerate(self._names)
            if name in self.spec.categories
        ]
        # The explanation tables take a fraction of a second to a few seconds (model size): built on
        # the first explain, or ahead in a background thread (prepare_explanations).
        self._tables: TreeShapTables | None = None
        self._tables_built = threading.Event()
        self._tables_lock = threading.Lock()
        self._tables_thread: threading.Thread | None = None

    def prepare_explanations(self) -> None:
        """Build the explanation tables in a background thread, so the first explain does not wait.

        The advisor app calls it once its clients are scored; scripts that only score never pay for the
        tables. Does nothing once started. The thread is not a daemon: a process that exits early
        waits for it rather than stopping it inside XGBoost.
        """
        with self._tables_lock:
            if self._tables_thread is None and not self._tables_built.is_set():
                self._tables_thread = threading.Thread(target=self._build_tables, name="treeshap-tables")
                self._tables_thread.start()

    def _build_tables(self) -> None:
        try:
            self._tables = TreeShapTables.build(self._single)
        except Exception:  # any failure leaves XGBoost's own explanations in use
            self._tables = None
        finally:
            self._tables_built.set()

    @property
    def explanation_tables(self) -> TreeShapTables | None:
        """The precomputed TreeSHAP tables, built now unless under way; None: XGBoost's own are used."""
        with self._tables_lock:
            if self._tables_thread is None and not self._tables_built.is_set():
                self._build_tables()
        self._tables_built.wait()
        return self._tables

    @classmethod
    def load(cls, path: Path, trusted_keys: tuple[bytes, ...] = ()) -> Scorer:
        """Load and verify a bundle and its release (raises :class:`~trainer.errors.BundleError`).

        Args:
            path: The bundle folder.
            trusted_keys: Release keys to trust (:func:`trainer.release.check_release`): with any, an
                unsigned or wrongly signed bundle is refused; without, the model runs unreleased.
        """
        bundle = load_bundle(path)
        return cls(bundle, check_release(Path(path), trusted_keys))

    @property
    def threshold(self) -> float:
        """Refuse when PD >= threshold."""
        return self.bundle.threshold

    @property
    def review_band(self) -> tuple[float, float] | None:
        """PDs in [low, high) need an advisor's review, when configured."""
        return self.bundle.review_band

    @property
    def policy(self) -> ThresholdPolicy:
        """The bundle's decision rule."""
        return self.bundle.policy

    def decide(self, pd_: float) -> Decision:
        """Turn a PD into ACCEPT, REVIEW or REFUSE (:meth:`ThresholdPolicy.decide`)."""
        return self.bundle.policy.decide(pd_)

    def decide_many(self, pds: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.object_]]:
        """Vectorised :meth:`decide`."""
        return self.bundle.policy.decide_many(pds)

    def predict_matrix(
        self, x: np.ndarray[Any, np.dtype[np.float32]]
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """PDs for a feature matrix built with this bundle's spec."""
        raw = self._booster.inplace_predict(x, validate_features=False)
        return np.asarray(raw, dtype=np.float32).astype(np.float64)

    def score(self, applications: pd.DataFrame, history: pd.DataFrame | None) -> pd.DataFrame:
        """Score many clients.

        Args:
            applications: Raw application rows (must include SK_ID_CURR).
            history: History features (:func:`trainer.features.history_features`) or None.

        Returns:
            A frame with SK_ID_CURR, PD and DECISION, in the order of ``applications``.
        """
        pds, decisions = self.score_arrays(applications, history)
        ids = applications["SK_ID_CURR"].to_numpy(dtype=np.int64)
        return pd.DataFrame({"SK_ID_CURR": ids, "PD": pds, "DECISION": decisions})

    def score_arrays(
        self, applications: pd.DataFrame, history: pd.DataFrame | None
    ) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.object_]]]:
        """PD and decision of many clients, as :meth:`score` gives them, without building a frame.

        For a caller that stores them in its own arrays (the advisor app scores 356k clients in chunks:
        the frame and its text column cost a tenth of the scoring).
        """
        pds = self.predict_matrix(feature_matrix(applications, history, self.spec))
        return pds, self.decide_many(pds)

    def explain(
        self, application: Mapping[str, Any], history: Mapping[str, float] | None, *, reference: bool = False
    ) -> Explanation:
        """Score and explain one client from its raw application record.

        Args:
            application: Raw column -> value (a what-if may have edited some values).
            history: The client's history features (:func:`trainer.features.history_record`) or None.
            reference: Explain with XGBoost's own ``predict`` and ``pred_contribs`` (slower) instead of
                the precomputed tables: same PD, contributions within 1e-5.
        """
        row = self._rows.build(application, history)
        refuse_non_finite(row, [application.get("SK_ID_CURR", "?")], self.spec)
        tables = None if reference else self.explanation_tables
        if tables is not None:
            margin32, shares = tables.explain(row[0])
            pd_ = float(xgboost_sigmoid(margin32))  # XGBoost's margin and sigmoid, to the last digit
            base_value = tables.base_value
        else:
            pd_, shares, base_value = self._explain_with_xgboost(row)
        # The margin the contributions add up to (reasons split the PD along it); within 1e-5 of the
        # float32 margin the PD comes from.
        margin = base_value + float(shares.sum())
        return Explanation(
            pd=pd_,
            decision=self.decide(pd_),
            threshold=self.threshold,
            margin=margin,
            base_value=base_value,
            contributions=self._contributions(row[0], shares),
        )

    def _contributions(
        self, row: np.ndarray[Any, np.dtype[np.float32]], shares: np.ndarray[Any, np.dtype[np.float64]]
    ) -> tuple[Contribution, ...]:
        """Every feature's contribution, largest absolute value first (built in C loops: 126 of them)."""
        values: list[float | str | None] = list(row.tolist())
        for j in np.flatnonzero(np.isnan(row)).tolist():
            values[j] = None  # unknown
        for j, levels in self._categorical:
            code = values[j]
            if code is not None:
                values[j] = levels[int(code)]
        order = np.argsort(-np.abs(shares), kind="stable").tolist()
        pick = itemgetter(*order) if len(order) > 1 else lambda items: (items[order[0]],)
        names, labels, units = pick(self._names), pick(self._label_texts), pick(self._units)
        columns = zip(names, labels, pick(values), units, pick(shares.tolist()), strict=True)
        return tuple(map(tuple.__new__, repeat(Contribution), columns))

    def _explain_with_xgboost(
        self, row: np.ndarray[Any, np.dtype[np.float32]]
    ) -> tuple[float, np.ndarray[Any, np.dtype[np.float64]], float]:
        """PD, contributions and base value from XGBoost itself (the reference path)."""
        # The trees hold their categorical splits: a one-row DMatrix without feature types gives the
        # same contributions as a typed one, and the same PD as the batch path (tests check both); one
        # DMatrix serves both predictions (cheaper than inplace_predict for a single row).
        dmatrix = xgb.DMatrix(row, nthread=1)
        pd_ = float(np.float32(self._single.predict(dmatrix, validate_features=False)[0]))
        contribs = self._single.predict(dmatrix, pred_contribs=True, validate_features=False)[0]
        contribs = contribs.astype(np.float64)
        return pd_, contribs[:-1], float(contribs[-1])

    def reasons(self, explanation: Explanation, max_reasons: int = MAX_REASONS) -> list[str]:
        """The client's reasons for a refusal or review, as the letter and the audit log word them.

        At most ``max_reasons`` risk-raising reason families of client-facing features, each sentence
        followed by what the client can do (:func:`trainer.reasons.client_reasons`). Empty for an ACCEPT.
        """
        from trainer.reasons import client_reasons

        return [reason.render() for reason in client_reasons(explanation, max_reasons)]

    def what_if(
        self, application: Mapping[str, Any], changes: Mapping[str, Any], history: Mapping[str, float] | None
    ) -> Explanation:
        """Explain the client as if some raw application values were different (nothing is stored)."""
        return self.explain({**application, **changes}, history)
