"""Exact TreeSHAP for one client in a few numpy operations, from tables precomputed for the model.

XGBoost's ``pred_contribs`` runs the TreeSHAP recursion for every call (and builds a DMatrix first);
for one client that costs more than everything else the advisor app does. This module precomputes
the answer instead ("Fast TreeSHAP v2", Yang 2021, with leaves grouped by subtree):

- For a leaf, the path-dependent TreeSHAP share of each feature on its path depends only on which of
  the path's features the client satisfies (a bit per feature), so it can be tabulated per bit pattern:
  ``phi_u = v * (o_u - z_u) * sum_S w(|S|, d) * prod_{k in S} o_k * prod_{k not in S, k != u} z_k``
  (``v`` the leaf value, ``z`` the cover fractions, ``o`` the client's bits, ``d`` the unique features).
- The leaves under one small subtree are summed into one table indexed by the outcomes (left or right)
  of the subtree's ancestors and inner nodes: at most :data:`GROUP_BITS` bits, 2**bits rows.
- Explaining a row is then: every split's outcome at once (numpy comparisons; missing values follow
  the default direction, native categorical splits through a lookup per category), a bit pattern per
  group, one row of each group's table, and ``np.bincount`` by feature.

The margin is exact, not approximated: each group's table also holds the value of the leaf the client
reaches (zero elsewhere), and those values are added in float32 in tree order starting from the base
margin, as XGBoost's predictor does; the PD is XGBoost's own float32 sigmoid. A self-check at build
time compares margins, PDs and contributions with XGBoost on probe rows and refuses the tables when
anything differs (the caller then keeps XGBoost's ``pred_contribs``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import xgboost as xgb

__all__ = ["GROUP_BITS", "MAX_TABLE_BYTES", "TreeShapTables", "xgboost_sigmoid"]

#: Bits (split outcomes) a group table is indexed by: 2**GROUP_BITS rows per group (a leaf deeper than
#: this is its own group, indexed by its ancestors).
GROUP_BITS = 6
#: Tables larger than this are not built (deep trees): the caller keeps XGBoost's ``pred_contribs``.
MAX_TABLE_BYTES = 256 * 1024 * 1024
#: Leaves whose tables are summed into their groups' in one numpy pass (bounds the build's memory).
_CHUNK = 4096
#: XGBoost's largest valid category code (``OutOfRangeCat``): codes from here on go left.
_MAX_CAT = 16_777_216

_F32 = np.float32


@cache
def _c_math() -> tuple[Any, Any] | None:
    """The C library's float ``expf`` and ``logf`` (what XGBoost calls), or None when not found.

    Loaded on first use, by its usual name first: ``ctypes.util.find_library`` runs ``ldconfig``.
    """
    for name in ("libm.so.6", "libm.dylib", ctypes.util.find_library("m")):
        if name is None:
            continue
        try:
            libm = ctypes.CDLL(name)
            functions = libm.expf, libm.logf
        except (OSError, AttributeError):
            continue
        for function in functions:
            function.restype = ctypes.c_float
            function.argtypes = [ctypes.c_float]
        return functions
    return None


def xgboost_sigmoid(margin: np.float32) -> np.float32:
    """XGBoost's float32 sigmoid (``common::Sigmoid``), operation by operation, with the C library's expf."""
    functions = _c_math()
    assert functions is not None  # tables are only built when the C library's functions are found
    x = min(-float(margin), 88.7)
    denom = _F32(functions[0](_F32(x))) + _F32(1.0)
    denom = denom + _F32(1e-16)
    return _F32(1.0) / denom


def _logistic_base_margin(base_score: float) -> np.float32:
    """XGBoost's ``ProbToMargin`` for binary:logistic: ``-logf(1/p - 1)`` in float32."""
    p = _F32(base_score)
    functions = _c_math()
    assert functions is not None
    return _F32(-_F32(functions[1](_F32(_F32(1.0) / p) - _F32(1.0))))


Floats = np.ndarray[Any, np.dtype[np.float64]]
Indexes = np.ndarray[Any, np.dtype[np.intp]]


@dataclass
class _Leaf:
    """One leaf's path, root first: each split's group bit, wanted outcome, feature and cover fraction."""

    value: float
    bits: list[int]
    left: list[bool]
    features: list[int]
    fractions: list[float]


@dataclass
class _Group:
    """A subtree's leaves sharing one table, and the global inner-node index behind each of its bits."""

    nodes: list[int]
    leaves: list[_Leaf]


class TreeShapTables:
    """Precomputed exact TreeSHAP of a binary:logistic XGBoost model, for one row at a time.

    Build with :meth:`build` (returns None for a model it does not cover); then :meth:`explain` a
    float32 row. Read-only after construction: safe to share between threads.
    """

    def __init__(
        self,
        n_features: int,
        base_margin: np.float32,
        base_value: float,
        node_col: np.ndarray[Any, np.dtype[np.intp]],
        node_threshold: np.ndarray[Any, np.dtype[np.float32]],
        categorical: list[
            tuple[int, np.ndarray[Any, np.dtype[np.intp]], np.ndarray[Any, np.dtype[np.bool_]]]
        ],
        group_nodes: np.ndarray[Any, np.dtype[np.intp]],
        group_offset: np.ndarray[Any, np.dtype[np.intp]],
        group_columns: np.ndarray[Any, np.dtype[np.intp]],
        table: np.ndarray[Any, np.dtype[np.float32]],
    ) -> None:
        self.n_features = n_features
        self.base_margin = base_margin
        #: Expected log-odds over the training data (the SHAP base value).
        self.base_value = base_value
        self._node_col = node_col
        self._node_threshold = node_threshold
        self._n_nodes = len(node_threshold)
        self._categorical = categorical
        self._group_nodes = group_nodes
        self._group_offset = group_offset
        self._group_columns = group_columns
        self._table = table

    @property
    def nbytes(self) -> int:
        """Memory held by the tables and indexes."""
        arrays: list[np.ndarray[Any, Any]] = [self._node_col, self._node_threshold, self._table]
        arrays += [self._group_nodes, self._group_offset, self._group_columns]
        arrays += [t for _, _, t in self._categorical]
        return sum(a.nbytes for a in arrays)

    @classmethod
    def build(cls, booster: xgb.Booster, group_bits: int = GROUP_BITS) -> TreeShapTables | None:
        """Precompute the tables of ``booster``, or None when it is not a model they cover exactly.

        Covered: gbtree, binary:logistic, one output, numeric and native categorical splits, tables
        within :data:`MAX_TABLE_BYTES`. The result has passed :meth:`self_check`.
        """
        # The parsed model is hundreds of thousands of small objects: the cyclic garbage collector
        # would walk them over and over while the tables are built (about 40 % of the build time).
        paused = gc.isenabled()
        gc.disable()
        try:
            return cls._build(booster, group_bits)
        finally:
            if paused:
                gc.enable()

    @classmethod
    def _build(cls, booster: xgb.Booster, group_bits: int) -> TreeShapTables | None:
        model = json.loads(bytes(booster.save_raw("json")))["learner"]
        if _c_math() is None:  # without them the PD could differ from XGBoost's
            return None
        booster_model = model["gradient_booster"]
        params = model["learner_model_param"]
        if (
            booster_model.get("name") != "gbtree"
            or model["objective"]["name"] != "binary:logistic"
            or int(params.get("num_target", "1")) != 1
            or int(params.get("num_class", "0")) > 1
        ):
            return None
        trees = booster_model["model"]["trees"]
        if any(int(t["tree_param"].get("size_leaf_vector", "1")) > 1 for t in trees):
            return None
        base_score = float(
            json.loads(params["base_score"])[0] if "[" in params["base_score"] else params["base_score"]
        )
        n_features = int(params["num_feature"])
        tables = _compile(trees, n_features, _logistic_base_margin(base_score), group_bits)
        if tables is None or not tables.self_check(booster):
            return None
        return tables

    def explain(
        self, row: np.ndarray[Any, np.dtype[np.float32]]
    ) -> tuple[np.float32, np.ndarray[Any, np.dtype[np.float64]]]:
        """The margin (float32, as XGBoost computes it) and each feature's contribution (log-odds).

        Args:
            row: One client's model input, float32, shape (n_features,); NaN is missing. Infinite
                values are not allowed (the callers refuse them first).
        """
        n = self.n_features
        extended = np.empty(2 * n, dtype=np.float32)
        extended[n:] = row
        # Missing values follow each split's default direction: -inf goes left of every threshold
        # (default left), NaN goes right of every threshold (default right).
        np.copyto(extended[:n], row)
        extended[:n][np.isnan(row)] = -np.inf
        left = np.empty(self._n_nodes + 1, dtype=bool)
        np.less(extended[self._node_col], self._node_threshold, out=left[:-1])
        left[-1] = False  # the padding bit
        for feature, nodes, decisions in self._categorical:
            left[nodes] = decisions[_category_row(float(row[feature]), len(decisions) - 2)]
        bits = left[self._group_nodes]
        pattern = np.packbits(bits, axis=1, bitorder="little")
        if pattern.shape[1] == 1:
            index = self._group_offset + pattern[:, 0]
        else:
            index = self._group_offset + pattern.view("<u2")[:, 0]
        values = self._table[index]
        sums = np.bincount(self._group_columns, weights=values.ravel(), minlength=n + 1)
        reached = np.empty(len(values) + 1, dtype=np.float32)
        reached[0] = self.base_margin
        reached[1:] = values[:, -1]
        margin = np.cumsum(reached)[-1]  # sequential float32 sum, in tree order, like XGBoost
        return _F32(margin), np.asarray(sums[:n], dtype=np.float64)

    def self_check(self, booster: xgb.Booster, rows: np.ndarray[Any, Any] | None = None) -> bool:
        """Whether margins and PDs equal XGBoost's exactly and contributions within 1e-5 on ``rows``.

        Without ``rows``, eight probe rows: values at and just below the model's own thresholds,
        missing values, and known and unseen category codes.
        """
        if rows is None:
            rows = self._probe_rows()
        matrix = xgb.DMatrix(rows, nthread=1)
        margins = booster.predict(matrix, output_margin=True, validate_features=False)
        pds = booster.predict(matrix, validate_features=False)
        contribs = booster.predict(matrix, pred_contribs=True, validate_features=False)
        for i, row in enumerate(rows):
            margin, shares = self.explain(row)
            if margin != margins[i] or xgboost_sigmoid(margin) != pds[i]:
                return False
            if not np.allclose(shares, contribs[i, :-1], rtol=0, atol=1e-5):
                return False
            if abs(self.base_value - float(contribs[i, -1])) > 1e-5:
                return False
        return True

    def _probe_rows(self) -> np.ndarray[Any, np.dtype[np.float32]]:
        rng = np.random.default_rng(0)
        n = self.n_features
        thresholds = self._node_threshold
        cols = self._node_col % n
        rows = np.full((8, n), np.nan, dtype=np.float32)
        for r in range(1, 8):
            for j in range(n):
                at = thresholds[cols == j]
                if len(at):
                    pick = at[rng.integers(len(at))]
                    rows[r, j] = pick if r % 2 else np.nextafter(pick, -np.inf, dtype=np.float32)
            rows[r, rng.random(n) < 0.2 * (r % 4)] = np.nan
        for feature, _, decisions in self._categorical:
            rows[1:, feature] = rng.integers(0, len(decisions) - 1, size=7)
        return rows


def _category_row(value: float, n_codes: int) -> int:
    """Row of a categorical split's decision table for ``value``: missing, a code, or out of range."""
    if value != value:
        return n_codes  # missing: the default direction
    if value < 0 or value >= _MAX_CAT or int(value) >= n_codes:
        return n_codes + 1  # not in any split's set: left
    return int(value)


def _compile(
    trees: list[dict[str, Any]], n_features: int, base_margin: np.float32, group_bits: int
) -> TreeShapTables | None:
    """Turn parsed trees into tables (None when they would exceed :data:`MAX_TABLE_BYTES`)."""
    node_col: list[int] = []
    node_threshold: list[float] = []
    category_nodes: dict[int, list[tuple[int, bool, set[int]]]] = {}
    groups: list[_Group] = []
    base_value = float(base_margin)
    for tree in trees:
        left_child = tree["left_children"]
        feature = tree["split_indices"]
        condition = tree["split_conditions"]
        default_left = tree["default_left"]
        split_type = tree["split_type"]
        categories = tree["categories"]
        segments = dict(
            zip(
                tree["categories_nodes"],
                zip(tree["categories_segments"], tree["categories_sizes"], strict=True),
                strict=True,
            )
        )
        inner: dict[int, int] = {}  # tree node -> global inner-node index (its outcome's position)
        for node, child in enumerate(left_child):
            if child == -1:
                continue
            inner[node] = len(node_col)
            f = feature[node]
            node_col.append(f if default_left[node] else n_features + f)
            if split_type[node] == 0:
                node_threshold.append(condition[node])
            else:
                start, size = segments[node]
                members = set(categories[start : start + size])
                category_nodes.setdefault(f, []).append((inner[node], bool(default_left[node]), members))
                node_threshold.append(0.0)
        base_value += _mean_value(tree)
        groups += _tree_groups(tree, inner, group_bits)
    widest = max(len(g.nodes) for g in groups)
    columns = max(len({f for leaf in g.leaves for f in leaf.features}) for g in groups) + 1
    rows = sum(1 << len(g.nodes) for g in groups)
    if rows * columns * 4 > MAX_TABLE_BYTES or widest > 16:
        return None
    table, group_columns, offsets = _tables(groups, columns, n_features)
    pad = len(node_col)
    group_nodes = np.full((len(groups), 8 if widest <= 8 else 16), pad, dtype=np.intp)
    for i, g in enumerate(groups):
        group_nodes[i, : len(g.nodes)] = g.nodes
    categorical = []
    for f, nodes in sorted(category_nodes.items()):
        n_codes = max((max(c) + 1 for _, _, c in nodes if c), default=1)
        decisions = np.ones((n_codes + 2, len(nodes)), dtype=bool)
        for k, (_, default, members) in enumerate(nodes):
            for code in members:
                decisions[code, k] = False  # in the set: right
            decisions[n_codes, k] = default
        categorical.append((f, np.array([i for i, _, _ in nodes], dtype=np.intp), decisions))
    return TreeShapTables(
        n_features=n_features,
        base_margin=base_margin,
        base_value=base_value,
        node_col=np.array(node_col, dtype=np.intp),
        node_threshold=np.array(node_threshold, dtype=np.float32),
        categorical=categorical,
        group_nodes=group_nodes,
        group_offset=offsets,
        group_columns=group_columns,
        table=table,
    )


def _mean_value(tree: dict[str, Any]) -> float:
    """Cover-weighted mean of the tree's leaves (its expected value; children follow their parent)."""
    left, right = tree["left_children"], tree["right_children"]
    value, cover = tree["split_conditions"], tree["sum_hessian"]
    mean = [0.0] * len(left)
    for node in range(len(left) - 1, -1, -1):
        a = left[node]
        if a == -1:
            mean[node] = float(_F32(value[node]))
        else:
            b = right[node]
            mean[node] = (mean[a] * cover[a] + mean[b] * cover[b]) / cover[node]
    return mean[0]


def _tree_groups(tree: dict[str, Any], inner: dict[int, int], group_bits: int) -> list[_Group]:
    """Split a tree into groups, each leaf with its whole path from the root.

    A group is a subtree whose ancestors plus inner nodes fit in ``group_bits`` bits, or a lone leaf.
    """
    left_child, right_child = tree["left_children"], tree["right_children"]
    feature, cover, value = tree["split_indices"], tree["sum_hessian"], tree["split_conditions"]
    size = [0] * len(left_child)  # inner nodes under each node (children have larger indexes)
    for node in range(len(left_child) - 1, -1, -1):
        if left_child[node] != -1:
            size[node] = 1 + size[left_child[node]] + size[right_child[node]]
    groups: list[_Group] = []
    # (node, path of (ancestor, went left), the group's bit of each tree node or None above groups)
    walk: list[tuple[int, tuple[tuple[int, bool], ...], dict[int, int] | None, _Group | None]]
    walk = [(0, (), None, None)]
    while walk:
        node, path, bit_of, group = walk.pop()
        is_leaf = left_child[node] == -1
        if group is None and (is_leaf or len(path) + size[node] <= group_bits):
            group = _Group(nodes=[inner[p] for p, _ in path], leaves=[])
            bit_of = {p: b for b, (p, _) in enumerate(path)}
            groups.append(group)
        if is_leaf:
            assert group is not None and bit_of is not None
            nodes = [p for p, _ in path]
            children = [*nodes[1:], node]
            group.leaves.append(
                _Leaf(
                    value=float(_F32(value[node])),
                    bits=[bit_of[p] for p in nodes],
                    left=[went_left for _, went_left in path],
                    features=[feature[p] for p in nodes],
                    fractions=[cover[c] / cover[p] for p, c in zip(nodes, children, strict=True)],
                )
            )
            continue
        if group is not None and bit_of is not None:
            bit_of[node] = len(group.nodes)
            group.nodes.append(inner[node])
        walk.append((right_child[node], (*path, (node, False)), bit_of, group))
        walk.append((left_child[node], (*path, (node, True)), bit_of, group))
    return groups


def _shapley_weights(d: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """``w(s, d) = s! (d - s - 1)! / d!`` for s in 0..d-1."""
    return np.array([math.factorial(s) * math.factorial(d - s - 1) / math.factorial(d) for s in range(d)])


def _subset_weights(d: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Matrix ``M`` with ``A[q, u] = sum_T zprod[T] * M[T, q, u]`` for paths of ``d`` unique features.

    ``A[q, u]`` is the sum over subsets S of the satisfied features of ``q`` other than u of
    ``w(|S|, d) * prod_{k not in S, k != u} z_k``; the product runs over T = the other features minus S,
    which holds all unsatisfied features Z and part of the satisfied ones U.
    """
    w = _shapley_weights(d)
    full = (1 << d) - 1
    m = np.zeros((1 << d, 1 << d, d))
    for q in range(1 << d):
        for u in range(d):
            others = full & ~(1 << u)
            ones = q & others
            zeros = others & ~q
            n_ones = bin(ones).count("1")
            sub = ones
            while True:  # every subset of the satisfied features, as U minus S
                t = zeros | sub
                m[t, q, u] = w[n_ones - bin(sub).count("1")]
                if sub == 0:
                    break
                sub = (sub - 1) & ones
    return m.reshape(1 << d, (1 << d) * d)


def _leaf_shares(d: int, z: Floats, value: Floats) -> Floats:
    """Share tables of leaves with ``d`` unique path features: shape (leaves, 2**d patterns, d).

    ``phi_u(q) = v * (o_u - z_u) * A_u(q)`` with ``o_u`` bit u of the pattern ``q``.
    """
    zprod = np.ones((len(z), 1 << d))
    for t in range(1, 1 << d):
        low = (t & -t).bit_length() - 1
        zprod[:, t] = zprod[:, t & (t - 1)] * z[:, low]
    a = (zprod @ _subset_weights(d)).reshape(len(z), 1 << d, d)
    o = ((np.arange(1 << d)[:, None] >> np.arange(d)[None, :]) & 1).astype(np.float64)
    return value[:, None, None] * (o[None, :, :] - z[:, None, :]) * a


def _tables(
    groups: list[_Group], columns: int, n_features: int
) -> tuple[
    np.ndarray[Any, np.dtype[np.float32]],
    np.ndarray[Any, np.dtype[np.intp]],
    np.ndarray[Any, np.dtype[np.intp]],
]:
    """Every group's table (rows: bit patterns; columns: features, then the reached leaf's value)."""
    leaves = [leaf for g in groups for leaf in g.leaves]
    depth = max(len(leaf.bits) for leaf in leaves)
    n_leaves = len(leaves)
    group_columns = np.full((len(groups), columns), n_features, dtype=np.intp)
    bits = np.full((n_leaves, max(depth, 1)), -1, dtype=np.intp)
    want = np.zeros((n_leaves, max(depth, 1)), dtype=np.intp)
    slot = np.full((n_leaves, max(depth, 1)), -1, dtype=np.intp)
    column = np.full((n_leaves, depth + 1), columns - 1, dtype=np.intp)  # last: the leaf value
    leaf_group = np.zeros(n_leaves, dtype=np.intp)
    z_rows: list[list[float]] = []  # per leaf: the cover fraction of each unique feature
    d_of = np.zeros(n_leaves, dtype=np.intp)
    i = 0
    for g_index, g in enumerate(groups):
        features: list[int] = []
        for leaf in g.leaves:
            unique: list[int] = []
            for f in leaf.features:
                if f not in unique:
                    unique.append(f)
                if f not in features:
                    features.append(f)
            z = [1.0] * len(unique)
            for k, (f, fraction) in enumerate(zip(leaf.features, leaf.fractions, strict=True)):
                s = unique.index(f)
                z[s] *= fraction
                slot[i, k] = s
            bits[i, : len(leaf.bits)] = leaf.bits
            want[i, : len(leaf.left)] = leaf.left
            column[i, : len(unique)] = [features.index(f) for f in unique]
            leaf_group[i] = g_index
            z_rows.append(z)
            d_of[i] = len(unique)
            i += 1
        group_columns[g_index, : len(features)] = features
    values = np.array([leaf.value for leaf in leaves])
    # Share tables of every leaf, padded to `depth` columns, rows at share_offset + pattern.
    share_offset = np.zeros(n_leaves, dtype=np.intp)
    shares = np.zeros((int(sum(1 << int(d) for d in d_of)), depth + 1))
    offset = 0
    order = np.argsort(d_of, kind="stable")
    for d in np.unique(d_of):
        members = order[d_of[order] == d]
        fractions = np.array([z_rows[m] for m in members]).reshape(len(members), int(d))
        block = _leaf_shares(int(d), fractions, values[members])
        rows = offset + np.arange(len(members))[:, None] * (1 << int(d)) + np.arange(1 << int(d))[None, :]
        shares[rows, : int(d)] = block
        shares[rows[:, -1], depth] = values[members]  # the leaf is reached when every bit is satisfied
        share_offset[members] = rows[:, 0]
        offset += len(members) << int(d)
    nbits = np.array([len(g.nodes) for g in groups], dtype=np.intp)
    offsets = np.zeros(len(groups), dtype=np.intp)
    offsets[1:] = np.cumsum(1 << nbits)[:-1]
    table = np.zeros(int((1 << nbits).sum()) * columns)
    # Every leaf against every pattern of its group's bits, a chunk of leaves at a time (the leaves are
    # in group order, so a chunk fills a contiguous stretch of the table).
    patterns = np.arange(1 << int(nbits.max()))[None, :]
    pad = bits < 0
    bit_at, slot_mask = np.maximum(bits, 0), np.where(pad, 0, 1 << np.maximum(slot, 0))
    for start in range(0, n_leaves, _CHUNK):
        part = slice(start, min(start + _CHUNK, n_leaves))
        failed = np.zeros((part.stop - part.start, patterns.shape[1]), dtype=np.intp)
        for k in range(bits.shape[1]):
            wrong = ((patterns >> bit_at[part, k : k + 1]) & 1) != want[part, k : k + 1]
            failed |= wrong * slot_mask[part, k : k + 1]
        q = ((1 << d_of[part])[:, None] - 1) & ~failed
        groups_here = leaf_group[part]
        live = patterns < (1 << nbits[groups_here])[:, None]
        rows = offsets[groups_here][:, None] + patterns  # (leaves, patterns)
        flat = rows[:, :, None] * columns + column[part][:, None, :]
        weights = shares[share_offset[part][:, None] + q]  # (leaves, patterns, depth + 1)
        first, last = int(flat[live].min()), int(flat[live].max()) + 1
        table[first:last] += np.bincount(flat[live].ravel() - first, weights[live].ravel(), last - first)
    return table.reshape(-1, columns).astype(np.float32), group_columns.ravel(), offsets
