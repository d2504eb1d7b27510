"""Unit tests of the numpy query behind the client list and of the PD range parser."""

from __future__ import annotations

import numpy as np
import pytest

from credit_tui.client_index import ClientColumns, Query
from credit_tui.screens.dialogs import parse_pd_range


def make_columns() -> ClientColumns:
    ids = np.array([100001, 100012, 100120, 200001, 100002, 300000], dtype=np.int64)
    columns = ClientColumns(
        ids=ids,
        contract_codes=np.array([0, 1, 0, 0, -1, 1], dtype=np.int64),
        contract_levels=("Cash loans", "Revolving loans"),
        credit=np.array([5.0, 1.0, np.nan, 3.0, 2.0, 4.0]),
        annuity=np.ones(6),
        income=np.ones(6),
        age=np.arange(6, dtype=np.float64),
    )
    return columns


def ids(columns: ClientColumns, query: Query) -> list[int]:
    return [int(columns.ids[i]) for i in columns.select(query)]


def test_default_query_sorts_by_id() -> None:
    columns = make_columns()
    assert ids(columns, Query()) == sorted(columns.ids.tolist())


def test_prefix_search_matches_string_prefixes() -> None:
    columns = make_columns()
    assert ids(columns, Query(prefix="1000")) == [100001, 100002, 100012]
    assert ids(columns, Query(prefix="100012")) == [100012]
    assert ids(columns, Query(prefix="9")) == []
    assert ids(columns, Query(prefix="")) == sorted(columns.ids.tolist())


def test_prefix_search_keeps_the_sort_order() -> None:
    columns = make_columns()
    assert ids(columns, Query(prefix="1", sort="credit", descending=True)) == [100001, 100002, 100012, 100120]


def test_missing_values_sort_last_both_ways() -> None:
    columns = make_columns()
    ascending = ids(columns, Query(sort="credit"))
    descending = ids(columns, Query(sort="credit", descending=True))
    assert ascending[-1] == 100120
    assert descending[-1] == 100120
    assert ascending[:-1] == list(reversed(descending[:-1]))


def test_scores_pending_then_filters_by_decision_and_pd() -> None:
    columns = make_columns()
    assert ids(columns, Query(decision="REFUSE")) == []
    columns.set_scores(0, np.array([0.1, 0.5, 0.02, 0.3, 0.9, 0.05]), np.array(["ACCEPT", "REFUSE"] * 3))
    assert ids(columns, Query(decision="REFUSE")) == [100012, 200001, 300000]
    assert ids(columns, Query(pd_range=(0.04, 0.3))) == [100001, 200001, 300000]
    assert ids(columns, Query(sort="pd", descending=True))[:2] == [100002, 100012]


def test_contract_filter_and_unknown_level() -> None:
    columns = make_columns()
    assert ids(columns, Query(contract="Revolving loans")) == [100012, 300000]
    assert ids(columns, Query(contract="Mortgage")) == []


def test_position_of_unknown_id_is_none() -> None:
    columns = make_columns()
    assert columns.position(100120) == 2
    assert columns.position(np.int64(100120)) == 2
    assert columns.position(1) is None
    assert columns.position(2**70) is None and columns.position(-(2**70)) is None  # beyond int64: no match
    assert [columns.position(int(i)) for i in columns.ids] == list(range(len(columns)))


def test_large_prefix_query_is_fast() -> None:

    n = 356_255
    rng = np.random.default_rng(0)
    columns = ClientColumns(
        ids=np.arange(100_000, 100_000 + n, dtype=np.int64),
        contract_codes=rng.integers(0, 2, n),
        contract_levels=("Cash loans", "Revolving loans"),
        credit=rng.random(n),
        annuity=rng.random(n),
        income=rng.random(n),
        age=rng.random(n),
    )
    columns.set_scores(0, rng.random(n), rng.choice(np.array(["ACCEPT", "REFUSE"]), n))
    query = Query(decision="REFUSE", sort="pd", descending=True)
    columns.select(query)  # builds the cached order and mask
    for prefix in ("1", "12", "123", "1234", "12345"):
        result = columns.select(Query(prefix=prefix, decision="REFUSE", sort="pd", descending=True))
        assert all(str(columns.ids[i]).startswith(prefix) for i in result[:50])
    # Its speed at 356,255 clients is measured by bench/bench_tui.py, not asserted here.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10-30", (0.1, 0.3)),
        ("0.5-1", (0.005, 0.01)),  # always percent: 0.5 % to 1 %, never 50-100 %
        ("30-10", (0.1, 0.3)),  # a reversed range is swapped
        (" 5 % - 7.5 % ", (0.05, 0.075)),
        ("", None),
    ],
)
def test_parse_pd_range(text: str, expected: tuple[float, float] | None) -> None:
    result = parse_pd_range(text)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "fragment"), [("abc", "range like"), ("10", "range like"), ("5-200", "0 to 100")]
)
def test_parse_pd_range_rejects(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment) as caught:
        parse_pd_range(text)
    assert "\n" not in str(caught.value)  # one line
