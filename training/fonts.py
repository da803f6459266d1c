"""Digits in the hands of people elsewhere, from handwriting fonts packaged by Debian.

MNIST's writers were American census staff and students. Debian packages fonts made from
the handwriting of people in France, Poland, the Netherlands, Japan, Korea, India and the
United States; each font's digits are one writer's (or one designer's) hand. Warped at
random (rotation, shear, aspect, an elastic distortion, stroke weight) they are digits in
styles MNIST barely has: the 1 with a long up-stroke, the crossed 7, the open 0 that starts
with a hook, the 4 with a loop, the curled 6 and 9.

The families are split once, by writer: ``train.py --fonts N`` trains on digits of the
:data:`TRAIN` families; the tests and ``benchmarks/writing_styles.py`` read the
:data:`HELD_OUT` families, which nothing is trained on. A family whose package is not
installed is left out (``fonts_missing`` names the packages); ``.ci/run`` installs them all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from recognition.normalize import _crop_to_ink, to_mnist
from training.synth import touching_shift

FONT_DIR = Path("/usr/share/fonts")

#: family -> (Debian package, font files under FONT_DIR, where the hand comes from)
FAMILIES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "bwht": (
        "fonts-bwht",
        tuple(
            f"opentype/bwht/BecauseWe{name}-Regular.otf"
            for name in ("Build", "Connect", "Create", "Learn", "Mentor", "Organize")
        ),
        "six writers of the Because We Had To project",
    ),
    "comic-neue": (
        "fonts-comic-neue",
        tuple(f"opentype/comic-neue/ComicNeue-{s}.otf" for s in ("Regular", "Bold", "Italic")),
        "a designer's casual hand",
    ),
    "dancingscript": (
        "fonts-dancingscript",
        ("opentype/dancingscript/DancingScript-Regular.otf",),
        "a script hand",
    ),
    "kaushanscript": (
        "fonts-kaushanscript",
        ("opentype/kaushanscript/KaushanScript-Regular.otf",),
        "a brush hand, Germany",
    ),
    "lobster": ("fonts-lobster", ("opentype/lobster/lobster.otf",), "a bold script hand"),
    "breip": ("fonts-breip", ("truetype/breip/Breip.ttf",), "an informal hand"),
    "humor-sans": ("fonts-humor-sans", ("truetype/humor-sans/Humor-Sans.ttf",), "xkcd's hand"),
    "kiloji": (
        "fonts-kiloji",
        tuple(f"truetype/kiloji/kiloji{s}.ttf" for s in ("", "_b", "_p")),
        "a writer in Japan",
    ),
    "leckerli-one": (
        "fonts-leckerli-one",
        ("truetype/leckerli-one/LeckerliOne-Regular.ttf",),
        "a fat handwritten display face",
    ),
    "rufscript": ("fonts-rufscript", ("truetype/rufscript/Rufscript010.ttf",), "a pen hand"),
    "seto": ("fonts-seto", ("truetype/seto/setofont.ttf",), "a writer in Japan"),
    "yozfont": (
        "fonts-yozvox-yozfont",
        ("truetype/yozvox-yozfont/YOzRN_.ttf", "truetype/yozvox-yozfont/YOzBAF.ttf"),
        "a writer in Japan",
    ),
    "yusei-magic": (
        "fonts-yusei-magic",
        ("truetype/yusei-magic/YuseiMagic-Regular.ttf",),
        "a felt pen, Japan",
    ),
    # ---- held out: never trained on ----
    "havana": ("fonts-havana", ("opentype/havana/Havana-Regular.otf",), "a hand from Poland"),
    "ecolier": (
        "fonts-ecolier-court",
        ("truetype/ecolier-court/Ecolier-court.ttf",),
        "French school handwriting",
    ),
    "kristi": ("fonts-kristi", ("truetype/kristi/Kristi.ttf",), "a felt-tip cursive, Poland"),
    "dkg": (
        "fonts-dkg-handwriting",
        tuple(f"truetype/fifthhorseman/dkg{s}.ttf" for s in ("", "It", "Bd")),
        "one writer's hand, United States",
    ),
    "nanum": (
        "fonts-nanum-extra",
        ("truetype/nanum/NanumPen.ttf", "truetype/nanum/NanumBrush.ttf"),
        "pen and brush hands, Korea",
    ),
    "navilu": ("fonts-navilu", ("truetype/Navilu/Navilu.ttf",), "a hand from India"),
    "sjfonts": (
        "fonts-sjfonts",
        ("truetype/sjfonts/Delphine.ttf", "truetype/sjfonts/SteveHand.ttf"),
        "two writers' hands",
    ),
    "klee": ("fonts-klee", ("truetype/klee/KleeOne-Regular.ttf",), "a pencil hand, Japan"),
}
HELD_OUT = ("havana", "ecolier", "kristi", "dkg", "nanum", "navilu", "sjfonts", "klee")
TRAIN = tuple(name for name in FAMILIES if name not in HELD_OUT)

GLYPH = 160  # the size fonts are drawn at, in pixels
INK = 0.1  # a pixel above this is ink, when a glyph is cropped to its ink


def font_files(families: tuple[str, ...] | list[str]) -> list[Path]:
    """The installed font files of ``families`` (names of FAMILIES)."""
    return [
        FONT_DIR / file
        for family in families
        for file in FAMILIES[family][1]
        if (FONT_DIR / file).is_file()
    ]


def fonts_missing(families: tuple[str, ...] | list[str]) -> list[str]:
    """The Debian packages of ``families`` that are not installed (sorted, no repeats)."""
    return sorted(
        {
            FAMILIES[family][0]
            for family in families
            if not all((FONT_DIR / file).is_file() for file in FAMILIES[family][1])
        }
    )


def _glyph(path: Path, digit: int) -> np.ndarray:
    """``digit`` in the font at ``path``: ``(H, W)`` float ink in [0, 1], cropped."""
    font = ImageFont.truetype(str(path), GLYPH)
    image = Image.new("L", (GLYPH * 2, GLYPH * 2), 0)
    ImageDraw.Draw(image).text((GLYPH // 2, GLYPH // 3), str(digit), font=font, fill=255)
    ink = np.asarray(image, dtype=np.float32) / 255.0
    if not (ink > INK).any():
        raise ValueError(f"{path.name} has no glyph for {digit}")
    return _crop_to_ink(ink, INK)


def _smooth_field(shape: tuple[int, int], rng: np.random.Generator, cells: int) -> np.ndarray:
    """A smooth random ``shape`` field in about [-1, 1]: a ``cells`` x ``cells`` grid of
    random values, enlarged bicubically."""
    grid = rng.uniform(-1.0, 1.0, (cells, cells)).astype(np.float32)
    field = Image.fromarray(grid, mode="F").resize(shape[::-1], Image.Resampling.BICUBIC)
    return np.asarray(field, dtype=np.float32)


def warp(ink: np.ndarray, rng: np.random.Generator, elastic: float = 0.06) -> np.ndarray:
    """``ink`` ``(H, W)`` warped as a hand varies: rotated (+-12 degrees), sheared (+-0.3),
    its aspect changed (x0.8-1.25) and, in most draws, bent by a smooth displacement of up to
    ``elastic`` of its height (Simard et al.'s elastic distortion). Returns ``(H', W')``
    float in [0, 1], cropped to the ink."""
    height, width = ink.shape
    side = int(1.6 * max(height, width)) + 8
    canvas = np.zeros((side, side), dtype=np.float32)
    top, left = (side - height) // 2, (side - width) // 2
    canvas[top : top + height, left : left + width] = ink
    angle = np.deg2rad(rng.uniform(-12, 12))
    shear, aspect = rng.uniform(-0.3, 0.3), np.exp(rng.uniform(np.log(0.8), np.log(1.25)))
    # output (y, x) -> source: rotation, shear and aspect about the canvas's centre
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = rotate @ np.array([[1.0, 0.0], [shear, 1.0]]) @ np.diag([1.0, aspect])
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float32) - (side - 1) / 2
    source_y = matrix[0, 0] * ys + matrix[0, 1] * xs + (side - 1) / 2
    source_x = matrix[1, 0] * ys + matrix[1, 1] * xs + (side - 1) / 2
    if rng.random() < 0.8:
        amount = elastic * height * rng.uniform(0.3, 1.0)
        cells = int(rng.integers(3, 6))
        source_y += amount * _smooth_field((side, side), rng, cells)
        source_x += amount * _smooth_field((side, side), rng, cells)
    # bilinear sampling, 0 outside the canvas
    warped = ndimage.map_coordinates(canvas, [source_y, source_x], order=1, cval=0.0)
    return _crop_to_ink(warped, INK)


def font_digit(path: Path, digit: int, rng: np.random.Generator, height: int = 100) -> np.ndarray:
    """``digit`` written in the font at ``path``, warped (:func:`warp`) and ``height`` pixels
    tall with a margin of a fifth of that: ``(H, W)`` float ink in [0, 1]."""
    ink = warp(_glyph(path, digit), rng)
    width = max(2, round(ink.shape[1] * height / ink.shape[0]))
    small = Image.fromarray(ink, mode="F").resize((width, height), Image.Resampling.BILINEAR)
    return np.pad(np.clip(np.asarray(small, dtype=np.float32), 0.0, 1.0), height // 5)


def font_set(
    count: int, seed: int, families: tuple[str, ...] | list[str] = TRAIN
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` digits (every digit equally often) written in the installed fonts of
    ``families`` and made MNIST-like by the pipeline's own ``to_mnist``: ``(count, 28, 28)``
    uint8 and their labels ``(count,)`` int64. Raises ValueError when none is installed."""
    files = font_files(families)
    if not files:
        missing = " ".join(fonts_missing(families))
        raise ValueError(f"no handwriting font is installed: apt-get install {missing}")
    rng = np.random.default_rng(seed)
    labels = np.arange(count, dtype=np.int64) % 10
    rng.shuffle(labels)
    picks = rng.integers(0, len(files), count)
    images = np.stack(
        [
            to_mnist(font_digit(files[pick], int(label), rng, height=int(rng.integers(40, 90))))
            for pick, label in zip(picks, labels, strict=True)
        ]
    )
    return np.round(images * 255).astype(np.uint8), labels


def font_number_ink(
    path: Path, digits: list[int], rng: np.random.Generator, touch: float = 0.0
) -> np.ndarray:
    """A number written in the font at ``path``: each digit warped on its own
    (:func:`font_digit`, 50-80 px tall, heights varying by 15 %, baselines by a tenth),
    side by side with gaps of 8-35 % of the height; each digit, with probability ``touch``,
    is slid left until its ink meets its neighbour's (then the gaps are 0-15 %). Returns
    the ``(H, W)`` float ink field in [0, 1]."""
    height = int(rng.integers(50, 80))
    inks = []
    for digit in digits:
        ink = font_digit(path, digit, rng, int(height * rng.uniform(0.9, 1.05)))
        inks.append(_crop_to_ink(ink, INK))
    tall = max(ink.shape[0] for ink in inks)
    field = np.zeros((tall * 2 + tall // 2, sum(i.shape[1] for i in inks) + 4 * tall), np.float32)
    x = tall
    for index, ink in enumerate(inks):
        top = tall // 2 + int(rng.integers(0, tall // 5 + 1))
        h, w = ink.shape
        touching = bool(index) and rng.random() < touch
        if touching:
            x -= touching_shift(field, ink, top, x, w, level=0.3) or 0
        field[top : top + h, x : x + w] = np.maximum(field[top : top + h, x : x + w], ink)
        gap = rng.uniform(0.0, 0.15) if touch >= 0.5 else rng.uniform(0.08, 0.35)
        x += w + int(gap * tall)
    return field[:, : x + tall // 2]
