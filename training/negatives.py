"""Synthesized "not a digit" images for training the classifier's eleventh output (outlier
exposure).

A classifier trained only on digits calls everything a digit: a letter A is "4 at 100 %", a
smiley "0". The shipped model has an eleventh class, *not a digit*, trained on the images made
here, each seen exactly as the recognition pipeline would show it to the network (drawn on a
canvas, found by :func:`recognition.normalize.find_ink`, made 28x28 by
:func:`recognition.normalize.to_mnist`):

- ``letter``: letters and symbols from every TrueType font on the machine (and Pillow's own),
  warped like handwriting (random affine and elastic distortion, pen width);
- ``written``: letters and symbols written as pen strokes (a stroke alphabet, rounded and
  jittered like a hand);
- ``doodle``: faces, stars, houses, spirals, scribbles, hearts, arrows, ticks, crosses, suns,
  boxes, waves, grids, drawn as jittered pen strokes;
- ``speck``: one or a few dots, a short dash, a tiny blob;
- ``fragment``: a piece (15-40 %) of an MNIST training digit, cut by a random line;
- ``overlap``: two different MNIST training digits drawn over each other.

Never shapes that are digits: no O, o, D, l, I, i, J, T, S, s, Z, z, B, b, G, g, q, 9-like or
1-like strokes, no plain circles or near-vertical lines.

    images, kinds = make_negatives(1000, seed=0, digits=x_train)   # (1000, 28, 28) uint8
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from recognition.normalize import ink_components, to_mnist
from recognition.recognizer import isolate_ink

#: Letters and symbols that are never read as digits (handwritten O, l, I, S, Z, B, G, g, q, D,
#: T, J, i, s, z, b and 1-like strokes such as / | ( ) are left out on purpose).
GLYPHS = "ACEFHKLMNPQRUVWXYacefhkmnprtuvwxy+#%&@?!*=<>^~€\u00d7÷→←↑↓♥★☺✓αελμπΣΩφψ"
KINDS = ("letter", "doodle", "speck", "fragment", "overlap", "written")
#: How often each kind is drawn.
KIND_WEIGHTS = (0.22, 0.30, 0.08, 0.10, 0.12, 0.18)
#: Fragments and overlaps that a digit classifier reads as one digit this surely are dropped.
JUDGE_LIMIT = 0.8
FIELD = 200  # side of the square canvas the shapes are drawn on, in pixels
FONT_DIRECTORIES = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))


@lru_cache(maxsize=1)
def font_files() -> tuple[str, ...]:
    """The TrueType fonts on this machine (sorted, so a seed gives the same images)."""
    found: list[str] = []
    for directory in FONT_DIRECTORIES:
        if directory.is_dir():
            found += [str(p) for p in directory.rglob("*.ttf") if "Math" not in p.name]
    return tuple(sorted(found))


def _font(rng: np.random.Generator, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    files = font_files()
    pick = int(rng.integers(len(files) + 1))
    if pick < len(files):
        try:
            return ImageFont.truetype(files[pick], size)
        except OSError:
            pass
    return ImageFont.load_default(size)


def _has_glyph(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, char: str) -> bool:
    """False when the font draws ``char`` as its 'missing glyph' box."""
    try:
        drawn = font.getmask(char)
        if drawn.getbbox() is None:
            return False
        missing = font.getmask("\U0010fffd")  # a private code point: the font's missing box
        return bytes(drawn) != bytes(missing) or drawn.size != missing.size
    except (OSError, ValueError):
        return False


def elastic(ink: np.ndarray, rng: np.random.Generator, alpha: float, sigma: float) -> np.ndarray:
    """Warp ``(H, W)`` ink by a smooth random displacement field (up to about ``alpha``
    pixels, smooth over ``sigma`` pixels): the wobble of a hand instead of a font's rule."""
    height, width = ink.shape
    dy = ndimage.gaussian_filter(rng.normal(size=ink.shape), sigma) * alpha * sigma
    dx = ndimage.gaussian_filter(rng.normal(size=ink.shape), sigma) * alpha * sigma
    rows, cols = np.mgrid[0:height, 0:width]
    return ndimage.map_coordinates(ink, [rows + dy, cols + dx], order=1, cval=0.0)


def _warp(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random rotation (+-20 deg), shear and aspect, then an elastic wobble."""
    angle = math.radians(rng.uniform(-20, 20))
    shear = rng.uniform(-0.3, 0.3)
    aspect = math.exp(rng.uniform(-0.25, 0.25))
    cos, sin = math.cos(angle), math.sin(angle)
    forward = np.array([[cos, -sin], [sin, cos]]) @ np.array([[aspect, shear], [0.0, 1 / aspect]])
    inverse = np.linalg.inv(forward)
    centre = (np.array(ink.shape) - 1) / 2
    offset = centre - inverse @ centre
    warped = ndimage.affine_transform(ink, inverse, offset=offset, order=1, cval=0.0)
    return elastic(warped, rng, rng.uniform(0.5, 2.0), rng.uniform(6, 12))


def letter(rng: np.random.Generator) -> np.ndarray:
    """A letter or symbol from a random font, warped like handwriting: ``(FIELD, FIELD)``."""
    for _ in range(20):
        char = GLYPHS[int(rng.integers(len(GLYPHS)))]
        font = _font(rng, int(rng.integers(70, 130)))
        if _has_glyph(font, char):
            break
    image = Image.new("L", (FIELD, FIELD), 0)
    draw = ImageDraw.Draw(image)
    draw.text((FIELD / 2, FIELD / 2), char, fill=255, font=font, anchor="mm")
    ink = np.asarray(image, dtype=np.float32) / 255.0
    return _warp(ink, rng)


# --- letters written with a pen: a stroke alphabet, smoothed and jittered -------------------

#: How people write these by hand, as pen strokes in the unit square (y down). Curves are
#: given by a few points and smoothed when drawn.
WRITTEN = {
    "A": [[(0.15, 1), (0.5, 0), (0.85, 1)], [(0.3, 0.62), (0.7, 0.62)]],
    "E": [[(0.8, 0.02), (0.25, 0), (0.22, 0.5), (0.2, 1), (0.8, 1)], [(0.22, 0.5), (0.65, 0.5)]],
    "F": [[(0.8, 0), (0.25, 0), (0.22, 1)], [(0.23, 0.48), (0.65, 0.48)]],
    "H": [[(0.2, 0), (0.22, 1)], [(0.8, 0), (0.78, 1)], [(0.21, 0.5), (0.79, 0.5)]],
    "K": [[(0.22, 0), (0.2, 1)], [(0.8, 0.02), (0.22, 0.55)], [(0.4, 0.42), (0.82, 1)]],
    "L": [[(0.25, 0), (0.22, 1), (0.8, 0.98)]],
    "M": [[(0.1, 1), (0.18, 0), (0.5, 0.65), (0.82, 0), (0.9, 1)]],
    "N": [[(0.2, 1), (0.22, 0), (0.78, 1), (0.8, 0)]],
    "P": [[(0.25, 1), (0.25, 0), (0.75, 0.08), (0.78, 0.35), (0.25, 0.52)]],
    "R": [[(0.25, 1), (0.25, 0), (0.75, 0.08), (0.78, 0.35), (0.25, 0.52), (0.8, 1)]],
    "U": [[(0.2, 0), (0.2, 0.75), (0.5, 1), (0.8, 0.75), (0.8, 0)]],
    "V": [[(0.12, 0), (0.5, 1), (0.88, 0)]],
    "W": [[(0.05, 0), (0.27, 1), (0.5, 0.3), (0.73, 1), (0.95, 0)]],
    "X": [[(0.15, 0), (0.85, 1)], [(0.85, 0), (0.15, 1)]],
    "Y": [[(0.15, 0), (0.5, 0.5)], [(0.85, 0), (0.5, 0.5), (0.5, 1)]],
    "Q": [[(0.5, 0), (0.1, 0.3), (0.15, 0.8), (0.5, 1), (0.85, 0.8), (0.9, 0.3), (0.5, 0)],
          [(0.55, 0.7), (0.95, 1.05)]],
    "a": [[(0.75, 0.45), (0.45, 0.35), (0.2, 0.6), (0.35, 0.95), (0.7, 0.75)],
          [(0.75, 0.35), (0.72, 0.85), (0.85, 1)]],
    "e": [[(0.2, 0.62), (0.8, 0.6), (0.6, 0.3), (0.25, 0.45), (0.3, 0.9), (0.8, 0.9)]],
    "h": [[(0.25, 0), (0.22, 1)], [(0.23, 0.6), (0.55, 0.4), (0.75, 0.55), (0.75, 1)]],
    "k": [[(0.25, 0), (0.22, 1)], [(0.7, 0.4), (0.25, 0.7), (0.75, 1)]],
    "m": [[(0.1, 0.4), (0.12, 1)], [(0.12, 0.55), (0.3, 0.4), (0.48, 0.55), (0.5, 1)],
          [(0.5, 0.55), (0.7, 0.4), (0.88, 0.55), (0.9, 1)]],
    "n": [[(0.22, 0.4), (0.24, 1)], [(0.24, 0.55), (0.5, 0.4), (0.75, 0.55), (0.78, 1)]],
    "r": [[(0.3, 0.4), (0.32, 1)], [(0.32, 0.6), (0.5, 0.42), (0.75, 0.42)]],
    "u": [[(0.22, 0.4), (0.25, 0.9), (0.5, 1), (0.75, 0.85)], [(0.78, 0.4), (0.78, 1)]],
    "v": [[(0.2, 0.4), (0.5, 1), (0.8, 0.4)]],
    "w": [[(0.08, 0.4), (0.28, 1), (0.5, 0.55), (0.72, 1), (0.92, 0.4)]],
    "x": [[(0.2, 0.4), (0.8, 1)], [(0.8, 0.4), (0.2, 1)]],
    "y": [[(0.2, 0.35), (0.5, 0.7)], [(0.8, 0.35), (0.5, 0.7), (0.3, 1.1)]],
    "f": [[(0.75, 0.05), (0.5, 0), (0.4, 0.2), (0.4, 1)], [(0.2, 0.45), (0.65, 0.45)]],
    "t": [[(0.45, 0.1), (0.45, 0.85), (0.7, 1)], [(0.2, 0.38), (0.75, 0.38)]],
    "&": [[(0.85, 1), (0.3, 0.4), (0.35, 0.05), (0.6, 0.1), (0.55, 0.35), (0.15, 0.7),
           (0.3, 1), (0.6, 0.9), (0.85, 0.6)]],
    "@": [[(0.65, 0.45), (0.45, 0.35), (0.35, 0.6), (0.5, 0.7), (0.65, 0.45), (0.7, 0.7),
           (0.9, 0.55), (0.85, 0.2), (0.5, 0.05), (0.15, 0.3), (0.15, 0.75), (0.5, 0.95),
           (0.8, 0.85)]],
    "?": [[(0.25, 0.25), (0.5, 0.02), (0.78, 0.22), (0.5, 0.55), (0.5, 0.72)],
          [(0.5, 0.93), (0.51, 0.95)]],
    "!": [[(0.5, 0), (0.5, 0.7)], [(0.5, 0.93), (0.51, 0.95)]],
    "=": [[(0.1, 0.38), (0.9, 0.38)], [(0.1, 0.65), (0.9, 0.65)]],
    "%": [[(0.85, 0.05), (0.15, 0.95)], [(0.25, 0.08), (0.1, 0.22), (0.25, 0.35), (0.38, 0.2),
          (0.25, 0.08)], [(0.75, 0.65), (0.62, 0.8), (0.75, 0.93), (0.88, 0.8), (0.75, 0.65)]],
    "~": [[(0.1, 0.55), (0.3, 0.4), (0.5, 0.5), (0.7, 0.6), (0.9, 0.45)]],
    "<": [[(0.85, 0.1), (0.15, 0.5), (0.85, 0.9)]],
    ">": [[(0.15, 0.1), (0.85, 0.5), (0.15, 0.9)]],
    "^": [[(0.15, 0.7), (0.5, 0.2), (0.85, 0.7)]],
}  # fmt: skip


def _smooth(points: np.ndarray, per_segment: int = 8) -> np.ndarray:
    """A curve through a polyline's points (Catmull-Rom), so that written letters are round
    where a hand would round them; two-point strokes stay straight."""
    if len(points) < 3:
        return points
    padded = np.vstack([points[0], points, points[-1]])
    t = np.linspace(0, 1, per_segment, endpoint=False)[:, None]
    curve = []
    for i in range(1, len(padded) - 2):  # a handful of segments per stroke
        p0, p1, p2, p3 = padded[i - 1], padded[i], padded[i + 1], padded[i + 2]
        curve.append(
            0.5
            * (
                2 * p1
                + (-p0 + p2) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3
            )
        )
    return np.vstack([*curve, points[-1:]])


def written(rng: np.random.Generator) -> np.ndarray:
    """A letter or symbol written with a pen (:data:`WRITTEN`): ``(FIELD, FIELD)``."""
    glyph = list(WRITTEN.values())[int(rng.integers(len(WRITTEN)))]
    round_corners = rng.random() < 0.5
    strokes = [
        _smooth(np.asarray(s, float)) if round_corners else np.asarray(s, float) for s in glyph
    ]
    return draw_strokes(strokes, rng, rng.uniform(80, 160))


# --- doodles: shapes in unit coordinates, drawn as jittered pen strokes ----------------------


def _circle(cx: float, cy: float, r: float, start: float = 0, end: float = 360, n: int = 40):
    angles = np.radians(np.linspace(start, end, n))
    return np.stack([cx + r * np.cos(angles), cy + r * np.sin(angles)], axis=1)


def _smiley(rng):
    face = _circle(0.5, 0.5, 0.4)
    eyes = [_circle(0.35, 0.38, 0.04), _circle(0.65, 0.38, 0.04)]
    mouth = _circle(0.5, 0.5, 0.22, 20, 160)  # y grows downwards: this arc smiles
    if rng.random() < 0.3:
        mouth = _circle(0.5, 0.85, 0.22, 215, 325)  # a sad face
    return [face, *eyes, mouth]


def _star(rng):
    points = int(rng.choice([5, 5, 6, 7]))
    order = np.arange(points + 1) * (2 if points % 2 else 1)
    angles = -np.pi / 2 + 2 * np.pi * order / points
    if points % 2 == 0:  # even stars: outer and inner points alternate
        angles = -np.pi / 2 + np.pi * np.arange(2 * points + 1) / points
        radius = np.where(np.arange(2 * points + 1) % 2 == 0, 0.45, 0.2)
        return [np.stack([0.5 + radius * np.cos(angles), 0.5 + radius * np.sin(angles)], 1)]
    return [np.stack([0.5 + 0.45 * np.cos(angles), 0.5 + 0.45 * np.sin(angles)], 1)]


def _house(rng):
    body = np.array([[0.2, 0.45], [0.2, 0.9], [0.8, 0.9], [0.8, 0.45], [0.2, 0.45]])
    roof = np.array([[0.12, 0.48], [0.5, 0.1], [0.88, 0.48]])
    door = np.array([[0.42, 0.9], [0.42, 0.65], [0.58, 0.65], [0.58, 0.9]])
    parts = [body, roof]
    if rng.random() < 0.6:
        parts.append(door)
    return parts


def _spiral(rng):
    turns = rng.uniform(2.0, 3.5)
    t = np.linspace(0, turns * 2 * np.pi, 120)
    r = 0.45 * t / t[-1] + 0.02
    return [np.stack([0.5 + r * np.cos(t), 0.5 + r * np.sin(t)], 1)]


def _scribble(rng):
    count = int(rng.integers(8, 20))
    points = rng.uniform(0.1, 0.9, size=(count, 2))
    t = np.linspace(0, count - 1, count * 8)
    smooth = np.stack([np.interp(t, np.arange(count), points[:, i]) for i in range(2)], 1)
    return [ndimage.gaussian_filter1d(smooth, 2.0, axis=0)]


def _heart(rng):
    t = np.linspace(0, 2 * np.pi, 80)
    x = 16 * np.sin(t) ** 3
    y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return [np.stack([0.5 + x / 36, 0.45 - y / 36], 1)]


def _arrow(rng):
    return [np.array([[0.1, 0.5], [0.9, 0.5]]), np.array([[0.65, 0.25], [0.9, 0.5], [0.65, 0.75]])]


def _tick(rng):
    return [np.array([[0.1, 0.55], [0.38, 0.85], [0.9, 0.15]])]


def _cross(rng):
    return [np.array([[0.15, 0.15], [0.85, 0.85]]), np.array([[0.85, 0.15], [0.15, 0.85]])]


def _sun(rng):
    rays = []
    for angle in np.linspace(0, 2 * np.pi, int(rng.integers(6, 12)), endpoint=False):
        c, s = np.cos(angle), np.sin(angle)
        rays.append(np.array([[0.5 + 0.28 * c, 0.5 + 0.28 * s], [0.5 + 0.45 * c, 0.5 + 0.45 * s]]))
    return [_circle(0.5, 0.5, 0.2), *rays]


def _box(rng):
    box = np.array([[0.15, 0.2], [0.85, 0.2], [0.85, 0.8], [0.15, 0.8], [0.15, 0.2]])
    extra = [np.array([[0.15, 0.2], [0.85, 0.8]])] if rng.random() < 0.5 else []
    return [box, *extra]


def _triangle(rng):
    return [np.array([[0.5, 0.1], [0.9, 0.85], [0.1, 0.85], [0.5, 0.1]])]


def _wave(rng):
    x = np.linspace(0.05, 0.95, 80)
    return [np.stack([x, 0.5 + 0.2 * np.sin(x * rng.uniform(3, 6) * np.pi)], 1)]


def _zigzag(rng):
    count = int(rng.integers(4, 8))
    x = np.linspace(0.05, 0.95, count)
    return [np.stack([x, np.where(np.arange(count) % 2, 0.3, 0.7)], 1)]


def _grid(rng):
    lines = []
    for v in (0.35, 0.65):
        lines += [np.array([[v, 0.1], [v, 0.9]]), np.array([[0.1, v], [0.9, v]])]
    return lines


def _flower(rng):
    petals = int(rng.integers(5, 8))
    t = np.linspace(0, 2 * np.pi, 200)
    r = 0.25 + 0.18 * np.abs(np.sin(petals * t / 2))
    return [np.stack([0.5 + r * np.cos(t), 0.5 + r * np.sin(t)], 1), _circle(0.5, 0.5, 0.08)]


def _cloud(rng):
    bumps = [_circle(0.3 + 0.2 * i, 0.45, 0.15, 180, 360) for i in range(3)]
    return [*bumps, np.array([[0.15, 0.45], [0.15, 0.6], [0.85, 0.6], [0.85, 0.45]])]


def _stick_figure(rng):
    return [
        _circle(0.5, 0.18, 0.1),
        np.array([[0.5, 0.28], [0.5, 0.6]]),
        np.array([[0.25, 0.4], [0.75, 0.4]]),
        np.array([[0.3, 0.9], [0.5, 0.6], [0.7, 0.9]]),
    ]


def _hash(rng):
    return [
        np.array([[0.35, 0.1], [0.3, 0.9]]),
        np.array([[0.7, 0.1], [0.65, 0.9]]),
        np.array([[0.1, 0.35], [0.9, 0.35]]),
        np.array([[0.1, 0.65], [0.9, 0.65]]),
    ]


def _eye(rng):
    top = _circle(0.5, 0.9, 0.55, 225, 315)
    bottom = _circle(0.5, 0.1, 0.55, 45, 135)
    return [top, bottom, _circle(0.5, 0.5, 0.1)]


DOODLES: tuple[Callable, ...] = (
    _smiley, _star, _house, _spiral, _scribble, _heart, _arrow, _tick, _cross, _sun, _box,
    _triangle, _wave, _zigzag, _grid, _flower, _cloud, _stick_figure, _hash, _eye,
)  # fmt: skip


def draw_strokes(strokes: list[np.ndarray], rng: np.random.Generator, size: float) -> np.ndarray:
    """Draw unit-square polylines as a hand would: jittered points, a random pen width, the
    shape scaled to ``size`` pixels and placed on a ``(FIELD, FIELD)`` canvas."""
    image = Image.new("L", (FIELD, FIELD), 0)
    draw = ImageDraw.Draw(image)
    width = max(2, int(size * rng.uniform(0.03, 0.12)))
    rotation = math.radians(rng.uniform(-25, 25))
    aspect = math.exp(rng.uniform(-0.3, 0.3))
    matrix = np.array(
        [[math.cos(rotation), -math.sin(rotation)], [math.sin(rotation), math.cos(rotation)]]
    ) @ np.diag([aspect, 1 / aspect])
    for stroke in strokes:
        points = np.asarray(stroke, dtype=np.float64)
        if len(points) == 2:  # straight lines get intermediate points to wobble
            points = np.linspace(points[0], points[1], 8)
        wobble = ndimage.gaussian_filter1d(rng.normal(0, 0.025, points.shape), 1.5, axis=0)
        points = ((points + wobble - 0.5) * size) @ matrix.T + FIELD / 2
        xy = [tuple(p) for p in points]
        draw.line(xy, fill=255, width=width, joint="curve")
        for x, y in (xy[0], xy[-1]):
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return np.asarray(image, dtype=np.float32) / 255.0


def doodle(rng: np.random.Generator) -> np.ndarray:
    """A hand-drawn doodle: ``(FIELD, FIELD)``."""
    shape = DOODLES[int(rng.integers(len(DOODLES)))]
    return draw_strokes(shape(rng), rng, rng.uniform(90, 170))


def speck(rng: np.random.Generator) -> np.ndarray:
    """A dot, a few dots, a short dash or a tiny blob: ``(FIELD, FIELD)``."""
    image = Image.new("L", (FIELD, FIELD), 0)
    draw = ImageDraw.Draw(image)
    choice = rng.random()
    if choice < 0.45:  # one or a few dots
        for _ in range(1 if rng.random() < 0.6 else int(rng.integers(2, 5))):
            x, y = rng.uniform(40, 160, 2)
            r = rng.uniform(4, 14)
            draw.ellipse((x - r, y - r * rng.uniform(0.7, 1.3), x + r, y + r), fill=255)
    elif choice < 0.8:  # a dash, never steep enough to be a 1
        angle = math.radians(rng.uniform(-15, 15))
        length, width = rng.uniform(20, 90), int(rng.uniform(4, 14))
        x, y = rng.uniform(60, 140, 2)
        dx, dy = length / 2 * math.cos(angle), length / 2 * math.sin(angle)
        draw.line((x - dx, y - dy, x + dx, y + dy), fill=255, width=width)
    else:  # a blot
        blob = rng.normal(size=(FIELD, FIELD))
        blob = ndimage.gaussian_filter(blob, 6) > 0.05
        labels, count = ndimage.label(blob)
        if count:
            sizes = ndimage.sum(blob, labels, range(1, count + 1))
            return (labels == 1 + int(np.argmax(sizes))).astype(np.float32)
    return np.asarray(image, dtype=np.float32) / 255.0


def _digit_ink(digit: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A ``(28, 28)`` uint8 MNIST digit enlarged to about ``size`` pixels, centred on a
    ``(FIELD, FIELD)`` canvas, with a random offset ``(dy, dx)`` of up to a fifth of it."""
    big = (
        np.asarray(
            Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR), np.float32
        )
        / 255.0
    )
    field = np.zeros((FIELD, FIELD), np.float32)
    top, left = (FIELD - size) // 2 + rng.integers(-size // 5, size // 5 + 1, 2)
    top, left = int(np.clip(top, 0, FIELD - size)), int(np.clip(left, 0, FIELD - size))
    field[top : top + size, left : left + size] = big
    return field


def fragment(rng: np.random.Generator, digits: np.ndarray) -> np.ndarray:
    """15-40 % of an MNIST digit's ink, cut off by a random straight line: ``(FIELD, FIELD)``."""
    ink = _digit_ink(digits[int(rng.integers(len(digits)))], 150, rng)
    total = float(ink.sum())
    rows, cols = np.mgrid[0:FIELD, 0:FIELD]
    ys, xs = np.nonzero(ink > 0.3)
    for _ in range(10):
        angle = rng.uniform(0, 2 * np.pi)
        side = np.cos(angle) * (cols - FIELD / 2) + np.sin(angle) * (rows - FIELD / 2)
        along = np.cos(angle) * (xs - FIELD / 2) + np.sin(angle) * (ys - FIELD / 2)
        cut = np.quantile(along, rng.uniform(0.6, 0.85))
        piece = np.where(side > cut, ink, 0.0)
        if 0.15 * total <= piece.sum() <= 0.4 * total and not _upright_bar(piece):
            return piece
    return np.zeros_like(ink)  # no good cut: the caller finds no ink and draws again


def _upright_bar(ink: np.ndarray) -> bool:
    """True when ``(H, W)`` ink is one long stroke within 35 degrees of vertical: a 1."""
    ys, xs = np.nonzero(ink > 0.3)
    if len(ys) < 3:
        return False
    covariance = np.cov(np.stack([xs, ys]).astype(np.float64))
    values, vectors = np.linalg.eigh(covariance)
    long_axis = vectors[:, 1]
    elongated = values[1] > 6.0 * max(values[0], 1e-6)
    return bool(elongated and abs(long_axis[1]) > math.cos(math.radians(35)))


def overlap(rng: np.random.Generator, digits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Two MNIST digits of different classes (neither a 1) drawn over each other."""
    usable = np.flatnonzero(labels != 1)
    first = usable[int(rng.integers(len(usable)))]
    others = usable[labels[usable] != labels[first]]
    second = others[int(rng.integers(len(others)))]
    a = _digit_ink(digits[first], 140, rng)
    b = _digit_ink(digits[second], int(rng.integers(110, 150)), rng)
    b = np.roll(b, tuple(rng.integers(-30, 31, 2)), axis=(0, 1))
    return np.maximum(a, b)


def as_network_input(ink: np.ndarray) -> np.ndarray | None:
    """What the recognition pipeline would give the network for ``(H, W)`` ink (1 = ink) on a
    clean canvas: ``(28, 28)`` float32 in [0, 1], or None when it finds no ink (all specks)."""
    ink_map = ink_components(np.clip(ink, 0.0, 1.0).astype(np.float32))
    if not ink_map.components:
        return None
    return to_mnist(isolate_ink(ink_map, ink_map.components))


def make_negatives(
    count: int,
    seed: int,
    digits: np.ndarray,
    labels: np.ndarray,
    kinds: tuple[str, ...] = KINDS,
    judge: Callable[[np.ndarray], np.ndarray] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` not-a-digit network inputs ``(count, 28, 28)`` uint8 and their kinds
    ``(count,)`` (indices into ``KINDS``), made from ``seed``; ``digits`` ``(N, 28, 28)``
    uint8 and ``labels`` ``(N,)`` are MNIST *training* digits for fragments and overlaps.

    ``judge`` maps ``(1, 1, 28, 28)`` inputs to ``(1, >=10)`` probabilities of a digit
    classifier: a fragment or overlap it reads as one digit at JUDGE_LIMIT or more is thrown
    away (a piece of a 4 can be a perfect 1; it must not be taught as "not a digit").
    ``progress`` is called with the number made so far, every 100 images."""
    rng = np.random.default_rng([seed, 17])
    weights = np.array([KIND_WEIGHTS[KINDS.index(k)] for k in kinds])
    images = np.zeros((count, 28, 28), np.uint8)
    made = np.zeros(count, np.int64)
    done = 0
    while done < count:
        kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
        if kind == "letter":
            ink = letter(rng)
        elif kind == "written":
            ink = written(rng)
        elif kind == "doodle":
            ink = doodle(rng)
        elif kind == "speck":
            ink = speck(rng)
        elif kind == "fragment":
            ink = fragment(rng, digits)
        else:
            ink = overlap(rng, digits, labels)
        seen = as_network_input(ink)
        if seen is None:
            continue
        digit_like = kind in ("fragment", "overlap") and judge is not None
        if digit_like and float(judge(seen[None, None])[0, :10].max()) >= JUDGE_LIMIT:
            continue
        images[done] = np.clip(seen * 255.0 + 0.5, 0, 255).astype(np.uint8)
        made[done] = KINDS.index(kind)
        done += 1
        if progress is not None and (done % 100 == 0 or done == count):
            progress(done)
    return images, made
