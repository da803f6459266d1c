"""End-to-end: small networks learn MNIST with the library alone."""

from __future__ import annotations

import numpy as np
import pytest

import nnlite as nl


@pytest.mark.slow
def test_mlp_learns_mnist_in_seconds(mnist):
    """An MLP on 5,000 training images reaches at least 90% on 2,000 test images."""
    (x_train, y_train), (x_test, y_test) = mnist
    x = nl.data.to_images(x_train[:5000]).reshape(5000, -1)
    y = y_train[:5000]
    model = nl.Sequential([nl.Dense(784, 128), nl.ReLU(), nl.Dense(128, 10)])
    loss_fn, opt = nl.CrossEntropyLoss(), nl.Adam(model.parameters(), lr=2e-3)
    rng = np.random.default_rng(0)
    first_loss = None
    for _ in range(5):
        for index in nl.data.batches(len(x), 64, rng=rng):
            loss = loss_fn.forward(model.forward(x[index]), y[index])
            first_loss = first_loss or loss
            model.backward(loss_fn.backward())
            opt.step()
            opt.zero_grad()
    test = nl.data.to_images(x_test[:2000]).reshape(2000, -1)
    accuracy = (model.predict(test).argmax(axis=1) == y_test[:2000]).mean()
    assert loss < first_loss / 5
    assert accuracy >= 0.90, accuracy


@pytest.mark.slow
def test_small_cnn_learns_mnist(mnist):
    """A small CNN with batch norm on 2,000 images reaches at least 90% on 1,000 test images."""
    (x_train, y_train), (x_test, y_test) = mnist
    x, y = nl.data.to_images(x_train[:2000]), y_train[:2000]
    model = nl.Sequential(
        [
            nl.Conv2D(1, 8, 3, padding=1),
            nl.BatchNorm2D(8),
            nl.ReLU(),
            nl.MaxPool2D(2),
            nl.Conv2D(8, 16, 3, padding=1),
            nl.ReLU(),
            nl.MaxPool2D(2),
            nl.Flatten(),
            nl.Dense(16 * 7 * 7, 10),
        ]
    )
    loss_fn, opt = nl.CrossEntropyLoss(), nl.Adam(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    for _ in range(3):
        for index in nl.data.batches(len(x), 32, rng=rng):
            loss_fn.forward(model.forward(x[index]), y[index])
            model.backward(loss_fn.backward())
            opt.step()
            opt.zero_grad()
    accuracy = (model.predict(nl.data.to_images(x_test[:1000])).argmax(1) == y_test[:1000]).mean()
    assert accuracy >= 0.90, accuracy


def test_averaging_models_fine_tuned_from_one_start(tmp_path):
    """training.average: every parameter and batch-norm statistic is the weighted mean of
    the parts; a model of other shapes is refused with a clear message."""
    from training.average import average_models, main

    def small(seed: int) -> nl.Sequential:
        nl.seed(seed)
        return nl.Sequential(
            [nl.Conv2D(1, 2, 3), nl.BatchNorm2D(2), nl.ReLU(), nl.Flatten(), nl.Dense(32, 3)]
        )

    paths = []
    for seed in (1, 2):
        model = small(seed)
        model.layers[1].running_mean[:] = seed  # a buffer, averaged too
        model.save(tmp_path / f"m{seed}.npz")
        paths.append(tmp_path / f"m{seed}.npz")
    soup = average_models(paths, [3.0, 1.0])
    parts = [nl.load(path).state_dict() for path in paths]
    for key, value in soup.state_dict().items():
        np.testing.assert_allclose(
            value, 0.75 * parts[0][key] + 0.25 * parts[1][key], rtol=1e-5, atol=1e-7
        )
    assert soup.layers[1].running_mean.tolist() == [1.25, 1.25]
    assert soup.metadata["averaged"]["weights"] == [0.75, 0.25]
    x = np.random.default_rng(0).random((2, 1, 6, 6), dtype=np.float32)
    assert soup.predict(x).shape == (2, 3)

    nl.seed(3)
    other = nl.Sequential([nl.Flatten(), nl.Dense(36, 3)])
    other.save(tmp_path / "other.npz")
    with pytest.raises(ValueError, match="does not have the layers"):
        average_models([paths[0], tmp_path / "other.npz"], [1.0, 1.0])
    with pytest.raises(ValueError, match="one share for each"):
        average_models(paths, [1.0])
    assert main([str(tmp_path / "out.npz"), f"{paths[0]}:1", f"{paths[1]}:1"]) == 0
    assert (tmp_path / "out.npz").is_file()
    assert main([str(tmp_path / "bad.npz"), f"{tmp_path / 'missing.npz'}:1"]) == 2
