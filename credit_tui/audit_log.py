"""Which decision log to open: the single desk's SQLite file or the team's PostgreSQL server.

:class:`AuditLog` is what the app, the ``audit`` and ``letter`` commands use; :class:`AuditStore`
(SQLite, ``credit_tui.audit``) and :class:`PgAuditStore` (PostgreSQL, ``credit_tui.audit_pg``) both fit it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from credit_tui.audit import DecisionRecord, VerifyResult, open_audit_store


class AuditLog(Protocol):
    """The decision log, whatever its backend."""

    #: True for the team log (four-eyes: decisions may wait for a supervisor).
    team: bool

    @property
    def path(self) -> Any:  # noqa: D102  (a file path, or user@host/db of a server)
        ...

    def record(  # noqa: D102
        self,
        *,
        advisor: str,
        client_id: int,
        bundle_id: str,
        threshold: float,
        pd: float,
        model_decision: str,
        final_decision: str,
        input_hash: str,
        reasons: Sequence[str] = (),
        justification: str = "",
        corrects: int | None = None,
        override_code: str = "",
        terms: str = "",
    ) -> DecisionRecord: ...

    def get(self, record_id: int) -> DecisionRecord | None: ...  # noqa: D102
    def latest_for(self, client_id: int) -> DecisionRecord | None: ...  # noqa: D102
    def decisions(  # noqa: D102
        self,
        client_id: int | None = None,
        advisor: str | None = None,
        since: Any = None,
        until: Any = None,
        final_decision: str | None = None,
        override: bool | None = None,
    ) -> list[DecisionRecord]: ...
    def advisors(self) -> list[str]: ...  # noqa: D102
    def count(self) -> int: ...  # noqa: D102
    def head(self) -> tuple[int, str]: ...  # noqa: D102
    def status(self, record_id: int) -> str: ...  # noqa: D102
    def pending(self) -> list[DecisionRecord]: ...  # noqa: D102
    def verify(self, anchor: tuple[int, str] | None = None) -> VerifyResult: ...  # noqa: D102
    def protections_intact(self) -> bool: ...  # noqa: D102
    def integrity_check(self) -> str: ...  # noqa: D102
    def export_csv(self, out: Path) -> int: ...  # noqa: D102
    def close(self) -> None: ...  # noqa: D102
    def __enter__(self) -> AuditLog: ...
    def __exit__(self, *exc_info: object) -> None: ...


def resolve_target(cli_value: str | None) -> str | None:
    """The log to open: ``--audit-db`` when given, else the config file's ``[audit] db`` (None: default)."""
    if cli_value:
        return cli_value
    from trainer.settings import load_settings

    return load_settings().audit_db


def open_audit_log(target: str | Path | None, *, read_only: bool = False) -> AuditLog:
    """Open the log named by ``target``: a ``postgresql://`` URL, an SQLite path, or None (default file).

    With ``read_only`` (``audit verify`` / ``anchor`` / ``export``, ``credit-tui letter``), an SQLite log is
    opened read-only: nothing is created, and a missing or empty file is an error, not a new log.

    Raises:
        credit_tui.audit.AuditError: One sentence when it cannot be used.
    """
    from credit_tui.audit_pg import PgAuditStore, is_postgres_url

    if is_postgres_url(target):
        return PgAuditStore(str(target))
    if read_only:
        from credit_tui.audit import AuditStore, default_audit_path

        return AuditStore(default_audit_path() if target is None else Path(target), read_only=True)
    return open_audit_store(None if target is None else Path(target))
