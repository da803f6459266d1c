"""Confidences that mean what they say: temperature scaling, expected calibration error and a
reliability diagram.

A network trained with cross-entropy is usually over-confident: of the answers it gives at
"99 %" fewer than 99 in 100 are right. Temperature scaling (Guo et al., 2017) divides the
logits by one number T > 0 fitted on held-out data (never the test set) to minimise the
negative log-likelihood; the ranking of the classes, and so the accuracy, is unchanged. T is
folded into the model's last Dense layer (``W / T``, ``b / T``), so the shipped ``.npz`` still
holds one plain model.
"""

from __future__ import annotations

import math

import numpy as np

import nnlite as nl


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """``(N, C)`` logits -> ``(N, C)`` log-probabilities (stable: the row maximum is
    subtracted first)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of ``(N,)`` labels under ``(N, C)`` logits / T."""
    logp = log_softmax(logits.astype(np.float64) / temperature)
    return float(-logp[np.arange(len(labels)), labels].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T in [0.25, 8] that minimises :func:`nll` (golden-section search on log T; the
    NLL is convex in 1/T, so one minimum)."""
    low, high = math.log(0.25), math.log(8.0)
    ratio = (math.sqrt(5) - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    fa, fb = nll(logits, labels, math.exp(a)), nll(logits, labels, math.exp(b))
    for _ in range(60):
        if fa < fb:
            high, b, fb = b, a, fa
            a = high - ratio * (high - low)
            fa = nll(logits, labels, math.exp(a))
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = nll(logits, labels, math.exp(b))
    return math.exp((low + high) / 2)


def logits_of(model: nl.Sequential, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """``(N, 1, 28, 28)`` -> the ``(N, C)`` logits: the model's output before its softmax."""
    model.eval()
    return np.concatenate(
        [model.forward(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]
    )


def last_dense(model: nl.Sequential) -> nl.Dense:
    """The model's last Dense layer: the one whose outputs are the logits."""
    return [layer for layer in model.layers if isinstance(layer, nl.Dense)][-1]


def fold_temperature(model: nl.Sequential, temperature: float) -> None:
    """Divide the last Dense layer's weight and bias by ``temperature`` in place, so that the
    model's logits are the calibrated ones."""
    last = last_dense(model)
    last.weight.data /= np.float32(temperature)
    last.bias.data /= np.float32(temperature)


def calibration_bins(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 15
) -> list[tuple[float, float, float, int]]:
    """Equal-width confidence bins over [0, 1]: ``(low, mean confidence, accuracy, count)``
    for each non-empty bin. ``confidence`` and ``correct`` are ``(N,)``."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, bins - 1)
    found = []
    for b in range(bins):  # 15 bins, not samples
        inside = which == b
        if inside.any():
            found.append(
                (float(edges[b]), float(confidence[inside].mean()),
                 float(correct[inside].mean()), int(inside.sum()))
            )  # fmt: skip
    return found


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 15
) -> float:
    """ECE: the count-weighted mean gap between confidence and accuracy over the bins of
    :func:`calibration_bins`; 0 is perfect. ``confidence``, ``correct``: ``(N,)``."""
    total = max(len(confidence), 1)
    return (
        sum(n * abs(conf - acc) for _, conf, acc, n in calibration_bins(confidence, correct, bins))
        / total
    )


#: Bins with fewer images are left out of the picture (a bin of 2 is noise, not a measure);
#: the ECE counts every image.
MIN_BIN_SHOWN = 20


def reliability_diagram(
    sets: dict[str, tuple[np.ndarray, np.ndarray]], bins: int = 10, size: int = 420
):
    """A PIL picture of accuracy against confidence for each named set of ``(confidence,
    correct)`` arrays, with the diagonal of perfect calibration and each set's ECE."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=13)
    margin, legend = 48, 22 * len(sets) + 12
    image = Image.new("RGB", (size + margin + 16, size + margin + legend + 30), "white")
    draw = ImageDraw.Draw(image)
    left, top = margin, 24
    right, bottom = left + size, top + size

    def at(x: float, y: float) -> tuple[float, float]:
        return left + x * size, bottom - y * size

    title = f"Reliability: accuracy against confidence (bins of {MIN_BIN_SHOWN}+ images)"
    draw.text((left, 4), title, fill="black", font=font)
    for tick in np.linspace(0, 1, 6):
        x, y = at(tick, tick)
        draw.line((x, bottom, x, bottom + 4), fill="black")
        draw.text((x - 10, bottom + 6), f"{tick:.1f}", fill="black", font=font)
        draw.line((left - 4, y, left, y), fill="black")
        draw.text((left - 30, y - 7), f"{tick:.1f}", fill="black", font=font)
        draw.line((left, y, right, y), fill="#eeeeee")
    draw.rectangle((left, top, right, bottom), outline="black")
    draw.line((*at(0, 0), *at(1, 1)), fill="#999999", width=1)
    draw.text((left + size // 2 - 40, bottom + 22), "confidence", fill="black", font=font)
    colours = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c"]
    for index, (name, (confidence, correct)) in enumerate(sets.items()):
        colour = colours[index % len(colours)]
        points = [
            at(conf, acc)
            for _, conf, acc, n in calibration_bins(confidence, correct, bins)
            if n >= MIN_BIN_SHOWN
        ]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        for x, y in points:
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=colour)
        ece = expected_calibration_error(confidence, correct)
        y = bottom + 44 + 22 * index
        draw.line((left, y + 7, left + 24, y + 7), fill=colour, width=3)
        text = f"{name}: ECE {ece * 100:.2f} % over {len(confidence)} images"
        draw.text((left + 32, y), text, fill="black", font=font)
    return image
