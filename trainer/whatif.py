"""What would change the decision: the smallest change of credit amount, or of term, that gives ACCEPT.

The search runs the model itself, through the same feature code as training (:func:`feature_row`, then
:meth:`Scorer.predict_matrix`), on a grid of candidate applications scored in one call, and checks the
answer with :meth:`Scorer.what_if`, so the hint never promises what the client screen would not show.

Two levers an advisor can negotiate:

- **Credit amount**: lower ``AMT_CREDIT`` from its current value down to a fraction of it (10 % by
  default), keeping the term: the annuity scales with the credit and the goods price is capped at the
  credit.
- **Term**: the number of repayments, taken as credit / annuity (the model's own term feature; the data
  holds no interest rate, so the implied rate is kept: the annuity becomes credit / term). Terms from 6 to
  84 months by default, nearest to the current term first, longer before shorter.

Trees are not monotone: a coarse scan over the whole range finds the first ACCEPT below the current
amount, a fine scan between that point and the last refused one finds the largest amount that works.
Nothing here is recorded anywhere: the advisor applies a hint through the what-if form.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import xgboost as xgb

from trainer.decision import Decision
from trainer.features import APP_INPUT_NUMERIC, application_features, feature_row
from trainer.plain import ProductTerms, as_number
from trainer.reasons import why_terms_cannot_help
from trainer.scoring import Scorer

HintStatus = Literal["already_accepted", "found", "none", "unavailable"]
Lever = Literal["credit", "term"]

#: Default search range for the credit, as fractions of the current amount.
CREDIT_BOUNDS: tuple[float, float] = (0.1, 1.0)
#: Default search range for the term, in months (repayments).
TERM_BOUNDS: tuple[int, int] = (6, 84)
#: Fractions of the current credit amount of the PD-versus-amount curve.
CURVE_FRACTIONS: tuple[float, ...] = tuple(round(0.3 + 0.05 * i, 2) for i in range(15))
#: Points of the coarse credit scan.
COARSE_POINTS = 120
#: Most points of the fine credit scan between two coarse points.
FINE_POINTS = 200


@dataclass(frozen=True)
class HintOption:
    """One change that brings the decision to ACCEPT.

    Attributes:
        lever: ``credit`` or ``term``.
        changes: Raw field -> new value, ready for :meth:`Scorer.what_if` or the what-if form.
        credit: The credit amount after the change.
        annuity: The repayment after the change (None when unknown).
        goods_price: The goods price after the change (None when unknown).
        term: Repayments (credit / annuity) after the change (None when the annuity is unknown).
        pd: The PD after the change (checked with :meth:`Scorer.what_if`).
        decision: The decision after the change (always ACCEPT).
        sentence: The change in one plain sentence.
    """

    lever: Lever
    changes: dict[str, float]
    credit: float
    annuity: float | None
    goods_price: float | None
    term: float | None
    pd: float
    decision: str
    sentence: str


@dataclass(frozen=True)
class Hint:
    """What would change the decision, in one sentence plus the options found.

    Attributes:
        status: ``already_accepted``, ``found``, ``none`` (nothing within bounds) or ``unavailable``
            (the credit amount is unknown).
        current_pd: The client's PD as given.
        current_decision: The client's decision as given.
        options: Credit option first (when found), then term option (when found).
        sentence: Plain sentence for the advisor.
        curve: (credit amount, PD) from :data:`CURVE_FRACTIONS` of the current amount up to it, for a
            small PD-versus-amount curve (empty when the credit amount is unknown).
    """

    status: HintStatus
    current_pd: float
    current_decision: str
    options: tuple[HintOption, ...] = field(default_factory=tuple)
    sentence: str = ""
    curve: tuple[tuple[float, float], ...] = ()

    @property
    def best(self) -> HintOption | None:
        """The first option (credit before term), or None."""
        return self.options[0] if self.options else None

    @property
    def changes(self) -> dict[str, float]:
        """The best option's changes ({} when there is none)."""
        return dict(self.best.changes) if self.best is not None else {}

    @property
    def pd(self) -> float | None:
        """The best option's PD (None when there is none)."""
        return self.best.pd if self.best is not None else None


def _number(value: Any) -> float | None:
    """A positive finite float, or None for missing, NaN or non-positive values."""
    number = as_number(value)
    return number if number is not None and number > 0 else None


def _to_float(value: Any) -> float:
    """As :func:`trainer.features.feature_row` reads a raw value: missing (None, pandas NA) is NaN."""
    if value is None or value is pd.NA:
        return float("nan")
    return float(value)


def _pct(pd_: float) -> str:
    return f"{pd_ * 100:.1f} %"


def _amount_step(credit: float) -> float:
    """Round amounts to a step an advisor would quote (1,000 for usual credits)."""
    if credit >= 100_000:
        return 1000.0
    if credit >= 10_000:
        return 100.0
    return 1.0


_SMALL_BATCH_BOOSTERS: weakref.WeakKeyDictionary[Scorer, xgb.Booster] = weakref.WeakKeyDictionary()


def _small_batch_booster(scorer: Scorer) -> xgb.Booster:
    """A one-thread copy of the scorer's booster (same trees, same numbers).

    A grid of a few hundred rows is scored in about a millisecond on one thread; the shared thread pool
    costs tens of milliseconds to wake when the machine is busy.
    """
    booster = _SMALL_BATCH_BOOSTERS.get(scorer)
    if booster is None:
        booster = scorer.bundle.booster.copy()
        booster.set_param({"nthread": 1})
        _SMALL_BATCH_BOOSTERS[scorer] = booster
    return booster


class _Grid:
    """Scores many variants of one client at once, through the training feature code."""

    def __init__(self, scorer: Scorer, record: Mapping[str, Any], history: Mapping[str, float] | None):
        self.scorer = scorer
        self.record = dict(record)
        self.history = history

    def score(self, variants: list[dict[str, float]]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """PDs and decisions of ``record`` with each variant's changes applied, in one model call."""
        if not variants:
            return np.empty(0), np.empty(0, dtype=object)
        raw = _small_batch_booster(self.scorer).inplace_predict(self.rows(variants), validate_features=False)
        pds = np.asarray(raw, dtype=np.float32).astype(np.float64)  # as Scorer.predict_matrix
        return pds, self.scorer.decide_many(pds)

    def rows(self, variants: list[dict[str, float]]) -> np.ndarray[Any, np.dtype[np.float32]]:
        """The model input of each variant: :func:`feature_row` vectorised over the changed fields.

        Categories and history do not change between variants, so they are taken from the client's own
        row; the numeric application features are recomputed for all variants at once by
        :func:`application_features`, the function :func:`feature_row` and training use.
        """
        spec = self.scorer.spec
        base = feature_row(self.record, self.history, spec)
        count = len(variants)
        cols = {name: np.full(count, _to_float(self.record.get(name))) for name in APP_INPUT_NUMERIC}
        for i, changes in enumerate(variants):
            for name, value in changes.items():
                if name not in cols:
                    raise ValueError(f"{name} is not a numeric application field")
                cols[name][i] = value
        numeric = application_features(cols)
        rows = np.repeat(base, count, axis=0)
        for j, name in enumerate(spec.names):
            if name in numeric and name not in spec.categories:
                rows[:, j] = numeric[name]
        return rows

    def confirm(self, changes: Mapping[str, float]) -> tuple[float, str] | None:
        """PD and decision by :meth:`Scorer.what_if` when it is ACCEPT, else None."""
        explanation = self.scorer.what_if(self.record, changes, self.history)
        return (explanation.pd, explanation.decision) if explanation.decision == Decision.ACCEPT else None


def _credit_changes(
    credit: float, annuity: float | None, goods: float | None, new: float
) -> dict[str, float]:
    changes = {"AMT_CREDIT": new}
    if annuity is not None:
        changes["AMT_ANNUITY"] = round(annuity * new / credit, 2)
    if goods is not None and goods > new:
        changes["AMT_GOODS_PRICE"] = new
    return changes


def _search_credit(
    grid: _Grid, credit: float, annuity: float | None, goods: float | None, bounds: tuple[float, float]
) -> HintOption | None:
    """Largest credit below the current one (within bounds) that gives ACCEPT."""
    low_fraction, high_fraction = bounds
    low, high = credit * max(low_fraction, 0.0), credit * min(high_fraction, 1.0)
    step = _amount_step(credit)
    coarse = np.unique(np.floor(np.linspace(high, low, COARSE_POINTS) / step) * step)[::-1]
    coarse = coarse[(coarse < credit) & (coarse >= low) & (coarse > 0)]
    if coarse.size == 0:
        return None
    _, decisions = grid.score([_credit_changes(credit, annuity, goods, float(c)) for c in coarse])
    accepted = np.flatnonzero(decisions == Decision.ACCEPT.value)
    for index in accepted[:5]:  # a few tries in case a confirmation disagrees (it should not)
        upper = credit if index == 0 else float(coarse[index - 1])
        lower = float(coarse[index])
        fine = np.arange(math.floor((upper - step) / step) * step, lower, -step)
        if fine.size > FINE_POINTS:
            fine = np.unique(np.floor(np.linspace(upper - step, lower, FINE_POINTS) / step) * step)[::-1]
        fine = fine[(fine < upper) & (fine > lower)]
        _, fine_decisions = grid.score([_credit_changes(credit, annuity, goods, float(c)) for c in fine])
        candidates = [float(c) for c, d in zip(fine, fine_decisions, strict=True) if d == Decision.ACCEPT]
        for amount in [*candidates[:3], lower]:
            changes = _credit_changes(credit, annuity, goods, amount)
            confirmed = grid.confirm(changes)
            if confirmed is not None:
                pd_, decision = confirmed
                new_annuity = changes.get("AMT_ANNUITY", annuity)
                return HintOption(
                    lever="credit",
                    changes=changes,
                    credit=amount,
                    annuity=new_annuity,
                    goods_price=changes.get("AMT_GOODS_PRICE", goods),
                    term=amount / new_annuity if new_annuity else None,
                    pd=pd_,
                    decision=decision,
                    sentence=(
                        f"Lowering the credit to {amount:,.0f} would bring the decision to ACCEPT "
                        f"(PD {_pct(pd_)})."
                    ),
                )
    return None


def _search_term(
    grid: _Grid, credit: float, annuity: float, goods: float | None, bounds: tuple[int, int]
) -> HintOption | None:
    """The term nearest to the current one (within bounds) that gives ACCEPT; longer wins a tie."""
    current = credit / annuity
    terms = [n for n in range(int(bounds[0]), int(bounds[1]) + 1) if n > 0 and abs(n - current) >= 0.5]
    if not terms:
        return None
    terms.sort(key=lambda n: (abs(n - current), -n))
    variants = [{"AMT_ANNUITY": round(credit / n, 2)} for n in terms]
    _, decisions = grid.score(variants)
    for n, changes, decision in zip(terms, variants, decisions, strict=True):
        if decision != Decision.ACCEPT:
            continue
        confirmed = grid.confirm(changes)
        if confirmed is None:
            continue
        pd_, final = confirmed
        new_annuity = changes["AMT_ANNUITY"]
        verb = "Spreading the credit over" if n > current else "Shortening the term to"
        return HintOption(
            lever="term",
            changes=changes,
            credit=credit,
            annuity=new_annuity,
            goods_price=goods,
            term=float(n),
            pd=pd_,
            decision=final,
            sentence=(
                f"{verb} {n} months instead of {current:.0f} (repayments of {new_annuity:,.0f} instead of "
                f"{annuity:,.0f}) would bring the decision to ACCEPT (PD {_pct(pd_)})."
            ),
        )
    return None


def decision_change_hint(
    scorer: Scorer,
    record: Mapping[str, Any],
    history: Mapping[str, float] | None,
    *,
    credit_bounds: tuple[float, float] = CREDIT_BOUNDS,
    term_bounds: tuple[int, int] = TERM_BOUNDS,
) -> Hint:
    """Find the smallest change of credit amount, or of term, that brings the decision to ACCEPT.

    Args:
        scorer: The loaded bundle's scorer.
        record: The client's raw application record (what-if edits already applied, if any).
        history: The client's history features (:meth:`Portfolio.history_record`) or None.
        credit_bounds: Search the credit between these fractions of the current amount.
        term_bounds: Search terms between these numbers of months (inclusive).

    Returns:
        A :class:`Hint`: ``already_accepted``, ``found`` (with a credit and/or a term option, each
        confirmed by :meth:`Scorer.what_if`), ``none`` within bounds, or ``unavailable`` when the credit
        amount is unknown.
    """
    current = scorer.explain(record, history)
    if current.decision == Decision.ACCEPT:
        return Hint(
            "already_accepted",
            current.pd,
            current.decision,
            sentence=f"The decision is already ACCEPT (PD {_pct(current.pd)}).",
        )
    credit = _number(record.get("AMT_CREDIT"))
    if credit is None:
        return Hint(
            "unavailable",
            current.pd,
            current.decision,
            sentence="The credit amount is unknown, so no change of amount or term can be suggested.",
        )
    annuity = _number(record.get("AMT_ANNUITY"))
    goods = _number(record.get("AMT_GOODS_PRICE"))
    grid = _Grid(scorer, record, history)
    curve = pd_curve(grid, credit, annuity, goods)
    options = [
        option
        for option in (
            _search_credit(grid, credit, annuity, goods, credit_bounds),
            _search_term(grid, credit, annuity, goods, term_bounds) if annuity is not None else None,
        )
        if option is not None
    ]
    if not options:
        low = credit * max(credit_bounds[0], 0.0)
        term_text = (
            f" and no term from {term_bounds[0]} to {term_bounds[1]} months" if annuity is not None else ""
        )
        return Hint(
            "none",
            current.pd,
            current.decision,
            sentence=(
                f"None within bounds: no credit amount from {low:,.0f} to {credit:,.0f}{term_text} "
                f"brings the decision to ACCEPT. {why_terms_cannot_help(current)}"
            ),
            curve=curve,
        )
    sentence = options[0].sentence
    if len(options) > 1:
        second = options[1].sentence
        sentence += " Alternatively, " + second[0].lower() + second[1:]
    return Hint("found", current.pd, current.decision, tuple(options), sentence, curve)


def pd_curve(
    grid: _Grid, credit: float, annuity: float | None, goods: float | None
) -> tuple[tuple[float, float], ...]:
    """PD for credit amounts from 30 % to 100 % of the current one (same term), scored in one call."""
    amounts = [round(credit * f, 2) for f in CURVE_FRACTIONS]
    pds, _ = grid.score([_credit_changes(credit, annuity, goods, a) for a in amounts])
    return tuple((a, float(p)) for a, p in zip(amounts, pds, strict=True))


def curve_text(curve: tuple[tuple[float, float], ...], threshold: float) -> str:
    """The curve as one line of block characters ("PD by amount 30 %..100 %: ▁▂▂▃▅▆█"), threshold noted."""
    if not curve:
        return ""
    blocks = "▁▂▃▄▅▆▇█"
    pds = [p for _, p in curve]
    low, high = min([*pds, threshold]), max([*pds, threshold])
    span = high - low or 1.0
    line = "".join(blocks[min(7, int((p - low) / span * 7.999))] for p in pds)
    below = sum(p < threshold for p in pds)
    return (
        f"PD by amount ({curve[0][0]:,.0f} to {curve[-1][0]:,.0f}): {line}  "
        f"{_pct(pds[0])} to {_pct(pds[-1])}; {below} of {len(pds)} amounts under the threshold"
    )


def lever_changes(
    record: Mapping[str, Any],
    *,
    product: ProductTerms | None = None,
    credit: float | None = None,
    term_months: float | None = None,
    down_payment: float | None = None,
    proven_income: float | None = None,
    co_borrower_income: float | None = None,
) -> dict[str, float]:
    """Turn the levers a client can act on into raw application changes for :meth:`Scorer.what_if`.

    Args:
        record: The client's raw application.
        product: Currency and interest rate (the term uses the annuity formula at that rate; 0: before
            interest, term = credit / monthly repayment).
        credit: New credit amount (the term is kept: the monthly repayment scales with it).
        term_months: New number of monthly repayments (the monthly repayment follows).
        down_payment: Amount the client pays from own funds: credit = goods price - down payment.
        proven_income: Declared yearly income, proved by documents.
        co_borrower_income: A co-borrower's yearly income, added to the declared income.

    Returns:
        Raw column -> new value (AMT_CREDIT, AMT_ANNUITY, AMT_GOODS_PRICE, AMT_INCOME_TOTAL).

    Raises:
        ValueError: For a lever that cannot be applied (e.g. a down payment larger than the goods price).
    """
    product = product or ProductTerms()
    changes: dict[str, float] = {}
    old_credit = _number(record.get("AMT_CREDIT"))
    annuity = _number(record.get("AMT_ANNUITY"))
    goods = _number(record.get("AMT_GOODS_PRICE"))
    months = product.term_months(old_credit, annuity) if term_months is None else term_months
    new_credit = credit if credit is not None else old_credit
    if down_payment is not None:
        if goods is None or not 0 <= down_payment < goods:
            raise ValueError("The down payment must be at least 0 and less than the goods price.")
        new_credit = goods - down_payment
    if new_credit is not None and new_credit != old_credit:
        changes["AMT_CREDIT"] = round(new_credit, 2)
        if goods is not None and goods < new_credit:
            changes["AMT_GOODS_PRICE"] = round(new_credit, 2)
    if new_credit is not None and months is not None and (term_months is not None or "AMT_CREDIT" in changes):
        if not 1 <= months <= 600:
            raise ValueError("The term must be from 1 to 600 months.")
        changes["AMT_ANNUITY"] = round(product.repayment(new_credit, months), 2)
    income = _number(record.get("AMT_INCOME_TOTAL"))
    if proven_income is not None:
        income = proven_income
    if co_borrower_income is not None:
        income = (income or 0.0) + co_borrower_income
    if income is not None and (proven_income is not None or co_borrower_income is not None):
        changes["AMT_INCOME_TOTAL"] = round(income, 2)
    return changes
