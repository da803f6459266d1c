"""``pip install .`` gives a course the library alone: the nnlite package, NumPy its only
dependency, importable and working outside this repository."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT

import nnlite as nl

PIP = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]


@pytest.mark.slow
def test_pip_install_gives_nnlite_alone(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", str(ROOT), "-w", str(wheels)],
        check=True,
        cwd=tmp_path,
        timeout=300,
    )
    (wheel,) = wheels.glob("nnlite-*.whl")
    assert wheel.name.startswith(f"nnlite-{nl.__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(f"nnlite-{nl.__version__}.dist-info/METADATA").decode()
    assert all(
        name.split("/")[0] in ("nnlite", f"nnlite-{nl.__version__}.dist-info") for name in names
    )
    assert "nnlite/layers.py" in names and not any(
        n.startswith(("app", "recognition")) for n in names
    )
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert requires == ["Requires-Dist: numpy>=1.26"]

    site = tmp_path / "site"
    subprocess.run(
        [*PIP, "install", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        timeout=300,
    )
    script = (
        "import numpy as np, nnlite as nl; print(nl.__file__);"
        "m = nl.Sequential([nl.Dense(4, 3)]); x = np.ones((2, 4), np.float32);"
        "print(nl.gradcheck(nl.Dense(4, 3), x.astype(float)).ok, m.predict(x).shape)"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    location, check = result.stdout.splitlines()
    assert location.startswith(str(site))
    assert check == "True (2, 3)"
