"""Synthetic handwriting from MNIST digits: one digit as crisp pen strokes, and rows of them
(a number), separate or touching, with each digit's true box. Used to train the cut verifier
(``train_verifier.py``, on MNIST's training digits) and by the tests (on its test digits).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from recognition.recognizer import GROUP_MARGIN


def pen_ink(digit: np.ndarray, height: int, rng: np.random.Generator) -> np.ndarray:
    """A ``(28, 28)`` uint8 MNIST digit as crisp pen strokes, ``(h, w)`` float in [0, 1],
    cropped to the ink and scaled so that it is ``height`` pixels tall."""
    values = digit.astype(np.float32) / 255.0
    rows = np.flatnonzero(values.max(axis=1) > 0.1)
    cols = np.flatnonzero(values.max(axis=0) > 0.1)
    crop = values[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    factor = height / crop.shape[0]
    size = (max(2, round(crop.shape[1] * factor)), height)
    big = np.asarray(
        Image.fromarray(crop, mode="F").resize(size, Image.Resampling.BICUBIC), dtype=np.float32
    )
    level = rng.uniform(0.3, 0.5)
    return np.clip((big - level) * 4.0 + 0.5, 0.0, 1.0)


def group_crop(field: np.ndarray) -> tuple[np.ndarray, int, int, int]:
    """A synthesized group's ink field ``(H, W)`` cropped as the number reader crops a group
    (GROUP_MARGIN pixels around its ink): the crop, its top and left in ``field``, and the
    height of the ink itself."""
    rows = np.flatnonzero(field.max(axis=1) > 0.25)
    cols = np.flatnonzero(field.max(axis=0) > 0.25)
    top, left = max(0, rows[0] - GROUP_MARGIN), max(0, cols[0] - GROUP_MARGIN)
    crop = field[top : rows[-1] + 1 + GROUP_MARGIN, left : cols[-1] + 1 + GROUP_MARGIN]
    return crop, int(top), int(left), int(rows[-1] - rows[0] + 1)


def touching_shift(
    field: np.ndarray, piece: np.ndarray, top: int, left: int, limit: int, level: float = 0.5
) -> int | None:
    """How many columns (0 to ``limit - 1``) the ``(h, w)`` ink ``piece``, placed at row
    ``top`` and column ``left`` of the ``(H, W)`` ink ``field``, must slide left for its ink to
    overlap the field's by a few pixels (3 where both are above ``level``); None when no
    shift in that range does."""
    h, w = piece.shape
    for shift in range(limit):
        window = field[top : top + h, left - shift : left - shift + w]
        if (np.minimum(window, piece) > level).sum() >= 3:
            return shift
    return None


def number_ink(digits: np.ndarray, rng: np.random.Generator, touching: bool = False,
               height: int = 90, squeeze: float = 0.0,
               ) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:  # fmt: skip
    """A row of MNIST digits ``(K, 28, 28)`` as one ink field ``(H, W)`` and each digit's box
    ``(x, y, w, h)``: digits of slightly varying size and baseline; ``touching`` squeezes
    neighbours until their ink meets, and then up to ``squeeze`` times the digit's width
    further (a random share of it), so that strokes cross."""
    pieces = [pen_ink(d, int(height * rng.uniform(0.85, 1.0)), rng) for d in digits]
    margin = height // 2
    total = sum(p.shape[1] for p in pieces) + margin * 2 + height * len(pieces)
    field = np.zeros((height * 2 + margin, total), dtype=np.float32)
    left = margin
    boxes = []
    for piece in pieces:
        top = margin // 2 + int(rng.integers(0, height // 8 + 1))
        h, w = piece.shape
        if touching and left > margin:
            shift = touching_shift(field, piece, top, left, w // 2)
            if shift is not None:
                left -= shift + (int(rng.uniform(0.0, squeeze) * w) if squeeze else 0)
        region = field[top : top + h, left : left + w]
        np.maximum(region, piece, out=region)
        boxes.append((left, top, w, h))
        left += w + (0 if touching else int(rng.uniform(0.1, 0.4) * height))
    used = np.flatnonzero(field.max(axis=0) > 0)
    return field[:, : used[-1] + margin], boxes
