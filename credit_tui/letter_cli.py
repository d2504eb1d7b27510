"""``credit-tui letter --client ID``: write the decision letter of a client's latest recorded decision.

One line on stdout naming both files, or one sentence on stderr and exit code 2 (no decision recorded,
an audit database that does not exist or cannot be read, a folder that cannot be written). No Textual.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from credit_tui.audit_cli import add_audit_db_option

EXIT_OK = 0
EXIT_FAIL = 2


def _error(message: str) -> int:
    print(f"credit-tui letter: {message}", file=sys.stderr)
    return EXIT_FAIL


def build_letter_parser() -> argparse.ArgumentParser:
    """The command line of ``credit-tui letter``."""
    parser = argparse.ArgumentParser(
        prog="credit-tui letter",
        description=(
            "Write the decision letter (Markdown and self-contained HTML) of a client's latest decision "
            "recorded in the audit log."
        ),
    )
    parser.add_argument("--client", type=int, required=True, metavar="ID", help="the client's SK_ID_CURR")
    parser.add_argument(
        "--out", type=Path, default=None, metavar="DIR", help="existing folder for the letter (default: .)"
    )
    add_audit_db_option(parser)
    return parser


def letter_main(argv: list[str]) -> int:
    """Run ``credit-tui letter ARGV...`` and return the exit code (argparse usage errors exit 2 too)."""
    from credit_tui.audit import default_audit_path
    from credit_tui.audit_log import open_audit_log, resolve_target
    from credit_tui.audit_pg import is_postgres_url
    from credit_tui.letter import pending_refusal, write_record_letter
    from trainer.errors import UserError

    args = build_letter_parser().parse_args(argv)
    try:
        target = resolve_target(args.audit_db)
    except UserError as exc:
        return _error(str(exc))
    db: str | Path = str(target) if is_postgres_url(target) else Path(target or default_audit_path())
    if isinstance(db, Path) and not db.exists():
        return _error(
            f"No decision is recorded for client {args.client}: the audit database {db} does not exist "
            "(record a decision in the app first, or check --audit-db)."
        )
    out_dir: Path = args.out if args.out is not None else Path.cwd()
    try:
        with open_audit_log(db, read_only=True) as store:
            record = store.latest_for(args.client)
            status = "final" if record is None else store.status(record.id)
            where = store.path
        if record is None:
            return _error(
                f"No decision is recorded for client {args.client} in {where}; record one in the app first."
            )
        if (refusal := pending_refusal(record, status)) is not None:
            return _error(refusal)
        md_path, html_path = write_record_letter(out_dir, record)
    except UserError as exc:
        return _error(str(exc))
    print(
        f"Wrote the {record.final_decision} letter of decision #{record.id} for client {record.client_id}: "
        f"{md_path} and {html_path}"
    )
    return EXIT_OK
