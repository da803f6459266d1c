"""Shared fixtures: the project root on sys.path and the MNIST files beside the project."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# In a pytest-xdist run of several workers (scripts/test: one a core) each worker, and the
# servers it starts, computes on one thread: two workers each starting OpenBLAS's and nnlite's
# threads for every core made the slowest tests 2.5 times slower on a 2-core AMD EPYC (59 s
# against 23 s) and the suite 12 minutes. Set before NumPy and nnlite are imported, which
# read them once; a run in one process keeps every core's threads.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "NNLITE_NUM_THREADS"):
        os.environ.setdefault(variable, "1")

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnlite as nl  # noqa: E402
from webapp.local import start_local_app  # noqa: E402

# MNIST is found through $MNIST_DIR everywhere (nnlite's load_mnist, the scripts the tests
# run); CI sets it, and so does this file for a developer's run: ../shared/mnist.
os.environ.setdefault("MNIST_DIR", str(ROOT.parent / "shared" / "mnist"))
MNIST_DIR = Path(os.environ["MNIST_DIR"])
# A developer's own database must never meet the tests (app.py reads it when set).
os.environ.pop("DATABASE_URL", None)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The four MNIST files, in $MNIST_DIR (CI and every developer: ../shared/mnist)."""
    assert (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file(), (
        f"MNIST is expected in $MNIST_DIR={MNIST_DIR} (see the README)"
    )
    return MNIST_DIR


@pytest.fixture(scope="session")
def mnist(mnist_dir: Path):
    """((x_train, y_train), (x_test, y_test)) as uint8 arrays."""
    return nl.data.load_mnist(mnist_dir)


#: A test that uses one of these starts a server, a browser or PostgreSQL: it is slow.
SLOW_FIXTURES = {"app_server", "app_url", "server", "site", "postgres", "browser", "quick_model"}


#: The longest test files, longest first (seconds of tests on a 2-core AMD EPYC, two
#: workers): they run first, so that the two workers end together on short files instead of
#: one waiting for the other's last long file (pytest-xdist hands out files in this order).
LONGEST_FILES = (
    "test_accounts.py",  # 167 s
    "test_recognition.py",  # 149
    "test_train_script.py",  # 127
    "test_groups.py",  # 127
    "test_app_browser.py",  # 81
    "test_many_processes.py",  # 79
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the longest files first (LONGEST_FILES; the order within a file is kept), and mark
    as ``slow`` every test that needs a slow fixture or the PostgreSQL backend, so that
    ``pytest -m "not slow"`` is the fast tier (the rest is marked by hand)."""
    rank = {name: index for index, name in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # (a stable sort)
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or "postgresql" in (
            params.values()
        ):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server for the whole run (tests/services.py)."""
    from services import PostgresCluster

    cluster = PostgresCluster()
    yield cluster
    cluster.remove()


def new_database(request: pytest.FixtureRequest, backend: str, folder: Path) -> str:
    """A new empty accounts database of ``backend``: a SQLite path in ``folder`` or the URL
    of a new PostgreSQL database in the session's cluster."""
    if backend == "sqlite":
        return str(folder / "digits.db")
    cluster = request.getfixturevalue("postgres")
    return cluster.create_database(f"digits_{os.urandom(6).hex()}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new empty accounts database, once of each backend."""
    return new_database(request, request.param, tmp_path)


@pytest.fixture(params=["reference", "fast"])
def engine(request: pytest.FixtureRequest):
    """Run the test once with each engine (``nl.set_engine``); the default comes back after."""
    before = nl.engine()
    nl.set_engine(request.param)
    yield request.param
    nl.set_engine(before)


@pytest.fixture(autouse=True)
def fixed_seed():
    """Every test starts from the same library and NumPy randomness."""
    nl.seed(0)
    np.random.seed(0)


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


def start_server(args: list[str], timeout: float = 90.0, env: dict | None = None):
    """Run ``python app.py ARGS`` on a free port of 127.0.0.1 until it answers; returns
    ``(process, url)``. Its output goes to a file, ``process.log_path`` (tests read it: no
    traceback for a user's mistake)."""
    import tempfile

    handle, log_path = tempfile.mkstemp(prefix="app-", suffix=".log")
    with os.fdopen(handle, "w") as log:
        try:
            process, url = start_local_app(args, output=log, timeout=timeout, env=env)
        except RuntimeError as error:
            raise RuntimeError(f"{error}:\n{Path(log_path).read_text()}") from None
    process.log_path = log_path
    return process, url


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
