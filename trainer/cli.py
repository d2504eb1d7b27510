"""The ``trainer`` command line: synth, check, fit, evaluate, predict, explain, and the analyst toolkit.

The toolkit (compare, tune, report, explore) needs the ``analyst`` extra for tuning, tracking and figures.

Every command turns a :class:`~trainer.errors.UserError` into one line on stderr and exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from trainer.config import DEFAULT_SEED
from trainer.errors import UserError

if TYPE_CHECKING:
    from trainer.compare import Dataset

app = typer.Typer(
    name="trainer",
    help="Build, evaluate and serialise the Prêt à Dépenser credit model (Home Credit data).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
#: stderr: messages quote file names and values, so nothing printed here is parsed as markup.
err_console = Console(stderr=True, markup=False, highlight=False)
#: Options shared by several commands (same flag, same meaning everywhere).
DataDir = Annotated[Path, typer.Option("--data", help="Folder holding the Home Credit tables.")]
BundleDir = Annotated[Path, typer.Option("--model", help="Bundle folder.")]
NoHistory = Annotated[bool, typer.Option("--no-history", help="Use the application table only.")]
Threads = Annotated[int, typer.Option("--threads", min=0, help="XGBoost threads (0 = all cores).")]
CostFn = Annotated[float, typer.Option("--cost-fn", min=0.0, help="Cost of accepting a defaulter.")]
CostFp = Annotated[float, typer.Option("--cost-fp", min=0.0, help="Cost of refusing a good client.")]
Sample = Annotated[
    int | None, typer.Option("--sample", min=100, help="Use a stratified sample of N clients.")
]
#: The clients to score or explain: application_test in a --data folder, or a --clients file.
ClientsData = Annotated[
    Path | None, typer.Option("--data", help="Folder with application_test and history tables.")
]
ClientsFile = Annotated[
    Path | None,
    typer.Option("--clients", help="Clients file (CSV/parquet); history tables are read beside it."),
]
Cluster = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="Run on Dask: a scheduler address (tcp://HOST:8786) or local:N for N local workers "
        "(needs the cluster extra).",
    ),
]
Partitions = Annotated[
    int | None,
    typer.Option(
        "--partitions", min=1, help="Partitions with --cluster (default: 2 per worker, 100k clients each)."
    ),
]
MemoryLimit = Annotated[
    str | None,
    typer.Option(
        "--memory-limit",
        help="DuckDB memory for the history aggregation, e.g. 2GB (default 1GB or "
        "$CREDIT_TUI_DUCKDB_MEMORY); beyond it DuckDB spills to disk.",
    ),
]


def _set_memory_limit(limit: str | None) -> None:
    """Make ``--memory-limit`` the DuckDB limit of this process (and of local cluster workers)."""
    if limit is not None:
        import os

        from trainer.config import DUCKDB_MEMORY_ENV

        os.environ[DUCKDB_MEMORY_ENV] = limit


def _print_version(value: bool) -> None:
    if value:
        from trainer import __version__

        typer.echo(f"trainer (credit-tui) {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Build, evaluate and serialise the Prêt à Dépenser credit model (Home Credit data)."""


_TRACKING_OPTION = typer.Option(
    "--tracking-uri",
    help="MLflow tracking URI or folder (default: a SQLite store in ./mlruns; 'off' disables).",
)


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the eight tables to.")],
    clients: Annotated[int, typer.Option("--clients", min=10, help="Clients in application_train.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = DEFAULT_SEED,
    fmt: Annotated[str, typer.Option("--format", help="csv (like the real data) or parquet.")] = "csv",
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Then compare the data with the real effects (curves, two-way table, importance, AUC gap); "
            "exit 1 when a check fails.",
        ),
    ] = False,
    check_only: Annotated[
        bool, typer.Option("--check-only", help="Check the data already in --out without generating.")
    ] = False,
    folds: Annotated[int, typer.Option("--folds", min=2, help="Cross-validation folds of the check.")] = 5,
    model_sample: Annotated[
        int | None,
        typer.Option("--model-sample", min=1000, help="Fit the check's models on this many clients only."),
    ] = None,
    threads: Threads = 0,
) -> None:
    """Generate realistic synthetic Home Credit tables (application_test gets 15.9 % as many clients)."""
    from trainer.synth import generate
    from trainer.views import progress_bar

    if not check_only:
        with progress_bar(err_console) as progress:
            generate(out, n_clients=clients, seed=seed, fmt=fmt, progress=progress)
    if check or check_only:
        from trainer.synth_check import check_synthetic
        from trainer.views import synth_check_view

        with err_console.status("Fitting the application-only models…"):
            report = check_synthetic(out, folds=folds, seed=seed, nthread=threads, model_sample=model_sample)
        Console().print(synth_check_view(report))
        if not report.passed:
            raise typer.Exit(code=1)


@app.command()
def check(
    data: Annotated[Path, typer.Option("--data", help="Folder holding the Home Credit CSV/parquet files.")],
) -> None:
    """Validate a data folder against the Home Credit schema; exit 0 when usable, 2 otherwise."""
    from trainer.check import check_folder, render_findings

    findings = check_folder(data)
    Console().print(render_findings(findings, data))
    if any(f.severity == "error" for f in findings):
        raise typer.Exit(code=2)


@app.command()
def fit(
    data: DataDir,
    out: Annotated[Path, typer.Option("--out", help="Bundle folder to write, e.g. models/default.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split and the booster.")] = DEFAULT_SEED,
    cost_fn: CostFn = 10.0,
    cost_fp: CostFp = 1.0,
    review_band: Annotated[
        float | None,
        typer.Option(
            "--review-band", min=0.0, max=0.5, help="PD points either side of the threshold sent to REVIEW."
        ),
    ] = None,
    no_history: NoHistory = False,
    params: Annotated[
        Path | None, typer.Option("--params", help="JSON file of XGBoost parameters overriding the defaults.")
    ] = None,
    max_rounds: Annotated[int, typer.Option("--max-rounds", min=1, help="Maximum number of trees.")] = 2000,
    threads: Threads = 0,
    tracking_uri: Annotated[str | None, _TRACKING_OPTION] = None,
    allow_protected: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-protected",
            help="Keep this protected attribute (CODE_GENDER, NAME_FAMILY_STATUS) as an input, for analysis "
            "only: the bundle is marked not for client decisions. Repeatable.",
        ),
    ] = None,
    cluster: Cluster = None,
    partitions: Partitions = None,
    memory_limit: MemoryLimit = None,
) -> None:
    """Train the model, choose the threshold by business cost, and write a verified bundle.

    Protected attributes (gender, family status) are left out of the model unless --allow-protected.
    """
    from trainer.tracking import resolve_uri, tracked_fit
    from trainer.train import FitConfig
    from trainer.views import fit_summary, progress_bar

    _set_memory_limit(memory_limit)

    config = FitConfig(
        data_dir=data,
        out=out,
        seed=seed,
        cost_fn=cost_fn,
        cost_fp=cost_fp,
        review_band=review_band,
        use_history=not no_history,
        params=_read_params(params),
        num_boost_round=max_rounds,
        nthread=threads,
        allow_protected=_protected_names(allow_protected or []),
    )
    with progress_bar(err_console) as progress:
        if cluster is None:
            bundle = tracked_fit(config, resolve_uri(tracking_uri), progress, err_console)
        else:
            from trainer.cluster import tracked_cluster_fit

            bundle = tracked_cluster_fit(
                config,
                cluster,
                resolve_uri(tracking_uri),
                progress,
                err_console,
                partitions=partitions,
                memory_limit=memory_limit,
            )
    Console().print(fit_summary(bundle))


def _protected_names(names: list[str]) -> tuple[str, ...]:
    from trainer.policy import is_protected

    for name in names:
        if not is_protected(name):
            raise UserError(
                f"--allow-protected {name}: not a protected attribute; the protected attributes are "
                "CODE_GENDER and NAME_FAMILY_STATUS."
            )
    if names:
        err_console.print(
            f"[bold yellow]protected inputs {', '.join(names)}: this bundle is for analysis only, "
            "not for client decisions[/]"
        )
    return tuple(dict.fromkeys(names))


def _read_params(path: Path | None) -> dict[str, object]:
    if path is None:
        return {}
    import json

    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"Parameter file {path} does not exist; pass a JSON file of XGBoost parameters."
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(
            f"Parameter file {path} is not valid JSON ({exc}); fix it or leave out --params."
        ) from None
    if not isinstance(loaded, dict):
        raise UserError(f"Parameter file {path} must hold a JSON object of XGBoost parameters.")
    return loaded


@app.command()
def evaluate(
    model: BundleDir,
    data: Annotated[Path, typer.Option("--data", help="Folder holding a labelled application_train table.")],
) -> None:
    """Evaluate a bundle on labelled data (its own validation clients when it is its training data)."""
    from trainer.evaluation import evaluate_bundle
    from trainer.views import metrics_table

    result = evaluate_bundle(model, data)
    Console().print(metrics_table(result.metrics, title=result.title))


@app.command()
def predict(
    model: BundleDir,
    out: Annotated[
        Path, typer.Option("--out", help="CSV to write (SK_ID_CURR,TARGET like a Kaggle submission).")
    ],
    data: ClientsData = None,
    clients: ClientsFile = None,
    decisions: Annotated[bool, typer.Option("--decisions", help="Add PD_BAND and DECISION columns.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace --out if it is an existing file.")] = False,
    cluster: Cluster = None,
    partitions: Partitions = None,
    memory_limit: MemoryLimit = None,
) -> None:
    """Score every client and write the probabilities of default."""
    from trainer.predict import predict_file
    from trainer.settings import load_settings

    _set_memory_limit(memory_limit)
    trusted = load_settings().trusted_keys
    clients_file = _clients_file(data, clients)
    written = predict_file(
        model,
        clients_file,
        out,
        with_decisions=decisions,
        console=err_console,
        trusted_keys=trusted,
        force=force,
        cluster=cluster,
        partitions=partitions,
    )
    mark = "" if trusted else " (UNRELEASED MODEL: no trusted release keys are configured)"
    err_console.print(f"wrote {written} clients to {out}{mark}")


@app.command()
def explain(
    model: BundleDir,
    client: Annotated[int, typer.Option("--client", help="SK_ID_CURR of the client.")],
    data: ClientsData = None,
    clients: ClientsFile = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Contributions to show.")] = 12,
) -> None:
    """Show one client's PD, decision, reasons and top SHAP contributions."""
    from trainer.portfolio import Portfolio
    from trainer.scoring import Scorer
    from trainer.settings import load_settings
    from trainer.views import explanation_view

    scorer = Scorer.load(model, load_settings().trusted_keys)
    portfolio = Portfolio.load(_clients_file(data, clients), tables=scorer.spec.history_tables)
    explanation = scorer.explain(portfolio.record(client), portfolio.history_record(client))
    Console().print(explanation_view(client, explanation, scorer.reasons(explanation), top))
    if scorer.release is None:
        Console().print("UNRELEASED MODEL: not signed by a trusted release key", style="bold yellow")


@app.command()
def keygen(
    out: Annotated[Path, typer.Option("--out", help="Folder for release-key.pem and release-key.pub.")],
) -> None:
    """Create an Ed25519 key pair for signing model releases (the private key never leaves model risk)."""
    from trainer.release import keygen as make_keys

    private, public, kid = make_keys(out)
    err_console.print(f"wrote {private} (private: keep it secret) and {public} (key id {kid})")
    Console(highlight=False).print(public.read_text(encoding="ascii").strip())


@app.command()
def release(
    model: BundleDir,
    key: Annotated[Path, typer.Option("--key", help="The release-key.pem written by `trainer keygen`.")],
    releaser: Annotated[
        str | None, typer.Option("--releaser", help="Who releases it (default: your user name).")
    ] = None,
) -> None:
    """Sign a verified bundle: write signature.json (manifest hash, key id, releaser, time)."""
    from trainer.release import release as sign

    done = sign(model, key, releaser)
    err_console.print(
        f"released {model} as {done.releaser} at {done.released_at} with key {done.key_id}",
        highlight=False,
    )


def _clients_file(data: Path | None, clients: Path | None) -> Path:
    """The clients file named by --clients, or application_test in --data."""
    if clients is not None:
        return clients
    if data is None:
        raise UserError(
            "Say which clients to use: --clients FILE, or --data DIR holding application_test.csv."
        )
    from trainer.data import find_table

    found = find_table(data, "application_test")
    if found is None:
        raise UserError(
            f"{data} has no application_test.csv or .parquet; pass --clients FILE with the clients to score."
        )
    return found


def _load_dataset(data: Path, no_history: bool, sample: int | None, seed: int) -> Dataset:
    """Read the tables and build the features that ``compare`` and ``tune`` cross-validate on."""
    from trainer.compare import load_dataset

    with err_console.status("Reading tables and building features"):
        return load_dataset(data, use_history=not no_history, sample=sample, seed=seed)


@app.command()
def compare(
    data: DataDir,
    models: Annotated[
        str, typer.Option("--models", help="Comma-separated subset of lr,tree,rf,hgb,xgb.")
    ] = "lr,tree,rf,hgb,xgb",
    folds: Annotated[int, typer.Option("--folds", min=2, max=20, help="Stratified folds.")] = 5,
    sample: Sample = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for comparison.csv and .json (default ./reports/compare)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the folds, sample and models.")] = DEFAULT_SEED,
    cost_fn: CostFn = 10.0,
    cost_fp: CostFp = 1.0,
    no_history: NoHistory = False,
    threads: Annotated[int, typer.Option("--threads", min=0, help="Threads per model (0 = all cores).")] = 0,
    jobs: Annotated[
        int, typer.Option("--jobs", min=1, help="Folds fitted in parallel (joblib threads; 1 = one by one).")
    ] = 1,
    tracking_uri: Annotated[str | None, _TRACKING_OPTION] = None,
) -> None:
    """Cross-validate LR, tree, random forest, HistGradientBoosting and XGBoost on the same folds."""
    from trainer.compare import (
        CompareConfig,
        parse_models,
        run_compare,
        write_outputs,
    )
    from trainer.figures import comparison_figure
    from trainer.tracking import log_compare, resolve_uri, tracked
    from trainer.views import compare_table, progress_bar

    config = CompareConfig(
        data_dir=data,
        models=parse_models(models),
        n_folds=folds,
        sample=sample,
        seed=seed,
        cost_fn=cost_fn,
        cost_fp=cost_fp,
        use_history=not no_history,
        threads=threads,
        jobs=jobs,
    )
    dataset = _load_dataset(data, no_history, sample, seed)
    with tracked("compare", resolve_uri(tracking_uri), console=err_console) as run:
        with progress_bar(err_console) as progress:
            result = run_compare(config, dataset, progress)
        target = out if out is not None else _default_out(Path("reports") / "compare")
        files = write_outputs(result, target, run.run_id)
        figure = comparison_figure(result, target)
        if figure is not None:
            files.append(figure)
        log_compare(run, result, files)
    Console().print(compare_table(result))
    err_console.print(f"wrote {', '.join(str(f) for f in files)}")


@app.command()
def tune(
    data: DataDir,
    budget: Annotated[float, typer.Option("--budget", min=0.01, help="Time budget in minutes.")],
    out: Annotated[Path, typer.Option("--out", help="JSON file of the best XGBoost parameters.")] = Path(
        "params.json"
    ),
    storage: Annotated[
        Path | None,
        typer.Option("--storage", help="SQLite file of the optuna study (resume by passing it again)."),
    ] = None,
    folds: Annotated[int, typer.Option("--folds", min=2, max=10, help="Stratified folds per trial.")] = 3,
    trials: Annotated[int | None, typer.Option("--trials", min=1, help="Stop after N trials.")] = None,
    sample: Sample = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of sampler, folds, boosters.")] = DEFAULT_SEED,
    no_history: NoHistory = False,
    threads: Threads = 0,
    tracking_uri: Annotated[str | None, _TRACKING_OPTION] = None,
) -> None:
    """Search XGBoost parameters on cross-validated ROC AUC within a time budget (optuna, resumable)."""
    from trainer.tracking import log_tune, resolve_uri, tracked
    from trainer.tune import TuneConfig, run_tune, write_params
    from trainer.views import progress_bar, tune_table

    config = TuneConfig(
        budget_minutes=budget,
        n_folds=folds,
        max_trials=trials,
        seed=seed,
        storage=storage,
        threads=threads,
    )
    dataset = _load_dataset(data, no_history, sample, seed)
    with tracked("tune", resolve_uri(tracking_uri), console=err_console) as run:
        with progress_bar(err_console) as progress:
            result = run_tune(config, dataset, progress)
        write_params(result, out)
        log_tune(run, result, out, dataset.fingerprint)
    Console().print(tune_table(result))
    err_console.print(f"wrote {out}; train with `trainer fit --data {data} --params {out} --out models/NAME`")


@app.command()
def report(
    model: BundleDir,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Labelled data folder (default: the bundle's training data)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for report.html and the PNGs (default reports/NAME).")
    ] = None,
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            "--tracking-uri",
            help="Store of the bundle's MLflow run (default: the manifest's; 'off': no upload).",
        ),
    ] = None,
) -> None:
    """Write the model-risk report: curves, calibration, cost, SHAP, segments and PSI, as one HTML file."""
    from trainer.bundle import load_bundle
    from trainer.report import build_report
    from trainer.tracking import attach_files, resolve_uri

    target = out if out is not None else _default_out(Path("reports") / model.name)
    with err_console.status("Building the report"):
        html = build_report(model, data, target)
    err_console.print(f"wrote {html}")
    run = load_bundle(model).manifest.tracking
    if run and resolve_uri(tracking_uri) is not None:
        uri = resolve_uri(tracking_uri) if tracking_uri is not None else run["uri"]
        files = [*sorted(html.parent.glob("*.png")), html]
        if attach_files(uri, run["run_id"], files, "report"):
            err_console.print(f"attached the report to MLflow run {run['run_id']}")


@app.command()
def explore(
    data: DataDir,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for explore.html and PNGs (default reports/explore)."),
    ] = None,
) -> None:
    """Write an exploratory data report: missing values, distributions, default rates, correlations."""
    from trainer.explore import build_explore

    target = out if out is not None else _default_out(Path("reports") / "explore")
    with err_console.status("Exploring the data"):
        html = build_explore(data, target)
    err_console.print(f"wrote {html}")


def _default_out(relative: Path) -> Path:
    """Default output folders are relative to the current folder (never inside the installed package)."""
    return Path.cwd() / relative


def main() -> None:
    """Entry point of the ``trainer`` console script."""
    try:
        app()
    except UserError as exc:
        _error_line(str(exc))
        sys.exit(2)
    except OSError as exc:  # unreadable file, read-only or full disk, a folder where a file is expected
        where = f" ({exc.filename})" if exc.filename else ""
        _error_line(
            f"{exc.strerror or exc}{where}; check the path, its permissions and the free space, then retry."
        )
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


def _error_line(message: str) -> None:
    """Print ``error: MESSAGE`` on stderr: one line, no markup, control characters escaped."""
    from rich.text import Text

    from trainer.text_safety import clean_text

    err_console.print(Text.assemble(("error:", "bold red"), " ", clean_text(message)), soft_wrap=True)


if __name__ == "__main__":
    main()
