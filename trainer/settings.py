"""The deployment's config file: trusted release keys, the shared audit database, the four-eyes level.

One TOML file, read with :mod:`tomllib`, at ``$CREDIT_TUI_CONFIG`` or ``config.toml`` in the user config
folder (``~/.config/credit-tui/`` on Linux). A missing file means the single-desk defaults: no trusted
keys (unsigned bundles run with an "unreleased model" mark), the local SQLite log, no four-eyes level::

    [release]
    # Public keys of model risk (the `.pub` files `trainer keygen` writes: base64 of 32 bytes).
    trusted_keys = ["d2hhdGV2ZXIgdGhlIGtleSBpcywgMzIgYnl0ZXMgb2YgaXQ="]

    [audit]
    db = "postgresql://alice@db.bank.example/credit"   # or a path to an SQLite file
    four_eyes_pd = 0.35                                # decisions on a PD above this wait for approval

Every value is checked here (types, ranges, no control characters); the rest of the code gets a
:class:`Settings`.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.errors import UserError

CONFIG_ENV = "CREDIT_TUI_CONFIG"
PUBLIC_KEY_BYTES = 32


class ConfigError(UserError):
    """The config file cannot be read or holds a wrong value (one sentence naming file and key)."""


@dataclass(frozen=True)
class Settings:
    """What the config file says.

    Attributes:
        path: The file read (None when there was none).
        trusted_keys: Raw Ed25519 public keys (32 bytes each) whose releases are trusted.
        audit_db: The audit database: a ``postgresql://`` URL or an SQLite path (None: the default file).
        four_eyes_pd: Decisions on a PD above this level need a supervisor's approval (team mode).
    """

    path: Path | None = None
    trusted_keys: tuple[bytes, ...] = field(default_factory=tuple)
    audit_db: str | None = None
    four_eyes_pd: float | None = None


def default_config_path() -> Path:
    """``$CREDIT_TUI_CONFIG``, or ``config.toml`` in the user config folder (not created here)."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir("credit-tui")) / "config.toml"


def decode_public_key(text: str, where: str) -> bytes:
    """Decode a base64 Ed25519 public key; raise :class:`ConfigError` naming ``where`` otherwise."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != PUBLIC_KEY_BYTES:
        raise ConfigError(
            f"{where} is not an Ed25519 public key (base64 of 32 bytes, as in the .pub file of "
            "`trainer keygen`); copy the key again."
        )
    return raw


def _clean_text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be a non-empty text; fix the config file.")
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value):
        raise ConfigError(f"{where} holds control characters; fix the config file.")
    return value.strip()


def load_settings(path: Path | None = None) -> Settings:
    """Read and check the config file (``path``, else :func:`default_config_path`).

    Returns:
        The settings; the defaults when no file exists at the default place.

    Raises:
        ConfigError: When the file is unreadable, not TOML, or holds a wrong value (one sentence).
    """
    explicit = path is not None
    path = Path(path) if path is not None else default_config_path()
    if not path.is_file():
        if explicit or os.environ.get(CONFIG_ENV):
            raise ConfigError(f"The config file {path} does not exist; create it or unset {CONFIG_ENV}.")
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"The config file {path} cannot be read as TOML ({exc}); fix it.") from None
    release = data.get("release", {})
    audit = data.get("audit", {})
    if not isinstance(release, dict) or not isinstance(audit, dict):
        raise ConfigError(f"The config file {path} must hold [release] and [audit] tables; fix it.")
    keys_value = release.get("trusted_keys", [])
    if not isinstance(keys_value, list):
        raise ConfigError(f"{path}: [release] trusted_keys must be a list of base64 public keys.")
    keys = tuple(
        decode_public_key(_clean_text(key, f"{path}: trusted_keys[{i}]"), f"{path}: trusted_keys[{i}]")
        for i, key in enumerate(keys_value)
    )
    db = audit.get("db")
    audit_db = None if db is None else _clean_text(db, f"{path}: [audit] db")
    level = audit.get("four_eyes_pd")
    four_eyes: float | None = None
    if level is not None:
        if isinstance(level, bool) or not isinstance(level, int | float) or not math.isfinite(level):
            raise ConfigError(f"{path}: [audit] four_eyes_pd must be a number between 0 and 1.")
        if not 0.0 <= float(level) <= 1.0:
            raise ConfigError(f"{path}: [audit] four_eyes_pd must be between 0 and 1, not {level}.")
        four_eyes = float(level)
    return Settings(path=path, trusted_keys=keys, audit_db=audit_db, four_eyes_pd=four_eyes)
