"""The ``credit-tui`` command: parse arguments, start loading, run the app.

Loading starts in background threads while Textual is imported: the columns the client list shows
(from parquet, only those: the first screen does not wait for the whole file), then every application
column, and at the same time the history aggregates (read from the cache, or built in a child process).
The bundle is always verified before the app starts; the portfolio too when both end within a short
grace period (any demo-sized file), so a bad bundle or clients file is one line on stderr and exit code
2, never a traceback. A larger portfolio finishes loading behind the first screen (the list first,
its history and scores later), and a late failure still ends with that line and code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from credit_tui.audit_log import AuditLog
    from credit_tui.config import DeskConfig
    from credit_tui.services import HistoryLoader, Services
    from trainer.history_cache import ChildBuild
    from trainer.portfolio import HistoryAggregates, Portfolio
    from trainer.scoring import Scorer

T = TypeVar("T")

EXIT_USAGE = 2
PORTFOLIO_GRACE_SECONDS = 1.0
#: Clients above which a parquet file's whole rows are read only once its list is on screen (the app
#: asks for the history): reading 120 columns beside the first paint delayed it by a second at 356k.
#: A smaller file is read whole at once, so a bad value anywhere in it is still one line on stderr
#: before the app starts (within the grace period).
READ_WHOLE_AFTER_LIST_ABOVE = 100_000
DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_MODEL = DEMO_DIR / "model"
DEMO_CLIENTS = DEMO_DIR / "clients" / "application_test.parquet"
#: Public half of the key that signs the bundled demo: trusted for the bundled demo only, never for
#: a bundle passed with --model (its private half is in scripts/DEMO-ONLY-release-key/).
DEMO_RELEASE_KEY = DEMO_DIR / "DEMO-ONLY-release-key.pub"


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``credit-tui``."""
    from credit_tui.config import add_audit_db_option

    parser = argparse.ArgumentParser(
        prog="credit-tui",
        description=(
            "Terminal app for credit advisors: search a portfolio of clients, see each client's "
            "probability of default, decision and the reasons behind it, record accept/refuse decisions "
            "in an append-only audit log, try what-if changes, and write decision letters. "
            "With no arguments it opens the bundled demo. Also: `credit-tui audit verify|export` and "
            "`credit-tui letter --client ID`."
        ),
        epilog=(
            "Keys: / search, enter open, d/c/p filters, s/r sort, m model card, h decisions, ? help, "
            "ctrl+p commands, q quit; on a client: a accept, r refuse, w what-if, l letter. Exit code 2 when "
            "the model bundle, the clients file or the audit database cannot be used."
        ),
    )
    from trainer import __version__

    parser.add_argument("--version", action="version", version=f"credit-tui {__version__}")
    parser.add_argument(
        "--model", type=Path, default=None, metavar="DIR", help="model bundle folder (from `trainer fit`)"
    )
    parser.add_argument(
        "--clients",
        type=Path,
        default=None,
        metavar="FILE",
        help="CSV or parquet of application rows (e.g. application_test.csv); "
        "history tables are read from the same folder",
    )
    parser.add_argument(
        "--advisor",
        default=None,
        metavar="NAME",
        help="advisor name (default: [desk] advisor of the config file; without one, decisions cannot be "
        "recorded)",
    )
    add_audit_db_option(parser)
    parser.add_argument(
        "--letters-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="existing folder for decision letters written with the l key (default: [desk] letters_dir of "
        "the config file, else letters/ in the user data folder)",
    )
    parser.add_argument("--light", action="store_true", help="start with the light theme")
    return parser


def _fail(message: str) -> int:
    print(f"credit-tui: {message}", file=sys.stderr)
    return EXIT_USAGE


def resolve_paths(model: Path | None, clients: Path | None) -> tuple[Path, Path]:
    """The bundle and clients file to open (the demo's when not given).

    Raises:
        trainer.errors.UserError: When only one of them is given or the demo is not built.
    """
    from trainer.errors import UserError

    if model is None and clients is None:
        if not (DEMO_MODEL / "manifest.json").is_file() or not DEMO_CLIENTS.is_file():
            raise UserError(
                f"the bundled demo is not built ({DEMO_MODEL} and {DEMO_CLIENTS} are missing); "
                "build it with the project's demo script, or pass --model DIR --clients FILE."
            )
        return DEMO_MODEL, DEMO_CLIENTS
    if model is None or clients is None:
        raise UserError("pass both --model DIR and --clients FILE, or neither to open the bundled demo.")
    if not clients.is_file():
        raise UserError(f"clients file {clients} does not exist; pass a CSV or parquet of application rows.")
    return model, clients


def _in_background(function: Callable[..., T], *args: Any) -> Future[T]:
    """Run ``function(*args)`` in a daemon thread: quitting the app never waits for a load to finish.

    (A ``ThreadPoolExecutor``'s threads are joined at exit: quitting while a cold history cache is built
    in a child process would hang until it is done. The child itself finishes and writes the cache.)
    """
    future: Future[T] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(function(*args))
        except BaseException as error:  # the caller gets it from the future
            future.set_exception(error)

    threading.Thread(target=run, name="credit-tui-load", daemon=True).start()
    return future


def trusted_keys_for(model: Path, configured: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """The release keys to trust for ``model``: the configured ones, plus the demo key for the demo only."""
    if Path(model).resolve() == DEMO_MODEL.resolve() and DEMO_RELEASE_KEY.is_file():
        from trainer.release import read_public_key

        return (*configured, read_public_key(DEMO_RELEASE_KEY))
    return configured


def reads_whole_after_list(rows: Portfolio) -> bool:
    """Whether a portfolio's whole rows (and so its history) are read only once its list is shown."""
    return rows.partial and len(rows) > READ_WHOLE_AFTER_LIST_ABOVE


def _start_loading(
    model: Path,
    clients: Path,
    advisor: str,
    audit: AuditLog | None = None,
    trusted_keys: tuple[bytes, ...] = (),
    desk: DeskConfig | None = None,
    early: ChildBuild | None = None,
) -> tuple[Future[Scorer], Future[Services], Future[Portfolio], HistoryLoader]:
    """Verify the bundle, read the application rows and aggregate the history in parallel threads.

    Returns the futures of the scorer, of the services for the first screen (no history; from parquet,
    only the columns the client list shows) and of the portfolio with every column and its history
    (aggregated on the manifest's hint from the start, while the rows are read), and the app's history
    loader, which waits for the latter. ``early``: the history build :func:`main` already started.
    """
    from credit_tui.services import (
        Services,
        aggregate_history,
        complete_applications,
        load_client_list,
        load_scorer,
        manifest_history_tables,
        with_history_on_hint,
    )

    hint = manifest_history_tables(model)
    # The history first: on a cold cache its aggregation (a child process) is the long pole.
    aggregates_future: Future[HistoryAggregates] = _in_background(aggregate_history, clients, hint, early)
    scorer_future: Future[Scorer] = _in_background(load_scorer, model, trusted_keys)
    list_future: Future[Portfolio] = _in_background(load_client_list, clients)

    listed = threading.Event()  # set when the app asks for the history: the list is on screen

    def whole_rows() -> Portfolio:  # after the list's columns, so they do not share the CPU
        rows = list_future.result()
        if reads_whole_after_list(rows):
            listed.wait()
        return complete_applications(rows)

    applications_future: Future[Portfolio] = _in_background(whole_rows)

    def services() -> Services:
        scorer = scorer_future.result()  # a bundle error wins over a data error
        from credit_tui.config import DeskConfig

        return Services(scorer, list_future.result(), advisor, audit, desk or DeskConfig())

    def history() -> Portfolio:
        return applications_future.result().with_aggregates(aggregates_future.result())

    services_future: Future[Services] = _in_background(services)
    history_future: Future[Portfolio] = _in_background(history)

    def history_loader(loaded: Services) -> Services:
        listed.set()
        return with_history_on_hint(loaded, history_future.result(), hint)

    return scorer_future, services_future, history_future, history_loader


def main(argv: list[str] | None = None) -> int:
    """Run ``credit-tui`` (or its ``audit`` / ``letter`` commands); returns the exit code (0, or 2)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "audit":
        from credit_tui.audit_cli import audit_main

        return audit_main(argv[1:])
    if argv and argv[0] == "letter":
        from credit_tui.letter_cli import letter_main

        return letter_main(argv[1:])
    args = build_parser().parse_args(argv)
    # Before any heavy import: a first opening of a large portfolio starts its history build now.
    early = _start_history_early(args.model, args.clients)
    from credit_tui.audit_log import open_audit_log
    from credit_tui.config import default_letters_dir, resolve_advisor
    from trainer.errors import UserError
    from trainer.settings import load_settings
    from trainer.text_safety import clean_text

    try:
        settings = load_settings()
        desk = settings.desk
        advisor = resolve_advisor(args.advisor, desk) if args.advisor is not None or desk.advisor else ""
    except UserError as error:
        return _fail(str(error))
    letters_dir: Path = args.letters_dir or desk.letters_dir or default_letters_dir()
    if (args.letters_dir is not None or desk.letters_dir is not None) and not letters_dir.is_dir():
        return _fail(f"letters folder {letters_dir} does not exist; create it or pass another --letters-dir.")
    try:
        store = open_audit_log(args.audit_db or settings.audit_db)
    except UserError as error:
        return _fail(str(error))
    # In team mode the server authenticated the advisor: its role name is the advisor's name.
    advisor = clean_text(str(getattr(store, "user", "") or advisor)).strip()
    try:
        return _run(args, advisor, letters_dir, store, desk, settings.trusted_keys, early)
    finally:
        store.close()


def _start_history_early(model: Path | None, clients: Path | None) -> ChildBuild | None:
    """Start the history build of a first opening (see :func:`credit_tui.services.start_history_build`).

    Any problem is left to the regular launch, which reports it: this only starts work earlier.
    """
    from credit_tui.services import start_history_build
    from trainer.errors import UserError

    try:
        model, clients = resolve_paths(model, clients)
        return start_history_build(model, clients)
    except (UserError, OSError):
        return None


def _run(
    args: argparse.Namespace,
    advisor: str,
    letters_dir: Path,
    store: AuditLog,
    desk: DeskConfig,
    trusted_keys: tuple[bytes, ...] = (),
    early: ChildBuild | None = None,
) -> int:
    """Load the bundle and the portfolio, then run the app until it quits."""
    from trainer.errors import UserError

    try:
        model, clients = resolve_paths(args.model, args.clients)
        scorer_future, services_future, history_future, history_loader = _start_loading(
            model, clients, advisor, store, trusted_keys_for(model, trusted_keys), desk, early
        )
        from credit_tui.app import create_app  # imports Textual while the bundle loads

        scorer_future.result()
        deadline = time.monotonic() + PORTFOLIO_GRACE_SECONDS
        with contextlib.suppress(FutureTimeout):  # a big portfolio keeps loading behind the first screen
            services = services_future.result(timeout=PORTFOLIO_GRACE_SECONDS)
            if not reads_whole_after_list(services.portfolio):  # else its history waits for the app
                history_future.result(timeout=max(0.0, deadline - time.monotonic()))
    except UserError as error:
        return _fail(str(error))
    except Exception as error:  # never a traceback for a file we could not read
        return _fail(f"could not open the model or the clients ({type(error).__name__}: {error}).")

    app = create_app(
        services_future.result, history=history_loader, dark=not args.light, letters_dir=letters_dir
    )
    app.run()
    if app.error_message:
        return _fail(app.error_message)
    return int(app.return_code or 0)


def console_main() -> None:
    """Entry point of the ``credit-tui`` script: exit with :func:`main`'s code, promptly.

    A failing launch returns while loader threads may still be reading files inside pyarrow or numpy.
    They are daemon threads, but an interpreter that finalises while one of them holds or re-takes the
    GIL can abort ("Fatal Python error: PyGILState_Release") or hang. Their work is not needed any more,
    so once every message is flushed the process ends at once when one of them is still running.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    if any(thread.name.startswith("credit-tui-") and thread.is_alive() for thread in threading.enumerate()):
        os._exit(code)
    sys.exit(code)
