"""Losses: a forward that returns a Python float and a backward that returns d loss / d logits."""

from __future__ import annotations

import numpy as np

from .functional import log_softmax


class CrossEntropyLoss:
    """Softmax followed by the negative log-likelihood, averaged over the batch.

    ``forward(logits (N, K), labels (N,) ints) -> float``; ``backward() -> (N, K)``.

    Computing the two together is both stabler and simpler than apart. With
    ``p = softmax(z)`` and the one-hot target ``t``, the loss of a row is
    ``-sum(t * log p)``, and its gradient with respect to the logits collapses to
    ``p - t``: the softmax's Jacobian and the logarithm's ``1/p`` cancel. Averaging over the
    batch divides by N.

    ``label_smoothing`` (0 to 1) replaces the one-hot target by
    ``(1 - s) * t + s / K``, which keeps the network from becoming over-confident.
    """

    def __init__(self, label_smoothing: float = 0.0) -> None:
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        self.label_smoothing = float(label_smoothing)

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        labels = np.asarray(labels)
        if logits.ndim != 2 or labels.shape != (logits.shape[0],):
            raise ValueError(
                f"expected logits (N, K) and labels (N,), got {logits.shape} and {labels.shape}"
            )
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
        n, classes = logits.shape
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            raise ValueError(
                f"labels must be in [0, {classes}), got {labels.min()}..{labels.max()}"
            )
        target = np.zeros_like(logits)
        target[np.arange(n), labels] = 1.0
        if self.label_smoothing:
            target = target * (1.0 - self.label_smoothing) + self.label_smoothing / classes
        log_probs = log_softmax(logits, axis=1)
        self.probs, self.target = np.exp(log_probs), target
        return float(-(target * log_probs).sum() / n)

    def backward(self) -> np.ndarray:
        """d loss / d logits, (N, K): ``(softmax(logits) - target) / N``."""
        return (self.probs - self.target) / self.probs.shape[0]

    __call__ = forward
