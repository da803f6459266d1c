"""Reading a group of touching digits whole, without cutting it.

A straight cut cannot separate digits whose strokes overlap (a 2 whose tail runs under the
next digit, a 7's bar over its neighbour). The *group reader* (``weights/group_reader.npz``,
trained by ``python train_groups.py`` on groups of touching MNIST *training* digits) looks at
the whole group at once, made MNIST-like the way :func:`~recognition.normalize.to_mnist`
makes one digit but with a fixed height instead of a fixed longer side:

    ink of the group -> crop -> stroke width evened -> slant removed -> height 20 px
    -> a (28, 84) field, centre of mass on the middle row, centred across

and answers with one head per position: POSITIONS softmaxes over the ten digits and BLANK
("no digit here"), left to right. A group of two touching digits reads
``[d1, d2, BLANK, BLANK, BLANK, BLANK]``; six digits at 20 px tall fit the field's width
(a wider group is made smaller).
The *column reader* (``weights/column_reader.npz``, ``python train_groups.py --columns``)
reads the same input otherwise: its convolutions keep the field's 21 columns (4 px each),
and one small classifier reads every column, "digit d" or the CTC blank; a group's digits
are the columns' path with repeats merged and blanks dropped (Connectionist Temporal
Classification, Graves et al. 2006), so it has no positions to fill and no count to guess.
The two networks err on different groups: :class:`GroupView` holds both readings and scores
a reading by both. The number reader (:meth:`~recognition.recognizer.Recognizer.
read_number`) weighs that against the cut-and-verify reading of the same group by score.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

import nnlite as nl

from .normalize import (
    CANON_SIDE,
    _crop_to_ink,
    _resize,
    deskew,
    normalise_stroke,
    percentile,
    stroke_width,
)

#: The group reader's input: GROUP_HEIGHT x GROUP_WIDTH, the group's ink INK_HEIGHT tall.
GROUP_HEIGHT, GROUP_WIDTH, INK_HEIGHT = 28, 84, 20
#: Digits read per group, left to right; a position beyond the group's digits reads BLANK.
POSITIONS = 6
#: The eleventh class of every position: "no digit here".
BLANK = 10
CLASSES = 11


def to_group_input(
    ink: np.ndarray, deskew_slant: bool = True, ink_height: int = INK_HEIGHT
) -> np.ndarray:
    """The group reader's input for one group's ink.

    ``ink``: ``(H, W)`` float in [0, 1], 1 = ink, other marks zeroed. Returns
    ``(GROUP_HEIGHT, GROUP_WIDTH)`` float32 in [0, 1]: the ink ``ink_height`` pixels tall
    (INK_HEIGHT, as the readers were trained; less when the group is wider than the field
    allows), strokes as thick as MNIST's.
    """
    if not 1 <= ink_height <= GROUP_HEIGHT:
        raise ValueError(f"ink_height must be 1 to {GROUP_HEIGHT} pixels, got {ink_height}")
    crop = _crop_to_ink(np.asarray(ink, dtype=np.float32))
    height, width = crop.shape
    factor = CANON_SIDE / max(height, 1)
    canon = _resize(crop, CANON_SIDE, max(1, round(width * factor)))
    canon = np.pad(canon, 8)
    stroke = normalise_stroke(canon, stroke_width(canon))
    straight = _crop_to_ink(deskew(stroke) if deskew_slant else stroke)
    height, width = straight.shape
    factor = min(ink_height / height, (GROUP_WIDTH - 4) / width)
    group = _resize(straight, max(1, round(height * factor)), max(1, round(width * factor)))
    strongest = group[group > 0.1]
    if strongest.size:
        group = np.clip(group / max(0.5, percentile(strongest, 90)), 0.0, 1.0)
    return _place(group)


def _place(group: np.ndarray) -> np.ndarray:
    """A ``(h, w)`` group into the ``(GROUP_HEIGHT, GROUP_WIDTH)`` field: its centre of mass
    on the middle row (as MNIST places a digit), its box centred across."""
    height, width = group.shape
    total = float(group.sum())
    centre_y = float((np.arange(height) * group.sum(axis=1)).sum()) / total if total else 0.0
    top = int(np.clip(round(GROUP_HEIGHT / 2 - centre_y), 0, GROUP_HEIGHT - height))
    left = (GROUP_WIDTH - width) // 2
    field = np.zeros((GROUP_HEIGHT, GROUP_WIDTH), dtype=np.float32)
    field[top : top + height, left : left + width] = group
    return field


def head_probabilities(model: nl.Sequential, inputs: np.ndarray) -> np.ndarray:
    """``(N, GROUP_HEIGHT, GROUP_WIDTH)`` inputs -> ``(N, P, CLASSES)`` probabilities, one
    softmax per position (P: the model's positions, its outputs over CLASSES)."""
    batch = np.asarray(inputs, dtype=np.float32).reshape(-1, 1, GROUP_HEIGHT, GROUP_WIDTH)
    was_training = model.training
    model.eval()
    try:
        logits = model.forward(batch).reshape(len(batch), -1, CLASSES)
    finally:
        if was_training:
            model.train()
    return nl.functional.softmax(logits, axis=2)


def column_log_probs(model: nl.Sequential, inputs: np.ndarray) -> np.ndarray:
    """The column reader's ``(N, T, CLASSES)`` log-probabilities for ``(N, GROUP_HEIGHT,
    GROUP_WIDTH)`` inputs: one softmax over the ten digits and the CTC blank (BLANK) for
    each of its T column steps, left to right (T = 21 for the 84-px field)."""
    batch = np.asarray(inputs, dtype=np.float32).reshape(-1, 1, GROUP_HEIGHT, GROUP_WIDTH)
    probabilities = model.predict(batch).reshape(len(batch), -1, CLASSES)
    return np.log(np.maximum(probabilities, 1e-12))


def column_heads(log_probs: np.ndarray, positions: int = POSITIONS) -> np.ndarray:
    """The column reader's reading as the group reader gives its own: ``(N, T, CLASSES)``
    log-probabilities of T column steps -> ``(N, positions, CLASSES)`` probabilities, for
    each position k the chance that the group's k-th digit from the left is each digit, or
    that it has fewer than k + 1 digits (BLANK).

    Exact under CTC's distribution over paths (a digit or the blank at every step; a digit
    is written where a path enters it from anything else): a forward pass over the steps
    keeps F[c, s], the probability of the paths so far that have written c digits and are
    on symbol s, and every entry into a digit d after c digits adds to position c's d."""
    probs = np.exp(np.asarray(log_probs, dtype=np.float64))
    count, steps, _ = probs.shape
    digits = slice(0, BLANK)
    written = np.zeros((count, positions + 1, CLASSES))  # (c capped: "positions or more")
    heads = np.zeros((count, positions, CLASSES))
    written[:, 0, BLANK] = probs[:, 0, BLANK]
    written[:, 1, digits] = probs[:, 0, digits]
    heads[:, 0, digits] = probs[:, 0, digits]
    for step in range(1, steps):
        now = probs[:, step]
        total = written.sum(axis=2)
        entering = (total[:, :, None] - written[:, :, digits]) * now[:, None, digits]
        heads[:, :, digits] += entering[:, :positions]
        following = np.empty_like(written)
        following[:, :, BLANK] = total * now[:, None, BLANK]
        following[:, :, digits] = written[:, :, digits] * now[:, None, digits]
        following[:, 1:, digits] += entering[:, :-1]
        following[:, positions, digits] += entering[:, positions]
        written = following
    heads[:, :, BLANK] = np.clip(1.0 - heads[:, :, digits].sum(axis=2), 0.0, 1.0)
    return heads.astype(np.float32)


def digits_probability(judge: nl.Sequential, inputs: np.ndarray) -> np.ndarray:
    """The group judge's belief that each group holds digits at all (not a letter, a symbol
    or a doodle): ``(N, GROUP_HEIGHT, GROUP_WIDTH)`` inputs -> ``(N,)`` probabilities (its
    second output's softmax, in evaluation mode)."""
    batch = np.asarray(inputs, dtype=np.float32).reshape(-1, 1, GROUP_HEIGHT, GROUP_WIDTH)
    return judge.predict(batch)[:, 1]


def best_reading(probabilities: np.ndarray) -> tuple[list[int], float]:
    """The most probable digits of one group from its ``(P, CLASSES)`` probabilities:
    the digits before the first BLANK, and the log-probability of that whole reading (every
    position after the digits must read BLANK)."""
    labels: list[int] = []
    for position in range(len(probabilities)):
        best = int(np.argmax(probabilities[position]))
        if best == BLANK:
            break
        labels.append(best)
    return labels, reading_score(probabilities, labels)


def reading_score(probabilities: np.ndarray, labels: list[int]) -> float:
    """The log-probability the group reader gives to reading ``labels`` (at most P digits,
    then BLANK) from one group's ``(P, CLASSES)`` probabilities (P positions); ``-inf``
    when the group holds more digits than it has positions."""
    positions = len(probabilities)
    if len(labels) > positions:
        return float("-inf")
    wanted = [*labels, *[BLANK] * (positions - len(labels))]
    chosen = probabilities[np.arange(positions), wanted]
    return float(np.log(np.maximum(chosen, 1e-9)).sum())


@dataclass(frozen=True)
class GroupView:
    """What the readers of touching digits make of one group: the group reader's ``heads``
    ``(P, CLASSES)`` and, when there is a column reader, its ``columns`` ``(T, CLASSES)``
    (both log-probabilities). Two networks built differently err on different groups; a
    reading both find likely is scored by both (:meth:`score`)."""

    heads: np.ndarray
    columns: np.ndarray | None = None

    @cached_property
    def own(self) -> list[int]:
        """The group reader's best reading (:func:`best_reading`)."""
        return best_reading(np.exp(self.heads))[0]

    @cached_property
    def theirs(self) -> list[int] | None:
        """The column reader's best reading (its best path); None without a column reader."""
        if self.columns is None:
            return None
        return nl.functional.ctc_greedy_decode(self.columns[None], BLANK)[0]

    def column_score(self, labels: list[int]) -> float:
        """The column reader's log-probability of reading ``labels`` (CTC: every alignment
        of them to its columns); 0.0 without a column reader."""
        if self.columns is None:
            return 0.0
        padded = np.full((1, max(1, len(labels))), BLANK, dtype=np.int64)
        padded[0, : len(labels)] = labels
        return float(nl.ctc_log_likelihood(self.columns[None], padded, BLANK)[0])

    def score(self, labels: list[int]) -> float:
        """The log-probability of reading ``labels``: the group reader's (at most P digits),
        averaged with the column reader's when there is one (a geometric mean)."""
        grouped = reading_score(np.exp(self.heads), labels)
        if self.columns is None or grouped == -np.inf:
            return grouped
        return (grouped + self.column_score(labels)) / 2

    def best(self) -> tuple[list[int], float]:
        """The likelier (:meth:`score`) of the group reader's best reading and the column
        reader's (its best path), and its score."""
        candidates = [self.own]
        if self.theirs not in (None, self.own) and len(self.theirs) <= len(self.heads):
            candidates.append(self.theirs)
        labels = max(candidates, key=self.score)
        return labels, self.score(labels)

    def agreed(self) -> bool:
        """Whether there is a column reader and its best reading is the group reader's."""
        return self.theirs == self.own

    def digits(self, labels: list[int]) -> list[np.ndarray]:
        """For the reading ``labels``, each position's ``(10,)`` digit probabilities: the
        group reader's when it reads them so, else the column reader's (:func:`column_heads`)."""
        heads = self.heads
        if labels != self.own and self.columns is not None:
            heads = np.log(np.maximum(column_heads(self.columns[None], len(self.heads))[0], 1e-9))
        digits = np.exp(heads[: len(labels), :BLANK])
        return list(digits / digits.sum(axis=1, keepdims=True))
