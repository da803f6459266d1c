"""Convolution and pooling against naive loop implementations, and the max-pool tie rule,
on both engines (the ``engine`` fixture runs a test once on each)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import nnlite as nl
from nnlite.engines import fast


def naive_conv2d(x, weight, bias, stride, padding):
    """The textbook definition, one output element at a time."""
    n, _, h, w = x.shape
    o, _, k, _ = weight.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out_h = (h + 2 * padding - k) // stride + 1
    out_w = (w + 2 * padding - k) // stride + 1
    out = np.zeros((n, o, out_h, out_w))
    for b in range(n):
        for oc in range(o):
            for i in range(out_h):
                for j in range(out_w):
                    patch = xp[b, :, i * stride : i * stride + k, j * stride : j * stride + k]
                    out[b, oc, i, j] = np.sum(patch * weight[oc]) + bias[oc]
    return out


def naive_max_pool(x, k, stride):
    n, c, h, w = x.shape
    out_h, out_w = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.zeros((n, c, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, :, i * stride : i * stride + k, j * stride : j * stride + k]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out


@pytest.mark.parametrize(
    "shape, out_channels, k, stride, padding",
    [
        ((2, 3, 8, 8), 4, 3, 1, 1),
        ((1, 1, 28, 28), 5, 3, 1, 1),
        ((2, 2, 9, 7), 3, 3, 2, 1),
        ((2, 3, 10, 11), 2, 5, 3, 2),
        ((3, 2, 6, 6), 2, 2, 2, 0),
        ((2, 6, 9, 7), 4, 3, 2, 1),
        ((2, 5, 8, 8), 8, 3, 1, 1),
    ],
)
def test_conv2d_forward_matches_naive(engine, shape, out_channels, k, stride, padding):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    weight = rng.standard_normal((out_channels, shape[1], k, k)).astype(np.float32)
    bias = rng.standard_normal(out_channels).astype(np.float32)
    out, _ = nl.ops.conv2d_forward(x, weight, bias, stride, padding)
    expected = naive_conv2d(x, weight, bias, stride, padding)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_conv2d_layer_shapes_and_bad_input():
    layer = nl.Conv2D(1, 8, 3, stride=2, padding=1)
    assert layer.forward(np.zeros((3, 1, 28, 28), np.float32)).shape == (3, 8, 14, 14)
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 1, H, W\)"):
        layer.forward(np.zeros((3, 2, 28, 28), np.float32))
    with pytest.raises(ValueError, match="expects input"):
        layer.forward(np.zeros((28, 28), np.float32))
    with pytest.raises(ValueError, match="padding"):
        nl.Conv2D(1, 1, 3, padding=3)


@pytest.mark.parametrize(
    "shape, k, stride",
    [
        ((2, 3, 8, 8), 2, 2),
        ((2, 2, 7, 9), 2, 2),
        ((1, 2, 9, 9), 3, 2),
        ((5, 2, 11, 10), 3, 3),
        ((3, 2, 4, 5), 1, 1),
        ((1, 4, 12, 12), 4, 4),
    ],
)
def test_max_pool_forward_matches_naive(engine, shape, k, stride):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out, _ = nl.ops.max_pool2d_forward(x, k, stride)
    np.testing.assert_array_equal(out, naive_max_pool(x, k, stride))


def test_max_pool_backward_sends_each_gradient_to_exactly_one_tied_input(engine):
    # MNIST's background: windows full of equal zeros.
    x = np.zeros((2, 3, 4, 4), dtype=np.float32)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = 5.0  # a tie between two non-zero maxima too
    layer = nl.MaxPool2D(2)
    out = layer.forward(x)
    grad_out = np.arange(1, out.size + 1, dtype=np.float32).reshape(out.shape)
    grad_x = layer.backward(grad_out)
    # Total gradient is conserved and each window has exactly one non-zero entry.
    assert grad_x.sum() == pytest.approx(grad_out.sum())
    windows = grad_x.reshape(2, 3, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 2, 2, 4)
    assert np.all((windows != 0).sum(axis=-1) == 1)
    # The winner is the first maximum in row-major order.
    assert grad_x[0, 0, 0, 1] == grad_out[0, 0, 0, 0] and grad_x[0, 0, 1, 0] == 0
    assert grad_x[1, 2, 0, 0] == grad_out[1, 2, 0, 0]


def test_overlapping_max_pool_accumulates_gradients(engine):
    x = np.zeros((1, 1, 5, 5), dtype=np.float32)
    x[0, 0, 2, 2] = 1.0  # the centre is the maximum of all four 3x3 windows
    layer = nl.MaxPool2D(3, stride=2)
    out = layer.forward(x)
    grad_x = layer.backward(np.ones_like(out))
    assert grad_x[0, 0, 2, 2] == 4.0 and grad_x.sum() == 4.0


def test_softmax_is_stable_and_normalised():
    logits = np.array([[1000.0, 1000.0, -1000.0], [0.0, 1.0, 2.0]])
    probs = nl.softmax(logits)
    assert np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(probs[0], [0.5, 0.5, 0.0], atol=1e-12)
    np.testing.assert_allclose(nl.log_softmax(logits)[1], np.log(probs[1]))


def test_cross_entropy_value():
    logits = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]))
    loss = nl.CrossEntropyLoss().forward(logits, np.array([0, 2]))
    assert loss == pytest.approx(-(np.log(0.7) + np.log(0.8)) / 2)
    with pytest.raises(ValueError, match="labels must be in"):
        nl.CrossEntropyLoss().forward(logits, np.array([0, 3]))


@pytest.mark.parametrize(
    "shape, k, stride", [((2, 3, 7, 9), 2, 2), ((2, 2, 9, 9), 3, 3), ((1, 2, 9, 9), 3, 2)]
)
def test_max_pool_backward_matches_a_naive_first_maximum_loop(engine, shape, k, stride):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, size=shape).astype(np.float32)  # many ties
    out, cache = nl.ops.max_pool2d_forward(x, k, stride)
    grad_out = rng.standard_normal(out.shape).astype(np.float32)
    expected = np.zeros_like(x)
    for n in range(shape[0]):
        for c in range(shape[1]):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    window = x[n, c, i * stride : i * stride + k, j * stride : j * stride + k]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    expected[n, c, i * stride + a, j * stride + b] += grad_out[n, c, i, j]
    np.testing.assert_allclose(nl.ops.max_pool2d_backward(grad_out, cache), expected, rtol=1e-6)


@pytest.mark.parametrize("stride, padding", [(1, 1), (1, 0), (2, 1)])
def test_conv_in_evaluation_mode_gives_the_same_outputs_and_gradients(engine, stride, padding):
    """Evaluation mode changes nothing in a convolution, forward or backward (the app's
    saliency map runs backward on a model in evaluation mode)."""
    rng = np.random.default_rng(2)
    layer = nl.Conv2D(3, 5, 3, stride=stride, padding=padding)
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    outputs, grads = [], []
    for training in (True, False):
        layer.train() if training else layer.eval()
        out = layer.forward(x)
        grad_out = np.linspace(-1, 1, out.size, dtype=np.float32).reshape(out.shape)
        layer.weight.grad[...] = 0
        grads.append((layer.backward(grad_out), layer.weight.grad.copy()))
        outputs.append(out)
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5, atol=1e-5)
    for train_grad, eval_grad in zip(grads[0], grads[1], strict=True):
        np.testing.assert_allclose(train_grad, eval_grad, rtol=1e-5, atol=1e-5)


def test_convolution_in_chunks_gives_the_same_results(monkeypatch):
    """The fast engine: the patch matrix is built a chunk of samples at a time; one sample
    per chunk must give the same output and gradients as the whole batch in one chunk."""
    rng = np.random.default_rng(3)
    layer = nl.Conv2D(6, 4, 3, padding=1)
    x = rng.standard_normal((5, 6, 7, 7)).astype(np.float32)
    grad_out = rng.standard_normal((5, 4, 7, 7)).astype(np.float32)
    results = []
    nl.set_engine("fast")  # (the default; a test on its own may run with either)
    for chunk_bytes in (2**30, 1):
        monkeypatch.setattr(fast, "CHUNK_BYTES", chunk_bytes)
        assert len(fast.sample_chunks(5, 7 * 7 * 54 * 4)) == (1 if chunk_bytes > 1 else 5)
        layer.weight.grad[...] = 0
        out = layer.forward(x)
        results.append((out, layer.backward(grad_out), layer.weight.grad.copy()))
    for whole, chunked in zip(*results, strict=True):
        np.testing.assert_allclose(whole, chunked, rtol=1e-5, atol=1e-5)


def _collapsed(path: tuple[int, ...], blank: int) -> list[int]:
    out: list[int] = []
    previous = None
    for label in path:
        if label != previous and label != blank:
            out.append(label)
        previous = label
    return out


def test_ctc_likelihood_sums_every_alignment():
    """Against brute force: every one of the K**T paths whose collapse (repeats merged,
    blanks dropped) gives the labels, their probabilities summed."""
    rng = np.random.default_rng(3)
    blank, steps, classes = 3, 5, 4
    log_probs = nl.log_softmax(rng.standard_normal((4, steps, classes)), axis=2)
    labels = np.array([[0, 1, 3], [2, 2, 3], [3, 3, 3], [1, 0, 2]])
    expected = np.full(len(labels), -np.inf)
    for path in itertools.product(range(classes), repeat=steps):
        for n, row in enumerate(labels):
            if _collapsed(path, blank) == [c for c in row if c != blank]:
                step_probs = log_probs[n, np.arange(steps), path].sum()
                expected[n] = np.logaddexp(expected[n], step_probs)
    got = nl.ctc_log_likelihood(log_probs, labels, blank)
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    # the loss is their mean negative, and a label padded anywhere reads the same
    assert nl.CTCLoss(blank).forward(log_probs, labels) == pytest.approx(-expected.mean())
    moved = np.array([[3, 0, 1], [2, 3, 2], [3, 3, 3], [1, 0, 2]])
    np.testing.assert_allclose(nl.ctc_log_likelihood(log_probs, moved, blank), got)


def test_ctc_refuses_what_cannot_fit_and_decodes_the_best_path():
    log_probs = nl.log_softmax(np.zeros((1, 2, 3)), axis=2)
    with pytest.raises(ValueError, match="needs 3 steps"):
        nl.ctc_log_likelihood(log_probs, np.array([[1, 1]]), blank=0)  # "1 - 1"
    with pytest.raises(ValueError, match="labels must be in"):
        nl.ctc_log_likelihood(log_probs, np.array([[5]]), blank=0)
    with pytest.raises(ValueError, match="not T steps"):
        nl.CTCLoss().forward(np.zeros((5, 3)), np.array([[1], [2]]))
    best = np.full((2, 7, 4), -5.0)
    for n, path in enumerate([(1, 1, 0, 1, 2, 2, 0), (0, 0, 0, 0, 0, 0, 0)]):
        best[n, np.arange(7), path] = 0.0
    assert nl.functional.ctc_greedy_decode(best, blank=0) == [[1, 1, 2], []]


def test_columns_lays_each_column_out_as_a_row():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    rows = nl.Columns().forward(x)
    assert rows.shape == (2 * 5, 3 * 4)
    np.testing.assert_array_equal(rows[5 + 2], x[1, :, :, 2].reshape(-1))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        nl.Columns().forward(np.zeros((2, 3)))
