"""From a real image to MNIST's conventions: ink, then a centred 28x28 digit.

MNIST digits are light ink (1.0) on a black background (0.0), their longer side scaled to 20
pixels with anti-aliasing, placed in a 28x28 field so that the centre of mass of the ink is at
the centre (row 14, column 14), with strokes about 2.5 pixels wide. A network trained on MNIST
only works on inputs made the same way. Two stages:

1. :func:`find_ink` turns an ``(H, W, 3)`` photo, scan or drawing into an *ink map*: the
   background (paper, canvas, uneven light) is estimated and subtracted, the colour that
   separates ink from background is found (so dark-on-light, light-on-dark and coloured ink
   all come out as ink = 1), and the ink is split into connected components, specks dropped.
2. :func:`to_mnist` takes one digit's ink (a crop of the map and a mask) and makes the 28x28
   input: crop, stroke-width normalisation, deskew by image moments, longer side to 20 px,
   centre of mass to the centre.

Every function is pure NumPy/SciPy on small arrays; nothing loops over pixels in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from scipy import ndimage

#: The smaller side of tiny inputs is enlarged to at least this before finding ink.
MIN_WORK_SIDE = 64
#: Side of the canonical square in which stroke width and slant are normalised (4x MNIST's 20).
CANON_SIDE = 80
#: Median stroke width of MNIST digits measured at CANON_SIDE scale (the estimator of
#: :func:`stroke_width` on the test set; ``tests/test_recognition.py`` re-measures it).
MNIST_STROKE_WIDTH = 8.5
#: A dip pen's hairlines (and a pencil's light touches) between a digit's thick strokes: a
#: stroke whose brightest pixel within HAIRLINE_REACH (CANON_SIDE scale) is between
#: HAIRLINE_FLOOR and HAIRLINE_FAINT of the digit's strong ink is a hairline, when the strong
#: ink falls apart into two or more large pieces (each at least HAIRLINE_PIECE of it), as a
#: digit's thick strokes do when only hairlines join them.
HAIRLINE_REACH = 3
HAIRLINE_FLOOR, HAIRLINE_FAINT = 0.25, 0.55
HAIRLINE_PIECE = 0.1
#: Below this contrast between ink and background (on a 0..1 scale) there is no ink.
MIN_CONTRAST = 0.08
#: The ink must stand this many noise standard deviations above the background.
MIN_SNR = 5.0
#: Slant (horizontal shift per unit of height) that MNIST's own writers reach: 90 % of its
#: test digits lean less. The network has learnt such slants, so deskewing only removes the
#: excess beyond it (straightening every digit costs 0.2 points of accuracy on MNIST itself).
MNIST_SLANT = 0.4
#: The largest slant that deskewing removes.
MAX_SKEW = 0.8

LUMINANCE = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass
class Box:
    """A bounding box in ink-map pixels (bottom and right exclusive)."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    def at_edge(self, shape: tuple[int, ...]) -> bool:
        """Whether the box touches the edge of an image of ``shape`` ``(H, W)``."""
        return self.top == 0 or self.left == 0 or self.bottom == shape[0] or self.right == shape[1]


@dataclass
class Component(Box):
    """One connected piece of ink: its box, its label in the label image and its size."""

    label: int = 0
    area: int = 0


@dataclass
class InkMap:
    """What :func:`find_ink` found in an image.

    ``ink``: ``(H, W)`` float32 in [0, 1], 1 where the ink is as strong as its typical colour.
    ``labels``: ``(H, W)`` int32, the component index of each ink pixel, 0 for background.
    ``components``: the kept components (specks and ruled lines dropped), largest first.
    ``scale``: ink-map pixels per pixel of the image given to :func:`find_ink`.
    ``polarity``: ``"dark on light"`` or ``"light on dark"``.
    ``reason``: why there is no ink, when ``components`` is empty.
    ``light``: the estimated background light (None for an ink image given as such);
    ``background`` makes its ``(H, W, 3)`` picture, for the teaching view.
    """

    ink: np.ndarray
    labels: np.ndarray
    components: list[Component]
    scale: float
    polarity: str = "dark on light"
    contrast: float = 0.0
    reason: str = ""
    light: Light | None = field(default=None, repr=False)

    @property
    def background(self) -> np.ndarray | None:
        """``(H, W, 3)``: the estimated background light, or None."""
        return None if self.light is None else self.light.background()

    def mask(self, components: list[Component] | None = None) -> np.ndarray:
        """``(H, W)`` bool: the pixels of the given components (default: all kept ones)."""
        chosen = self.components if components is None else components
        lookup = np.zeros(int(self.labels.max()) + 1, dtype=bool)
        lookup[[c.label for c in chosen]] = True
        return lookup[self.labels]


def _resize(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a float32 ``(H, W)`` array with anti-aliasing (box filter down, bilinear up)."""
    height, width = max(1, height), max(1, width)
    shrinking = height < array.shape[0] or width < array.shape[1]
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    image = Image.fromarray(np.ascontiguousarray(array, dtype=np.float32), mode="F")
    return np.asarray(image.resize((width, height), method), dtype=np.float32)


def _enlarge_tiny(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Enlarge an image whose smaller side is under MIN_WORK_SIDE; returns it and its scale."""
    height, width = rgb.shape[:2]
    scale = min(MIN_WORK_SIDE / min(height, width), max_side / max(height, width))
    if scale <= 1.0:
        return rgb, 1.0
    new_h, new_w = round(height * scale), round(width * scale)
    channels = [_resize(rgb[:, :, c], new_h, new_w) for c in range(3)]
    return np.stack(channels, axis=2), new_w / width


def _border_colour(rgb: np.ndarray) -> np.ndarray:
    """``(3,)`` median colour of the outer ring (4 % of each side): almost always paper."""
    height, width = rgb.shape[:2]
    ring_h, ring_w = max(1, height // 25), max(1, width // 25)
    ring = np.concatenate(
        [
            rgb[:ring_h].reshape(-1, 3),
            rgb[-ring_h:].reshape(-1, 3),
            rgb[:, :ring_w].reshape(-1, 3),
            rgb[:, -ring_w:].reshape(-1, 3),
        ]
    )
    return np.median(ring[:: max(1, len(ring) // 10_000)], axis=0).astype(np.float32)


#: :func:`percentile` sorts the values near a percentile only in arrays at least this long...
FAST_PERCENTILE_SIZE = 8192
#: ...picked out with a threshold from every this many-th value.
PERCENTILE_SAMPLE_STEP = 16


def _order_pair(flat: np.ndarray, below: int) -> tuple[np.generic, np.generic] | None:
    """The ``(n,)`` array's order statistics ``below`` and ``below + 1`` (0 = the smallest),
    found among the values beyond a threshold taken from a strided sample (a few hundred
    values for a percentile near either end), or None when the threshold let too few
    through."""
    n = flat.size
    sample = flat[::PERCENTILE_SAMPLE_STEP]
    margin = 2 * ((n - below if below >= n // 2 else below + 2) // PERCENTILE_SAMPLE_STEP) + 16
    if below >= n // 2:
        rank = len(sample) - 1 - min(len(sample) - 1, margin)
        candidates = flat[flat >= np.partition(sample, rank)[rank]]
        low = below - (n - candidates.size)
    else:
        rank = min(len(sample) - 1, margin)
        candidates = flat[flat <= np.partition(sample, rank)[rank]]
        low = below
    if not 0 <= low < candidates.size - 1:
        return None
    pair = np.partition(candidates, (low, low + 1))
    return pair[low], pair[low + 1]


def percentile(values: np.ndarray, q: float) -> float:
    """``float(np.percentile(values, q))`` for finite values (NaN is not looked for), the
    same number to the last bit (checked on 60,000 random arrays), but for a long array and
    a percentile near either end only the values near it are sorted: 0.08 ms instead of 0.9
    for the 99.7th of 62,500 values (and a short float array is partitioned without NumPy's
    general machinery: 15 microseconds instead of 50). NumPy's default (linear)
    interpolation, computed as NumPy computes it."""
    flat = values.reshape(-1)
    virtual = (flat.size - 1) * np.true_divide(q, 100)
    if flat.dtype.kind != "f" or not 0 <= virtual < flat.size - 1:
        return float(np.percentile(flat, q))
    below = np.floor(virtual)
    if flat.size < FAST_PERCENTILE_SIZE:
        low = int(below)
        pair = tuple(np.partition(flat, (low, low + 1))[low : low + 2])
    else:
        pair = _order_pair(flat, int(below))
    if pair is None:
        return float(np.percentile(flat, q))
    gamma = float(virtual - below)
    a, b = pair
    step = b - a
    return float(b - step * (1 - gamma) if gamma >= 0.5 else a + step * gamma)


def percentiles(values: np.ndarray, qs: tuple[float, ...]) -> list[np.float64]:
    """``list(np.percentile(values, qs))`` for finite values, the same numbers to the last
    bit, as :func:`percentile` finds them (for several percentiles NumPy interpolates in
    float64, and its float64 scalars compare with a float32 array in float64)."""
    flat = values.reshape(-1)
    virtual = (flat.size - 1) * np.true_divide(np.asarray(qs, dtype=np.float64), 100)
    fallback = flat.size < FAST_PERCENTILE_SIZE or flat.dtype != np.float32
    if fallback or not ((virtual >= 0) & (virtual < flat.size - 1)).all():
        return list(np.percentile(flat, qs))
    found = []
    for index in virtual:
        below = np.floor(index)
        pair = _order_pair(flat, int(below))
        if pair is None:
            return list(np.percentile(flat, qs))
        gamma = index - below
        a, b = np.float64(pair[0]), np.float64(pair[1])
        step = np.float64(pair[1] - pair[0])  # (the difference in the values' own precision)
        found.append(b - step * (1 - gamma) if gamma >= 0.5 else a + step * gamma)
    return found


#: :func:`pad_with_paper` adds this share of the longer side on every side.
PAD_SHARE = 0.15


def pad_with_paper(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` -> ``(H + 2p, W + 2p, 3)``: the image with a margin of its border's
    typical colour (:func:`_border_colour`, the paper's when the paper is most of the
    border), ``p`` = PAD_SHARE of the longer side."""
    pad = max(2, round(PAD_SHARE * max(rgb.shape[:2])))
    colour = _border_colour(rgb)
    padded = np.empty((rgb.shape[0] + 2 * pad, rgb.shape[1] + 2 * pad, 3), dtype=np.float32)
    padded[:] = colour
    padded[pad : pad + rgb.shape[0], pad : pad + rgb.shape[1]] = rgb
    return padded


def _ink_colour(difference: np.ndarray, dark: bool | None) -> tuple[np.ndarray, bool]:
    """The colour of the ink relative to the background, ``(..., 3)`` -> ``(3,)``.

    Among the 0.3 % of pixels that differ most from the background, the darker ones and the
    lighter ones compete by their summed difference; the winners' mean difference is the ink
    colour. When ``dark`` fixes the polarity, the 0.3 % are taken among the pixels of that
    side only (the other side's strongest may be all there is at the top: the rim of a
    shadow's edge). Returns the colour and whether the ink is dark. ``difference`` is any
    number of pixels: a whole image or a sample of its pixels (see :func:`_sample_step`).
    """
    rows = difference.reshape(-1, 3)
    squared = np.einsum("nc,nc->n", rows, rows)
    if dark is not None:  # only the pixels on the ink's side compete
        luminance_change = rows @ LUMINANCE
        squared = np.where((luminance_change < 0) if dark else (luminance_change > 0), squared, 0)
    cutoff = max(percentile(_sample(squared), 99.7), 1e-12)
    strongest = np.flatnonzero(squared >= cutoff)
    picked = rows[strongest]  # (k, 3), k about 0.3 % of the pixels
    distance = np.sqrt(squared[strongest])
    luminance_change = picked @ LUMINANCE
    darker, lighter = luminance_change < 0, luminance_change > 0
    if dark is None:
        dark = float(distance[darker].sum()) >= float(distance[lighter].sum())
    chosen = darker if dark else lighter
    if not chosen.any():
        return np.zeros(3, dtype=np.float32), dark
    return picked[chosen].mean(axis=0).astype(np.float32), dark


def _sample_step(height: int, width: int) -> int:
    """The ink's colour in a large image is judged on every other pixel of every other row
    (a quarter of the work; a stroke is wider than a pixel)."""
    return 2 if height * width > 4 * 128 * 128 else 1


def _quadratic_basis(height: int, width: int, step_y: int = 1, step_x: int = 1) -> np.ndarray:
    """``(h, w, 6)``: 1, x, y, x^2, xy, y^2 on every ``step``-th pixel of an ``(H, W)`` image,
    with x and y running over [-1, 1] across the whole image."""
    y = np.linspace(-1.0, 1.0, height, dtype=np.float32)[::step_y, None]
    x = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, ::step_x]
    y, x = np.broadcast_arrays(y, x)
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)


def _fit_surface(residual: np.ndarray, paper: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Least-squares quadratic per channel: ``(6, 3)`` coefficients fitted to ``residual``
    ``(n, 3)`` on the ``paper`` pixels ``(n,)`` bool (zeros when too few are paper), by the
    normal equations ``(B'B) c = B'r`` over the paper pixels (a 6 x 6 system); ``basis`` is
    ``(6, n)`` float64, :func:`_quadratic_basis` flattened and transposed."""
    if paper.sum() < 30:
        return np.zeros((6, 3), dtype=np.float32)
    weighted = basis * paper  # (6, n)
    gram = weighted @ basis.T  # (6, 6)
    moments = weighted @ residual.astype(np.float64)  # (6, 3)
    try:
        coefficients = np.linalg.solve(gram + 1e-9 * np.eye(6), moments)
    except np.linalg.LinAlgError:
        return np.zeros((6, 3), dtype=np.float32)
    return coefficients.astype(np.float32)


def _surface(
    height: int, width: int, coefficients: np.ndarray, step: int = 1, cells: tuple[int, int] = ()
) -> np.ndarray:
    """The quadratic of :func:`_quadratic_basis` with ``(6,)`` coefficients on every
    ``step``-th pixel of an ``(H, W)`` image -> ``(h, w)``, a row and a column term at a time;
    or, given ``cells`` ``(h, w)``, at the centres of the image cut into h x w cells (what a
    box-filtered shrink to that size would give, for a surface this smooth)."""
    if cells:

        def centres(size: int, count: int) -> np.ndarray:
            pixel = (np.arange(count, dtype=np.float32) + 0.5) * (size / count) - 0.5
            return pixel * (2.0 / max(size - 1, 1)) - 1.0

        y, x = centres(height, cells[0])[:, None], centres(width, cells[1])[None, :]
    else:
        y = np.linspace(-1.0, 1.0, height, dtype=np.float32)[::step, None]
        x = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, ::step]
    c1, x1, y1, xx, xy, yy = (float(v) for v in coefficients)
    rows = c1 + y1 * y + yy * y * y  # (h, 1)
    slope = x1 + xy * y  # (h, 1)
    return rows + (slope * x + xx * x * x)


@dataclass
class Light:
    """The paper's light behind the ink, as estimated by :func:`estimate_background`.

    A smooth part, ``border`` ``(3,)`` plus a quadratic surface per channel with
    ``coefficients`` ``(6, 3)`` over an ``(height, width)`` image, times ``factor`` ``(H, W)``
    where the sharp light (:func:`sharp_light`) departs from it (None: the smooth part
    stands). Kept as a recipe rather than an image: the pipeline only needs the light seen
    through one colour at a time (:meth:`projected`), and the full ``(H, W, 3)`` picture
    (:meth:`background`) is made only for the teaching view.
    """

    border: np.ndarray
    coefficients: np.ndarray
    height: int
    width: int
    factor: np.ndarray | None = None

    def projected(self, vector: np.ndarray, step: int = 1) -> np.ndarray:
        """``(h, w)``: the light's colour dotted with ``vector`` ``(3,)``, on every
        ``step``-th pixel (the light is linear in its colour, so this costs one channel)."""
        smooth = _surface(self.height, self.width, self.coefficients @ vector, step)
        smooth += float(self.border @ vector)
        if self.factor is not None:
            smooth *= self.factor[::step, ::step]
        return smooth.astype(np.float32, copy=False)

    def on_cells(self, vector: np.ndarray, cells: tuple[int, int]) -> np.ndarray:
        """``(h, w)``: the smooth light dotted with ``vector`` at the centres of the image cut
        into ``cells`` ``(h, w)`` (no ``factor``)."""
        smooth = _surface(self.height, self.width, self.coefficients @ vector, cells=cells)
        return (smooth + float(self.border @ vector)).astype(np.float32)

    def background(self, step: int = 1) -> np.ndarray:
        """``(h, w, 3)``: the light's colour on every ``step``-th pixel."""
        return np.stack([self.projected(np.eye(3, dtype=np.float32)[c], step) for c in range(3)],
                        axis=-1)  # fmt: skip

    def subtracted(self, rgb: np.ndarray, step: int = 1) -> np.ndarray:
        """``(h, w, 3)``: every ``step``-th pixel of the ``(H, W, 3)`` image minus the light's
        colour there; the numbers of ``rgb[::step, ::step] - self.background(step)``, a
        channel at a time into one array (the factor's grid copied once, not strided thrice)."""
        picked = rgb[::step, ::step]
        factor = None if self.factor is None else np.ascontiguousarray(self.factor[::step, ::step])
        out = np.empty(picked.shape, dtype=np.result_type(picked, np.float32))
        for channel in range(3):
            light = _surface(self.height, self.width, self.coefficients[:, channel], step)
            light += float(self.border[channel])
            if factor is not None:
                light *= factor
            np.subtract(picked[:, :, channel], light, out=out[:, :, channel])
        return out


#: The smooth light is fitted on a grid of at most this many pixels a side (a quadratic
#: needs few; the grid's time is most of the light model's).
LIGHT_GRID = 96


def estimate_background(rgb: np.ndarray) -> tuple[Light, np.ndarray, bool, np.ndarray | None]:
    """The paper or canvas behind the ink, and the ink's colour and polarity.

    ``rgb``: ``(H, W, 3)``. Starts from the colour of the image's border and fits a smooth
    quadratic surface per channel to the pixels near the typical level, whichever side the
    ink is on; then finds the ink's colour and polarity against it (:func:`_ink_colour`) and
    twice refits the surface to the pixels that are clearly not ink, so that a photo's uneven
    light (a shadow's gradient, vignetting) is subtracted without the ink's help. The fitting
    runs on a grid of at most LIGHT_GRID pixels a side; :func:`sharp_light` then looks for
    changes of light too sharp for the surface. Returns the :class:`Light`, the ink colour
    ``(3,)`` as a difference from it, whether the ink is darker than the background, and the
    ``(H, W)`` gain of :func:`light_gain` by which every pixel's difference from the light is
    strengthened where the sharp light found a shadow over dark ink (None: no gain).
    """
    height, width = rgb.shape[:2]
    step_y, step_x = -(-height // LIGHT_GRID), -(-width // LIGHT_GRID)
    small = rgb[::step_y, ::step_x].reshape(-1, 3)
    basis = _quadratic_basis(height, width, step_y, step_x).reshape(-1, 6)
    basis64 = np.ascontiguousarray(basis.T, dtype=np.float64)
    border = _border_colour(rgb)
    coefficients = np.zeros((6, 3), dtype=np.float32)
    small = small - border
    for _ in range(3):
        # fit the light to the pixels near the typical level, whichever side the ink is on
        difference = small - basis @ coefficients
        level = difference @ LUMINANCE
        centre = float(np.median(level))
        spread = 1.4826 * float(np.median(np.abs(level - centre)))
        paper = np.abs(level - centre) < max(2.5 * spread, 0.02)
        coefficients += _fit_surface(difference, paper, basis64)
    ink_colour, dark = _ink_colour(small - basis @ coefficients, None)
    for _ in range(2):
        strength = float((ink_colour**2).sum())
        if strength < 1e-6:
            break
        difference = small - basis @ coefficients
        paper = (difference @ (ink_colour / strength)) < 0.3
        coefficients += _fit_surface(difference, paper, basis64)
        ink_colour, dark = _ink_colour(small - basis @ coefficients, dark)
    light = Light(border, coefficients, height, width)
    light.factor, sharp_dark = sharp_light(rgb, light, dark)
    step = _sample_step(height, width)
    difference = light.subtracted(rgb, step)
    gain = None
    if light.factor is not None:
        dark = sharp_dark
        if sharp_dark:  # (light ink, chalk on a board: its light is not the paper's)
            gain = light_gain(light.projected(LUMINANCE))
            difference *= gain[::step, ::step, None]
    ink_colour, dark = _ink_colour(difference, dark)
    return light, ink_colour, dark, gain


#: Light below this share of the lit paper's counts as a shadow, whose dark ink is
#: strengthened...
SHADOW_LIGHT = 0.6
#: ...by at most this factor.
MAX_GAIN = 2.0


def light_gain(light: np.ndarray) -> np.ndarray:
    """``(H, W)``: how much to strengthen each pixel's difference from the paper, so that
    ink reads in a shadow as in the light; ``light`` is the paper's ``(H, W)`` luminance.
    Light multiplies: ink that reflects half of what the paper reflects is half as bright as
    the paper in any light, so its difference from the paper shrinks with the light. Where
    the light is under SHADOW_LIGHT of the lit paper's (its 90th percentile), dividing by it
    undoes that; elsewhere (the lit page, a little vignetting) the gain is 1."""
    reference = SHADOW_LIGHT * percentile(_sample(light), 90)
    gain = reference / np.maximum(light, 1e-3)
    return np.clip(gain, 1.0, MAX_GAIN).astype(np.float32)


#: Side of the grid the sharp light is estimated on (pixels of the longer side).
SHARP_GRID = 112
#: How far (as a share of the light) the envelope must depart from the smooth fit.
SHARP_CHANGE = 0.15
#: Images smaller than this (crops, icons, MNIST itself) have no shadows or ruled lines to
#: remove: a stroke there can span half the image.
MIN_PHOTO_SIDE = 120
#: The paper envelope's window, as a share of the image's shorter side (at least).
SHARP_WINDOW = 0.2


def _on_border(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The labels of an ``(h, w)`` label image that reach its border, and how many border
    pixels each has; the border's length is ``2 * (h + w)``."""
    ring = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    return np.unique(ring[ring > 0], return_counts=True)


def _inside(mask: np.ndarray) -> np.ndarray:
    """The parts of an ``(h, w)`` bool mask whose connected pieces do not touch the border."""
    labels, count = ndimage.label(mask)
    if not count:
        return mask
    return mask & ~_member(labels, count, _on_border(labels)[0])


def _member(labels: np.ndarray, count: int, chosen: np.ndarray) -> np.ndarray:
    """``np.isin(labels, chosen)`` for an ``(h, w)`` label image with labels 0..count, by a
    lookup table (a fraction of the time)."""
    table = np.zeros(count + 1, dtype=bool)
    table[chosen] = True
    return table[labels]


#: When one end of the luminance range has fewer than this share of the other end's pixels,
#: it is the ink's end.
SPARSE_INK = 0.25


def _ink_polarity(
    luminance: np.ndarray, closed: np.ndarray, opened: np.ndarray, hint: bool
) -> bool:
    """Whether the ink is dark, from an ``(h, w)`` luminance image and its grey ``closed``
    and ``opened`` versions (same shape), by three votes:

    - thin marks: what the closing (dark) or the opening (light) removes from each end of
      the range, as a ratio of light (in logarithms: light multiplies, so a stroke in a
      shadow stands out from its paper as much as one in the light, and a shadow's edge,
      which halves the light, is a weaker mark than ink, which takes 80 % of it), counting
      only marks that do not touch the border (a lit wedge of a half-shadowed page or a dark
      corner comes from outside the frame);
    - few pixels: ink is the sparse end of the range, the page (lit or not) the crowded one;
    - ``hint``: the polarity found against the smooth light.

    The range's ends are those of the pixels that are not such marks from outside (a rotated
    photo's dark corners would leave the strokes short of the dark end; a hand's shadow over
    most of the page leaves only its lit corners at the light end). When one end is far
    sparser than the other (SPARSE_INK) and holds thin marks, the few-pixels vote decides;
    when one end's thin marks outweigh the other's THIN_DECIDES times, they do.
    """
    low, high = percentiles(luminance, (0.5, 99.5))
    if high - low < 0.05:
        return hint
    # (grey closings and openings commute with a rising function such as the logarithm)
    log_lum, log_closed, log_opened = (np.log(v + 0.02) for v in (luminance, closed, opened))
    dark_marks = log_closed - log_lum
    light_marks = log_lum - log_opened

    def marks(seen: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        # the marks strong for the range of ``seen`` pixels: where, and which stay inside
        log_low, log_high = percentiles(log_lum[seen], (0.5, 99.5))
        strong = float(log_high - log_low) / 4  # grain and JPEG noise are far weaker
        dark, light = dark_marks > strong, light_marks > strong
        return dark, light, _inside(dark), _inside(light)

    dark, light, dark_inside, light_inside = marks(np.ones_like(luminance, dtype=bool))
    # A lit corner or a dark wedge that comes from outside the frame is left out of the
    # range too: a stroke is extreme among what is inside.
    inside = ~((dark & ~dark_inside) | (light & ~light_inside))
    if not inside.all() and np.count_nonzero(inside) > 0.5 * inside.size:
        _, _, dark_inside, light_inside = marks(inside)
        luminance = luminance[inside]
        low, high = percentiles(luminance, (0.5, 99.5))
        dark_inside, light_inside = dark_inside[inside], light_inside[inside]
        dark_marks, light_marks = dark_marks[inside], light_marks[inside]
    spread = float(high - low)
    # (a mark is judged whole: a lit band or a shadow's edge that reaches the border is no
    # stroke, even where only its middle is extreme enough to count)
    dark_strokes = float(dark_marks[dark_inside & (luminance < low + spread / 6)].sum())
    light_strokes = float(light_marks[light_inside & (luminance > high - spread / 6)].sum())
    thin_vote = dark_strokes >= light_strokes
    near_dark = float((luminance < low + 0.15 * spread).mean())
    near_light = float((luminance > high - 0.15 * spread).mean())
    few_vote = near_dark <= near_light
    sparse_strokes = dark_strokes if few_vote else light_strokes
    if min(near_dark, near_light) < SPARSE_INK * max(near_dark, near_light) and sparse_strokes:
        # One end is far sparser than the other and holds thin marks: that is the ink,
        # whatever else the thin marks say (a page mostly in shadow leaves a lit band whose
        # gaps between the digits an opening removes, as it would remove light strokes).
        return few_vote
    if max(dark_strokes, light_strokes) > THIN_DECIDES * min(dark_strokes, light_strokes):
        return thin_vote  # (a page mostly in a hand's shadow: its few lit corners are no ink)
    return (thin_vote + few_vote + hint) >= 2


#: When one end's thin marks outweigh the other's this many times, they decide.
THIN_DECIDES = 10.0


def sharp_light(rgb: np.ndarray, light: Light, dark_hint: bool) -> tuple[np.ndarray | None, bool]:
    """The paper's light where the smooth fit misses it (a shadow's hard edge, a dark
    corner), and which way the ink goes.

    ``rgb`` is ``(H, W, 3)``, ``light`` the smooth fit (no ``factor`` yet). A morphological
    closing with a window wider than any stroke removes dark strokes from the image and keeps
    the broad changes of light, edges and all (a straight shadow edge is kept exactly); an
    opening does the same for light strokes; :func:`_ink_polarity` says which. Where this
    envelope differs from the smooth fit over a region that reaches the border (light changes
    come from outside the frame; a stroke thicker than the window does not reach it), it
    replaces the fit. Works on a grid of about SHARP_GRID pixels. Returns the ``(H, W)``
    factor by which the smooth light is multiplied (None when the smooth fit stands) and
    whether the ink is dark (``dark_hint`` is the polarity found against the smooth fit, one
    of :func:`_ink_polarity`'s votes).
    """
    height, width = rgb.shape[:2]
    if min(height, width) < MIN_PHOTO_SIDE:
        return None, dark_hint
    step = max(1, round(max(height, width) / SHARP_GRID))
    small_h, small_w = max(1, height // step), max(1, width // step)
    small = median3(_resize(rgb @ LUMINANCE, small_h, small_w))
    fit = light.on_cells(LUMINANCE, (small_h, small_w))
    window = max(5, round(SHARP_WINDOW * min(small_h, small_w)))
    closed = ndimage.grey_closing(small, size=window)
    opened = ndimage.grey_opening(small, size=window)
    dark = _ink_polarity(small, closed, opened, dark_hint)
    envelope = closed if dark else opened
    envelope = ndimage.uniform_filter(envelope, size=3)
    change = envelope / np.maximum(fit, 0.02) - 1.0
    # Nothing departs far from the smooth fit (vignetting, a gradient): leave it to the fit.
    if float(np.abs(change).max()) < SHARP_CHANGE:
        return None, dark
    labels, count = ndimage.label(np.abs(change) > 0.06)
    if not count:
        return None, dark
    # A shadow's region meets a good part of the border (a stroke's neighbourhood barely).
    found, touching = _on_border(labels)
    outside = _member(labels, count, found[touching >= 0.1 * 2 * (small_h + small_w)])
    if not outside.any():
        return None, dark
    weight = ndimage.uniform_filter(dilate_cross(outside, 2).astype(np.float32), size=5)
    # The envelope's light where it counts, the smooth fit elsewhere and around, both in the
    # fit's colour: the fit scaled, pixel by pixel, by (1 - w) + w * envelope / fit (a
    # factor computed on the grid and enlarged, since both are smooth at that scale).
    factor = (1.0 - weight) + weight * np.clip(envelope / np.maximum(fit, 0.05), 0.0, 3.0)
    return _resize(factor.astype(np.float32), height, width), dark


#: Paeth's network of 19 compare-exchanges that leaves the median of 9 values in the middle.
_MEDIAN9 = ((1, 2), (4, 5), (7, 8), (0, 1), (3, 4), (6, 7), (1, 2), (4, 5), (7, 8), (0, 3),
            (5, 8), (4, 7), (3, 6), (1, 4), (2, 5), (4, 7), (4, 2), (6, 4), (4, 2))  # fmt: skip


def median3(image: np.ndarray) -> np.ndarray:
    """The 3x3 median filter of an ``(H, W)`` image (edges mirrored, as
    ``scipy.ndimage.median_filter(image, size=3)``), by a sorting network over the nine
    shifted images: element-wise minima and maxima, a quarter of SciPy's time."""
    padded = np.pad(image, 1, mode="symmetric")
    height, width = image.shape
    values = [padded[i : i + height, j : j + width] for i in range(3) for j in range(3)]
    for i, j in _MEDIAN9:
        values[i], values[j] = np.minimum(values[i], values[j]), np.maximum(values[i], values[j])
    return values[4]


def _sample(values: np.ndarray, limit: int = 50_000) -> np.ndarray:
    """A strided subsample of a flat array, for percentiles of large images."""
    flat = values.reshape(-1)
    step = max(1, flat.size // limit)
    return flat[::step]


#: The paper (a note, a sheet) differs from what frames it (the desk) by this colour distance
#: at least...
FRAME_CONTRAST = 0.15
#: ...the frame meets this share of three of the image's sides or more (a shadow across a
#: page meets one side whole, two others in part)...
FRAME_SIDE = 0.8
#: ...and this share of its pixels is the desk's colour (no ink lies on the desk: a page in
#: shadow has the digit's strokes in it).
FRAME_PLAIN = 0.9
#: Ink on the desk, further than this share of the paper-desk distance from the colours
#: between the two, stays.
FRAME_INK = 0.25
#: Beside the edge, on the paper's side, this share of the pixels is the paper's colour (a
#: line of digits written up to the note's edge takes the rest).
FRAME_NEAR = 0.65


def _paper_frame(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float] | None:
    """What frames the paper in an ``(H, W, 3)`` photo (the desk around a sticky note or a
    sheet, a scanner's dark edge): ``(H, W)`` bool, the paper's and the desk's colours
    ``(3,)`` and their distance; None when nothing does.

    The paper is taken to be lighter than the desk and the ink, and to cover 40 % of the
    image: its colour is the median of the lightest 40 % of the pixels, the desk's that of
    the border; a pixel nearer the paper's is paper. Closed over a window wider than a
    stroke (strokes inside the paper, and strokes that touch its edge, are paper too), the
    largest piece is the paper and the rest the frame when it surrounds the paper
    (FRAME_SIDE of three sides or more), is plain (FRAME_PLAIN) and meets the paper at a
    sharp edge (both plain beside it).
    Works on a grid of about SHARP_GRID pixels."""
    height, width = rgb.shape[:2]
    if min(height, width) < MIN_PHOTO_SIDE:
        return None
    step = max(1, round(max(height, width) / SHARP_GRID))
    small = rgb[::step, ::step]
    h, w = small.shape[:2]
    coarse = small[::2, ::2]  # (enough to tell a colour)
    lightness = coarse @ LUMINANCE
    paper = np.median(coarse[lightness >= np.percentile(lightness, 60)], axis=0)
    desk = _border_colour(small)
    gap = float(np.sqrt(((paper - desk) ** 2).sum()))
    if gap < FRAME_CONTRAST:
        return None

    def deskish(pixels: np.ndarray) -> np.ndarray:
        return ((pixels - desk) ** 2).sum(axis=-1) < ((pixels - paper) ** 2).sum(axis=-1)

    # (closing only takes from the frame: sides it does not meet now, it will not then;
    # judged on the four border lines alone, before any work on the whole grid)
    sides = (small[0], small[-1], small[:, 0], small[:, -1])
    if sum(float(deskish(side).mean()) >= FRAME_SIDE for side in sides) < 3:
        return None
    to_paper = np.sqrt(((small - paper) ** 2).sum(axis=-1))
    to_desk = np.sqrt(((small - desk) ** 2).sum(axis=-1))
    papery = to_paper < to_desk
    if np.count_nonzero(papery) < 0.4 * h * w:
        return None
    window = max(5, round(SHARP_WINDOW * min(h, w)))
    padded = np.pad(papery.astype(np.uint8), window)
    closed = ndimage.minimum_filter(ndimage.maximum_filter(padded, window), window)
    labels, count = ndimage.label(closed[window:-window, window:-window])
    if not count:
        return None
    areas = np.bincount(labels.reshape(-1))
    areas[0] = 0
    frame = ~ndimage.binary_fill_holes(labels == int(np.argmax(areas)))
    if areas.max() < 0.4 * h * w:
        return None  # (the paper is most of the image: a thick digit is no paper)
    if _sides_covered(frame, FRAME_SIDE) < 3 or paper @ LUMINANCE < desk @ LUMINANCE:
        return None  # (a page in shadow with lit margins around it is no note on a desk)
    # The two colours meet at a sharp edge (a lamp's hot spot fades into the dark): plain
    # inside the frame, and plain on the paper's side of the edge (strokes may touch it).
    inner = ndimage.binary_erosion(frame, iterations=2, border_value=1)
    near = dilate_cross(frame, 5) & ~dilate_cross(frame, 2)
    if not inner.any() or float((to_desk[inner] < 0.35 * gap).mean()) < FRAME_PLAIN:
        return None
    if not near.any() or float((to_paper[near] < 0.35 * gap).mean()) < FRAME_NEAR:
        return None
    # the note's edge is blurred over a pixel or two, and a grid cell stands for the step x
    # step pixels from its corner on: two cells more of frame cover it
    frame = dilate_cross(frame, 2)
    full = np.repeat(np.repeat(frame, step, axis=0), step, axis=1)[:height, :width]
    if full.shape != (height, width):  # (a grid a cell short of the image: edge it out)
        full = np.pad(full, ((0, height - full.shape[0]), (0, width - full.shape[1])), "edge")
    # the paper's own colour, from the paper (the lightest pixels are its lit part)
    paper = np.median(small[~frame & papery], axis=0).astype(np.float32)
    return full, paper, desk, float(np.sqrt(((paper - desk) ** 2).sum()))


def _sides_covered(mask: np.ndarray, share: float, depth: int = 1) -> int:
    """How many of the four sides of an ``(h, w)`` bool mask it covers along ``share`` of
    their length or more, within ``depth`` pixels of the side."""
    sides = (mask[:depth].any(axis=0), mask[-depth:].any(axis=0),
             mask[:, :depth].any(axis=1), mask[:, -depth:].any(axis=1))  # fmt: skip
    return sum(float(side.mean()) >= share for side in sides)


def without_frame(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` -> ``(H, W, 3)``: the photo with what frames its paper (see
    :func:`_paper_frame`) painted the paper's colour, except what is far from the colours
    between the desk's and the paper's (FRAME_INK; ink that ran over the note's edge); the
    image itself when nothing frames it."""
    found = _paper_frame(rgb)
    if found is None:
        return rgb
    frame, paper, desk, gap = found
    framed = rgb[frame]  # (n, 3)
    # distance from the colours between the desk's and the paper's (the edge's blur)
    along = np.clip((framed - desk) @ ((paper - desk) / gap**2), 0.0, 1.0)
    between = desk + along[:, None] * (paper - desk)
    apart = ((framed - between) ** 2).sum(axis=-1) > (FRAME_INK * gap) ** 2
    painted = rgb.copy()
    painted[frame] = np.where(apart[:, None], framed, paper)
    return painted


def find_ink(rgb: np.ndarray, max_side: int = 1600) -> InkMap:
    """Find the ink in an ``(H, W, 3)`` float image in [0, 1].

    The background and the ink's colour come from :func:`estimate_background`; every pixel's
    ink amount is its difference from the background projected on the ink colour (so dark,
    light and coloured ink all become 1). Pixels above half the ink colour seed components,
    which grow into connected pixels above a quarter (hysteresis, so that faint stroke ends
    stay attached); specks and ruled lines are dropped.
    """
    rgb, scale = _enlarge_tiny(np.asarray(rgb, dtype=np.float32), max_side)
    height, width = rgb.shape[:2]
    rgb = without_frame(rgb)  # (the desk around a note is no part of the page)
    light, ink_colour, dark, gain = estimate_background(rgb)
    polarity = "dark on light" if dark else "light on dark"
    empty = np.zeros((height, width), dtype=np.int32)
    strength = float((ink_colour**2).sum())
    if strength < 1e-6:
        return InkMap(np.zeros((height, width), np.float32), empty, [], scale, polarity, 0.0,
                      "the image is one flat colour", light)  # fmt: skip
    contrast = float(np.sqrt(strength / 3.0))
    # each pixel's difference from the light, seen through the ink's colour
    towards_ink = ink_colour / strength
    amount = rgb @ towards_ink
    amount -= light.projected(towards_ink)
    if gain is not None:
        amount *= gain
    # the paper's noise, from the pixels on the paper's side of half the ink (a digit that
    # fills its image, cropped tight or drawn big, would otherwise count as noise)
    sample = _sample(amount, 20_000)
    sample = sample[sample < 0.5] if np.count_nonzero(sample < 0.5) >= 100 else sample
    noise = 1.4826 * float(np.median(np.abs(sample - np.median(sample))))
    if contrast < MIN_CONTRAST or MIN_SNR * noise > 1.0:
        return InkMap(np.zeros((height, width), np.float32), empty, [], scale, polarity,
                      contrast, "no ink stands out from the background", light)  # fmt: skip

    grow = max(0.25, 3.0 * noise)
    rule_level = min(0.25, RULE_LEVEL * grow)
    ink = remove_rules(np.clip(amount, 0.0, 1.0).astype(np.float32), rule_level)
    ink_map = ink_components(ink, grow)
    boxed = [c for c in ink_map.components if _outlined(ink_map.labels, c)]
    if boxed:  # a field's box that the digit touches: its lines are rules within it
        ink = _without_boxes(ink, ink_map.labels, boxed, rule_level)
        ink_map = ink_components(ink, grow)
    ink_map.scale, ink_map.polarity, ink_map.contrast = scale, polarity, contrast
    ink_map.light = light
    if light.factor is not None and len(ink_map.components) > 1:
        # (the largest piece always stays)
        ink_map.components = _off_light_edges(ink_map, light.factor)
    if len(ink_map.components) > 1:
        ink_map.components = _without_form_lines(ink_map)
    if light.factor is not None:
        ink_map.ink = _even_strength(ink_map)
    return ink_map


#: A piece is a box when ink runs along this share of three of its box's sides or more.
OUTLINE_SIDE = 0.85


def _outlined(labels: np.ndarray, c: Component) -> bool:
    """Whether a piece of an ``(H, W)`` label image runs along three sides of its box or
    more: a printed box (with the digit that touches it). A digit meets its box's sides at
    a few points, a 7's bar or a 2's base along one side."""
    return min(c.height, c.width) >= 20 and _along_sides(labels, c, OUTLINE_SIDE) >= 3


def _along_sides(labels: np.ndarray, c: Component, share: float) -> int:
    """How many of its box's sides a piece of an ``(H, W)`` label image runs along, over
    ``share`` of their length or more (within a few pixels of the side: a box turned a
    little)."""
    piece = labels[c.top : c.bottom, c.left : c.right] == c.label
    return _sides_covered(piece, share, max(2, min(c.height, c.width) // 30))


def _without_boxes(
    ink: np.ndarray, labels: np.ndarray, boxed: list[Component], level: float
) -> np.ndarray:
    """``(H, W)`` ink without the ruled lines (:func:`_rules`) of each ``boxed`` piece,
    looked for within the piece's box with a margin (rules at a page's edge are not looked
    for); the strokes that cross them stay."""
    ink = ink.copy()
    for c in boxed:
        margin = max(4, max(c.height, c.width) // 10)
        piece = np.pad(labels[c.top : c.bottom, c.left : c.right] == c.label, margin)
        strong = np.pad(ink[c.top : c.bottom, c.left : c.right] > level, margin)
        rules = _rules(piece & strong)[margin:-margin, margin:-margin]
        ink[c.top : c.bottom, c.left : c.right][rules] = 0.0
    return ink


#: A field's box runs along this share of three of its box's sides or more (a thin hollow
#: piece holding another that does not is a hairline digit around its own detached foot).
FRAME_BOX_SIDE = 0.6
#: A printed line is thinner than this share of the handwriting's stroke width...
FORM_THIN = 0.35
#: ...and, loose beside a digit, at least this share of the digit's longer side long.
FORM_LONG = 0.5


def _without_form_lines(ink_map: InkMap) -> list[Component]:
    """The ink map's components without a printed form's lines beside the handwriting: a
    field's box around a digit (a thin hollow frame whose box holds another piece) or a
    thin straight line above or below it. Thin means under FORM_THIN of the stroke width
    of the largest piece (a pen's own detached stroke, a 5's flag, is as wide as the rest
    of the digit); the page's rules across it are gone already (:func:`remove_rules`), a
    field's box is too small for them."""
    main = ink_map.components[0]  # (largest first)
    crop = ink_map.labels[main.top : main.bottom, main.left : main.right] == main.label
    thin = FORM_THIN * stroke_width(crop.astype(np.float32))
    kept = [main]
    for c in ink_map.components[1:]:
        length = max(c.height, c.width)
        thickness = c.area / length
        line = thickness <= thin and min(c.height, c.width) <= 0.1 * length
        line = line and length >= FORM_LONG * max(main.height, main.width)
        holds = any(
            c.top <= o.top and o.bottom <= c.bottom and c.left <= o.left and o.right <= c.right
            for o in ink_map.components
            if o is not c
        )
        frame = holds and c.area <= 2 * (c.height + c.width) * thin
        # (a box's lines run along its sides: a hairline 5 around its own foot does not)
        frame = frame and _along_sides(ink_map.labels, c, FRAME_BOX_SIDE) >= 3
        if not (line or frame):
            kept.append(c)
    return kept


#: Under a sharp change of light, each piece's ink is divided by its strongest value within
#: this share of the image's shorter side...
EVEN_WINDOW = 0.05
#: ...when that is above this (a faint mark stays faint).
EVEN_FLOOR = 0.65


def _even_strength(ink_map: InkMap) -> np.ndarray:
    """``(H, W)``: the ink map's ink with the strokes' strength evened out where the light
    changes sharply. The part of a thick stroke under a shadow's edge reads weaker than the
    part in the light (the light is estimated a little off beside a sharp edge) and the
    network sees a grey half-digit; each pixel of a piece that the light changes across (by
    LIGHT_EDGE_CHANGE) is divided by the strongest ink near it (EVEN_WINDOW), at least
    EVEN_FLOOR. Hard shadows: 474 -> 480 of 500."""
    ink = ink_map.ink.copy()
    factor = ink_map.light.factor
    height, width = ink.shape
    window = max(5, round(EVEN_WINDOW * min(height, width)))
    for c in ink_map.components:  # (a few pieces, each in its own box)
        light = factor[c.top : c.bottom, c.left : c.right]
        if float(light.max()) < LIGHT_EDGE_CHANGE * float(light.min()):
            continue  # the light does not change across this piece
        rows = slice(max(0, c.top - window), min(height, c.bottom + window))
        cols = slice(max(0, c.left - window), min(width, c.right + window))
        around = ink_map.ink[rows, cols]
        strongest = np.maximum(ndimage.maximum_filter(around, window), EVEN_FLOOR)
        piece = ink_map.labels[rows, cols] == c.label
        ink[rows, cols] = np.where(piece, np.minimum(1.0, around / strongest), ink[rows, cols])
    return ink


#: Within this window (in pixels of a quarter-size image) the sharp light changes by more
#: than LIGHT_EDGE_CHANGE at a shadow's edge...
LIGHT_EDGE_WINDOW = 3
LIGHT_EDGE_CHANGE = 1.15
#: ...and a small piece of ink with this share of its pixels there is the edge's leftover;
LIGHT_EDGE_SHARE = 0.7
#: where the edge leaves the frame, the leftover is a wedge against the image's side, wider
#: and less of it on the steep change: a piece touching the side under this share of the
#: largest piece's area, with this share of its pixels there.
WEDGE_AREA = 0.3
WEDGE_SHARE = 0.5


def _off_light_edges(ink_map: InkMap, factor: np.ndarray) -> list[Component]:
    """The ink map's components without the small slivers that lie along a shadow's edge
    (where the sharp light's ``(H, W)`` ``factor`` changes steeply): what is left of the
    edge once the light is divided out, not ink. A piece under STRAY_AREA of the largest
    one's area with LIGHT_EDGE_SHARE of its pixels there goes (against the image's side:
    WEDGE_AREA and WEDGE_SHARE); strokes that cross the edge have most of theirs
    elsewhere."""
    largest = max(c.area for c in ink_map.components)

    def limits(c: Component) -> tuple[float, float]:
        edge = c.at_edge(factor.shape)
        return (WEDGE_AREA, WEDGE_SHARE) if edge else (STRAY_AREA, LIGHT_EDGE_SHARE)

    small = [c for c in ink_map.components if c.area < limits(c)[0] * largest]
    if not small:
        return ink_map.components
    quarter = factor[::4, ::4]
    steep = ndimage.maximum_filter(quarter, LIGHT_EDGE_WINDOW) > LIGHT_EDGE_CHANGE * np.maximum(
        ndimage.minimum_filter(quarter, LIGHT_EDGE_WINDOW), 1e-3
    )
    leftovers = set()
    for c in small:  # (a few small pieces, each looked at in its own box)
        piece = ink_map.labels[c.top : c.bottom, c.left : c.right] == c.label
        rows = np.arange(c.top, c.bottom)[:, None] // 4
        cols = np.arange(c.left, c.right)[None, :] // 4
        if np.count_nonzero(piece & steep[rows, cols]) >= limits(c)[1] * c.area:
            leftovers.add(c.label)
    return [c for c in ink_map.components if c.label not in leftovers]


def _runs(mask: np.ndarray, length: int, axis: int) -> np.ndarray:
    """``(H, W)`` bool: the pixels of ``mask`` in runs of at least ``length`` along ``axis``
    (a binary opening by a line, in O(pixels) whatever the length)."""
    eroded = ndimage.minimum_filter1d(mask.astype(np.uint8), length, axis=axis)
    # (the dilation's window is the erosion's mirrored: for an even length, one pixel over)
    back = -1 if length % 2 == 0 else 0
    return ndimage.maximum_filter1d(eroded, length, axis=axis, origin=back).astype(bool)


def _short_runs(flags: np.ndarray, longest: int) -> np.ndarray:
    """``(n,)`` bool: the ``flags`` that lie in runs of at most ``longest`` True values."""
    labels, count = ndimage.label(flags)
    if not count:
        return flags
    return flags & (np.bincount(labels)[labels] <= longest)


def _box_sides(labels: np.ndarray, level_rules: np.ndarray) -> np.ndarray:
    """``(count + 1,)`` bool: the upright runs of ``labels`` whose two ends both meet a level
    rule already found (within 3 pixels): the sides of a printed box."""
    sides = np.zeros(int(labels.max()) + 1, dtype=bool)
    width = labels.shape[1]
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        rows, cols = box
        near = slice(max(0, cols.start - 3), min(width, cols.stop + 3))
        top = level_rules[max(0, rows.start - 3) : rows.start + 4, near].any()
        bottom = level_rules[max(0, rows.stop - 4) : rows.stop + 3, near].any()
        sides[index] = top and bottom
    return sides


#: Ruled lines are looked for among the pixels above this share of the level at which ink
#: pieces grow: faint rules hover around that level, and found only above it they break into
#: pieces too short to be rules, which still join the digits.
RULE_LEVEL = 0.6


#: Upright lines at least this share of the other ink's stroke width (:func:`stroke_width`)
#: thick, without level rules beside them, are pen strokes (1s), not a printed box's sides.
PEN_LINE = 0.7


def remove_rules(ink: np.ndarray, level: float = 0.25) -> np.ndarray:
    """``(H, W)`` ink without the ruled lines of notebook paper or a form: thin lines (at most
    a fortieth of the image thick), level or upright, two or more across at least 40 % of the
    image or one across nearly all of it. Where a pen stroke crosses a line, the stroke's own
    pixels stay: they are part of runs as long as the stroke is thick, across the line.
    Rules are looked for among the pixels above ``level``."""
    height, width = ink.shape
    if min(height, width) < MIN_PHOTO_SIDE:
        return ink
    rules = _rules(ink > level)
    if not rules.any():
        return ink
    return np.where(rules, 0.0, ink).astype(np.float32)


def _rule_rows(sums: np.ndarray, span: int) -> np.ndarray:
    """``(n,)`` bool: the rows (or columns) that may hold a rule, from their ink ``sums``
    ``(n,)`` (pixels per row) and the rows' length ``span``: 40 % full give or take a tilt of
    a pixel, or a tilted rule's rows, where 7 rows together hold 80 % of a line; in short runs
    only (full rows in a long run are a dark band, a table or a shadow, or a digit's rows),
    and not at the page's own edges (dropped later as edge pieces; cut off only after the
    runs are measured, or a band along the edge would leave a short run, its rim)."""
    count = len(sums)
    full = _short_runs(ndimage.maximum_filter1d(sums, 3) >= 0.4 * span, count // 40 + 3)
    # (over what every row holds: squared paper's upright lines cross every row, and with
    # them the rows between two tilted rules and a line of digits all looked like rules)
    excess = np.maximum(sums - np.percentile(sums, 10), 0)
    spread = np.convolve(excess, np.ones(7), mode="same") >= 0.8 * span
    flags = full | _short_runs(spread, count // 40 + 10)
    flags[: count // 30 + 1] = flags[-(count // 30) - 1 :] = False
    return flags


def _may_be_ruled(flags: np.ndarray, sums: np.ndarray, span: int) -> bool:
    """Whether the rows that may hold a rule (:func:`_rule_rows`) make a family, two runs or
    more, or hold a line across 85 % of ``span``: a single wide stroke (a 7's bar) passes
    the rows' test alone."""
    if not flags.any():
        return False
    if float(ndimage.maximum_filter1d(sums, 3)[flags].max()) >= 0.85 * span:
        return True
    return ndimage.label(flags)[1] >= 2


def _rules(mask: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool: the ruled lines' pixels (see :func:`remove_rules`) in an ink mask."""
    height, width = mask.shape
    rules = np.zeros_like(mask)
    if not mask.any():
        return rules
    # Fast path: a rule fills most of a row (or column), give or take a tilt of a pixel.
    row_sums, column_sums = mask.sum(axis=1), mask.sum(axis=0)
    rows, columns = _rule_rows(row_sums, width), _rule_rows(column_sums, height)
    # Ruling comes in families (two lines or more) or as one line across nearly everything.
    if not _may_be_ruled(rows, row_sums, width) and not _may_be_ruled(columns, column_sums, height):
        return rules
    for axis, span, across in ((1, width, height), (0, height, width)):
        # upright lines are looked at too once level ones were found: a form's box sides
        if not (rows if axis == 1 else columns).any() and not (axis == 0 and rules.any()):
            continue
        # a slightly tilted line stays one run once thickened a little across it
        thick_mask = ndimage.maximum_filter1d(mask.astype(np.uint8), 3, axis=1 - axis) > 0
        along = _runs(thick_mask, max(15, span // 4), axis) & mask
        if not along.any():
            continue
        labels, count = ndimage.label(along, structure=np.ones((3, 3)))
        lengths, thickness = np.zeros(count + 1), np.zeros(count + 1)
        for index, box in enumerate(ndimage.find_objects(labels), start=1):  # a few lines
            if box is not None:
                lengths[index] = (box[axis].stop - box[axis].start) / span
                # A rule is thin all along (its typical thickness, so that a digit's stroke
                # lying along it does not count): a band along the page (a table's edge, a
                # shadow) is no rule, nor is its rim.
                across_line = np.count_nonzero(labels[box] == index, axis=1 - axis)
                thickness[index] = float(np.median(across_line[across_line > 0]))
        lengths[thickness > across // 40 + 3] = 0.0
        # Ruling comes in families: two or more lines across 40 % of the page (level; a
        # form's box around one digit) or half of it (upright), or one line across nearly
        # all of it. A lone shorter line is a pen stroke (a 1).
        shortest = 0.4 if axis == 1 else 0.5
        if axis == 0 and not rules.any():
            # Upright lines without level ones: a printed box's sides are hairlines, a row
            # of tall 1s ("1111") is pen strokes: thicker than a hairline, or as thick as
            # the other ink's strokes (1s written with a fine pen, cropped tight).
            lengths[thickness > max(3, across // 150)] = 0.0
            if (lengths >= shortest).any():
                lines = dilate_cross((lengths >= shortest)[labels], 2)
                if (mask & ~lines).any():
                    pen = stroke_width((mask & ~lines).astype(np.float32))
                    lengths[thickness >= PEN_LINE * pen] = 0.0
        family = int((lengths >= shortest).sum()) >= 2
        long_lines = lengths >= (shortest if family else 0.9)
        if axis == 0 and rules.any():  # a box's side: an upright line from rule to rule
            long_lines |= _box_sides(labels, rules)
        if not long_lines.any():
            continue  # (runs along the page, none a rule: a digit's long stroke, a shadow)
        stroke = _runs(mask, max(4, across // 40), 1 - axis)  # thick across: a pen stroke
        line = ndimage.maximum_filter1d(long_lines[labels].astype(np.uint8), 3, axis=1 - axis)
        rules |= line.astype(bool) & ~stroke  # with the line's faint rim
    return rules


#: Pieces of ink smaller than this share of the largest one's area may be leftovers (of a
#: shadow's edge, beside a digit; see also ``recognizer.digit_parts``).
STRAY_AREA = 0.15


#: Pen strokes are mostly at full strength (even thin ones: 40 % of a piece's pixels and
#: more); a piece with fewer than this share of its pixels above half strength is a faint
#: area, not ink.
MIN_SEED_SHARE = 0.05


def ink_components(ink: np.ndarray, grow: float = 0.25) -> InkMap:
    """The pieces of ink in an ``(H, W)`` ink image in [0, 1] (1 = ink; the second half of
    :func:`find_ink`, for images whose ink is known): pixels above 0.5 seed components that
    grow into connected pixels above ``grow`` (when at least MIN_SEED_SHARE of a component's
    pixels are seeds); pieces along the edges, specks and ruled lines are dropped."""
    height, width = ink.shape
    seeds = ink > 0.5
    labels, count = ndimage.label(ink > grow, structure=np.ones((3, 3)))
    # A piece is seeded when enough of it is at a stroke's strength: a faint area with a few
    # stronger pixels (the table beside a photographed page, a hot spot's rim) is not ink.
    strong = np.bincount(labels[seeds], minlength=count + 1)
    areas = np.bincount(labels.reshape(-1), minlength=count + 1)
    seeded = strong >= np.maximum(1, MIN_SEED_SHARE * areas)
    seeded[0] = False
    if not seeded[1:].all():  # (unseeded pieces become background)
        labels = np.where(seeded, np.arange(count + 1, dtype=np.int32), 0)[labels]
        areas = np.where(seeded, areas, 0)
        areas[0] = labels.size - int(areas.sum())
    labels = labels.astype(np.int32, copy=False)
    boxes = ndimage.find_objects(labels)
    areas = areas[: len(boxes) + 1]
    along_edges = _edge_labels(labels, boxes, areas)
    components = [c for c in _components(boxes, areas) if c.label not in along_edges]
    components = drop_specks(components, height, width)
    reason = "" if components else "only specks of ink"
    return InkMap(ink, labels, components, 1.0, "dark on light", 1.0, reason, None)


def _edge_labels(
    labels: np.ndarray, boxes: list[tuple[slice, slice] | None], areas: np.ndarray
) -> set[int]:
    """Components that lie along the image's edge: they touch a side and are at least three
    times longer along it than they are thick, over 15 % of that side, or they meet 60 % of
    a side and reach less than halfway across the image (or fill under a tenth of their box:
    arms around an empty middle), or they meet 60 % of two opposite sides, or they cover half
    the image, or they run along 40 % of the image's border (a
    frame: the desk around a note). The dark edge of a scan, the table beside a photographed
    page or a sticky note (whole, or in pieces), a rotated photo's corners; not digits (a
    digit cut by a tight crop touches a side across its length, not along it, and spans the
    image). ``boxes`` and ``areas`` are the labels' ``find_objects`` and pixel counts (index
    0: the background)."""
    height, width = labels.shape
    count = len(boxes) + 1
    # how many pixels of each side every component meets
    top, bottom = (np.bincount(labels[row], minlength=count) for row in (0, -1))
    left, right = (np.bincount(labels[:, col], minlength=count) for col in (0, -1))
    frame = (top + bottom + left + right) >= 0.8 * (height + width)
    edge = {int(label) for label in np.flatnonzero(frame[1:]) + 1}
    for index, box in enumerate(boxes, start=1):
        if box is None:
            continue
        rows, cols = box
        tall, wide = rows.stop - rows.start, cols.stop - cols.start
        # a band: long and thin along a side, or meeting most of a side without reaching
        # halfway across (or with arms around an empty middle), or meeting most of two
        # opposite sides (a desk's two strips, joined)
        along_top_or_bottom = (rows.start == 0 or rows.stop == height) and (
            wide >= 3 * tall and wide >= 0.15 * width
        )
        along_left_or_right = (cols.start == 0 or cols.stop == width) and (
            tall >= 3 * wide and tall >= 0.15 * height
        )
        hollow = areas[index] < 0.1 * tall * wide  # (a frame's arms around the note)
        along_top_or_bottom |= max(top[index], bottom[index]) >= 0.6 * width and (
            tall < height / 2 or hollow
        )
        along_left_or_right |= max(left[index], right[index]) >= 0.6 * height and (
            wide < width / 2 or hollow
        )
        across = min(top[index], bottom[index]) >= 0.6 * width
        across |= min(left[index], right[index]) >= 0.6 * height
        touches = rows.start == 0 or cols.start == 0 or rows.stop == height or cols.stop == width
        huge = touches and areas[index] > 0.5 * height * width
        if along_top_or_bottom or along_left_or_right or across or huge:
            edge.add(index)
    return edge


def _components(boxes: list[tuple[slice, slice] | None], areas: np.ndarray) -> list[Component]:
    """Bounding box and area of every labelled component, largest first, from a label
    image's ``find_objects`` boxes and pixel counts."""
    found = []
    for index, box in enumerate(boxes, start=1):
        if box is not None and areas[index] > 0:
            rows, cols = box
            found.append(
                Component(rows.start, cols.start, rows.stop, cols.stop, index, int(areas[index]))
            )
    return sorted(found, key=lambda c: -c.area)


def drop_specks(components: list[Component], height: int, width: int) -> list[Component]:
    """Keep the components that can be (parts of) digits.

    Dropped: specks (tiny next to the largest piece of ink and next to the image), and ruled
    lines or page edges (much wider than tall, spanning most of the image) beside other ink;
    when there are only such lines they are kept (a 1 drawn from the top of a canvas to its
    bottom, a row of tall 1s: the classifier judges them).
    """
    kept = [
        c
        for c in components
        if not (c.width > 0.6 * width and c.height < 0.08 * c.width)
        and not (c.height > 0.9 * height and c.width < 0.08 * c.height)
    ] or components
    if not kept:
        return []
    largest = max(max(c.height, c.width) for c in kept)
    biggest_area = max(c.area for c in kept)
    big = max(kept, key=lambda c: c.area)
    minimum = max(3, 0.02 * max(height, width))

    def within_the_drawing(c: Component) -> bool:
        # a dot inside the biggest mark's box (the eyes of a face, the dot of a "!") belongs
        # to the drawing, when it is not a grain (a tenth of the mark's size at least)
        inside = big.top <= c.top and c.bottom <= big.bottom
        inside = inside and big.left <= c.left and c.right <= big.right
        return inside and max(c.height, c.width) >= 0.08 * largest

    return [
        c
        for c in kept
        if max(c.height, c.width) >= minimum
        and (
            c.area >= 0.05 * biggest_area
            or max(c.height, c.width) >= 0.25 * largest
            or within_the_drawing(c)
        )
    ]


def stroke_width(ink: np.ndarray) -> float:
    """Typical stroke width of a ``(H, W)`` ink image, in pixels: twice the area over the
    boundary length of its ``ink > 0.5`` mask (a stroke of width w and length L has area w*L
    and about 2*L boundary pixels)."""
    mask = ink > 0.5
    area = int(mask.sum())
    if area == 0:
        return 0.0
    inner = _erode_square(mask)
    boundary = area - int(inner.sum())
    return 2.0 * area / max(boundary, 1) + 1.0


def dilate_cross(mask: np.ndarray, times: int = 1) -> np.ndarray:
    """``ndimage.binary_dilation(mask, iterations=times)`` of an ``(H, W)`` mask (by the
    plus-shaped cross, nothing from beyond the border), by shifted ORs: the same pixels at a
    tenth of SciPy's time, whose iterations pass over the whole image each."""
    out = np.asarray(mask, dtype=bool)
    for _ in range(times):
        grown = out.copy()
        grown[1:] |= out[:-1]
        grown[:-1] |= out[1:]
        grown[:, 1:] |= out[:, :-1]
        grown[:, :-1] |= out[:, 1:]
        out = grown
    return out


def _erode_square(mask: np.ndarray) -> np.ndarray:
    """``ndimage.binary_erosion(mask, structure=np.ones((3, 3)), border_value=0)`` of an
    ``(H, W)`` bool mask, by shifted ANDs (a third of SciPy's time)."""
    height, width = mask.shape
    padded = np.zeros((height + 2, width + 2), dtype=bool)
    padded[1:-1, 1:-1] = mask
    out = padded[1:-1, 1:-1].copy()
    for dy in range(3):
        for dx in range(3):
            out &= padded[dy : dy + height, dx : dx + width]
    return out


def _disk(radius: int) -> np.ndarray:
    offsets = np.arange(-radius, radius + 1)
    return offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius * radius + radius


def restore_hairlines(canon: np.ndarray) -> np.ndarray:
    """Strengthen the hairlines of a digit written with thick and thin strokes (a dip pen,
    a calligraphic hand, a pencil pressed unevenly), which scaling to 28x28 would fade.

    ``canon``: ``(H, W)`` ink at CANON_SIDE scale. When the strong ink (half of the digit's
    typical ink or more) falls into two or more large pieces, the centres of faint strokes
    (see HAIRLINE_FLOOR) are raised to the strong ink's level and drawn as wide as the
    strokes are; otherwise (one piece: faint marks are a ruled line's remains, a shadow's
    edge, blur) ``canon`` is returned as it is. Returns ``(H, W)``."""
    values = canon[canon > 0.1]
    if values.size == 0:
        return canon
    level = percentile(values, 90)
    pieces, count = ndimage.label(canon >= 0.5 * level, np.ones((3, 3)))
    sizes = np.bincount(pieces.ravel())[1:]
    if count < 2 or (sizes >= HAIRLINE_PIECE * sizes.sum()).sum() < 2:
        return canon
    peak = ndimage.grey_dilation(canon, footprint=_disk(HAIRLINE_REACH))
    faint = (peak > HAIRLINE_FLOOR * level) & (peak < HAIRLINE_FAINT * level)
    ridge = faint & (canon >= 0.6 * peak)  # the middle of each faint stroke
    if not ridge.any():
        return canon
    radius = int(np.clip(round((stroke_width(canon) - 1.5) / 2), 1, 4))
    raised = np.where(ridge, np.minimum(level, canon * level / np.maximum(peak, 1e-6)), 0.0)
    return np.maximum(canon, ndimage.grey_dilation(raised, footprint=_disk(radius)))


def normalise_stroke(canon: np.ndarray, width: float) -> np.ndarray:
    """Thicken thin strokes and thin thick ones towards MNIST_STROKE_WIDTH.

    ``canon``: ``(H, W)`` ink at CANON_SIDE scale; ``width``: its :func:`stroke_width`.
    Grey dilation or erosion by a disk; erosion is limited so that no stroke disappears.
    """
    if width <= 0:
        return canon
    if width < 0.75 * MNIST_STROKE_WIDTH:
        radius = round((MNIST_STROKE_WIDTH - width) / 2)
        if radius >= 1:
            return ndimage.grey_dilation(canon, footprint=_disk(radius))
    elif width > 1.5 * MNIST_STROKE_WIDTH:
        radius = min(round((width - MNIST_STROKE_WIDTH) / 2), round(width / 4))
        if radius >= 1:
            return ndimage.grey_erosion(canon, footprint=_disk(radius))
    return canon


def skew(ink: np.ndarray) -> float:
    """The slant of a ``(H, W)`` ink image from its second moments: mu11 / mu02, the
    horizontal shift of the ink per row, clipped to +-MAX_SKEW."""
    total = float(ink.sum())
    if total <= 0:
        return 0.0
    rows, cols = np.indices(ink.shape, dtype=np.float64)
    centre_y = float((rows * ink).sum()) / total
    centre_x = float((cols * ink).sum()) / total
    mu11 = float(((rows - centre_y) * (cols - centre_x) * ink).sum())
    mu02 = float(((rows - centre_y) ** 2 * ink).sum())
    if mu02 <= 0:
        return 0.0
    return float(np.clip(mu11 / mu02, -MAX_SKEW, MAX_SKEW))


def deskew(ink: np.ndarray) -> np.ndarray:
    """Shear a ``(H, W)`` ink image so that it leans no more than MNIST_SLANT.

    Returns ``(H, W')``, wide enough to hold the sheared ink.
    """
    measured = skew(ink)
    slant = float(np.sign(measured)) * max(0.0, abs(measured) - MNIST_SLANT)
    if abs(slant) < 0.02:
        return ink
    height, width = ink.shape
    centre_y = (height - 1) / 2
    extra = int(np.ceil(abs(slant) * height / 2)) + 1
    new_width = width + 2 * extra
    # output (r, c) samples input (r, c - extra + slant * (r - centre_y))
    matrix = np.array([[1.0, 0.0], [slant, 1.0]])
    offset = np.array([0.0, -extra - slant * centre_y])
    return ndimage.affine_transform(
        ink, matrix, offset=offset, output_shape=(height, new_width), order=1, cval=0.0
    ).astype(np.float32)


def _crop_to_ink(ink: np.ndarray, threshold: float = 0.05) -> np.ndarray:
    rows = np.flatnonzero((ink > threshold).any(axis=1))
    cols = np.flatnonzero((ink > threshold).any(axis=0))
    if rows.size == 0:
        return ink
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _fit_long_side(ink: np.ndarray, side: int) -> np.ndarray:
    height, width = ink.shape
    factor = side / max(height, width)
    return _resize(ink, max(1, round(height * factor)), max(1, round(width * factor)))


def to_mnist(
    ink: np.ndarray, deskew_slant: bool = True, steps: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """Make the 28x28 MNIST-style input from one digit's ink.

    ``ink``: ``(H, W)`` float in [0, 1], 1 = ink, cropped around one digit (other ink zeroed).
    Returns ``(28, 28)`` float32 in [0, 1]. When ``steps`` is a dict, the intermediate images
    are stored in it (``"crop"``, ``"stroke"``, ``"deskew"``, ``"input"``).
    """
    crop = _crop_to_ink(np.asarray(ink, dtype=np.float32))
    canon = _fit_long_side(crop, CANON_SIDE)
    canon = restore_hairlines(np.pad(canon, 8))
    stroke = normalise_stroke(canon, stroke_width(canon))
    straight = deskew(stroke) if deskew_slant else stroke
    digit = _fit_long_side(_crop_to_ink(straight), 20)
    strongest = digit[digit > 0.1]
    if strongest.size:
        digit = np.clip(digit / max(0.5, percentile(strongest, 90)), 0.0, 1.0)
    result = place_by_centre_of_mass(digit)
    if steps is not None:
        steps.update(crop=crop, stroke=stroke, deskew=straight, input=result)
    return result


def place_by_centre_of_mass(digit: np.ndarray, side: int = 28) -> np.ndarray:
    """Put a ``(h, w)`` digit (h, w <= 20) into a ``(side, side)`` field with its centre of
    mass at the centre, as MNIST was made (shifted less where the digit would leave the field)."""
    height, width = digit.shape
    total = float(digit.sum())
    rows, cols = np.indices(digit.shape)
    centre_y = float((rows * digit).sum()) / total if total else (height - 1) / 2
    centre_x = float((cols * digit).sum()) / total if total else (width - 1) / 2
    top = int(np.clip(round(side / 2 - centre_y), 0, side - height))
    left = int(np.clip(round(side / 2 - centre_x), 0, side - width))
    field_ = np.zeros((side, side), dtype=np.float32)
    field_[top : top + height, left : left + width] = digit
    return field_
