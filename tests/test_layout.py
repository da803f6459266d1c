"""The code's layout is its architecture: dependencies go one way only.

    nnlite  <-  recognition  <-  training        (train.py, train_verifier.py, train_groups.py)
                recognition  <-  accounts  <-  webapp   (app.py)

and the administrator's commands (``app.py --add-user``, ``--export-corrections``) and a
database that is refused run without importing Gradio.
"""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import ROOT

PACKAGES = ["nnlite", "recognition", "training", "accounts", "webapp"]
#: What each package may import of the others.
ALLOWED = {
    "nnlite": set(),
    "recognition": {"nnlite"},
    "training": {"nnlite", "recognition"},
    "accounts": {"recognition"},
    "webapp": {"nnlite", "recognition", "accounts"},
}
ENTRY_POINTS = {
    "app.py": {"accounts", "recognition", "webapp"},
    "recognize.py": {"recognition"},
    "train.py": {"nnlite", "training"},
    "train_verifier.py": {"nnlite", "training"},
    "train_groups.py": {"nnlite", "training"},
}


def project_imports(path) -> set[str]:
    """The project's top-level packages and modules that the file at ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    project = set(PACKAGES) | {name.removesuffix(".py") for name in ENTRY_POINTS}
    return found & project


def test_packages_depend_one_way():
    wrong = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            extra = project_imports(path) - ALLOWED[package] - {package}
            if extra:
                wrong.append(f"{path.relative_to(ROOT)} imports {sorted(extra)}")
    assert not wrong, "\n".join(wrong)


def test_entry_points_are_thin_and_import_no_other_script():
    for script, allowed in ENTRY_POINTS.items():
        path = ROOT / script
        assert project_imports(path) <= allowed, script
        assert len(path.read_text().splitlines()) < 160, f"{script} should stay a command line"


def test_admin_commands_and_refusals_run_without_gradio(tmp_path):
    code = (
        "import sys, app\n"
        "status = app.main(['--db', sys.argv[1], '--add-user', 'ann@example.com'])\n"
        "assert status == 1, status\n"  # no password on stdin: refused, with the reason
        "try:\n"
        "    app.main(['--accounts', '--db', sys.argv[2]])\n"
        "except SystemExit as stop:\n"
        "    assert stop.code == 2\n"
        "assert 'gradio' not in sys.modules and 'pandas' not in sys.modules, 'web stack loaded'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "a.db"), str(tmp_path / "no" / "b.db")],
        cwd=ROOT,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "8 characters" in result.stderr and "does not exist" in result.stderr
