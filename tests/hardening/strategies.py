"""Hypothesis strategies of hostile input: markup, terminal control, bad numbers, bad IDs.

Each strategy mixes the payloads seen in the wild (the issue's list) with generated text, so a test
covers both the known attacks and what the generator finds around them.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Rich/Textual markup that crashed screens, became a clickable action or hid a link.
MARKUP = (
    "[/]",
    "[@click=app.quit]click me[/]",
    "[link=https://evil.example]bank[/link]",
    "[bold red]ACCEPT[/bold red]",
    "[",
    "[/bold]",
    "]]][[[",
    "[b]unclosed",
)
#: Terminal control sequences that reached the terminal.
ESCAPES = (
    "\x1b]0;TITLE\x07",
    "\x1b[2J",
    "\x1b[15GACCEPT\x1b[33G3.1%",
    "\x1b[31m",
    "\x9b2J",  # C1 CSI
    "\r",
    "\n# heading",
    "a\x00b",
    "\x7f",
    "\x08\x08\x08",
)
#: Every character the text policy must neutralise: C0 except tab, DEL, C1.
CONTROL_CHARS = [chr(c) for c in range(0x20) if c != 0x09] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]

control_char = st.sampled_from(CONTROL_CHARS)
plain_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)

#: Text built from markup pieces, escape sequences, lone control characters and ordinary text.
hostile_text = st.lists(
    st.one_of(st.sampled_from(MARKUP), st.sampled_from(ESCAPES), control_char, plain_text),
    min_size=1,
    max_size=5,
).map("".join)

#: A non-empty hostile value that is not blank once stripped (a blank category is just missing).
hostile_value = hostile_text.filter(lambda s: s.strip() != "")

#: Numbers a clients file must not pass off as amounts: non-finite spellings.
NON_FINITE = ("inf", "-inf", "Infinity", "-Infinity", "1e400", "-1e999")
non_finite_text = st.sampled_from(NON_FINITE)

#: Finite numbers far outside any real amount that overflow the model's float32 input.
huge_number = st.sampled_from(("1e308", "-1e308", "1e39", "1.7976931348623157e308"))

#: Identifiers that used to change silently (wrapped int64, dropped fraction).
bad_id = st.one_of(
    st.sampled_from(("12345678901234567890123", "9223372036854775808", "-9223372036854775809", "123456.7")),
    st.integers(min_value=2**63, max_value=10**30).map(str),
    st.integers(min_value=100000, max_value=999999).map(lambda i: f"{i}.{1 + i % 9}"),
)

#: Spreadsheet formula starters (CSV injection).
formula_text = st.tuples(st.sampled_from(("=", "+", "-", "@", "\t", "\r")), plain_text).map("".join)

#: Generated cases run, per class of the issue (filled by the tests through :func:`count`).
CASES: Counter[str] = Counter()

#: Settings of every property test here (a decorator, so no global profile leaks into other suites):
#: few examples (the whole suite stays well under a minute), no deadline, the same cases every run.
hardening = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)


def count(kind: str) -> None:
    """Count one generated case of class ``kind``."""
    CASES[kind] += 1
