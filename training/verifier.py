"""Training the cut verifier (``train_verifier.py``): a small network that says whether a
28x28 piece cut from a group of touching digits is one whole digit. Its pieces are made the
way the reader makes them (``recognition.segment.candidate_spans``,
``recognition.recognizer.piece_ink`` with ``GROUP_MARGIN``) from rows of touching MNIST
training digits (``training.synth``)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import nnlite as nl
from recognition.normalize import to_mnist
from recognition.recognizer import piece_ink
from recognition.segment import candidate_spans
from training.loop import ProgressBar, train_epoch
from training.synth import group_crop, number_ink, pen_ink

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "weights" / "digit_verifier.npz"


def build_verifier() -> nl.Sequential:
    """(N, 1, 28, 28) -> (N, 2) logits: [not one digit, one digit]."""
    return nl.Sequential(
        [
            nl.Conv2D(1, 16, 3, padding=1),
            nl.BatchNorm2D(16),
            nl.ReLU(),
            nl.MaxPool2D(2),
            nl.Conv2D(16, 32, 3, padding=1),
            nl.BatchNorm2D(32),
            nl.ReLU(),
            nl.MaxPool2D(2),
            nl.Flatten(),
            nl.Dense(32 * 7 * 7, 64),
            nl.ReLU(),
            nl.Dropout(0.3),
            nl.Dense(64, 2),
        ]
    )


def span_label(span: tuple[int, int], extents: list[tuple[int, int]]) -> int | None:
    """1 when ``span`` (columns) holds one digit whole (>= 85 % of its width) and at most
    15 % of any other; 0 when it holds less than 60 % of every digit or 40 % of two; else
    None (ambiguous: touching digits overlap, no straight cut is perfect)."""
    coverage = []
    for x0, x1 in extents:
        shared = max(0, min(span[1], x1) - max(span[0], x0))
        coverage.append(shared / max(1, x1 - x0))
    coverage = np.array(coverage)
    whole = coverage >= 0.85
    if whole.sum() == 1 and (coverage[~whole] <= 0.15).all():
        return 1
    if coverage.max() < 0.6 or (coverage >= 0.4).sum() >= 2:
        return 0
    return None


def group_pieces(
    digits: np.ndarray, rng: np.random.Generator
) -> tuple[list[np.ndarray], list[int]]:
    """Pieces ``(28, 28)`` and labels from one row of touching digits ``(K, 28, 28)``."""
    field, boxes = number_ink(digits, rng, touching=True, height=int(rng.integers(40, 100)))
    # The group cropped as the reader crops it, cut where the reader may cut it.
    ink, _, left, height = group_crop(field)
    extents = [(x - left, x - left + w) for x, _, w, _ in boxes]
    pieces, labels = [], []
    for span in candidate_spans(ink.sum(axis=0), height)[1]:
        label = span_label(span, extents)
        if label is None:
            continue
        piece = piece_ink(ink, span)
        if piece.max() <= 0.25:
            continue
        pieces.append(to_mnist(piece, True))
        labels.append(label)
    return pieces, labels


def make_dataset(images: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` rows of touching digits plus three single digits each -> (X, y), with at
    most two negatives per positive."""
    rng = np.random.default_rng(seed)
    pieces, labels = [], []
    bar = ProgressBar(count, "making pieces")
    for index in range(count):
        picks = rng.choice(len(images), int(rng.integers(2, 4)), replace=False)
        more, more_labels = group_pieces(images[picks], rng)
        pieces += more
        labels += more_labels
        for _ in range(3):
            single = pen_ink(images[rng.integers(len(images))], int(rng.integers(40, 100)), rng)
            pieces.append(to_mnist(np.pad(single, 3), True))
            labels.append(1)
        bar.update(index + 1, None, len(pieces))
    x, y = np.stack(pieces).astype(np.float32), np.asarray(labels, dtype=np.int64)
    # Balance: at most two "not one digit" pieces per "one digit" piece.
    negatives = np.flatnonzero(y == 0)
    keep = rng.permutation(negatives)[: 2 * int((y == 1).sum())]
    chosen = np.sort(np.concatenate([np.flatnonzero(y == 1), keep]))
    return x[chosen], y[chosen]


def train(args: argparse.Namespace) -> int:
    (x_train, _), _ = nl.data.load_mnist(args.data)
    held_out = x_train[-5000:]
    x, y = make_dataset(x_train[:-5000], args.groups, args.seed)
    x_val, y_val = make_dataset(held_out, max(200, args.groups // 10), args.seed + 1)
    print(f"{len(y)} pieces ({y.mean():.0%} one digit); {len(y_val)} for validation")
    nl.seed(args.seed)
    model = build_verifier()
    optimizer = nl.Adam(model.parameters(), lr=args.lr)
    images = x.reshape(-1, 1, 28, 28)
    started = time.perf_counter()
    for epoch in range(args.epochs):
        rng = np.random.default_rng([args.seed, epoch])
        train_epoch(
            model,
            optimizer,
            images,
            y,
            epoch=epoch,
            epochs=args.epochs,
            base_lr=args.lr,
            rng=rng,
            warmup=0.0,
        )
        accuracy = float((model.predict(x_val.reshape(-1, 1, 28, 28)).argmax(1) == y_val).mean())
        print(f"epoch {epoch + 1}: validation accuracy {accuracy:.2%}", flush=True)
    model.metadata = {
        "task": "is this 28x28 piece one whole digit? classes [not one digit, one digit]",
        "input": "(N, 1, 28, 28) float32 in [0, 1], white ink on black, MNIST-style centred",
        "data": f"pieces of {args.groups} rows of 2-3 touching MNIST training digits",
        "pieces": len(y),
        "validation_accuracy": accuracy,
        "epochs": args.epochs,
        "seed": args.seed,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"saved {args.out} (validation accuracy {accuracy:.2%})")
    return 0
