"""A decision being taken on the client screen, and how it is recorded in the audit log.

UI-free: the decision dialog shows a :class:`DecisionDraft` and calls :func:`record_decision` in a thread
worker; the record is confirmed only once :meth:`credit_tui.audit.AuditStore.record` has committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from credit_tui.audit import (
    AuditError,
    DecisionError,
    DecisionRequest,
    input_row_hash,
    needs_justification,
)
from credit_tui.counter_offer import Terms
from trainer.decision import Decision

if TYPE_CHECKING:
    from credit_tui.audit import DecisionRecord
    from credit_tui.services import Services
    from trainer.scoring import Explanation


@dataclass(frozen=True)
class DecisionDraft:
    """What the advisor is about to record.

    Attributes:
        client_id: The client's SK_ID_CURR.
        final_decision: ACCEPT or REFUSE, the advisor's choice.
        model_decision: ACCEPT, REFUSE or REVIEW for the row shown (what-if edits included).
        pd: The PD shown for that row.
        row: The client's raw record with the what-if edits applied (never stored as the client's data).
        history: The client's history features, or None.
        whatif: Edited fields: name -> (client's value, value decided on); empty without a what-if.
        previous: The client's latest recorded decision, which this one corrects (None for a first one).
    """

    client_id: int
    final_decision: str
    model_decision: str
    pd: float
    row: Mapping[str, Any]
    history: Mapping[str, float] | None
    whatif: Mapping[str, tuple[Any, float | None]] = field(default_factory=dict)
    previous: DecisionRecord | None = None
    #: Sent with every attempt to record this draft: a retry after a lost connection records it once.
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def needs_justification(self) -> bool:
        """True when the advisor overrides the model or decides a REVIEW case."""
        return needs_justification(self.model_decision, self.final_decision)

    @property
    def override(self) -> bool:
        """True when the advisor decides against the model's ACCEPT or REFUSE."""
        return self.model_decision != Decision.REVIEW and self.final_decision != self.model_decision

    @property
    def input_hash(self) -> str:
        """SHA-256 of the row decided on (what-if edits included)."""
        return input_row_hash(self.row)


def draft_for(
    client_id: int,
    final_decision: str,
    record: Mapping[str, Any],
    history: Mapping[str, float] | None,
    shown: Explanation,
    whatif: Mapping[str, tuple[Any, float | None]],
    previous: DecisionRecord | None,
) -> DecisionDraft:
    """The draft of a decision on the row the advisor sees: the client's record with any what-if edits.

    Args:
        client_id: The client's SK_ID_CURR.
        final_decision: ACCEPT or REFUSE.
        record: The client's own raw record.
        history: The client's history features, or None.
        shown: The explanation of the row decided on (the what-if's when edits are active).
        whatif: Edited fields: name -> (client's value, new value); empty without a what-if.
        previous: The client's latest recorded decision, or None.
    """
    row = {**record, **{name: new for name, (_, new) in whatif.items() if new is not None}}
    return DecisionDraft(
        client_id=client_id,
        final_decision=final_decision,
        model_decision=shown.decision,
        pd=shown.pd,
        row=row,
        history=history,
        whatif=dict(whatif),
        previous=previous,
    )


def record_decision(
    services: Services, draft: DecisionDraft, justification: str, override_code: str = ""
) -> DecisionRecord:
    """Score the draft's row again and append the decision to the audit log (blocking: use a worker).

    Args:
        services: The app's services (scorer, advisor, audit store).
        draft: The decision shown in the dialog.
        justification: The advisor's words.
        override_code: Why the advisor overrides the model or decides a REVIEW case
            (a key of :data:`credit_tui.audit.OVERRIDE_CODES`; "" when the decision follows the model).

    Returns:
        The record, once committed.

    Raises:
        AuditError: When no audit log is open or it cannot be written (nothing recorded).
        DecisionError: When the decision is invalid, e.g. a missing justification (nothing recorded).
    """
    store = services.audit
    if store is None:
        raise AuditError("No audit database is open, so decisions cannot be recorded; start with --audit-db.")
    if not services.advisor.strip():
        raise DecisionError(
            "Nobody is named as the advisor, so decisions cannot be recorded; start the app with "
            "--advisor NAME or set advisor under [desk] in the config file (see the README)."
        )
    scorer = services.scorer
    explanation = scorer.explain(draft.row, draft.history)
    if explanation.decision != draft.model_decision:
        raise DecisionError(
            f"The model now says {explanation.decision} for client {draft.client_id}, not "
            f"{draft.model_decision}; close this dialog and decide again."
        )
    return store.record(
        DecisionRequest(
            advisor=services.advisor,
            client_id=draft.client_id,
            bundle_id=str(scorer.bundle.model_id),
            threshold=scorer.threshold,
            pd=explanation.pd,
            model_decision=explanation.decision,
            final_decision=draft.final_decision,
            input_hash=draft.input_hash,
            reasons=scorer.reasons(explanation),
            justification=justification,
            corrects=None if draft.previous is None else draft.previous.id,
            override_code=override_code if draft.needs_justification else "",
            terms=Terms.from_whatif(draft.row, draft.whatif, services.desk.product).to_json()
            if draft.whatif
            else "",
            request_id=draft.request_id,
        )
    )
