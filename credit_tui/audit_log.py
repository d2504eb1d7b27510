"""Which decision log to open: the single desk's SQLite file or the team's PostgreSQL server.

:class:`AuditLog` is what the app, the ``audit`` and ``letter`` commands use; :class:`AuditStore`
(SQLite, ``credit_tui.audit``) and :class:`PgAuditStore` (PostgreSQL, ``credit_tui.audit_pg``) both fit it.
"""

from __future__ import annotations

from pathlib import Path

from credit_tui.audit import DecisionLog, open_audit_store

#: The decision log, whatever its backend (:class:`credit_tui.audit.DecisionLog`).
AuditLog = DecisionLog


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
