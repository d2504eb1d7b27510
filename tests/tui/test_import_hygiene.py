"""The headless core never imports the UI, and the UI package imports nothing heavy at import time."""

from __future__ import annotations

import subprocess
import sys


def modules_after(statement: str) -> set[str]:
    code = f"{statement}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(result.stdout.split())


def test_trainer_does_not_import_the_tui() -> None:
    loaded = modules_after(
        "import trainer, trainer.scoring, trainer.portfolio, trainer.labels, trainer.features, trainer.cli"
    )
    assert "trainer.scoring" in loaded
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}
    assert not {m for m in loaded if m == "credit_tui" or m.startswith("credit_tui.")}


def test_tui_cli_imports_lazily() -> None:
    loaded = modules_after("import credit_tui.cli")
    for heavy in ("textual", "xgboost", "pandas", "trainer.scoring"):
        assert heavy not in loaded, heavy


def test_a_first_opening_starts_its_history_build_before_the_heavy_imports() -> None:
    loaded = modules_after(
        "import credit_tui.cli as cli; cli.build_parser().parse_args([]); "
        "import credit_tui.services as s, trainer.history_cache, trainer.table_files; "
        "s.manifest_history_tables(cli.DEMO_MODEL); trainer.table_files.history_files(cli.DEMO_DIR)"
    )
    assert "trainer.history_cache" in loaded
    for heavy in ("numpy", "pandas", "pyarrow", "duckdb", "textual", "xgboost"):
        assert heavy not in loaded, heavy
