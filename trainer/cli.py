"""The ``trainer`` command line: synth, check, fit, evaluate, predict, explain.

Every command turns a :class:`~trainer.errors.UserError` into one line on stderr and exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from trainer.config import DEFAULT_SEED
from trainer.errors import UserError

app = typer.Typer(
    name="trainer",
    help="Build, evaluate and serialise the Prêt à Dépenser credit model (Home Credit data).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the eight tables to.")],
    clients: Annotated[int, typer.Option("--clients", min=10, help="Clients in application_train.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = DEFAULT_SEED,
    fmt: Annotated[str, typer.Option("--format", help="csv (like the real data) or parquet.")] = "csv",
) -> None:
    """Generate realistic synthetic Home Credit tables (application_test gets 15.9 % as many clients)."""
    from trainer.synth import generate

    generate(out, n_clients=clients, seed=seed, fmt=fmt, console=err_console)


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


def main() -> None:
    """Entry point of the ``trainer`` console script."""
    try:
        app()
    except UserError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
