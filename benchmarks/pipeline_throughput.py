"""Throughput of the recognition pipeline on 500x500 photos, digit and number mode.

    python benchmarks/pipeline_throughput.py   (also printed at the end of benchmarks/bench.py)

The photos are MNIST test digits (and numbers of them) dressed by tests/realistic.py as phone
photos: uneven light, blur, noise, a slight rotation, JPEG. Time covers everything a user
waits for: decoding the JPEG, finding the ink, normalising, classifying.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnlite as nl  # noqa: E402
from recognition import Recognizer  # noqa: E402
from training.realistic import digit_image, render  # noqa: E402
from training.synth import number_ink  # noqa: E402


def as_500(data: bytes) -> bytes:
    """Re-encode an image file as a 500x500 JPEG."""
    image = Image.open(io.BytesIO(data)).convert("RGB").resize((500, 500))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def photos(count: int, number: bool) -> list[bytes]:
    (_, _), (images, _) = nl.data.load_mnist()
    rng = np.random.default_rng(0)
    made = []
    for index in range(count):
        if number:
            picks = rng.choice(len(images), 4, replace=False)
            made.append(as_500(render(number_ink(images[picks], rng)[0], "photo", rng)))
        else:
            made.append(as_500(digit_image(images[index], "photo", rng)))
    return made


def rows(count: int = 40) -> list[tuple[str, float]]:
    """(mode, images per second) for digit and number mode."""
    recognizer = Recognizer.load()
    results = []
    for mode, number in (("digit", False), ("number (4 digits)", True)):
        files = photos(count, number)
        read = recognizer.read_number if number else recognizer.predict
        read(files[0])  # warm-up
        start = time.perf_counter()
        for data in files:
            read(data)
        results.append((mode, count / (time.perf_counter() - start)))
    return results


def main() -> None:
    print("| recognition of 500x500 photos | images per second | ms per image |")
    print("|---|---:|---:|")
    for mode, rate in rows():
        print(f"| {mode} | {rate:.1f} | {1000 / rate:.1f} |", flush=True)


if __name__ == "__main__":
    try:
        main()
    except nl.data.MnistError as error:  # no $MNIST_DIR and no network
        sys.exit(f"error: {error}")
