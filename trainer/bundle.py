"""The model bundle: the contract between the trainer and the advisor app (README, "Architecture").

A bundle is a directory holding ``model.ubj`` (the booster in XGBoost's own format, no pickle) and
``manifest.json``. Loading verifies the schema version, the SHA-256 of every file, and the manifest's
own content hash (its ``model_id``), so a single changed byte anywhere is reported, never used.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainer.atomic import atomic_directory
from trainer.config import MANIFEST_FILE as MANIFEST_FILE
from trainer.contract import MAX_MANIFEST_BYTES, Manifest
from trainer.decision import ThresholdPolicy
from trainer.errors import BundleError
from trainer.features import FeatureSpec

if TYPE_CHECKING:
    import xgboost as xgb

SCHEMA_VERSION = 1
MODEL_FILE = "model.ubj"


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _content_id(manifest: dict[str, Any]) -> str:
    """Hash of the manifest without its own ``model_id`` (covers the file hashes too)."""
    body = {k: v for k, v in manifest.items() if k != "model_id"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()[:16]


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries that shape the model's numbers."""
    versions = {"python": platform.python_version()}
    for dist in ("credit-tui", "xgboost-cpu", "xgboost", "numpy", "pandas", "scikit-learn"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    import xgboost

    versions["xgboost_runtime"] = xgboost.__version__
    return versions


@dataclass(frozen=True)
class Bundle:
    """A verified, loaded model bundle.

    Attributes:
        path: The bundle directory.
        manifest: The parsed, validated ``manifest.json``.
        booster: The XGBoost model.
        spec: The features the booster expects, in order.
    """

    path: Path
    manifest: Manifest
    booster: xgb.Booster
    spec: FeatureSpec

    @property
    def model_id(self) -> str:
        """Content hash identifying the bundle."""
        return self.manifest.model_id

    @property
    def policy(self) -> ThresholdPolicy:
        """The bundle's decision rule (threshold and review band)."""
        return self.manifest.policy

    @property
    def threshold(self) -> float:
        """Refuse when PD >= threshold."""
        return self.manifest.threshold.value

    @property
    def review_band(self) -> tuple[float, float] | None:
        """PDs in [low, high) are REVIEW, if a band was configured."""
        return self.manifest.threshold.review_band

    @property
    def protected_inputs(self) -> list[str]:
        """Protected attributes the model uses as inputs (read from its features, not from a flag)."""
        from trainer.policy import protected_features

        return protected_features(self.spec.names)

    @property
    def for_client_decisions(self) -> bool:
        """False when the model uses a protected attribute: analysis only, no letters to clients."""
        return not self.protected_inputs


def save_bundle(target: Path, booster: xgb.Booster, spec: FeatureSpec, details: dict[str, Any]) -> Bundle:
    """Write a bundle atomically: build it in a temporary directory beside ``target``, then rename.

    Args:
        target: The bundle directory to create (an existing bundle there is replaced).
        booster: The trained model.
        spec: Its feature spec.
        details: Manifest fields supplied by the caller (threshold, metrics, importance, training_data,
            params, ...). ``schema_version``, ``model_id``, ``created_at``, ``libraries``, ``features`` and
            ``files`` are filled in here.

    Returns:
        The bundle, loaded back and verified.
    """
    target = Path(target)
    with atomic_directory(target) as staging:
        booster.save_model(staging / MODEL_FILE)
        manifest: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "libraries": library_versions(),
            **details,
            **spec.to_dict(),
            "files": {MODEL_FILE: sha256_file(staging / MODEL_FILE)},
        }
        manifest["model_id"] = _content_id(manifest)
        text = Manifest.from_dict(manifest, str(target / MANIFEST_FILE)).to_json()
        with (staging / MANIFEST_FILE).open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    return load_bundle(target)


def verify_bundle(path: Path) -> Manifest:
    """Check a bundle's files without loading the model (no model library is imported): fast.

    Returns:
        The parsed, validated manifest.

    Raises:
        BundleError: One sentence naming the bundle and the problem, for a missing directory or file,
            unreadable, oversized or invalid JSON (:meth:`Manifest.from_json`), a newer schema version,
            or a changed byte in any file.
    """
    path = Path(path)
    if not path.is_dir():
        raise BundleError(
            f"Model bundle {path} does not exist; train one with `trainer fit --data DIR --out {path}` "
            "or pass --model with an existing bundle folder."
        )
    manifest_path = path / MANIFEST_FILE
    if not manifest_path.is_file():
        raise BundleError(
            f"{manifest_path} is missing, so {path} is not a model bundle; retrain it with `trainer fit`."
        )
    if manifest_path.stat().st_size > MAX_MANIFEST_BYTES:
        raise BundleError(
            f"{manifest_path} is larger than the {MAX_MANIFEST_BYTES} bytes a manifest may hold; "
            "the bundle is corrupt or foreign: retrain it."
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BundleError(
            f"{manifest_path} is not valid JSON ({exc.__class__.__name__}); "
            "the bundle is corrupt: retrain or restore it."
        ) from None
    if not isinstance(manifest, dict) or "schema_version" not in manifest:
        raise BundleError(f"{manifest_path} has no schema_version; it is not a credit-tui bundle manifest.")
    version = manifest["schema_version"]
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise BundleError(
            f"{path} was written with bundle schema_version {version}, newer than the {SCHEMA_VERSION} this "
            "version reads; upgrade credit-tui or retrain the bundle with this version."
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or MODEL_FILE not in files:
        raise BundleError(
            f"{manifest_path} lists no {MODEL_FILE} hash; the bundle is incomplete: retrain it."
        )
    if manifest.get("model_id") != _content_id(manifest):
        raise BundleError(
            f"{manifest_path} has been edited since the bundle was written (its content no longer matches "
            f"model_id {manifest.get('model_id')}); restore the original bundle or retrain it."
        )
    parsed = Manifest.from_dict(manifest, str(manifest_path))
    for name, expected in parsed.files.items():
        file_path = path / name
        if not file_path.is_file():
            raise BundleError(f"{file_path} is missing from the bundle; restore it or retrain the bundle.")
        if sha256_file(file_path) != expected:
            raise BundleError(
                f"{file_path} has changed since the bundle was written (SHA-256 mismatch); "
                "restore the original bundle or retrain it."
            )
    return parsed


def load_bundle(path: Path) -> Bundle:
    """Load a bundle and verify it completely (:func:`verify_bundle`, then the model itself).

    Raises:
        BundleError: As :func:`verify_bundle`, or when the model does not match its manifest.
    """
    import xgboost as xgb

    path = Path(path)
    manifest = verify_bundle(path)
    manifest_path = path / MANIFEST_FILE
    spec = manifest.spec
    try:
        booster = xgb.Booster()
        booster.load_model(path / MODEL_FILE)
    except (KeyError, TypeError, ValueError, xgb.core.XGBoostError) as exc:
        raise BundleError(
            f"{path} could not be read as a model bundle ({exc.__class__.__name__}); retrain it."
        ) from None
    if booster.feature_names is not None and list(booster.feature_names) != list(spec.names):
        raise BundleError(
            f"{path / MODEL_FILE} expects other features than {manifest_path} lists; retrain the bundle."
        )
    return Bundle(path, manifest, booster, spec)
