"""Shared fixtures: the project root on sys.path and the MNIST files beside the project."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnlite as nl  # noqa: E402

SHARED_MNIST = ROOT.parent / "shared" / "mnist"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The four MNIST files; CI and every developer have them at ../shared/mnist."""
    assert (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file(), (
        f"MNIST is expected at {SHARED_MNIST} (see the README)"
    )
    return SHARED_MNIST


@pytest.fixture(scope="session")
def mnist(mnist_dir: Path):
    """((x_train, y_train), (x_test, y_test)) as uint8 arrays."""
    return nl.data.load_mnist(mnist_dir)


@pytest.fixture(autouse=True)
def fixed_seed():
    """Every test starts from the same library and NumPy randomness."""
    nl.seed(0)
    np.random.seed(0)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_script(
    script: str, *args: str, stdin: str = "", timeout: float = 120, env: dict | None = None
):
    """Run one of the project's scripts (``app.py``, ``recognize.py``, ``train.py``) with this
    Python from the project root; returns the CompletedProcess, output captured as text.
    Standard input is always a pipe (empty unless ``stdin`` is given): nothing can end up
    waiting on a terminal. ``env`` adds environment variables."""
    import subprocess

    return subprocess.run(
        [sys.executable, str(ROOT / script), *args],
        env={**os.environ, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


def start_server(args: list[str], timeout: float = 90.0):
    """Run ``python app.py ARGS --port P`` on 127.0.0.1 until it answers; returns (process, url)."""
    import subprocess
    import tempfile
    import time
    import urllib.request

    port = free_port()
    # The server's output goes to a file (a pipe nobody reads would fill up and stall it);
    # tests read it as ``process.log_path`` (no traceback for a user's mistake).
    handle, log_path = tempfile.mkstemp(prefix="app-", suffix=".log")
    command = [sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port)]
    with os.fdopen(handle, "w") as log:
        process = subprocess.Popen(
            [*command, *args],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    process.log_path = log_path
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited early:\n{Path(log_path).read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"app.py did not answer at {url} within {timeout} s")


def stop_server(process) -> str:
    """Stop a server of :func:`start_server`; returns everything it printed."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except Exception:
        process.kill()
    with open(process.log_path) as log:
        printed = log.read()
    os.unlink(process.log_path)
    return printed


@pytest.fixture(scope="session")
def app_server():
    """The public app (no accounts) on a free port for the whole test session:
    ``(process, url)``; its output is in ``process.log_path``."""
    process, url = start_server([])
    yield process, url
    stop_server(process)


@pytest.fixture(scope="session")
def app_url(app_server):
    return app_server[1]
