"""Temperature scaling, the expected calibration error and the reliability diagram."""

from __future__ import annotations

import numpy as np
import pytest

import nnlite as nl
import training.calibration as cal
from training.models import widen_classifier


def sampled(temperature: float, n: int = 20_000, seed: int = 0):
    """Logits, and labels drawn from softmax(logits / temperature): the true temperature."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 4, size=(n, 10))
    probabilities = np.exp(cal.log_softmax(logits / temperature))
    labels = (probabilities.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return logits, labels


@pytest.mark.parametrize("truth", [0.5, 1.0, 2.5])
def test_fit_temperature_recovers_the_temperature_that_made_the_labels(truth):
    logits, labels = sampled(truth)
    assert cal.fit_temperature(logits, labels) == pytest.approx(truth, rel=0.08)


def test_ece_is_small_when_calibrated_and_large_when_overconfident():
    logits, labels = sampled(2.0)
    fair = np.exp(cal.log_softmax(logits / 2.0))
    proud = np.exp(cal.log_softmax(logits))
    ece_fair = cal.expected_calibration_error(fair.max(axis=1), fair.argmax(axis=1) == labels)
    ece_proud = cal.expected_calibration_error(proud.max(axis=1), proud.argmax(axis=1) == labels)
    assert ece_fair < 0.02 < 0.1 < ece_proud


def test_folding_the_temperature_divides_the_logits_and_keeps_the_ranking():
    nl.seed(0)
    model = nl.Sequential([nl.Flatten(), nl.Dense(784, 32), nl.ReLU(), nl.Dense(32, 10)])
    x = np.random.default_rng(1).random((8, 1, 28, 28)).astype(np.float32)
    before = cal.logits_of(model, x)
    cal.fold_temperature(model, 2.5)
    np.testing.assert_allclose(cal.logits_of(model, x), before / 2.5, rtol=1e-5, atol=1e-5)


def test_widening_keeps_the_digits_and_adds_one_output():
    nl.seed(0)
    model = nl.Sequential([nl.Flatten(), nl.Dense(784, 16), nl.ReLU(), nl.Dense(16, 10)])
    x = np.random.default_rng(2).random((4, 1, 28, 28)).astype(np.float32)
    wide = widen_classifier(model, 11)
    np.testing.assert_allclose(cal.logits_of(wide, x)[:, :10], cal.logits_of(model, x), rtol=1e-6)
    assert cal.logits_of(wide, x).shape == (4, 11)


def test_reliability_diagram_draws_each_set():
    logits, labels = sampled(1.0, n=2000)
    p = np.exp(cal.log_softmax(logits))
    image = cal.reliability_diagram({"a": (p.max(1), p.argmax(1) == labels)})
    assert image.size[0] > 300 and len(np.unique(np.asarray(image).reshape(-1, 3), axis=0)) > 2
