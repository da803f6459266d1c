"""The cut verifier: how its training pieces are labelled, that train_verifier.py makes a
usable model, and that a broken verifier file never stops the reader."""

from __future__ import annotations

import numpy as np
import pytest

import nnlite as nl
import train_verifier
from recognition.recognizer import Recognizer, _load_verifier
from training import verifier


def test_span_labels():
    digits = [(0, 50), (45, 100)]  # two touching digits, overlapping by 5 columns
    assert verifier.span_label((0, 48), digits) == 1
    assert verifier.span_label((46, 100), digits) == 1
    assert verifier.span_label((0, 100), digits) == 0  # both
    assert verifier.span_label((10, 35), digits) == 0  # half of one
    assert verifier.span_label((0, 70), digits) == 0  # one and half of the next
    assert verifier.span_label((0, 60), digits) is None  # a sliver more: ambiguous


@pytest.mark.slow
def test_a_quick_run_writes_a_two_class_model(tmp_path, mnist_dir):
    out = tmp_path / "verifier.npz"
    assert (
        train_verifier.main(
            ["--groups", "20", "--epochs", "1", "--data", str(mnist_dir), "--out", str(out)]
        )
        == 0
    )
    model = nl.load(out)
    probabilities = model.predict(np.zeros((3, 1, 28, 28), np.float32))
    assert probabilities.shape == (3, 2)
    assert model.metadata["pieces"] > 0 and 0 <= model.metadata["validation_accuracy"] <= 1


def test_the_shipped_verifier_is_loaded_and_a_broken_one_is_skipped(tmp_path, capsys):
    assert Recognizer.load().verifier is not None
    broken = tmp_path / "digit_verifier.npz"
    broken.write_bytes(b"not an npz")
    assert _load_verifier(broken) is None
    assert "cut verifier" in capsys.readouterr().err
    assert _load_verifier(tmp_path / "missing.npz") is None
