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


def _packed(labels: np.ndarray, blank: int) -> tuple[np.ndarray, np.ndarray]:
    """``(N, L)`` labels whose entries equal to ``blank`` are padding -> the other entries
    moved left in order (padding after them) and each row's count ``(N,)``."""
    padding = labels == blank
    order = np.argsort(padding, axis=1, kind="stable")
    return np.take_along_axis(labels, order, axis=1), (~padding).sum(axis=1)


def _ctc_lattice(
    log_probs: np.ndarray, packed: np.ndarray, blank: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The forward variables of CTC for ``log_probs`` ``(N, T, K)`` and ``packed`` labels
    ``(N, L)`` (:func:`_packed`: padding after the labels): the extended labels ``(N, S)``
    (S = 2L + 1: a blank before, between and after the labels), the emissions
    ``(N, T, S)``, which states may skip the blank before them ``(N, S)`` and alpha
    ``(N, T, S)`` (log-probability of every path prefix ending in state s at step t)."""
    n, steps, _ = log_probs.shape
    states = 2 * packed.shape[1] + 1
    extended = np.full((n, states), blank, dtype=np.int64)
    extended[:, 1::2] = packed
    emit = np.take_along_axis(
        log_probs, np.broadcast_to(extended[:, None, :], (n, steps, states)), 2
    )
    skip = np.zeros((n, states), dtype=bool)
    skip[:, 2:] = (extended[:, 2:] != blank) & (extended[:, 2:] != extended[:, :-2])
    alpha = np.full((n, steps, states), -np.inf, dtype=log_probs.dtype)
    alpha[:, 0, :2] = emit[:, 0, :2]
    for t in range(1, steps):
        previous = alpha[:, t - 1]
        reach = previous.copy()
        reach[:, 1:] = np.logaddexp(reach[:, 1:], previous[:, :-1])
        reach[:, 2:] = np.where(
            skip[:, 2:], np.logaddexp(reach[:, 2:], previous[:, :-2]), reach[:, 2:]
        )
        alpha[:, t] = reach + emit[:, t]
    return extended, emit, skip, alpha


def _ctc_total(alpha: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """log p(labels) of each row: the paths that end on the last label or the blank after it."""
    rows = np.arange(len(alpha))
    last = alpha[rows, -1, 2 * lengths]
    before = np.where(lengths > 0, alpha[rows, -1, np.maximum(2 * lengths - 1, 0)], -np.inf)
    return np.logaddexp(last, before)


def _ctc_check(
    log_probs: np.ndarray, labels: np.ndarray, blank: int
) -> tuple[np.ndarray, np.ndarray]:
    """The labels packed (:func:`_packed`) and their counts; a ValueError unless the shapes
    fit and every label sequence fits in T steps."""
    if log_probs.ndim != 3 or np.ndim(labels) != 2 or len(labels) != len(log_probs):
        raise ValueError(
            f"expected log-probabilities (N, T, K) and labels (N, L), got {log_probs.shape} "
            f"and {np.shape(labels)}"
        )
    if not 0 <= blank < log_probs.shape[2]:
        raise ValueError(f"blank must be a class in [0, {log_probs.shape[2]}), got {blank}")
    packed, lengths = _packed(np.asarray(labels), blank)
    if packed.size and (packed.min() < 0 or packed.max() >= log_probs.shape[2]):
        raise ValueError(
            f"labels must be in [0, {log_probs.shape[2]}), got {packed.min()}..{packed.max()}"
        )
    inside = np.arange(packed.shape[1])[None, 1:] < lengths[:, None]
    repeats = ((packed[:, 1:] == packed[:, :-1]) & inside).sum(axis=1)
    needed = lengths + repeats  # a repeated label needs a blank between its two
    if (needed > log_probs.shape[1]).any():
        raise ValueError(
            f"a label sequence needs {int(needed.max())} steps (its labels and a blank between "
            f"repeats), more than the {log_probs.shape[1]} steps given"
        )
    return packed, lengths


def ctc_log_likelihood(log_probs: np.ndarray, labels: np.ndarray, blank: int = 0) -> np.ndarray:
    """log p(labels | x) under Connectionist Temporal Classification (Graves et al., 2006):
    the sum over every alignment of the labels to the T steps (each label held one or more
    steps, blanks anywhere, a blank between two equal labels). ``log_probs`` ``(N, T, K)``
    (a log-softmax over K classes at each step), ``labels`` ``(N, L)`` ints, padded with
    ``blank``. Returns ``(N,)``. Scores any reading of a sequence, not only the best."""
    log_probs = np.asarray(log_probs)
    packed, lengths = _ctc_check(log_probs, labels, blank)
    *_, alpha = _ctc_lattice(log_probs, packed, blank)
    return _ctc_total(alpha, lengths)


class CTCLoss:
    """The CTC loss, ``-log p(labels | x)`` averaged over the batch, for a sequence of T
    steps read by one classifier per step (Graves et al., 2006).

    ``forward(logits (N, T, K) or (N * T, K), labels (N, L) ints padded with blank)
    -> float``; ``backward()`` returns d loss / d logits in the logits' shape. With a flat
    ``(N * T, K)`` (as :class:`~nnlite.layers.Columns` and a Dense layer give), rows
    ``n * T`` to ``n * T + T - 1`` are sample n's steps.

    alpha (the forward variables, :func:`ctc_log_likelihood`) and beta (the same, run
    backwards) give the probability of being in each state of the extended labels at each
    step; summed by class, that posterior ``q`` makes the gradient ``softmax(z) - q``, the
    cross-entropy's ``p - t`` with a soft target that the alignments share among them.
    """

    def __init__(self, blank: int = 0) -> None:
        self.blank = int(blank)

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        labels = np.asarray(labels)
        if not np.issubdtype(labels.dtype, np.integer) or labels.ndim != 2:
            raise ValueError(f"labels must be (N, L) integers, got {labels.shape} {labels.dtype}")
        self.shape = logits.shape
        n = len(labels)
        if logits.ndim == 2:
            if n == 0 or len(logits) % n:
                raise ValueError(f"{len(logits)} rows of logits are not T steps of {n} samples")
            logits = logits.reshape(n, len(logits) // n, logits.shape[1])
        log_probs = log_softmax(logits, axis=2)
        packed, lengths = _ctc_check(log_probs, labels, self.blank)
        extended, emit, skip, alpha = _ctc_lattice(log_probs, packed, self.blank)
        total = _ctc_total(alpha, lengths)
        steps = alpha.shape[1]
        rows = np.arange(n)
        beta = np.full_like(alpha, -np.inf)
        beta[rows, -1, 2 * lengths] = emit[rows, -1, 2 * lengths]
        ends = lengths > 0
        before = 2 * lengths[ends] - 1
        beta[rows[ends], -1, before] = emit[rows[ends], -1, before]
        for t in range(steps - 2, -1, -1):
            following = beta[:, t + 1]
            reach = following.copy()
            reach[:, :-1] = np.logaddexp(reach[:, :-1], following[:, 1:])
            reach[:, :-2] = np.where(
                skip[:, 2:], np.logaddexp(reach[:, :-2], following[:, 2:]), reach[:, :-2]
            )
            beta[:, t] = reach + emit[:, t]
        # posterior of state s at step t (alpha and beta both count its emission once)
        posterior = np.exp(alpha + beta - emit - total[:, None, None])
        classes = np.arange(log_probs.shape[2])
        one_hot = (extended[:, :, None] == classes).astype(log_probs.dtype)
        target = np.einsum("nts,nsk->ntk", posterior, one_hot)
        self.probs, self.target = np.exp(log_probs), target
        return float(-total.mean())

    def backward(self) -> np.ndarray:
        """d loss / d logits: ``(softmax(logits) - posterior) / N``, in the logits' shape."""
        return ((self.probs - self.target) / len(self.probs)).reshape(self.shape)

    __call__ = forward
