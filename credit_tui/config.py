"""The desk's settings: advisor name, letters folder, the bank's review contact, product terms.

Read with :mod:`tomllib` from ``$CREDIT_TUI_CONFIG`` or ``config.toml`` in the user config folder
(``~/.config/credit-tui/config.toml`` on Linux), the same file as the release and audit settings. A
missing file means the defaults below; every value present is checked (type, range, no control
characters) and a wrong one is one sentence naming the file and the key::

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
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.errors import UserError
from trainer.plain import DEFAULT_CURRENCY, ProductTerms

CONFIG_ENV = "CREDIT_TUI_CONFIG"
DEFAULT_BANK = "Prêt à Dépenser"
DEFAULT_CONTACT = (
    "Prêt à Dépenser, Customer Review Service, by letter at your branch "
    "or by e-mail to review@pret-a-depenser.example"
)
DEFAULT_REVIEW_DAYS = 30


class ConfigError(UserError):
    """The config file cannot be read or holds a wrong value (one sentence naming file and key)."""


@dataclass(frozen=True)
class DeskConfig:
    """What the config file says for the advisor's desk.

    Attributes:
        path: The file read (None when there was none).
        advisor: The advisor's name ("" when not configured: the app then asks for --advisor).
        letters_dir: Where letters go (None: :func:`default_letters_dir`).
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


def default_config_path() -> Path:
    """``$CREDIT_TUI_CONFIG``, or ``config.toml`` in the user config folder (not created here)."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir("credit-tui")) / "config.toml"


def default_letters_dir() -> Path:
    """``letters`` in the user data folder (``~/.local/share/credit-tui/letters`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("credit-tui")) / "letters"


def clean_text(value: Any, where: str, *, limit: int = 400) -> str:
    """A non-empty text without control characters, at most ``limit`` characters."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be a non-empty text; fix the config file.")
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value):
        raise ConfigError(f"{where} holds control characters; fix the config file.")
    if len(value) > limit:
        raise ConfigError(f"{where} is longer than {limit} characters; shorten it in the config file.")
    return value.strip()


def _number(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where} must be a number between {low:g} and {high:g}; fix the config file.")
    if not low <= float(value) <= high:
        raise ConfigError(f"{where} must be between {low:g} and {high:g}, not {value}; fix the config file.")
    return float(value)


def _table(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{name}] must be a table; fix the config file.")
    return table


def load_desk_config(path: Path | None = None) -> DeskConfig:
    """Read and check the desk settings (``path``, else :func:`default_config_path`).

    Raises:
        ConfigError: When the file is unreadable, not TOML, or holds a wrong value (one sentence).
    """
    explicit = path is not None
    path = Path(path) if path is not None else default_config_path()
    if not path.is_file():
        if explicit or os.environ.get(CONFIG_ENV):
            raise ConfigError(f"The config file {path} does not exist; create it or unset {CONFIG_ENV}.")
        return DeskConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"The config file {path} cannot be read as TOML ({exc}); fix it.") from None
    desk, bank, product = (_table(data, name, path) for name in ("desk", "bank", "product"))
    advisor = clean_text(desk["advisor"], f"{path}: [desk] advisor", limit=80) if "advisor" in desk else ""
    letters = desk.get("letters_dir")
    letters_dir = (
        None if letters is None else Path(clean_text(letters, f"{path}: [desk] letters_dir")).expanduser()
    )
    days = bank.get("review_days", DEFAULT_REVIEW_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        raise ConfigError(f"{path}: [bank] review_days must be a whole number of days from 1 to 365.")
    currency = product.get("currency", DEFAULT_CURRENCY)
    rate = _number(product.get("interest_rate", 0.0), f"{path}: [product] interest_rate", 0.0, 0.99)
    return DeskConfig(
        path=path,
        advisor=advisor,
        letters_dir=letters_dir,
        bank=clean_text(bank.get("name", DEFAULT_BANK), f"{path}: [bank] name", limit=120),
        contact=clean_text(bank.get("contact", DEFAULT_CONTACT), f"{path}: [bank] contact"),
        review_days=days,
        product=ProductTerms(clean_text(currency, f"{path}: [product] currency", limit=8), rate),
    )


def resolve_advisor(cli_value: str | None, config: DeskConfig) -> str:
    """The advisor's name: ``--advisor``, else the config file; never the login name.

    Raises:
        ConfigError: When neither names the advisor.
    """
    if cli_value is not None:
        return clean_text(cli_value, "--advisor", limit=80)
    if config.advisor:
        return config.advisor
    where = config.path or default_config_path()
    raise ConfigError(
        f"Who is deciding? Pass --advisor NAME, or set advisor under [desk] in {where} (see the README)."
    )
