"""``credit-tui audit verify`` and ``credit-tui audit export``: check and export the decision log.

Both print one line (rich on stdout for results, plain stderr for errors) and return 0 on success, 2 when
the log is broken or cannot be used. No Textual here: the commands work over SSH without a terminal UI.

Wiring from ``credit_tui.cli``: when ``argv[0] == "audit"``, ``return audit_main(argv[1:])``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from credit_tui.audit_log import open_audit_log, resolve_target
from credit_tui.audit_pg import is_postgres_url
from credit_tui.config import add_audit_db_option
from trainer.errors import UserError
from trainer.text_safety import clean_text

if TYPE_CHECKING:
    from credit_tui.audit_log import AuditLog

EXIT_OK = 0
EXIT_FAIL = 2


def _error(message: str) -> int:
    print(f"credit-tui audit: {clean_text(message)}", file=sys.stderr)
    return EXIT_FAIL


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _missing(db: str | Path | None) -> str | None:
    """The error for an SQLite path that does not exist (a server URL is checked by connecting)."""
    if db is not None and not is_postgres_url(db) and not Path(db).exists():
        return f"The audit database {db} does not exist; check the --audit-db path."
    return None


def _parse_head(text: str, anchor: str) -> tuple[int | None, str] | str:
    """(id or None, hash) of one ``ID:HASH`` or ``HASH`` part of an anchor, or an error sentence."""
    wanted_id: int | None = None
    if ":" in text:
        head, _, text = text.partition(":")
        if not head.isdigit():
            return f"The anchor {anchor!r} is not ID:HASH or HASH as printed by `credit-tui audit anchor`."
        wanted_id = int(head)
    if len(text) != 64 or any(ch not in "0123456789abcdef" for ch in text):
        return f"The anchor {anchor!r} is not a 64-digit hash as printed by `credit-tui audit anchor`."
    return (wanted_id, text)


def _find_anchor(store: AuditLog, anchor: str) -> tuple[tuple[int, str], tuple[int, str] | None] | str:
    """The decisions head and reviews head (None: not given) an anchor names, or an error sentence.

    An anchor is ``ID:HASH`` (or the hash alone) of the newest decision, optionally followed by
    ``,ID:HASH`` of the newest supervisor's review (what ``audit anchor`` prints for the team log).
    """
    parts = anchor.strip().lower().split(",")
    if len(parts) > 2:
        return (
            f"The anchor {anchor!r} has more than two parts; pass it as `credit-tui audit anchor` printed it."
        )
    found: list[tuple[int, str]] = []
    for part, chain in zip(parts, ("decisions", "reviews"), strict=False):
        parsed = _parse_head(part.strip(), anchor)
        if isinstance(parsed, str):
            return parsed
        wanted_id, digest = parsed
        if wanted_id is None:
            heads = store.decisions() if chain == "decisions" else getattr(store, "reviews", list)()
            wanted_id = next((r.id for r in heads if r.hash == digest), None)
            if wanted_id is None:
                return (
                    f"The {'record' if chain == 'decisions' else 'supervisor review'} of the anchor is gone "
                    f"or was changed (none has that hash): the log was truncated or rewritten since the "
                    "anchor was taken."
                )
        found.append((wanted_id, digest))
    return found[0], (found[1] if len(found) > 1 else None)


def verify_main(db: str | Path | None, anchor: str | None = None) -> int:
    """Verify the hash chain (and SQLite integrity) of the log at ``db`` (None: the default).

    Args:
        db: An SQLite path, a ``postgresql://`` URL, or None (the config file's, else the default file).
        anchor: A line printed earlier by ``audit anchor``: that record (and that review) must still be
            there unchanged. An anchor of the decisions alone (``ID:HASH``, as older versions printed)
            is still accepted.

    Returns:
        0 when every link holds and SQLite finds the file sound, 2 otherwise.
    """
    db = resolve_target(None if db is None else str(db))
    if (missing := _missing(db)) is not None:
        return _error(missing)
    try:
        with open_audit_log(db, read_only=True) as store:
            integrity = store.integrity_check()
            pinned = (None, None) if anchor is None else _find_anchor(store, anchor)
            if isinstance(pinned, str):
                return _error(f"{store.path}: {pinned}")
            result = store.verify(*pinned)
            protected = store.protections_intact()
    except UserError as exc:
        return _error(str(exc))
    if integrity != "ok":
        return _error(f"SQLite reports {store.path} as damaged ({integrity}); restore it from a backup.")
    if not result.ok:
        return _error(f"{store.path}: {result.message}")
    if not protected:
        return _error(
            f"{store.path}: the chain holds but the triggers that make the log append-only were removed; "
            "find out who changed the file."
        )
    _console().print(
        Text.assemble(
            ("ok", "green"),
            clean_text(f" {store.path}: {result.message} Head: record {result.head_id}, "),
            f"hash {result.head_hash[:16]}.",
        )
    )
    return EXIT_OK


def anchor_main(db: str | Path | None) -> int:
    """Print the full head of the log (``ID:HASH``; on the team log ``,ID:HASH`` of the newest review too).

    Keep the line elsewhere for ``verify --anchor``: it then detects records or reviews deleted or
    rewritten up to it. The record count goes to stderr.

    Returns:
        0, or 2 when the log cannot be opened.
    """
    db = resolve_target(None if db is None else str(db))
    if (missing := _missing(db)) is not None:
        return _error(missing)
    try:
        with open_audit_log(db, read_only=True) as store:
            head_id, head_hash = store.head()
            reviews = store.review_head() if store.team else None
            count = store.count()
    except UserError as exc:
        return _error(str(exc))
    print(f"{head_id}:{head_hash}" + ("" if reviews is None else f",{reviews[0]}:{reviews[1]}"))
    covers = "" if reviews is None else f" and {reviews[0]} supervisor review{'s' if reviews[0] != 1 else ''}"
    print(
        f"{store.path}: {count} record{'s' if count != 1 else ''}{covers}; keep the line above elsewhere "
        "and check with `credit-tui audit verify --anchor LINE`.",
        file=sys.stderr,
    )
    return EXIT_OK


def init_main(db: str, four_eyes_pd: float | None) -> int:
    """Create the team log on a PostgreSQL server (``audit init --db URL``), run by an administrator."""
    from credit_tui.audit_pg import init_schema
    from trainer.settings import load_settings

    if not is_postgres_url(db):
        return _error(
            f"--db must be a postgresql:// URL, not {db!r}; "
            "a single desk's SQLite log is created on first use."
        )
    try:
        level = four_eyes_pd if four_eyes_pd is not None else load_settings().four_eyes_pd
        if level is not None and not 0.0 <= level <= 1.0:
            return _error(f"--four-eyes-pd must be between 0 and 1, not {level}.")
        message = init_schema(db, level)
    except UserError as exc:
        return _error(str(exc))
    _console().print(f"[green]ok[/green] {message}")
    return EXIT_OK


def export_main(db: str | Path | None, out: Path, force: bool = False) -> int:
    """Export every record of the log at ``db`` (None: the default) to the CSV file ``out``.

    ``out`` never replaces the log itself, its write-ahead files, another SQLite database, a folder or
    a device; an existing regular file only with ``force`` (:mod:`trainer.output_guard`).

    Returns:
        0 when the file was written (atomically), 2 otherwise (nothing half-written).
    """
    from trainer.output_guard import check_output_file

    db = resolve_target(None if db is None else str(db))
    if (missing := _missing(db)) is not None:
        return _error(missing)
    try:
        with open_audit_log(db, read_only=True) as store:
            log = None if is_postgres_url(db) else Path(str(store.path))
            files = [] if log is None else [log, Path(f"{log}-wal"), Path(f"{log}-shm")]
            check_output_file(Path(out), inputs=files, force=force)
            count = store.export_csv(Path(out))
    except UserError as exc:
        return _error(str(exc))
    _console().print(
        Text.assemble(
            ("ok", "green"), clean_text(f" wrote {count} record{'s' if count != 1 else ''} to {out}.")
        )
    )
    return EXIT_OK


def _add_audit_commands(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(
        dest="audit_command", required=True, metavar="{verify,export,anchor,init}"
    )
    verify = commands.add_parser(
        "verify", help="recompute the hash chain and report the first broken link (exit 0 ok, 2 broken)"
    )
    add_audit_db_option(verify)
    verify.add_argument(
        "--anchor",
        default=None,
        metavar="ID:HASH[,ID:HASH]",
        help="a line printed earlier by `audit anchor`: fails when that record or review is gone or changed",
    )
    verify.set_defaults(audit_func=lambda args: verify_main(args.audit_db, args.anchor))
    anchor = commands.add_parser(
        "anchor", help="print the full head hash of the decisions (and reviews) to keep elsewhere"
    )
    add_audit_db_option(anchor)
    anchor.set_defaults(audit_func=lambda args: anchor_main(args.audit_db))
    init = commands.add_parser(
        "init", help="create the team log on a PostgreSQL server (administrator; roles, schema, functions)"
    )
    init.add_argument("--db", required=True, metavar="URL", help="postgresql://admin@host/dbname")
    init.add_argument(
        "--four-eyes-pd",
        type=float,
        default=None,
        metavar="PD",
        help="decisions on a PD above this wait for a supervisor (default: the config file's four_eyes_pd)",
    )
    init.set_defaults(audit_func=lambda args: init_main(args.db, args.four_eyes_pd))
    export = commands.add_parser("export", help="write every decision to a CSV file")
    export.add_argument("--out", type=Path, required=True, metavar="FILE.csv", help="CSV file to write")
    export.add_argument("--force", action="store_true", help="replace --out if it is an existing CSV file")
    add_audit_db_option(export)
    export.set_defaults(audit_func=lambda args: export_main(args.audit_db, args.out, args.force))


def audit_main(argv: list[str]) -> int:
    """Run ``credit-tui audit ARGV...`` and return the exit code (argparse usage errors exit 2 too)."""
    parser = argparse.ArgumentParser(
        prog="credit-tui audit",
        description="Check (verify) or export the append-only log of advisors' decisions.",
    )
    _add_audit_commands(parser)
    args = parser.parse_args(argv)
    code: int = args.audit_func(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(audit_main(sys.argv[1:]))
