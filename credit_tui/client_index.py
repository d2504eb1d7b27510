"""Column arrays of the client list and the numpy query that filters and sorts them.

The search screen never hands rows to a widget one by one: it keeps one numpy array per column and
answers each query (ID prefix, filters, sort) with an index array of row positions, which the virtual
table draws a screenful at a time. Every step is vectorised, so a keystroke costs a few milliseconds
even at 356,255 clients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np

from trainer.decision import Decision
from trainer.id_positions import IdPositions

if TYPE_CHECKING:
    import pandas

IntArray = np.ndarray[Any, np.dtype[np.int64]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]

DECISIONS: Final = (Decision.ACCEPT, Decision.REVIEW, Decision.REFUSE)
"""Decisions in order of risk; a decision code is the position in this tuple, -1 while not scored yet."""

PENDING: Final = -1

STATUSES: Final = ("undecided", "decided", "overridden", "counter-offer")
"""Work-queue status from the audit log; a status code is the position in this tuple."""

UNDECIDED: Final = 0


def status_code(final_decision: str, override: bool) -> int:
    """The work-queue status of a client whose latest record has this decision (a code of STATUSES)."""
    if final_decision == "COUNTER_OFFER":  # recorded once counter-offers exist (issue 10)
        return STATUSES.index("counter-offer")
    return STATUSES.index("overridden") if override else STATUSES.index("decided")


SortKey = Literal["id", "status", "decision", "pd", "contract", "credit", "income", "term", "age"]
SORT_KEYS: Final[tuple[SortKey, ...]] = (
    "id",
    "status",
    "decision",
    "pd",
    "contract",
    "credit",
    "income",
    "term",
    "age",
)
COLUMN_TITLES: Final[dict[SortKey, str]] = {
    "id": "ID",
    "status": "Status",
    "decision": "Model",
    "pd": "PD %",
    "contract": "Contract",
    "credit": "Credit €",
    "income": "Income €/yr",
    "term": "Term mo",
    "age": "Age",
}
"""Column titles, with units: amounts in euros, income per year, term in months (credit / annuity)."""

#: Columns sorted largest first by default.
DESCENDING_FIRST: Final = frozenset({"pd", "credit", "income", "term"})


@dataclass(frozen=True)
class Query:
    """What the advisor asked the client list for.

    Attributes:
        prefix: Client ID prefix typed in the search box ("" for all).
        decision: Only this decision (None for all).
        contract: Only this contract type (None for all).
        pd_range: Only PDs in [low, high] (None for all).
        status: Only this work-queue status (see :data:`STATUSES`; None for all).
        sort: Column to sort by.
        descending: Sort from largest to smallest.
    """

    prefix: str = ""
    decision: str | None = None
    contract: str | None = None
    pd_range: tuple[float, float] | None = None
    status: str | None = None
    sort: SortKey = "id"
    descending: bool = False

    @property
    def filtered(self) -> bool:
        """Whether any filter (not counting the ID prefix) is active."""
        return (
            self.decision is not None
            or self.contract is not None
            or self.pd_range is not None
            or self.status is not None
        )

    @property
    def to_do(self) -> bool:
        """Whether this is the work queue: REVIEW clients not yet decided."""
        return self.decision == Decision.REVIEW and self.status == STATUSES[UNDECIDED]


LIST_COLUMNS: Final = (
    "SK_ID_CURR",
    "NAME_CONTRACT_TYPE",
    "AMT_CREDIT",
    "AMT_ANNUITY",
    "AMT_INCOME_TOTAL",
    "DAYS_BIRTH",
)
"""The application columns :meth:`ClientColumns.from_applications` reads (all the list needs)."""


@dataclass
class ClientColumns:
    """One array per displayed column, in portfolio order.

    Attributes:
        ids: SK_ID_CURR.
        contract_codes: Position of the contract type in ``contract_levels`` (-1 when missing).
        contract_levels: Contract type names.
        credit: Credit amount.
        annuity: Annuity.
        income: Declared yearly income.
        age: Age in years.
        pd: Probability of default (NaN until scored).
        decision: Decision code (see :data:`DECISIONS`; -1 until scored).
        status: Work-queue status code (see :data:`STATUSES`; undecided until the audit log is read).
        term: Term in months (credit / annuity; NaN when unknown).
    """

    ids: IntArray
    contract_codes: IntArray
    contract_levels: tuple[str, ...]
    credit: FloatArray
    annuity: FloatArray
    income: FloatArray
    age: FloatArray
    pd: FloatArray = field(init=False)
    decision: np.ndarray[Any, np.dtype[np.int8]] = field(init=False)
    status: np.ndarray[Any, np.dtype[np.int8]] = field(init=False)
    term: FloatArray = field(init=False)
    scored: int = 0
    _id_prefixes: tuple[np.ndarray[Any, np.dtype[np.str_]], IntArray] | None = field(
        init=False, repr=False, default=None
    )
    _orders: dict[tuple[SortKey, bool], IntArray] = field(init=False, repr=False, default_factory=dict)
    _ranks: dict[tuple[SortKey, bool], IntArray] = field(init=False, repr=False, default_factory=dict)
    _masks: dict[tuple[Any, ...], np.ndarray[Any, np.dtype[np.bool_]]] = field(
        init=False, repr=False, default_factory=dict
    )
    _positions: IdPositions = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.ids)
        self.pd = np.full(n, np.nan)
        self.decision = np.full(n, PENDING, dtype=np.int8)
        self.status = np.full(n, UNDECIDED, dtype=np.int8)
        with np.errstate(divide="ignore", invalid="ignore"):
            term = self.credit / self.annuity
        self.term = np.where(np.isfinite(term), term, np.nan)
        self._positions = IdPositions(self.ids)

    @classmethod
    def from_applications(cls, applications: pandas.DataFrame) -> ClientColumns:
        """Take the displayed columns from raw application rows (a portfolio's ``applications``)."""
        from trainer.features import DAYS_PER_YEAR

        def floats(name: str) -> FloatArray:
            if name not in applications:
                return np.full(len(applications), np.nan)
            values: FloatArray = applications[name].to_numpy(dtype=np.float64, na_value=np.nan)
            return values

        contract = applications["NAME_CONTRACT_TYPE"]
        if hasattr(contract, "cat"):
            codes: IntArray = np.asarray(contract.cat.codes.to_numpy(), dtype=np.int64)
            levels = tuple(str(c) for c in contract.cat.categories)
        else:
            values = contract.astype("string").fillna("")
            uniques = sorted(str(v) for v in set(values) if v)
            lookup = {v: i for i, v in enumerate(uniques)}
            codes = np.array([lookup.get(str(v), -1) for v in values], dtype=np.int64)
            levels = tuple(uniques)
        return cls(
            ids=applications["SK_ID_CURR"].to_numpy(dtype=np.int64),
            contract_codes=codes,
            contract_levels=levels,
            credit=floats("AMT_CREDIT"),
            annuity=floats("AMT_ANNUITY"),
            income=floats("AMT_INCOME_TOTAL"),
            age=-floats("DAYS_BIRTH") / DAYS_PER_YEAR,
        )

    def __len__(self) -> int:
        return len(self.ids)

    def position(self, client_id: int) -> int | None:
        """Row position of a client, or None when the ID is not in the list."""
        return self._positions.get(int(client_id))

    def set_scores(self, start: int, pds: FloatArray, decisions: np.ndarray[Any, Any]) -> None:
        """Store scores for rows ``start .. start + len(pds)`` (decisions as labels or codes)."""
        stop = start + len(pds)
        self.pd[start:stop] = pds
        labels = np.asarray(decisions)
        if labels.dtype.kind in "iu":
            self.decision[start:stop] = labels
        else:
            codes = np.full(len(labels), PENDING, dtype=np.int8)
            for code, name in enumerate(DECISIONS):
                codes[labels == name] = code
            self.decision[start:stop] = codes
        self.scored = max(self.scored, stop)
        self.invalidate_scores()

    def set_statuses(self, statuses: dict[int, int]) -> None:
        """Store work-queue status codes by client ID (clients not in the portfolio are ignored)."""
        for client_id, code in statuses.items():
            position = self._positions.get(int(client_id))
            if position is not None:
                self.status[position] = code
        for cache in (self._orders, self._ranks):
            for key in [k for k in cache if k[0] == "status"]:
                del cache[key]
        for key in [k for k in self._masks if k[3] is not None]:
            del self._masks[key]

    def invalidate_scores(self) -> None:
        """Forget cached sort orders and masks that depend on PD or decision."""
        for cache in (self._orders, self._ranks):
            for key in [k for k in cache if k[0] in ("pd", "decision")]:
                del cache[key]
        for key in [k for k in self._masks if k[0] is not None or k[2] is not None]:
            del self._masks[key]

    def values(self, key: SortKey) -> np.ndarray[Any, Any]:
        """The array sorted by column ``key``."""
        arrays: dict[SortKey, np.ndarray[Any, Any]] = {
            "id": self.ids,
            "status": self.status,
            "decision": self.decision,
            "pd": self.pd,
            "contract": self.contract_codes,
            "credit": self.credit,
            "income": self.income,
            "term": self.term,
            "age": self.age,
        }
        return arrays[key]

    def order(self, key: SortKey, descending: bool) -> IntArray:
        """Row positions sorted by ``key`` (stable; missing values and pending scores always last)."""
        cached = self._orders.get((key, descending))
        if cached is not None:
            return cached
        values = self.values(key)
        if values.dtype.kind == "f":
            sortable = -values if descending else values
            order = np.argsort(sortable, kind="stable")
        else:
            missing = values < 0 if key in ("decision", "contract") else np.zeros(len(values), dtype=bool)
            keyed = values.astype(np.int64)
            if descending:
                keyed = -keyed
            big = np.iinfo(np.int64).max
            order = np.argsort(np.where(missing, big, keyed), kind="stable")
        result = order.astype(np.int64)
        self._orders[(key, descending)] = result
        return result

    def _filter_mask(self, query: Query) -> np.ndarray[Any, np.dtype[np.bool_]] | None:
        if not query.filtered:
            return None
        key = (query.decision, query.contract, query.pd_range, query.status)
        cached = self._masks.get(key)
        if cached is not None:
            return cached
        mask = np.ones(len(self), dtype=bool)
        if query.decision is not None:
            mask &= self.decision == DECISIONS.index(query.decision)
        if query.contract is not None:
            code = (
                self.contract_levels.index(query.contract) if query.contract in self.contract_levels else -2
            )
            mask &= self.contract_codes == code
        if query.status is not None:
            mask &= self.status == (STATUSES.index(query.status) if query.status in STATUSES else -2)
        if query.pd_range is not None:
            low, high = query.pd_range
            with np.errstate(invalid="ignore"):
                mask &= (self.pd >= low) & (self.pd <= high)
        self._masks[key] = mask
        return mask

    def prepare_prefix_search(self) -> tuple[np.ndarray[Any, np.dtype[np.str_]], IntArray]:
        """The IDs as text, sorted, and their row positions: what :meth:`prefix_range` searches.

        Built on first use (0.2 s of CPU at 356k clients): the app builds it right after the list is
        first drawn, so neither the first screen nor the first keystroke waits for it.
        """
        if self._id_prefixes is None:
            id_strings = self.ids.astype(str)
            order = np.argsort(id_strings, kind="stable").astype(np.int64)
            self._id_prefixes = (id_strings[order], order)
        return self._id_prefixes

    def prefix_range(self, prefix: str) -> IntArray:
        """Row positions of the clients whose ID starts with ``prefix`` (binary search on sorted IDs)."""
        id_sorted, id_order = self.prepare_prefix_search()
        if not prefix:
            return id_order
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        low = int(np.searchsorted(id_sorted, prefix, side="left"))
        high = int(np.searchsorted(id_sorted, upper, side="left"))
        return id_order[low:high]

    def select(self, query: Query) -> IntArray:
        """Answer a query: row positions to show, in display order."""
        order = self.order(query.sort, query.descending)
        mask = self._filter_mask(query)
        prefix = query.prefix.strip()
        if prefix:
            matches = self.prefix_range(prefix)
            if len(matches) == 0:
                return np.empty(0, dtype=np.int64)
            if len(matches) * 8 < len(self):
                # Few matches: sort them directly instead of scanning the whole order.
                if mask is not None:
                    matches = matches[mask[matches]]
                ranks = self.ranks(query.sort, query.descending)
                return matches[np.argsort(ranks[matches], kind="stable")]
            hit = np.zeros(len(self), dtype=bool)
            hit[matches] = True
            mask = hit if mask is None else hit & mask
        if mask is None:
            return order
        return order[mask[order]]

    def ranks(self, key: SortKey, descending: bool) -> IntArray:
        """Rank of every row in the sort order of ``key`` (cached like the order)."""
        cached = self._ranks.get((key, descending))
        if cached is not None:
            return cached
        order = self.order(key, descending)
        ranks = np.empty(len(order), dtype=np.int64)
        ranks[order] = np.arange(len(order), dtype=np.int64)
        self._ranks[(key, descending)] = ranks
        return ranks
