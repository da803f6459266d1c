"""Shapes the classifier cannot be taught without losing MNIST's own digits.

The continental 1 is written with a long up-stroke that starts near the foot and runs up to
the top of the stem: a tall "Λ" whose right leg is the stem. MNIST's writers never wrote it.
Taught to the classifier strongly enough to read it, the classifier also read MNIST's 7s with
drooping bars as 1s; so it reads most of them and refuses the rest as "not a digit", and the
number readers take its two legs for two 1s ("11"). :func:`long_up_stroke_one` recognises the
shape itself, so that a refused "Λ" whose best digit is 1, or a "11" that is one such "Λ",
reads as the 1 it is. :func:`has_loop` tells a narrow slanted 0, whose two sides the readers
also take for "11", from two 1s: two 1s enclose nothing.

Brackets are one stroke, as a 1 is, and the classifier reads them as 1s: a phone number
"(555) 123-4567" read "155511234567". A bracket is bowed, both its edges curving the same
way (:func:`bow`), and a 1's stem is straight. (A slash, "12/05/2026", is still read as a
1: it leans further than its writer's digits, but in a number of MNIST digits each digit
has a writer of its own, and a rule comparing leans dropped their leaning 1s.)
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: The shape is measured on the network input enlarged this many times (84x84).
ZOOM = 3
#: Ink above this level (of 1) is a stroke.
STROKE_LEVEL = 0.3
#: At least this share of the top rows (APEX of the height) is one stroke: the legs meet.
APEX, APEX_SHARE = 0.15, 0.6
#: The legs are apart for a stretch of rows at least LEGS of the height long, starting within
#: the top LEGS_START of it.
LEGS, LEGS_START = 0.35, 0.45
#: Below the legs, at most this share of the rows holds two strokes or more (an A's legs go on).
BELOW_TWO = 0.3
#: The up-stroke runs down to the left by at least this much per row, and the stem runs
#: at most STEM_SHARE of that.
UP_STROKE_SLOPE, STEM_SHARE = 0.3, 0.6
#: The legs part by at least this much per row (about 25 degrees), and by the end of the legs
#: by at least SPREAD of the height: two 1s leaning together ("11" touching at the top) are
#: nearly parallel.
PARTING, SPREAD = 0.45, 0.2
#: The "Λ" encloses no more than this share of its box (a 0, a closed 4 or an A does).
NO_LOOP = 0.02
#: A hole the strokes enclose, at least this share of their box, is a loop (:func:`has_loop`).
LOOP_SHARE = 0.05


def _stroke_image(digit: np.ndarray) -> np.ndarray:
    """The strokes of a ``(28, 28)`` network input, enlarged ZOOM times and cropped to
    their rows: ``(h, 84)`` bool."""
    big = ndimage.zoom(np.asarray(digit, dtype=np.float32), ZOOM, order=1) > STROKE_LEVEL
    rows = np.flatnonzero(big.any(axis=1))
    if rows.size == 0:
        return big[:0]
    return ndimage.binary_closing(big[rows[0] : rows[-1] + 1], np.ones((1, 3), dtype=bool))


def _hole_share(ink: np.ndarray) -> float:
    """The share of the ``(h, w)`` bool ink's image that its strokes enclose."""
    return float(ndimage.binary_fill_holes(ink).sum() - ink.sum()) / max(1, ink.size)


def has_loop(ink: np.ndarray) -> bool:
    """Whether the strokes of ``ink`` (``(H, W)`` in [0, 1], 1 = ink: a group's ink as found,
    before it is made 28x28, where a narrow 0's strokes would run together) enclose a hole
    of at least LOOP_SHARE of their box (a 0, 6, 8, 9; two 1s side by side never do)."""
    strokes = np.asarray(ink) > STROKE_LEVEL
    rows, cols = np.flatnonzero(strokes.any(axis=1)), np.flatnonzero(strokes.any(axis=0))
    if rows.size == 0:
        return False
    return _hole_share(strokes[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]) >= LOOP_SHARE


def _runs(row: np.ndarray) -> list[tuple[int, int]]:
    """The ``(start, stop)`` columns of each stroke crossing a boolean row."""
    padded = np.concatenate([[False], row, [False]]).astype(np.int8)
    edges = np.diff(padded)
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def long_up_stroke_one(digit: np.ndarray) -> bool:
    """Whether a ``(28, 28)`` network input is a 1 written as a tall "Λ": two strokes that
    meet at the top, with no loop (a 0, a closed 4, an A), the left one (the up-stroke)
    running down and away to the left, the right one (the stem) steeper, and below them one
    leg going on alone (not a bar joining them, as an open 4's does)."""
    ink = _stroke_image(digit)
    height = ink.shape[0]
    if height < 10 or _hole_share(ink) > NO_LOOP:
        return False  # a loop
    runs = [_runs(row) for row in ink]
    counts = np.array([len(r) for r in runs])
    apex = counts[: max(1, int(APEX * height))]
    two = np.concatenate([[0], (counts == 2).astype(np.int8), [0]])
    starts, stops = np.flatnonzero(np.diff(two) == 1), np.flatnonzero(np.diff(two) == -1)
    if (apex == 1).mean() < APEX_SHARE or starts.size == 0:
        return False
    longest = int(np.argmax(stops - starts))
    start, stop = int(starts[longest]), int(stops[longest])
    if start > LEGS_START * height or stop - start < LEGS * height:
        return False
    below = counts[stop:]
    if below.size and (below >= 2).mean() > BELOW_TWO:
        return False
    if stop < height and counts[stop] == 1:
        up_stroke_end = runs[stop - 1][0][1]
        stem_first = runs[stop - 1][1][0]
        alone_first, alone_last = runs[stop][0]
        if alone_first < up_stroke_end and alone_last > stem_first:
            return False  # one stroke joins the legs: a bar
    rows_of_legs = np.arange(start, stop, dtype=np.float64)
    lefts = [(runs[y][0][0] + runs[y][0][1]) / 2 for y in range(start, stop)]
    rights = [(runs[y][1][0] + runs[y][1][1]) / 2 for y in range(start, stop)]
    up_stroke = float(np.polyfit(rows_of_legs, lefts, 1)[0])
    stem = float(np.polyfit(rows_of_legs, rights, 1)[0])
    parting = stem - up_stroke
    return (
        up_stroke < -UP_STROKE_SLOPE
        and abs(stem) < STEM_SHARE * abs(up_stroke)
        and parting >= PARTING
        and parting * (stop - start) >= SPREAD * height
    )


def bow(ink: np.ndarray) -> float:
    """How far a stroke's two edges bow the same way: ``ink`` ``(H, W)`` in [0, 1], one
    piece of a number as found. Each edge (the first and the last inked column of each row)
    is fitted with a parabola over the stroke's rows (from -1 at the top to 1 at the
    bottom); its curvature is the parabola's leading coefficient over the stroke's height.
    Returns the weaker edge's curvature, positive when both bulge to the left (a "("),
    negative when both bulge to the right (a ")"), 0.0 when they curve apart (a 1's foot) or
    the stroke has too few rows. A 1's stem is straight: of 3,000 MNIST training 1s, 1 %
    bow more than 0.12 and 0.1 % more than 0.2; handwriting fonts' brackets bow 0.06-0.37,
    most over 0.12."""
    strokes = np.asarray(ink) > STROKE_LEVEL
    rows = np.flatnonzero(strokes.any(axis=1))
    if rows.size < 5:
        return 0.0
    inked = strokes[rows]
    first = inked.argmax(axis=1)
    last = inked.shape[1] - 1 - inked[:, ::-1].argmax(axis=1)
    height = float(rows[-1] - rows[0] + 1)
    along = (rows - rows.mean()) / (height / 2)
    left = float(np.polyfit(along, first, 2)[0]) / height
    right = float(np.polyfit(along, last, 2)[0]) / height
    if left * right <= 0:
        return 0.0
    return float(np.sign(left)) * min(abs(left), abs(right))


def one_stroke(ink: np.ndarray) -> bool:
    """Whether ``ink`` ``(H, W)`` in [0, 1] is one thin stroke from top to bottom, as a
    bracket is: at least 90 % of its rows cross one stroke only, and no row's stroke is
    longer than 0.3 of its height (no bar, no arc lying across it). 34 ")"s and 33 "("s of
    35 handwriting fonts are; of MNIST's first 1,000 test 3s, 6s and 7s (enlarged three
    times) 0.1, 0.2 and 0.3 % are, and of its 0s, 2s, 4s, 5s, 8s and 9s none."""
    strokes = np.asarray(ink) > STROKE_LEVEL
    rows = np.flatnonzero(strokes.any(axis=1))
    if rows.size < 5:
        return False
    inked = strokes[rows[0] : rows[-1] + 1].astype(np.int8)
    edges = np.diff(inked, axis=1, prepend=0, append=0)
    crossings = (edges == 1).sum(axis=1)
    if (crossings == 1).mean() < 0.9:
        return False  # (most digits: rows that cross two strokes or more)
    starts, stops = np.nonzero(edges == 1), np.nonzero(edges == -1)
    longest = int((stops[1] - starts[1]).max())  # (runs pair up in reading order)
    return bool(longest <= 0.3 * len(inked))
