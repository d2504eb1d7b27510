"""Team mode: the shared decision log on a PostgreSQL server (``--audit-db postgresql://...``).

The schema (``audit_pg_schema.sql``, then ``audit_pg_schema_2.sql`` and ``_3.sql``; created, or
upgraded, by ``credit-tui audit init --db URL`` run by an administrator) gives advisors SELECT and
EXECUTE only. :meth:`PgAuditStore.record` calls the SECURITY DEFINER function
``credit_audit.record_decision``: the server takes the advisor from ``session_user``, decides whether
the record waits for a supervisor (an override, or a PD above the four-eyes level stored at init),
computes the hash chain under one advisory lock, and commits, all in one transaction. A retry after a
lost connection sends the same request id, so a decision is recorded once or not at all.

Durability without a disk flush under the lock. The app calls ``record_decision`` (and
``review_decision``) in a transaction with ``synchronous_commit = off`` (``set_config(..., true)``,
i.e. ``SET LOCAL``, in the same SELECT; the calls and the confirm are prepared once per session, see
:func:`prepare_calls`): its COMMIT inserts the commit record into the write-ahead log and releases the
lock without waiting for the disk (PostgreSQL's asynchronous commit: the transaction is visible at
once, and durable once the WAL is flushed past its commit record). In the same round trip the app then
runs ``credit_audit.confirm_durable()``, a transaction that writes WAL (a transactional logical message
since schema 3) and commits synchronously: its COMMIT returns only after the WAL is flushed up to its
own commit record, which lies after the decision's (same session, later), and a flush writes the WAL in
order, so the decision is on disk before it is acknowledged. Concurrent confirms share one flush (group
commit: a flush covers every commit record inserted before it). After a crash, recovery replays the WAL
up to the last flushed record; each decision took the lock after the previous one's commit record was
inserted, so its own records come later in the WAL: a decision can only survive when every earlier one
does. A crash may lose the newest decisions that were not yet acknowledged, never an acknowledged one,
and never leaves a gap in the chain. Called alone (psql), the functions commit synchronously as usual.

:meth:`PgAuditStore.verify` recomputes both chains (decisions and supervisors' reviews) in Python from
the columns' server text, so an auditor does not have to trust the server's functions.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from credit_tui.audit import (
    DECISION_FIELDS,
    GENESIS_HASH,
    V2_COLUMNS,
    AuditError,
    AuditRetryableError,
    DecisionError,
    DecisionLog,
    DecisionRecord,
    DecisionRequest,
    VerifyResult,
    _verify_rows,
    record_from_columns,
    write_csv,
)

if TYPE_CHECKING:
    import psycopg

SCHEMA_VERSION: Final = 3
CONNECT_TIMEOUT_S: Final = 5
SUPERVISOR_ROLE: Final = "credit_supervisor"
ADVISOR_ROLE: Final = "credit_advisor"
_VERDICTS: Final = ("APPROVED", "REJECTED")

_DECISION_COLUMNS: Final = (*DECISION_FIELDS, "pending", "request_id", "prev_hash", "hash", *V2_COLUMNS)
_REVIEW_COLUMNS: Final = (
    "id",
    "decision_id",
    "time",
    "approver",
    "verdict",
    "justification",
    "prev_hash",
    "hash",
)
#: The calls :func:`_durably` records: function -> (the columns it returns, its argument types).
_DURABLE_CALLS: Final = {
    "record_decision": (
        _DECISION_COLUMNS,
        "bigint, text, double precision, double precision, text, text, text, text, text, bigint, uuid, "
        "text, text",
    ),
    "review_decision": (_REVIEW_COLUMNS, "bigint, text, text"),
}
_TEXT_CASTS: Final = frozenset(
    {"id", "client_id", "threshold", "pd", "override", "corrects", "pending", "request_id", "decision_id"}
)


def is_postgres_url(target: object) -> bool:
    """True when ``target`` names a PostgreSQL server rather than an SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def describe_url(url: str) -> str:
    """``user@host:port/dbname`` of a connection URL, never its password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(url)
    except Exception:  # a malformed URL: say nothing of its content
        return "the audit server"
    host = str(info.get("host") or "localhost")
    if host.startswith("/"):
        host = f"socket {host}"
    port = str(info.get("port") or "")
    where = f"{host}:{port}" if port else host
    user = str(info.get("user") or "")
    return f"{user + '@' if user else ''}{where}/{info.get('dbname') or ''}"


def _field(value: str | None) -> str:
    return "-\n" if value is None else f"{len(value)}:{value}\n"


def _text_hash(domain: str, columns: Sequence[str], data: Mapping[str, Any]) -> str:
    body = "".join(_field(None if data[c] is None else str(data[c])) for c in columns if c != "hash")
    return hashlib.sha256(f"{domain}\n{body}".encode()).hexdigest()


def decision_hash(data: Mapping[str, Any]) -> str:
    """The hash a decision row should have, from its columns' server text (mirrors ``decision_hash()``).

    Schema 1's hash over every column but the schema-2 ones; when a schema-2 column is not empty,
    SHA-256 over ``credit-tui-audit-pg/2``, that hash, the reason code and the terms.
    """
    v1 = _text_hash("credit-tui-audit-pg/1", [c for c in _DECISION_COLUMNS if c not in V2_COLUMNS], data)
    if not any(data.get(c) for c in V2_COLUMNS):
        return v1
    body = _field(v1) + "".join(_field(str(data[c])) for c in V2_COLUMNS)
    return hashlib.sha256(f"credit-tui-audit-pg/2\n{body}".encode()).hexdigest()


def review_hash(data: Mapping[str, Any]) -> str:
    """The hash a review row should have, from its columns' server text (mirrors ``review_hash()``)."""
    return _text_hash("credit-tui-review-pg/1", _REVIEW_COLUMNS, data)


@dataclass(frozen=True)
class Review:
    """A supervisor's approval or rejection of a pending decision.

    Attributes:
        id: Position in the reviews chain.
        decision_id: The decision reviewed.
        time: When (UTC ISO 8601).
        approver: The supervisor (the server's ``session_user``).
        verdict: APPROVED or REJECTED.
        justification: The supervisor's words.
        hash: The review's hash in its chain.
    """

    id: int
    decision_id: int
    time: str
    approver: str
    verdict: str
    justification: str
    hash: str


def schema_sql(version: int = 1) -> str:
    """The SQL script of schema ``version``: 1 creates the log, a later one upgrades the one before.

    The decision CHECKs of schema 1 are built from the Decision enum.
    """
    from trainer.decision import FINAL_DECISIONS, MODEL_DECISIONS, sql_in_check

    name = "audit_pg_schema.sql" if version == 1 else f"audit_pg_schema_{version}.sql"
    text = resources.files("credit_tui").joinpath(name).read_text(encoding="utf-8")
    checks = {
        "{model_decision_check}": sql_in_check("model_decision", MODEL_DECISIONS),
        "{final_decision_check}": sql_in_check("final_decision", FINAL_DECISIONS),
    }
    for placeholder, check in checks.items():
        text = text.replace(placeholder, check)
    return text


def _connect(url: str) -> psycopg.Connection[Any]:
    """Open an autocommit connection, turning every failure into one :class:`AuditError` sentence."""
    import psycopg

    where = describe_url(url)
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        text = str(exc)
        if "password authentication failed" in text or "no password supplied" in text:
            raise AuditError(
                f"The audit server {where} refused the password; check the password (PGPASSWORD or "
                "~/.pgpass) or ask the administrator."
            ) from None
        if "does not exist" in text:
            raise AuditError(
                f"The audit server {where} does not know this role or database ({_first_line(text)}); "
                "check --audit-db or ask the administrator."
            ) from None
        raise AuditError(
            f"Cannot reach the audit server {where} ({_first_line(text)}); nothing can be recorded: start "
            "again when the server is up, or ask the administrator."
        ) from None
    except psycopg.Error as exc:
        raise AuditError(f"Cannot open the audit server {where} ({_first_line(str(exc))}).") from None


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0].rstrip(".") if lines else "no details"


def init_schema(url: str, four_eyes_pd: float | None = None) -> str:
    """Create the team log's roles, schema and functions on the server at ``url``, or upgrade an older one.

    Run by an administrator. An older schema is upgraded in one transaction, its records untouched;
    ``four_eyes_pd`` is only stored when the log is created.

    Returns:
        One sentence saying what was done (an up-to-date schema is left as it is).

    Raises:
        AuditError: When the server cannot be reached, the role may not create roles or schemas, or the
            schema is from a newer version.
    """
    import psycopg

    where = describe_url(url)
    with _connect(url) as conn:
        version = _schema_version(conn)
        if version is not None and version > SCHEMA_VERSION:
            raise _newer(where, version)
        if version == SCHEMA_VERSION:
            return f"The audit log on {where} already exists (schema {version}); nothing was changed."
        try:
            with conn.transaction():
                if version is None:
                    conn.execute(schema_sql(1).encode("utf-8"))
                    meta = [("schema_version", "1")]
                    if four_eyes_pd is not None:
                        meta.append(("four_eyes_pd", repr(float(four_eyes_pd))))
                    for row in meta:
                        conn.execute("INSERT INTO credit_audit.meta (key, value) VALUES (%s, %s)", row)
                for step in range(max(version or 1, 1) + 1, SCHEMA_VERSION + 1):
                    conn.execute(schema_sql(step).encode("utf-8"))
                    conn.execute(
                        "UPDATE credit_audit.meta SET value = %s WHERE key = 'schema_version'", (str(step),)
                    )
        except psycopg.errors.InsufficientPrivilege as exc:
            raise AuditError(
                f"The role used for {where} may not create or upgrade the audit log "
                f"({_first_line(str(exc))}); run `credit-tui audit init` as the database owner or an "
                "administrator."
            ) from None
        except psycopg.Error as exc:
            raise AuditError(f"Creating the audit log on {where} failed ({_first_line(str(exc))}).") from None
    if version is not None:
        return (
            f"Upgraded the audit log on {where} from schema {version} to {SCHEMA_VERSION}: existing records "
            "keep their hashes (check with `credit-tui audit verify`); advisors need this credit-tui "
            "version from now on."
        )
    level = "no four-eyes PD level" if four_eyes_pd is None else f"four-eyes above PD {four_eyes_pd:g}"
    return (
        f"Created the audit log on {where} (schema {SCHEMA_VERSION}, {level}); grant {ADVISOR_ROLE} "
        f"or {SUPERVISOR_ROLE} to each advisor's login role."
    )


def _schema_version(conn: psycopg.Connection[Any]) -> int | None:
    """The schema version on the server, or None when there is no credit_audit schema."""
    row = conn.execute("SELECT to_regclass('credit_audit.meta') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    found = conn.execute("SELECT value FROM credit_audit.meta WHERE key = 'schema_version'").fetchone()
    return None if found is None else int(found[0])


def _newer(where: str, version: int) -> AuditError:
    return AuditError(
        f"The audit log on {where} was created by a newer credit-tui (schema {version}, this version "
        f"reads {SCHEMA_VERSION}); upgrade credit-tui."
    )


class PgAuditStore(DecisionLog):
    """The shared decision log on a PostgreSQL server (same interface as :class:`AuditStore`).

    One connection, used by one thread at a time (a lock); it is opened again after the server was lost.

    Args:
        url: ``postgresql://user@host:port/dbname`` (the password from PGPASSWORD or ~/.pgpass, or in it).

    Raises:
        AuditError: When the server cannot be reached, refuses the login, holds no credit-tui log or one
            from a newer version, or the role has no rights on it.
    """

    team: bool = True
    _mark: str = "%s"

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = describe_url(url)
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[Any] | None = self._open()
        row = self._conn.execute("SELECT session_user").fetchone()
        #: The authenticated role: the advisor's name in every record this store writes.
        self.user = str(row[0]) if row else ""
        #: Record id -> waits for a supervisor, for the decisions recorded through this store.
        self.recorded_pending: dict[int, bool] = {}
        found = self._conn.execute(
            "SELECT value FROM credit_audit.meta WHERE key = 'packed_until'"
        ).fetchone()
        #: Records up to this id were written by schema 1 (reason code and terms packed in the justification).
        self._packed_until = int(found[0]) if found else 0

    # -- opening --------------------------------------------------------------------------------

    def _open(self) -> psycopg.Connection[Any]:
        import psycopg

        conn = _connect(self.url)
        try:
            version = _schema_version(conn)
        except psycopg.errors.InsufficientPrivilege:
            conn.close()
            raise self._no_rights() from None
        except psycopg.Error as exc:
            conn.close()
            raise AuditError(f"Cannot read the audit log on {self.path} ({_first_line(str(exc))}).") from None
        if version is None:
            conn.close()
            raise AuditError(
                f"There is no credit-tui audit log on {self.path}; an administrator creates it with "
                "`credit-tui audit init --db URL`."
            )
        if version > SCHEMA_VERSION:
            conn.close()
            raise _newer(self.path, version)
        if version < SCHEMA_VERSION:
            conn.close()
            raise AuditError(
                f"The audit log on {self.path} has schema {version}, older than this credit-tui's "
                f"{SCHEMA_VERSION}; an administrator upgrades it with `credit-tui audit init --db URL`."
            )
        #: The session holds the prepared calls of :func:`prepare_calls` (else the SQL goes in full).
        self._prepared = prepare_calls(conn)
        return conn

    def _no_rights(self) -> AuditError:
        return AuditError(
            f"The role used for {self.path} has no rights on the audit log; ask the administrator to "
            f"GRANT {ADVISOR_ROLE} (or {SUPERVISOR_ROLE}) to it."
        )

    @contextmanager
    def _session(self, what: str) -> Iterator[psycopg.Connection[Any]]:
        """The connection (reopened if lost); server errors become one sentence saying ``what`` failed."""
        import psycopg

        with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = self._open()
            try:
                yield self._conn
            except psycopg.errors.InsufficientPrivilege as exc:
                message = _first_line(str(exc))
                if "review_decision" in message:  # no EXECUTE right: not a supervisor
                    raise DecisionError(
                        f"Role {getattr(self, 'user', '?')} is not a credit supervisor, so it cannot "
                        "approve or reject decisions."
                    ) from None
                if "not a credit advisor" in message or "permission denied" in message:
                    raise self._no_rights() from None
                raise DecisionError(message if message.endswith(".") else message + ".") from None
            except psycopg.errors.RaiseException as exc:
                raise DecisionError(_first_line(str(exc)) + ".") from None
            except (psycopg.errors.InvalidParameterValue, psycopg.errors.CheckViolation) as exc:
                text = _first_line(str(exc))
                raise DecisionError(text if text.endswith(".") else text + ".") from None
            except psycopg.OperationalError as exc:
                self._drop()
                raise AuditRetryableError(
                    f"The connection to the audit server {self.path} was lost ({_first_line(str(exc))}): "
                    f"{what}; try again when the server is back."
                ) from None
            except psycopg.Error as exc:
                raise AuditError(
                    f"The audit server {self.path} failed ({_first_line(str(exc))}): {what}."
                ) from None

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._drop()

    # -- writing --------------------------------------------------------------------------------

    def _append(self, request: DecisionRequest) -> DecisionRecord:
        """Record one checked decision through the server's function; return it once durable.

        ``request.advisor`` is not sent: the server records its ``session_user``. The decision's
        transaction commits without waiting for the disk, so the chain lock is released at once; it is
        acknowledged once a flush covers it (:func:`_durably`). Retrying with the same ``request_id``
        after a lost connection records the decision once.

        Raises:
            DecisionError: When the server refuses the decision.
            AuditError: When the server cannot be reached or was lost: nothing is acknowledged, retry.
        """
        r = request
        params = (
            r.client_id,
            r.bundle_id,
            r.threshold,
            r.pd,
            r.model_decision,
            r.final_decision,
            r.justification,
            json.dumps(list(r.reasons), ensure_ascii=False),
            r.input_hash,
            r.corrects,
            r.request_id or uuid.uuid4(),
            r.override_code,
            r.terms,
        )
        row = self._durable_call("record_decision", params, "the decision was not recorded")
        self.recorded_pending[int(row[0])] = bool(row[_DECISION_COLUMNS.index("pending")])
        return _record(row, self._packed_until)

    def review(self, decision_id: int, verdict: str, justification: str) -> Review:
        """Approve or reject a pending decision (the caller's role must be a supervisor, not its advisor).

        Recorded like a decision (:func:`_durably`): returned once on disk.

        Raises:
            DecisionError: When the server refuses (not a supervisor, own decision, not pending, ...).
            AuditError: When the server cannot be reached (nothing was recorded).
        """
        if verdict not in _VERDICTS:
            raise DecisionError(f"A verdict is APPROVED or REJECTED, not {verdict!r}.")
        params = (int(decision_id), verdict, justification.strip())
        return _review(self._durable_call("review_decision", params, "the review was not recorded"))

    def _durable_call(self, function: str, params: Sequence[Any], what: str) -> tuple[Any, ...]:
        """:func:`_durably` on this store's session; in full when it lost its prepared calls."""
        import psycopg

        with self._session(what) as conn:
            try:
                return _durably(conn, function, params, self._prepared)
            except psycopg.errors.InvalidSqlStatementName:  # DEALLOCATE, DISCARD ALL, a pooler
                self._prepared = False  # nothing ran: the EXECUTE failed before the call
                return _durably(conn, function, params, prepared=False)

    # -- reading --------------------------------------------------------------------------------

    def _select(self, where: str = "", params: Sequence[Any] = (), suffix: str = "") -> list[DecisionRecord]:
        sql = (
            f"SELECT {', '.join(_DECISION_COLUMNS)} FROM credit_audit.decisions {where} ORDER BY id {suffix}"
        )
        with self._session("nothing was read") as conn:
            rows = conn.execute(sql.encode(), tuple(params)).fetchall()
        return [_record(row, self._packed_until) for row in rows]

    def advisors(self) -> list[str]:
        """Every advisor who recorded a decision, sorted."""
        with self._session("nothing was read") as conn:
            rows = conn.execute(
                "SELECT DISTINCT advisor FROM credit_audit.decisions ORDER BY advisor"
            ).fetchall()
        return [str(row[0]) for row in rows]

    def count(self) -> int:
        """Number of decision records."""
        with self._session("nothing was read") as conn:
            row = conn.execute("SELECT count(*) FROM credit_audit.decisions").fetchone()
        return int(row[0]) if row else 0

    def review_head(self) -> tuple[int, str]:
        """Id and hash of the newest supervisor's review ((0, GENESIS_HASH) when none): an anchor."""
        reviews = self._reviews("DESC LIMIT 1")
        return (0, GENESIS_HASH) if not reviews else (reviews[0].id, reviews[0].hash)

    def status(self, record_id: int) -> str:
        """The four-eyes status: final, pending (waits for a supervisor), approved or rejected."""
        with self._session("nothing was read") as conn:
            row = conn.execute(
                "SELECT d.pending, r.verdict FROM credit_audit.decisions d "
                "LEFT JOIN credit_audit.reviews r ON r.decision_id = d.id WHERE d.id = %s",
                (int(record_id),),
            ).fetchone()
        if row is None or not row[0]:
            return "final"
        return "pending" if row[1] is None else str(row[1]).lower()

    def pending(self) -> list[DecisionRecord]:
        """Decisions waiting for a supervisor's review, oldest first."""
        return self._select(
            "WHERE pending AND NOT EXISTS "
            "(SELECT 1 FROM credit_audit.reviews r WHERE r.decision_id = credit_audit.decisions.id)"
        )

    def reviews(self) -> list[Review]:
        """Every supervisor's review, oldest first."""
        return self._reviews()

    def _reviews(self, suffix: str = "") -> list[Review]:
        with self._session("nothing was read") as conn:
            rows = conn.execute(
                f"SELECT {', '.join(_REVIEW_COLUMNS)} FROM credit_audit.reviews ORDER BY id {suffix}".encode()
            ).fetchall()
        return [_review(row) for row in rows]

    # -- checking -------------------------------------------------------------------------------

    def verify(
        self, anchor: tuple[int, str] | None = None, review_anchor: tuple[int, str] | None = None
    ) -> VerifyResult:
        """Recompute the decisions chain and the reviews chain from one consistent snapshot.

        Args:
            anchor: An earlier :meth:`head` that must still be there unchanged.
            review_anchor: An earlier :meth:`review_head` that must still be there unchanged (detects
                supervisors' reviews deleted or rewritten).
        """

        def as_text(columns: Sequence[str]) -> str:
            return ", ".join(f"{c}::text" if c in _TEXT_CASTS else c for c in columns)

        with self._session("nothing was checked") as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            conn.execute("SET LOCAL extra_float_digits = 1")
            decisions, reviews = (
                conn.execute(
                    f"SELECT {as_text(columns)} FROM credit_audit.{table} t ORDER BY t.id".encode()
                ).fetchall()
                for table, columns in (("decisions", _DECISION_COLUMNS), ("reviews", _REVIEW_COLUMNS))
            )
        result = _verify_rows(iter(decisions), anchor, _DECISION_COLUMNS, decision_hash)
        if not result.ok:
            return result
        checked = _verify_rows(iter(reviews), review_anchor, _REVIEW_COLUMNS, review_hash)
        ids = {int(row[0]) for row in decisions}
        orphan = next((int(row[1]) for row in reviews if int(row[1]) not in ids), None)
        if not checked.ok or orphan is not None:
            why = f"A review refers to record {orphan}, which is missing." if checked.ok else checked.message
            return replace(result, ok=False, first_broken_id=orphan, message=f"Supervisors' reviews: {why}")
        count = len(reviews)
        return replace(
            result,
            message=f"{result.message[:-1]}; the chain of its {count} supervisor review"
            f"{'s' if count != 1 else ''} holds too (newest review {checked.head_id}).",
        )

    def protections_intact(self) -> bool:
        """True when the triggers refusing UPDATE, DELETE and TRUNCATE are in place and enabled."""
        with self._session("nothing was read") as conn:
            rows = conn.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid IN "
                "('credit_audit.decisions'::regclass, 'credit_audit.reviews'::regclass) AND tgenabled <> 'D'"
            ).fetchall()
        return {str(r[0]) for r in rows} >= {
            "decisions_append_only",
            "decisions_no_truncate",
            "reviews_append_only",
            "reviews_no_truncate",
        }

    def integrity_check(self) -> str:
        """Always ok: the server keeps its own pages sound (there is no file to check from here)."""
        return "ok"

    # -- export ---------------------------------------------------------------------------------

    def export_csv(self, out: Path) -> int:
        """Write every decision with its four-eyes status to ``out`` as CSV (atomically); return how many."""
        records = self._select()
        verdicts = {r.decision_id: r for r in self.reviews()}
        pending_ids = {r.id for r in self.pending()}

        def rows() -> Iterator[dict[str, Any]]:
            for record in records:
                review = verdicts.get(record.id)
                status = review.verdict.lower() if review else "final"
                yield {
                    **record.as_row(),
                    "status": "pending" if record.id in pending_ids else status,
                    "reviewer": review.approver if review else "",
                    "review_time": review.time if review else "",
                    "review_justification": review.justification if review else "",
                }

        extra = ("status", "reviewer", "review_time", "review_justification")
        return write_csv(Path(out), [*DecisionRecord.__dataclass_fields__, *extra], rows())


#: Schema 1 had no columns for them: the reason code and the terms decided on rode at the end of the
#: justification (one line: the server refuses control characters), hashed and chained with it. Schema 2
#: has real columns; records written before the upgrade are still read back from their justification.
_PACK_OPEN: Final = " ⟦credit-tui "
_PACK_CLOSE: Final = "⟧"


def pack_justification(justification: str, override_code: str, terms: str) -> str:
    """The justification with the reason code and terms appended (unchanged when both are empty)."""
    if not override_code and not terms:
        return justification
    extra = json.dumps(
        {"override_code": override_code, "terms": terms}, ensure_ascii=False, separators=(",", ":")
    )
    return f"{justification}{_PACK_OPEN}{extra}{_PACK_CLOSE}"


def unpack_justification(text: str) -> tuple[str, str, str]:
    """(justification, override code, terms) of a stored justification (:func:`pack_justification`)."""
    head, marker, tail = text.rpartition(_PACK_OPEN)
    if not marker or not tail.endswith(_PACK_CLOSE):
        return text, "", ""
    try:
        extra = json.loads(tail[: -len(_PACK_CLOSE)])
        return head, str(extra.get("override_code", "")), str(extra.get("terms", ""))
    except (ValueError, AttributeError):
        return text, "", ""


def _call_sql(function: str, args: str) -> str:
    """The SELECT of one durable call: its transaction commits without waiting for the disk.

    ``set_config(..., true)`` is ``SET LOCAL synchronous_commit = off``: read at this transaction's
    COMMIT, which only inserts the commit record into the WAL and releases the chain lock.
    """
    columns = ", ".join(_DURABLE_CALLS[function][0])
    return (
        f"SELECT {columns} FROM pg_catalog.set_config('synchronous_commit', 'off', true), "
        f"credit_audit.{function}({args})"
    )


def prepare_calls(conn: psycopg.Connection[Any]) -> bool:
    """``PREPARE`` the durable calls and the confirm on this session (SQL statements, not the protocol's).

    :func:`_durably` then sends ``EXECUTE`` with the values instead of the whole SELECT: the server
    parses and plans the calls once per session rather than once per decision, and everything still
    goes in one simple-query round trip. Returns False, leaving the calls unprepared, when the server
    refuses (e.g. they already exist on a pooled server connection).
    """
    import psycopg

    try:
        for function, (_, types) in _DURABLE_CALLS.items():
            args = ", ".join(f"${i}" for i in range(1, types.count(",") + 2))
            conn.execute(f"PREPARE credit_tui_{function} ({types}) AS {_call_sql(function, args)}".encode())
        conn.execute(b"PREPARE credit_tui_confirm AS SELECT credit_audit.confirm_durable()")
    except psycopg.Error:
        return False
    return True


def _durably(
    conn: psycopg.Connection[Any], function: str, params: Sequence[Any], prepared: bool
) -> tuple[Any, ...]:
    """Call ``credit_audit.FUNCTION(params)`` and return its row once it is on disk, in one round trip.

    ``BEGIN; EXECUTE credit_tui_FUNCTION(...); COMMIT; EXECUTE credit_tui_confirm`` (the prepared
    :func:`_call_sql` and ``SELECT credit_audit.confirm_durable()``; the same SQL in full when not
    ``prepared``): the function's transaction releases the chain lock without waiting for the disk; the
    confirm, a second transaction with a synchronous commit, returns once the WAL is flushed past the
    first one's commit record (see the module docstring). One simple query holding both: parameters are
    bound by psycopg on the client side.

    Raises:
        psycopg.Error: As the server raised it (an error before COMMIT is rolled back here).
    """
    import psycopg

    marks = ", ".join(["%s"] * len(params))
    if prepared:
        sql = f"BEGIN; EXECUTE credit_tui_{function}({marks}); COMMIT; EXECUTE credit_tui_confirm"
    else:
        sql = f"BEGIN; {_call_sql(function, marks)}; COMMIT; SELECT credit_audit.confirm_durable()"
    try:  # never a server-side prepared statement: a multi-statement query is bound here
        cursor = psycopg.ClientCursor(conn).execute(sql.encode(), params, prepare=False)
    except psycopg.Error:
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            with contextlib.suppress(psycopg.Error):  # the server stopped at the error, before COMMIT
                conn.execute("ROLLBACK")
        raise
    cursor.nextset()  # past BEGIN
    row = cursor.fetchone()
    confirmed = cursor.nextset() and cursor.nextset() and cursor.fetchone()  # past COMMIT
    if row is None or not confirmed:
        raise psycopg.OperationalError(f"credit_audit.{function} returned no row or was not confirmed")
    return tuple(row)


def _record(row: Sequence[Any], packed_until: int) -> DecisionRecord:
    data = dict(zip(_DECISION_COLUMNS, row, strict=True))
    if not data["override_code"] and not data["terms"] and int(data["id"]) <= packed_until:  # schema 1
        data["justification"], data["override_code"], data["terms"] = unpack_justification(
            str(data["justification"])
        )
    return record_from_columns(data)


def _review(row: Sequence[Any]) -> Review:
    data = dict(zip(_REVIEW_COLUMNS, row, strict=True))
    return Review(**{name: data[name] for name in Review.__dataclass_fields__})
