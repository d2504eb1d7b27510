"""Fit and score on Dask: a LocalCluster, and a real `dask scheduler` + two `dask worker` processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from trainer.bundle import Bundle, load_bundle
from trainer.cli import app
from trainer.cluster import cluster_failures
from trainer.errors import UserError
from trainer.train import FitConfig, fit_bundle

pytest.importorskip("distributed")
runner = CliRunner()


def predict(model: Path, data: Path, out: Path, *extra: str) -> pd.DataFrame:
    args = ["predict", "--model", str(model), "--data", str(data), "--out", str(out), "--decisions", *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return pd.read_csv(out)


def test_predict_on_a_local_cluster_equals_one_machine(
    fitted_bundle: Bundle, synth_dir: Path, tmp_path: Path
) -> None:
    single = predict(fitted_bundle.path, synth_dir, tmp_path / "single.csv")
    spread = predict(fitted_bundle.path, synth_dir, tmp_path / "cluster.csv", "--cluster", "local:2")
    assert list(spread.columns) == list(single.columns)
    np.testing.assert_array_equal(spread["SK_ID_CURR"], single["SK_ID_CURR"])  # the clients file's order
    assert (spread["DECISION"] == single["DECISION"]).all()
    np.testing.assert_allclose(spread["TARGET"], single["TARGET"], rtol=0, atol=1e-6)
    assert not list(tmp_path.glob(".*stage*"))  # the staging folder is gone


def test_unreachable_scheduler_and_bad_local_spec_are_one_line(
    synth_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trainer import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", "2s")
    out = tmp_path / "model"
    for address, needle in (
        (f"tcp://127.0.0.1:{free_port()}", "Cannot reach the Dask scheduler"),
        ("local:x", "local:N"),
    ):
        args = [
            "fit",
            "--data",
            str(synth_dir),
            "--out",
            str(out),
            "--cluster",
            address,
            "--tracking-uri",
            "off",
        ]
        result = runner.invoke(app, args)
        assert result.exit_code == 1 and isinstance(result.exception, UserError), result.output
        message = str(result.exception)
        assert needle in message and "\n" not in message
        assert not out.exists()


def test_a_cluster_failure_is_one_sentence() -> None:
    from distributed.comm.core import CommClosedError

    with pytest.raises(UserError) as info, cluster_failures("tcp://10.0.0.1:8786", "training XGBoost"):
        raise CommClosedError(
            "in <TCP (closed) ConnectionPool.gather local=tcp://127.0.0.1:1>: Stream is closed"
        )
    message = str(info.value)
    assert "\n" not in message and "tcp://10.0.0.1:8786" in message and "nothing was written" in message


def assert_fairness_of_one_machine(spread: Bundle, single: Bundle, data_dir: Path) -> None:
    """The cluster bundle's fairness table is the one machine's computation on its validation clients.

    The one-machine side draws the same split, builds the features in one piece, predicts with the
    cluster's booster and calls :func:`trainer.fairness.fairness_table` on the raw application rows.
    """
    from trainer.config import DEFAULT_VALID_SHARE
    from trainer.fairness import fairness_groups, fairness_table, table_records
    from trainer.features import feature_matrix
    from trainer.model import stratified_split
    from trainer.train import read_training_data

    assert spread.manifest.fairness is not None and single.manifest.fairness is not None
    data = read_training_data(FitConfig(data_dir, spread.path.parent / "unused"))
    train = data.train
    y = train["TARGET"].to_numpy(dtype=np.int64)
    _, valid_pos = stratified_split(y, DEFAULT_VALID_SHARE, 3)
    x = feature_matrix(train, data.history, spread.spec)[valid_pos]
    pds = spread.booster.inplace_predict(x, validate_features=False)
    groups = fairness_groups(train.iloc[valid_pos].reset_index(drop=True))
    expected = table_records(fairness_table(groups, pds < spread.policy.threshold, y[valid_pos]))
    got = [vars(g) for g in spread.manifest.fairness.groups]
    assert [(g["dimension"], g["group"], g["clients"], g["approved"]) for g in got] == [
        (e["dimension"], e["group"], e["clients"], e["approved"]) for e in expected
    ]
    for g, e in zip(got, expected, strict=True):
        for key in ("approval_rate", "default_rate_approved", "approval_ratio"):
            assert g[key] == pytest.approx(e[key], abs=1e-6), (g, e)
    # Same validation clients as the one-machine fit: the same group sizes.
    assert [g.clients for g in single.manifest.fairness.groups] == [g["clients"] for g in got]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def loopback_cluster(tmp_path: Path) -> Iterator[str]:
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1, stopped afterwards."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).parent / "dask")  # the `dask` command of this environment
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=(logs / "scheduler.log").open("w"),
            env=env,
        )
    ]
    try:
        for i in range(2):
            processes.append(
                subprocess.Popen(
                    [dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard"],
                    stdout=subprocess.DEVNULL,
                    stderr=(logs / f"worker{i}.log").open("w"),
                    env=env,
                )
            )
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def test_real_scheduler_and_two_workers_match_one_machine(
    loopback_cluster: str, synth_dir: Path, tmp_path: Path
) -> None:
    # No row or column sampling: the two trainings then differ only by how the histograms are summed.
    params = {"subsample": 1.0, "colsample_bytree": 1.0}
    (tmp_path / "params.json").write_text(json.dumps(params))
    single = fit_bundle(FitConfig(synth_dir, tmp_path / "single", seed=3, num_boost_round=80, params=params))
    args = ["fit", "--data", str(synth_dir), "--out", str(tmp_path / "spread"), "--seed", "3"]
    args += ["--max-rounds", "80", "--params", str(tmp_path / "params.json"), "--tracking-uri", "off"]
    result = runner.invoke(app, [*args, "--cluster", loopback_cluster])
    assert result.exit_code == 0, result.output
    spread = load_bundle(tmp_path / "spread")
    assert spread.spec == single.spec  # same features, same category levels
    assert spread.manifest.training_data.n_valid == single.manifest.training_data.n_valid
    assert spread.manifest.training_data.fingerprint == single.manifest.training_data.fingerprint
    auc_single = single.manifest.validation.roc_auc
    auc_spread = spread.manifest.validation.roc_auc
    assert abs(auc_spread - auc_single) <= 0.005, (auc_single, auc_spread)
    assert_fairness_of_one_machine(spread, single, synth_dir)

    local = predict(spread.path, synth_dir, tmp_path / "local.csv")
    remote = predict(spread.path, synth_dir, tmp_path / "remote.csv", "--cluster", loopback_cluster)
    np.testing.assert_array_equal(remote["SK_ID_CURR"], local["SK_ID_CURR"])
    assert (remote["DECISION"] == local["DECISION"]).mean() >= 0.99
    np.testing.assert_allclose(remote["TARGET"], local["TARGET"], rtol=0, atol=1e-6)
    # the single-machine result: the model fitted on one machine, scored on one machine
    alone = predict(single.path, synth_dir, tmp_path / "alone.csv")
    np.testing.assert_array_equal(alone["SK_ID_CURR"], remote["SK_ID_CURR"])
    assert (alone["DECISION"] == remote["DECISION"]).mean() >= 0.99
    np.testing.assert_allclose(alone["TARGET"], remote["TARGET"], rtol=0, atol=1e-3)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_the_memory_sampler_sees_a_short_peak_of_the_heap() -> None:
    from trainer.cluster import _sampler_start, _sampler_stop, memory_parts

    before = memory_parts()["anon"]
    _sampler_start()
    block = np.ones(300 * 1024**2 // 8)  # 300 MB of heap, held for a few samples then freed
    time.sleep(0.5)
    del block
    peaks = _sampler_stop()
    assert peaks["anon"] - before >= 250 * 1024**2
    assert peaks["total"] >= peaks["anon"] > memory_parts()["anon"] + 200 * 1024**2
    assert _sampler_stop() == {"anon": 0, "file": 0, "total": 0}  # stopped: nothing left running


def test_partitions_keep_their_size_as_the_data_grows() -> None:
    from trainer.cluster import PARTITION_CLIENTS, partition_count

    for clients in (300_000, 1_000_000, 3_000_000):
        count = partition_count(clients, workers=2)
        assert count == clients // PARTITION_CLIENTS  # more partitions, not bigger ones
    assert partition_count(10_000, workers=2) == 4  # at least 2 per worker
    assert partition_count(3_000_000, workers=2, requested=7) == 7


def test_training_shares_are_balanced_by_rows_and_never_empty() -> None:
    from trainer.extmem import assign_partitions

    rows = [40_000, 39_000, 41_000, 0, 38_000, 40_500, 1_000]
    shares = assign_partitions(rows, 2)
    assert sorted(p for share in shares for p in share) == [0, 1, 2, 4, 5, 6]  # each once, the empty one out
    totals = [sum(rows[p] for p in share) for share in shares]
    assert max(totals) - min(totals) <= max(rows)  # no worker holds more than one partition extra
    assert assign_partitions([5, 0, 0], 4) == [[0]]  # workers without rows are not part of the training
    assert assign_partitions([3, 2], 1) == [[0, 1]]
