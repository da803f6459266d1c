"""Stateless maths shared by the library: softmax and its logarithm, computed stably.

(The layers' ops, convolution and pooling among them, are in :mod:`nnlite.ops`, computed by
the chosen engine: :mod:`nnlite.engines.reference` or :mod:`nnlite.engines.fast`.)
"""

from __future__ import annotations

import numpy as np


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(softmax(logits)), computed stably.

    Subtracting the row maximum first keeps ``exp`` from overflowing; the result is
    unchanged because softmax(z) = softmax(z - c) for any constant c.
    """
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Probabilities from logits: (..., K) -> (..., K), each row summing to 1.

    ``exp(z - max(z)) / sum(exp(z - max(z)))``: subtracting the maximum keeps ``exp`` from
    overflowing and leaves the result unchanged (the factor ``exp(-max)`` cancels).
    """
    exps = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return exps / exps.sum(axis=axis, keepdims=True)


def ctc_greedy_decode(log_probs: np.ndarray, blank: int = 0) -> list[list[int]]:
    """The best path of each sequence, ``(N, T, K)`` -> N lists of labels: the most likely
    class at each step, repeats merged, blanks dropped ("1 1 - 1 7 7" reads "117")."""
    best = np.asarray(log_probs).argmax(axis=2)
    fresh = np.ones_like(best, dtype=bool)
    fresh[:, 1:] = best[:, 1:] != best[:, :-1]
    keep = fresh & (best != blank)
    return [row[mask].tolist() for row, mask in zip(best, keep, strict=True)]
