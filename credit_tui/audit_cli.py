"""``credit-tui audit verify`` and ``credit-tui audit export``: check and export the decision log.

Both print one line (rich on stdout for results, plain stderr for errors) and return 0 on success, 2 when
the log is broken or cannot be used. No Textual here: the commands work over SSH without a terminal UI.

Wiring from ``credit_tui.cli``: when ``argv[0] == "audit"``, ``return audit_main(argv[1:])``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from credit_tui.audit import open_audit_store
from trainer.errors import UserError

EXIT_OK = 0
EXIT_FAIL = 2


def _error(message: str) -> int:
    print(f"credit-tui audit: {message}", file=sys.stderr)
    return EXIT_FAIL


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def verify_main(db: Path | None) -> int:
    """Verify the hash chain and SQLite integrity of the log at ``db`` (None: the default file).

    Returns:
        0 when every link holds and SQLite finds the file sound, 2 otherwise.
    """
    if db is not None and not Path(db).exists():
        return _error(f"The audit database {db} does not exist; check the --audit-db path.")
    try:
        with open_audit_store(db) as store:
            integrity = store.integrity_check()
            result = store.verify()
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
        f"[green]ok[/green] {store.path}: {result.message} Head: record {result.head_id}, "
        f"hash {result.head_hash[:16]}."
    )
    return EXIT_OK


def export_main(db: Path | None, out: Path) -> int:
    """Export every record of the log at ``db`` (None: the default file) to the CSV file ``out``.

    Returns:
        0 when the file was written (atomically), 2 otherwise (nothing half-written).
    """
    if db is not None and not Path(db).exists():
        return _error(f"The audit database {db} does not exist; check the --audit-db path.")
    try:
        with open_audit_store(db) as store:
            count = store.export_csv(Path(out))
    except UserError as exc:
        return _error(str(exc))
    _console().print(f"[green]ok[/green] wrote {count} record{'s' if count != 1 else ''} to {out}.")
    return EXIT_OK


def _add_audit_commands(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="audit_command", required=True, metavar="{verify,export}")
    verify = commands.add_parser(
        "verify", help="recompute the hash chain and report the first broken link (exit 0 ok, 2 broken)"
    )
    add_audit_db_option(verify)
    verify.set_defaults(audit_func=lambda args: verify_main(args.audit_db))
    export = commands.add_parser("export", help="write every decision to a CSV file")
    export.add_argument("--out", type=Path, required=True, metavar="FILE.csv", help="CSV file to write")
    add_audit_db_option(export)
    export.set_defaults(audit_func=lambda args: export_main(args.audit_db, args.out))


def add_audit_db_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--audit-db PATH`` (the same option for the app, ``audit`` and ``letter``)."""
    parser.add_argument(
        "--audit-db",
        type=Path,
        default=None,
        metavar="PATH",
        help="the audit database (default: audit.sqlite3 in your user data folder)",
    )


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
