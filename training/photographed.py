"""MNIST *training* digits photographed and read back by the recognition pipeline
(``train.py --photographed N``).

The network is trained on MNIST's own 28x28 images, but it reads what the pipeline makes of
a photo: ink found against uneven light and thresholded (a faint stroke may break or thin),
cropped, its stroke width evened out, deskewed and scaled into the 28x28 box. Each digit here
is dressed as a photo, a scan, chalk, a transparent PNG, ruled paper or a sticky note
(``training.realistic``, every style of ``STYLES``, ``HARD_STYLES`` and ``PAPER_STYLES``), then
put through the very steps :meth:`recognition.Recognizer.predict` takes, and kept as the
network's input with its label. The last ``--holdout`` training digits are never used.
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from recognition.imageio import load_image
from recognition.normalize import find_ink, to_mnist
from recognition.recognizer import digit_parts, isolated_window
from training.realistic import HARD_STYLES, PAPER_STYLES, STYLES, digit_image

#: Every way ``training.realistic`` dresses a digit.
ALL_STYLES = (*STYLES, *HARD_STYLES, *PAPER_STYLES)
#: Digits made by one worker task (its own seeded generator).
CHUNK = 500


def pipeline_input(image: bytes) -> np.ndarray | None:
    """The network's ``(28, 28)`` float32 input in [0, 1] that the single-digit pipeline
    (:meth:`recognition.Recognizer.predict`'s first look) makes of an encoded ``image``, or
    None when it finds no ink."""
    rgb, _ = load_image(image)
    ink_map = find_ink(rgb)
    if not ink_map.components:
        return None
    ink, _, _ = isolated_window(ink_map, digit_parts(ink_map.components, ink_map.ink.shape))
    return to_mnist(ink, True)


def _chunk(task: tuple[np.ndarray, np.ndarray, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """One worker's digits: ``(K, 28, 28)`` uint8 inputs of the ``(K, 28, 28)`` digits
    (those the pipeline finds ink in), with their labels."""
    digits, labels, seed, index = task
    rng = np.random.default_rng([seed, index])
    styles = rng.choice(len(ALL_STYLES), len(digits))
    inputs, kept = [], []
    for digit, label, style in zip(digits, labels, styles, strict=True):
        seen = pipeline_input(digit_image(digit, ALL_STYLES[int(style)], rng))
        if seen is not None and seen.max() > 0:
            inputs.append(np.round(seen * 255).astype(np.uint8))
            kept.append(label)
    if not inputs:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64)
    return np.stack(inputs), np.asarray(kept, dtype=np.int64)


def photographed_set(
    images: np.ndarray,
    labels: np.ndarray,
    count: int,
    seed: int,
    workers: int = 2,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` of the ``(N, 28, 28)`` uint8 ``images`` (drawn without replacement, or with
    it when ``count > N``), each photographed in a random style and read back by the
    pipeline: ``(M, 28, 28)`` uint8 inputs and their ``(M,)`` int64 labels, M <= count
    (a digit whose ink the pipeline loses is left out). ``workers`` processes share the
    work; the result depends only on ``seed``."""
    from training.loop import ProgressBar

    rng = np.random.default_rng(seed)
    picks = rng.choice(len(images), count, replace=count > len(images))
    tasks = [
        (images[picks[start : start + CHUNK]], labels[picks[start : start + CHUNK]], seed, index)
        for index, start in enumerate(range(0, count, CHUNK))
    ]
    bar = ProgressBar(count, "photographing digits") if progress else None
    results: list[tuple[np.ndarray, np.ndarray]] = []
    done = 0
    parallel = workers > 1 and len(tasks) > 1
    with ProcessPoolExecutor(workers) if parallel else nullcontext() as pool:
        made = pool.map(_chunk, tasks) if pool is not None else map(_chunk, tasks)
        for result, task in zip(made, tasks, strict=True):
            results.append(result)
            done += len(task[1])
            if bar is not None:
                bar.update(done, None, done)
    inputs = np.concatenate([r[0] for r in results])
    kept = np.concatenate([r[1] for r in results])
    return inputs, kept


def cached_photographed_set(
    images: np.ndarray, labels: np.ndarray, count: int, seed: int, cache: Path
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`photographed_set`, kept in ``cache`` (a directory) under a name made of the
    generators' code, the count, the seed and the digits given, so a change to any of them
    makes the set again."""
    import recognition.normalize
    import recognition.recognizer
    import training.realistic
    from training.checkpoints import code_hash

    code = code_hash(
        sys.modules[__name__], training.realistic, recognition.normalize, recognition.recognizer
    )
    digits = f"{len(images)}-{int(images[::997].sum())}"
    path = cache / f"photographed-{code}-{count}-{seed}-{digits}.npz"
    if path.is_file():
        with np.load(path) as saved:
            return saved["x"], saved["y"]
    inputs, kept = photographed_set(images, labels, count, seed)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=inputs, y=kept)
    return inputs, kept
