"""XGBoost external-memory training on the workers of a Dask cluster (``trainer fit --cluster``).

The feature rows are already on disk, one float32 ``.npy`` file per partition and piece
(:func:`trainer.cluster._piece_path`). Each worker gets a share of the partitions (balanced by rows)
and, inside one Dask task pinned to it:

1. builds an :class:`xgboost.ExtMemQuantileDMatrix` from a :class:`FileBatches` iterator over its
   partitions' training files (one batch per partition file, read memory-mapped): XGBoost quantises
   each batch into histogram bin indices and writes them as a cache page on the worker's local disk,
   then trains from those pages (memory-mapped, read page by page). The validation rows are a second
   ``ExtMemQuantileDMatrix`` with the training one as reference (same bins);
2. joins XGBoost's own collective (``CommunicatorContext``) through a
   :class:`xgboost.tracker.RabitTracker` the driver started: the workers all-reduce the quantile
   sketches, the histograms and the validation metric, so they grow the same trees and stop early at
   the same round;
3. returns the booster from rank 0 (every rank holds the same model).

A worker's heap therefore holds one batch being quantised plus per-row training state (labels,
gradients, predictions, row positions: tens of bytes a row), not the bins of every client it trains
on (``DaskQuantileDMatrix`` keeps those in memory: ~1.3 KB a client here). The cache pages are file
pages the kernel can drop.

``xgboost.dask`` does not offer this (its matrices are in memory), hence the tracker and the pinned
tasks here, set up as ``xgboost.dask`` does it: ranks ordered by task name, one task per worker, and a
task that lands on another worker (its own died) fails at once instead of waiting for it.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xgboost

#: Seconds the tracker waits for every worker to join (and to leave) the collective.
TRACKER_TIMEOUT = 600
#: How often the driver checks that the training workers are still there (seconds).
WATCH_SECONDS = 1.0
#: How long a failed training task waits for the scheduler to notice a lost worker (seconds).
LOST_WORKER_GRACE = 5.0


class FileBatches(xgboost.DataIter):
    """One batch per (features, labels) ``.npy`` pair, the features memory-mapped."""

    def __init__(
        self,
        files: Sequence[tuple[Path, Path]],
        cache: Path,
        feature_names: Sequence[str],
        feature_types: Sequence[str],
    ) -> None:
        """Batches over ``files``; XGBoost writes its cache pages under the ``cache`` folder."""
        self._files = list(files)
        self._names = list(feature_names)
        self._types = list(feature_types)
        self._at = 0
        super().__init__(cache_prefix=str(cache / "cache"), release_data=True)

    def next(self, input_data: Callable[..., None]) -> bool:
        """Hand the next file's rows to XGBoost; False at the end."""
        if self._at == len(self._files):
            return False
        x_path, y_path = self._files[self._at]
        x = np.load(x_path, mmap_mode="r")
        y = np.load(y_path)
        input_data(data=x, label=y, feature_names=self._names, feature_types=self._types)
        self._at += 1
        return True

    def reset(self) -> None:
        """Back to the first file."""
        self._at = 0


def assign_partitions(rows: Sequence[int], workers: int) -> list[list[int]]:
    """Share the partitions among at most ``workers`` workers, balanced by rows (largest first).

    Partitions without rows are left out; workers left without a partition are dropped, so every
    returned share has rows.
    """
    shares: list[list[int]] = [[] for _ in range(max(1, workers))]
    totals = [0] * len(shares)
    for part in sorted((p for p, n in enumerate(rows) if n > 0), key=lambda p: (-rows[p], p)):
        least = totals.index(min(totals))
        shares[least].append(part)
        totals[least] += rows[part]
    return [sorted(share) for share in shares if share]


def worker_addresses(client: Any) -> set[str]:
    """The workers connected to the scheduler now, asked to the scheduler itself.

    ``client.scheduler_info()`` can return the client's periodic refresh, which lists no worker.
    """
    identity: dict[str, Any] = client.sync(client.scheduler.identity, n_workers=-1)
    return set(identity.get("workers", {}))


def tracker_host(scheduler_address: str) -> str:
    """This machine's address on the route to the scheduler (the workers reach the tracker there)."""
    from distributed.comm import get_address_host

    host = get_address_host(scheduler_address)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.connect((host, 9))  # UDP: no packet is sent, the kernel only picks the route
        return str(probe.getsockname()[0])


def train_on_workers(
    client: Any,
    files: Sequence[dict[str, tuple[Path, Path]]],
    rows: Sequence[int],
    params: dict[str, Any],
    *,
    num_boost_round: int,
    early_stopping_rounds: int,
    feature_names: Sequence[str],
    feature_types: Sequence[str],
) -> xgboost.Booster:
    """Train one booster on every worker at once with external memory; the model of rank 0.

    Args:
        client: A ``distributed.Client``.
        files: Per partition, ``{"train": (x, y), "valid": (x, y)}`` paths every worker can read.
        rows: Training rows per partition (to balance the workers' shares).
        params: XGBoost parameters (``nthread`` is the worker's thread count).
        num_boost_round: Most boosting rounds.
        early_stopping_rounds: Stop after this many rounds without a better validation metric.
        feature_names: Column names of the feature files.
        feature_types: XGBoost feature types (``c`` for categorical codes).

    Raises:
        RuntimeError: When a training worker leaves the cluster or a training task fails (the
            caller turns it into one sentence).
    """
    addresses = sorted(worker_addresses(client))
    shares = assign_partitions(rows, len(addresses))
    addresses = addresses[: len(shares)]
    tracker = xgboost.tracker.RabitTracker(
        n_workers=len(shares),
        host_ip=tracker_host(client.scheduler.address),
        sortby="task",
        timeout=TRACKER_TIMEOUT,
    )
    tracker.start()
    waiter = threading.Thread(target=tracker.wait_for, name="credit-xgboost-tracker", daemon=True)
    waiter.start()
    coll_args = tracker.worker_args()
    token = uuid.uuid4().hex[:12]  # a fresh key: a task of an earlier failed fit may still be known
    futures = [
        client.submit(
            _train_share,
            address,
            rank,
            [files[p] for p in share],
            params,
            num_boost_round,
            early_stopping_rounds,
            list(feature_names),
            list(feature_types),
            coll_args,
            key=f"credit-xgboost-extmem-{rank}-{token}",
            workers=[address],
            # As xgboost.dask does: should the worker die, its task moves to another worker and
            # fails there at once (address check) instead of waiting forever for the dead one.
            allow_other_workers=True,
            pure=False,
            retries=0,
        )
        for rank, (address, share) in enumerate(zip(addresses, shares, strict=True))
    ]
    _watch(client, futures, addresses)
    boosters = [b for b in client.gather(futures) if b is not None]  # only rank 0 returns its model
    waiter.join(timeout=30)
    booster: xgboost.Booster = boosters[0]
    return booster


def _watch(client: Any, futures: list[Any], addresses: Sequence[str]) -> None:
    """Wait for the training tasks; fail at once when one fails or a training worker is gone."""
    from distributed import wait

    while True:
        with contextlib.suppress(TimeoutError):
            wait(futures, timeout=WATCH_SECONDS)
        failed = [future for future in futures if future.status == "error"]
        if failed:
            # A worker that dies breaks the collective: the others fail with a network error. Name the
            # lost worker rather than that error (the scheduler may take a moment to see it gone).
            _raise_if_gone(client, futures, addresses, LOST_WORKER_GRACE)
            failed[0].result()  # raises the task's own error
        if all(future.done() for future in futures):
            return
        _raise_if_gone(client, futures, addresses, 0.0)


def _raise_if_gone(client: Any, futures: list[Any], addresses: Sequence[str], grace: float) -> None:
    """Cancel the training and raise when one of ``addresses`` has left (looking for ``grace`` s)."""
    deadline = time.monotonic() + grace
    while True:
        gone = sorted(set(addresses) - worker_addresses(client))
        if gone:
            client.cancel(futures)
            raise RuntimeError(f"worker {gone[0]} left the cluster while XGBoost was training")
        if time.monotonic() >= deadline:
            return
        time.sleep(0.5)


def _train_share(
    address: str,
    rank: int,
    files: list[dict[str, tuple[Path, Path]]],
    params: dict[str, Any],
    num_boost_round: int,
    early_stopping_rounds: int,
    feature_names: list[str],
    feature_types: list[str],
    coll_args: dict[str, Any],
) -> xgboost.Booster | None:
    """Run on a worker: build its external-memory matrices, train in the collective; rank 0's model."""
    from distributed import get_worker
    from xgboost import collective

    worker = get_worker()
    if worker.address != address:
        raise RuntimeError(
            f"the training task of worker {address} was moved to {worker.address}: a worker left "
            "the cluster while XGBoost was training"
        )
    params = {**params, "nthread": worker.state.nthreads}
    args = {**coll_args, "dmlc_task_id": f"credit-{rank:05d}"}
    error = ""
    with _cache_dir(Path(worker.local_directory)) as cache:
        try:
            with collective.CommunicatorContext(**args):
                booster = _train(
                    files, cache, params, num_boost_round, early_stopping_rounds, feature_names, feature_types
                )
                is_first = collective.get_rank() == 0
        except Exception as exc:  # reported below, once its frames (and matrices) are gone
            error = f"{type(exc).__name__}: {exc}"
        # Here the matrices are freed (they delete their cache pages) before the folder is removed.
    if error:
        raise RuntimeError(error)
    return booster if is_first else None


def _train(
    files: list[dict[str, tuple[Path, Path]]],
    cache: Path,
    params: dict[str, Any],
    num_boost_round: int,
    early_stopping_rounds: int,
    feature_names: list[str],
    feature_types: list[str],
) -> xgboost.Booster:
    """Build the share's external-memory matrices and train (inside the collective)."""
    dtrain, dvalid = _matrices(files, cache, params, feature_names, feature_types)
    return xgboost.train(
        params,
        dtrain,
        num_boost_round=num_boost_round,
        evals=[(dvalid, "valid")],
        early_stopping_rounds=early_stopping_rounds,
        verbose_eval=False,
    )


def _matrices(
    files: list[dict[str, tuple[Path, Path]]],
    cache: Path,
    params: dict[str, Any],
    feature_names: list[str],
    feature_types: list[str],
) -> tuple[xgboost.DMatrix, xgboost.DMatrix]:
    """The training matrix and the validation matrix (binned with the training cuts) of a share."""
    options = {
        "max_bin": params.get("max_bin"),
        "nthread": params["nthread"],
        "enable_categorical": True,
        "missing": np.nan,
    }
    train_it = FileBatches([f["train"] for f in files], cache / "train", feature_names, feature_types)
    dtrain = xgboost.ExtMemQuantileDMatrix(train_it, **options)
    valid_files = [f["valid"] for f in files if _rows(f["valid"][1])]
    if not valid_files:  # a share without validation rows: one empty batch keeps the collective in step
        valid_files = [_empty_batch(cache, len(feature_names))]
    valid_it = FileBatches(valid_files, cache / "valid", feature_names, feature_types)
    dvalid = xgboost.ExtMemQuantileDMatrix(valid_it, ref=dtrain, **options)
    return dtrain, dvalid


def _rows(labels: Path) -> int:
    return int(np.load(labels, mmap_mode="r").shape[0])


def _empty_batch(cache: Path, width: int) -> tuple[Path, Path]:
    x, y = cache / "empty-x.npy", cache / "empty-y.npy"
    np.save(x, np.empty((0, width), dtype=np.float32))
    np.save(y, np.empty(0, dtype=np.float32))
    return x, y


@contextlib.contextmanager
def _cache_dir(local: Path) -> Iterator[Path]:
    """A private folder on the worker's local disk for XGBoost's cache pages, removed afterwards."""
    local.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="credit-extmem-", dir=local))
    try:
        (folder / "train").mkdir()
        (folder / "valid").mkdir()
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
