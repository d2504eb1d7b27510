"""Decision letters: plain language, at most four reasons, self-contained escaped HTML, atomic files."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from credit_tui.audit import AuditStore, input_row_hash
from credit_tui.letter import JARGON, LetterError, render_letter, write_letter, write_record_letter
from trainer.bundle import Bundle
from trainer.portfolio import Portfolio
from trainer.scoring import Scorer

JARGON_TEST = re.compile(r"[A-Z]{2,}_[A-Z_]+")


class Tags(HTMLParser):
    """Collect the tag and attribute names of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.attributes.update(name for name, _ in attrs)


@pytest.fixture(scope="module")
def refused(fitted_bundle: Bundle, synth_dir: Path) -> tuple[Scorer, int, list[str]]:
    """A refused client of the synthetic test set and the scorer's plain reasons for it."""
    scorer = Scorer(fitted_bundle)
    portfolio = Portfolio.load(synth_dir / "application_test.csv", tables=scorer.spec.history_tables)
    scores = scorer.score(portfolio.applications, portfolio.history)
    cid = int(scores.loc[scores["DECISION"] == "REFUSE", "SK_ID_CURR"].iloc[0])
    explanation = scorer.explain(portfolio.record(cid), portfolio.history_record(cid))
    return scorer, cid, scorer.reasons(explanation)


def test_refusal_letter_from_the_model(refused: tuple[Scorer, int, list[str]]) -> None:
    scorer, cid, reasons = refused
    assert 1 <= len(reasons) <= 4
    md, page = render_letter(
        client_id=cid,
        decision="REFUSE",
        date=date(2026, 3, 4),
        reasons=reasons,
        advisor="Zoé Martin",
        model_id=scorer.bundle.model_id,
    )
    for text in (md, page):
        assert not JARGON_TEST.search(text), JARGON_TEST.search(text)
        assert "4 March 2026" in text and str(cid) in text and "Zoé Martin" in text
        assert scorer.bundle.model_id[:12] in text
        assert "Prêt à Dépenser" in text
        assert "human review" in text and "contest" in text
        for word in ("SHAP", "log-odds", "threshold", "feature", "REFUSE", "PD "):
            assert word not in text
    assert md.count("\n- ") == len(reasons)
    assert page.count("<li>") == len(reasons)


def test_at_most_four_reasons_and_raw_names_are_translated() -> None:
    reasons = [f"Reason number {i}." for i in range(6)]
    reasons[1] = "EXT_SOURCE_3 is low."
    md, page = render_letter(
        client_id=1, decision="REFUSE", date=date(2026, 1, 2), reasons=reasons, advisor="A", model_id="m" * 64
    )
    assert md.count("\n- ") == 4 and page.count("<li>") == 4
    assert "External score 3 is low." in md
    assert not JARGON.search(md) and not JARGON.search(page)


def test_accept_letter_has_no_reasons_section() -> None:
    md, page = render_letter(
        client_id=7,
        decision="ACCEPT",
        date=datetime(2026, 5, 6, 23, 59, tzinfo=UTC),
        reasons=["The amount requested (1) is high."],
        advisor="Bob",
        model_id="abc",
    )
    assert "accepted" in md and "main reasons" not in md.lower() and "is high" not in md
    assert "<li>" not in page and "6 May 2026" in page


def test_refusal_without_reasons_says_personal_review() -> None:
    md, _ = render_letter(
        client_id=7, decision="REFUSE", date=date(2026, 5, 6), reasons=[], advisor="Bob", model_id="abc"
    )
    assert "personal review" in md


def test_review_or_unknown_decision_is_refused() -> None:
    with pytest.raises(LetterError, match="no final decision"):
        render_letter(
            client_id=7, decision="REVIEW", date=date.today(), reasons=[], advisor="B", model_id="m"
        )


def test_html_is_self_contained_and_escaped() -> None:
    evil = '<script>alert("x")</script> <img src="http://evil.example/a.png">'
    md, page = render_letter(
        client_id=9,
        decision="REFUSE",
        date=date(2026, 1, 1),
        reasons=[evil],
        advisor=evil,
        model_id="m",
        contact=evil,
    )
    tags = Tags()
    tags.feed(page)
    allowed = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "br", "span", "ol", "li"}
    assert tags.names <= allowed, tags.names - allowed
    assert not tags.attributes & {"src", "href", "srcset", "action", "style"}
    css = page[page.index("<style>") : page.index("</style>")]
    assert "@import" not in css and "url(" not in css
    assert "&lt;script&gt;" in page
    assert "<style>" in page and page.startswith("<!DOCTYPE html>")
    assert "\\<script\\>" in md


def test_write_letter_is_atomic_and_named(tmp_path: Path) -> None:
    md_path, html_path = write_letter(
        tmp_path,
        100005,
        decision="REFUSE",
        date=date(2026, 3, 4),
        reasons=["The amount requested (900,000) is high."],
        advisor="Zoé",
        model_id="m",
    )
    assert md_path.name == "letter-100005-2026-03-04.md" and html_path.suffix == ".html"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([md_path.name, html_path.name])
    assert "900,000" in md_path.read_text(encoding="utf-8")
    with pytest.raises(LetterError, match="does not exist"):
        write_letter(
            tmp_path / "missing",
            1,
            decision="ACCEPT",
            date=date.today(),
            reasons=[],
            advisor="a",
            model_id="m",
        )


def test_letter_of_a_recorded_decision(tmp_path: Path) -> None:
    with AuditStore(tmp_path / "audit.sqlite3") as store:
        record = store.record(
            advisor="Zoé Martin",
            client_id=100005,
            bundle_id="f" * 64,
            threshold=0.1,
            pd=0.4,
            model_decision="REFUSE",
            final_decision="REFUSE",
            input_hash=input_row_hash({"SK_ID_CURR": 100005}),
            reasons=["The declared yearly income (45,000) is low."],
        )
    md_path, html_path = write_record_letter(tmp_path, record)
    text = md_path.read_text(encoding="utf-8")
    assert "The declared yearly income (45,000) is low." in text and "Zoé Martin" in text
    assert record.time[:10] in md_path.name and html_path.is_file()
