"""benchmarks/same_answers.py: the check that a speed change left every answer as it was."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "same_answers.py"


def run(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=600
    )


def test_a_record_compares_identical_to_itself_and_not_to_a_changed_one(tmp_path: Path):
    """Record the pipeline on the smallest corpus, compare it with itself (identical, exit
    0) and with a copy where one image's answer and another's ink changed (both named,
    exit 1)."""
    record = tmp_path / "before.npz"
    made = run("record", record, "--per-style", 1)
    assert made.returncode == 0, made.stderr
    same = run("compare", record, record)
    assert same.returncode == 0 and "identical" in same.stdout
    found = dict(np.load(record))
    names = sorted({key.split("/")[0] for key in found})
    assert any(name.startswith("number_shadow") for name in names)  # every style is in it
    found[f"{names[0]}/digit"] = found[f"{names[0]}/digit"] + [1, 0]
    inked = next(name for name in reversed(names) if found[f"{name}/ink"].max() > 0)
    found[f"{inked}/ink"] = found[f"{inked}/ink"] * 0.5
    np.savez_compressed(tmp_path / "after.npz", **found)
    changed = run("compare", record, tmp_path / "after.npz")
    assert changed.returncode == 1
    assert f"differs: {names[0]}" in changed.stdout and f"differs: {inked}" in changed.stdout
    assert "2 of" in changed.stdout


def test_compare_says_what_is_missing():
    """A record that is not there is a clear error, not a traceback."""
    missing = run("compare", "/nonexistent/a.npz", "/nonexistent/b.npz")
    assert missing.returncode == 2 and "no such record" in missing.stderr
    assert "Traceback" not in missing.stderr
