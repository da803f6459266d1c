"""Writing styles that MNIST (American census staff and students) barely has.

Two independent sources, so that a test does not check the augmentation against itself:

- :func:`drawn_digit` draws a digit of a named style from pen strokes (polylines with random
  proportions, slant, jitter and pen width): the 1 with a flag and a foot, the crossed 7,
  the slashed 0, the open and the closed 4, the curled and the straight 9. The tests and
  ``benchmarks/styles.py`` read these; nothing is trained on them.
- :func:`add_style` changes MNIST *training* digits into those styles by adding strokes to
  their own ink (a flag and a foot on a 1, a bar across a 7's stem, a slash through a 0, a
  tail curled under a 9) or by stretching or squeezing them; ``train.py --styles`` trains
  on them.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

#: Styles of :func:`drawn_digit`, with the digit each one is.
DRAWN_STYLES = {
    "1 flag": 1,
    "1 flag foot": 1,
    "1 long flag": 1,
    "1 up-stroke from the foot": 1,
    "7 crossed": 7,
    "7 plain": 7,
    "0 slashed": 0,
    "2 curled": 2,
    "4 open": 4,
    "4 closed": 4,
    "4 closed, short bar": 4,
    "9 curled": 9,
    "9 straight": 9,
}
#: The 1s whose up-stroke is about as long as the stem.
LONG_UP_STROKES = ("1 long flag", "1 up-stroke from the foot")
#: Width over height of an MNIST digit's ink is rarely outside this; stretched and squeezed
#: digits go beyond it.
STRETCH = (1.4, 2.0)
SQUEEZE = (0.5, 0.7)
SIDE = 112  # the drawing resolution: 4x MNIST's 28
#: The classes ``add_style`` draws on (the rest are only stretched or squeezed).
RESTYLED = (0, 1, 2, 4, 7, 9)


def _strokes(style: str, rng: np.random.Generator) -> list[list[tuple[float, float]]]:
    """The pen strokes of one drawn digit, in a unit box (x right, y down; 0..1)."""

    def j(scale: float = 0.04) -> float:
        return float(rng.normal(0.0, scale))

    def arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float):
        angles = np.linspace(np.deg2rad(start), np.deg2rad(stop), 24)
        return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]

    w = rng.uniform(0.45, 0.75)  # the digit's width in the unit box (its height is 1)
    left, right = 0.5 - w / 2, 0.5 + w / 2
    if style.startswith("1"):
        x = 0.5 + j(0.03)
        if style == "1 long flag":  # an up-stroke nearly as long as the stem, at 30-45 degrees
            flag, angle = rng.uniform(0.5, 0.75), np.deg2rad(rng.uniform(30, 45))
        elif style == "1 up-stroke from the foot":  # from near the foot to the top: a "Λ"
            angle = np.deg2rad(rng.uniform(35, 60))
            flag = rng.uniform(0.65, 0.95) / np.sin(angle)
        else:  # a long up-stroke, but steep (a level one is a 7's bar)
            flag, angle = rng.uniform(0.3, 0.5), np.deg2rad(rng.uniform(40, 65))
        strokes = [
            [(x - flag * np.cos(angle), flag * np.sin(angle) + j(0.02)), (x, 0.0), (x + j(), 1.0)]
        ]
        if style.endswith("foot"):
            foot = rng.uniform(0.18, 0.32)
            strokes.append([(x - foot, 1.0 + j(0.02)), (x + foot, 1.0 + j(0.02))])
        return strokes
    if style.startswith("7"):
        bottom = 0.5 + j(0.08) - 0.05
        strokes = [[(left, j(0.03) + 0.02), (right, j(0.03)), (bottom, 1.0)]]
        if style == "7 crossed":
            middle = rng.uniform(0.45, 0.6)
            stem = right + (bottom - right) * middle
            half = rng.uniform(0.18, 0.3)
            strokes.append([(stem - half, middle + j(0.02)), (stem + half, middle + j(0.02))])
        return strokes
    if style == "0 slashed":
        rx = w / 2
        ring = arc(0.5, 0.5, rx, 0.5, -90, 275)
        over = rng.uniform(0.0, 0.12)
        return [ring, [(left - over * w, 1.0 + over * 0.5), (right + over * w, -over * 0.5)]]
    if style == "2 curled":  # the pen starts with a small loop, as in a French school hand
        r = rng.uniform(0.07, 0.12)
        top = rng.uniform(0.25, 0.35)
        curl = arc(left + r, top, r, r, 90, -180)  # from its bottom, over its top, to the left
        bow = arc(0.5, top, w / 2, top, 180, 360)  # over the top to the right
        return [curl + bow + [(left + j(0.03), 1.0), (right + j(0.03), 1.0 + j(0.02))]]
    if style.startswith("4"):
        stem = left + w * rng.uniform(0.62, 0.78)
        bar = rng.uniform(0.55, 0.7)
        if style == "4 closed, short bar":  # the bar hardly passes the stem: nearly a 9
            stem = left + w * rng.uniform(0.8, 0.9)
        if style == "4 open":
            top = rng.uniform(0.0, 0.1)
            return [
                [(left + w * rng.uniform(0.15, 0.45), top), (left, bar), (right, bar + j(0.02))],
                [(stem, rng.uniform(0.15, 0.35)), (stem + j(), 1.0)],
            ]
        return [
            [(left, bar), (stem, 0.0), (stem + j(), 1.0)],
            [(left, bar), (right, bar + j(0.02))],
        ]
    if style.startswith("9"):
        loop = rng.uniform(0.38, 0.48)  # the loop's height
        rx, ry = w / 2, loop / 2
        ring = arc(0.5, ry, rx, ry, -30, 330)
        x = 0.5 + rx * np.cos(np.deg2rad(-30))
        y = ry + ry * np.sin(np.deg2rad(-30))
        if style == "9 curled":
            tail = [(x, y), (x - 0.02, 0.75), (x - 0.12, 0.95), (x - 0.3, 1.0), (x - 0.45, 0.9)]
        else:
            tail = [(x, y), (x - 0.05 + j(), 1.0)]
        return [ring, tail]
    raise ValueError(f"unknown style {style!r}; known: {', '.join(DRAWN_STYLES)}")


def drawn_digit(style: str, rng: np.random.Generator, height: int = 100) -> np.ndarray:
    """One digit of ``style`` (a key of DRAWN_STYLES) drawn with a pen: ``(H, W)`` float ink
    in [0, 1], ``height`` pixels tall plus a margin, leaning by up to +-0.25."""
    strokes = _strokes(style, rng)
    # (a long-flagged 1 leaning back, its stem running down to the left, is a 7)
    slant = rng.uniform(-0.1 if style in LONG_UP_STROKES else -0.25, 0.25)
    pen = max(2, round(height * rng.uniform(0.06, 0.12)))
    margin = pen + height // 4
    placed = [
        [((x + slant * (0.5 - y)) * height, y * height) for x, y in stroke] for stroke in strokes
    ]
    left = min(px for stroke in placed for px, _ in stroke)
    right = max(px for stroke in placed for px, _ in stroke)
    size = (int(right - left) + 2 * margin, height + 2 * margin)
    image = Image.new("L", size, 0)
    draw = ImageDraw.Draw(image)
    for stroke in placed:
        points = [(margin + px - left, margin + py) for px, py in stroke]
        draw.line(points, fill=255, width=pen, joint="curve")
        for px, py in (points[0], points[-1]):
            r = pen / 2
            draw.ellipse([px - r, py - r, px + r, py + r], fill=255)
    ink = np.asarray(image, dtype=np.float32) / 255.0
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    cols = np.flatnonzero(ink.max(axis=0) > 0)
    return np.pad(ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], height // 5)


def stretched_digit(digit: np.ndarray, factor: float, height: int = 100) -> np.ndarray:
    """An MNIST digit ``(28, 28)`` uint8 as ink ``height`` tall, its width times ``factor``
    (a digit stretched or squeezed to fill a box): ``(H, W)`` float in [0, 1]."""
    values = digit.astype(np.float32) / 255.0
    rows = np.flatnonzero(values.max(axis=1) > 0.1)
    cols = np.flatnonzero(values.max(axis=0) > 0.1)
    crop = values[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    width = max(2, round(crop.shape[1] * height / crop.shape[0] * factor))
    big = Image.fromarray(crop, mode="F").resize((width, height), Image.Resampling.BICUBIC)
    return np.pad(np.clip(np.asarray(big, dtype=np.float32), 0.0, 1.0), height // 5)


# ---- augmentation: MNIST training digits in the styles MNIST lacks ------------------------


def _ink_rows(big: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(big.max(axis=1) > 0.3)
    cols = np.flatnonzero(big.max(axis=0) > 0.3)
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def _centre_of_row(big: np.ndarray, row: int) -> float:
    cols = np.flatnonzero(big[row] > 0.3)
    return float(cols.mean()) if cols.size else big.shape[1] / 2


def _to_mnist_format(big: np.ndarray) -> np.ndarray:
    """A digit drawn at SIDE x SIDE (or any size) -> ``(28, 28)`` float: longer side 20,
    centre of mass at the centre, as MNIST was made."""
    from recognition.normalize import _crop_to_ink, _fit_long_side, place_by_centre_of_mass

    return place_by_centre_of_mass(np.clip(_fit_long_side(_crop_to_ink(big, 0.1), 20), 0, 1))


def add_style(digit: np.ndarray, label: int, rng: np.random.Generator) -> np.ndarray:
    """One MNIST digit ``(28, 28)`` uint8 in a style MNIST lacks, ``(28, 28)`` uint8: a 1
    gets a flag (and often a foot), a 7 a bar across its stem, a 0 a slash, a 9 a tail
    curled to the left, a 2 a small loop where the pen starts, a 4 a closed top; any digit
    may instead be stretched or squeezed (the network sees digits drawn to fill a box).
    Strokes are drawn at 4x as thick as the digit's own."""
    big = np.asarray(
        Image.fromarray(digit.astype(np.float32) / 255.0, mode="F").resize(
            (SIDE, SIDE), Image.Resampling.BILINEAR
        )
    )
    top, bottom, left, right = _ink_rows(big)
    height = bottom - top + 1
    image = Image.fromarray(np.clip(big * 255, 0, 255).astype(np.uint8), mode="L")
    draw = ImageDraw.Draw(image)
    pen = int(rng.integers(7, 11))

    def line(points: list[tuple[float, float]]) -> None:
        draw.line(points, fill=255, width=pen, joint="curve")
        for px, py in (points[0], points[-1]):
            draw.ellipse([px - pen / 2, py - pen / 2, px + pen / 2, py + pen / 2], fill=255)

    styled = label in RESTYLED and rng.random() < 0.8
    if styled and label == 1:
        x = _centre_of_row(big, top + 1)
        # (steeper than a 7's bar: a flag at under ~30 degrees from level is a 7)
        kind = rng.random()
        if kind < 0.3:  # an up-stroke from near the foot to the top: a "Λ" (a 7's bar is
            # short of the foot; a flag that would leave the canvas ends at its edge)
            angle = np.deg2rad(rng.uniform(35, 65))
            flag = height * rng.uniform(0.6, 0.95) / np.sin(angle)
        elif kind < 0.6:  # an up-stroke nearly as long as the stem
            flag, angle = height * rng.uniform(0.45, 0.75), np.deg2rad(rng.uniform(30, 50))
        else:
            flag, angle = height * rng.uniform(0.15, 0.35), np.deg2rad(rng.uniform(35, 65))
        line([(x - flag * np.cos(angle), top + flag * np.sin(angle)), (x, top + 1)])
        if rng.random() < 0.5:
            xb = _centre_of_row(big, bottom - 1)
            foot = height * rng.uniform(0.15, 0.3)
            line([(xb - foot, bottom + rng.normal(0, 2)), (xb + foot, bottom + rng.normal(0, 2))])
    elif styled and label == 7:
        row = int(top + height * rng.uniform(0.45, 0.6))
        x = _centre_of_row(big, row)
        half = height * rng.uniform(0.15, 0.28)
        line([(x - half, row + rng.normal(0, 2)), (x + half, row + rng.normal(0, 2))])
    elif styled and label == 0:
        over = rng.uniform(0.0, 0.1) * height
        line([(left - over, bottom + over / 2), (right + over, top - over / 2)])
    elif styled and label == 9:
        x = _centre_of_row(big, bottom - 1)
        h = height
        line([(x, bottom - 2), (x - 0.1 * h, bottom + 0.02 * h), (x - 0.25 * h, bottom - 0.05 * h)])
    elif styled and label == 2:
        # a small loop where the pen starts: the leftmost ink of the 2's upper part, curling
        # in under its bow
        upper = big[top : top + max(2, int(height * 0.45))]
        cols = np.flatnonzero(upper.max(axis=0) > 0.3)
        x0 = float(cols[0])
        y0 = top + float(np.flatnonzero(upper[:, cols[0]] > 0.3).mean())
        r = height * rng.uniform(0.1, 0.17)
        cx, cy = x0 + r * rng.uniform(0.9, 1.3), y0 + r * rng.uniform(0.0, 0.5)
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=255, width=max(3, pen - 2))
    elif styled and label == 4:
        # the top closed: the left arm's top joined to the stem's, as a 9's loop would be
        middle = int((left + right) / 2)
        arm, stem = big[:, left:middle], big[:, middle : right + 1]
        arm_rows = np.flatnonzero(arm[top : bottom + 1].max(axis=1) > 0.3)
        stem_rows = np.flatnonzero(stem[top : bottom + 1].max(axis=1) > 0.3)
        if arm_rows.size and stem_rows.size:
            ya, ys = top + int(arm_rows[0]), top + int(stem_rows[0])
            line([(left + _centre_of_row(arm, ya), ya), (middle + _centre_of_row(stem, ys), ys)])
    else:
        factor = rng.uniform(*STRETCH) if rng.random() < 0.5 else rng.uniform(*SQUEEZE)
        crop = big[top : bottom + 1, left : right + 1]
        width = max(2, round(crop.shape[1] * factor))
        stretched = Image.fromarray(crop, mode="F").resize((width, crop.shape[0]))
        return np.round(_to_mnist_format(np.asarray(stretched)) * 255).astype(np.uint8)
    styled_ink = np.asarray(image, dtype=np.float32) / 255.0
    return np.round(_to_mnist_format(styled_ink) * 255).astype(np.uint8)


def styled_set(
    images: np.ndarray, labels: np.ndarray, count: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` styled digits made from ``images`` ``(N, 28, 28)`` uint8: half of them of
    the RESTYLED classes (1s, 7s, 0s, 9s, 2s and 4s given a flag, bar, slash, curl, loop or
    closed top), the rest stretched or squeezed digits of every class. Returns
    ``(count, 28, 28)`` uint8 and their labels."""
    rng = np.random.default_rng(seed)
    wanted = np.isin(labels, RESTYLED)
    picks = np.concatenate(
        [
            rng.choice(np.flatnonzero(wanted), count // 2),
            rng.choice(len(images), count - count // 2),
        ]
    )
    out = np.stack([add_style(images[i], int(labels[i]), rng) for i in picks])
    return out, labels[picks].copy()
