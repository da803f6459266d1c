"""The "Inside the network" view: its saliency is a true gradient, its pictures have the
shapes the page expects, and looking inside never disturbs the recognizer."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from conftest import ROOT

import nnlite as nl
from recognition import Recognizer
from recognition.inside import Inspector, diverging, step_strip, tile, viridis

EXAMPLES = ROOT / "examples" / "images"


@pytest.fixture(scope="module")
def inspector() -> Inspector:
    return Inspector(Recognizer.load())


@pytest.mark.slow
def test_saliency_is_the_gradient_of_the_winning_logit(inspector):
    """Check the saliency against a float64 copy's model.backward and central differences.

    Max-pool windows of equal values are ties, where the network is not differentiable: the
    empty paper around a digit gives every window there the same value, and float32's BLAS
    makes those values differ in their last bit from position to position in a way that
    depends on the CPU (which tied input wins, and so where the saliency goes, is not a
    property of the network). So compare only at pixels where the one-sided differences agree
    (the network is locally linear there), and ask for enough of them."""
    view = inspector.inspect(EXAMPLES / "photo_7.jpg")
    assert view.prediction.label == 7
    digit = view.prediction.input.astype(np.float64)
    model = copy.deepcopy(inspector.model).astype(np.float64)  # (astype works in place)
    model.eval()

    def logit(image: np.ndarray) -> float:
        return float(model.forward(image.reshape(1, 1, 28, 28))[0, 7])

    logits = model.forward(digit.reshape(1, 1, 28, 28))
    grad_out = np.zeros_like(logits)
    grad_out[0, 7] = 1.0
    exact = model.backward(grad_out)[0, 0]
    scale = np.abs(exact).max()
    rng = np.random.default_rng(0)
    base, step, compared = logit(digit), 1e-5, 0
    for y, x in rng.integers(3, 25, size=(150, 2)):
        bumped, dipped = digit.copy(), digit.copy()
        bumped[y, x] += step
        dipped[y, x] -= step
        forward, backward = (logit(bumped) - base) / step, (base - logit(dipped)) / step
        if abs(forward - backward) > 1e-6 * max(1.0, abs(forward)):
            continue
        compared += 1
        assert (forward + backward) / 2 == pytest.approx(exact[y, x], rel=1e-4, abs=1e-7)
        assert view.saliency[y, x] == pytest.approx(exact[y, x], rel=1e-3, abs=1e-4 * scale)
    assert compared >= 20
    # The strongest pixel is no tie: float32 and float64 agree on it and on its gradient.
    assert np.abs(view.saliency).max() == pytest.approx(scale, rel=0.05)


def test_pictures_have_the_shapes_the_page_shows(inspector):
    view = inspector.inspect(EXAMPLES / "italic_9.png")
    assert [caption.split(".")[0] for _, caption in view.steps] == list("1234567")
    convs = sum(isinstance(layer, nl.Conv2D) for layer in inspector.model.layers)
    assert len(view.feature_maps) == convs == 4
    first, caption = view.feature_maps[0]
    assert first.ndim == 3 and first.shape[2] == 3 and "32 feature maps of 28x28" in caption
    assert "64 feature maps of 14x14" in view.feature_maps[-1][1]
    assert view.filters.shape[2] == 3 and view.saliency_image.shape == (280, 280, 3)
    strip = step_strip(view.steps)
    assert strip.shape == (162, 7 * 156 + 6, 3)


def test_an_empty_image_gives_steps_only(inspector):
    view = inspector.inspect(np.full((60, 60), 255, np.uint8))
    assert view.prediction.label is None
    assert view.saliency is None and view.feature_maps == [] and view.steps


def test_looking_inside_leaves_the_recognizer_untouched(inspector):
    recognizer = inspector.recognizer
    before = recognizer.predict(EXAMPLES / "thin_4.png").probabilities
    grads = [p.grad.copy() for p in recognizer.model.parameters()]
    inspector.inspect(EXAMPLES / "thin_4.png")
    np.testing.assert_array_equal(recognizer.predict(EXAMPLES / "thin_4.png").probabilities, before)
    for parameter, grad in zip(recognizer.model.parameters(), grads, strict=True):
        np.testing.assert_array_equal(parameter.grad, grad)


def test_colour_maps_and_tiles():
    assert viridis(np.array([0.0, 1.0])).tolist() == [[68, 1, 84], [253, 231, 37]]
    colours = diverging(np.array([-1.0, 0.0, 1.0]))
    assert colours[1].tolist() == [255, 255, 255]
    assert colours[0, 2] > colours[0, 0] and colours[2, 0] > colours[2, 2]
    grid = tile(np.zeros((5, 4, 4, 3), np.uint8), columns=2, gap=1, fill=9)
    assert grid.shape == (3 * 5 - 1, 2 * 5 - 1, 3) and grid[4, 0, 0] == 9
