"""Real-world-style images made from MNIST test digits, for tests, benchmarks and examples.

Each style imitates a way people give us digits: a pen on paper photographed under uneven
light, chalk on a board, a transparent PNG whose ink lives in the alpha channel, coloured ink,
a small digit off-centre, a thin sketch line, a thick marker, and whole numbers whose digits
touch. Every image is made from a seeded random generator, so a test is repeatable.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

from .synth import pen_ink

STYLES = (
    "paper",
    "photo",
    "chalk",
    "transparent",
    "colour",
    "small_offcentre",
    "thin",
    "thick",
    "jpeg",
    "italic",
)
#: Photos as people take them (issue 22): a hard or soft shadow across the page, ruled or
#: squared notebook paper, a lamp's hot spot or a dark corner.
HARD_STYLES = ("shadow", "soft_shadow", "lined", "squared", "hot_spot")
#: Paper that is not blank white: a coloured sticky note on a desk, a printed form's box.
PAPER_STYLES = ("sticky", "form")


def _place(ink: np.ndarray, canvas: tuple[int, int], rng: np.random.Generator,
           centred: bool = True) -> np.ndarray:  # fmt: skip
    h, w = ink.shape
    height, width = max(canvas[0], h + h // 5), max(canvas[1], w + w // 5)
    field = np.zeros((height, width), dtype=np.float32)
    if centred:
        top = (height - h) // 2 + int(rng.integers(-height // 20, height // 20 + 1))
        left = (width - w) // 2 + int(rng.integers(-width // 20, width // 20 + 1))
    else:
        top = int(rng.integers(height // 20, height - h - height // 20 + 1))
        left = int(rng.integers(width // 20, width - w - width // 20 + 1))
    top, left = int(np.clip(top, 0, height - h)), int(np.clip(left, 0, width - w))
    field[top : top + h, left : left + w] = np.maximum(field[top : top + h, left : left + w], ink)
    return field


def _lighting(shape: tuple[int, int], rng: np.random.Generator, strength: float) -> np.ndarray:
    """A smooth ``(H, W)`` light field around 1: a gradient plus vignetting."""
    height, width = shape
    y = np.linspace(-1, 1, height)[:, None]
    x = np.linspace(-1, 1, width)[None, :]
    angle = rng.uniform(0, 2 * np.pi)
    gradient = np.cos(angle) * x + np.sin(angle) * y
    vignette = x**2 + y**2
    return (1.0 - strength * (0.5 * gradient + 0.5) - 0.5 * strength * vignette).astype(np.float32)


def _compose(ink: np.ndarray, paper: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Ink ``(H, W)`` of ``colour`` ``(3,)`` over ``paper`` ``(H, W, 3)``."""
    return paper * (1.0 - ink[:, :, None]) + colour[None, None, :] * ink[:, :, None]


def _to_uint8(rgb: np.ndarray) -> np.ndarray:
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _encode(array: np.ndarray, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _shadow(shape: tuple[int, int], rng: np.random.Generator, soft: bool) -> np.ndarray:
    """``(H, W)`` light factor: 1 on one side of a straight edge at any angle, 0.3-0.7 on the
    other (the shadow of a phone or a hand); the edge is 1-3 px wide, or 10-40 px when
    ``soft``. The edge passes anywhere over the middle half of the image, over the digit too."""
    height, width = shape
    angle = rng.uniform(0, 2 * np.pi)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    centre_y = rng.uniform(0.25, 0.75) * height
    centre_x = rng.uniform(0.25, 0.75) * width
    distance = np.cos(angle) * (cols - centre_x) + np.sin(angle) * (rows - centre_y)
    width_px = rng.uniform(10, 40) if soft else rng.uniform(0.5, 2.0)
    inside = 1.0 / (1.0 + np.exp(-distance / width_px))
    darkness = rng.uniform(0.3, 0.7)
    return (1.0 - darkness * inside).astype(np.float32)


def _ruling(shape: tuple[int, int], rng: np.random.Generator, squared: bool) -> np.ndarray:
    """``(H, W)`` 0-1 lines of ruled (or squared) notebook paper: 18-40 px apart, 1-3 px."""
    height, width = shape
    spacing = rng.uniform(18, 40)
    thickness = rng.uniform(1.0, 3.0)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    tilt = rng.uniform(-0.03, 0.03)

    def lines(position: np.ndarray) -> np.ndarray:
        phase = np.mod(position, spacing)
        gap = np.minimum(phase, spacing - phase)
        return np.clip(thickness / 2 + 0.5 - gap, 0.0, 1.0)

    found = lines(rows + tilt * cols + rng.uniform(0, spacing))
    if squared:
        found = np.maximum(found, lines(cols - tilt * rows + rng.uniform(0, spacing)))
    return found.astype(np.float32)


def _form_box(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(H, W)`` 0-1: a printed form's box around the ink (the field a digit is written
    in), 1-2 px lines, a few pixels to a fifth of the digit away from it."""
    rows = np.flatnonzero(ink.max(axis=1) > 0.3)
    cols = np.flatnonzero(ink.max(axis=0) > 0.3)
    height, width = ink.shape
    box = np.zeros_like(ink)
    if rows.size == 0:
        return box
    size = rows[-1] - rows[0] + 1
    pad = [int(rng.integers(3, max(4, size // 5))) for _ in range(4)]
    top, bottom = max(0, rows[0] - pad[0]), min(height - 1, rows[-1] + pad[1])
    left, right = max(0, cols[0] - pad[2]), min(width - 1, cols[-1] + pad[3])
    thick = int(rng.integers(1, 3))
    box[top : top + thick, left : right + 1] = box[
        bottom - thick + 1 : bottom + 1, left : right + 1
    ] = 1
    box[top : bottom + 1, left : left + thick] = box[
        top : bottom + 1, right - thick + 1 : right + 1
    ] = 1
    return box


def _sticky_note(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """``(H, W, 3)``: a desk (grey-brown) with a pastel square note covering most of it."""
    height, width = shape
    desk = np.array([0.45, 0.38, 0.3], np.float32) * rng.uniform(0.6, 1.1)
    paper = np.ones((height, width, 3), np.float32) * desk
    colours = [[0.98, 0.92, 0.45], [0.98, 0.7, 0.8], [0.7, 0.95, 0.7], [0.65, 0.85, 0.98]]
    note = np.array(colours[int(rng.integers(len(colours)))], np.float32)
    margin_y, margin_x = (int(rng.uniform(0.03, 0.12) * side) for side in shape)
    paper[margin_y : height - margin_y, margin_x : width - margin_x] = note
    return paper


def render(ink: np.ndarray, style: str, rng: np.random.Generator) -> bytes:
    """Dress a ``(H, W)`` ink field (1 = ink) in ``style``; returns an encoded image file."""
    shape = ink.shape
    if style in PAPER_STYLES:
        if style == "sticky":
            paper = _sticky_note(shape, rng)
        else:
            paper = np.ones((*shape, 3), np.float32) * rng.uniform(0.88, 1.0)
            printed = np.array([[0.3, 0.3, 0.35], [0.25, 0.35, 0.6], [0.6, 0.35, 0.35]], np.float32)
            colour = printed[int(rng.integers(len(printed)))]
            paper = _compose(_form_box(ink, rng), paper, colour)
        light = _lighting(shape, rng, rng.uniform(0.05, 0.15))
        pen = np.array([[0.08, 0.08, 0.15], [0.1, 0.15, 0.45]], np.float32)[int(rng.integers(2))]
        blurred = ndimage.gaussian_filter(ink, rng.uniform(0.5, 1.0))
        rgb = _compose(blurred * rng.uniform(0.8, 1.0), paper, pen) * light[:, :, None]
        rgb += rng.normal(0.0, 0.012, size=(*shape, 1)).astype(np.float32)
        return _encode(_to_uint8(rgb), "JPEG", quality=int(rng.integers(75, 92)))
    if style in HARD_STYLES:
        paper = np.ones((*shape, 3), np.float32) * rng.uniform(0.85, 1.0)
        paper *= np.array([1.0, 0.98, 0.93], np.float32)
        if style in ("lined", "squared"):
            colours = [[0.55, 0.7, 0.9], [0.6, 0.6, 0.6], [0.9, 0.6, 0.6], [0.5, 0.75, 0.6]]
            line_colour = np.array(colours[int(rng.integers(len(colours)))], np.float32)
            paper = _compose(_ruling(shape, rng, style == "squared"), paper, line_colour)
        light = _lighting(shape, rng, rng.uniform(0.05, 0.2))
        if style in ("shadow", "soft_shadow"):
            light = light * _shadow(shape, rng, soft=style == "soft_shadow")
        if style == "hot_spot":
            rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
            y, x = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
            radius = rng.uniform(0.2, 0.5) * max(shape)
            glow = np.exp(-((rows - y) ** 2 + (cols - x) ** 2) / (2 * radius**2))
            light = np.clip(light * (0.55 + 0.45 * glow) + 0.25 * glow, 0, 1.15)
        colour = np.array([0.08, 0.08, 0.15], np.float32)
        blurred = ndimage.gaussian_filter(ink, rng.uniform(0.5, 1.2))
        rgb = _compose(blurred * rng.uniform(0.75, 1.0), paper, colour) * light[:, :, None]
        rgb += rng.normal(0.0, 0.015, size=(*shape, 1)).astype(np.float32)
        return _encode(_to_uint8(rgb), "JPEG", quality=int(rng.integers(70, 92)))
    noise = rng.normal(0.0, 0.02, size=(*shape, 1)).astype(np.float32)
    if style == "transparent":
        rgba = np.zeros((*shape, 4), dtype=np.uint8)
        rgba[:, :, 3] = _to_uint8(ink)
        return _encode(rgba, "PNG")
    if style == "chalk":
        board = (
            np.array([0.12, 0.2, 0.15], dtype=np.float32) * _lighting(shape, rng, 0.3)[:, :, None]
        )
        chalk = np.array([0.92, 0.92, 0.88], dtype=np.float32)
        rgb = _compose(ink * rng.uniform(0.7, 1.0), board, chalk) + 2 * noise
        return _encode(_to_uint8(rgb), "PNG")
    paper = np.ones((*shape, 3), dtype=np.float32) * rng.uniform(0.85, 1.0)
    colour = np.array([0.05, 0.05, 0.1], dtype=np.float32)
    if style == "colour":
        palette = [[0.8, 0.1, 0.1], [0.1, 0.5, 0.1], [0.1, 0.2, 0.8], [0.5, 0.1, 0.6]]
        colour = np.array(palette[int(rng.integers(len(palette)))], dtype=np.float32)
    if style == "photo":
        paper = paper * _lighting(shape, rng, rng.uniform(0.2, 0.45))[:, :, None]
        paper = paper * np.array([1.0, 0.97, 0.9], dtype=np.float32)
        blurred = ndimage.gaussian_filter(ink, rng.uniform(0.8, 2.0))
        rgb = _compose(blurred * rng.uniform(0.75, 1.0), paper, colour) + 1.5 * noise
        corner = tuple(int(v) for v in _to_uint8(rgb[0, 0]))
        image = Image.fromarray(_to_uint8(rgb)).rotate(rng.uniform(-8, 8), fillcolor=corner)
        image = image.filter(ImageFilter.SMOOTH)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=int(rng.integers(60, 90)))
        return buffer.getvalue()
    rgb = _compose(ink, paper, colour) + noise
    if style == "jpeg":
        return _encode(_to_uint8(rgb), "JPEG", quality=int(rng.integers(40, 70)))
    return _encode(_to_uint8(rgb), "PNG")


def digit_image(digit: np.ndarray, style: str, rng: np.random.Generator) -> bytes:
    """One MNIST test digit ``(28, 28)`` uint8 as an image file in the given style."""
    canvas = (int(rng.integers(200, 320)), int(rng.integers(200, 320)))
    height = int(rng.uniform(0.45, 0.8) * min(canvas))
    ink = pen_ink(digit, height, rng)
    if style == "small_offcentre":
        canvas = (int(rng.integers(300, 420)), int(rng.integers(300, 420)))
        ink = pen_ink(digit, int(rng.integers(24, 50)), rng)
        field = _place(ink, canvas, rng, centred=False)
        return render(field, "paper", rng)
    if style == "thin":
        line = skeleton(ink > 0.5)
        if rng.random() < 0.5:
            line = ndimage.binary_dilation(line)
        ink = ndimage.gaussian_filter(line.astype(np.float32), 0.6)
        ink = np.clip(ink / max(float(ink.max()), 1e-6) * 1.3, 0, 1)
        return render(_place(ink, canvas, rng), "paper", rng)
    if style == "italic":
        slant = rng.uniform(0.6, 0.9) * rng.choice([-1.0, 1.0])
        h, w = ink.shape
        extra = int(abs(slant) * h) + 2
        matrix = np.array([[1.0, 0.0], [-slant, 1.0]])
        offset = np.array([0.0, slant * h / 2 - extra / 2])
        ink = ndimage.affine_transform(ink, matrix, offset=offset, output_shape=(h, w + extra),
                                       order=1)  # fmt: skip
        return render(_place(ink, canvas, rng), "paper", rng)
    if style == "thick":
        ink = ndimage.grey_dilation(ink, footprint=_disk(max(2, height // 20)))
        return render(_place(ink, canvas, rng), "paper", rng)
    return render(_place(ink, canvas, rng), style, rng)


def skeleton(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a ``(H, W)`` bool mask to one-pixel-wide lines (vectorised
    over the image; loops only over thinning passes)."""
    image = np.pad(mask.astype(np.uint8), 1)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            offsets = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))
            p = [np.roll(np.roll(image, -dy, 0), -dx, 1) for dy, dx in offsets]
            neighbours = sum(p)
            transitions = sum((p[i] == 0) & (p[(i + 1) % 8] == 1) for i in range(8))
            if step == 0:
                guard = (p[0] * p[2] * p[4] == 0) & (p[2] * p[4] * p[6] == 0)
            else:
                guard = (p[0] * p[2] * p[6] == 0) & (p[0] * p[4] * p[6] == 0)
            remove = (image == 1) & (neighbours >= 2) & (neighbours <= 6) & (transitions == 1)
            remove &= guard
            if remove.any():
                image[remove] = 0
                changed = True
    return image[1:-1, 1:-1].astype(bool)


def _disk(radius: int) -> np.ndarray:
    offsets = np.arange(-radius, radius + 1)
    return offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius * radius
