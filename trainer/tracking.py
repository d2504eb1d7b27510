"""Experiment tracking with MLflow: optional, local by default, never required.

Every ``trainer fit``, ``compare`` and ``tune`` run opens a :class:`Run`. With MLflow installed (the
``analyst`` extra) the run is logged to a tracking store: a SQLite database in ``mlruns/`` of the
current folder (:data:`DEFAULT_TRACKING_DIR`) unless ``--tracking-uri`` or the ``TRAINER_TRACKING_URI``
/ ``MLFLOW_TRACKING_URI`` environment variables name another. Without MLflow, or with the URI ``off``,
the run is a no-op and the commands still work.

The MLflow client API is used (not the global "fluent" API), so nothing here changes process-wide state.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from trainer.errors import UserError

if TYPE_CHECKING:
    from trainer.bundle import Bundle
    from trainer.compare import CompareResult
    from trainer.progress import ProgressReport
    from trainer.train import FitConfig
    from trainer.tune import TuneResult

#: Where runs go when no URI is given, relative to the current folder (as MLflow does): ``mlflow.db``
#: and ``artifacts/`` (``mlruns/`` is git-ignored).
DEFAULT_TRACKING_DIR = Path("mlruns")
#: The MLflow experiment every trainer run belongs to.
EXPERIMENT_NAME = "credit-tui"
#: Environment variable naming the tracking URI (``off`` disables tracking); checked before MLflow's own.
TRACKING_ENV = "TRAINER_TRACKING_URI"
#: Values of the URI that turn tracking off.
OFF_VALUES = frozenset({"off", "none", "no", "false", "0", ""})
#: What the commands say when tracking cannot happen because MLflow is not installed.
OFF_MESSAGE = "tracking is off (install the analyst extra)"


def telemetry_off() -> None:
    """Keep MLflow's usage telemetry off unless the user turned it on.

    MLflow 3 sends anonymous usage events by default. Its own switches decide: ``MLFLOW_DISABLE_TELEMETRY``
    is set to ``true`` here only when the user has not set it (``MLFLOW_DISABLE_TELEMETRY=false`` turns
    telemetry back on); ``DO_NOT_TRACK=true`` is honoured by MLflow as well. Called before MLflow loads.
    """
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def mlflow_available() -> bool:
    """Return True when MLflow (``mlflow`` or ``mlflow-skinny``) can be imported (telemetry off)."""
    telemetry_off()
    try:
        import mlflow  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_uri(uri: str | None) -> str | None:
    """Turn ``--tracking-uri`` (or the environment, or the default) into an MLflow URI; None when off.

    A plain folder path becomes a SQLite store inside it (``sqlite:///FOLDER/mlflow.db``).
    """
    if uri is None:
        uri = os.environ.get(TRACKING_ENV) or os.environ.get("MLFLOW_TRACKING_URI")
    if uri is None:
        return _sqlite_uri(default_tracking_dir())
    if uri.strip().lower() in OFF_VALUES:
        return None
    if "://" in uri or uri.startswith(("sqlite:", "databricks")):
        return uri
    return _sqlite_uri(Path(uri))


def default_tracking_dir() -> Path:
    """``mlruns/`` in the current folder (never inside the installed package)."""
    return Path.cwd() / DEFAULT_TRACKING_DIR


def _sqlite_uri(folder: Path) -> str:
    return f"sqlite:///{folder.expanduser().resolve() / 'mlflow.db'}"


def _artifact_root(uri: str) -> str | None:
    """Artifacts of a SQLite store live beside the database, never under the current directory."""
    if not uri.startswith("sqlite:///"):
        return None
    db = Path(uri.removeprefix("sqlite:///"))
    if not db.is_absolute():
        db = Path("/") / db
    return (db.parent / "artifacts").as_uri()


def _clean_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        number = float(value)
        if math.isfinite(number):
            out[key] = number
    return out


class Run:
    """One tracked run, or a no-op when tracking is off.

    Attributes:
        run_id: The MLflow run id (None when tracking is off).
        uri: The tracking URI (None when tracking is off).
    """

    def __init__(self, client: Any = None, run_id: str | None = None, uri: str | None = None) -> None:
        self._client = client
        self.run_id = run_id
        self.uri = uri

    @property
    def active(self) -> bool:
        """True when this run is really recorded."""
        return self._client is not None and self.run_id is not None

    def reference(self) -> dict[str, str] | None:
        """``{"run_id", "uri"}`` for a bundle manifest, or None when tracking is off."""
        if not self.active:
            return None
        return {"run_id": str(self.run_id), "uri": str(self.uri)}

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record parameters (values are stringified; MLflow caps them at 6000 characters)."""
        if not self.active:
            return
        from mlflow.entities import Param

        items = [Param(str(k), str(v)[:6000]) for k, v in params.items()]
        for start in range(0, len(items), 100):
            self._client.log_batch(self.run_id, params=items[start : start + 100])

    def log_metrics(self, metrics: Mapping[str, Any], step: int = 0) -> None:
        """Record numeric metrics (non-numbers and non-finite values are skipped)."""
        if not self.active:
            return
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, v, now, step) for k, v in _clean_metrics(metrics).items()]
        for start in range(0, len(items), 500):
            self._client.log_batch(self.run_id, metrics=items[start : start + 500])

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Record tags (e.g. the data fingerprint and the bundle id)."""
        if not self.active:
            return
        from mlflow.entities import RunTag

        self._client.log_batch(self.run_id, tags=[RunTag(str(k), str(v)) for k, v in tags.items()])

    def log_artifact(self, path: Path, folder: str | None = None) -> None:
        """Copy a file (figure, table, manifest) into the run's artifacts."""
        if self.active and Path(path).is_file():
            self._client.log_artifact(self.run_id, str(path), folder)

    def child(self, name: str) -> Run:
        """Start a nested run (e.g. one per compared model); finish it with :meth:`finish`."""
        if not self.active:
            return Run()
        experiment_id = self._client.get_run(self.run_id).info.experiment_id
        created = self._client.create_run(
            experiment_id, run_name=name, tags={"mlflow.parentRunId": str(self.run_id)}
        )
        return Run(self._client, created.info.run_id, self.uri)

    def finish(self, status: str = "FINISHED") -> None:
        """Mark the run finished (or ``FAILED``)."""
        if self.active:
            self._client.set_terminated(self.run_id, status)


def _quiet_mlflow_logs() -> None:
    for name in ("mlflow", "alembic", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(logging.WARNING)


def open_run(kind: str, uri: str | None, name: str | None = None, console: Console | None = None) -> Run:
    """Start a run of ``kind`` (fit, compare, tune) in the store at ``uri`` (already resolved).

    Args:
        kind: Command that runs (recorded as the ``trainer.command`` tag).
        uri: Tracking URI from :func:`resolve_uri`, or None for no tracking.
        name: Run name shown by MLflow.
        console: Where to say that tracking is off when MLflow is missing (stderr in the CLI).

    Raises:
        UserError: When the tracking store cannot be opened.
    """
    if uri is None:
        return Run()
    if not mlflow_available():
        if console is not None:
            console.print(OFF_MESSAGE)
        return Run()
    _quiet_mlflow_logs()
    telemetry_off()
    from mlflow.tracking import MlflowClient

    try:
        client = MlflowClient(tracking_uri=uri)
        experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
        if experiment is None:
            artifacts = _artifact_root(uri)
            if artifacts is not None:
                Path(artifacts.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
            experiment_id = client.create_experiment(EXPERIMENT_NAME, artifact_location=artifacts)
        else:
            experiment_id = experiment.experiment_id
        created = client.create_run(experiment_id, run_name=name or kind, tags={"trainer.command": kind})
    except Exception as exc:  # MLflow raises many kinds of errors for a bad store
        raise UserError(
            f"Tracking store {uri} could not be opened ({exc.__class__.__name__}: {str(exc)[:200]}); "
            "pass another --tracking-uri, or --tracking-uri off."
        ) from None
    return Run(client, created.info.run_id, uri)


@contextlib.contextmanager
def tracked(
    kind: str, uri: str | None, name: str | None = None, console: Console | None = None
) -> Iterator[Run]:
    """Context manager around :func:`open_run`: the run ends FINISHED, or FAILED on an exception."""
    run = open_run(kind, uri, name, console)
    try:
        yield run
    except BaseException:
        run.finish("FAILED")
        raise
    run.finish("FINISHED")
    if run.active and console is not None:
        console.print(f"tracked as MLflow run {run.run_id} in {uri}")


def get_run_data(uri: str, run_id: str) -> tuple[dict[str, float], dict[str, str], dict[str, str]]:
    """Return (metrics, params, tags) of a recorded run (used by tests and by the analyst)."""
    telemetry_off()
    from mlflow.tracking import MlflowClient

    data = MlflowClient(tracking_uri=uri).get_run(run_id).data
    return dict(data.metrics), dict(data.params), dict(data.tags)


def tracked_fit(
    config: FitConfig,
    uri: str | None,
    progress: ProgressReport | None = None,
    console: Console | None = None,
) -> Bundle:
    """``trainer fit`` with MLflow: train inside a run, store the run in the manifest, log the bundle.

    Args:
        config: What to train.
        uri: Tracking URI (:func:`resolve_uri`); None: no tracking (the bundle has no ``tracking``).
        progress: Progress callback for the stages of the fit.
        console: Where to say that tracking is off or unavailable.
    """
    from trainer.train import fit_bundle

    with tracked("fit", uri, name=f"fit {config.out.name}", console=console) as run:
        bundle = fit_bundle(config, progress, tracking=run.reference())
        log_fit(run, bundle)
    return bundle


def log_fit(run: Run, bundle: Bundle) -> None:
    """Log a freshly written bundle: training settings, validation metrics, data fingerprint, bundle id.

    Args:
        run: The fit's run (nothing happens when tracking is off).
        bundle: The :class:`~trainer.bundle.Bundle` just written.
    """
    if not run.active:
        return
    manifest = bundle.manifest
    training = manifest.training
    data = manifest.training_data
    threshold = manifest.threshold
    run.log_params(
        {
            "seed": training.seed,
            "valid_share": training.valid_share,
            "num_boost_round": training.num_boost_round,
            "early_stopping_rounds": training.early_stopping_rounds,
            "cost_fn": threshold.cost_false_negative,
            "cost_fp": threshold.cost_false_positive,
            "history_tables": ",".join(manifest.history_tables) or "none",
            "n_features": len(manifest.spec.names),
            **{f"xgb.{k}": v for k, v in training.params.items()},
        }
    )
    validation = manifest.validation.to_dict()
    run.log_metrics({**validation, "threshold": threshold.value, "trees": training.best_iteration})
    run.set_tags(
        {
            "data.fingerprint": data.fingerprint,
            "data.source": data.source,
            "bundle.model_id": bundle.model_id,
            "bundle.path": str(bundle.path),
        }
    )
    run.log_artifact(Path(bundle.path) / "manifest.json", "bundle")


def log_compare(run: Run, result: CompareResult, files: Sequence[Path]) -> None:
    """Log the comparison: settings, one child run per model with its metrics, the files as artifacts."""
    if not run.active:
        return
    cfg = result.config
    run.log_params(
        {
            "models": ",".join(cfg.models),
            "folds": cfg.n_folds,
            "sample": cfg.sample or "all",
            "seed": cfg.seed,
            "cost_fn": cfg.cost_fn,
            "cost_fp": cfg.cost_fp,
            "use_history": cfg.use_history,
            "n_clients": result.n_clients,
        }
    )
    run.set_tags({"data.fingerprint": result.fingerprint, "data.source": str(cfg.data_dir)})
    for score in result.scores:
        run.log_metrics({f"{score.key}.{k}": v for k, v in score.metrics().items()})
        child = run.child(score.name)
        child.log_params({"model": score.key, "folds": cfg.n_folds, "seed": cfg.seed})
        child.log_metrics(score.metrics())
        for f in score.folds:
            child.log_metrics({"fold_roc_auc": f.roc_auc}, step=f.fold)
        child.set_tags({"data.fingerprint": result.fingerprint})
        child.finish()
    run.set_tags({"best_model": result.best().key})
    for path in files:
        run.log_artifact(path, "comparison")


def log_tune(run: Run, result: TuneResult, out: Path, fingerprint: str) -> None:
    """Log the search: settings, best parameters, the AUCs, and the parameter file as an artifact."""
    if not run.active:
        return
    cfg = result.config
    run.log_params(
        {
            "budget_minutes": cfg.budget_minutes,
            "folds": cfg.n_folds,
            "seed": cfg.seed,
            "storage": str(cfg.storage) if cfg.storage else "memory",
            **{f"best.{k}": v for k, v in result.best_params.items()},
        }
    )
    run.log_metrics(
        {
            "best_cv_roc_auc": result.best_auc,
            "baseline_cv_roc_auc": result.baseline_auc,
            "n_trials": result.n_trials,
            "n_pruned": result.n_pruned,
            "seconds": result.seconds,
        }
    )
    for number, auc in result.history:
        run.log_metrics({"trial_cv_roc_auc": auc}, step=number)
    run.set_tags({"data.fingerprint": fingerprint})
    run.log_artifact(out, "tune")


def attach_files(uri: str | None, run_id: str, files: list[Path], folder: str) -> bool:
    """Add files (e.g. a report's HTML and figures) to an existing run; False when that cannot be done.

    Args:
        uri: Tracking URI of the run (None: tracking is off, nothing happens).
        run_id: The run, e.g. a bundle's ``tracking.run_id``.
        files: Files to copy into the run's artifacts.
        folder: Artifact sub-folder.
    """
    if uri is None or not mlflow_available():
        return False
    _quiet_mlflow_logs()
    telemetry_off()
    from mlflow.tracking import MlflowClient

    try:
        client = MlflowClient(tracking_uri=uri)
        client.get_run(run_id)
        for path in files:
            client.log_artifact(run_id, str(path), folder)
    except Exception:  # an unreachable store or a deleted run must not fail the report itself
        return False
    return True
