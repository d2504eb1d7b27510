"""One policy for output paths: an output never replaces what the command does not own.

Every command that writes a file the user named (``trainer predict --out``, ``credit-tui audit export
--out``) calls :func:`check_output_file` before writing; ``trainer fit --out`` calls
:func:`check_bundle_target`. The rules:

- never the command's own input, the open audit log, any SQLite database or its write-ahead log, a
  folder, or anything that is not a regular file (a device such as ``/dev/sda``, a pipe, a socket);
- an existing regular file only when the user passed ``--force``;
- a bundle folder only when it already holds a bundle (manifest and model): a typo in ``--out`` must
  not delete a project.

Writing itself stays atomic (:mod:`trainer.atomic`): temporary file beside the target, then rename.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from trainer.errors import UserError

_SQLITE_MAGIC = b"SQLite format 3\x00"
_WAL_MAGICS = (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def is_sqlite_file(path: Path) -> bool:
    """Whether ``path`` starts like an SQLite database or an SQLite write-ahead log."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    except OSError:
        return False
    return head == _SQLITE_MAGIC or head[:4] in _WAL_MAGICS


def check_output_file(
    out: Path, *, inputs: Iterable[Path] = (), force: bool = False, option: str = "--out"
) -> Path:
    """Refuse an output file path that would replace something the command does not own.

    Args:
        out: The path the user asked to write.
        inputs: Files the command reads (its input, the open audit log): never replaced.
        force: The user passed ``--force``: an existing regular file may be replaced.
        option: The option that named ``out`` (for the message).

    Returns:
        ``out``, unchanged.

    Raises:
        UserError: One sentence naming the path, why it is refused and what to do.
    """
    out = Path(out)
    if not out.parent.is_dir():
        raise UserError(f"Folder {out.parent} does not exist; create it or choose another {option} path.")
    for source in inputs:
        if out.exists() and Path(source).exists() and _same_file(out, Path(source)):
            raise UserError(
                f"{option} {out} is the file this command reads; choose another {option} path "
                "(an output never replaces its input)."
            )
    if not out.exists() and not out.is_symlink():
        return out
    try:
        mode = out.stat().st_mode
    except OSError as exc:
        raise UserError(
            f"{option} {out} cannot be inspected ({exc.strerror or exc}); choose another path."
        ) from None
    if stat.S_ISDIR(mode):
        raise UserError(f"{option} {out} is a folder; pass a file path inside it instead.")
    if not stat.S_ISREG(mode):
        raise UserError(
            f"{option} {out} is not a regular file (a device, pipe or socket); choose a file path instead."
        )
    if is_sqlite_file(out):
        raise UserError(
            f"{option} {out} is an SQLite database (perhaps an audit log); it is never replaced, "
            "choose another path."
        )
    if not force:
        raise UserError(f"{option} {out} already exists; pass --force to replace it, or choose another path.")
    return out


def is_bundle_folder(path: Path) -> bool:
    """Whether ``path`` holds a model bundle: a manifest with a ``schema_version`` and the model file.

    Only the shape is checked (the bundle loader validates manifests): enough to know that replacing
    the folder replaces a bundle and nothing else.
    """
    from trainer.bundle import MANIFEST_FILE, MODEL_FILE

    manifest = path / MANIFEST_FILE
    if not manifest.is_file() or not (path / MODEL_FILE).is_file():
        return False
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and "schema_version" in data


def check_bundle_target(out: Path, *, inputs: Iterable[Path] = ()) -> Path:
    """Refuse a bundle output folder unless it is new or already holds a bundle.

    Args:
        out: The ``--out`` folder of ``trainer fit``.
        inputs: Folders the command reads (the data folder): never replaced nor an ancestor of one.

    Raises:
        UserError: When ``out`` is a file, the current folder or one of its parents, a folder holding
            or containing the data, or an existing folder that is not a bundle.
    """
    return check_output_folder(out, is_bundle_folder, "a model bundle", "models/NAME", inputs=inputs)


def check_output_folder(
    out: Path,
    is_ours: Callable[[Path], bool],
    what: str,
    example: str,
    *,
    inputs: Iterable[Path] = (),
) -> Path:
    """Refuse an output folder the command would replace whole, unless it is new or one of its own.

    Args:
        out: The ``--out`` folder.
        is_ours: Whether an existing folder holds this command's output (and nothing else of value).
        what: What such a folder holds, for the message ("a model bundle", "a report").
        example: A path to suggest instead.
        inputs: Folders the command reads: never replaced nor an ancestor of one.

    Raises:
        UserError: When ``out`` is a file, a symbolic link, the current folder or one of its parents, a
            folder holding the data read, or an existing folder ``is_ours`` does not recognise.
    """
    out = Path(out)
    resolved = out.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise UserError(
            f"--out {out} is the current folder (or holds it); pass a new folder such as {example}."
        )
    for source in inputs:
        src = Path(source).resolve()
        if resolved == src or resolved in src.parents:
            raise UserError(f"--out {out} holds the data being read; pass a new folder such as {example}.")
    if not out.exists() and not out.is_symlink():
        return out
    if out.is_symlink():
        raise UserError(f"--out {out} is a symbolic link; pass a real folder or a new one such as {example}.")
    if not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder; pass a new folder such as {example}.")
    if not is_ours(out):
        raise UserError(
            f"--out {out} is an existing folder that does not hold {what}; it is never replaced, "
            f"pass a new folder such as {example}."
        )
    return out


def holds_only(*names: str) -> Callable[[Path], bool]:
    """A test for :func:`check_output_folder`: the folder holds ``names[0]`` and nothing but such files.

    Each entry must be a file (no subfolder) named in ``names`` or ending with one of the suffixes given
    as ``*SUFFIX`` in ``names``.
    """

    def check(folder: Path) -> bool:
        if not (folder / names[0]).is_file():
            return False
        suffixes = tuple(n[1:] for n in names if n.startswith("*"))
        for entry in folder.iterdir():
            if not entry.is_file() or not (entry.name in names or entry.name.endswith(suffixes)):
                return False
        return True

    return check
