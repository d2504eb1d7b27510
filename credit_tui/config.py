"""The desk's settings as the app uses them: the advisor's name and the letters folder.

The ``[desk]``, ``[bank]`` and ``[product]`` tables of the config file are read and checked by
:func:`trainer.settings.load_settings` with the rest of the file (see the README, "Configuration");
this module names them for the app and adds the two defaults that depend on the user's folders, and
the ``--audit-db`` option every ``credit-tui`` command shares (light: the launch parses it first).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from trainer.settings import (
    DEFAULT_BANK,
    DEFAULT_CONTACT,
    DEFAULT_REVIEW_DAYS,
    ConfigError,
    DeskSettings,
    default_config_path,
    load_settings,
)
from trainer.text_safety import has_any_control

#: The desk settings (``Settings.desk``).
DeskConfig = DeskSettings

__all__ = [
    "DEFAULT_BANK",
    "DEFAULT_CONTACT",
    "DEFAULT_REVIEW_DAYS",
    "ConfigError",
    "DeskConfig",
    "add_audit_db_option",
    "default_letters_dir",
    "load_desk_config",
    "resolve_advisor",
]


def load_desk_config(path: Path | None = None) -> DeskConfig:
    """The desk settings of the config file (``path``, else the default one; defaults when none).

    Raises:
        ConfigError: When the file is unreadable, not TOML, or holds a wrong value (one sentence).
    """
    return load_settings(path).desk


def default_letters_dir() -> Path:
    """``letters`` in the user data folder (``~/.local/share/credit-tui/letters`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("credit-tui")) / "letters"


def _clean_name(value: str, where: str) -> str:
    if not value.strip():
        raise ConfigError(f"{where} must be a non-empty name.")
    if has_any_control(value) or len(value) > 80:
        raise ConfigError(f"{where} must be a name of at most 80 characters without control characters.")
    return value.strip()


def resolve_advisor(cli_value: str | None, config: DeskConfig) -> str:
    """The advisor's name: ``--advisor``, else the config file; never the login name.

    Raises:
        ConfigError: When neither names the advisor, or the name holds control characters.
    """
    if cli_value is not None:
        return _clean_name(cli_value, "--advisor")
    if config.advisor:
        return config.advisor
    where = config.path or default_config_path()
    raise ConfigError(
        f"Who is deciding? Pass --advisor NAME, or set advisor under [desk] in {where} (see the README)."
    )


def add_audit_db_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--audit-db PATH|URL`` (the same option for the app, ``audit`` and ``letter``)."""
    parser.add_argument(
        "--audit-db",
        default=None,
        metavar="PATH|URL",
        help="the audit database: an SQLite file or a postgresql:// URL (default: the config file's "
        "[audit] db, else audit.sqlite3 in your user data folder)",
    )
