"""Fit and score on a Dask cluster, for data that outgrows one machine (``--cluster ADDRESS|local:N``).

1. **Staging** (on the machine running the command, DuckDB, bounded memory): every table the job needs
   is rewritten as parquet partitions hashed by client ID (``hash(SK_ID_CURR) % P``; bureau_balance by
   its credit's client), so each client's application row and whole history live in one partition.
   The staging folder must be readable by every worker at the same path (the local disk for
   ``local:N`` and loopback clusters, shared storage for a real cluster).
   Partitions have a fixed size (:data:`PARTITION_CLIENTS` clients): their number grows with the data,
   so the memory one partition needs does not.
2. **Features per partition** (on the workers): the same code as one machine,
   :func:`~trainer.history_sql.aggregate_sources` then :func:`~trainer.features.feature_matrix`,
   with progress per partition. Each task writes its float32 feature rows to the staging folder
   (``.npy``) and keeps nothing in memory, so a worker's memory in this phase is one partition's,
   whatever the data size. A partition task lost with its worker is recomputed by Dask.
3. **Training** with XGBoost's external memory (:mod:`trainer.extmem`) on the same train/validation
   clients as one machine (the split is drawn on the driver with the same seed): each worker builds an
   ``ExtMemQuantileDMatrix`` over its share of the partitions' feature files, XGBoost quantises them
   batch by batch into cache pages on the worker's local disk and trains from those pages, the
   workers joined in XGBoost's own collective. A worker's heap holds one batch and per-row training
   state, not the bins of every client it trains on. Then the same threshold, metrics, fairness
   table, importance and bundle writer (:func:`trainer.train.finish_bundle`): the bundle is written
   atomically at the very end, so a failed job never leaves half a bundle.

Scoring (``trainer predict --cluster``) stages the clients file and history the same way, scores each
partition with the verified bundle and writes the submission in the clients file's order.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trainer.data import _short, find_table, read_applications, read_header, read_table
from trainer.errors import DataError, UserError
from trainer.features import (
    APP_CATEGORICAL,
    APP_INPUT_NUMERIC,
    FeatureSpec,
    align_history,
    feature_matrix,
    fit_feature_spec,
    history_tables_used,
)
from trainer.history_sql import aggregate_sources, connect, typed_select
from trainer.progress import ProgressReport
from trainer.progress import stage as report_stage
from trainer.schema import HISTORY_TABLES

#: Clients per partition when the number of partitions is chosen automatically (bounds a worker's
#: memory while it builds features or scores: one partition at a time).
PARTITION_CLIENTS = 50_000
LOCAL_PREFIX = "local:"
#: How long to wait for a scheduler to answer.
CONNECT_TIMEOUT = "15s"
_INSTALL_HINT = "install the cluster extra: pip install 'credit-tui[cluster]'"


# --------------------------------------------------------------------------------------------------
# Connecting
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def open_client(address: str) -> Iterator[Any]:
    """A ``distributed.Client`` on ``address`` (``tcp://host:port``) or on a new ``local:N`` cluster.

    Raises:
        UserError: When dask/distributed are not installed, N is not a number of workers, or the
            scheduler cannot be reached.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UserError(f"--cluster needs dask and distributed; {_INSTALL_HINT}.") from None
    if address.startswith(LOCAL_PREFIX):
        count = address.removeprefix(LOCAL_PREFIX)
        if not count.isdigit() or not 1 <= int(count) <= 64:
            raise UserError(
                f"--cluster {address}: write local:N with N workers between 1 and 64, e.g. local:2."
            )
        cluster = LocalCluster(
            n_workers=int(count), threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        with cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UserError(
            f"Cannot reach the Dask scheduler at {address} ({_short(exc)}); start it with `dask scheduler` "
            "and pass its address (tcp://HOST:8786), or use --cluster local:N."
        ) from None
    with client:
        yield client


def worker_count(client: Any) -> int:
    """Workers currently connected to the scheduler (at least 1)."""
    from trainer.extmem import worker_addresses

    return max(1, len(worker_addresses(client)))


@contextlib.contextmanager
def cluster_failures(address: str, what: str) -> Iterator[None]:
    """Turn a failure of the cluster (a lost worker, a closed connection) into one clear sentence."""
    try:
        yield
    except UserError:
        raise
    except Exception as exc:
        raise UserError(
            f"The Dask cluster at {address} failed while {what} ({type(exc).__name__}: {_short(exc)}); "
            "nothing was written. Check that every worker is running and run the command again."
        ) from None


# --------------------------------------------------------------------------------------------------
# Staging: tables -> parquet partitions hashed by client ID
# --------------------------------------------------------------------------------------------------


def partition_count(n_clients: int, workers: int, requested: int | None = None) -> int:
    """Partitions for ``n_clients``: ``requested``, else one per :data:`PARTITION_CLIENTS` clients.

    At least 2 per worker, so that every worker has work.
    """
    if requested:
        return requested
    return max(2 * workers, math.ceil(n_clients / PARTITION_CLIENTS))


def count_clients(path: Path, name: str, memory_limit: str | None = None) -> int:
    """Rows of an application table (read with DuckDB, only its ID column)."""
    with connect(memory_limit) as con:
        sql = typed_select(con, name, path, ["SK_ID_CURR"])
        return int(con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0])


def stage_tables(
    sources: Mapping[str, Path],
    applications: tuple[str, Path, Sequence[str]],
    stage: Path,
    partitions: int,
    memory_limit: str | None = None,
) -> None:
    """Rewrite the application table and the history tables as parquet partitions hashed by client ID.

    Args:
        sources: History table name -> file (only the needed columns are kept).
        applications: (table name, file, columns) of the application rows.
        stage: Folder to write ``<table>/part=<p>/*.parquet`` into.
        partitions: Number of partitions.
        memory_limit: DuckDB memory limit of the staging (it spills to disk beyond it).

    Raises:
        DataError: When a file cannot be used (one sentence naming the file, row or value).
    """
    from trainer.features import history_input_columns

    part = f"hash(SK_ID_CURR) % {partitions}"
    app_name, app_path, app_columns = applications
    with connect(memory_limit) as con:
        jobs: list[tuple[str, Path, str]] = [
            (app_name, app_path, _with_part(typed_select(con, app_name, app_path, app_columns), part))
        ]
        for name, path in sources.items():
            select = typed_select(con, name, path, history_input_columns(name))
            if name == "bureau_balance":
                owners = typed_select(con, "bureau", sources["bureau"], ["SK_ID_BUREAU", "SK_ID_CURR"])
                sql = (
                    f"SELECT bb.*, owner.SK_ID_CURR, hash(owner.SK_ID_CURR) % {partitions} AS part "
                    f"FROM ({select}) AS bb JOIN ({owners}) AS owner USING (SK_ID_BUREAU)"
                )
            else:
                sql = f"SELECT *, {part} AS part FROM ({select})"
            jobs.append((name, path, sql))
        for name, path, sql in jobs:
            target = stage / name
            try:
                con.execute(
                    f"COPY ({sql}) TO '{_escape(str(target))}' (FORMAT parquet, PARTITION_BY (part), "
                    "OVERWRITE_OR_IGNORE true)"
                )
            except Exception as exc:
                import duckdb

                if not isinstance(exc, duckdb.Error):
                    raise
                _raise_clear(name, path, exc)
        _check_applications(con, app_name, app_path, stage / app_name)


def _check_applications(con: Any, name: str, path: Path, staged: Path) -> None:
    """Duplicated or empty client IDs, or a bad TARGET: the slow reader names the exact row."""
    relation = f"read_parquet('{_escape(str(staged / '**' / '*.parquet'))}')"
    has_target = "TARGET" in [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    target = "count_if(NOT coalesce(TARGET IN (0, 1), false))" if has_target else "0"
    bad = con.execute(
        f"SELECT count(*) - count(DISTINCT SK_ID_CURR), count_if(SK_ID_CURR IS NULL), {target}, count(*) "
        f"FROM {relation}"
    ).fetchone()
    if any(int(v) for v in bad[:3]) or int(bad[3]) == 0:
        if name == "application_test":
            read_applications(path)
        else:
            read_table(path, name)
        raise DataError(f"{path}: client IDs must be unique and present, and TARGET 0 or 1; fix the file.")


def _raise_clear(name: str, path: Path, exc: BaseException) -> None:
    if name == "application_test":
        read_applications(path)
    else:
        read_table(path, name)
    raise DataError(f"{path}: the {name} table could not be staged ({_short(exc)}); fix or regenerate it.")


def _with_part(select: str, part: str) -> str:
    return f"SELECT *, {part} AS part FROM ({select})"


def _escape(text: str) -> str:
    return text.replace("'", "''")


def _partition_sources(stage: Path, tables: Sequence[str], part: int) -> dict[str, Path]:
    """The staged history of partition ``part`` (tables without rows in it are absent)."""
    found = {name: stage / name / f"part={part}" for name in tables}
    return {name: path for name, path in found.items() if path.is_dir()}


def _partition_applications(stage: Path, name: str, part: int) -> pd.DataFrame:
    folder = stage / name / f"part={part}"
    if not folder.is_dir():
        return pd.DataFrame(columns=["SK_ID_CURR"])
    frame = pd.read_parquet(folder)
    return frame.drop(columns=[c for c in ("part",) if c in frame.columns]).reset_index(drop=True)


def partition_features(
    stage: str, name: str, tables: Sequence[str], part: int, spec: FeatureSpec, memory_limit: str | None
) -> tuple[pd.DataFrame, np.ndarray[Any, np.dtype[np.float32]]]:
    """Run on a worker: the application rows of one partition and their feature matrix (same code)."""
    folder = Path(stage)
    apps = _partition_applications(folder, name, part)
    ids = apps["SK_ID_CURR"].to_numpy(dtype=np.int64)
    history = None
    if tables:
        sources = _partition_sources(folder, tables, part)
        present = history_tables_used(sources)
        frame = (
            aggregate_sources(sources, list(ids), memory_limit=memory_limit, threads=1) if present else None
        )
        history = align_history(
            frame if frame is not None else pd.DataFrame(index=pd.Index([], dtype="int64")), tables, list(ids)
        )
    if len(apps) == 0:
        return apps, np.empty((0, len(spec.names)), dtype=np.float32)
    return apps, feature_matrix(apps, history, spec)


# --------------------------------------------------------------------------------------------------
# Fit
# --------------------------------------------------------------------------------------------------


def _piece_path(stage: str | Path, part: int, name: str) -> Path:
    return Path(stage) / "features" / f"{part}-{name}.npy"


def _save_piece(path: Path, values: np.ndarray[Any, Any]) -> None:
    """Write one array under a temporary name, then rename it (a retried task rewrites it whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as handle:
        np.save(handle, np.ascontiguousarray(values))
    partial.replace(path)


def _fit_partition(
    stage: str, tables: Sequence[str], part: int, spec: FeatureSpec, valid_ids: Any, memory_limit: str | None
) -> dict[str, Any]:
    """Run on a worker: build one partition's features and write them to the staging folder.

    Returns only what the driver needs (row counts, and the validation clients' IDs and labels), so the
    worker keeps nothing of the partition once the task ends.
    """
    apps, x = partition_features(stage, "application_train", tables, part, spec, memory_limit)
    y = apps["TARGET"].to_numpy(dtype=np.float32) if len(apps) else np.empty(0, dtype=np.float32)
    ids = apps["SK_ID_CURR"].to_numpy(dtype=np.int64) if len(apps) else np.empty(0, dtype=np.int64)
    del apps
    valid = np.isin(ids, np.asarray(valid_ids))
    pieces = {"x_train": x[~valid], "y_train": y[~valid], "x_valid": x[valid], "y_valid": y[valid]}
    del x
    for name, values in pieces.items():
        _save_piece(_piece_path(stage, part, name), values)
    return {
        "n_train": int((~valid).sum()),
        "n_valid": int(valid.sum()),
        "ids_valid": ids[valid],
        "y_valid": y[valid].astype(np.int64),
    }


def _load_piece(stage: str, part: int, name: str) -> np.ndarray[Any, Any]:
    """Run on a worker: one partition's array, memory-mapped (the feature matrices) or read (labels)."""
    array: np.ndarray[Any, Any] = np.load(
        _piece_path(stage, part, name), mmap_mode="r" if name.startswith("x_") else None
    )
    return array


def _piece_files(stage: Path, count: int) -> list[dict[str, tuple[Path, Path]]]:
    """Per partition, the (features, labels) files of its training and of its validation rows."""
    return [
        {
            kind: (_piece_path(stage, p, f"x_{kind}"), _piece_path(stage, p, f"y_{kind}"))
            for kind in ("train", "valid")
        }
        for p in range(count)
    ]


def _valid_features(stage: Path, results: list[dict[str, Any]], width: int) -> Any:
    """The validation rows of every partition as one Dask array over the memory-mapped files."""
    import dask
    import dask.array as da

    pieces = [
        da.from_delayed(
            dask.delayed(_load_piece, pure=True)(str(stage), part, "x_valid"),
            shape=(result["n_valid"], width),
            dtype=np.float32,
        )
        for part, result in enumerate(results)
    ]
    return da.concatenate(pieces)


def fit_on_cluster(
    config: Any,
    address: str,
    progress: ProgressReport | None = None,
    *,
    partitions: int | None = None,
    memory_limit: str | None = None,
    tracking: Mapping[str, str] | None = None,
    memory: dict[str, dict[str, int]] | None = None,
) -> Any:
    """``trainer fit --cluster``: the same bundle as :func:`trainer.train.fit_bundle`, trained on Dask.

    Args:
        config: A :class:`trainer.train.FitConfig`.
        address: ``tcp://HOST:PORT`` of a running scheduler, or ``local:N``.
        progress: Called as the stages and the partitions advance.
        partitions: Number of partitions (default: :func:`partition_count`).
        memory_limit: DuckDB memory limit for the staging and for each partition.
        tracking: MLflow run reference stored in the manifest.
        memory: When given, filled with the workers' peak memory of each phase (``features``,
            ``training``; see :func:`worker_peaks`), for the benchmarks.

    Raises:
        UserError: On bad data (one sentence) or a cluster failure (nothing is written).
    """
    from xgboost import dask as dxgb

    from trainer.config import DEFAULT_XGB_PARAMS
    from trainer.data import fingerprint_files, load_data
    from trainer.extmem import train_on_workers
    from trainer.fairness import fairness_groups
    from trainer.model import stratified_split
    from trainer.train import TRAIN_COLUMNS, TrainingData, Validation, check_labels, finish_bundle

    folder = Path(config.data_dir)
    train_path = find_table(folder, "application_train") if folder.is_dir() else None
    if train_path is None:
        load_data(folder, need_train=True, history=False)  # the clear missing folder / file error
        raise DataError(f"{folder} has no application_train table.")
    if "TARGET" not in read_header(train_path):
        raise DataError(
            f"application_train in {folder} has no TARGET column; the model needs labelled clients."
        )
    found = {n: p for n in HISTORY_TABLES if (p := find_table(folder, n)) is not None}
    used = history_tables_used(found) if config.use_history else []
    test_path = find_table(folder, "application_test")
    read = [train_path, *([test_path] if test_path else []), *(found.values() if config.use_history else [])]

    with open_client(address) as client, _stage_dir(Path(config.out)) as staged_dir:
        workers = worker_count(client)
        with report_stage(progress, "Staging partitions (DuckDB)"):
            n_clients = count_clients(train_path, "application_train", memory_limit)
            count = partition_count(n_clients, workers, partitions)
            app = ("application_train", train_path, TRAIN_COLUMNS)
            stage_tables({t: found[t] for t in used}, app, staged_dir, count, memory_limit)

        # Labels, category levels and fairness groups on the driver: small reads of the staged
        # application rows. The split is drawn in client ID order: the same clients as one machine for
        # a file sorted by ID (like the Kaggle and synthetic files).
        wanted = list(dict.fromkeys(["SK_ID_CURR", "TARGET", *fit_categories(), *FAIRNESS_COLUMNS]))
        staged = pd.read_parquet(staged_dir / "application_train", columns=wanted)
        staged = staged.sort_values("SK_ID_CURR", kind="stable").reset_index(drop=True)
        y = staged["TARGET"].to_numpy(dtype=np.int64)
        check_labels(y, folder)
        spec = fit_feature_spec(staged, used, config.allow_protected)
        _, valid_pos = stratified_split(y, config.valid_share, config.seed)
        valid_ids = staged["SK_ID_CURR"].to_numpy(dtype=np.int64)[valid_pos]
        people = staged.loc[staged.index[valid_pos], ["SK_ID_CURR", *FAIRNESS_COLUMNS]]
        n_total = len(staged)
        del staged

        with cluster_failures(address, "building the features of each partition"):
            _start_peaks(client)
            shared = client.scatter(valid_ids, broadcast=True)
            futures = _map_partitions(
                client,
                _fit_partition,
                staged_dir,
                used,
                count,
                (spec, shared, memory_limit),
                progress,
                "Features",
            )
            results: list[dict[str, Any]] = client.gather(futures)
            del futures, shared
            peaks = _stop_peaks(client)
            if memory is not None:
                memory["features"] = peaks

        params: dict[str, Any] = {**DEFAULT_XGB_PARAMS, **config.params, "seed": config.seed, "nthread": 1}
        with cluster_failures(address, "training XGBoost"):
            label = f"Training XGBoost on {min(workers, count)} workers (external memory)"
            if progress is not None:
                progress(label, 0.0, None)
            _start_peaks(client)
            booster = train_on_workers(
                client,
                _piece_files(staged_dir, count),
                [r["n_train"] for r in results],
                params,
                num_boost_round=config.num_boost_round,
                early_stopping_rounds=config.early_stopping_rounds,
                feature_names=spec.names,
                feature_types=spec.feature_types,
            )
            booster = booster[: int(booster.best_iteration) + 1]
            if progress is not None:
                progress(label, 1.0, 1.0)
            x_valid = _valid_features(staged_dir, results, len(spec.names))
            pd_valid = dxgb.inplace_predict(client, booster, x_valid).compute().astype(np.float64)
            peaks = _stop_peaks(client)
            if memory is not None:
                memory["training"] = peaks
        y_valid = np.concatenate([r["y_valid"] for r in results]).astype(np.int64)
        ids_valid = np.concatenate([r["ids_valid"] for r in results])
        x_importance = _importance_rows(staged_dir, results, config.seed)

    # The workers trained with one thread each; the driver's SHAP importance may use all its cores.
    booster.set_param({"nthread": config.nthread or (os.cpu_count() or 1)})
    # The fairness groups of the validation clients, in the order of their gathered predictions.
    people = people.set_index("SK_ID_CURR").loc[ids_valid].reset_index()
    found_names = sorted(found) if config.use_history else []
    data = TrainingData(pd.DataFrame(), None, used, found_names, folder, fingerprint_files(read))
    counts = {"n_clients": n_total, "n_train": n_total - len(valid_ids), "n_valid": len(valid_ids)}
    groups = fairness_groups(people)
    validation = Validation(y_valid, pd_valid, x_importance, counts, float(y.mean()), groups)
    return finish_bundle(booster, spec, validation, data, config, progress, tracking)


def tracked_cluster_fit(
    config: Any,
    address: str,
    uri: str | None,
    progress: ProgressReport | None = None,
    console: Any = None,
    *,
    partitions: int | None = None,
    memory_limit: str | None = None,
) -> Any:
    """:func:`fit_on_cluster` inside an MLflow run, like :func:`trainer.tracking.tracked_fit`."""
    from trainer.tracking import log_fit, tracked

    with tracked("fit", uri, name=f"fit {Path(config.out).name}", console=console) as run:
        bundle = fit_on_cluster(
            config,
            address,
            progress,
            partitions=partitions,
            memory_limit=memory_limit,
            tracking=run.reference(),
        )
        log_fit(run, bundle)
    return bundle


def fit_categories() -> list[str]:
    """Application columns whose levels the feature spec learns."""
    return list(APP_CATEGORICAL)


#: Application columns the fairness table groups the validation clients by.
FAIRNESS_COLUMNS: tuple[str, ...] = ("CODE_GENDER", "DAYS_BIRTH")


def _importance_rows(staged: Path, results: list[dict[str, Any]], seed: int) -> Any:
    """Validation rows for the global SHAP importance, read from the first partitions' feature files."""
    from trainer.train import IMPORTANCE_SAMPLE

    rows: list[Any] = []
    total = 0
    for part, result in enumerate(results):
        if total >= IMPORTANCE_SAMPLE:
            break
        if result["n_valid"]:
            rows.append(np.load(_piece_path(staged, part, "x_valid")))
            total += result["n_valid"]
    matrix = np.concatenate(rows) if rows else np.empty((0, 0), dtype=np.float32)
    order = np.random.default_rng(seed).permutation(len(matrix))[:IMPORTANCE_SAMPLE]
    return matrix[np.sort(order)][:IMPORTANCE_SAMPLE]


# --------------------------------------------------------------------------------------------------
# Workers' peak memory (for the scaling benchmark)
# --------------------------------------------------------------------------------------------------

#: Sampling state on each worker process (set by :func:`_sampler_start`).
_SAMPLER: dict[str, Any] = {}
_SAMPLE_SECONDS = 0.1


def memory_parts() -> dict[str, int]:
    """This process's resident memory in bytes: ``anon`` (its own heap) and ``file`` (mapped files).

    Read from ``/proc/self/status`` (Linux); zeros where it does not exist.
    """
    fields = {"RssAnon:": "anon", "RssFile:": "file"}
    out = {"anon": 0, "file": 0}
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in fields:
            out[fields[words[0]]] = int(words[1]) * 1024
    return out


def _sampler_start() -> None:
    """Run on a worker: sample its memory every 0.1 s in a thread until :func:`_sampler_stop`."""
    import threading

    _sampler_stop()
    stop = threading.Event()
    peaks = {"anon": 0, "file": 0, "total": 0}

    def sample() -> None:
        while True:
            now = memory_parts()
            peaks["anon"] = max(peaks["anon"], now["anon"])
            peaks["file"] = max(peaks["file"], now["file"])
            peaks["total"] = max(peaks["total"], now["anon"] + now["file"])
            if stop.wait(_SAMPLE_SECONDS):
                return

    thread = threading.Thread(target=sample, name="credit-memory-peaks", daemon=True)
    thread.start()
    _SAMPLER.update(stop=stop, thread=thread, peaks=peaks)


def _sampler_stop() -> dict[str, int]:
    """Run on a worker: stop sampling; the peaks seen since :func:`_sampler_start`."""
    if not _SAMPLER:
        return {"anon": 0, "file": 0, "total": 0}
    _SAMPLER["stop"].set()
    _SAMPLER["thread"].join()
    peaks: dict[str, int] = dict(_SAMPLER["peaks"])
    _SAMPLER.clear()
    return peaks


def _start_peaks(client: Any) -> None:
    client.run(_sampler_start)


def _stop_peaks(client: Any) -> dict[str, int]:
    """The largest peak over the workers of each kind (bytes): ``anon``, ``file`` and ``total``."""
    per_worker: dict[str, dict[str, int]] = client.run(_sampler_stop)
    return {key: max((p[key] for p in per_worker.values()), default=0) for key in ("anon", "file", "total")}


def _map_partitions(
    client: Any,
    function: Any,
    staged: Path,
    tables: Sequence[str],
    count: int,
    extra: tuple[Any, ...],
    progress: ProgressReport | None,
    what: str,
) -> list[Any]:
    """Run ``function(staged, tables, part, *extra)`` on every partition (retried if its worker dies)."""
    futures = [
        client.submit(
            function,
            str(staged),
            tuple(tables),
            part,
            *extra,
            key=f"credit-{what.lower()}-{part}",
            retries=2,
            pure=False,
        )
        for part in range(count)
    ]
    _report_partitions(client, futures, progress, f"{what} per partition")
    return futures


def _report_partitions(client: Any, futures: list[Any], progress: ProgressReport | None, label: str) -> None:
    """Wait for the partition tasks, reporting progress as each one finishes."""
    from distributed import as_completed

    total = len(futures)
    if progress is not None:
        progress(label, 0, total, f"{label} (0/{total})")
    for done, future in enumerate(as_completed(futures), start=1):
        future.result()  # raises the task's error here
        if progress is not None:
            progress(label, done, total, f"{label} ({done}/{total})")


@contextlib.contextmanager
def _stage_dir(beside: Path) -> Iterator[Path]:
    """A staging folder beside ``beside`` (so workers of a loopback or local cluster can read it)."""
    parent = beside.parent if beside.parent.exists() else Path(tempfile.gettempdir())
    stage = Path(tempfile.mkdtemp(prefix=f".{beside.name}.stage-", dir=parent))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# Predict
# --------------------------------------------------------------------------------------------------


def _score_partition(
    stage: str, tables: Sequence[str], part: int, model: str, memory_limit: str | None
) -> pd.DataFrame:
    """Run on a worker: PD and decision of the clients of one partition, with the verified bundle."""
    from trainer.scoring import Scorer

    scorer = Scorer.load(Path(model))
    apps, x = partition_features(stage, "application_test", tables, part, scorer.spec, memory_limit)
    if len(apps) == 0:
        return pd.DataFrame({"SK_ID_CURR": np.empty(0, dtype=np.int64), "PD": [], "DECISION": []})
    pds = scorer.predict_matrix(x)
    ids = apps["SK_ID_CURR"].to_numpy(dtype=np.int64)
    return pd.DataFrame({"SK_ID_CURR": ids, "PD": pds, "DECISION": scorer.decide_many(pds)})


def score_on_cluster(
    model: Path,
    clients_file: Path,
    address: str,
    progress: ProgressReport | None = None,
    *,
    partitions: int | None = None,
    memory_limit: str | None = None,
    stage_beside: Path | None = None,
    trusted_keys: tuple[bytes, ...] = (),
    memory: dict[str, dict[str, int]] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Score every client of ``clients_file`` on the cluster; the frame is in the clients file's order.

    The staging folder is made beside ``stage_beside`` (the output file; default: the clients file).
    ``memory``, when given, receives the workers' peak memory while scoring (key ``scoring``).

    Returns:
        (SK_ID_CURR, PD, DECISION frame, history tables the bundle wants but the folder lacks).

    Raises:
        UserError: On bad data (one sentence) or a cluster failure.
    """
    from trainer.scoring import Scorer

    scorer = Scorer.load(model, trusted_keys)  # the release is checked here, once; workers verify hashes
    folder = clients_file.parent
    found = {n: p for n in HISTORY_TABLES if (p := find_table(folder, n)) is not None}
    wanted = [t for t in found if t in scorer.spec.history_tables]
    used = history_tables_used(wanted)
    missing = sorted(set(scorer.spec.history_tables) - set(used))
    order = read_applications_ids(clients_file)
    columns = list(dict.fromkeys(("SK_ID_CURR", *APP_INPUT_NUMERIC, *APP_CATEGORICAL)))
    with open_client(address) as client, _stage_dir(stage_beside or clients_file) as staged_dir:
        count = partition_count(len(order), worker_count(client), partitions)
        with report_stage(progress, "Staging partitions (DuckDB)"):
            app = ("application_test", clients_file, columns)
            stage_tables({t: found[t] for t in used}, app, staged_dir, count, memory_limit)
        with cluster_failures(address, "scoring the partitions"):
            model_path = str(Path(model).resolve())
            _start_peaks(client)
            futures = _map_partitions(
                client,
                _score_partition,
                staged_dir,
                used,
                count,
                (model_path, memory_limit),
                progress,
                "Scoring",
            )
            parts = client.gather(futures)
            peaks = _stop_peaks(client)
            if memory is not None:
                memory["scoring"] = peaks
    scores = pd.concat(parts, ignore_index=True).set_index("SK_ID_CURR").reindex(order)
    return scores.reset_index(), missing


def read_applications_ids(path: Path) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The SK_ID_CURR column of a clients file, in file order (validated by DuckDB staging later)."""
    with connect() as con:
        con.execute("SET preserve_insertion_order = true")
        sql = typed_select(con, "application_test", path, ["SK_ID_CURR"])
        try:
            ids = con.execute(sql).fetchnumpy()["SK_ID_CURR"]
        except Exception as exc:
            _raise_clear("application_test", path, exc)
    return np.asarray(ids, dtype=np.int64)
