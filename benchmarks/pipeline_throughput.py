"""Throughput of the recognition pipeline on 500x500 photos, digit and number mode.

    python benchmarks/pipeline_throughput.py   (also printed at the end of benchmarks/bench.py)

The photos are MNIST test digits (and numbers of them) dressed by training/realistic.py as
phone photos: uneven light, blur, noise, a slight rotation, JPEG. Time covers everything a
user waits for: decoding the JPEG, finding the ink, normalising, classifying. Each mode reads
the same 40 photos in PASSES passes; the table gives the median pass (on a shared machine a
single pass varies by a third) and the fastest and slowest.
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


PASSES = 3


def rows(count: int = 40, passes: int = PASSES) -> list[tuple[str, list[float]]]:
    """(mode, milliseconds per image in each pass, sorted) for digit and number mode."""
    recognizer = Recognizer.load()
    results = []
    for mode, number in (("digit", False), ("number (4 digits)", True)):
        files = photos(count, number)
        read = recognizer.read_number if number else recognizer.predict
        read(files[0])  # warm-up
        times = []
        for _ in range(passes):
            start = time.perf_counter()
            for data in files:
                read(data)
            times.append(1000 * (time.perf_counter() - start) / count)
        results.append((mode, sorted(times)))
    return results


def main() -> None:
    print("| 500x500 photos | images per second | ms per image | fastest-slowest pass |")
    print("|---|---:|---:|---:|")
    for mode, times in rows():
        median = times[len(times) // 2]
        print(f"| {mode} | {1000 / median:.1f} | {median:.1f} | {times[0]:.1f}-{times[-1]:.1f} |",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    try:
        main()
    except nl.data.MnistError as error:  # no $MNIST_DIR and no network
        sys.exit(f"error: {error}")
