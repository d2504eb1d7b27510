"""Human labels, units and plain-language reasons for the model's features.

Advisors never see raw feature names: every feature has a short label, values are shown in human units
(years, amounts with thousands separators, ratios in %), and refusals are worded as plain sentences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Unit = Literal["amount", "years", "pct", "score", "count", "flag", "months", "days", "category", "number"]


@dataclass(frozen=True)
class FeatureLabel:
    """How one feature is shown.

    Attributes:
        label: Short human label ("Credit / income ratio").
        unit: How values are formatted.
        reason: Plain sentence used when the feature pushes a refusal; ``{value}`` is the formatted value.
    """

    label: str
    unit: Unit
    reason: str = ""


_L = FeatureLabel
LABELS: dict[str, FeatureLabel] = {
    "CNT_CHILDREN": _L(
        "Children", "count", "The number of dependent children ({value}) weighs on the budget."
    ),
    "AMT_INCOME_TOTAL": _L(
        "Declared income (yearly)", "amount", "The declared yearly income ({value}) is low."
    ),
    "AMT_CREDIT": _L("Credit amount", "amount", "The amount requested ({value}) is high."),
    "AMT_ANNUITY": _L("Monthly repayment (annuity)", "amount", "The monthly repayment ({value}) is high."),
    "AMT_GOODS_PRICE": _L("Goods price", "amount", "The price of the goods financed ({value}) is high."),
    "REGION_POPULATION_RELATIVE": _L("Region population (relative)", "number"),
    "OWN_CAR_AGE": _L("Car age (years)", "number"),
    "FLAG_EMP_PHONE": _L("Employer phone given", "flag"),
    "FLAG_WORK_PHONE": _L("Work phone given", "flag"),
    "FLAG_PHONE": _L("Home phone given", "flag"),
    "FLAG_EMAIL": _L("Email given", "flag"),
    "CNT_FAM_MEMBERS": _L("Family members", "count"),
    "REGION_RATING_CLIENT": _L(
        "Region rating (1 best, 3 worst)", "count", "The region of residence is rated {value} of 3."
    ),
    "REGION_RATING_CLIENT_W_CITY": _L(
        "Region and city rating (1-3)", "count", "The region and city are rated {value} of 3."
    ),
    "HOUR_APPR_PROCESS_START": _L("Hour of application", "count"),
    "REG_REGION_NOT_LIVE_REGION": _L("Lives outside registered region", "flag"),
    "REG_REGION_NOT_WORK_REGION": _L("Works outside registered region", "flag"),
    "LIVE_REGION_NOT_WORK_REGION": _L("Works outside home region", "flag"),
    "REG_CITY_NOT_LIVE_CITY": _L("Lives outside registered city", "flag"),
    "REG_CITY_NOT_WORK_CITY": _L("Works outside registered city", "flag"),
    "LIVE_CITY_NOT_WORK_CITY": _L("Works outside home city", "flag"),
    "EXT_SOURCE_1": _L("External score 1", "score", "External credit score 1 is low ({value})."),
    "EXT_SOURCE_2": _L("External score 2", "score", "External credit score 2 is low ({value})."),
    "EXT_SOURCE_3": _L("External score 3", "score", "External credit score 3 is low ({value})."),
    "TOTALAREA_MODE": _L("Building: total area (normalised)", "number"),
    "OBS_30_CNT_SOCIAL_CIRCLE": _L("Social circle: contacts observed (30 days)", "count"),
    "DEF_30_CNT_SOCIAL_CIRCLE": _L(
        "Social circle: defaults (30 days)",
        "count",
        "{value} people in the client's social circle defaulted recently.",
    ),
    "OBS_60_CNT_SOCIAL_CIRCLE": _L("Social circle: contacts observed (60 days)", "count"),
    "DEF_60_CNT_SOCIAL_CIRCLE": _L(
        "Social circle: defaults (60 days)",
        "count",
        "{value} people in the client's social circle defaulted.",
    ),
    "FLAG_DOCUMENT_3": _L("Document 3 provided", "flag"),
    "AMT_REQ_CREDIT_BUREAU_HOUR": _L("Bureau enquiries (last hour)", "count"),
    "AMT_REQ_CREDIT_BUREAU_DAY": _L("Bureau enquiries (last day)", "count"),
    "AMT_REQ_CREDIT_BUREAU_WEEK": _L("Bureau enquiries (last week)", "count"),
    "AMT_REQ_CREDIT_BUREAU_MON": _L("Bureau enquiries (last month)", "count"),
    "AMT_REQ_CREDIT_BUREAU_QRT": _L("Bureau enquiries (last quarter)", "count"),
    "AMT_REQ_CREDIT_BUREAU_YEAR": _L(
        "Bureau enquiries (last year)", "count", "Lenders enquired about the client {value} times last year."
    ),
    "AGE_YEARS": _L("Age (years)", "years", "The applicant's age ({value}) is associated with higher risk."),
    "EMPLOYED_YEARS": _L("Employment (years)", "years", "The current employment is recent ({value})."),
    "DAYS_EMPLOYED_PLACEHOLDER": _L("Not employed (pensioner or unemployed)", "flag"),
    "REGISTRATION_YEARS": _L("Years since registration change", "years"),
    "ID_PUBLISH_YEARS": _L(
        "Years since identity document", "years", "The identity document was issued recently ({value})."
    ),
    "PHONE_CHANGE_YEARS": _L(
        "Years since phone change", "years", "The phone number changed recently ({value})."
    ),
    "CREDIT_INCOME_RATIO": _L(
        "Credit / income ratio", "pct", "The credit amount is {value} of yearly income."
    ),
    "ANNUITY_INCOME_RATIO": _L(
        "Monthly repayment / yearly income",
        "pct",
        "One monthly repayment is {value} of the declared yearly income.",
    ),
    "ANNUITY_CREDIT_RATIO": _L(
        "Monthly repayment / credit", "pct", "Each monthly repayment is {value} of the credit."
    ),
    "CREDIT_TERM_MONTHS": _L(
        "Term (credit / monthly repayment)", "months", "The term ({value}, before interest) is unusual."
    ),
    "GOODS_CREDIT_RATIO": _L(
        "Goods price / credit ratio", "pct", "Much of the credit does not finance goods ({value})."
    ),
    "EMPLOYED_AGE_RATIO": _L(
        "Share of life employed", "pct", "The employment history is short for the age ({value})."
    ),
    "INCOME_PER_PERSON": _L(
        "Income per family member", "amount", "Income per family member is low ({value})."
    ),
    "EXT_SOURCE_MEAN": _L(
        "External scores (mean)", "score", "External credit scores are low (mean {value})."
    ),
    "EXT_SOURCE_MIN": _L(
        "External scores (lowest)", "score", "At least one external credit score is low ({value})."
    ),
    "EXT_SOURCE_MAX": _L(
        "External scores (highest)", "score", "Even the best external credit score is low ({value})."
    ),
    "EXT_SOURCE_PROD": _L(
        "External scores (product)", "score", "External credit scores are low together ({value})."
    ),
    "DOCUMENT_COUNT": _L("Documents provided", "count"),
    "NAME_CONTRACT_TYPE": _L("Contract type", "category", "Contract type ({value}) carries higher risk."),
    "CODE_GENDER": _L("Gender", "category"),
    "FLAG_OWN_CAR": _L("Owns a car", "category"),
    "FLAG_OWN_REALTY": _L("Owns real estate", "category"),
    "NAME_TYPE_SUITE": _L("Accompanied by", "category"),
    "NAME_INCOME_TYPE": _L("Income type", "category", "The income type ({value}) carries higher risk."),
    "NAME_EDUCATION_TYPE": _L(
        "Education", "category", "The education level ({value}) is associated with higher risk."
    ),
    "NAME_FAMILY_STATUS": _L("Family status", "category"),
    "NAME_HOUSING_TYPE": _L(
        "Housing", "category", "The housing situation ({value}) is associated with higher risk."
    ),
    "OCCUPATION_TYPE": _L(
        "Occupation", "category", "The occupation ({value}) is associated with higher risk."
    ),
    "WEEKDAY_APPR_PROCESS_START": _L("Day of application", "category"),
    "ORGANIZATION_TYPE": _L(
        "Employer type", "category", "The employer's sector ({value}) carries higher risk."
    ),
    "FONDKAPREMONT_MODE": _L("Building: repair fund", "category"),
    "HOUSETYPE_MODE": _L("Building: type", "category"),
    "WALLSMATERIAL_MODE": _L("Building: walls", "category"),
    "EMERGENCYSTATE_MODE": _L("Building: emergency state", "category"),
    "BUREAU_COUNT": _L("Bureau credits (all)", "count"),
    "BUREAU_ACTIVE_COUNT": _L(
        "Bureau credits active", "count", "The client has {value} credits running elsewhere."
    ),
    "BUREAU_CLOSED_COUNT": _L("Bureau credits closed", "count"),
    "BUREAU_BAD_DEBT_COUNT": _L(
        "Bureau credits sold or bad debt", "count", "{value} past credits ended as bad debt."
    ),
    "BUREAU_RECENT_COUNT": _L(
        "Bureau credits opened last year", "count", "{value} credits were opened elsewhere last year."
    ),
    "BUREAU_ACTIVE_DEBT": _L(
        "Debt on active bureau credits", "amount", "Outstanding debt elsewhere is high ({value})."
    ),
    "BUREAU_ACTIVE_CREDIT": _L("Amount of active bureau credits", "amount"),
    "BUREAU_OVERDUE_SUM": _L(
        "Overdue amount at the bureau", "amount", "The bureau reports {value} currently overdue."
    ),
    "BUREAU_PROLONG_COUNT": _L("Bureau credits prolonged", "count"),
    "BUREAU_MAX_DAYS_OVERDUE": _L(
        "Days overdue at the bureau (max)", "days", "A credit elsewhere is {value} overdue."
    ),
    "BUREAU_MAX_OVERDUE_AMOUNT": _L(
        "Largest overdue amount at the bureau", "amount", "Up to {value} was overdue on past credits."
    ),
    "BUREAU_DEBT_CREDIT_RATIO": _L(
        "Active bureau debt / credit", "pct", "{value} of active credits elsewhere is still owed."
    ),
    "BUREAU_YEARS_SINCE_LAST_CREDIT": _L("Years since last bureau credit", "years"),
    "BUREAU_BALANCE_MONTHS": _L("Bureau months on record", "count"),
    "BUREAU_BALANCE_LATE_SHARE": _L(
        "Bureau months past due", "pct", "{value} of months on record at the bureau were past due."
    ),
    "PREV_COUNT": _L("Previous applications", "count"),
    "PREV_APPROVED_COUNT": _L("Previous applications approved", "count"),
    "PREV_REFUSED_COUNT": _L(
        "Previous applications refused", "count", "{value} previous applications were refused."
    ),
    "PREV_RECENT_REFUSED_COUNT": _L(
        "Refusals in the last year", "count", "{value} applications were refused in the last year."
    ),
    "PREV_CREDIT_APPLICATION_RATIO": _L("Granted / asked on previous applications", "pct"),
    "PREV_AMT_CREDIT_MEAN": _L("Previous credits (mean amount)", "amount"),
    "PREV_REFUSED_SHARE": _L(
        "Previous applications refused (share)", "pct", "{value} of previous applications were refused."
    ),
    "PREV_YEARS_SINCE_LAST_DECISION": _L("Years since last application", "years"),
    "INST_COUNT": _L("Instalments on record", "count"),
    "INST_LATE_SHARE": _L("Instalments paid late", "pct", "{value} of past instalments were paid late."),
    "INST_DAYS_LATE_MEAN": _L(
        "Days late per instalment (mean)", "days", "Instalments were paid {value} late on average."
    ),
    "INST_DAYS_LATE_MAX": _L("Days late (worst instalment)", "days", "One instalment was paid {value} late."),
    "INST_UNDERPAID_SHARE": _L(
        "Instalments underpaid", "pct", "{value} of past instalments were not paid in full."
    ),
    "INST_PAYMENT_RATIO": _L("Paid / due on instalments", "pct", "Only {value} of amounts due were paid."),
    "INST_RECENT_LATE_SHARE": _L(
        "Instalments late in the last year", "pct", "{value} of last year's instalments were late."
    ),
    "POS_MONTHS": _L("Months of shop/cash loans", "count"),
    "POS_DPD_MAX": _L(
        "Days past due on shop/cash loans (max)", "days", "A shop or cash loan was {value} past due."
    ),
    "POS_DPD_DEF_MAX": _L(
        "Days past due with tolerance (max)", "days", "A loan was {value} past due beyond tolerance."
    ),
    "POS_RECENT_DPD_MAX": _L(
        "Days past due last year (max)", "days", "A loan was {value} past due in the last year."
    ),
    "POS_DPD_MEAN": _L("Days past due on shop/cash loans (mean)", "days"),
    "POS_LATE_SHARE": _L(
        "Months past due on shop/cash loans", "pct", "{value} of months on shop/cash loans were past due."
    ),
    "CC_MONTHS": _L("Months of credit card history", "count"),
    "CC_UTILISATION_MAX": _L(
        "Credit card use of limit (max)", "pct", "Credit cards were used up to {value} of their limit."
    ),
    "CC_DPD_MAX": _L(
        "Credit card days past due (max)", "days", "A credit card payment was {value} past due."
    ),
    "CC_UTILISATION_MEAN": _L(
        "Credit card use of limit (mean)", "pct", "Credit cards are used at {value} of their limit."
    ),
    "CC_RECENT_UTILISATION": _L(
        "Credit card use of limit (6 months)", "pct", "Credit cards were at {value} of their limit lately."
    ),
    "CC_LATE_SHARE": _L("Credit card months past due", "pct", "{value} of credit card months were past due."),
    "CC_DRAWINGS_MEAN": _L("Credit card drawings (monthly mean)", "amount"),
    "CC_ACTIVE_UTILISATION": _L(
        "Active cards: use of limit", "pct", "Active credit cards are at {value} of their limit."
    ),
}

_HOUSING_WORDS = {
    "APARTMENTS": "apartments",
    "BASEMENTAREA": "basement area",
    "YEARS_BEGINEXPLUATATION": "years in use",
    "YEARS_BUILD": "age",
    "COMMONAREA": "common area",
    "ELEVATORS": "elevators",
    "ENTRANCES": "entrances",
    "FLOORSMAX": "floors (max)",
    "FLOORSMIN": "floors (min)",
    "LANDAREA": "land area",
    "LIVINGAPARTMENTS": "living apartments",
    "LIVINGAREA": "living area",
    "NONLIVINGAPARTMENTS": "non-living apartments",
    "NONLIVINGAREA": "non-living area",
}


def feature_label(name: str) -> FeatureLabel:
    """Return how feature ``name`` is shown; unknown names get a readable label from the name itself."""
    if name in LABELS:
        return LABELS[name]
    stem = name.removesuffix("_AVG")
    if stem in _HOUSING_WORDS:
        return FeatureLabel(f"Building: {_HOUSING_WORDS[stem]} (normalised)", "number")
    return FeatureLabel(name.replace("_", " ").capitalize(), "number")


def format_value(value: float | str | None, unit: Unit) -> str:
    """Format a raw feature value in human units ("34.2 years", "1,250,000", "23.5 %", "unknown")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    if isinstance(value, str) or unit == "category":
        return str(value)
    if unit == "amount":
        return f"{value:,.0f}"
    if unit == "years":
        return f"{value:.1f} years"
    if unit == "pct":
        return f"{value * 100:.1f} %"
    if unit == "score":
        return f"{value:.2f}"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "flag":
        return "yes" if value >= 0.5 else "no"
    if unit in ("months", "days"):
        whole = round(value)
        return f"{whole:,} {unit[:-1] if whole == 1 else unit}"
    return f"{value:,.4g}"


def reason_sentence(name: str, value: float | str | None) -> str:
    """Plain-language reason for a feature that pushed the risk up."""
    info = feature_label(name)
    shown = format_value(value, info.unit)
    if info.reason:
        return info.reason.format(value=shown)
    return f"{info.label} ({shown}) raises the estimated risk."
