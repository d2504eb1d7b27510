"""The history cache gives the same features as aggregating afresh, and rebuilds whenever it must."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from trainer import history_cache
from trainer.history_cache import build_history as build
from trainer.portfolio import Portfolio, aggregate_history_beside
from trainer.table_files import history_files


@pytest.fixture
def data(synth_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(synth_dir, folder)
    monkeypatch.setattr(history_cache, "user_cache_dir", lambda: tmp_path / "cache")
    return folder


def cached_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").glob("history_features.*.arrow"))


def test_cached_history_equals_fresh_aggregation(data: Path, tmp_path: Path) -> None:
    fresh = Portfolio.load(data / "application_test.csv")
    first = Portfolio.load(data / "application_test.csv", cache=True)
    assert len(cached_files(tmp_path)) == 1
    second = Portfolio.load(data / "application_test.csv", cache=True)
    assert fresh.history is not None
    pd.testing.assert_frame_equal(first.history, fresh.history)
    pd.testing.assert_frame_equal(second.history, fresh.history)


def test_second_load_reads_the_cache(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Portfolio.load(data / "application_test.csv", cache=True)

    def no_rebuild(paths: object) -> pd.DataFrame:
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(history_cache, "build_history", no_rebuild)
    assert Portfolio.load(data / "application_test.csv", cache=True).history is not None


def test_a_changed_table_rebuilds(data: Path, tmp_path: Path) -> None:
    before = Portfolio.load(data / "application_test.csv", cache=True).history
    lines = (data / "previous_application.csv").read_text().splitlines()
    (data / "previous_application.csv").write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    after = Portfolio.load(data / "application_test.csv", cache=True).history
    assert len(cached_files(tmp_path)) == 2
    assert before is not None and after is not None
    assert not before["PREV_COUNT"].equals(after["PREV_COUNT"])


def test_a_damaged_cache_is_rebuilt(data: Path, tmp_path: Path) -> None:
    fresh = Portfolio.load(data / "application_test.csv").history
    Portfolio.load(data / "application_test.csv", cache=True)
    cached_files(tmp_path)[0].write_bytes(b"not parquet")
    again = Portfolio.load(data / "application_test.csv", cache=True).history
    assert again is not None and fresh is not None
    pd.testing.assert_frame_equal(again, fresh)


def test_an_unwritable_cache_folder_is_not_an_error(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    monkeypatch.setattr(history_cache, "user_cache_dir", lambda: blocker / "cache")
    portfolio = Portfolio.load(data / "application_test.csv", cache=True)
    assert portfolio.history is not None and len(portfolio.history) == len(portfolio)


def test_large_builds_run_in_a_child_process(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_cache, "ISOLATE_ABOVE", 0)
    fresh = Portfolio.load(data / "application_test.csv").history
    isolated = Portfolio.load(data / "application_test.csv", cache=True).history
    assert isolated is not None and fresh is not None
    pd.testing.assert_frame_equal(isolated, fresh)
    assert len(cached_files(tmp_path)) == 1


def test_a_cache_beside_the_clients_is_ignored(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Portfolio.load(data / "application_test.csv", cache=True)
    shutil.move(cached_files(tmp_path)[0], data)  # a cache "planted" beside the clients file
    rebuilt: list[object] = []
    monkeypatch.setattr(history_cache, "build_history", lambda paths: rebuilt.append(paths) or build(paths))
    assert Portfolio.load(data / "application_test.csv", cache=True).history is not None
    assert len(rebuilt) == 1 and len(cached_files(tmp_path)) == 1  # built again, into the user cache


def test_applications_first_then_history_equals_a_full_load(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    monkeypatch.setattr(history_cache, "build_history", lambda paths: reads.append("history") or build(paths))
    tables = ["bureau", "previous_application"]
    full = Portfolio.load(data / "application_test.csv", tables=tables)
    rows = Portfolio.load_applications(data / "application_test.csv")
    assert reads == [] and rows.history is None and rows.history_tables == ()
    pd.testing.assert_frame_equal(rows.applications, full.applications)
    assert rows.record(int(full.client_ids[0])) == full.record(int(full.client_ids[0]))
    later = rows.with_history(tables=tables, cache=True)
    assert reads == ["history"]
    assert later.history_tables == full.history_tables == ("bureau", "previous_application")
    assert later.applications is rows.applications and rows.history is None
    assert later.history is not None and full.history is not None
    pd.testing.assert_frame_equal(later.history, full.history)


def test_with_history_reports_a_broken_history_table(data: Path) -> None:
    from trainer.errors import DataError

    rows = Portfolio.load_applications(data / "application_test.csv")
    (data / "bureau.csv").write_text("SK_ID_CURR,SK_ID_BUREAU\n1,2\n")
    with pytest.raises(DataError, match="bureau"):
        rows.with_history(cache=True)


def test_a_first_build_hashes_the_files_beside_the_aggregation(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_cache, "CONTENT_HASH_LIMIT", 0)  # every file's digest is remembered
    paths = {name: data / f"{name}.csv" for name in ("bureau", "previous_application")}
    folder = tmp_path / "cache"
    assert history_cache.known_cache_key(paths, folder) is None  # never hashed: no cache can exist yet
    key = history_cache.build_and_write(paths, folder)
    assert key == history_cache.cache_key(paths, folder) == history_cache.known_cache_key(paths, folder)
    cached = history_cache.read_history(folder / f"history_features.{key}.arrow", paths)
    pd.testing.assert_frame_equal(cached, build(paths))
    (data / "bureau.csv").write_text((data / "bureau.csv").read_text() + "\n")  # new size: hash again
    assert history_cache.known_cache_key(paths, folder) is None


def test_the_child_never_imports_code_from_the_current_folder(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = tmp_path / "cwd" / "trainer"
    planted.mkdir(parents=True)
    marker = tmp_path / "imported"
    (planted / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(planted.parent)  # the advisor started the app from a folder holding "trainer/"
    paths = {name: data / f"{name}.csv" for name in ("bureau", "previous_application")}
    built = history_cache._build_in_child(paths, tmp_path / "cache")
    assert built is not None and built.is_file() and not marker.exists()


def test_a_build_started_before_the_imports_is_the_one_used(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_cache, "ISOLATE_ABOVE", 0)
    monkeypatch.setattr(history_cache, "CONTENT_HASH_LIMIT", 0)  # every file counts as large: never hashed
    fresh = Portfolio.load(data / "application_test.csv").history
    started = history_cache.start_cold_build(history_files(data))
    assert started is not None
    monkeypatch.setattr(history_cache, "_start_child", lambda *args: pytest.fail("a second build started"))
    monkeypatch.setattr(history_cache, "build_history", lambda paths: pytest.fail("built in the app"))
    rows = Portfolio.load_applications(data / "application_test.csv")
    loaded = rows.with_aggregates(aggregate_history_beside(data, cache=True, started=started))
    assert loaded.history is not None and fresh is not None
    pd.testing.assert_frame_equal(loaded.history, fresh)
    assert len(cached_files(tmp_path)) == 1
    # the files' digests are known now: a cache may exist, so nothing starts before the imports
    assert history_cache.start_cold_build(history_files(data)) is None


def test_a_build_started_early_on_a_broken_table_ends_in_the_clear_error(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trainer.errors import DataError

    monkeypatch.setattr(history_cache, "ISOLATE_ABOVE", 0)
    monkeypatch.setattr(history_cache, "CONTENT_HASH_LIMIT", 0)
    (data / "bureau.csv").write_text("SK_ID_CURR,SK_ID_BUREAU\n1,2\n")
    started = history_cache.start_cold_build(history_files(data))
    assert started is not None
    with pytest.raises(DataError, match="bureau"):
        aggregate_history_beside(data, cache=True, started=started)
