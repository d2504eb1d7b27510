"""``trainer tune``: time-budgeted XGBoost hyperparameter search on cross-validated ROC AUC (optuna).

- Seeded: a :class:`optuna.samplers.TPESampler` with the run's seed, and the same stratified folds for
  every trial (:func:`trainer.compare.folds`).
- Baseline first: trial 0 is always :data:`~trainer.config.DEFAULT_XGB_PARAMS`, so the best parameters
  written are never worse than the defaults on this CV.
- Budgeted: no trial starts after the deadline, and a running trial is pruned at its next fold once the
  deadline has passed (the baseline trial always completes, so there is a result).
- Resumable: ``--storage FILE`` keeps the study in SQLite; running again with the same file continues it.
- The output is a JSON object of XGBoost parameters that ``trainer fit --params FILE`` merges over the
  defaults.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from trainer.atomic import write_text_atomic
from trainer.compare import Dataset, folds, xgb_fold_predict
from trainer.config import DEFAULT_SEED, DEFAULT_XGB_PARAMS
from trainer.errors import UserError
from trainer.progress import ProgressReport

#: Name of the optuna study inside the storage.
STUDY_NAME = "xgboost-cv-roc-auc"
#: Parameters searched (the others keep their defaults).
SEARCHED = ("max_depth", "learning_rate", "min_child_weight", "subsample", "colsample_bytree", "reg_lambda")
#: Maximum trees per fold while tuning (early stopping usually stops much earlier).
TUNE_MAX_ROUNDS = 1000


@dataclass(frozen=True)
class TuneConfig:
    """What ``trainer tune`` was asked to do."""

    budget_minutes: float
    n_folds: int = 3
    max_trials: int | None = None
    seed: int = DEFAULT_SEED
    storage: Path | None = None
    threads: int = 0
    max_rounds: int = TUNE_MAX_ROUNDS


@dataclass(frozen=True)
class TuneResult:
    """Outcome of a search.

    Attributes:
        best_params: The searched parameters of the best trial (JSON-ready).
        best_auc: Its mean CV ROC AUC.
        baseline_auc: Mean CV ROC AUC of the default parameters (trial 0).
        n_trials: Complete trials in the study (including earlier runs when resumed).
        n_pruned: Trials stopped early (budget or pruner).
        seconds: Wall time of this run.
        config: The settings.
        history: (trial number, AUC) of the complete trials.
    """

    best_params: dict[str, Any]
    best_auc: float
    baseline_auc: float
    n_trials: int
    n_pruned: int
    seconds: float
    config: TuneConfig
    history: list[tuple[int, float]] = field(default_factory=list)


def baseline_params() -> dict[str, Any]:
    """The searched parameters at their default values (trial 0)."""
    return {name: DEFAULT_XGB_PARAMS[name] for name in SEARCHED}


def suggest(trial: Any) -> dict[str, Any]:
    """Draw one set of parameters from the search space."""
    return {
        "max_depth": trial.suggest_int("max_depth", 2, 8),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 50.0, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 0.01, 50.0, log=True),
    }


def _storage_url(path: Path | None) -> str | None:
    if path is None:
        return None
    path = path.expanduser().resolve()
    if path.exists() and path.is_dir():
        raise UserError(f"--storage {path} is a folder; pass a file name such as study.db.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def run_tune(config: TuneConfig, dataset: Dataset, progress: ProgressReport | None = None) -> TuneResult:
    """Search XGBoost parameters on ``dataset`` within ``config.budget_minutes``.

    Raises:
        UserError: When optuna is not installed or the storage cannot be used.
    """
    try:
        import optuna
    except ImportError:
        raise UserError(
            "trainer tune needs optuna; install the analyst extra: pip install 'credit-tui[analyst]'."
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)

    start = time.monotonic()
    deadline = start + config.budget_minutes * 60.0
    splits = folds(dataset.y, config.n_folds, config.seed)
    sampler = optuna.samplers.TPESampler(seed=config.seed)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    storage = _storage_url(config.storage)
    try:
        study = optuna.create_study(
            study_name=STUDY_NAME,
            storage=storage,
            sampler=sampler,
            pruner=pruner,
            direction="maximize",
            load_if_exists=True,
        )
    except Exception as exc:
        raise UserError(
            f"Optuna storage {config.storage} could not be used ({exc.__class__.__name__}); "
            "pass another --storage file."
        ) from None
    complete = optuna.trial.TrialState.COMPLETE
    baseline_done = any(t.user_attrs.get("baseline") for t in study.get_trials(states=(complete,)))
    if not baseline_done:
        study.enqueue_trial(baseline_params(), user_attrs={"baseline": True})

    budget_seconds = config.budget_minutes * 60.0
    if progress is not None:
        progress("Tuning XGBoost", 0.0, budget_seconds)

    def objective(trial: Any) -> float:
        params = suggest(trial)
        is_baseline = bool(trial.user_attrs.get("baseline"))
        aucs: list[float] = []
        for i, (tr, te) in enumerate(splits):
            if not is_baseline and time.monotonic() > deadline:
                raise optuna.TrialPruned()
            p = xgb_fold_predict(
                dataset.x[tr],
                dataset.y[tr],
                dataset.x[te],
                dataset.spec,
                config.seed,
                config.threads,
                params=params,
                num_boost_round=config.max_rounds,
            )
            aucs.append(float(roc_auc_score(dataset.y[te], p)))
            trial.report(float(np.mean(aucs)), i)
            if not is_baseline and trial.should_prune():
                raise optuna.TrialPruned()
        return float(np.mean(aucs))

    def on_trial(study: Any, trial: Any) -> None:
        if progress is not None:
            best = study.best_value if any(t.state == complete for t in study.trials) else float("nan")
            progress(
                "Tuning XGBoost",
                min(time.monotonic() - start, budget_seconds),
                budget_seconds,
                f"Tuning XGBoost: trial {trial.number}, best CV AUC {best:.4f}",
            )
        if time.monotonic() > deadline:
            study.stop()

    remaining = max(deadline - time.monotonic(), 0.0)
    study.optimize(
        objective,
        n_trials=config.max_trials,
        timeout=remaining,
        callbacks=[on_trial],
        catch=(),
        gc_after_trial=False,
    )
    trials = study.get_trials(deepcopy=False)
    done = [t for t in trials if t.state == complete]
    baseline = next(t for t in done if t.user_attrs.get("baseline"))
    best = study.best_trial
    assert best.value is not None and baseline.value is not None
    best_params = {k: (float(v) if isinstance(v, float) else v) for k, v in best.params.items()}
    return TuneResult(
        best_params=best_params,
        best_auc=float(best.value),
        baseline_auc=float(baseline.value),
        n_trials=len(done),
        n_pruned=sum(t.state == optuna.trial.TrialState.PRUNED for t in trials),
        seconds=time.monotonic() - start,
        config=config,
        history=[(t.number, float(t.value or 0.0)) for t in done],
    )


def write_params(result: TuneResult, out: Path) -> None:
    """Write the best parameters as a JSON object (atomically) for ``trainer fit --params``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, json.dumps(result.best_params, indent=2, sort_keys=True) + "\n")
