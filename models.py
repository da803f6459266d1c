"""The networks of this project, built with nnlite.

``build_model()`` is the shipped digit classifier (``weights/mnist_cnn.npz``);
``reference_network()`` is the network the nnlite issue names, used by the benchmark and the
API tests.
"""

from __future__ import annotations

import nnlite as nl


def build_model() -> nl.Sequential:
    """The shipped CNN: two 3x3 conv blocks (32, 64 channels) with batch norm, then a
    256-unit dense layer with dropout. Input (N, 1, 28, 28) in [0, 1]; output (N, 10) logits."""

    def conv_block(in_channels: int, out_channels: int) -> list[nl.Layer]:
        return [
            nl.Conv2D(in_channels, out_channels, 3, padding=1),
            nl.BatchNorm2D(out_channels),
            nl.ReLU(),
        ]

    return nl.Sequential(
        conv_block(1, 32)
        + conv_block(32, 32)
        + [nl.MaxPool2D(2)]
        + conv_block(32, 64)
        + conv_block(64, 64)
        + [nl.MaxPool2D(2)]
        + [nl.Flatten(), nl.Dense(3136, 256), nl.ReLU(), nl.Dropout(0.4), nl.Dense(256, 10)]
    )


def reference_network() -> nl.Sequential:
    """The network of the nnlite issue."""
    return nl.Sequential(
        [
            nl.Conv2D(1, 32, 3, padding=1), nl.ReLU(), nl.Conv2D(32, 32, 3, padding=1), nl.ReLU(),
            nl.MaxPool2D(2),
            nl.Conv2D(32, 64, 3, padding=1), nl.ReLU(), nl.Conv2D(64, 64, 3, padding=1), nl.ReLU(),
            nl.MaxPool2D(2),
            nl.Flatten(), nl.Dense(3136, 256), nl.ReLU(), nl.Dropout(0.5), nl.Dense(256, 10),
        ]
    )  # fmt: skip
