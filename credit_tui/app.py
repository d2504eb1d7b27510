"""CreditApp: screens, global bindings, the command palette, and the workers that load and score.

Services (scorer, portfolio) are injected through loaders (:func:`create_app`), so the CLI and the
tests build the same app. Start-up has three stages, each behind the first screen: the services without
history (the client list appears: searchable, sortable and filterable on its application columns), then
the history aggregates (``history`` loader; "Aggregating client history…"), then the scores (progress
bar). A client opened before the history is ready waits on a "Loading history…" screen and opens when it
arrives. Workers only post messages; :meth:`CreditApp.on_worker_state_changed` is the one place where a
failed worker becomes an error dialog (a loading stage's failure then ends the app with code 2).
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from textual import events, work
from textual.app import App
from textual.binding import BindingType
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from credit_tui.client_index import ClientColumns
from credit_tui.commands import CreditCommands
from credit_tui.errors import describe_error
from credit_tui.screens.dialogs import ErrorDialog
from credit_tui.screens.search import SearchScreen
from credit_tui.services import HistoryLoader, Services, ServicesLoader
from credit_tui.themes import CREDIT_DARK, CREDIT_LIGHT, DARK_THEME, LIGHT_THEME, readable_theme_names
from credit_tui.timings import Timings
from credit_tui.widgets.app_header import APP_BINDINGS
from trainer.text_safety import clean_text

if TYPE_CHECKING:
    from credit_tui.population import Population
    from credit_tui.screens.client import ClientScreen

SCORE_CHUNK = 25_000


def header_subtitle(services: Services) -> str:
    """Advisor and model in the header; a model using protected attributes is marked for analysis only."""
    bundle = services.scorer.bundle
    advisor = services.advisor or "no advisor named (decisions off)"
    text = f"{advisor} · model {bundle.model_id[:8]}"
    if not bundle.for_client_decisions:
        text += f" · NOT FOR CLIENT DECISIONS (uses {', '.join(bundle.protected_inputs)})"
    if services.scorer.release is None:
        text += " · UNRELEASED MODEL"
    if getattr(services.audit, "team", False):
        text += " · team log"
    return text


@functools.cache
def _readable_themes() -> frozenset[str]:
    return frozenset(readable_theme_names())


class CreditApp(App[int]):
    """The advisor's app: search clients, open one, read the model card."""

    CSS_PATH = "app.tcss"
    TITLE = "credit-tui"
    COMMANDS: ClassVar[set[Any]] = {*App.COMMANDS, CreditCommands}
    BINDINGS: ClassVar[list[BindingType]] = APP_BINDINGS

    class ServicesReady(Message):
        """The bundle and the application rows are loaded (the history may still be loading)."""

        def __init__(self, services: Services, columns: ClientColumns) -> None:
            self.services = services
            self.columns = columns
            super().__init__()

    class HistoryReady(Message):
        """The portfolio's history is loaded: clients can be explained and scored."""

        def __init__(self, services: Services) -> None:
            self.services = services
            super().__init__()

    class ScoresProgress(Message):
        """Another chunk of the portfolio has been scored."""

        def __init__(self, done: int, total: int) -> None:
            self.done = done
            self.total = total
            super().__init__()

    def __init__(
        self,
        loader: ServicesLoader,
        *,
        history: HistoryLoader | None = None,
        dark: bool = True,
        score_chunk: int = SCORE_CHUNK,
        letters_dir: Path | None = None,
    ) -> None:
        """Build the app.

        Args:
            loader: Blocking callable returning the services (run in a thread worker); without
                ``history``, their portfolio is complete.
            history: Blocking callable adding the history to the loader's services (run in a thread
                worker after the list is shown); None when the loader's services already have it.
            dark: Start with the dark theme (False: light).
            score_chunk: Clients scored per step of the portfolio scoring worker.
            letters_dir: Folder for decision letters (None: the current folder when a letter is written).
        """
        super().__init__()
        self._loader = loader
        self._history_loader = history
        self._pending_open: tuple[int, np.ndarray[Any, np.dtype[np.int64]] | None] | None = None
        self._score_chunk = score_chunk
        self._letters_dir = letters_dir
        self.services: Services | None = None
        self.columns: ClientColumns | None = None
        self.population: Population | None = None
        self.error_message: str | None = None
        self.history_ready = False
        self.missing_history: list[str] = []
        self.scoring_done = False
        self.register_theme(CREDIT_DARK)
        self.register_theme(CREDIT_LIGHT)
        self.theme = DARK_THEME if dark else LIGHT_THEME
        readable = _readable_themes()
        for name in list(self.available_themes):  # the palette offers only themes that read well
            if name not in readable:
                self.unregister_theme(name)
        self.search_screen = SearchScreen()
        self._client_screen: ClientScreen | None = None
        self.last_client_id: int | None = None
        """The client shown last on the client screen (the list highlights it on return)."""
        self.timings = Timings.from_environment()
        self.last_key_time = 0.0
        """When the latest key reached the app (``textual._time`` clock), for :attr:`timings`."""

    async def on_event(self, event: events.Event) -> None:
        """Note when each key arrives (the start of an open-client timing), then dispatch as usual."""
        if isinstance(event, events.Key):
            self.last_key_time = event.time
        await super().on_event(event)

    def get_default_screen(self) -> Screen[Any]:
        """The client list is the app's base screen."""
        return self.search_screen

    # ------------------------------------------------------------------ start-up

    def on_mount(self) -> None:
        """Load in a worker (the search screen is already shown)."""
        self._load()

    @work(thread=True, exit_on_error=False, group="load", name="load")
    def _load(self) -> None:
        services = self._loader()
        columns = ClientColumns.from_applications(services.portfolio.applications)
        self.post_message(self.ServicesReady(services, columns))
        columns.prepare_prefix_search()  # after the first screen, before the advisor types an ID

    def on_credit_app_services_ready(self, message: ServicesReady) -> None:
        """Hand the services down to the search screen, then load the history (or start scoring)."""
        self.services = message.services
        self.columns = message.columns
        self.sub_title = clean_text(header_subtitle(message.services))
        history_pending = self._history_loader is not None
        self.search_screen.set_data(message.services, message.columns, history_pending=history_pending)
        if self._history_loader is not None:
            self._load_history(self._history_loader, message.services)
        else:
            self.post_message(self.HistoryReady(message.services))

    @work(thread=True, exit_on_error=False, group="load", name="history")
    def _load_history(self, loader: HistoryLoader, services: Services) -> None:
        """Wait for the history without holding the app open: quitting must not wait for a child build.

        The loader runs in a daemon thread; this worker polls it and gives up when cancelled (on exit),
        since a thread worker blocked on a 15 s aggregation would keep ``app.run()`` from returning.
        """
        result: Future[Services] = Future()

        def run() -> None:
            try:
                result.set_result(loader(services))
            except BaseException as error:  # handed to the worker below, which turns it into the dialog
                result.set_exception(error)

        threading.Thread(target=run, name="credit-tui-history", daemon=True).start()
        worker = get_current_worker()
        while True:
            try:
                loaded = result.result(timeout=0.05)
            except FutureTimeout:
                if worker.is_cancelled:
                    return
                continue
            self.post_message(self.HistoryReady(loaded))
            return

    def on_credit_app_history_ready(self, message: HistoryReady) -> None:
        """Every client can now be explained: start scoring, open a client that was waiting."""
        from credit_tui.population import Population
        from credit_tui.screens.loading import HistoryWaitScreen

        if self.columns is None:
            return
        self.services = message.services
        self.population = Population(message.services, self.columns)
        self.history_ready = True
        self._warn_missing_history(message.services)
        self.settle_memory()
        self.search_screen.history_loaded(message.services)
        self._score_portfolio(message.services, self.columns)
        if isinstance(self.screen, HistoryWaitScreen):
            self.screen.dismiss(True)

    @staticmethod
    def settle_memory() -> None:
        """Collect the garbage, then move every object alive now out of the cycle collector's sight.

        The portfolio, its history, the scores and the client screen live as long as the app; left in
        the collector's oldest generation, each full collection rescanned them (100-200 ms pauses when
        opening a client). Called once each: history loaded, every client scored, first client shown.
        """
        gc.collect()
        gc.freeze()

    def _warn_missing_history(self, services: Services) -> None:
        """Say so, as ``trainer predict`` does, when history tables the model uses were not found.

        The header (on the list and on every client screen) keeps a short mark; a notification gives
        the whole sentence.
        """
        from trainer.predict import missing_history_warning

        for notice in services.portfolio.notices:
            self.notify(notice, title="History cache", severity="warning", timeout=12)
        missing = sorted(set(services.scorer.spec.history_tables) - set(services.portfolio.history_tables))
        self.missing_history = missing
        if not missing:
            return
        self.sub_title = f"{self.sub_title} · history missing: {', '.join(missing)}"
        self.notify(
            missing_history_warning(missing, services.portfolio.source),
            title="Scores without part of the history",
            severity="warning",
            timeout=20,
        )

    @work(thread=True, exit_on_error=False, group="score", name="score")
    def _score_portfolio(self, services: Services, columns: ClientColumns) -> None:
        applications = services.portfolio.applications
        history = services.portfolio.history
        total = len(applications)
        for start in range(0, total, self._score_chunk):
            chunk = applications.iloc[start : start + self._score_chunk]
            pds, decisions = services.scorer.score_arrays(chunk, history)
            columns.set_scores(start, pds, decisions)
            self.post_message(self.ScoresProgress(min(start + len(chunk), total), total))
        if total == 0:
            self.post_message(self.ScoresProgress(0, 0))
        # The explanation tables, in the background once the launch work is done (the first client
        # opened before they are ready waits for them).
        services.scorer.prepare_explanations()

    def on_credit_app_scores_progress(self, message: ScoresProgress) -> None:
        """Pass scoring progress down to the search screen."""
        self.scoring_done = message.done >= message.total
        self.search_screen.scores_updated(message.done, message.total)
        if self.scoring_done:
            self.settle_memory()

    # ------------------------------------------------------------------ failures

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Turn any failed worker into an error dialog (loading failures end the app with code 2).

        Worker events do not bubble: screens with workers forward theirs here.
        """
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        message = describe_error(error) if error is not None else "A background task failed."
        if event.worker.group == "load":
            self.error_message = message
            self.push_screen(
                ErrorDialog("Cannot open the portfolio", message, quit_label="Quit"), self._quit2
            )
        else:
            self.show_error("Something went wrong", message)

    def _quit2(self, _: None) -> None:
        self.exit(2, return_code=2)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Show a notification; its text is never parsed as markup and loses its control characters.

        Every notification of the app goes through here (``Widget.notify`` calls the app's), and most
        quote a value from a file, a folder or the log: markup is off unless a caller asks for it.
        """
        super().notify(
            clean_text(message), title=clean_text(title), severity=severity, timeout=timeout, markup=markup
        )

    def show_error(self, title: str, message: str) -> None:
        """Show an error dialog over the current screen."""
        self.push_screen(ErrorDialog(title, message))

    # ------------------------------------------------------------------ actions

    def show_screen(self, kind: type[Screen[Any]], make: Callable[[], Screen[Any]]) -> None:
        """Open a screen of type ``kind``, or switch back to it when one is already open.

        Pushing a second instance would clash with the first one's widget ids (``m``, ``h``, ``m`` used
        to crash): the screens above the open one are closed instead, so the keys go back to it.
        """
        for screen in self.screen_stack:
            if isinstance(screen, kind):
                while self.screen is not screen:
                    self.pop_screen()
                return
        self.push_screen(make())

    def action_help(self) -> None:
        """Show every key."""
        from credit_tui.screens.help import HelpScreen

        self.show_screen(HelpScreen, HelpScreen)

    def action_model_card(self) -> None:
        """Show the model card."""
        from credit_tui.screens.model_card import ModelCardScreen

        if self.services is None:
            self.notify("The model is still loading.", severity="warning")
            return
        scorer = self.services.scorer
        self.show_screen(ModelCardScreen, lambda: ModelCardScreen(scorer))

    @property
    def letters_dir(self) -> Path:
        """Where decision letters are written."""
        from credit_tui.config import default_letters_dir

        return self._letters_dir if self._letters_dir is not None else default_letters_dir()

    def current_client_id(self) -> int | None:
        """The client of the topmost client screen, if one is open."""
        from credit_tui.screens.client import ClientScreen

        for screen in reversed(self.screen_stack):
            if isinstance(screen, ClientScreen):
                return screen.client_id
        return None

    def action_decisions(self) -> None:
        """Show the recorded decisions (for the open client when there is one, else everyone's)."""
        from credit_tui.screens.decisions import DecisionsScreen

        if self.services is None:
            self.notify("The model is still loading.", severity="warning")
            return
        if self.services.audit is None:
            self.notify("No audit database is open, so there are no decisions to show.", severity="error")
            return
        audit, client_id = self.services.audit, self.current_client_id()
        self.show_screen(DecisionsScreen, lambda: DecisionsScreen(audit, client_id))

    def action_approvals(self) -> None:
        """Team mode: the decisions waiting for a supervisor's approval (four-eyes)."""
        from credit_tui.screens.approvals import ApprovalsScreen

        if self.services is None:
            self.notify("The model is still loading.", severity="warning")
            return
        store = self.services.audit
        if store is None or not store.team:
            self.notify(
                "Approvals exist only with the team log (--audit-db postgresql://...).", severity="warning"
            )
            return
        self.show_screen(ApprovalsScreen, lambda: ApprovalsScreen(store))

    def action_toggle_theme(self) -> None:
        """Switch between the dark and the light theme."""
        self.theme = LIGHT_THEME if self.theme == DARK_THEME else DARK_THEME

    def action_back_to_list(self) -> None:
        """Close every screen above the client list."""
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def open_client(
        self, client_id: int, neighbours: np.ndarray[Any, np.dtype[np.int64]] | None = None
    ) -> bool:
        """Open a client's screen; an unknown ID gives a notification.

        Args:
            client_id: SK_ID_CURR.
            neighbours: Client IDs in list order, for next/previous client (default: the list shown).

        Returns:
            Whether the client was opened (or will open as soon as the history is loaded).
        """
        from credit_tui.screens.client import ClientScreen

        if self.services is None or self.columns is None:
            self.notify("The clients are still loading; try again in a moment.", severity="warning")
            return False
        if self.columns.position(client_id) is None:
            self.notify(
                f"Client {client_id} is not in {self.services.portfolio.source.name}.",
                title="Unknown client",
                severity="error",
            )
            return False
        if neighbours is None:
            neighbours = self.search_screen.ids_in_order()
        if not self.history_ready or self.population is None:
            self._wait_for_history(client_id, neighbours)
            return True
        screen = self._client_screen
        if screen is None:  # built once, installed, then reused: opening a client composes nothing
            screen = ClientScreen(self.services, self.columns, self.population, client_id, neighbours)
            self._client_screen = screen
            self.install_screen(screen, "client")
            self.action_back_to_list()
            self.push_screen(screen)
            self.set_timer(1.0, self.settle_memory)  # the screen's widgets, once it is drawn
            return True
        screen.neighbours = neighbours
        if screen in self.screen_stack:
            while self.screen is not screen:
                self.pop_screen()
            screen.show_client(client_id)
            return True
        self.action_back_to_list()
        screen.show_client(client_id, first_tab=True)
        self.push_screen(screen)
        return True

    def _wait_for_history(self, client_id: int, neighbours: np.ndarray[Any, np.dtype[np.int64]]) -> None:
        """Show "Loading history…" and open the client when the history arrives (Escape cancels)."""
        from credit_tui.screens.loading import HistoryWaitScreen

        self._pending_open = (client_id, neighbours)
        waiting = [screen for screen in self.screen_stack if isinstance(screen, HistoryWaitScreen)]
        if waiting:
            waiting[-1].wait_for(client_id)
            return
        self.push_screen(HistoryWaitScreen(client_id), self._history_wait_closed)

    def _history_wait_closed(self, ready: bool | None) -> None:
        pending, self._pending_open = self._pending_open, None
        if ready and pending is not None and self.history_ready:
            self.open_client(*pending)


def create_app(
    loader: ServicesLoader | None = None, *, services: Services | None = None, **kwargs: Any
) -> CreditApp:
    """Build the app for the CLI or a test.

    Args:
        loader: Blocking callable returning the services (the CLI's background load).
        services: Ready services (tests), used when no loader is given.
        **kwargs: Passed to :class:`CreditApp` (``dark``, ``score_chunk``, ``letters_dir``).
    """
    if loader is None:
        if services is None:
            raise ValueError("create_app needs a loader or services")
        ready = services

        def loader() -> Services:
            return ready

    return CreditApp(loader, **kwargs)
