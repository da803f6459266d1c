"""Does the recognizer refuse what is not a digit, and still read every digit?

    python benchmarks/not_a_digit.py [--weights weights/mnist_cnn.npz] [--per-kind 40]

Non-digits here are drawn *independently of the training generator* (``negatives.py`` renders
letters from fonts): letters and symbols written as pen strokes from a small stroke alphabet
of this file, hand-drawn doodles (its own shapes), and specks, each drawn on a 280 x 280
white canvas as the app's pad would send it, and read through the whole pipeline
(:meth:`Recognizer.predict`). Digits are MNIST *test* digits, as they are and as realistic
images (``training.realistic``: photos, chalk, transparent PNGs...).

Prints, per kind, the share refused as "not a digit", and for comparison what the old way
(refusing answers below a confidence threshold) would refuse at the threshold that refuses
1 % of the realistic digits; then the share of non-digits of which number mode
(:meth:`Recognizer.read_number`, where a wide mark may be touching digits) reads no digit;
and of rows "17?4" (two digits, a letter or symbol as tall as they, a digit) how often the
mark was read into digits (the row not read as its digits alone).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnlite as nl  # noqa: E402
from recognition import Recognizer  # noqa: E402
from training.realistic import STYLES, digit_image  # noqa: E402

#: A stroke alphabet (unit square, y down): how people write these by hand.
LETTERS = {
    "A": [[(0.1, 1), (0.5, 0), (0.9, 1)], [(0.28, 0.6), (0.72, 0.6)]],
    "E": [[(0.8, 0), (0.2, 0), (0.2, 1), (0.8, 1)], [(0.2, 0.5), (0.65, 0.5)]],
    "F": [[(0.8, 0), (0.2, 0), (0.2, 1)], [(0.2, 0.5), (0.65, 0.5)]],
    "H": [[(0.2, 0), (0.2, 1)], [(0.8, 0), (0.8, 1)], [(0.2, 0.5), (0.8, 0.5)]],
    "K": [[(0.2, 0), (0.2, 1)], [(0.8, 0), (0.2, 0.55), (0.8, 1)]],
    "M": [[(0.1, 1), (0.15, 0), (0.5, 0.6), (0.85, 0), (0.9, 1)]],
    "N": [[(0.2, 1), (0.2, 0), (0.8, 1), (0.8, 0)]],
    "P": [[(0.2, 1), (0.2, 0), (0.7, 0.05), (0.8, 0.25), (0.7, 0.45), (0.2, 0.5)]],
    "R": [[(0.2, 1), (0.2, 0), (0.7, 0.05), (0.8, 0.25), (0.7, 0.45), (0.2, 0.5), (0.8, 1)]],
    "U": [[(0.2, 0), (0.2, 0.8), (0.35, 1), (0.65, 1), (0.8, 0.8), (0.8, 0)]],
    "V": [[(0.1, 0), (0.5, 1), (0.9, 0)]],
    "W": [[(0.05, 0), (0.28, 1), (0.5, 0.35), (0.72, 1), (0.95, 0)]],
    "X": [[(0.15, 0), (0.85, 1)], [(0.85, 0), (0.15, 1)]],
    "Y": [[(0.15, 0), (0.5, 0.5), (0.85, 0)], [(0.5, 0.5), (0.5, 1)]],
    "+": [[(0.5, 0.1), (0.5, 0.9)], [(0.1, 0.5), (0.9, 0.5)]],
    "=": [[(0.1, 0.35), (0.9, 0.35)], [(0.1, 0.65), (0.9, 0.65)]],
    "#": [[(0.35, 0), (0.3, 1)], [(0.7, 0), (0.65, 1)],
          [(0, 0.35), (1, 0.35)], [(0, 0.65), (1, 0.65)]],
    "*": [[(0.5, 0), (0.5, 1)], [(0.1, 0.25), (0.9, 0.75)], [(0.9, 0.25), (0.1, 0.75)]],
    "?": [[(0.2, 0.25), (0.35, 0.05), (0.65, 0.05), (0.8, 0.25), (0.5, 0.5), (0.5, 0.7)],
          [(0.5, 0.95), (0.5, 0.97)]],
    "!": [[(0.5, 0), (0.5, 0.7)], [(0.5, 0.93), (0.5, 0.95)]],
    "<": [[(0.85, 0.1), (0.15, 0.5), (0.85, 0.9)]],
    ">": [[(0.15, 0.1), (0.85, 0.5), (0.15, 0.9)]],
    "%": [[(0.85, 0.05), (0.15, 0.95)],
          [(0.2, 0.1), (0.35, 0.1), (0.35, 0.3), (0.2, 0.3), (0.2, 0.1)],
          [(0.65, 0.7), (0.8, 0.7), (0.8, 0.9), (0.65, 0.9), (0.65, 0.7)]],
}  # fmt: skip


def _circle(cx, cy, r, a0=0, a1=360, n=30):
    t = np.radians(np.linspace(a0, a1, n))
    return list(zip(cx + r * np.cos(t), cy + r * np.sin(t), strict=True))


DOODLES = {
    "smiley": [_circle(0.5, 0.5, 0.45), _circle(0.33, 0.38, 0.03), _circle(0.67, 0.38, 0.03),
               _circle(0.5, 0.5, 0.25, 30, 150)],
    "star": [[(0.5, 0.02), (0.79, 0.95), (0.03, 0.36), (0.97, 0.36), (0.21, 0.95), (0.5, 0.02)]],
    "house": [[(0.15, 0.45), (0.15, 1), (0.85, 1), (0.85, 0.45)],
              [(0.05, 0.5), (0.5, 0.05), (0.95, 0.5)]],
    "spiral": [list(zip(0.5 + np.linspace(0.02, 0.45, 90) * np.cos(np.linspace(0, 17, 90)),
                        0.5 + np.linspace(0.02, 0.45, 90) * np.sin(np.linspace(0, 17, 90)),
                        strict=True))],
    "heart": [[(0.5, 0.95), (0.08, 0.45), (0.12, 0.15), (0.32, 0.08), (0.5, 0.28), (0.68, 0.08),
               (0.88, 0.15), (0.92, 0.45), (0.5, 0.95)]],
    "arrow": [[(0.05, 0.5), (0.95, 0.5)], [(0.7, 0.25), (0.95, 0.5), (0.7, 0.75)]],
    "tick": [[(0.05, 0.55), (0.35, 0.9), (0.95, 0.1)]],
    "sun": [_circle(0.5, 0.5, 0.2)] + [
        [(0.5 + 0.28 * np.cos(a), 0.5 + 0.28 * np.sin(a)),
         (0.5 + 0.47 * np.cos(a), 0.5 + 0.47 * np.sin(a))]
        for a in np.linspace(0, 6.28, 8, endpoint=False)],
    "box": [[(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9), (0.1, 0.1)], [(0.1, 0.1), (0.9, 0.9)]],
    "triangle": [[(0.5, 0.05), (0.95, 0.9), (0.05, 0.9), (0.5, 0.05)]],
    "wave": [list(zip(np.linspace(0, 1, 40), 0.5 + 0.25 * np.sin(np.linspace(0, 12, 40)),
                      strict=True))],
    "stick figure": [_circle(0.5, 0.15, 0.12), [(0.5, 0.27), (0.5, 0.65)],
                     [(0.2, 0.42), (0.8, 0.42)],
                     [(0.25, 0.98), (0.5, 0.65), (0.75, 0.98)]],
}  # fmt: skip


def draw_on_canvas(
    strokes: list, rng: np.random.Generator, side: int = 280, size: float | None = None
) -> np.ndarray:
    """Strokes in the unit square drawn like the app's pad: black on white, ``(side, side, 3)``
    uint8, at a random size, place, slant and pen width, every point a little off."""
    image = Image.new("RGB", (side, side), "white")
    draw = ImageDraw.Draw(image)
    size = size or rng.uniform(0.45, 0.8) * side
    pen = int(rng.uniform(10, 22))
    slant = rng.uniform(-0.2, 0.2)
    left, top = rng.uniform(0.1 * side, side - size - 0.1 * side + 1, 2)
    for stroke in strokes:
        points = np.array(stroke, dtype=np.float64)
        points = points + rng.normal(0, 0.02, points.shape)
        points[:, 0] += slant * (0.5 - points[:, 1])
        xy = [(left + x * size, top + y * size) for x, y in points]
        draw.line(xy, fill="black", width=pen, joint="curve")
        for x, y in (xy[0], xy[-1]):
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill="black")
    return np.asarray(image)


def speck(rng: np.random.Generator, side: int = 280) -> np.ndarray:
    """A dot, two or three dots, or a short dash, as tapped or flicked on the pad."""
    image = Image.new("RGB", (side, side), "white")
    draw = ImageDraw.Draw(image)
    kind = rng.integers(3)
    for _ in range(1 if kind != 1 else int(rng.integers(2, 4))):
        x, y = rng.uniform(60, 220, 2)
        if kind == 2:
            length = rng.uniform(20, 60)
            draw.line(
                (x - length / 2, y, x + length / 2, y + rng.uniform(-5, 5)), fill="black", width=14
            )
        else:
            r = rng.uniform(6, 12)
            draw.ellipse((x - r, y - r, x + r, y + r), fill="black")
    return np.asarray(image)


#: Digits for rows around a letter, from the same kind of strokes.
ROW_DIGITS = {
    "1": [[(0.5, 0), (0.5, 1)]],
    "7": [[(0.1, 0), (0.9, 0), (0.4, 1)]],
    "0": [[(0.5, 0), (0.1, 0.3), (0.15, 0.8), (0.5, 1), (0.85, 0.8), (0.9, 0.3), (0.5, 0)]],
    "4": [[(0.6, 0), (0.1, 0.65), (0.9, 0.65)], [(0.65, 0.3), (0.65, 1)]],
}  # fmt: skip


def letter_in_row(strokes: list, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Two digits, the letter or symbol ``strokes``, a digit: drawn in one row as tall as
    each other, ``(220, 640)`` uint8, and the digits written."""
    image = Image.new("L", (640, 220), 255)
    draw = ImageDraw.Draw(image)
    pen, height, x = int(rng.integers(8, 16)), rng.uniform(90, 130), 40.0
    row = [*rng.choice(list(ROW_DIGITS), 2), None, *rng.choice(list(ROW_DIGITS), 1)]
    for mark in row:
        width = height * (0.55 if mark else rng.uniform(0.6, 1.0))
        for stroke in ROW_DIGITS[mark] if mark else strokes:
            points = np.array(stroke, np.float64) + rng.normal(0, 0.02, (len(stroke), 2))
            xy = [(x + px * width, 40 + py * height) for px, py in points]
            draw.line(xy, fill=0, width=pen, joint="curve")
        x += width + rng.uniform(0.25, 0.5) * height
    return np.asarray(image), "".join(mark for mark in row if mark)


def answers(recognizer: Recognizer, images: list) -> tuple[np.ndarray, np.ndarray]:
    """(refused as not a digit, top confidence over the digits) for each image."""
    refused, confidence = [], []
    for image in images:
        found = recognizer.predict(image)
        refused.append(found.reason == "not a digit")
        confidence.append(found.top_k[0][1] if found.top_k else 0.0)
    return np.array(refused), np.array(confidence)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None, help="model file (the shipped one)")
    parser.add_argument("--per-kind", type=int, default=40, help="images per shape (40)")
    args = parser.parse_args(argv)
    recognizer = Recognizer.load(args.weights)
    rng = np.random.default_rng(7)
    sets: dict[str, list] = {}
    sets["letters and symbols (strokes)"] = [
        draw_on_canvas(strokes, rng)
        for strokes in LETTERS.values()
        for _ in range(args.per_kind // 4)
    ]
    sets["doodles"] = [
        draw_on_canvas(strokes, rng)
        for strokes in DOODLES.values()
        for _ in range(args.per_kind // 4)
    ]
    sets["specks and dashes"] = [speck(rng) for _ in range(args.per_kind * 2)]
    _, (x_test, _) = nl.data.load_mnist()
    picks = rng.choice(len(x_test), 30 * len(STYLES), replace=False)
    realistic = [
        digit_image(x_test[i], str(s), rng)
        for i, s in zip(picks, np.repeat(STYLES, 30), strict=True)
    ]
    mnist = [255 - x_test[i] for i in rng.choice(len(x_test), 1000, replace=False)]
    results = {name: answers(recognizer, images) for name, images in sets.items()}
    digits = {
        "MNIST test digits": answers(recognizer, mnist),
        "realistic digit images": answers(recognizer, realistic),
    }
    cut = np.quantile(digits["realistic digit images"][1], 0.01)
    print(f"model: {args.weights or 'shipped'}\n")
    print(f"| {'set':<32} | images | refused as not a digit | old way: top < {cut:.2f} |")
    print(f"|{'-' * 34}|--------|------------------------|--------------------|")
    for name, (refused, confidence) in {**results, **digits}.items():
        print(
            f"| {name:<32} | {len(refused):>6} | {refused.mean() * 100:>21.1f}% | "
            f"{(confidence < cut).mean() * 100:>17.1f}% |"
        )
    print(f"\n| {'read as a number':<32} | images | no digit read |")
    print(f"|{'-' * 34}|--------|---------------|")
    for name, images in sets.items():
        nothing = [recognizer.read_number(image).number is None for image in images]
        print(f"| {name:<32} | {len(images):>6} | {np.mean(nothing) * 100:>12.1f}% |")
    rows = [letter_in_row(s, rng) for s in LETTERS.values() for _ in range(args.per_kind // 4)]
    into = [recognizer.read_number(image).number != digits for image, digits in rows]
    print(f"\n| {'read as a number':<32} | rows | the mark read into digits |")
    print(f"|{'-' * 34}|------|---------------------------|")
    name = "a letter or symbol among digits"
    print(f"| {name:<32} | {len(rows):>4} | {np.mean(into) * 100:>24.1f}% |")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except nl.data.MnistError as error:  # no $MNIST_DIR and no network
        sys.exit(f"error: {error}")
