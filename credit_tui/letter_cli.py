"""``credit-tui letter --client ID``: write the decision letter of a client's latest recorded decision.

One line on stdout naming both files, or one sentence on stderr and exit code 2 (no decision recorded,
an audit database that does not exist or cannot be read, a folder that cannot be written). No Textual.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from credit_tui.config import add_audit_db_option

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
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="existing folder for the letter (default: [desk] letters_dir of the config file, else "
        "letters/ in the user data folder)",
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        metavar="DIR",
        help="the bundle the decision was taken with (default: the bundled demo's); a model that uses "
        "protected attributes writes no letter",
    )
    add_audit_db_option(parser)
    return parser


def for_client_decisions(bundle_id: str, model: Path | None) -> bool:
    """False when ``model`` (default: the demo's) is the record's bundle and uses protected attributes.

    Only the manifest is read and verified (no model library). A bundle other than the record's says
    nothing about it: the letter is then written (the app itself refuses letters with such a model).
    """
    return model_status(bundle_id, model)[0]


def model_status(bundle_id: str, model: Path | None) -> tuple[bool, str, str]:
    """Whether the record's model may write letters, and the release mark its letters carry.

    Args:
        bundle_id: The ``model_id`` the decision was recorded with.
        model: The bundle folder given with ``--model`` (None: the bundled demo's).

    Returns:
        (for client decisions, model note, why): the note is "" only when ``model`` is the record's
        bundle and its release verifies against a trusted key (the config file's, or the demo key for
        the bundled demo), as in the app; otherwise the letter says
        :data:`credit_tui.letter.UNRELEASED_NOTE` (a release that was not checked is never claimed) and
        ``why`` says why, for the command's output.

    Raises:
        trainer.errors.BundleError: When the bundle does not verify, or trusted keys are configured and
            the record's bundle is unsigned or wrongly signed (the app would refuse to run it).
    """
    from credit_tui.cli import DEMO_MODEL, trusted_keys_for
    from credit_tui.letter import UNRELEASED_NOTE
    from trainer.bundle import verify_bundle
    from trainer.policy import protected_features
    from trainer.release import check_release
    from trainer.settings import load_settings

    path = model if model is not None else DEMO_MODEL
    unchecked = f"its release was not checked: pass --model DIR of bundle {bundle_id[:12]}"
    if model is None and not (path / "manifest.json").is_file():
        return True, UNRELEASED_NOTE, unchecked
    manifest = verify_bundle(path)
    if manifest.model_id != bundle_id:
        return True, UNRELEASED_NOTE, unchecked
    release = check_release(path, trusted_keys_for(path, load_settings().trusted_keys))
    allowed = not protected_features(manifest.spec.names)
    if release is None:
        return allowed, UNRELEASED_NOTE, f"bundle {bundle_id[:12]} is not signed by a trusted release key"
    return allowed, "", ""


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
    try:
        from credit_tui.config import default_letters_dir, load_desk_config

        desk = load_desk_config()
        out_dir: Path = args.out or desk.letters_dir or default_letters_dir()
        if args.out is None and desk.letters_dir is None:
            try:
                out_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                return _error(f"Cannot create the letters folder {out_dir} ({exc.strerror}); pass --out DIR.")
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
        allowed, note, why = model_status(record.bundle_id, args.model)
        md_path, html_path = write_record_letter(
            out_dir, record, desk, for_client_decisions=allowed, model_note=note
        )
    except UserError as exc:
        return _error(str(exc))
    print(
        f"Wrote the {record.final_decision} letter of decision #{record.id} for client {record.client_id}: "
        f"{md_path} and {html_path}{f' (marked UNRELEASED MODEL: {why})' if note else ''}"
    )
    return EXIT_OK
