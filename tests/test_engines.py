"""The two engines behind nnlite's ops, the layer registry, and what a gradient check cannot
see: dropout in training, batch norm's statistics, the optimizers' update rules."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

import nnlite as nl
from nnlite.engines import fast, reference

DTYPES = [np.float32, np.float64]


def close(dtype) -> dict:
    return {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-10}


def assert_all_close(fast_arrays, reference_arrays, dtype) -> None:
    for got, want in zip(fast_arrays, reference_arrays, strict=True):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, **close(dtype))


# -- every fast op equals the reference op ----------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, out_channels, k, stride, padding",
    [
        ((2, 1, 28, 28), 4, 3, 1, 1),  # a first layer: few channels, patches as planes
        ((3, 6, 9, 7), 5, 3, 2, 1),  # many channels, odd sizes, stride 2
        ((2, 3, 10, 11), 2, 5, 3, 2),  # a stride that does not divide evenly
        ((1, 8, 6, 6), 3, 2, 2, 0),
        ((2, 5, 5, 5), 4, 1, 1, 0),  # 1x1
    ],
)
def test_convolution(dtype, shape, out_channels, k, stride, padding):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    weight = rng.standard_normal((out_channels, shape[1], k, k)).astype(dtype)
    bias = rng.standard_normal(out_channels).astype(dtype)
    out_fast, cache_fast = fast.conv2d_forward(x, weight, bias, stride, padding)
    out_ref, cache_ref = reference.conv2d_forward(x, weight, bias, stride, padding)
    assert_all_close([out_fast], [out_ref], dtype)
    grad = rng.standard_normal(out_ref.shape).astype(dtype)
    assert_all_close(
        fast.conv2d_backward(grad, cache_fast), reference.conv2d_backward(grad, cache_ref), dtype
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, k, stride",
    [((2, 3, 8, 8), 2, 2), ((2, 2, 7, 9), 2, 2), ((1, 3, 9, 9), 3, 2), ((2, 2, 11, 10), 3, 3)],
)
def test_max_pooling_with_ties_on_zeros(dtype, shape, k, stride):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, size=shape).astype(dtype)  # many ties
    x[0] = 0  # a whole sample of MNIST background
    out_fast, cache_fast = fast.max_pool2d_forward(x, k, stride)
    out_ref, cache_ref = reference.max_pool2d_forward(x, k, stride)
    np.testing.assert_array_equal(out_fast, out_ref)
    grad = rng.standard_normal(out_ref.shape).astype(dtype)
    np.testing.assert_array_equal(
        fast.max_pool2d_backward(grad, cache_fast), reference.max_pool2d_backward(grad, cache_ref)
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [1, 5])
def test_dense_and_relu(dtype, batch):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((batch, 7)).astype(dtype)
    weight, bias = rng.standard_normal((4, 7)).astype(dtype), rng.standard_normal(4).astype(dtype)
    assert_all_close(
        [fast.dense_forward(x, weight, bias)], [reference.dense_forward(x, weight, bias)], dtype
    )
    grad = rng.standard_normal((batch, 4)).astype(dtype)
    assert_all_close(
        fast.dense_backward(grad, x, weight), reference.dense_backward(grad, x, weight), dtype
    )
    images = rng.standard_normal((batch, 3, 4, 4)).astype(dtype)
    out = reference.relu_forward(images)
    np.testing.assert_array_equal(fast.relu_forward(images), out)
    grad = rng.standard_normal(images.shape).astype(dtype)
    np.testing.assert_array_equal(fast.relu_backward(grad, out), reference.relu_backward(grad, out))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm(dtype, training):
    rng = np.random.default_rng(3)
    x = (3 + 2 * rng.standard_normal((4, 3, 5, 6))).astype(dtype)
    gamma, beta = rng.standard_normal(3).astype(dtype), rng.standard_normal(3).astype(dtype)
    stats = rng.random(3).astype(dtype), (1 + rng.random(3)).astype(dtype)
    *results_fast, cache_fast = fast.batch_norm_forward(x, gamma, beta, *stats, 0.1, 1e-5, training)
    *results_ref, cache_ref = reference.batch_norm_forward(
        x, gamma, beta, *stats, 0.1, 1e-5, training
    )
    assert_all_close(results_fast, results_ref, dtype)
    grad = rng.standard_normal(x.shape).astype(dtype)
    assert_all_close(
        fast.batch_norm_backward(grad, gamma, cache_fast),
        reference.batch_norm_backward(grad, gamma, cache_ref),
        dtype,
    )


def test_the_shipped_model_answers_the_same_on_both_engines(mnist):
    (_, _), (x_test, _) = mnist
    images = nl.data.to_images(x_test[:1000])
    model = nl.load(ROOT / "weights" / "mnist_cnn.npz")
    answers = {}
    for name in ("fast", "reference"):
        nl.set_engine(name)
        answers[name] = model.predict(images)
    nl.set_engine("fast")
    np.testing.assert_array_equal(answers["fast"].argmax(1), answers["reference"].argmax(1))
    np.testing.assert_allclose(answers["fast"], answers["reference"], atol=1e-5)


# -- choosing an engine --------------------------------------------------------------------------


def test_the_engine_is_chosen_and_told():
    assert nl.engine() == "fast"
    nl.set_engine("reference")
    try:
        assert nl.engine() == "reference"
        with pytest.raises(ValueError, match="unknown engine 'gpu'"):
            nl.set_engine("gpu")
        assert nl.engine() == "reference"
    finally:
        nl.set_engine("fast")


def test_a_backward_pass_runs_on_the_engine_of_its_forward_pass():
    layer = nl.Conv2D(2, 3, 3, padding=1)
    x = np.random.default_rng(4).standard_normal((2, 2, 6, 6)).astype(np.float32)
    out = layer.forward(x)  # fast
    nl.set_engine("reference")
    try:
        grad_x = layer.backward(np.ones_like(out))  # the fast cache still works
        layer.weight.zero_grad()
        again = nl.Conv2D(2, 3, 3, padding=1)
        again.weight.data, again.bias.data = layer.weight.data, layer.bias.data
        again.forward(x)
        np.testing.assert_allclose(grad_x, again.backward(np.ones_like(out)), atol=1e-5)
    finally:
        nl.set_engine("fast")


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_environment_chooses_and_the_reference_engine_starts_no_thread():
    code = (
        "import threading, numpy as np, nnlite as nl\n"
        "from nnlite import parallel\n"
        "print(nl.engine())\n"
        "model = nl.Sequential([nl.Conv2D(1, 4, 3, padding=1), nl.BatchNorm2D(4), nl.ReLU(),\n"
        "    nl.MaxPool2D(2), nl.Flatten(), nl.Dropout(0.2), nl.Dense(4 * 4 * 4, 3)])\n"
        "loss_fn, opt = nl.CrossEntropyLoss(), nl.Adam(model.parameters())\n"
        "x = np.random.default_rng(0).random((64, 1, 8, 8), dtype=np.float32)\n"
        "loss_fn.forward(model.forward(x), np.arange(64) % 3)\n"
        "model.backward(loss_fn.backward()); opt.step()\n"
        "model.predict(x)\n"
        "print(parallel._pool is None, [t.name for t in threading.enumerate()])\n"
    )
    reference_run = run_python(code, NNLITE_ENGINE="reference", NNLITE_NUM_THREADS="2")
    assert reference_run.returncode == 0, reference_run.stderr
    assert reference_run.stdout.splitlines() == ["reference", "True ['MainThread']"]
    fast_run = run_python(code, NNLITE_ENGINE="fast", NNLITE_NUM_THREADS="2")
    assert fast_run.stdout.splitlines()[0] == "fast"
    assert "False" in fast_run.stdout.splitlines()[1]  # the fast engine did cut the batch
    bad = run_python("import nnlite as nl; print(nl.engine())", NNLITE_ENGINE="turbo")
    assert bad.stdout.strip() == "fast" and "NNLITE_ENGINE" in bad.stderr


# -- the layer registry --------------------------------------------------------------------------


def test_a_notebooks_own_dense_cannot_change_what_load_builds(tmp_path):
    path = tmp_path / "model.npz"
    nl.Sequential([nl.Flatten(), nl.Dense(4, 2)]).save(path)

    class Dense(nl.Layer):  # a student's own, with the built-in's name
        def __init__(self, in_features: int, out_features: int) -> None:
            super().__init__()

    assert type(nl.load(path).layers[1]) is nl.Dense
    with pytest.raises(ValueError, match="name of a built-in layer"):
        nl.register_layer(Dense)
    assert type(nl.load(path).layers[1]) is nl.Dense


def test_a_registered_layer_of_ones_own_is_saved_and_loaded(tmp_path, monkeypatch):
    monkeypatch.setattr("nnlite.layers.USER_LAYERS", {})  # registrations end with the test

    class Scale(nl.Layer):
        def __init__(self, factor: float = 2.0) -> None:
            super().__init__()
            self.factor = factor

        def forward(self, x: np.ndarray) -> np.ndarray:
            return x * self.factor

        def backward(self, grad_out: np.ndarray) -> np.ndarray:
            return grad_out * self.factor

        def get_config(self) -> dict:
            return {"factor": self.factor}

    path = tmp_path / "scaled.npz"
    nl.Sequential([Scale(3.0), nl.Dense(2, 2)]).save(path)
    with pytest.raises(ValueError, match=r"unknown class 'Scale'.*register_layer"):
        nl.load(path)
    nl.register_layer(Scale)
    assert nl.register_layer(Scale) is Scale  # twice is fine
    loaded = nl.load(path)
    assert isinstance(loaded.layers[0], Scale) and loaded.layers[0].factor == 3.0

    class Other(nl.Layer):
        pass

    Other.__name__ = "Scale"
    with pytest.raises(ValueError, match="another layer class named Scale"):
        nl.register_layer(Other)
    with pytest.raises(TypeError):
        nl.register_layer(int)


# -- what a gradient check cannot see ----------------------------------------------------------


def test_dropout_keeps_the_right_fraction_scaled_and_is_identity_in_evaluation():
    layer = nl.Dropout(0.3)
    x = np.ones((200, 500), dtype=np.float32)
    out = layer.forward(x)
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)
    np.testing.assert_array_equal(layer.backward(x), out)  # the same mask, the same scale
    layer.eval()
    assert layer.forward(x) is x and layer.backward(x) is x


def test_batch_norm_forward_and_running_statistics_follow_the_formula(engine):
    rng = np.random.default_rng(5)
    x = (2 + 3 * rng.standard_normal((6, 2, 4, 5))).astype(np.float64)
    layer = nl.BatchNorm2D(2, momentum=0.2, eps=1e-3)
    layer.weight.data = np.array([1.5, -0.5])
    layer.bias.data = np.array([0.1, 2.0])
    layer.running_mean, layer.running_var = np.array([1.0, -1.0]), np.array([2.0, 0.5])
    out = layer.forward(x)
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    count = 6 * 4 * 5
    expected = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-3)
    expected = expected * np.array([1.5, -0.5])[:, None, None] + np.array([0.1, 2.0])[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-10)
    np.testing.assert_allclose(layer.running_mean, 0.8 * np.array([1.0, -1.0]) + 0.2 * mean)
    unbiased = var * count / (count - 1)
    np.testing.assert_allclose(layer.running_var, 0.8 * np.array([2.0, 0.5]) + 0.2 * unbiased)
    layer.eval()
    before = layer.running_mean.copy()
    evaluated = layer.forward(x)
    np.testing.assert_array_equal(layer.running_mean, before)  # evaluation changes nothing
    scale = np.array([1.5, -0.5]) / np.sqrt(layer.running_var + 1e-3)
    shifted = (x - layer.running_mean[:, None, None]) * scale[:, None, None]
    np.testing.assert_allclose(evaluated, shifted + np.array([0.1, 2.0])[:, None, None])


def steps(optimizer: nl.Optimizer, param: nl.Parameter, grads: list[list[float]]) -> np.ndarray:
    for grad in grads:
        param.grad[:] = grad
        optimizer.step()
    return param.data


GRADS = [[1.0, -2.0], [0.5, 0.5], [-1.0, 3.0]]


def test_sgd_with_momentum_nesterov_and_weight_decay_by_hand():
    lr, mu, decay = 0.1, 0.9, 0.01
    for nesterov in (False, True):
        param = nl.Parameter(np.array([1.0, -1.0]))
        optimizer = nl.SGD([param], lr=lr, momentum=mu, weight_decay=decay, nesterov=nesterov)
        w, v = np.array([1.0, -1.0]), np.zeros(2)
        for grad in GRADS:  # PyTorch's SGD, written out
            g = np.array(grad) + decay * w
            v = mu * v + g
            w = w - lr * (g + mu * v if nesterov else v)
        np.testing.assert_allclose(steps(optimizer, param, GRADS), w, rtol=1e-12)


def test_adam_and_adamw_by_hand():
    lr, (b1, b2), eps = 0.01, (0.9, 0.999), 1e-8
    for decay in (0.0, 0.1):  # 0.1: AdamW, the decay decoupled from the gradient
        param = nl.Parameter(np.array([1.0, -1.0]))
        optimizer = nl.Adam([param], lr=lr, betas=(b1, b2), eps=eps, weight_decay=decay)
        w, m, v = np.array([1.0, -1.0]), np.zeros(2), np.zeros(2)
        for t, grad in enumerate(GRADS, start=1):
            g = np.array(grad)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            w = w - lr * decay * w
            w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        np.testing.assert_allclose(steps(optimizer, param, GRADS), w, rtol=1e-12)


def test_models_and_optimizers_share_the_state_dict_names():
    model = nl.Sequential([nl.Dense(3, 2)])
    state = model.state_dict()
    assert set(state) == {"0.weight", "0.bias"}
    other = nl.Sequential([nl.Dense(3, 2)])
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.layers[0].weight.data, model.layers[0].weight.data)
