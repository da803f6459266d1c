"""Does a change to the pipeline leave every answer as it was? (For speed work.)

    python benchmarks/same_answers.py record OUT.npz [--per-style 10] [--root TREE]
    python benchmarks/same_answers.py compare BEFORE.npz AFTER.npz

``record`` reads a fixed set of images through the whole pipeline and saves what it found:
each image's ink map (the ink amounts and the labels of its pieces), the pieces' boxes, the
polarity and contrast, the 28x28 input and answer of :meth:`Recognizer.predict`, and the
digits and confidences of :meth:`Recognizer.read_number`. The images: ``--per-style``
digits and (two thirds as many) numbers of 2-6 digits in each style of
``training/realistic.py`` (photos, scans, chalk, shadows, ruled paper, sticky notes, forms...),
made from MNIST test digits with a fixed seed, every example image in ``examples/images``,
and photos resized to 1200x900, 500x500 and 60x60. Record the code before a change
(``git worktree add /tmp/before HEAD`` and ``--root /tmp/before``: the images are made and
read by that tree's code) and after, then ``compare``: it prints every image whose answers or
ink differ and exits 1 if any does. A change meant only to make the pipeline faster should
print "identical".
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
# The tree whose code makes and reads the images: this one, or --root's (read before the
# imports below, which come from it).
if "--root" in sys.argv[:-1]:
    ROOT = Path(sys.argv[sys.argv.index("--root") + 1]).resolve()
sys.path.insert(0, str(ROOT))

import nnlite as nl  # noqa: E402
from recognition import Recognizer, find_ink, load_image  # noqa: E402
from training.realistic import HARD_STYLES, PAPER_STYLES, STYLES, digit_image, render  # noqa: E402
from training.synth import number_ink  # noqa: E402


def corpus(per_style: int) -> list[tuple[str, bytes]]:
    """``(name, image file bytes)`` for every image of the check, always the same ones."""
    (_, _), (images, _) = nl.data.load_mnist()
    rng = np.random.default_rng(123)
    made: list[tuple[str, bytes]] = []
    for style in STYLES + HARD_STYLES + PAPER_STYLES:
        for index in range(per_style):
            digit = images[rng.integers(len(images))]
            made.append((f"digit_{style}_{index}", digit_image(digit, style, rng)))
        for index in range(max(1, 2 * per_style // 3)):
            picks = rng.choice(len(images), int(rng.integers(2, 7)), replace=False)
            field = number_ink(images[picks], rng)[0]
            made.append((f"number_{style}_{index}", render(field, style, rng)))
    for path in sorted((ROOT / "examples" / "images").glob("*")):
        made.append((f"example_{path.stem}", path.read_bytes()))
    for index in range(per_style):
        photo = Image.open(io.BytesIO(digit_image(images[rng.integers(len(images))], "photo", rng)))
        for size in ((1200, 900), (500, 500), (60, 60)):
            buffer = io.BytesIO()
            photo.convert("RGB").resize(size).save(buffer, format="JPEG", quality=85)
            made.append((f"resized_{size[0]}x{size[1]}_{index}", buffer.getvalue()))
    return made


def record(out: Path, per_style: int) -> None:
    """Read every image of :func:`corpus` and save what the pipeline found to ``out``."""
    recognizer = Recognizer.load()
    found: dict[str, np.ndarray] = {}
    for name, data in tqdm(corpus(per_style), desc="reading", unit="image"):
        ink_map = find_ink(load_image(data)[0])
        found[f"{name}/ink"] = ink_map.ink
        found[f"{name}/labels"] = ink_map.labels
        found[f"{name}/pieces"] = np.array(
            [(c.top, c.left, c.bottom, c.right, c.label, c.area) for c in ink_map.components],
            dtype=np.int64,
        ).reshape(-1, 6)
        found[f"{name}/light"] = np.array([ink_map.polarity == "dark on light", ink_map.contrast])
        digit = recognizer.predict(data)
        found[f"{name}/digit"] = np.array(
            [-1 if digit.label is None else digit.label, digit.confidence], dtype=np.float64
        )
        found[f"{name}/input"] = np.zeros((28, 28)) if digit.input is None else digit.input
        number = recognizer.read_number(data)
        found[f"{name}/number"] = np.array(
            [(d.label, d.confidence, *d.box) for d in number.digits], dtype=np.float64
        ).reshape(-1, 6)
    np.savez_compressed(out, **found)
    print(f"recorded {len({key.split('/')[0] for key in found})} images in {out}")


def compare(before: Path, after: Path) -> int:
    """Print the images whose recorded results differ; 0 when none does, else 1."""
    first, second = np.load(before), np.load(after)
    if set(first.files) != set(second.files):
        print("the two records hold different images (another --per-style?)")
        return 1
    differing = sorted(
        {
            key.split("/")[0]
            for key in first.files
            if first[key].shape != second[key].shape or not np.array_equal(first[key], second[key])
        }
    )
    for name in differing:
        print(f"differs: {name}")
    images = len({key.split("/")[0] for key in first.files})
    print("identical" if not differing else f"{len(differing)} of {images} images differ")
    return 1 if differing else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    recording = commands.add_parser("record", help="read the images, save what was found")
    recording.add_argument("out", type=Path)
    recording.add_argument("--per-style", type=int, default=10)
    recording.add_argument("--root", type=Path, help="the tree whose code to run (default: this)")
    comparing = commands.add_parser("compare", help="compare two records")
    comparing.add_argument("before", type=Path)
    comparing.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "record":
        if args.per_style < 1:
            parser.error("--per-style must be at least 1")
        record(args.out, args.per_style)
    else:
        for path in (args.before, args.after):
            if not path.is_file():
                parser.error(f"no such record: {path}")
        sys.exit(compare(args.before, args.after))


if __name__ == "__main__":
    try:
        main()
    except nl.data.MnistError as error:  # no $MNIST_DIR and no network
        sys.exit(f"error: {error}")
