"""The typed contract between the trainer and the advisor app: the bundle manifest.

Decisions and the threshold policy live in :mod:`trainer.decision`, the features in
:mod:`trainer.registry`.

A bundle's ``manifest.json`` is parsed once, when the bundle is verified, into a frozen
:class:`Manifest`; every reader uses its attributes. :meth:`Manifest.to_json` writes the exact bytes
``trainer fit`` has always written, so ``to_json(from_json(text)) == text`` for every bundle and a
bundle's ``model_id`` (a hash of its content) never depends on this module.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from types import MappingProxyType
from typing import Any

from trainer.config import MAX_MANIFEST_BYTES as MAX_MANIFEST_BYTES  # larger is refused unparsed
from trainer.decision import ThresholdPolicy
from trainer.errors import BundleError
from trainer.features import FeatureSpec

#: Deepest nesting of a manifest (metrics -> validation -> confusion_matrix -> count is 4).
MAX_MANIFEST_DEPTH = 6
#: Feature kinds a manifest may declare (the ``dtype`` of each feature).
FEATURE_DTYPES = ("float", "category")


# --------------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------------

Number = int | float


class _Reader:
    """Typed access to one JSON object of the manifest; every failure names the manifest and the key."""

    def __init__(self, source: str, where: str, data: Any) -> None:
        self.source = source
        self.where = where
        if not isinstance(data, dict):
            self.fail(f"{where or 'the manifest'} is not a JSON object")
        self.data: dict[str, Any] = data

    def fail(self, problem: str) -> None:
        raise BundleError(f"{self.source}: {problem}; the bundle is corrupt or foreign: retrain it.")

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def keys(self, required: Sequence[str], optional: Sequence[str] = ()) -> None:
        missing = [k for k in required if k not in self.data]
        if missing:
            self.fail(f"{self.path(missing[0])} is missing")
        unknown = [k for k in self.data if k not in required and k not in optional]
        if unknown:
            self.fail(f"{self.path(unknown[0])} is not a field this version knows")

    def child(self, key: str) -> _Reader:
        return _Reader(self.source, self.path(key), self.data[key])

    def text(self, key: str) -> str:
        value = self.data[key]
        if not isinstance(value, str):
            self.fail(f"{self.path(key)} is not text")
        return str(value)

    def flag(self, key: str) -> bool:
        value = self.data[key]
        if not isinstance(value, bool):
            self.fail(f"{self.path(key)} is not true or false")
        return bool(value)

    def whole(self, key: str, low: int = 0) -> int:
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            self.fail(f"{self.path(key)} is not a whole number >= {low}")
        return int(value)

    def number(
        self, key: str, low: float = -math.inf, high: float = math.inf, *, open_: bool = False
    ) -> Number:
        """A finite number in [low, high] (in (low, high) when ``open_``); ints stay ints."""
        value = self.data[key]
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if ok:
            ok = low < value < high if open_ else low <= value <= high
        if not ok:
            bounds = f"({low}, {high})" if open_ else f"[{low}, {high}]"
            self.fail(f"{self.path(key)} is {value!r}, not a finite number in {bounds}")
        return value  # type: ignore[no-any-return]

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{self.path(key)} is not a list of text")
        return tuple(value)

    def str_map(self, key: str) -> Mapping[str, str]:
        child = self.child(key)
        if not all(isinstance(v, str) for v in child.data.values()):
            self.fail(f"{self.path(key)} holds a value that is not text")
        return MappingProxyType(dict(child.data))


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _plain(value: Any) -> Any:
    """A JSON-ready copy: dataclasses and read-only mappings become dicts, tuples become lists.

    A dataclass's fields are declared in the order ``trainer fit`` writes the keys, so the JSON matches.
    """
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _is_plain_file_name(name: str) -> bool:
    return (
        bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name and "\0" not in name
    )


@dataclass(frozen=True)
class ThresholdInfo:
    """How the decision threshold was chosen (``manifest.threshold``)."""

    value: float
    method: str
    cost_false_negative: float
    cost_false_positive: float
    review_band: tuple[float, float] | None

    @property
    def policy(self) -> ThresholdPolicy:
        """The decision rule these numbers define."""
        return ThresholdPolicy(self.value, self.review_band)

    @classmethod
    def _parse(cls, r: _Reader) -> ThresholdInfo:
        r.keys(("value", "method", "cost_false_negative", "cost_false_positive"), ("review_band",))
        value = r.number("value", 0.0, 1.0, open_=True)
        band = r.data.get("review_band")
        review_band = None
        if band is not None:
            ok = isinstance(band, list) and len(band) == 2
            ok = ok and all(isinstance(b, int | float) and not isinstance(b, bool) for b in band)
            ok = (
                ok and all(math.isfinite(b) and 0.0 <= b <= 1.0 for b in band) and band[0] <= value <= band[1]
            )
            if not ok:
                r.fail(
                    f"{r.path('review_band')} is {band!r}, not [low, high] within [0, 1] around the threshold"
                )
            review_band = (band[0], band[1])
        return cls(
            value=value,
            method=r.text("method"),
            cost_false_negative=r.number("cost_false_negative", 0.0),
            cost_false_positive=r.number("cost_false_positive", 0.0),
            review_band=review_band,
        )


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts at the threshold on the validation rows."""

    tn: int
    fp: int
    fn: int
    tp: int


@dataclass(frozen=True)
class ValidationMetrics:
    """The model's metrics on held-out validation rows (``manifest.metrics.validation``)."""

    roc_auc: float
    pr_auc: float
    ks: float
    brier: float
    business_cost: float
    business_cost_at_0_5: float
    refusal_rate: float
    default_rate: float
    n: int
    confusion_matrix: ConfusionMatrix

    def to_dict(self) -> dict[str, Any]:
        """The metrics by name (the confusion matrix as a nested dict), as the manifest stores them."""
        plain: dict[str, Any] = _plain(self)
        return plain

    @classmethod
    def _parse(cls, r: _Reader) -> ValidationMetrics:
        rates = ("roc_auc", "pr_auc", "ks", "brier", "refusal_rate", "default_rate")
        costs = ("business_cost", "business_cost_at_0_5")
        r.keys((*rates, *costs, "n", "confusion_matrix"))
        cm = r.child("confusion_matrix")
        cm.keys(("tn", "fp", "fn", "tp"))
        numbers: dict[str, Number] = {k: r.number(k, 0.0, 1.0) for k in rates}
        numbers.update({k: r.number(k, 0.0) for k in costs})
        return cls(
            **numbers,
            n=r.whole("n"),
            confusion_matrix=ConfusionMatrix(cm.whole("tn"), cm.whole("fp"), cm.whole("fn"), cm.whole("tp")),
        )


@dataclass(frozen=True)
class Importance:
    """One feature's global importance: mean |TreeSHAP| on validation rows (log-odds)."""

    feature: str
    mean_abs_shap: float


@dataclass(frozen=True)
class TrainingData:
    """Which data the model was trained on (``manifest.training_data``)."""

    source: str
    fingerprint: str
    n_clients: int
    n_train: int
    n_valid: int
    default_rate: float
    history_tables_found: tuple[str, ...]

    @classmethod
    def _parse(cls, r: _Reader) -> TrainingData:
        r.keys(
            (
                "source",
                "fingerprint",
                "n_clients",
                "n_train",
                "n_valid",
                "default_rate",
                "history_tables_found",
            )
        )
        return cls(
            source=r.text("source"),
            fingerprint=r.text("fingerprint"),
            n_clients=r.whole("n_clients"),
            n_train=r.whole("n_train"),
            n_valid=r.whole("n_valid"),
            default_rate=r.number("default_rate", 0.0, 1.0),
            history_tables_found=r.strings("history_tables_found"),
        )


@dataclass(frozen=True)
class TrainingSettings:
    """How the booster was trained (``manifest.training``)."""

    seed: int
    valid_share: float
    params: Mapping[str, Any]
    num_boost_round: int
    early_stopping_rounds: int
    best_iteration: int

    @classmethod
    def _parse(cls, r: _Reader) -> TrainingSettings:
        r.keys(
            ("seed", "valid_share", "params", "num_boost_round", "early_stopping_rounds", "best_iteration")
        )
        params = r.child("params").data
        for key, value in params.items():
            if isinstance(value, float) and not math.isfinite(value):
                r.fail(f"{r.path('params')}.{key} is {value!r}, not a finite number")
        return cls(
            seed=r.whole("seed"),
            valid_share=r.number("valid_share", 0.0, 1.0, open_=True),
            params=MappingProxyType(dict(params)),
            num_boost_round=r.whole("num_boost_round", 1),
            early_stopping_rounds=r.whole("early_stopping_rounds"),
            best_iteration=r.whole("best_iteration"),
        )


@dataclass(frozen=True)
class InputPolicy:
    """Which protected attributes the model uses (``manifest.input_policy``, :mod:`trainer.policy`)."""

    protected_inputs: tuple[str, ...]
    protected_excluded: tuple[str, ...]
    client_decisions: bool

    @classmethod
    def _parse(cls, r: _Reader) -> InputPolicy:
        r.keys(("protected_inputs", "protected_excluded", "client_decisions"))
        decisions = r.flag("client_decisions")
        return cls(r.strings("protected_inputs"), r.strings("protected_excluded"), decisions)


@dataclass(frozen=True)
class FairnessGroup:
    """Approval and default rates of one group (:func:`trainer.fairness.fairness_table`)."""

    dimension: str
    group: str
    clients: int
    approved: int
    approval_rate: float
    default_rate_approved: float | None
    approval_ratio: float | None
    four_fifths: bool

    @classmethod
    def _parse(cls, r: _Reader) -> FairnessGroup:
        names = ("dimension", "group", "clients", "approved", "approval_rate", "default_rate_approved")
        r.keys((*names, "approval_ratio", "four_fifths"))
        four_fifths = r.flag("four_fifths")

        def rate(key: str, high: float) -> float | None:
            return None if r.data[key] is None else r.number(key, 0.0, high)

        return cls(
            dimension=r.text("dimension"),
            group=r.text("group"),
            clients=r.whole("clients"),
            approved=r.whole("approved"),
            approval_rate=r.number("approval_rate", 0.0, 1.0),
            default_rate_approved=rate("default_rate_approved", 1.0),
            approval_ratio=rate("approval_ratio", 1.0),
            four_fifths=four_fifths,
        )


@dataclass(frozen=True)
class FairnessInfo:
    """Approval and default rates by gender and age band on the validation clients (``manifest.fairness``)."""

    clients: str
    approved: str
    groups: tuple[FairnessGroup, ...]

    @classmethod
    def _parse(cls, r: _Reader) -> FairnessInfo:
        r.keys(("clients", "approved", "groups"))
        groups = r.data["groups"]
        if not isinstance(groups, list):
            r.fail(f"{r.path('groups')} is not a list")
        parsed = tuple(
            FairnessGroup._parse(_Reader(r.source, f"{r.path('groups')}[{i}]", g))
            for i, g in enumerate(groups)
        )
        return cls(r.text("clients"), r.text("approved"), parsed)


@dataclass(frozen=True)
class Manifest:
    """A bundle's ``manifest.json``, parsed and validated (README, "Architecture").

    Attributes:
        schema_version: Bundle schema version.
        created_at: ISO time the bundle was written.
        libraries: Python and library versions that shaped the numbers.
        threshold: The decision threshold, its costs and review band.
        validation: Metrics on the validation rows.
        importance: Global importance, largest first.
        training_data: The data the model was trained on.
        training: Training settings.
        tracking: MLflow run reference (``run_id``, ``uri``), or None.
        spec: The features the booster expects (their names, kinds and category levels).
        files: Bundle file name -> SHA-256.
        model_id: Content hash of everything above.
        input_policy: Protected attributes used or left out (None in bundles written before issue 10).
        fairness: Approval and default rates by group (None in bundles written before issue 10).
    """

    schema_version: int
    created_at: str
    libraries: Mapping[str, str]
    threshold: ThresholdInfo
    validation: ValidationMetrics
    importance: tuple[Importance, ...]
    training_data: TrainingData
    training: TrainingSettings
    tracking: Mapping[str, str] | None
    spec: FeatureSpec
    files: Mapping[str, str]
    model_id: str
    input_policy: InputPolicy | None = None
    fairness: FairnessInfo | None = None

    @property
    def policy(self) -> ThresholdPolicy:
        """The bundle's decision rule."""
        return self.threshold.policy

    @property
    def history_tables(self) -> tuple[str, ...]:
        """History tables the features were computed from."""
        return self.spec.history_tables

    @classmethod
    def from_json(cls, text: str | bytes, source: str = "manifest.json") -> Manifest:
        """Parse and validate a manifest's text.

        Raises:
            BundleError: One sentence naming ``source`` and the field that is missing, of the wrong type,
                out of range, or when the manifest is too large or too deeply nested.
        """
        size = len(text.encode("utf-8") if isinstance(text, str) else text)
        if size > MAX_MANIFEST_BYTES:
            raise BundleError(
                f"{source} is {size} bytes, more than the {MAX_MANIFEST_BYTES} a manifest may hold; "
                "the bundle is corrupt or foreign: retrain it."
            )
        try:
            data = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise BundleError(
                f"{source} is not valid JSON ({exc.__class__.__name__}); "
                "the bundle is corrupt: retrain or restore it."
            ) from None
        return cls.from_dict(data, source)

    @classmethod
    def from_dict(cls, data: Any, source: str = "manifest.json") -> Manifest:
        """Validate an already decoded manifest (see :meth:`from_json`)."""
        r = _Reader(source, "", data)
        if _depth(data) > MAX_MANIFEST_DEPTH:
            r.fail(f"the manifest is nested deeper than {MAX_MANIFEST_DEPTH} levels")
        fields = ("schema_version", "created_at", "libraries", "threshold", "metrics", "importance")
        r.keys(
            (*fields, "training_data", "training", "features", "history_tables", "files", "model_id"),
            ("tracking", "input_policy", "fairness"),
        )
        metrics = r.child("metrics")
        metrics.keys(("validation",))
        importance = r.data["importance"]
        if not isinstance(importance, list):
            r.fail("importance is not a list")
        items = []
        for i, item in enumerate(importance):
            entry = _Reader(source, f"importance[{i}]", item)
            entry.keys(("feature", "mean_abs_shap"))
            items.append(Importance(entry.text("feature"), entry.number("mean_abs_shap", 0.0)))
        files = r.str_map("files")
        bad = [name for name in files if not _is_plain_file_name(name)]
        if bad:
            r.fail(f"files lists {bad[0]!r}, which is not a plain file name inside the bundle")
        tracking = r.str_map("tracking") if r.data.get("tracking") is not None else None
        return cls(
            schema_version=r.whole("schema_version", 1),
            created_at=r.text("created_at"),
            libraries=r.str_map("libraries"),
            threshold=ThresholdInfo._parse(r.child("threshold")),
            validation=ValidationMetrics._parse(metrics.child("validation")),
            importance=tuple(items),
            training_data=TrainingData._parse(r.child("training_data")),
            training=TrainingSettings._parse(r.child("training")),
            tracking=tracking,
            spec=_parse_spec(r),
            files=files,
            model_id=r.text("model_id"),
            input_policy=InputPolicy._parse(r.child("input_policy")) if "input_policy" in r.data else None,
            fairness=FairnessInfo._parse(r.child("fairness")) if "fairness" in r.data else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The manifest as plain JSON values, keys in the order ``trainer fit`` writes them."""
        out: dict[str, Any] = {
            "schema_version": self.schema_version,
            "created_at": self.created_at,
            "libraries": dict(self.libraries),
            "threshold": _plain(self.threshold),
            "metrics": {"validation": _plain(self.validation)},
        }
        if self.input_policy is not None:
            out["input_policy"] = _plain(self.input_policy)
        if self.fairness is not None:
            out["fairness"] = _plain(self.fairness)
        out |= {
            "importance": _plain(self.importance),
            "training_data": _plain(self.training_data),
            "training": _plain(self.training),
        }
        if self.tracking is not None:
            out["tracking"] = dict(self.tracking)
        out.update(self.spec.to_dict())
        out["files"] = dict(self.files)
        out["model_id"] = self.model_id
        return out

    def to_json(self) -> str:
        """The text of ``manifest.json`` (two-space indent, trailing newline)."""
        return json.dumps(self.to_dict(), indent=2) + "\n"


def _parse_spec(r: _Reader) -> FeatureSpec:
    features = r.data["features"]
    if not isinstance(features, list) or not features:
        r.fail("features is not a non-empty list")
    names: list[str] = []
    categories: dict[str, tuple[str, ...]] = {}
    for i, item in enumerate(features):
        entry = _Reader(r.source, f"features[{i}]", item)
        dtype = entry.data.get("dtype")
        if dtype not in FEATURE_DTYPES:
            entry.fail(f"features[{i}].dtype is {dtype!r}, not one of {', '.join(FEATURE_DTYPES)}")
        if dtype == "category":
            entry.keys(("name", "dtype", "levels"))
            categories[entry.text("name")] = entry.strings("levels")
        else:
            entry.keys(("name", "dtype"))
        names.append(entry.text("name"))
    if len(set(names)) != len(names):
        r.fail("features lists a name twice")
    return FeatureSpec(tuple(names), categories, r.strings("history_tables"))
