"""The committed model: its accuracy on all 10,000 MNIST test images, its size, its metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nnlite as nl

WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "mnist_cnn.npz"


@pytest.fixture(scope="module")
def shipped():
    return nl.load(WEIGHTS)


def test_file_is_small_enough():
    assert WEIGHTS.stat().st_size <= 10 * 1024 * 1024


@pytest.mark.slow
def test_full_test_set_accuracy_is_at_least_99_6_percent(shipped, mnist):
    _, (x_test, y_test) = mnist
    probs = shipped.predict(nl.data.to_images(x_test))
    assert probs.shape == (10000, 11)  # the ten digits and "not a digit" (counted as wrong)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    accuracy = (probs.argmax(axis=1) == y_test).mean()
    assert accuracy >= 0.996, f"{accuracy:.4%}"
    # The accuracy recorded in the file is the one measured here.
    assert shipped.metadata["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)


def test_metadata_describes_its_training(shipped):
    meta = shipped.metadata
    assert meta["data"]["name"] == "MNIST"
    # 55000 digits (5000 held out to calibrate on), the synthesized non-digits and the
    # digits redrawn in writing styles MNIST lacks.
    assert meta["held_out_digits"] == 5000
    styled = meta.get("styled_digits", 0)
    assert meta["data"]["train_images"] == 55000 + meta["not_digit_images"] + styled
    assert meta["classes"][10] == "not a digit" and meta["calibration"]["temperature"] > 0
    for key in ("epochs", "seed", "augmentation", "train_seconds", "library_version", "input"):
        assert key in meta, key


def test_takes_raw_zero_to_one_input(shipped):
    """No caller-side normalisation: a blank image is not read as a confident digit by
    accident of scaling, and an MNIST digit in [0, 1] is read right."""
    digit = np.zeros((1, 1, 28, 28), np.float32)
    digit[0, 0, 4:24, 13:15] = 1.0  # a vertical bar: a one
    assert shipped.predict(digit).argmax() == 1
