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
