"""The advisors' decision log: an append-only, hash-chained SQLite file.

Every decision an advisor records is one row, written in its own transaction; :meth:`AuditStore.record`
returns only after the COMMIT, so whatever the UI confirms is on disk (WAL mode, ``synchronous=FULL``).
Two processes may write at once: ``BEGIN IMMEDIATE`` serialises them and ``busy_timeout`` makes the
second one wait instead of failing.

The database itself refuses UPDATE and DELETE (triggers that abort). A correction is a new record that
references the one it corrects. Each record stores the hash of the previous record and its own hash over
its whole content, so :meth:`AuditStore.verify` finds the first edited, deleted or reordered record.
Deleting the newest records cannot be seen from the chain alone: keep :meth:`AuditStore.head` somewhere
else (a report, an e-mail) and pass it to :meth:`AuditStore.verify` as an anchor to detect that too.

This module is UI-free (no Textual): the app, the ``credit-tui audit`` commands and the tests use it.
"""

from __future__ import annotations

import abc
import contextlib
import csv
import hashlib
import json
import math
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import monotonic, sleep
from typing import Any, Final, Literal, Self

from trainer.atomic import atomic_file
from trainer.decision import FINAL_DECISIONS, MODEL_DECISIONS, Decision, sql_in_check
from trainer.errors import UserError

#: Distinct words of three letters or more a justification needs when the advisor overrides the model or
#: decides a REVIEW case ("a b c" or "ok ok ok" is not a justification).
MIN_JUSTIFICATION_WORDS: Final = 3
#: Why an advisor decides against the model or decides a REVIEW case: code -> what it means.
OVERRIDE_CODES: Final[dict[str, str]] = {
    "income_verified": "Verified income higher than declared",
    "collateral": "Collateral or guarantor offered",
    "relationship": "Existing customer relationship",
    "data_error": "Data error in the application corrected",
    "adverse_information": "Adverse information the model does not see",
    "policy_exception": "Policy exception approved by a manager",
}
#: ``PRAGMA application_id`` of a credit-tui audit file ("CTAU").
APPLICATION_ID: Final = 0x43544155
SCHEMA_VERSION: Final = 2
#: prev_hash of the first record.
GENESIS_HASH: Final = "0" * 64
#: How long a writer waits for another one to finish (milliseconds).
BUSY_TIMEOUT_MS: Final = 15_000
_HASH_DOMAIN: Final = "credit-tui-audit/1\n"

#: The columns of a decision both backends store, in order, before their chain columns.
DECISION_FIELDS: Final = (
    "id",
    "time",
    "advisor",
    "client_id",
    "bundle_id",
    "threshold",
    "pd",
    "model_decision",
    "final_decision",
    "override",
    "justification",
    "reasons",
    "input_hash",
    "corrects",
)
#: Columns added by schema 2 (a schema-1 log gains them, empty, when opened: its hashes stay valid).
V2_COLUMNS: Final = ("override_code", "terms")
_COLUMNS: Final = (*DECISION_FIELDS, "prev_hash", "hash", *V2_COLUMNS)

_TRIGGERS: Final = frozenset({"decisions_no_update", "decisions_no_delete", "decisions_append_only"})

_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS decisions (
    id             INTEGER PRIMARY KEY,
    time           TEXT    NOT NULL,
    advisor        TEXT    NOT NULL,
    client_id      INTEGER NOT NULL,
    bundle_id      TEXT    NOT NULL,
    threshold      REAL    NOT NULL,
    pd             REAL    NOT NULL,
    model_decision TEXT    NOT NULL {sql_in_check("model_decision", MODEL_DECISIONS)},
    final_decision TEXT    NOT NULL {sql_in_check("final_decision", FINAL_DECISIONS)},
    override       INTEGER NOT NULL CHECK (override IN (0, 1)),
    justification  TEXT    NOT NULL,
    reasons        TEXT    NOT NULL,
    input_hash     TEXT    NOT NULL,
    corrects       INTEGER REFERENCES decisions(id),
    prev_hash      TEXT    NOT NULL,
    hash           TEXT    NOT NULL UNIQUE,
    override_code  TEXT    NOT NULL DEFAULT '',
    terms          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS decisions_client ON decisions(client_id, id);
CREATE INDEX IF NOT EXISTS decisions_time ON decisions(time);
CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only: UPDATE is refused; record a correction instead');
END;
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only: DELETE is refused');
END;
CREATE TRIGGER IF NOT EXISTS decisions_append_only BEFORE INSERT ON decisions
WHEN NEW.id IS NOT (SELECT COALESCE(MAX(id), 0) + 1 FROM decisions)
  OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM decisions ORDER BY id DESC LIMIT 1),
                              '0000000000000000000000000000000000000000000000000000000000000000')
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only: a new record must follow the last one');
END;
"""


class AuditError(UserError):
    """The audit database cannot be opened, read or written (one sentence naming the file)."""


class AuditRetryableError(AuditError):
    """The log was unreachable while recording: nothing is confirmed, and the same call may be retried."""


class DecisionError(UserError):
    """A decision that cannot be recorded as given (missing justification, bad value, ...)."""


@dataclass(frozen=True)
class DecisionRecord:
    """One recorded decision, exactly as stored.

    Attributes:
        id: Position in the log (1, 2, 3, ... without gaps).
        time: When it was recorded, UTC ISO 8601 with microseconds.
        advisor: Who decided.
        client_id: The client's SK_ID_CURR.
        bundle_id: The model bundle's ``model_id``.
        threshold: The bundle's decision threshold.
        pd: The probability of default shown to the advisor (after any what-if edits).
        model_decision: What the model said: ACCEPT, REFUSE or REVIEW.
        final_decision: What the advisor decided: ACCEPT or REFUSE.
        override: True when the advisor decided against the model's ACCEPT or REFUSE.
        justification: The advisor's words (required for an override or a REVIEW case).
        reasons: The reason codes shown to the advisor, in order.
        input_hash: SHA-256 of the client's input row (:func:`input_row_hash`), what-if edits included.
        corrects: Id of the record this one corrects, or None.
        prev_hash: Hash of the previous record (:data:`GENESIS_HASH` for the first).
        hash: SHA-256 over this record's content and ``prev_hash``.
        override_code: Why the advisor overrode the model or decided a REVIEW case
            (a key of :data:`OVERRIDE_CODES`; "" when the decision follows the model).
        terms: The loan terms decided on when a what-if was active, as canonical JSON
            (:class:`credit_tui.counter_offer.Terms`); "" when decided on the client's own application.
    """

    id: int
    time: str
    advisor: str
    client_id: int
    bundle_id: str
    threshold: float
    pd: float
    model_decision: str
    final_decision: str
    override: bool
    justification: str
    reasons: tuple[str, ...]
    input_hash: str
    corrects: int | None
    prev_hash: str
    hash: str
    override_code: str = ""
    terms: str = ""

    def as_row(self) -> dict[str, Any]:
        """Column -> value as written to CSV (reasons as a JSON list, override as 0/1)."""
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        row["reasons"] = json.dumps(list(self.reasons), ensure_ascii=False)
        row["override"] = int(self.override)
        return row


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of :meth:`AuditStore.verify`.

    Attributes:
        ok: True when every link holds.
        checked: Records checked (up to and including the first broken one).
        first_broken_id: Id of the first record that is edited, missing or out of place; None when ok.
        message: One sentence for the advisor or auditor.
        head_id: Id of the last record (0 for an empty log).
        head_hash: Hash of the last record (:data:`GENESIS_HASH` for an empty log).
    """

    ok: bool
    checked: int
    first_broken_id: int | None
    message: str
    head_id: int = 0
    head_hash: str = GENESIS_HASH


# --------------------------------------------------------------------------------------------------
# Canonical hashing
# --------------------------------------------------------------------------------------------------


def _canonical_value(value: Any) -> Any:
    """Turn ``value`` into plain JSON data, the same for every equal input.

    Missing values (None, NaN, pandas NA/NaT) become None; numpy scalars become Python ones; integral
    floats become integers (so 312000, 312000.0 and numpy.float32(312000) hash alike); infinities become
    the strings "Infinity" / "-Infinity"; dates and times their ISO text.
    """
    if value is None:
        return None
    kind = type(value)
    if kind.__name__ in ("NAType", "NaTType"):
        return None
    if kind.__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): _canonical_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_value(v) for v in value]
    # Decimal, pandas Timestamp and other number-likes.
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    with contextlib.suppress(TypeError, ValueError):
        return _canonical_value(float(value))
    raise TypeError(f"cannot hash a value of type {kind.__name__} in an input row")


def canonical_json(data: Any) -> str:
    """Deterministic JSON text of ``data``: sorted keys, no spaces, canonical values (see above)."""
    return json.dumps(
        _canonical_value(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def input_row_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a client's raw input row, what-if edits included.

    Args:
        record: Raw column -> value (e.g. ``Portfolio.record(id)`` merged with the what-if changes).
            Keys are compared as text; missing values (None, NaN, pandas NA) hash alike.
    """
    return hashlib.sha256(canonical_json(dict(record)).encode("utf-8")).hexdigest()


def _record_hash(content: Mapping[str, Any]) -> str:
    """Hash of a record's content (every column but ``hash``), ``prev_hash`` and ``id`` included."""
    body = {name: content[name] for name in _COLUMNS if name != "hash"}
    for name in V2_COLUMNS:  # absent from schema-1 records: their hashes stay what they were
        if not body.get(name):
            body.pop(name, None)
    body["override"] = bool(body["override"])
    body["reasons"] = list(body["reasons"])
    text = _HASH_DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


def justification_words(text: str) -> int:
    """Count the distinct words of three letters or more in a justification (case-insensitive)."""
    words = ("".join(ch for ch in token if ch.isalpha()).lower() for token in text.split())
    return len({word for word in words if len(word) >= 3})


def needs_justification(model_decision: str, final_decision: str) -> bool:
    """True when the advisor overrides the model or decides a REVIEW case."""
    return model_decision == Decision.REVIEW or final_decision != model_decision


_HEX_DIGITS: Final = frozenset("0123456789abcdef")


def _validate(request: DecisionRequest) -> None:
    """Raise :class:`DecisionError` (one sentence) for a decision that must not be recorded."""
    r = request
    if r.final_decision not in FINAL_DECISIONS:
        raise DecisionError(f"The final decision must be ACCEPT or REFUSE, not {r.final_decision!r}.")
    if r.model_decision not in MODEL_DECISIONS:
        raise DecisionError(f"The model decision must be ACCEPT, REFUSE or REVIEW, not {r.model_decision!r}.")
    if not r.advisor.strip():
        raise DecisionError("The advisor's name is empty; start the app with --advisor NAME.")
    if isinstance(r.client_id, bool) or not isinstance(r.client_id, int):
        raise DecisionError(f"The client ID must be a whole number, not {r.client_id!r}.")
    if not r.bundle_id.strip():
        raise DecisionError("The model bundle id is empty; load a verified model bundle first.")
    for name, value in (("PD", r.pd), ("threshold", r.threshold)):
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise DecisionError(f"The {name} must be a probability between 0 and 1, not {value!r}.")
    if len(r.input_hash) != 64 or not set(r.input_hash) <= _HEX_DIGITS:
        raise DecisionError("The input hash must be a SHA-256 hex digest; compute it with input_row_hash().")
    if any(not isinstance(reason, str) for reason in r.reasons):
        raise DecisionError("Every reason code shown must be text.")
    why = _why(r.model_decision, r.final_decision, r.client_id)
    if needs_justification(r.model_decision, r.final_decision):
        words = justification_words(r.justification)
        if words < MIN_JUSTIFICATION_WORDS:
            raise DecisionError(
                f"A justification of at least {MIN_JUSTIFICATION_WORDS} different words of three letters "
                f"or more is required because {why} (got {words})."
            )
        if r.override_code not in OVERRIDE_CODES:
            raise DecisionError(
                f"A reason code is required because {why}: "
                f"one of {', '.join(OVERRIDE_CODES)} (got {r.override_code or 'none'!r})."
            )
    elif r.override_code:
        raise DecisionError(
            f"Reason code {r.override_code!r} is only for an override or a REVIEW case; "
            f"client {r.client_id}'s {r.final_decision} follows the model."
        )
    if r.terms:
        try:
            valid = len(r.terms) <= 4000 and isinstance(json.loads(r.terms), dict)
        except ValueError:
            valid = False
        if not valid:
            raise DecisionError("The terms decided on must be a JSON object of a few fields.")


def _why(model_decision: str, final_decision: str, client_id: int) -> str:
    if model_decision == Decision.REVIEW:
        return f"the model left client {client_id} for review"
    return f"{final_decision} goes against the model's {model_decision}"


@dataclass(frozen=True)
class DecisionRequest:
    """A decision to record: what the advisor decided, on what, and why (both backends take this).

    Attributes:
        advisor: Who decides (on the team log the server records its authenticated role instead).
        client_id: The client's SK_ID_CURR.
        bundle_id: The model bundle's ``model_id``.
        threshold: The bundle's decision threshold.
        pd: The PD shown to the advisor.
        model_decision: ACCEPT, REFUSE or REVIEW, as the model said for that PD.
        final_decision: ACCEPT or REFUSE.
        input_hash: :func:`input_row_hash` of the row that was scored (what-if edits included).
        reasons: The reason codes shown to the advisor.
        justification: Required (at least three words) for an override or a REVIEW case.
        corrects: Id of an earlier record of the same client that this one corrects.
        override_code: Required for an override or a REVIEW case (a key of :data:`OVERRIDE_CODES`).
        terms: Canonical JSON of the terms decided on a what-if (:meth:`Terms.to_json`), or "".
        request_id: Sent with every attempt to record it on the team log: a retry records it once
            (None: a new id per call; the single desk's log ignores it).
    """

    advisor: str
    client_id: int
    bundle_id: str
    threshold: float
    pd: float
    model_decision: str
    final_decision: str
    input_hash: str
    reasons: Sequence[str] = ()
    justification: str = ""
    corrects: int | None = None
    override_code: str = ""
    terms: str = ""
    request_id: uuid.UUID | None = None

    @property
    def override(self) -> bool:
        """True when the advisor decides against the model's ACCEPT or REFUSE."""
        return self.model_decision != Decision.REVIEW and self.final_decision != self.model_decision

    def checked(self) -> DecisionRequest:
        """This request normalised (numpy numbers to Python ones, text stripped) and validated.

        Raises:
            DecisionError: One sentence for a decision that must not be recorded.
        """
        client_id: Any = self.client_id
        if not isinstance(client_id, bool) and hasattr(client_id, "__index__"):
            client_id = int(client_id)
        checked = replace(
            self,
            advisor=self.advisor.strip(),
            client_id=client_id,
            threshold=float(self.threshold),
            pd=float(self.pd),
            justification=self.justification.strip(),
            reasons=tuple(self.reasons),
            corrects=None if self.corrects is None else int(self.corrects),
        )
        _validate(checked)
        return checked


def write_csv(out: Path, fieldnames: Sequence[str], rows: Iterator[Mapping[str, Any]]) -> int:
    """Write ``rows`` to the CSV file ``out`` atomically (never half a file); return how many.

    Both backends export through this.

    Raises:
        AuditError: When the folder of ``out`` does not exist or cannot be written.
    """
    out = Path(out)
    if not out.parent.is_dir():
        raise AuditError(f"Folder {out.parent} does not exist; create it or choose another --out path.")
    count = 0
    try:
        with atomic_file(out, newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(fieldnames))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
                count += 1
    except OSError as exc:
        raise AuditError(f"Cannot write {out} ({exc.strerror or exc}); choose another --out path.") from exc
    return count


# --------------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------------


def default_audit_path() -> Path:
    """The audit file in the user's data directory (not created here)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("credit-tui")) / "audit.sqlite3"


def open_audit_store(path: Path | None = None) -> AuditStore:
    """Open the audit store at ``path``, or at :func:`default_audit_path` (creating its folder).

    This is what ``--audit-db PATH`` maps to: an explicit path must be in an existing folder.

    Raises:
        AuditError: When the file cannot be used (one sentence).
    """
    if path is None:
        path = default_audit_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AuditError(
                f"Cannot create the folder {path.parent} for the audit database ({exc.strerror or exc}); "
                "pass --audit-db PATH to use another file."
            ) from exc
    return AuditStore(path)


def _since_text(value: datetime | date | str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="microseconds")
    return datetime.combine(value, time(), tzinfo=UTC).isoformat(timespec="microseconds")


def _until_text(value: datetime | date | str) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return _since_text(value + timedelta(days=1))
    return _since_text(value)


def decision_filters(
    mark: str,
    client_id: int | None = None,
    advisor: str | None = None,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
    final_decision: str | None = None,
    override: int | bool | None = None,
) -> tuple[str, list[Any]]:
    """The WHERE clause and its parameters for the filters of ``decisions()``, in either backend.

    Args:
        mark: The driver's placeholder: ``?`` for sqlite3, ``%s`` for psycopg.
        client_id: Only this client.
        advisor: Only this advisor (exact name).
        since: Recorded at or after this moment (see :meth:`AuditStore.decisions`).
        until: Recorded before this moment (a date includes that whole day, UTC).
        final_decision: Only ACCEPT or only REFUSE.
        override: The override flag as the backend stores it (SQLite 0 or 1, PostgreSQL a boolean).

    Returns:
        ``"WHERE ..."`` (or "" when no filter is given) and the values of its placeholders, in order.
    """
    clauses: list[str] = []
    params: list[Any] = []
    for condition, value in (
        ("client_id = ", None if client_id is None else int(client_id)),
        ("advisor = ", advisor),
        ("time >= ", None if since is None else _since_text(since)),
        ("time < ", None if until is None else _until_text(until)),
        ("final_decision = ", final_decision),
        ("override = ", override),
    ):
        if value is not None:
            clauses.append(condition + mark)
            params.append(value)
    return (("WHERE " + " AND ".join(clauses)) if clauses else ""), params


class DecisionLog(abc.ABC):
    """What both backends share: recording through :class:`DecisionRequest`, and the record queries.

    A backend provides :meth:`_append` (write one checked request, return the stored record) and
    :meth:`_select` (records matching a WHERE clause with ``_mark`` placeholders, in id order).
    """

    #: True for the team log (four-eyes: decisions may wait for a supervisor).
    team: bool = False
    #: The driver's placeholder: ``?`` for sqlite3, ``%s`` for psycopg.
    _mark: str = "?"
    #: The file path, or ``user@host:port/db`` of a server.
    path: Any

    def record(self, request: DecisionRequest | None = None, /, **fields: Any) -> DecisionRecord:
        """Validate and append one decision; return it once it is durably committed.

        Args:
            request: The decision; or pass the fields of :class:`DecisionRequest` as keywords instead.
            **fields: The fields of a :class:`DecisionRequest` (when ``request`` is not given).

        Raises:
            DecisionError: When the decision is invalid (nothing is written).
            AuditError: When the log cannot be written (nothing is acknowledged; on the team log a
                retry with the same ``request_id`` records it once).
        """
        return self._append((request or DecisionRequest(**fields)).checked())

    @abc.abstractmethod
    def _append(self, request: DecisionRequest) -> DecisionRecord: ...

    @abc.abstractmethod
    def _select(
        self, where: str = "", params: Sequence[Any] = (), suffix: str = ""
    ) -> list[DecisionRecord]: ...

    def get(self, record_id: int) -> DecisionRecord | None:
        """The record with this id, or None."""
        found = self._select(f"WHERE id = {self._mark}", (int(record_id),))
        return found[0] if found else None

    def latest_for(self, client_id: int) -> DecisionRecord | None:
        """The client's most recent record (a correction supersedes what it corrects), or None."""
        found = self._select(f"WHERE client_id = {self._mark}", (int(client_id),), "DESC LIMIT 1")
        return found[0] if found else None

    def decisions(
        self,
        client_id: int | None = None,
        advisor: str | None = None,
        since: datetime | date | str | None = None,
        until: datetime | date | str | None = None,
        final_decision: str | None = None,
        override: bool | None = None,
    ) -> list[DecisionRecord]:
        """Records matching every given filter, oldest first.

        Args:
            client_id: Only this client.
            advisor: Only this advisor (exact name).
            since: Recorded at or after this moment (a date means its midnight UTC; naive datetimes are UTC).
            until: Recorded before this moment (a date includes that whole day, UTC).
            final_decision: Only ACCEPT or only REFUSE.
            override: Only overrides (True) or only decisions that follow the model (False).
        """
        where, params = decision_filters(
            self._mark, client_id, advisor, since, until, final_decision, override
        )
        return self._select(where, params)

    def head(self) -> tuple[int, str]:
        """Id and hash of the newest record ((0, GENESIS_HASH) when empty): an anchor for ``verify``."""
        found = self._select("", (), "DESC LIMIT 1")
        return (0, GENESIS_HASH) if not found else (found[0].id, found[0].hash)

    def review_head(self) -> tuple[int, str]:
        """Id and hash of the newest supervisor's review: (0, GENESIS_HASH) on a log without reviews."""
        return (0, GENESIS_HASH)

    @abc.abstractmethod
    def advisors(self) -> list[str]:
        """Every advisor who recorded a decision, sorted (for a filter's choices)."""

    @abc.abstractmethod
    def count(self) -> int:
        """Number of decision records."""

    @abc.abstractmethod
    def status(self, record_id: int) -> str:
        """The four-eyes status of a record: final, pending, approved or rejected."""

    @abc.abstractmethod
    def pending(self) -> list[DecisionRecord]:
        """Decisions waiting for a supervisor's review, oldest first."""

    @abc.abstractmethod
    def verify(
        self, anchor: tuple[int, str] | None = None, review_anchor: tuple[int, str] | None = None
    ) -> VerifyResult:
        """Recompute the chains; ``anchor`` / ``review_anchor``: earlier heads that must still hold."""

    @abc.abstractmethod
    def protections_intact(self) -> bool:
        """True when the database's append-only protections are all in place."""

    @abc.abstractmethod
    def integrity_check(self) -> str:
        """Say "ok" when the storage is sound, else what is wrong."""

    @abc.abstractmethod
    def export_csv(self, out: Path) -> int:
        """Write every record to ``out`` as CSV (atomically); return how many."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close the connection (idempotent)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AuditStore(DecisionLog):
    """Append-only, hash-chained decision log in one SQLite file.

    One store may be shared between threads (a lock serialises its calls); several processes may open
    the same file at once.

    Args:
        path: The SQLite file; created with the schema when missing or empty. Its folder must exist.
        clock: Returns the current time (tests inject one); must be timezone-aware.

    Raises:
        AuditError: When the path is not writable, the file is not SQLite, or it holds another schema.
    """

    def __init__(
        self, path: Path, clock: Callable[[], datetime] | None = None, *, read_only: bool = False
    ) -> None:
        self.path = Path(path)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self.read_only = read_only
        self._conn = self._connect_read_only() if read_only else self._connect()

    # -- opening --------------------------------------------------------------------------------

    def _fail(self, what: str, exc: BaseException | None = None) -> AuditError:
        detail = f" ({exc})" if exc is not None else ""
        return AuditError(
            f"The audit database {self.path} {what}{detail}; pass --audit-db PATH to use another file."
        )

    def _connect_read_only(self) -> sqlite3.Connection:
        """Open an existing log for reading only (``audit verify`` / ``export``): nothing is created.

        Falls back to ``immutable=1`` when SQLite cannot open the write-ahead log's index read-only
        (a log on a read-only filesystem).
        """
        _check_existing_log(self.path)
        last: sqlite3.Error | None = None
        for flags in ("mode=ro", "mode=ro&immutable=1"):
            uri = f"{self.path.resolve().as_uri()}?{flags}"
            try:
                conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
                if self._check_schema(conn) == "empty":
                    conn.close()
                    raise self._fail("holds no audit log (no decisions table)")
                return conn
            except sqlite3.DatabaseError as exc:
                last = exc
                with contextlib.suppress(Exception):
                    conn.close()
                if "not a database" in str(exc) or "malformed" in str(exc):
                    raise self._fail("is not an SQLite database (it may be another kind of file)") from exc
        raise self._fail("cannot be opened for reading", last)

    def _connect(self) -> sqlite3.Connection:
        if self.path.is_dir():
            raise self._fail("is a folder, not a file")
        if self.path.exists() and not self.path.is_file():
            raise self._fail("is not a regular file (a device such as /dev/null cannot hold the log)")
        if self.path.is_file() and not _writable(self.path):
            raise self._fail("is read-only; decisions could not be recorded")
        if not self.path.exists() and self.path.parent.is_dir() and not _writable(self.path.parent):
            raise self._fail(f"cannot be created because the folder {self.path.parent} is read-only")
        parent = self.path.parent
        if not parent.is_dir():
            reason = (
                "is inside a file, not a folder" if parent.exists() or _has_file_ancestor(parent) else None
            )
            raise self._fail(reason or f"cannot be created because the folder {parent} does not exist")
        try:
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise self._fail("cannot be opened", exc) from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._prepare_with_retry(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            text = str(exc)
            if "not a database" in text or "malformed" in text:
                raise self._fail("is not an SQLite database (it may be another kind of file)") from exc
            if "readonly" in text or "read-only" in text or "unable to open" in text:
                raise self._fail("is not writable", exc) from exc
            raise self._fail("cannot be opened", exc) from exc
        except AuditError:
            conn.close()
            raise
        return conn

    def _prepare_with_retry(self, conn: sqlite3.Connection) -> None:
        """:meth:`_prepare`, retried while another process holds the lock it needs.

        Switching a new file to WAL needs an exclusive lock, and SQLite may answer "database is locked"
        at once (without waiting ``busy_timeout``) when two processes create the same log together.
        """
        deadline = monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self._prepare(conn)
                return
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or monotonic() > deadline:
                    raise
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                sleep(0.01)

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Check the file is ours (or empty), set WAL + synchronous=FULL, and create the schema."""
        self._check_schema(conn)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise self._fail(f"cannot use write-ahead logging (journal mode {mode})")
        conn.execute("PRAGMA synchronous = FULL")
        # Schema creation happens in one immediate transaction so two first writers do not race.
        conn.execute("BEGIN IMMEDIATE")
        try:
            state = self._check_schema(conn)
            if state == "empty":
                for statement in _split_sql(_SCHEMA):
                    conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif state == "schema 1":
                for name in V2_COLUMNS:
                    conn.execute(f"ALTER TABLE decisions ADD COLUMN {name} TEXT NOT NULL DEFAULT ''")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _check_schema(self, conn: sqlite3.Connection) -> Literal["empty", "ours", "schema 1"]:
        """Say whether the file is empty or a credit-tui audit log; raise for anything else."""
        tables = sorted(
            str(row[0])
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not str(row[0]).startswith("sqlite_")
        )
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if not tables and app_id in (0, APPLICATION_ID):
            return "empty"
        if app_id != APPLICATION_ID:
            shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
            raise self._fail(
                f"is an SQLite database but not a credit-tui audit log (it holds {shown or 'no tables'})"
            )
        if version > SCHEMA_VERSION:
            raise self._fail(
                f"was written by a newer credit-tui (audit schema {version}, "
                f"this version reads {SCHEMA_VERSION})"
            )
        columns = tuple(str(row[1]) for row in conn.execute("PRAGMA table_info(decisions)"))
        if version == 1 and columns == _COLUMNS[: -len(V2_COLUMNS)]:
            return "schema 1"
        if columns != _COLUMNS:
            raise self._fail("is a credit-tui audit log whose decisions table has been altered")
        return "ours"

    # -- life cycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._conn.close()

    # -- writing --------------------------------------------------------------------------------

    def _append(self, request: DecisionRequest) -> DecisionRecord:
        """Append one checked decision in one immediate transaction; return it once committed to disk."""
        r = request
        with self._lock, self._write() as conn:
            if r.corrects is not None:
                row = conn.execute("SELECT client_id FROM decisions WHERE id = ?", (r.corrects,)).fetchone()
                if row is None:
                    raise DecisionError(f"Record {r.corrects} does not exist, so it cannot be corrected.")
                if int(row[0]) != r.client_id:
                    raise DecisionError(
                        f"Record {r.corrects} is about client {row[0]}, not client {r.client_id}; "
                        "a correction must concern the same client."
                    )
            last = conn.execute("SELECT id, hash FROM decisions ORDER BY id DESC LIMIT 1").fetchone()
            content: dict[str, Any] = {
                name: getattr(r, name) for name in _COLUMNS if name not in ("id", "time", "prev_hash", "hash")
            }
            content.update(
                id=1 if last is None else int(last[0]) + 1,
                time=self._now(),
                prev_hash=GENESIS_HASH if last is None else str(last[1]),
            )
            content["hash"] = _record_hash(content)
            stored = dict(content)
            stored["override"] = int(r.override)
            stored["reasons"] = json.dumps(list(r.reasons), ensure_ascii=False)
            conn.execute(
                f"INSERT INTO decisions ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                tuple(stored[name] for name in _COLUMNS),
            )
        return DecisionRecord(**content)

    def _now(self) -> str:
        moment = self._clock()
        if moment.tzinfo is None:
            raise ValueError("the audit clock must return timezone-aware datetimes")
        return moment.astimezone(UTC).isoformat(timespec="microseconds")

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One immediate transaction: COMMIT on success (returns after it), ROLLBACK on any error."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._write_error(exc) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self._write_error(exc) from exc
            raise

    def _write_error(self, exc: sqlite3.Error) -> AuditError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return self._fail(
                f"stayed locked by another program for {BUSY_TIMEOUT_MS // 1000} s and nothing was recorded"
            )
        if "readonly" in text or "read-only" in text:
            return self._fail("is not writable and nothing was recorded")
        if "full" in text:
            return self._fail("could not grow (the disk is full) and nothing was recorded")
        return self._fail("could not be written and nothing was recorded", exc)

    # -- reading --------------------------------------------------------------------------------

    def _select(self, where: str = "", params: Sequence[Any] = (), suffix: str = "") -> list[DecisionRecord]:
        sql = f"SELECT {', '.join(_COLUMNS)} FROM decisions {where} ORDER BY id {suffix}"
        with self._lock:
            try:
                rows = self._conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.Error as exc:
                raise self._fail("could not be read", exc) from exc
        return [_from_row(row) for row in rows]

    def advisors(self) -> list[str]:
        """Every advisor who recorded a decision, sorted (for a filter's choices)."""
        with self._lock:
            rows = self._conn.execute("SELECT DISTINCT advisor FROM decisions ORDER BY advisor").fetchall()
        return [str(row[0]) for row in rows]

    def count(self) -> int:
        """Number of records."""
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])

    # -- checking -------------------------------------------------------------------------------

    def verify(
        self, anchor: tuple[int, str] | None = None, review_anchor: tuple[int, str] | None = None
    ) -> VerifyResult:
        """Recompute the hash chain and report the first broken link.

        Args:
            anchor: An earlier :meth:`head` (id, hash) kept elsewhere; that record must still be there
                with that hash, which also detects the newest records being deleted.
            review_anchor: An earlier :meth:`review_head`: on a single desk's log (no reviews) only
                ``(0, GENESIS_HASH)`` holds.
        """
        if review_anchor is not None and review_anchor != (0, GENESIS_HASH):
            return VerifyResult(
                False,
                0,
                None,
                f"The anchor names supervisors' review {review_anchor[0]}, but a single desk's log holds "
                "no reviews: it was taken on another log.",
            )
        with self._lock:
            try:
                self._conn.execute("BEGIN")  # one consistent snapshot
                try:
                    cursor = self._conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM decisions ORDER BY id")
                    return _verify_rows(cursor, anchor)
                finally:
                    self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._fail("could not be read", exc) from exc

    # -- team mode (four-eyes) -------------------------------------------------------------------

    #: False: a single desk's log, where every decision is final when recorded (no four-eyes).
    team: bool = False

    def status(self, record_id: int) -> str:
        """Always final: on a single desk every recorded decision is final (no four-eyes)."""
        return "final"

    def pending(self) -> list[DecisionRecord]:
        """Decisions waiting for a supervisor: none on a single desk."""
        return []

    def protections_intact(self) -> bool:
        """True when the triggers that refuse UPDATE, DELETE and out-of-order INSERT are all in place.

        Both their names and their SQL are compared with the schema (a trigger emptied of its RAISE or
        given a ``WHEN 0`` would otherwise pass).
        """
        with self._lock:
            rows = self._conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'decisions'"
            ).fetchall()
        found = {str(name): _normal_sql(str(sql)) for name, sql in rows}
        return all(found.get(name) == sql for name, sql in _EXPECTED_TRIGGERS.items())

    def integrity_check(self) -> str:
        """SQLite's own ``PRAGMA integrity_check`` ("ok" when the file is sound)."""
        with self._lock:
            rows = self._conn.execute("PRAGMA integrity_check").fetchall()
        return "; ".join(str(row[0]) for row in rows)

    # -- export ---------------------------------------------------------------------------------

    def export_csv(self, out: Path) -> int:
        """Write every record to ``out`` as CSV (atomically: never half a file); return how many.

        Raises:
            AuditError: When the folder of ``out`` does not exist or cannot be written.
        """
        return write_csv(Path(out), _COLUMNS, (record.as_row() for record in self._select()))


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a string starting with = + - @ tab or CR gets a leading '.

    Without it, a justification such as ``=HYPERLINK(...)`` would become a live formula when an auditor
    opens the export (CSV formula injection). Numbers are left as they are.
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _writable(path: Path) -> bool:
    """Whether ``path`` may be written: permitted to this user and not marked read-only.

    The permission bits are checked too, so a log marked read-only is refused even for root.
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return os.access(path, os.W_OK) and bool(mode & 0o222)


def _check_existing_log(path: Path) -> None:
    """Refuse, with one sentence, a log path that is missing, empty or not a regular file."""
    if not path.exists():
        raise AuditError(
            f"The audit log {path} does not exist (nothing was recorded there, or it was deleted); "
            "check the --audit-db path or restore the file from a backup."
        )
    if not path.is_file():
        raise AuditError(f"The audit log {path} is not a regular file; check the --audit-db path.")
    if path.stat().st_size == 0:
        raise AuditError(
            f"The audit log {path} is empty (0 bytes): its records are gone; restore it from a backup."
        )


def _normal_sql(sql: str) -> str:
    """SQL with ``IF NOT EXISTS`` dropped and whitespace collapsed, for comparing trigger definitions."""
    text = " ".join(sql.replace(";", " ; ").split())
    return text.replace("CREATE TRIGGER IF NOT EXISTS ", "CREATE TRIGGER ").removesuffix(" ;")


def _has_file_ancestor(path: Path) -> bool:
    """True when some ancestor of ``path`` is a regular file (so nothing can be created under it)."""
    return any(parent.is_file() for parent in (path, *path.parents))


def _split_sql(script: str) -> list[str]:
    """Split the schema script into statements (trigger bodies hold semicolons, so split on END;)."""
    statements: list[str] = []
    buffer: list[str] = []
    for line in script.strip().splitlines():
        buffer.append(line)
        text = "\n".join(buffer).strip()
        in_trigger = text.upper().startswith("CREATE TRIGGER")
        if (in_trigger and text.endswith("END;")) or (not in_trigger and text.endswith(";")):
            statements.append(text)
            buffer = []
    return statements


#: The trigger definitions the schema creates, normalised by :func:`_normal_sql`.
_EXPECTED_TRIGGERS: Final = {
    statement.split()[5]: _normal_sql(statement)
    for statement in _split_sql(_SCHEMA)
    if statement.upper().startswith("CREATE TRIGGER")
}


def _from_row(row: Sequence[Any]) -> DecisionRecord:
    return record_from_columns(dict(zip(_COLUMNS, row, strict=True)))


def record_from_columns(data: Mapping[str, Any]) -> DecisionRecord:
    """A :class:`DecisionRecord` from its stored columns (either backend; reasons as JSON text)."""
    return DecisionRecord(
        id=int(data["id"]),
        time=str(data["time"]),
        advisor=str(data["advisor"]),
        client_id=int(data["client_id"]),
        bundle_id=str(data["bundle_id"]),
        threshold=float(data["threshold"]),
        pd=float(data["pd"]),
        model_decision=str(data["model_decision"]),
        final_decision=str(data["final_decision"]),
        override=bool(data["override"]),
        justification=str(data["justification"]),
        reasons=tuple(_load_reasons(data["reasons"])),
        input_hash=str(data["input_hash"]),
        corrects=None if data["corrects"] is None else int(data["corrects"]),
        prev_hash=str(data["prev_hash"]),
        hash=str(data["hash"]),
        override_code=str(data["override_code"] or ""),
        terms=str(data["terms"] or ""),
    )


def _load_reasons(text: Any) -> list[str]:
    try:
        value = json.loads(str(text))
    except json.JSONDecodeError:
        return [str(text)]
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _sqlite_recompute(data: Mapping[str, Any]) -> str:
    """The hash an SQLite record should have, from its stored columns."""
    content = dict(data)
    content["reasons"] = json.loads(str(data["reasons"]))
    if not isinstance(content["reasons"], list):
        raise ValueError("reasons is not a list")
    content["override"] = bool(data["override"])
    return _record_hash(content)


def _verify_rows(
    rows: Iterator[Sequence[Any]] | sqlite3.Cursor,
    anchor: tuple[int, str] | None,
    columns: Sequence[str] = _COLUMNS,
    recompute: Callable[[Mapping[str, Any]], str] = _sqlite_recompute,
) -> VerifyResult:
    """Walk the records in id order and stop at the first broken link.

    Args:
        rows: The records in id order, as tuples of ``columns`` (which hold ``id``, ``prev_hash``, ``hash``).
        anchor: An earlier head (id, hash) that must still be there.
        columns: The names of the values in each row.
        recompute: The hash a record should have (the backend's hash function).
    """
    expected_id, prev_hash, checked = 1, GENESIS_HASH, 0
    anchor_seen = anchor is None or anchor[0] == 0

    def broken(record_id: int, message: str) -> VerifyResult:
        return VerifyResult(False, checked, record_id, message, expected_id - 1, prev_hash)

    for row in rows:
        data = dict(zip(columns, row, strict=True))
        checked += 1
        try:
            record_id = int(data["id"])
            recomputed = recompute(data)
        except (TypeError, ValueError) as exc:
            return broken(expected_id, f"Record {expected_id} cannot be read back ({exc}): it was altered.")
        if record_id != expected_id:
            if record_id > expected_id:
                gap = (
                    f"{expected_id}" if record_id == expected_id + 1 else f"{expected_id} to {record_id - 1}"
                )
                return broken(
                    expected_id,
                    f"Record {gap} {'is' if record_id == expected_id + 1 else 'are'} missing "
                    f"(the ids jump from {expected_id - 1} to {record_id}).",
                )
            return broken(expected_id, f"Record {expected_id} is out of place (found id {record_id}).")
        if recomputed != data["hash"]:
            return broken(
                record_id,
                f"Record {record_id} was changed after it was written "
                "(its content no longer matches its hash).",
            )
        if data["prev_hash"] != prev_hash:
            return broken(
                record_id,
                f"Record {record_id} does not follow record {record_id - 1} "
                "(the link between them is broken: a record was removed, replaced or reordered).",
            )
        if anchor is not None and record_id == anchor[0]:
            if data["hash"] != anchor[1]:
                return broken(record_id, f"Record {record_id} no longer matches the anchor kept for it.")
            anchor_seen = True
        expected_id, prev_hash = record_id + 1, str(data["hash"])
    if not anchor_seen and anchor is not None:
        return VerifyResult(
            False,
            checked,
            expected_id,
            f"Record {anchor[0]} of the anchor is missing: "
            f"the newest records from {expected_id} on were removed.",
            expected_id - 1,
            prev_hash,
        )
    return VerifyResult(
        True,
        checked,
        None,
        f"The audit log holds {checked} record{'s' if checked != 1 else ''} "
        "and every link of its chain holds.",
        expected_id - 1,
        prev_hash,
    )
