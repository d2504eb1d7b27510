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

    [desk]
    advisor = "Alice Martin"               # --advisor overrides it; never defaults to the login name
    letters_dir = "/srv/letters"           # default: the letters folder in the user data folder

    [bank]
    name = "Prêt à Dépenser"
    contact = "Customer Review Service, 12 rue de la Paix, 75002 Paris, review@pret-a-depenser.example"
    review_days = 30                       # days the client has to ask for a human review

    [product]
    currency = "EUR"
    interest_rate = 0.0                    # yearly; 0 shows terms "before interest"

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
from trainer.plain import DEFAULT_CURRENCY, ProductTerms
from trainer.text_safety import has_any_control

CONFIG_ENV = "CREDIT_TUI_CONFIG"
PUBLIC_KEY_BYTES = 32
DEFAULT_BANK = "Prêt à Dépenser"
DEFAULT_CONTACT = (
    "Prêt à Dépenser, Customer Review Service, by letter at your branch "
    "or by e-mail to review@pret-a-depenser.example"
)
DEFAULT_REVIEW_DAYS = 30


class ConfigError(UserError):
    """The config file cannot be read or holds a wrong value (one sentence naming file and key)."""


@dataclass(frozen=True)
class DeskSettings:
    """The advisor's desk: ``[desk]``, ``[bank]`` and ``[product]`` of the config file.

    Attributes:
        path: The file read (None when there was none).
        advisor: The advisor's name ("" when not configured: the app then asks for --advisor).
        letters_dir: Where letters go (None: the letters folder in the user data folder).
        bank: The lender's name on letters.
        contact: Where a client asks for a human review (postal and e-mail address).
        review_days: Days the client has to ask for a human review.
        product: Currency and interest rate of the product (amounts and terms).
    """

    path: Path | None = None
    advisor: str = ""
    letters_dir: Path | None = None
    bank: str = DEFAULT_BANK
    contact: str = DEFAULT_CONTACT
    review_days: int = DEFAULT_REVIEW_DAYS
    product: ProductTerms = field(default_factory=ProductTerms)


@dataclass(frozen=True)
class Settings:
    """What the config file says.

    Attributes:
        path: The file read (None when there was none).
        trusted_keys: Raw Ed25519 public keys (32 bytes each) whose releases are trusted.
        audit_db: The audit database: a ``postgresql://`` URL or an SQLite path (None: the default file).
        four_eyes_pd: Decisions on a PD above this level need a supervisor's approval (team mode).
        desk: The advisor's name, letters folder, bank contact, review deadline and product terms.
    """

    path: Path | None = None
    trusted_keys: tuple[bytes, ...] = field(default_factory=tuple)
    audit_db: str | None = None
    four_eyes_pd: float | None = None
    desk: DeskSettings = field(default_factory=DeskSettings)


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
    if has_any_control(value):
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
    return Settings(
        path=path, trusted_keys=keys, audit_db=audit_db, four_eyes_pd=four_eyes, desk=_desk(data, path)
    )


def _limited(value: Any, where: str, limit: int) -> str:
    text = _clean_text(value, where)
    if len(text) > limit:
        raise ConfigError(f"{where} is longer than {limit} characters; shorten it in the config file.")
    return text


def _desk(data: dict[str, Any], path: Path) -> DeskSettings:
    """``[desk]``, ``[bank]`` and ``[product]``, checked."""
    tables = []
    for name in ("desk", "bank", "product"):
        table = data.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{name}] must be a table; fix the config file.")
        tables.append(table)
    desk, bank, product = tables
    advisor = _limited(desk["advisor"], f"{path}: [desk] advisor", 80) if "advisor" in desk else ""
    letters = desk.get("letters_dir")
    letters_dir = None if letters is None else Path(_limited(letters, f"{path}: [desk] letters_dir", 400))
    days = bank.get("review_days", DEFAULT_REVIEW_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        raise ConfigError(f"{path}: [bank] review_days must be a whole number of days from 1 to 365.")
    rate = product.get("interest_rate", 0.0)
    ok = isinstance(rate, int | float) and not isinstance(rate, bool) and math.isfinite(rate)
    if not ok or not 0.0 <= float(rate) <= 0.99:
        raise ConfigError(
            f"{path}: [product] interest_rate must be a number between 0 and 0.99, not {rate!r}."
        )
    currency = _limited(product.get("currency", DEFAULT_CURRENCY), f"{path}: [product] currency", 8)
    return DeskSettings(
        path=path,
        advisor=advisor,
        letters_dir=None if letters_dir is None else letters_dir.expanduser(),
        bank=_limited(bank.get("name", DEFAULT_BANK), f"{path}: [bank] name", 120),
        contact=_limited(bank.get("contact", DEFAULT_CONTACT), f"{path}: [bank] contact", 400),
        review_days=days,
        product=ProductTerms(currency, float(rate)),
    )
