"""The networks of this project, built with nnlite.

``build_model()`` is the shipped digit classifier (``weights/mnist_cnn.npz``),
``build_group_reader()`` the reader of touching groups (``weights/group_reader.npz``),
``build_column_reader()`` its second, built otherwise: CTC over the group's columns
(``weights/column_reader.npz``), ``build_group_judge()`` the judge of whether a group holds
digits at all (``weights/group_judge.npz``);
``reference_network()`` is the network the nnlite issue names, used by the benchmark and the
API tests.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import nnlite as nl


def conv_block(in_channels: int, out_channels: int) -> list[nl.Layer]:
    """A 3x3 convolution (same size out), batch norm and ReLU."""
    return [
        nl.Conv2D(in_channels, out_channels, 3, padding=1),
        nl.BatchNorm2D(out_channels),
        nl.ReLU(),
    ]


def build_model(classes: int = 11) -> nl.Sequential:
    """The shipped CNN: two 3x3 conv blocks (32, 64 channels) with batch norm, then a
    256-unit dense layer with dropout. Input (N, 1, 28, 28) in [0, 1]; output (N, classes)
    logits: the ten digits, then (with 11 classes) "not a digit"."""
    return nl.Sequential(
        conv_block(1, 32)
        + conv_block(32, 32)
        + [nl.MaxPool2D(2)]
        + conv_block(32, 64)
        + conv_block(64, 64)
        + [nl.MaxPool2D(2)]
        + [nl.Flatten(), nl.Dense(3136, 256), nl.ReLU(), nl.Dropout(0.4), nl.Dense(256, classes)]
    )


def build_group_reader(
    positions: int = 3, classes: int = 11, hidden: int = 256, channels: int = 64
) -> nl.Sequential:
    """(N, 1, 28, 84) -> (N, positions * classes) logits (``recognition.groups``): 3x3 conv
    blocks with batch norm (32 channels, pooled; 32, pooled; ``channels``, ``channels``,
    pooled), a ``hidden``-unit dense layer with dropout."""
    return nl.Sequential(
        [
            *conv_block(1, 32),
            nl.MaxPool2D(2),
            *conv_block(32, 32),
            nl.MaxPool2D(2),
            *conv_block(32, channels),
            *conv_block(channels, channels),
            nl.MaxPool2D(2),
            nl.Flatten(),
            nl.Dense(channels * (28 // 8) * (84 // 8), hidden),
            nl.ReLU(),
            nl.Dropout(0.4),
            nl.Dense(hidden, positions * classes),
        ]
    )


def build_column_reader(classes: int = 11, hidden: int = 256) -> nl.Sequential:
    """(N, 1, 28, 84) -> (N * 21, classes) logits, one row per column step (``recognition.
    groups.column_log_probs``): 3x3 conv blocks with batch norm (32 channels, pooled; 48,
    pooled; 64, 64), then :class:`~nnlite.layers.Columns` makes each of the 21 columns of
    the (64, 7, 21) map one step, read by the same ``hidden``-unit dense layer and the same
    softmax over the ten digits and a CTC blank (class 10), trained with ``nl.CTCLoss``."""
    return nl.Sequential(
        [
            *conv_block(1, 32),
            nl.MaxPool2D(2),
            *conv_block(32, 48),
            nl.MaxPool2D(2),
            *conv_block(48, 64),
            *conv_block(64, 64),
            nl.Columns(),
            nl.Dense(64 * (28 // 4), hidden),
            nl.ReLU(),
            nl.Dropout(0.3),
            nl.Dense(hidden, classes),
        ]
    )


def build_group_judge() -> nl.Sequential:
    """(N, 1, 28, 84) -> (N, 2) logits, "no digits" and "digits" (``recognition.groups.
    digits_probability``): the group reader's input, a smaller network (3x3 conv blocks with
    batch norm of 16, 32 and 32 channels, each pooled, and a 64-unit dense layer)."""
    return nl.Sequential(
        [
            *conv_block(1, 16),
            nl.MaxPool2D(2),
            *conv_block(16, 32),
            nl.MaxPool2D(2),
            *conv_block(32, 32),
            nl.MaxPool2D(2),
            nl.Flatten(),
            nl.Dense(32 * (28 // 8) * (84 // 8), 64),
            nl.ReLU(),
            nl.Dropout(0.3),
            nl.Dense(64, 2),
        ]
    )


def widen_last_dense(
    model: nl.Sequential, outputs: int, fill: Callable[[nl.Dense, nl.Dense], None]
) -> nl.Sequential:
    """A copy of ``model`` whose last Dense layer has ``outputs`` outputs, its weights set by
    ``fill(old, new)`` from the old layer's; ``model`` itself when it has as many already."""
    layers = list(model.layers)
    index = max(i for i, layer in enumerate(layers) if isinstance(layer, nl.Dense))
    old = layers[index]
    if old.out_features >= outputs:
        return model
    new = nl.Dense(old.in_features, outputs)
    fill(old, new)
    layers[index] = new
    return nl.Sequential(layers, metadata=dict(model.metadata))


def wider_hidden(model: nl.Sequential, units: int) -> nl.Sequential:
    """A copy of ``model`` whose hidden Dense layer (the one before the last Dense) has
    ``units`` outputs, computing the same function: the old units keep their weights, the new
    ones start as ``nl.Dense`` starts them (He-initialised, from nnlite's seeded generator)
    with a zero weight into the last layer, so they add capacity to fine-tune without
    changing what the model reads at first (Net2Net's "wider" step). ``model`` itself when
    its hidden layer has as many units already."""
    layers = list(model.layers)
    dense = [i for i, layer in enumerate(layers) if isinstance(layer, nl.Dense)]
    if len(dense) < 2:
        raise ValueError("the model has no hidden Dense layer before its last one")
    first, last = layers[dense[-2]], layers[dense[-1]]
    if first.out_features >= units:
        return model
    hidden = nl.Dense(first.in_features, units)
    hidden.weight.data[: first.out_features] = first.weight.data
    hidden.bias.data[: first.out_features] = first.bias.data
    out = nl.Dense(units, last.out_features)
    out.weight.data[:] = 0.0
    out.weight.data[:, : first.out_features] = last.weight.data
    out.bias.data[:] = last.bias.data
    layers[dense[-2]], layers[dense[-1]] = hidden, out
    return nl.Sequential(layers, metadata=dict(model.metadata))


def wider_convs(
    model: nl.Sequential, channels: int, count: int = 2, noise: float = 0.01
) -> nl.Sequential:
    """A copy of ``model`` whose last ``count`` Conv2D layers have ``channels`` output
    channels, computing nearly the same function (Net2Net's "wider" step for convolutions):
    each new channel is a copy of an old one (the first old channels in turn), with its batch
    norm's weights and running statistics, and the layer that reads it (the next Conv2D, or
    the Dense layer after a Flatten) shares the old channel's weights among its copies. The
    copies' kernels get ``noise`` times the kernel's standard deviation of Gaussian noise (from
    nnlite's seeded generator) so that they can learn apart; with ``noise=0`` the outputs are
    unchanged. ``model`` itself when those layers have as many channels already."""
    layers = list(model.layers)
    convs = [i for i, layer in enumerate(layers) if isinstance(layer, nl.Conv2D)][-count:]
    if all(layers[i].out_channels >= channels for i in convs):
        return model
    rng = nl.random.get_rng()
    for index in convs:
        conv = layers[index]
        old = conv.out_channels
        if old >= channels:
            continue
        mapping = np.concatenate([np.arange(old), np.arange(channels - old) % old])
        shares = np.bincount(mapping, minlength=old)[mapping].astype(np.float32)
        wide = nl.Conv2D(conv.in_channels, channels, conv.kernel_size, conv.stride, conv.padding)
        wide.weight.data[:] = conv.weight.data[mapping]
        wide.bias.data[:] = conv.bias.data[mapping]
        spread = float(conv.weight.data.std()) * noise
        wide.weight.data[old:] += rng.normal(0.0, spread, wide.weight.data[old:].shape).astype(
            np.float32
        )
        layers[index] = wide
        for later in range(index + 1, len(layers)):
            layer = layers[later]
            if isinstance(layer, nl.BatchNorm2D):
                norm = nl.BatchNorm2D(channels, layer.momentum, layer.eps)
                for name in ("weight", "bias"):
                    getattr(norm, name).data[:] = getattr(layer, name).data[mapping]
                norm.running_mean[:] = layer.running_mean[mapping]
                norm.running_var[:] = layer.running_var[mapping]
                layers[later] = norm
            elif isinstance(layer, nl.Conv2D):
                reader = nl.Conv2D(
                    channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding
                )
                reader.weight.data[:] = layer.weight.data[:, mapping] / shares[None, :, None, None]
                reader.bias.data[:] = layer.bias.data
                layers[later] = reader
                break
            elif isinstance(layer, nl.Dense):
                spatial = layer.in_features // old
                weight = layer.weight.data.reshape(layer.out_features, old, spatial)
                reader = nl.Dense(channels * spatial, layer.out_features)
                reader.weight.data[:] = (weight[:, mapping] / shares[None, :, None]).reshape(
                    layer.out_features, -1
                )
                reader.bias.data[:] = layer.bias.data
                layers[later] = reader
                break
    return nl.Sequential(layers, metadata=dict(model.metadata))


def widen_classifier(model: nl.Sequential, classes: int) -> nl.Sequential:
    """A copy of ``model`` whose last Dense layer has ``classes`` outputs: the old outputs'
    weights are kept, new outputs start at zero weight and a bias of -4 (rarely chosen at
    first), so a trained 10-digit model can learn an extra class without forgetting."""

    def fill(old: nl.Dense, new: nl.Dense) -> None:
        new.weight.data[:] = 0.0
        new.weight.data[: old.out_features] = old.weight.data
        new.bias.data[:] = np.float32(-4.0)
        new.bias.data[: old.out_features] = old.bias.data

    return widen_last_dense(model, classes, fill)


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
