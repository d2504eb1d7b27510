"""History aggregation on DuckDB: each history aggregate is one SQL query over the raw table.

The history tables are the large part of the Home Credit data (27 M bureau_balance rows, 13 M
instalments). DuckDB reads them straight from the CSV or parquet files (or from a pandas frame or a
pyarrow table already in memory), only the columns the features need, streaming and multi-threaded,
and spills to disk beyond ``memory_limit``: tables larger than RAM aggregate.

The arithmetic is the one of the pandas reference in :mod:`trainer.features` (``bureau_features`` and
friends, kept for the test that compares both): history numbers are read as float32 (as
:func:`trainer.data.read_table` does) and computed in float64; sums skip missing values, means and
maxima ignore them, a zero or missing denominator gives a missing ratio.

A file that DuckDB cannot read (a non-numeric value, bad UTF-8, a truncated line, a duplicated key, an
empty identifier) is read again with :func:`trainer.data.read_table`, which names the exact file, row
and value in its :class:`~trainer.errors.DataError`; this slow path runs only on failure.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from trainer.config import DEFAULT_DUCKDB_MEMORY_LIMIT, DUCKDB_MEMORY_ENV
from trainer.errors import DataError
from trainer.features import (
    DAYS_PER_YEAR,
    HISTORY_FEATURES,
    align_history,
    history_input_columns,
    history_tables_used,
)
from trainer.schema import ID_COLUMNS, PRIMARY_KEYS, table_spec

#: Where a history table comes from: a CSV or parquet file, or a frame / Arrow table in memory.
HistorySource = Path | pd.DataFrame | Any  # Any: a pyarrow.Table (pyarrow has no type hints)

_RECENT_DAYS = -365
_RECENT_MONTHS = -12
_CC_RECENT_MONTHS = -6
_LATE_STATUSES = "('1', '2', '3', '4', '5')"

# One query per history table. ``{table}`` names a view holding the needed columns, typed: identifiers
# BIGINT, numbers DOUBLE (float32 values, NaN as NULL), text VARCHAR. ``count_if`` of only NULL
# conditions is NULL in DuckDB, hence the ``coalesce(..., false)``. ``_null_ids`` counts rows whose
# identifier is empty, so a bad file is diagnosed without a second pass.
_QUERIES: dict[str, str] = {
    "bureau": f"""
        WITH g AS (
            SELECT SK_ID_CURR,
                count(*) AS n,
                count_if(coalesce(CREDIT_ACTIVE = 'Active', false)) AS active_n,
                count_if(coalesce(CREDIT_ACTIVE = 'Closed', false)) AS closed_n,
                count_if(coalesce(CREDIT_ACTIVE IN ('Bad debt', 'Sold'), false)) AS bad_n,
                count_if(coalesce(DAYS_CREDIT > {_RECENT_DAYS}, false)) AS recent_n,
                coalesce(sum(CASE WHEN CREDIT_ACTIVE = 'Active' THEN AMT_CREDIT_SUM_DEBT END), 0) AS debt,
                coalesce(sum(CASE WHEN CREDIT_ACTIVE = 'Active' THEN AMT_CREDIT_SUM END), 0) AS credit,
                coalesce(sum(AMT_CREDIT_SUM_OVERDUE), 0) AS overdue,
                coalesce(sum(CNT_CREDIT_PROLONG), 0) AS prolong,
                max(CREDIT_DAY_OVERDUE) AS max_days_overdue,
                max(AMT_CREDIT_MAX_OVERDUE) AS max_overdue,
                max(DAYS_CREDIT) AS last_credit,
                count_if(SK_ID_BUREAU IS NULL) AS _null_ids
            FROM bureau GROUP BY SK_ID_CURR
        )
        SELECT SK_ID_CURR,
            n::DOUBLE AS BUREAU_COUNT,
            active_n::DOUBLE AS BUREAU_ACTIVE_COUNT,
            closed_n::DOUBLE AS BUREAU_CLOSED_COUNT,
            bad_n::DOUBLE AS BUREAU_BAD_DEBT_COUNT,
            recent_n::DOUBLE AS BUREAU_RECENT_COUNT,
            debt AS BUREAU_ACTIVE_DEBT,
            credit AS BUREAU_ACTIVE_CREDIT,
            overdue AS BUREAU_OVERDUE_SUM,
            prolong AS BUREAU_PROLONG_COUNT,
            max_days_overdue AS BUREAU_MAX_DAYS_OVERDUE,
            max_overdue AS BUREAU_MAX_OVERDUE_AMOUNT,
            CASE WHEN credit <> 0 THEN debt / credit END AS BUREAU_DEBT_CREDIT_RATIO,
            -last_credit / {DAYS_PER_YEAR} AS BUREAU_YEARS_SINCE_LAST_CREDIT,
            _null_ids
        FROM g ORDER BY SK_ID_CURR
    """,
    # Months are counted per credit first (27 M rows -> 1.7 M credits), then summed per owner: the join
    # with bureau then probes one row per credit instead of one per month.
    "bureau_balance": f"""
        WITH per_credit AS (
            SELECT SK_ID_BUREAU,
                count(*) AS months,
                count_if(coalesce(STATUS IN {_LATE_STATUSES}, false)) AS late
            FROM bureau_balance GROUP BY SK_ID_BUREAU
        )
        SELECT owner.SK_ID_CURR,
            sum(months)::DOUBLE AS BUREAU_BALANCE_MONTHS,
            sum(late) / sum(months) AS BUREAU_BALANCE_LATE_SHARE,
            sum(CASE WHEN per_credit.SK_ID_BUREAU IS NULL THEN months ELSE 0 END) AS _null_ids
        FROM per_credit
        LEFT JOIN (SELECT SK_ID_BUREAU, SK_ID_CURR FROM bureau) AS owner USING (SK_ID_BUREAU)
        GROUP BY owner.SK_ID_CURR ORDER BY owner.SK_ID_CURR
    """,
    "previous_application": f"""
        WITH g AS (
            SELECT SK_ID_CURR,
                count(*) AS n,
                count_if(coalesce(NAME_CONTRACT_STATUS = 'Approved', false)) AS approved_n,
                count_if(coalesce(NAME_CONTRACT_STATUS = 'Refused', false)) AS refused_n,
                count_if(coalesce(NAME_CONTRACT_STATUS = 'Refused' AND DAYS_DECISION > {_RECENT_DAYS}, false))
                    AS recent_n,
                avg(CASE WHEN AMT_APPLICATION <> 0 THEN AMT_CREDIT / AMT_APPLICATION END) AS ratio,
                avg(AMT_CREDIT) AS credit_mean,
                max(DAYS_DECISION) AS last_decision,
                count_if(SK_ID_PREV IS NULL) AS _null_ids
            FROM previous_application GROUP BY SK_ID_CURR
        )
        SELECT SK_ID_CURR,
            n::DOUBLE AS PREV_COUNT,
            approved_n::DOUBLE AS PREV_APPROVED_COUNT,
            refused_n::DOUBLE AS PREV_REFUSED_COUNT,
            recent_n::DOUBLE AS PREV_RECENT_REFUSED_COUNT,
            ratio AS PREV_CREDIT_APPLICATION_RATIO,
            credit_mean AS PREV_AMT_CREDIT_MEAN,
            refused_n / n AS PREV_REFUSED_SHARE,
            -last_decision / {DAYS_PER_YEAR} AS PREV_YEARS_SINCE_LAST_DECISION,
            _null_ids
        FROM g ORDER BY SK_ID_CURR
    """,
    "installments_payments": f"""
        WITH g AS (
            SELECT SK_ID_CURR,
                count(*) AS n,
                count_if(coalesce(DAYS_ENTRY_PAYMENT > DAYS_INSTALMENT, false)) AS late_n,
                coalesce(sum(CASE WHEN DAYS_ENTRY_PAYMENT > DAYS_INSTALMENT
                    THEN DAYS_ENTRY_PAYMENT - DAYS_INSTALMENT END), 0) AS days_late,
                max(CASE WHEN DAYS_ENTRY_PAYMENT > DAYS_INSTALMENT THEN DAYS_ENTRY_PAYMENT - DAYS_INSTALMENT
                    WHEN DAYS_ENTRY_PAYMENT <= DAYS_INSTALMENT THEN 0.0 END) AS days_late_max,
                count_if(coalesce(AMT_PAYMENT < AMT_INSTALMENT - 0.01::DOUBLE, false)) AS underpaid_n,
                coalesce(sum(AMT_PAYMENT), 0) AS paid,
                coalesce(sum(AMT_INSTALMENT), 0) AS due,
                count_if(coalesce(DAYS_INSTALMENT > {_RECENT_DAYS}, false)) AS recent_n,
                count_if(coalesce(
                    DAYS_INSTALMENT > {_RECENT_DAYS} AND DAYS_ENTRY_PAYMENT > DAYS_INSTALMENT, false
                )) AS recent_late_n
            FROM installments_payments GROUP BY SK_ID_CURR
        )
        SELECT SK_ID_CURR,
            n::DOUBLE AS INST_COUNT,
            late_n / n AS INST_LATE_SHARE,
            days_late / n AS INST_DAYS_LATE_MEAN,
            days_late_max AS INST_DAYS_LATE_MAX,
            underpaid_n / n AS INST_UNDERPAID_SHARE,
            CASE WHEN due <> 0 THEN paid / due END AS INST_PAYMENT_RATIO,
            CASE WHEN recent_n > 0 THEN recent_late_n / recent_n END AS INST_RECENT_LATE_SHARE,
            0 AS _null_ids
        FROM g ORDER BY SK_ID_CURR
    """,
    "POS_CASH_balance": f"""
        WITH g AS (
            SELECT SK_ID_CURR,
                count(*) AS n,
                max(coalesce(SK_DPD, 0)) AS dpd_max,
                max(coalesce(SK_DPD_DEF, 0)) AS dpd_def_max,
                max(CASE WHEN MONTHS_BALANCE >= {_RECENT_MONTHS} THEN coalesce(SK_DPD, 0) ELSE 0 END)
                    AS recent_dpd_max,
                coalesce(sum(SK_DPD), 0) AS dpd_sum,
                count_if(coalesce(SK_DPD > 0, false)) AS late_n
            FROM POS_CASH_balance GROUP BY SK_ID_CURR
        )
        SELECT SK_ID_CURR,
            n::DOUBLE AS POS_MONTHS,
            dpd_max::DOUBLE AS POS_DPD_MAX,
            dpd_def_max::DOUBLE AS POS_DPD_DEF_MAX,
            recent_dpd_max::DOUBLE AS POS_RECENT_DPD_MAX,
            dpd_sum / n AS POS_DPD_MEAN,
            late_n / n AS POS_LATE_SHARE,
            0 AS _null_ids
        FROM g ORDER BY SK_ID_CURR
    """,
    # The utilisation of each card at its latest month (a missing month sorts last, as in the
    # reference), averaged over the cards still active then.
    "credit_card_balance": f"""
        WITH rows AS (
            SELECT SK_ID_CURR, SK_ID_PREV, MONTHS_BALANCE, AMT_DRAWINGS_CURRENT, NAME_CONTRACT_STATUS,
                coalesce(SK_DPD, 0) AS dpd,
                CASE WHEN AMT_CREDIT_LIMIT_ACTUAL <> 0 THEN AMT_BALANCE / AMT_CREDIT_LIMIT_ACTUAL END AS u
            FROM credit_card_balance
        ),
        g AS (
            SELECT SK_ID_CURR,
                count(*) AS n,
                max(u) AS u_max,
                max(dpd) AS dpd_max,
                avg(u) AS u_mean,
                avg(CASE WHEN MONTHS_BALANCE >= {_CC_RECENT_MONTHS} THEN u END) AS u_recent,
                count_if(coalesce(dpd > 0, false)) AS late_n,
                avg(AMT_DRAWINGS_CURRENT) AS drawings
            FROM rows GROUP BY SK_ID_CURR
        ),
        latest AS (
            SELECT arg_max(
                {{'client': SK_ID_CURR, 'u': u, 'active': NAME_CONTRACT_STATUS = 'Active'}},
                coalesce(MONTHS_BALANCE, 'Infinity'::DOUBLE)
            ) AS card
            FROM rows GROUP BY SK_ID_PREV
        ),
        active AS (
            SELECT card.client AS SK_ID_CURR, avg(card.u) AS u_active
            FROM latest WHERE card.active GROUP BY card.client
        )
        SELECT g.SK_ID_CURR,
            n::DOUBLE AS CC_MONTHS,
            u_max AS CC_UTILISATION_MAX,
            dpd_max::DOUBLE AS CC_DPD_MAX,
            u_mean AS CC_UTILISATION_MEAN,
            u_recent AS CC_RECENT_UTILISATION,
            late_n / n AS CC_LATE_SHARE,
            drawings AS CC_DRAWINGS_MEAN,
            u_active AS CC_ACTIVE_UTILISATION,
            0 AS _null_ids
        FROM g LEFT JOIN active USING (SK_ID_CURR) ORDER BY g.SK_ID_CURR
    """,
}

#: Tables copied into DuckDB once (small, read twice or checked for duplicated keys); the others stream.
_MATERIALISED = frozenset({"bureau", "previous_application"})


def memory_limit_setting(memory_limit: str | None = None) -> str:
    """The DuckDB memory limit: the argument, else ``$CREDIT_TUI_DUCKDB_MEMORY``, else the default."""
    return memory_limit or os.environ.get(DUCKDB_MEMORY_ENV) or DEFAULT_DUCKDB_MEMORY_LIMIT


#: Name prefix of DuckDB's spill folders: ``credit-tui-duckdb-<pid>-<random>`` in the temporary folder.
SPILL_PREFIX = "credit-tui-duckdb-"


def spill_folder() -> Path:
    """A fresh, unguessable spill folder path for this process, not created.

    DuckDB creates its ``temp_directory`` only when a query first spills and removes it when the
    connection closes, so a process that ends without closing (killed, or ``os._exit`` while a loader
    thread is still aggregating) leaves nothing behind unless it had spilled.
    """
    return Path(tempfile.gettempdir()) / f"{SPILL_PREFIX}{os.getpid()}-{secrets.token_hex(8)}"


def sweep_spill_folders(folder: Path | None = None) -> list[Path]:
    """Remove the spill folders that processes of this user left when they died mid-spill.

    Only folders named by :func:`spill_folder`, owned by this user and whose process is gone are
    removed; anything else (another user's, a running process's, another name) is left alone.

    Returns:
        The folders removed.
    """
    removed: list[Path] = []
    parent = folder or Path(tempfile.gettempdir())
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        pid_text, _, token = entry.name.removeprefix(SPILL_PREFIX).partition("-")
        if not entry.name.startswith(SPILL_PREFIX) or not pid_text.isdigit() or len(token) != 16:
            continue
        try:
            info = entry.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
            continue
        if _process_alive(int(pid_text)):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _process_alive(pid: int) -> bool:
    """Whether a process with this id exists (a permission error means it does).

    On Windows ``os.kill`` would terminate the process, so every process counts as alive there (its
    spill folders are not swept).
    """
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid > 0
    return True


@contextmanager
def connect(memory_limit: str | None = None, threads: int | None = None) -> Iterator[Any]:
    """An in-memory DuckDB connection that spills to a private temporary folder beyond ``memory_limit``.

    The folder (:func:`spill_folder`) exists only while DuckDB spills; spill folders left by this
    user's dead processes are swept first (:func:`sweep_spill_folders`).

    Raises:
        DataError: When the memory limit is not a size DuckDB understands (e.g. ``2GB``).
    """
    import duckdb

    sweep_spill_folders()
    spill = spill_folder()
    config: dict[str, Any] = {"temp_directory": str(spill), "preserve_insertion_order": False}
    if threads:
        config["threads"] = threads
    limit = memory_limit_setting(memory_limit)
    try:
        con = duckdb.connect(":memory:", config=config)
        # No progress bar: DuckDB would draw it on stdout, which the advisor app never writes to.
        con.execute("SET enable_progress_bar = false")
        try:
            con.execute(f"SET memory_limit = {_literal(limit)}")
        except duckdb.Error:
            con.close()
            raise DataError(
                f"DuckDB memory limit {limit!r} is not a size; use a value such as 2GB or 512MB "
                f"(--memory-limit or ${DUCKDB_MEMORY_ENV})."
            ) from None
        try:
            yield con
        finally:
            con.close()
    finally:
        shutil.rmtree(spill, ignore_errors=True)  # DuckDB removes it on close; this is for an error path


def aggregate_sources(
    sources: Mapping[str, HistorySource],
    client_ids: Sequence[int] | None = None,
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """Aggregate the history tables of ``sources`` into one row per client, on DuckDB.

    Args:
        sources: History table name -> CSV/parquet file, pandas frame or pyarrow table (any subset).
        client_ids: When given, the result has exactly these clients (in this order): clients without
            rows in a present table get zero counts and missing rates.
        memory_limit: DuckDB memory limit (default :func:`memory_limit_setting`); DuckDB spills to disk
            beyond it.
        threads: DuckDB threads (default: all cores).

    Returns:
        A float64 frame indexed by SK_ID_CURR with the columns of
        ``history_feature_names(history_tables_used(sources))``.

    Raises:
        DataError: When a history file cannot be used (one sentence naming the file, row or value).
    """
    used = history_tables_used(sources)
    parts: list[pd.DataFrame] = []
    with connect(memory_limit, threads) as con:
        for name in used:
            _create_view(con, name, sources[name])
        for name in used:
            parts.append(_run(con, name, sources))
    if parts:
        frame = pd.concat(parts, axis=1, join="outer", sort=True)
    else:
        frame = pd.DataFrame(index=pd.Index([], dtype="int64", name="SK_ID_CURR"))
    return align_history(frame, used, client_ids)


def _run(con: Any, name: str, sources: Mapping[str, HistorySource]) -> pd.DataFrame:
    """Run the aggregate query of table ``name``; a failure is diagnosed on the file that caused it."""
    import duckdb

    try:
        result: pd.DataFrame = con.execute(_QUERIES[name]).df()
    except duckdb.Error as exc:
        raise _diagnose(name, sources[name], exc) from None
    unknown_client = result["SK_ID_CURR"].isna()
    if name == "bureau_balance":
        result = result[~unknown_client]  # months of credits that bureau does not list: dropped
    elif unknown_client.any() or result.empty:
        raise _diagnose(name, sources[name], None)  # an empty SK_ID_CURR, or no rows at all
    if int(result["_null_ids"].sum()) > 0:
        raise _diagnose(name, sources[name], None)
    result["SK_ID_CURR"] = result["SK_ID_CURR"].astype("int64")
    # The registry names each table's features and their order; the query must produce exactly them.
    return result.set_index("SK_ID_CURR")[list(HISTORY_FEATURES[name])].astype("float64")


def query_features(name: str) -> list[str]:
    """The feature columns the query of history table ``name`` returns (for the registry check)."""
    with connect() as con:
        kinds = {c.name: c.kind for c in table_spec(name).columns}
        for table in ("bureau", name):
            columns = history_input_columns(table)
            empty = ", ".join(
                f"NULL::{_sql_type(c, kinds.get(c) or 'float')} AS {_identifier(c)}" for c in columns
            )
            con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT {empty} LIMIT 0")
        described = con.execute(f"DESCRIBE {_QUERIES[name]}").fetchall()
    return [str(row[0]) for row in described if row[0] not in ("SK_ID_CURR", "_null_ids")]


def _sql_type(column: str, kind: str) -> str:
    if column in ID_COLUMNS:
        return "BIGINT"
    return "VARCHAR" if kind == "category" else "DOUBLE"


def _create_view(con: Any, name: str, source: HistorySource) -> None:
    """Expose the needed columns of ``source`` as view (or table) ``name``, typed for the queries."""
    import duckdb

    columns = history_input_columns(name)
    relation = _relation(con, name, source)
    kinds = {c.name: c.kind for c in table_spec(name).columns}
    select = ", ".join(_typed(column, kinds[column]) for column in columns)
    kind = "TABLE" if name in _MATERIALISED else "VIEW"
    try:
        con.execute(f"CREATE TEMP {kind} {name} AS SELECT {select} FROM {relation}")
        key = PRIMARY_KEYS.get(name)
        if key is not None and kind == "TABLE":
            duplicated = con.execute(
                f"SELECT 1 FROM {name} WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1 LIMIT 1"
            ).fetchall()
            if duplicated:
                raise _diagnose(name, source, None)
    except duckdb.Error as exc:
        raise _diagnose(name, source, exc) from None


def _typed(column: str, kind: str, *, float32: bool = True) -> str:
    quoted = _identifier(column)
    if column in ID_COLUMNS:
        return f"CAST({quoted} AS BIGINT) AS {quoted}"
    if kind == "category":
        return f"CAST({quoted} AS VARCHAR) AS {quoted}"
    if not float32:  # application tables keep float64, like read_table
        return f"nullif(CAST({quoted} AS DOUBLE), 'NaN'::DOUBLE) AS {quoted}"
    # float32 like read_table's history columns, NaN as missing, computed in float64
    return f"CAST(nullif(CAST({quoted} AS FLOAT), 'NaN'::FLOAT) AS DOUBLE) AS {quoted}"


def typed_select(con: Any, name: str, source: HistorySource, columns: Sequence[str]) -> str:
    """``SELECT <columns, typed> FROM <source>`` for table ``name`` (history numbers float32, others float64).

    A folder ``source`` is read as the parquet files in it (a partition written by the cluster staging).

    Raises:
        DataError: When the file is missing, unreadable or lacks one of ``columns``.
    """
    kinds = {c.name: c.kind for c in table_spec(name).columns}
    history = name not in ("application_train", "application_test")
    select = ", ".join(_typed(c, kinds.get(c, "float"), float32=history) for c in columns)
    return f"SELECT {select} FROM {_relation(con, name, source, columns)}"


def _relation(con: Any, name: str, source: HistorySource, columns: Sequence[str] | None = None) -> str:
    """A SQL relation reading ``source``: a file scan, or a registered in-memory object."""
    if not isinstance(source, str | os.PathLike):
        con.register(f"raw_{name}", source)
        return f"raw_{name}"
    path = Path(source)
    if path.is_dir():
        return f"read_parquet({_literal(str(path / '*.parquet'))})"
    needed = set(history_input_columns(name) if columns is None else columns)
    problem = _header_problem(path, name, sorted(needed))
    if problem:
        raise DataError(problem)
    from trainer.data import is_csv_path, read_header

    if not is_csv_path(path):
        return f"read_parquet({_literal(str(path))})"
    header = read_header(path)
    kinds = {c.name: c.kind for c in table_spec(name).columns}
    float_type = "FLOAT" if name not in ("application_train", "application_test") else "DOUBLE"
    types = {
        column: (
            "VARCHAR"
            if column not in needed or kinds.get(column) == "category"
            else "BIGINT"
            if column in ID_COLUMNS
            else float_type
        )
        for column in header
    }
    struct = ", ".join(f"{_literal(column)}: {_literal(kind)}" for column, kind in types.items())
    return (
        f"read_csv({_literal(str(path))}, header = true, auto_detect = false, delim = ',', "
        f"quote = '\"', escape = '\"', columns = {{{struct}}})"
    )


def _header_problem(path: Path, name: str, columns: Sequence[str]) -> str | None:
    """One sentence when the file is missing, unreadable or lacks a needed column."""
    from trainer.data import compare_columns, read_header

    header = read_header(path)
    if len(set(header)) != len(header):
        return f"{path}: a column appears more than once in the header; keep one copy of each column."
    optional = [c for c in columns if c == "TARGET"]
    required = [c for c in columns if c != "TARGET"]
    return compare_columns(header, name, required, optional).problem(path, name)


def _diagnose(name: str, source: HistorySource, exc: BaseException | None) -> DataError:
    """The clear error for a table DuckDB could not aggregate: read it the slow way to find why."""
    from trainer.data import _short, read_table

    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            read_table(path, name, history_input_columns(name))
        except DataError as error:
            return error
        reason = _short(exc) if exc is not None else "an empty identifier or a duplicated key"
        return DataError(
            f"{path}: the {name} table could not be aggregated ({reason}); fix or regenerate it."
        )
    reason = _short(exc) if exc is not None else "an empty identifier, a duplicated key or no rows"
    return DataError(f"The {name} table in memory could not be aggregated ({reason}).")


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
