"""The client screen's texts: PD and distance to the threshold, the PD in words, reasons and strengths.

UI-free (Rich ``Text`` only), so the client screen, whatever its layout, shows what the letter and the
audit log say: the reasons come from :func:`trainer.reasons.client_reasons` through
:meth:`trainer.scoring.Scorer.reasons`, and every number follows the rounding rule of :mod:`trainer.plain`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from trainer.decision import Decision
from trainer.plain import distance_to_threshold, format_pd, format_threshold, pd_in_words
from trainer.reasons import near_threshold, strengths
from trainer.text_safety import clean_text

if TYPE_CHECKING:
    from trainer.scoring import Explanation


def verdict_text(explanation: Explanation, band: tuple[float, float] | None) -> str:
    """PD and distance to the threshold ("PD 11.2 % · 2.1 pts above the threshold (9.14 %)")."""
    marks = [explanation.threshold, *(band or ())]
    where = (
        f"{distance_to_threshold(explanation.pd, explanation.threshold)} "
        f"({format_threshold(explanation.threshold)})"
    )
    if explanation.decision == Decision.REVIEW and band is not None:
        where += f"; inside the review band {format_threshold(band[0])}–{format_threshold(band[1])}"
    return f"PD {format_pd(explanation.pd, marks)} · {where}"


def reasons_text(explanation: Explanation, reasons: list[str]) -> Text:
    """The PD in words, then the client's reasons (REFUSE / REVIEW) or, near the threshold, strengths."""
    text = Text(pd_in_words(explanation.pd, explanation.threshold), style="italic")
    if explanation.decision == Decision.ACCEPT:
        if near_threshold(explanation):
            text.append("\nClose to the threshold. Strengths (for you, not the letter):", style="bold")
            for item in strengths(explanation):
                text.append(f"\n+ {item.text}")
        else:
            text.append("\nAccepted: the PD is below the threshold.", style="dim")
        return text
    if not reasons:
        text.append("\nNo reason a client can be given stands out.", style="dim")
    for reason in reasons:
        text.append(f"\n• {clean_text(reason)}")
    return text
