"""Shared fixtures: the project root on sys.path and the MNIST files beside the project."""

from __future__ import annotations

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
