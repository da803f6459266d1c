"""Writing styles MNIST barely has, and touching digits: how often each is read.

    python benchmarks/writing_styles.py                       # the shipped models
    python benchmarks/writing_styles.py --weights OTHER.npz   # another digit classifier too

Single digits are drawn with a pen in each style by ``training/styles.py`` (never trained on)
or are MNIST *test* digits stretched or squeezed to a box, photographed on paper by
``training/realistic.py`` and read by ``Recognizer.predict``. Touching pairs and rows of three
to six are MNIST test digits squeezed until their ink meets (``training/synth.py``), read by
``Recognizer.read_number`` with the cut reader alone, with the group reader weighed in, and
with the column reader too (the shipped pipeline).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnlite as nl  # noqa: E402
from recognition import Recognizer  # noqa: E402
from training.fonts import (  # noqa: E402
    FAMILIES,
    HELD_OUT,
    TRAIN,
    font_digit,
    font_files,
    font_number_ink,
    fonts_missing,
)
from training.realistic import render  # noqa: E402
from training.styles import DRAWN_STYLES, SQUEEZE, STRETCH, drawn_digit, stretched_digit  # noqa: E402
from training.synth import number_ink  # noqa: E402


def style_rows(recognizer: Recognizer, count: int) -> list[tuple[str, float]]:
    """(style, share read right) for every drawn style and the stretched/squeezed digits."""
    _, (images, labels) = nl.data.load_mnist()
    results = []
    for style, label in DRAWN_STYLES.items():
        rng = np.random.default_rng(1000 + sum(map(ord, style)))
        right = sum(
            recognizer.predict(render(drawn_digit(style, rng), "paper", rng)).label == label
            for _ in range(count)
        )
        results.append((style, right / count))
    for name, factors in (("stretched to a wide box", STRETCH), ("squeezed", SQUEEZE)):
        rng = np.random.default_rng(2000 + len(name))
        picks = rng.choice(len(images), count, replace=False)
        right = sum(
            recognizer.predict(
                render(stretched_digit(images[i], rng.uniform(*factors)), "paper", rng)
            ).label
            == labels[i]
            for i in picks
        )
        results.append((name, right / count))
    return results


def font_rows(
    recognizer: Recognizer, count: int, families: tuple[str, ...] = HELD_OUT
) -> list[tuple[str, float, int]]:
    """(family, share read right, digits read) for the handwriting fonts of ``families``:
    ``count`` warped digits a font (each digit equally often), photographed on paper."""
    results = []
    for family in families:
        files = font_files((family,))
        rng = np.random.default_rng(4000 + sum(map(ord, family)))
        truths = [int(d) for d in np.arange(count * len(files)) % 10]
        right = sum(
            recognizer.predict(
                # ten in a row from each font, so every font writes every digit
                render(font_digit(files[i // 10 % len(files)], digit, rng), "paper", rng)
            ).label
            == digit
            for i, digit in enumerate(truths)
        )
        trained = ", trained on" if family in TRAIN else ""
        name = f"{family} ({FAMILIES[family][2]}{trained})"
        results.append((name, right / len(truths), len(truths)))
    return results


def font_number_rows(recognizer: Recognizer, count: int) -> list[tuple[str, float]]:
    """(kind, share read exactly) for numbers written in the held-out fonts: ``count``
    numbers of 2-6 separate digits, of 2-6 digits with one digit in five touching its
    neighbour, and of 2-4 digits, most of them touching."""
    files = font_files(HELD_OUT)
    results = []
    for kind, size, touch in (
        ("numbers of 2-6 separate digits", (2, 7), 0.0),
        ("numbers of 2-6 digits, one in five touching", (2, 7), 0.2),
        ("numbers of 2-4 digits, most touching", (2, 5), 0.6),
    ):
        rng = np.random.default_rng(6000 + int(touch * 10))
        right = 0
        for index in range(count):
            digits = [int(d) for d in rng.integers(0, 10, int(rng.integers(*size)))]
            field = np.pad(font_number_ink(files[index % len(files)], digits, rng, touch), 10)
            reading = recognizer.read_number(render(field, "paper", rng)).number
            right += reading == "".join(map(str, digits))
        results.append((kind, right / count))
    return results


def touching_rows(recognizer: Recognizer, count: int) -> list[tuple[str, float, float, float]]:
    """(kind, read exactly by the cut reader alone, with the group reader, with the column
    reader too) for touching pairs, touching rows of three to six and numbers of 2-6
    separate digits."""
    _, (images, labels) = nl.data.load_mnist()
    alone = Recognizer(recognizer.model, verifier=recognizer.verifier)
    grouped = Recognizer(
        recognizer.model,
        verifier=recognizer.verifier,
        group_reader=recognizer.group_reader,
        group_judge=recognizer.group_judge,
    )
    results = []
    for kind, size, touching in (
        ("touching pairs", (2, 3), True),
        ("touching rows of three", (3, 4), True),
        ("touching rows of four", (4, 5), True),
        ("touching rows of five", (5, 6), True),
        ("touching rows of six", (6, 7), True),
        ("numbers of 2-6 separate digits", (2, 7), False),
    ):
        rng = np.random.default_rng(3000 + size[0] + touching)
        rows = []
        for _ in range(count):
            picks = rng.choice(len(images), int(rng.integers(*size)), replace=False)
            field, _ = number_ink(images[picks], rng, touching=touching)
            rows.append((render(field, "paper", rng), "".join(map(str, labels[picks]))))
        exact = [
            float(np.mean([reader.read_number(data).number == truth for data, truth in rows]))
            for reader in (alone, grouped, recognizer)
        ]
        results.append((kind, *exact))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, action="append", default=[])
    parser.add_argument("--count", type=int, default=100, help="images per row (100)")
    parser.add_argument(
        "--fonts", type=int, default=50, help="digits per held-out handwriting font (50)"
    )
    parser.add_argument("--train-fonts", action="store_true", help="also read the fonts trained on")
    args = parser.parse_args(argv)
    families = HELD_OUT + (TRAIN if args.train_fonts else ())
    missing = fonts_missing(families)
    if missing:
        parser.exit(2, f"error: handwriting fonts missing: apt-get install {' '.join(missing)}\n")
    models = [None, *args.weights]
    readers = [Recognizer.load_or_exit(weights, "writing_styles") for weights in models]
    names = ["shipped" if weights is None else weights.name for weights in models]
    print(f"| writing style ({args.count} each) | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    columns = [style_rows(reader, args.count) for reader in readers]
    for index, (style, _) in enumerate(columns[0]):
        cells = " | ".join(f"{column[index][1]:.0%}" for column in columns)
        print(f"| {style} | {cells} |", flush=True)
    print()
    print("| handwriting font (never trained on unless said) | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    font_columns = [font_rows(reader, args.fonts, families) for reader in readers]
    for index, (family, _, _) in enumerate(font_columns[0]):
        cells = " | ".join(f"{column[index][1]:.1%}" for column in font_columns)
        print(f"| {family} | {cells} |", flush=True)
    totals = " | ".join(
        f"{sum(r * n for _, r, n in column) / sum(n for _, _, n in column):.1%}"
        for column in font_columns
    )
    print(f"| all ({sum(n for _, _, n in font_columns[0])} digits) | {totals} |")
    print()
    print(f"| numbers in the held-out fonts, read exactly ({args.count} each) | shipped |")
    print("|---|---:|")
    for kind, share in font_number_rows(readers[0], args.count):
        print(f"| {kind} | {share:.0%} |", flush=True)
    print()
    print(
        f"| read exactly ({args.count} each) | cut reader alone | with the group reader "
        "| with the column reader too |"
    )
    print("|---|---:|---:|---:|")
    for kind, alone, grouped, both in touching_rows(readers[0], args.count):
        print(f"| {kind} | {alone:.0%} | {grouped:.0%} | {both:.0%} |", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except nl.data.MnistError as error:  # no $MNIST_DIR and no network
        sys.exit(f"error: {error}")
