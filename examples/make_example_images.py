"""Make the app's example images from MNIST *test* digits (never the training set).

    python examples/make_example_images.py

Writes examples/images/: single digits dressed as a phone photo, chalk on a board, a
transparent PNG, coloured ink and a thin sketch, and two numbers (one of separate digits, one
on two lines). The styles come from tests/realistic.py, the same ones the tests measure.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnlite as nl  # noqa: E402
from training.realistic import digit_image, render  # noqa: E402
from training.synth import number_ink  # noqa: E402

OUT = ROOT / "examples" / "images"
DIGITS = {  # file name: (test-set index, style)
    "photo_7.jpg": (0, "photo"),
    "chalk_2.png": (1, "chalk"),
    "transparent_1.png": (2, "transparent"),
    "blue_ink_0.png": (3, "colour"),
    "thin_4.png": (4, "thin"),
    "italic_9.png": (7, "italic"),
}


def main() -> None:
    (_, _), (images, labels) = nl.data.load_mnist()
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2026)
    for name, (index, style) in DIGITS.items():
        assert str(labels[index]) in name
        (OUT / name).write_bytes(digit_image(images[index], style, rng))
    picks = [11, 12, 13, 14, 15]  # a five-digit number of separate digits
    field, _ = number_ink(images[picks], rng)
    (OUT / f"number_{''.join(map(str, labels[picks]))}.png").write_bytes(
        render(field, "photo", rng)
    )
    top, _ = number_ink(images[[21, 22, 23]], rng)
    bottom, _ = number_ink(images[[24, 25]], rng)
    width = max(top.shape[1], bottom.shape[1])
    lines = np.zeros((top.shape[0] + bottom.shape[0], width), dtype=np.float32)
    lines[: top.shape[0], : top.shape[1]] = top
    lines[top.shape[0] :, : bottom.shape[1]] = bottom
    name = "".join(map(str, labels[[21, 22, 23]])) + "_" + "".join(map(str, labels[[24, 25]]))
    (OUT / f"lines_{name}.png").write_bytes(render(lines, "paper", rng))
    for path in sorted(OUT.iterdir()):
        print(path.relative_to(ROOT), path.stat().st_size, "bytes")


if __name__ == "__main__":
    try:
        main()
    except nl.data.MnistError as error:  # no $MNIST_DIR and no network
        sys.exit(f"error: {error}")
