"""The app with hostile data: markup and escape sequences are shown as text on every screen.

The pilot tests load a clients file whose text columns hold markup and terminal escape sequences
(generated), an audit log whose advisor and justification hold the same, and a letters folder named
with markup, then walk every screen and check the rendered screen text.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from textual.pilot import Pilot
from textual.widgets import Input, Select

from credit_tui.app import CreditApp, create_app
from credit_tui.audit import AuditStore
from credit_tui.screens.client import ClientScreen
from credit_tui.screens.decisions import DecisionsScreen
from credit_tui.screens.help import HelpScreen
from credit_tui.screens.model_card import ModelCardScreen
from credit_tui.services import load_services
from credit_tui.widgets.client_table import ClientTable
from trainer.bundle import Bundle
from trainer.text_safety import clean_text

from .strategies import CONTROL_CHARS, MARKUP, count, hardening, hostile_value

RAW = re.compile("[" + "".join(re.escape(c) for c in CONTROL_CHARS) + "]")
TEXT_COLUMNS = ("NAME_CONTRACT_TYPE", "OCCUPATION_TYPE", "NAME_INCOME_TYPE", "ORGANIZATION_TYPE")


def screen_text(app: CreditApp) -> str:
    """What the terminal shows: the screenshot's text, unescaped."""
    svg = app.export_screenshot()
    cells = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.DOTALL)
    lines = [html.unescape(cell).removesuffix("\n") for cell in cells]  # Rich ends each line with one
    return "".join(lines).replace("\xa0", " ")


def table_lines(app: CreditApp) -> list[str]:
    """The client list's rows exactly as drawn (the segments sent to the terminal)."""
    table = app.search_screen.query_one(ClientTable)
    return ["".join(segment.text for segment in table.render_line(y)) for y in range(1, table.size.height)]


async def settle(pilot: Pilot[Any]) -> None:
    for _ in range(300):
        await pilot.pause(0.02)
        if getattr(pilot.app, "scoring_done", False):
            break
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def hostile_clients(source: Path, folder: Path, values: list[str], rows: int = 40) -> Path:
    """A clients file (CSV, quoted) whose text columns hold ``values`` in its first rows."""
    frame = pd.read_csv(source / "application_test.csv", nrows=rows)
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].astype(object)
        for i, value in enumerate(values):
            frame.loc[i, column] = value
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "application_test.csv"
    frame.to_csv(path, index=False, quoting=csv.QUOTE_NONNUMERIC)
    for name in ("bureau", "bureau_balance", "previous_application"):
        shutil.copy(source / f"{name}.csv", folder / f"{name}.csv")
    return path


@given(values=st.lists(hostile_value.filter(lambda v: "\x00" not in v), min_size=3, max_size=3, unique=True))
@settings(hardening, max_examples=3, phases=[Phase.explicit, Phase.generate])  # an app per case: no shrinking
async def test_a_hostile_clients_file_is_shown_as_text(
    fitted_bundle: Bundle, synth_dir: Path, tmp_path_factory: pytest.TempPathFactory, values: list[str]
) -> None:
    count("tui: hostile clients file")
    folder = tmp_path_factory.mktemp("hostile")
    clients = hostile_clients(synth_dir, folder, values)
    services = load_services(fitted_bundle.path, clients, "[@click=app.quit]tester[/]")
    expected = services.scorer.score(services.portfolio.applications, services.portfolio.history)
    app = create_app(services=services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        lines = table_lines(app)
        width = cell_len(lines[0])
        for i in range(len(values)):
            client = int(expected["SK_ID_CURR"].iloc[i])
            (line,) = [line for line in lines if re.match(rf"\s*{client}\s", line)]
            assert not RAW.search(line) and cell_len(line) == width  # nothing moves the cursor
            decision = str(expected["DECISION"].iloc[i])
            assert line.split()[2] == decision  # after ID and status; no forged "ACCEPT 3.1%"
            assert f" {expected['PD'].iloc[i] * 100:.1f} " in line  # the unit is in the title "PD %"
        text = screen_text(app)
        assert not RAW.search(text)
        assert "[@click=app.quit]tester[/]" in text  # the advisor's name, as typed, in the header
        for i in range(len(values)):
            assert app.open_client(int(expected["SK_ID_CURR"].iloc[i]))
            await settle(pilot)
            assert isinstance(app.screen, ClientScreen)
            text = screen_text(app)
            assert not RAW.search(text)
            shown = clean_text(values[i]).strip()
            assert shown[:8] in text  # the profile shows the value, escaped (cut to the column's width)
        await pilot.press("escape")
        await settle(pilot)
    assert app.return_code in (None, 0) and app.error_message is None


async def test_every_screen_shows_logged_and_typed_markup_as_text(
    fitted_bundle: Bundle, synth_dir: Path, tmp_path: Path
) -> None:
    count("tui: every screen")
    clients = hostile_clients(synth_dir, tmp_path / "clients", ["\x1b]0;TITLE\x07", "[/]", "\x1b[2J"])
    store = AuditStore(tmp_path / "audit.sqlite3")
    letters = tmp_path / "[@click=app.quit]letters[red]"
    letters.mkdir()
    services = load_services(fitted_bundle.path, clients, "ana [link=http://evil]x[/link]", store)
    app = create_app(services=services, letters_dir=letters)
    first = int(services.portfolio.applications["SK_ID_CURR"].iloc[0])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")  # the palette lists the contract levels of the data as commands
        await pilot.pause()
        app.screen.query_one(Input).value = "contract"
        await pilot.pause(0.5)
        text = screen_text(app)
        assert "Filter contract: [/]" in text and "Filter contract: \\x1b[2J" in text, text
        await pilot.press("escape")
        await settle(pilot)
        assert app.open_client(first)
        await settle(pilot)
        await pilot.press("r")  # decide: the dialog takes a justification full of markup
        await settle(pilot)
        codes = app.screen.query("#override-code")
        if codes:  # an override needs a reason code and three real words (issue 10)
            codes.first(Select).value = "adverse_information"
            app.screen.query_one("#justification", Input).focus()
        for key in "[@click=app.quit]x[/] is my stated reason today":
            await pilot.press(key if key != " " else "space")
        await pilot.press("enter")
        await settle(pilot)
        assert store.latest_for(first) is not None
        await pilot.press("w")  # what-if: an invalid entry is quoted in the field's error line
        await settle(pilot)
        for key in ["left_square_bracket", "slash", "right_square_bracket", "x"]:
            await pilot.press(key)
        await settle(pilot)
        shown = [str(widget.render()) for widget in app.screen.query(".whatif-error")]
        assert any("[/]x' is not a number" in line for line in shown), shown
        await pilot.press("escape")
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("l")  # letter: the notification quotes the folder's name
        await settle(pilot)
        assert any("[@click=app.quit]letters[red]" in n.message for n in app._notifications)
        assert not RAW.search(screen_text(app))
        for keys in (["m", "h", "m"], ["h", "m", "h"], ["question_mark", "m", "question_mark", "m"]):
            for key in keys:
                await pilot.press(key)
                await pilot.pause()
                await pilot.pause()
                count("tui: screens opened twice")
            kinds = [type(s) for s in app.screen_stack]
            assert len(kinds) == len(set(kinds))  # each screen at most once: switched to, not pushed
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, DecisionsScreen)
        text = screen_text(app)
        assert "Why" in text and "[@c" in text, text  # the justification's markup, shown as typed (cut)
        assert "[link=http://evil]" in text
        assert not RAW.search(text)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, ModelCardScreen)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
    store.close()
    assert app.return_code in (None, 0) and app.error_message is None


async def test_the_app_warns_when_history_tables_are_missing(
    fitted_bundle: Bundle, synth_dir: Path, tmp_path: Path
) -> None:
    count("tui: missing history")
    folder = tmp_path / "alone"
    folder.mkdir()
    shutil.copy(synth_dir / "application_test.csv", folder / "application_test.csv")
    services = load_services(fitted_bundle.path, folder / "application_test.csv", "ana")
    assert services.scorer.spec.history_tables  # the model uses history
    app = create_app(services=dataclasses.replace(services))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "history missing" in screen_text(app)  # on the list
        assert any("not found beside" in n.message for n in app._notifications)
        client = int(np.asarray(services.portfolio.client_ids)[0])
        assert app.open_client(client)
        await settle(pilot)
        assert "history missing" in screen_text(app)  # and on the client screen


@pytest.mark.parametrize("markup", MARKUP[:3])
def test_markup_in_messages_of_the_trainer_is_printed_as_is(
    tmp_path: Path, markup: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    count("cli messages")
    import sys

    from trainer import cli

    folder = tmp_path / f"data {markup}\x1b[2J"
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "trainer",
            "predict",
            "--model",
            str(folder),
            "--clients",
            str(folder / "x.csv"),
            "--out",
            str(tmp_path / "o.csv"),
        ],
    )
    with pytest.raises(SystemExit) as exited:
        cli.main()
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "Traceback" not in err
    assert clean_text(str(folder)) in err  # the real path, markup and all, escapes visible
    assert "\x1b" not in err and "\\x1b[2J" in err
