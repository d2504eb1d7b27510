"""Reasons a client can understand: reason families, PD points, at most four second-person reasons.

One code path serves the client screen, the letter, the audit record and ``trainer explain``:
:func:`explain_families` groups an :class:`~trainer.scoring.Explanation` into families and
:func:`client_reasons` picks the reasons a client is told.

- **Families** group correlated features (the three external scores and their mean, min, max and
  product; every lateness measure of earlier loans; ...). A family's contribution is the sum of its
  members' TreeSHAP values in log-odds (SHAP values are additive, so the sum is the family's exact share).
  Only client-facing features (:func:`trainer.policy.is_client_facing`) belong to a family that can be
  told to a client; every other feature lands in :data:`NOT_SHOWN`, which informs the advisor and is
  never a client reason. A client-facing feature without a family of its own is its own family.
- **PD points**: contributions are in log-odds. They are mapped to percentage points of PD exactly along
  a path: starting from the base rate (the PD of the base value), the families are added one at a time in
  order of decreasing absolute log-odds, and each gets the change of PD its step causes. The steps add up
  to the PD minus the base rate exactly. (The first-order approximation ``p(1-p) * phi`` is not used.)
- **Reasons**: for a REFUSE or REVIEW, the families that raise the risk most, at most four, in the second
  person, each with what the client can do when something can be done.
- **Strengths**: the families that lower the risk most, for the advisor of an accepted client near the
  threshold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trainer.decision import Decision
from trainer.labels import feature_label
from trainer.plain import DEFAULT_CURRENCY
from trainer.policy import is_client_facing
from trainer.registry import BUREAU_ENQUIRIES

if TYPE_CHECKING:
    from trainer.scoring import Contribution, Explanation

MAX_REASONS = 4
#: A family raising the PD by less than this (0.1 point) is not a principal reason (the first one always is).
MIN_REASON_POINTS = 0.001
#: Strengths are shown for an accepted client whose PD is within this distance of the threshold.
STRENGTHS_WITHIN = 0.02


@dataclass(frozen=True)
class Family:
    """A group of correlated features told to a client as one reason.

    Attributes:
        key: Stable identifier (recorded in the audit log's reason features).
        label: Short label for the advisor ("External credit scores").
        raises: Second-person sentence when the family raises the risk.
        lowers: Second-person sentence when it lowers the risk (a strength).
        action: What the client can do ("" when nothing can be done).
        members: Feature names of the family.
    """

    key: str
    label: str
    raises: str
    lowers: str
    action: str
    members: tuple[str, ...]


def _f(key: str, label: str, raises: str, lowers: str, action: str, *members: str) -> Family:
    return Family(key, label, raises, lowers, action, members)


FAMILIES: tuple[Family, ...] = (
    _f(
        "external_scores",
        "External credit scores",
        "Your credit scores from external credit bureaus are low",
        "Your credit scores from external credit bureaus are good",
        "Check your file at the credit bureaus and have any error corrected; scores improve as credits "
        "are repaid on time.",
        "EXT_SOURCE_1",
        "EXT_SOURCE_2",
        "EXT_SOURCE_3",
        "EXT_SOURCE_MEAN",
        "EXT_SOURCE_MIN",
        "EXT_SOURCE_MAX",
        "EXT_SOURCE_PROD",
    ),
    _f(
        "repayment_history",
        "Repayment history on earlier loans",
        "Your repayment history shows late or missed payments on earlier loans",
        "You repaid your earlier loans on time",
        "Paying every instalment in full and on time improves this over the coming months.",
        "INST_LATE_SHARE",
        "INST_DAYS_LATE_MEAN",
        "INST_DAYS_LATE_MAX",
        "INST_UNDERPAID_SHARE",
        "INST_PAYMENT_RATIO",
        "INST_RECENT_LATE_SHARE",
        "POS_DPD_MAX",
        "POS_DPD_DEF_MAX",
        "POS_RECENT_DPD_MAX",
        "POS_DPD_MEAN",
        "POS_LATE_SHARE",
        "CC_DPD_MAX",
        "CC_LATE_SHARE",
        "BUREAU_MAX_DAYS_OVERDUE",
        "BUREAU_MAX_OVERDUE_AMOUNT",
        "BUREAU_BALANCE_LATE_SHARE",
        "BUREAU_BAD_DEBT_COUNT",
        "BUREAU_PROLONG_COUNT",
    ),
    _f(
        "current_debts",
        "Current debts at the credit bureau",
        "What you currently owe on other credits counts against the application",
        "You have little debt on other credits",
        "Repaying or consolidating some current credits, or lowering your card balances, reduces this.",
        "BUREAU_ACTIVE_COUNT",
        "BUREAU_ACTIVE_DEBT",
        "BUREAU_ACTIVE_CREDIT",
        "BUREAU_OVERDUE_SUM",
        "BUREAU_DEBT_CREDIT_RATIO",
        "BUREAU_RECENT_COUNT",
        "CC_UTILISATION_MAX",
        "CC_UTILISATION_MEAN",
        "CC_RECENT_UTILISATION",
        "CC_ACTIVE_UTILISATION",
        "CC_DRAWINGS_MEAN",
    ),
    _f(
        "credit_record",
        "Length of the credit record",
        "Your credit record (how long and how many credits) counts against the application",
        "You have a long credit record",
        "",
        "BUREAU_COUNT",
        "BUREAU_CLOSED_COUNT",
        "BUREAU_YEARS_SINCE_LAST_CREDIT",
        "BUREAU_BALANCE_MONTHS",
        "INST_COUNT",
        "POS_MONTHS",
        "CC_MONTHS",
        "PREV_COUNT",
        "PREV_APPROVED_COUNT",
        "PREV_AMT_CREDIT_MEAN",
        "PREV_CREDIT_APPLICATION_RATIO",
        "PREV_YEARS_SINCE_LAST_DECISION",
    ),
    _f(
        "recent_applications",
        "Recent credit applications",
        "You applied for credit several times recently, or earlier applications were refused",
        "You have few recent credit applications",
        "Waiting before applying again, rather than applying to several lenders at once, helps.",
        "PREV_REFUSED_COUNT",
        "PREV_RECENT_REFUSED_COUNT",
        "PREV_REFUSED_SHARE",
        *BUREAU_ENQUIRIES,
    ),
    _f(
        "loan_structure",
        "Loan structure: amount, term, down payment",
        "The amount, term or down payment of the loan you asked for counts against the application",
        "The loan you asked for is modest for this kind of credit",
        "A smaller amount, a longer term or a larger down payment lowers the amount to finance.",
        "AMT_CREDIT",
        "AMT_ANNUITY",
        "AMT_GOODS_PRICE",
        "ANNUITY_CREDIT_RATIO",
        "CREDIT_TERM_MONTHS",
        "GOODS_CREDIT_RATIO",
        "NAME_CONTRACT_TYPE",
    ),
    _f(
        "affordability",
        "Income and affordability",
        "The repayments are high compared with your declared income",
        "The repayments are comfortable for your declared income",
        "If your income is higher than declared, show proof of it; a co-borrower's income can also "
        "be taken into account.",
        "AMT_INCOME_TOTAL",
        "CREDIT_INCOME_RATIO",
        "ANNUITY_INCOME_RATIO",
        "INCOME_PER_PERSON",
        "NAME_INCOME_TYPE",
    ),
    _f(
        "employment",
        "Employment stability",
        "Your employment (how long, and in which kind of job) counts against the application",
        "Your employment is stable",
        "A work contract or payslips showing a longer or more stable employment can be taken into account.",
        "EMPLOYED_YEARS",
        "DAYS_EMPLOYED_PLACEHOLDER",
        "OCCUPATION_TYPE",
        "ORGANIZATION_TYPE",
    ),
    _f(
        "housing_assets",
        "Housing and assets",
        "Your housing situation and assets count against the application",
        "Your home or car ownership adds security",
        "",
        "NAME_HOUSING_TYPE",
        "FLAG_OWN_REALTY",
        "FLAG_OWN_CAR",
        "OWN_CAR_AGE",
    ),
)

#: The family of every feature that is never told to a client (advisor and analyst only).
NOT_SHOWN = Family(
    "not_shown",
    "Other inputs (never given as reasons)",
    "",
    "",
    "",
    (),
)

_FAMILY_OF: dict[str, Family] = {name: family for family in FAMILIES for name in family.members}


def family_of(name: str) -> Family:
    """The family feature ``name`` is told in; :data:`NOT_SHOWN` for a feature not told to clients."""
    if not is_client_facing(name):
        return NOT_SHOWN
    family = _FAMILY_OF.get(name)
    if family is not None:
        return family
    label = feature_label(name).label
    return Family(
        f"feature:{name}",
        label,
        f"Your {label.lower()} raises the estimated risk",
        f"Your {label.lower()} lowers the estimated risk",
        "",
        (name,),
    )


@dataclass(frozen=True)
class FamilyContribution:
    """One family's share of a client's score.

    Attributes:
        family: The family.
        log_odds: Sum of its members' TreeSHAP values (log-odds; positive raises the risk).
        points: Its change of PD along the ordered path (probability; 0.012 is 1.2 points).
        members: Its members' contributions, largest absolute value first.
    """

    family: Family
    log_odds: float
    points: float
    members: tuple[Contribution, ...]

    @property
    def client_facing(self) -> bool:
        """True when the family may be told to a client."""
        return self.family is not NOT_SHOWN


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def base_rate(explanation: Explanation) -> float:
    """The PD of the SHAP base value: the model's expected log-odds mapped to a probability."""
    return _sigmoid(explanation.base_value)


def path_points(base_value: float, log_odds: Sequence[float]) -> list[float]:
    """Map log-odds contributions to PD points exactly, adding them in the order given.

    Returns:
        One change of probability per contribution; together they sum to
        ``sigmoid(base_value + sum(log_odds)) - sigmoid(base_value)``.
    """
    points = []
    margin = base_value
    before = _sigmoid(margin)
    for value in log_odds:
        margin += value
        after = _sigmoid(margin)
        points.append(after - before)
        before = after
    return points


def feature_points(explanation: Explanation) -> dict[str, float]:
    """Every feature's contribution in PD points, along the path of decreasing |log-odds|."""
    ordered = sorted(explanation.contributions, key=lambda c: (-abs(c.contribution), c.feature))
    points = path_points(explanation.base_value, [c.contribution for c in ordered])
    return {c.feature: p for c, p in zip(ordered, points, strict=True)}


def explain_families(explanation: Explanation) -> list[FamilyContribution]:
    """Group a client's contributions into families, largest absolute log-odds first.

    Every feature is in exactly one family (:data:`NOT_SHOWN` included), so the families' log-odds sum
    to the margin minus the base value and their PD points to the PD minus the base rate.
    """
    groups: dict[str, tuple[Family, list[Contribution]]] = {}
    for contribution in explanation.contributions:
        family = family_of(contribution.feature)
        groups.setdefault(family.key, (family, []))[1].append(contribution)
    sums = [
        (family, members, math.fsum(c.contribution for c in members)) for family, members in groups.values()
    ]
    sums.sort(key=lambda item: (-abs(item[2]), item[0].key))
    points = path_points(explanation.base_value, [s for _, _, s in sums])
    return [
        FamilyContribution(family, total, point, tuple(members))
        for (family, members, total), point in zip(sums, points, strict=True)
    ]


@dataclass(frozen=True)
class Reason:
    """One reason as a client reads it.

    Attributes:
        family: Key of the family it comes from.
        text: The reason in the second person, with the telling value.
        action: What the client can do ("" when nothing can be done).
        points: The family's contribution in PD points.
        features: The member features behind it (client-facing only).
    """

    family: str
    text: str
    action: str
    points: float
    features: tuple[str, ...]

    def render(self) -> str:
        """The reason and what the client can do, as one paragraph (letter, audit record, CLI)."""
        return f"{self.text} What you can do: {self.action}" if self.action else self.text


def _telling(members: Iterable[Contribution], raising: bool) -> Contribution | None:
    """The member that pushes most in the family's direction and has a known value."""
    sign = 1.0 if raising else -1.0
    known = [c for c in members if c.value is not None and sign * c.contribution > 0]
    return max(known, key=lambda c: sign * c.contribution, default=None)


def _sentence(fc: FamilyContribution, raising: bool, currency: str = DEFAULT_CURRENCY) -> str:
    head = fc.family.raises if raising else fc.family.lowers
    member = _telling(fc.members, raising)
    if member is None:
        return f"{head}."
    shown = member.display_value
    if feature_label(member.feature).unit == "amount":
        shown = f"{shown} {currency}"
    return f"{head} ({member.label.lower()}: {shown})."


def _names(fc: FamilyContribution) -> tuple[str, ...]:
    return tuple(c.feature for c in fc.members)


def client_reasons(explanation: Explanation, max_reasons: int = MAX_REASONS) -> list[Reason]:
    """The principal reasons for a REFUSE or REVIEW: risk-raising client-facing families, at most four.

    The family raising the risk most always counts; the next ones only when they raise the PD by at least
    :data:`MIN_REASON_POINTS`. An ACCEPT gets no reasons. Features outside the client-facing families
    never appear.
    """
    if explanation.decision == Decision.ACCEPT:
        return []
    families = [fc for fc in explain_families(explanation) if fc.client_facing and fc.log_odds > 0]
    families.sort(key=lambda fc: -fc.log_odds)
    families = families[:1] + [fc for fc in families[1:] if fc.points >= MIN_REASON_POINTS]
    return [
        Reason(
            fc.family.key,
            _sentence(fc, raising=True),
            fc.family.action,
            fc.points,
            _names(fc),
        )
        for fc in families[:max_reasons]
    ]


def strengths(explanation: Explanation, max_items: int = MAX_REASONS) -> list[Reason]:
    """The client-facing families lowering the risk most (for the advisor), at most ``max_items``."""
    families = [fc for fc in explain_families(explanation) if fc.client_facing and fc.log_odds < 0]
    families.sort(key=lambda fc: fc.log_odds)
    return [
        Reason(
            fc.family.key, _sentence(fc, raising=False), "", fc.points, tuple(c.feature for c in fc.members)
        )
        for fc in families[:max_items]
    ]


def near_threshold(explanation: Explanation, within: float = STRENGTHS_WITHIN) -> bool:
    """True for an accepted client whose PD is within ``within`` of the threshold (show strengths)."""
    return explanation.decision == Decision.ACCEPT and explanation.threshold - explanation.pd <= within


#: Families the loan terms can change (the what-if levers act on them).
TERM_FAMILIES: frozenset[str] = frozenset({"loan_structure", "affordability"})


def why_terms_cannot_help(explanation: Explanation) -> str:
    """One sentence for when no change of the loan terms gives ACCEPT: what drives the score instead."""
    drivers = [
        fc
        for fc in explain_families(explanation)
        if fc.client_facing and fc.log_odds > 0 and fc.family.key not in TERM_FAMILIES
    ]
    if not drivers:
        return "No change of amount or term within the bounds brings the risk under the threshold."
    top = max(drivers, key=lambda fc: fc.log_odds)
    # "driven by the ...": the family labels are singular ("Employment stability") and plural ("Current
    # debts at the credit bureau") alike, and this wording reads right for both.
    return f"This score is driven mostly by the {top.family.label.lower()}; the loan terms cannot offset it."
