"""trainer explore: an EDA page with every section and its figures embedded; errors are one sentence."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from trainer.explore import build_explore


def test_explore_writes_every_section(synth_dir: Path, tmp_path: Path) -> None:
    html_path = build_explore(synth_dir, tmp_path / "eda")
    html = html_path.read_text(encoding="utf-8")
    sections = re.findall(r'<section id="([^"]+)"', html)
    assert sections == ["overview", "missing", "distributions", "categories", "deciles", "correlations"]
    assert html.count("data:image/png;base64,") == len(list(html_path.parent.glob("*.png"))) == 5
    assert "2,000 labelled clients" in html


def test_explore_on_a_missing_folder_is_one_clear_line(tmp_path: Path) -> None:
    cli = [sys.executable, "-c", "from trainer.cli import main; main()"]
    args = ["explore", "--data", str(tmp_path / "no"), "--out", str(tmp_path / "eda")]
    proc = subprocess.run(
        [*cli, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and str(tmp_path / "no") in proc.stderr
    assert not (tmp_path / "eda").exists()
