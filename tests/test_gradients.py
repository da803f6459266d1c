"""Every layer's and the loss's backward pass against central finite differences (float64),
on both engines (the ``engine`` fixture)."""

from __future__ import annotations

import numpy as np
import pytest

import nnlite as nl


def random_input(shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(1).standard_normal(shape)


LAYER_CASES = [
    ("dense", lambda: nl.Dense(6, 4), (5, 6)),
    ("conv 3x3 pad 1", lambda: nl.Conv2D(2, 3, 3, padding=1), (2, 2, 6, 6)),
    ("conv one input channel", lambda: nl.Conv2D(1, 4, 3, padding=1), (2, 1, 5, 5)),
    ("conv stride 2", lambda: nl.Conv2D(3, 2, 3, stride=2, padding=1), (2, 3, 7, 7)),
    ("conv few inputs stride 2", lambda: nl.Conv2D(1, 4, 3, stride=2, padding=1), (2, 1, 7, 6)),
    ("conv 5x5 stride 3 uneven", lambda: nl.Conv2D(2, 3, 5, stride=3, padding=2), (2, 2, 9, 10)),
    ("conv no padding", lambda: nl.Conv2D(2, 2, 2), (2, 2, 5, 4)),
    # More than the fast engine's FEW_CHANNELS input channels: patches as rows, input gradient by a
    # convolution with the flipped kernel (the cases above build patches as planes).
    ("conv many channels", lambda: nl.Conv2D(6, 3, 3, padding=1), (2, 6, 5, 5)),
    ("conv many channels stride 2", lambda: nl.Conv2D(5, 4, 3, stride=2, padding=1), (2, 5, 7, 6)),
    ("conv many 5x5 stride 3", lambda: nl.Conv2D(6, 2, 5, stride=3, padding=2), (1, 6, 9, 10)),
    ("maxpool 2", lambda: nl.MaxPool2D(2), (2, 3, 6, 6)),
    ("maxpool 2 odd size", lambda: nl.MaxPool2D(2), (2, 2, 7, 5)),
    ("maxpool 3 stride 2 overlapping", lambda: nl.MaxPool2D(3, stride=2), (2, 2, 7, 7)),
    ("relu", lambda: nl.ReLU(), (3, 7)),
    ("flatten", lambda: nl.Flatten(), (2, 3, 2, 2)),
    ("columns", lambda: nl.Columns(), (2, 3, 4, 5)),
    ("dropout", lambda: nl.Dropout(0.3), (4, 10)),
    ("batchnorm train", lambda: nl.BatchNorm2D(3), (4, 3, 3, 3)),
]


@pytest.mark.parametrize("name, make_layer, shape", LAYER_CASES, ids=[c[0] for c in LAYER_CASES])
def test_layer_backward_matches_finite_differences(engine, name, make_layer, shape):
    result = nl.gradcheck(make_layer(), random_input(shape))
    assert result.ok, str(result)
    assert "input" in result.errors


def test_layers_with_parameters_check_their_parameters(engine):
    result = nl.gradcheck(nl.Conv2D(2, 3, 3, padding=1), random_input((2, 2, 5, 5)))
    assert set(result.errors) == {"input", "weight", "bias"}


def test_batchnorm_in_eval_mode(engine):
    layer = nl.BatchNorm2D(2)
    layer.running_mean = np.array([0.5, -1.0], dtype=np.float32)
    layer.running_var = np.array([2.0, 0.5], dtype=np.float32)
    layer.eval()
    assert nl.gradcheck(layer, random_input((3, 2, 4, 4))).ok


def test_dropout_in_eval_mode_is_identity():
    layer = nl.Dropout(0.5)
    layer.eval()
    x = random_input((4, 5)).astype(np.float32)
    np.testing.assert_array_equal(layer.forward(x), x)
    assert nl.gradcheck(layer, x).ok


def test_whole_small_cnn(engine):
    model = nl.Sequential(
        [
            nl.Conv2D(1, 3, 3, padding=1),
            nl.BatchNorm2D(3),
            nl.ReLU(),
            nl.MaxPool2D(2),
            nl.Flatten(),
            nl.Dense(3 * 3 * 3, 5),
            nl.ReLU(),
            nl.Dropout(0.2),
            nl.Dense(5, 4),
        ]
    )
    result = nl.gradcheck(model, random_input((3, 1, 6, 6)))
    assert result.ok, str(result)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_backward(smoothing):
    logits = random_input((6, 5))
    labels = np.array([0, 4, 2, 2, 1, 3])
    result = nl.gradcheck(nl.CrossEntropyLoss(label_smoothing=smoothing), logits, labels)
    assert result.ok, str(result)


@pytest.mark.parametrize("flat", [False, True])
def test_ctc_backward(flat):
    """Labels of different lengths (one empty, one with a repeat) padded with the blank (3);
    the logits as (N, T, K) or flat (N * T, K), as Columns and a Dense layer give them."""
    logits = random_input((4, 6, 4))
    labels = np.array([[0, 1, 3], [2, 2, 3], [3, 3, 3], [1, 0, 2]])
    logits = logits.reshape(-1, 4) if flat else logits
    result = nl.gradcheck(nl.CTCLoss(blank=3), logits, labels)
    assert result.ok, str(result)


class WrongReLU(nl.ReLU):
    """A deliberately wrong backward: it lets the gradient through everywhere."""

    def backward(self, grad_out):
        return grad_out


class WrongDense(nl.Dense):
    """A deliberately wrong weight gradient: transposed inputs swapped for ones."""

    def backward(self, grad_out):
        grad_x = super().backward(grad_out)
        self.weight.grad *= 0.5
        return grad_x


def test_gradcheck_fails_on_a_wrong_input_gradient():
    result = nl.gradcheck(WrongReLU(), random_input((4, 6)))
    assert not result.ok
    assert result.errors["input"] > 1e-2


def test_gradcheck_fails_on_a_wrong_parameter_gradient():
    result = nl.gradcheck(WrongDense(4, 3), random_input((5, 4)))
    assert not result.ok
    assert result.errors["weight"] > 1e-2
    assert result.errors["input"] < 1e-6


def test_gradcheck_leaves_the_layer_untouched():
    layer = nl.Dense(3, 2)
    before = layer.weight.data.copy()
    nl.gradcheck(layer, random_input((2, 3)))
    assert layer.weight.data.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.data, before)


def test_layers_compute_in_the_input_dtype():
    for layer, shape in [
        (nl.Conv2D(2, 3, 3, padding=1), (2, 2, 5, 5)),
        (nl.BatchNorm2D(2), (2, 2, 3, 3)),
        (nl.MaxPool2D(2), (2, 2, 4, 4)),
        (nl.Dense(4, 3), (2, 4)),
    ]:
        x = random_input(shape).astype(np.float32)
        out = layer.forward(x)
        assert out.dtype == np.float32, layer
        assert layer.backward(np.ones_like(out)).dtype == np.float32, layer
