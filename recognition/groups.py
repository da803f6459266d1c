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
The number reader (:meth:`~recognition.recognizer.Recognizer.read_number`) weighs this
reading against the cut-and-verify reading of the same group by score.
"""

from __future__ import annotations

import numpy as np

import nnlite as nl

from .normalize import (
    CANON_SIDE,
    _crop_to_ink,
    _resize,
    deskew,
    normalise_stroke,
    stroke_width,
)

#: The group reader's input: GROUP_HEIGHT x GROUP_WIDTH, the group's ink INK_HEIGHT tall.
GROUP_HEIGHT, GROUP_WIDTH, INK_HEIGHT = 28, 84, 20
#: Digits read per group, left to right; a position beyond the group's digits reads BLANK.
POSITIONS = 6
#: The eleventh class of every position: "no digit here".
BLANK = 10
CLASSES = 11


def to_group_input(ink: np.ndarray, deskew_slant: bool = True) -> np.ndarray:
    """The group reader's input for one group's ink.

    ``ink``: ``(H, W)`` float in [0, 1], 1 = ink, other marks zeroed. Returns
    ``(GROUP_HEIGHT, GROUP_WIDTH)`` float32 in [0, 1]: the ink INK_HEIGHT pixels tall (less
    when the group is wider than the field allows), strokes as thick as MNIST's.
    """
    crop = _crop_to_ink(np.asarray(ink, dtype=np.float32))
    height, width = crop.shape
    factor = CANON_SIDE / max(height, 1)
    canon = _resize(crop, CANON_SIDE, max(1, round(width * factor)))
    canon = np.pad(canon, 8)
    stroke = normalise_stroke(canon, stroke_width(canon))
    straight = _crop_to_ink(deskew(stroke) if deskew_slant else stroke)
    height, width = straight.shape
    factor = min(INK_HEIGHT / height, (GROUP_WIDTH - 4) / width)
    group = _resize(straight, max(1, round(height * factor)), max(1, round(width * factor)))
    strongest = group[group > 0.1]
    if strongest.size:
        group = np.clip(group / max(0.5, float(np.percentile(strongest, 90))), 0.0, 1.0)
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
