"""The decision letter sent to a client: Markdown and self-contained HTML.

It states the decision, the date, the principal reasons (at most four, in plain language, for a refusal),
the advisor, the version of the scoring model, and how to ask for a human review and contest the decision
(GDPR Art. 22, Consumer Credit Directive 2023/2225 Art. 18), with no internal jargon and no raw feature
names. The HTML has inline CSS only: no scripts, no links, no external resources; every value is escaped.

UI-free: ``credit-tui letter --client ID`` and the client screen's key both call :func:`write_letter`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final, TypedDict, Unpack

from credit_tui.audit import DecisionRecord
from credit_tui.config import DEFAULT_BANK, DEFAULT_CONTACT, DEFAULT_REVIEW_DAYS, DeskConfig
from credit_tui.counter_offer import Terms, counter_offer, granted_sentence
from trainer.atomic import write_text_new
from trainer.decision import FINAL_DECISIONS, Decision
from trainer.errors import UserError
from trainer.plain import pd_in_words
from trainer.text_safety import clean_text

LENDER: Final = DEFAULT_BANK
MAX_REASONS: Final = 4
#: What a raw feature name looks like (``AMT_CREDIT``, ``EXT_SOURCE_3``): never shown to a client.
JARGON: Final = re.compile(r"\b[A-Z]{2,}_[A-Z0-9_]+\b")
_MD_SPECIAL: Final = re.compile(r"([\\`*_\[\]<>|])")


class LetterError(UserError):
    """A letter that cannot be written (no final decision, folder missing, ...)."""


@dataclass(frozen=True)
class LetterContent:
    """Everything a decision letter says.

    Attributes:
        client_id: The client's reference (SK_ID_CURR).
        decision: The final decision, ACCEPT or REFUSE.
        date: The date of the decision.
        reasons: Plain-language reasons (at most four are shown; only for a refusal).
        advisor: The advisor who took the decision.
        model_id: The scoring model's version (bundle ``model_id``; the first 12 characters are shown).
        lender: The lender's name.
        contact: Where to ask for a human review.
        model_note: The model's release status ("UNRELEASED MODEL ..." when not signed by model risk).
        pd: The probability of default behind the decision (None: not stated).
        threshold: The bank's refusal threshold.
        terms: The loan granted when it differs from the one asked for (a counter-offer), else None.
        review_days: Days the client has to ask for a human review.
        override: True when the advisor decided against the model's ACCEPT or REFUSE.
    """

    client_id: int
    decision: str
    date: date
    reasons: tuple[str, ...]
    advisor: str
    model_id: str
    lender: str = LENDER
    contact: str = DEFAULT_CONTACT
    model_note: str = ""
    pd: float | None = None
    threshold: float | None = None
    terms: Terms | None = None
    review_days: int = DEFAULT_REVIEW_DAYS
    override: bool = False


#: The mark on every letter written with a model that no trusted key released.
UNRELEASED_NOTE = "UNRELEASED MODEL: not signed by model risk"


def review_by(letter: LetterContent) -> date:
    """The last day the client can ask for a human review."""
    return letter.date + timedelta(days=letter.review_days)


def plain(text: str) -> str:
    """Replace any raw feature name left in ``text`` by its human label (defensive: reasons are plain)."""
    from trainer.labels import feature_label

    cleaned = JARGON.sub(lambda m: feature_label(m.group(0)).label.lower(), text)
    return cleaned[:1].upper() + cleaned[1:]


def _long_date(day: date) -> str:
    return f"{day.day} {day.strftime('%B')} {day.year}"


def _content(
    client_id: int,
    decision: str,
    day: date | datetime,
    reasons: Sequence[str],
    advisor: str,
    model_id: str,
    lender: str,
    contact: str,
    model_note: str = "",
    **extra: object,
) -> LetterContent:
    if decision not in FINAL_DECISIONS:
        raise LetterError(
            f"Client {client_id} has no final decision yet ({decision}); record ACCEPT or REFUSE first."
        )
    if isinstance(day, datetime):
        day = day.date()
    # Letters quote the log and the command line: no control character (a newline in an advisor name
    # would start a Markdown heading or link line) reaches either rendering.
    shown = tuple(plain(clean_text(r).strip()) for r in reasons if r.strip())[:MAX_REASONS]
    return LetterContent(
        int(client_id),
        decision,
        day,
        shown,
        clean_text(advisor).strip(),
        clean_text(model_id),
        clean_text(lender),
        clean_text(contact),
        clean_text(model_note),
        **extra,  # type: ignore[arg-type]
    )


def _sections(letter: LetterContent) -> list[tuple[str, list[str]]]:
    """The letter as (heading, paragraphs) in plain text; both renderings are built from this."""
    accepted = letter.decision == Decision.ACCEPT
    decision_text = (
        "We are pleased to tell you that your credit application has been accepted."
        if accepted
        else "We are sorry to tell you that we cannot grant the credit you applied for."
    )
    decision_lines = [decision_text]
    if accepted and letter.terms is not None:
        decision_lines = [
            "We are pleased to offer you a credit on terms different from those you applied for.",
            granted_sentence(letter.terms),
            "This offer replaces your application; tell your advisor whether you accept it.",
        ]
    sections: list[tuple[str, list[str]]] = [
        ("Our decision", decision_lines),
    ]
    if not accepted:
        if letter.reasons:
            sections.append(
                (
                    "The main reasons",
                    [
                        "These are the main points that led to this decision, most important first:",
                        *[f"- {reason}" for reason in letter.reasons],
                    ],
                )
            )
        else:
            sections.append(
                (
                    "The main reasons",
                    [
                        "Your advisor took this decision after a personal review of your application. "
                        "You can ask us to explain the reasons in writing (see below)."
                    ],
                )
            )
    sections.append(
        (
            "How this decision was made",
            [
                f"Your application was assessed with the help of an automated credit-scoring model "
                f"(version {letter.model_id[:12]}), which estimates the risk that a credit cannot be "
                f"repaid. The final decision was taken and checked by your advisor, {letter.advisor}."
                + (f" {letter.model_note}." if letter.model_note else ""),
                *(
                    [pd_in_words(letter.pd, letter.threshold)]
                    if letter.pd is not None and letter.threshold is not None
                    else []
                ),
                *(
                    [
                        "Your advisor reached a different conclusion from the model after a personal review "
                        "of your file."
                    ]
                    if letter.override
                    else []
                ),
            ],
        )
    )
    sections.append(
        (
            "Your right to a human review",
            [
                "You have the right to ask for this decision to be looked at again by a person at "
                f"{letter.lender}, to give us your point of view, to receive an explanation of the "
                "decision, and to contest it. This does not cost anything.",
                f"To do so, contact {letter.contact}, quoting your reference {letter.client_id}, "
                f"within {letter.review_days} days, that is by {_long_date(review_by(letter))}. "
                "A member of staff who was not involved in the decision will review it and answer you "
                "in writing.",
                "You can also complain to your national data protection authority.",
            ],
        )
    )
    return sections


class _LetterRequired(TypedDict):
    decision: str
    date: date | datetime
    reasons: Sequence[str]
    advisor: str
    model_id: str


class LetterFields(_LetterRequired, total=False):
    """The keyword arguments of :func:`render_letter` but ``client_id`` (see it for their meaning)."""

    lender: str
    contact: str
    model_note: str
    pd: float | None
    threshold: float | None
    terms: Terms | None
    review_days: int
    override: bool


def render_letter(
    *,
    client_id: int,
    decision: str,
    date: date | datetime,
    reasons: Sequence[str],
    advisor: str,
    model_id: str,
    lender: str = LENDER,
    contact: str = DEFAULT_CONTACT,
    model_note: str = "",
    pd: float | None = None,
    threshold: float | None = None,
    terms: Terms | None = None,
    review_days: int = DEFAULT_REVIEW_DAYS,
    override: bool = False,
) -> tuple[str, str]:
    """Render a decision letter.

    Args:
        client_id: The client's reference.
        decision: ACCEPT or REFUSE (a REVIEW case must be decided first).
        date: The date of the decision.
        reasons: Plain reasons (``Scorer.reasons`` or the recorded reason codes); at most four are shown,
            and only in a refusal.
        advisor: The advisor's name.
        model_id: The model bundle's ``model_id``.
        lender: The lender's name.
        contact: Where the client asks for a human review.
        model_note: The model's release status (:data:`UNRELEASED_NOTE` for an unreleased model).
        pd: The PD behind the decision, stated in words (None: not stated).
        threshold: The refusal threshold, stated beside the PD.
        terms: The loan granted on a counter-offer (ACCEPT on modified terms), else None.
        review_days: Days the client has to ask for a human review.
        override: The advisor decided against the model (the letter says so).

    Returns:
        (Markdown text, self-contained HTML text).

    Raises:
        LetterError: When the decision is not ACCEPT or REFUSE.
    """
    letter = _content(
        client_id,
        decision,
        date,
        reasons,
        advisor,
        model_id,
        lender,
        contact,
        model_note,
        pd=pd,
        threshold=threshold,
        terms=terms,
        review_days=review_days,
        override=override,
    )
    return _markdown(letter), _html(letter)


def _verdict(letter: LetterContent) -> str:
    if letter.decision != Decision.ACCEPT:
        return "Refused"
    return "Accepted on modified terms" if letter.terms is not None else "Accepted"


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _markdown(letter: LetterContent) -> str:
    lines = [
        f"# {_md(letter.lender)}: decision on your credit application",
        "",
        f"Date: {_long_date(letter.date)}  ",
        f"Your reference: {letter.client_id}  ",
        f"Decision: **{_verdict(letter)}**",
        "",
    ]
    for heading, paragraphs in _sections(letter):
        lines += [f"## {_md(heading)}", ""]
        for paragraph in paragraphs:
            if paragraph.startswith("- "):
                lines.append(f"- {_md(paragraph[2:])}")
            else:
                lines += [_md(paragraph), ""]
        if lines[-1] != "":
            lines.append("")
    lines += [f"{_md(letter.advisor)}, for {_md(letter.lender)}", ""]
    return "\n".join(lines)


_CSS: Final = (
    "body{font-family:Georgia,'Times New Roman',serif;max-width:42em;margin:2em auto;padding:0 1em;"
    "color:#1a1a1a;line-height:1.5}"
    "h1{font-size:1.4em;border-bottom:2px solid #1f4e79;padding-bottom:.3em}"
    "h2{font-size:1.1em;color:#1f4e79;margin-top:1.5em}"
    ".meta{color:#444}.decision{font-weight:bold}"
    ".accept .decision{color:#1b5e20}.refuse .decision{color:#8b1a1a}"
    "@media print{body{margin:0}}"
)


def _html(letter: LetterContent) -> str:
    e = html.escape
    verdict = _verdict(letter)
    body: list[str] = [
        f"<h1>{e(letter.lender)}: decision on your credit application</h1>",
        '<p class="meta">',
        f"Date: {e(_long_date(letter.date))}<br>",
        f"Your reference: {e(str(letter.client_id))}<br>",
        f'Decision: <span class="decision">{e(verdict)}</span>',
        "</p>",
    ]
    for heading, paragraphs in _sections(letter):
        body.append(f"<h2>{e(heading)}</h2>")
        items = [p[2:] for p in paragraphs if p.startswith("- ")]
        for paragraph in paragraphs:
            if not paragraph.startswith("- "):
                body.append(f"<p>{e(paragraph)}</p>")
        if items:
            body.append("<ol>" + "".join(f"<li>{e(item)}</li>" for item in items) + "</ol>")
    body.append(f"<p>{e(letter.advisor)}, for {e(letter.lender)}</p>")
    css_class = "accept" if letter.decision == Decision.ACCEPT else "refuse"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(letter.lender)}: decision for reference {e(str(letter.client_id))}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n"
        f'<body class="{css_class}">\n' + "\n".join(body) + "\n</body>\n</html>\n"
    )


def _same_text(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False


def write_letter(out_dir: Path, client_id: int, **fields: Unpack[LetterFields]) -> tuple[Path, Path]:
    """Write ``letter-<client>-<date>.md`` and ``.html`` into ``out_dir`` (each atomically).

    Letters are records too: an existing letter is never replaced. A different letter for the same
    client and day (a same-day correction) gets the next free name, ``letter-<client>-<date>-2.md``;
    writing the very same letter again returns the existing files.

    Arguments are those of :func:`render_letter` (``fields``: all but ``client_id``, by keyword).

    Returns:
        (Markdown path, HTML path).

    Raises:
        LetterError: When the folder does not exist or cannot be written, or there is no final decision.
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise LetterError(f"Folder {out_dir} does not exist; create it or choose another folder for letters.")
    markdown, page = render_letter(client_id=client_id, **fields)
    when = fields["date"]
    day = when.date() if isinstance(when, datetime) else when
    base = f"letter-{int(client_id)}-{day.isoformat()}"
    try:
        for n in range(1, 1000):
            stem = base if n == 1 else f"{base}-{n}"
            md_path, html_path = out_dir / f"{stem}.md", out_dir / f"{stem}.html"
            if _same_text(md_path, markdown) and _same_text(html_path, page):
                return md_path, html_path  # this very letter was written before
            if md_path.exists() or html_path.exists():
                continue  # an earlier letter (e.g. before a same-day correction): keep it
            if not write_text_new(md_path, markdown):
                continue
            try:
                if write_text_new(html_path, page):
                    return md_path, html_path
            except BaseException:
                md_path.unlink(missing_ok=True)  # only the file this call created
                raise
            md_path.unlink(missing_ok=True)
    except OSError as exc:
        raise LetterError(
            f"Cannot write the letter into {out_dir} ({exc.strerror or exc}); choose another folder."
        ) from exc
    raise LetterError(f"Too many letters named {base}.* in {out_dir}; move some of them away.")


def write_record_letter(
    out_dir: Path,
    record: DecisionRecord,
    desk: DeskConfig | None = None,
    *,
    for_client_decisions: bool = True,
    model_note: str = "",
) -> tuple[Path, Path]:
    """Write the letter of a recorded decision (final decision, reasons shown, advisor, model, date).

    Args:
        out_dir: Existing folder for the two files.
        record: The decision as recorded in the audit log (:meth:`AuditStore.latest_for`).
        desk: The bank's name, review contact and deadline, and the product terms (defaults when None).
        for_client_decisions: False when the model uses protected attributes (analysis only): no letter.
        model_note: The model's release status (:data:`UNRELEASED_NOTE` for an unreleased model).

    Raises:
        LetterError: For a model not for client decisions, or as :func:`write_letter`.
    """
    if not for_client_decisions:
        raise LetterError(
            f"The model {record.bundle_id[:12]} uses protected attributes and is for analysis only: no "
            "letter is written with it; load a model trained without them (the default of `trainer fit`)."
        )
    return write_letter(out_dir, record.client_id, **record_letter_fields(record, desk, model_note))


def record_letter_fields(
    record: DecisionRecord, desk: DeskConfig | None = None, model_note: str = ""
) -> LetterFields:
    """What the letter of a recorded decision says, as keyword arguments of :func:`render_letter`.

    Args:
        record: The decision as recorded in the audit log.
        desk: The bank's name, review contact and deadline (defaults when None).
        model_note: The model's release status.
    """
    desk = desk or DeskConfig()
    return {
        "decision": record.final_decision,
        "date": datetime.fromisoformat(record.time),
        "reasons": record.reasons,
        "advisor": record.advisor,
        "model_id": record.bundle_id,
        "lender": desk.bank,
        "contact": desk.contact,
        "model_note": model_note,
        "pd": record.pd,
        "threshold": record.threshold,
        "terms": counter_offer(record.final_decision, record.terms),
        "review_days": desk.review_days,
        "override": record.override,
    }


def pending_refusal(record: DecisionRecord, status: str) -> str | None:
    """Why no letter may be written for ``record`` in four-eyes ``status`` (None: a letter may be written).

    A decision waiting for a supervisor, or one the supervisor rejected, is not a decision to send.
    """
    if status == "pending":
        return (
            f"Decision #{record.id} for client {record.client_id} waits for a supervisor's approval; "
            "no letter until it is approved."
        )
    if status == "rejected":
        return (
            f"Decision #{record.id} for client {record.client_id} was rejected by a supervisor; record a "
            "new decision before writing a letter."
        )
    return None
