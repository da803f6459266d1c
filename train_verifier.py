"""Train the cut verifier: a small nnlite network that answers "is this piece one whole digit?".

    python train_verifier.py                 # writes weights/digit_verifier.npz (~5 min)

The digit classifier alone is a poor judge of where touching digits should be cut: it is
confident about half a digit, or two digits squeezed together, too. The verifier is trained
on exactly the pieces the number reader considers. Rows of 2-3 touching MNIST *training*
digits are made (``recognition.synth``); every span between candidate cuts becomes a 28x28
piece, as the reader would see it, labelled 1 when it holds one whole digit and nothing of
its neighbours, 0 when it holds a fragment or parts of two digits (ambiguous spans are left
out). Single digits on their own are added as positives. The reader then adds the
verifier's log-probability to the classifier's when it scores a cut.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

import nnlite as nl
from recognition.normalize import to_mnist
from recognition.recognizer import _piece
from recognition.segment import candidate_cuts
from recognition.synth import number_ink, pen_ink
from train import ProgressBar, load_data

ROOT = Path(__file__).resolve().parent
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
    rows = np.flatnonzero(field.max(axis=1) > 0.25)
    cols = np.flatnonzero(field.max(axis=0) > 0.25)
    top, left = max(0, rows[0] - 2), max(0, cols[0] - 2)
    ink = field[top : rows[-1] + 3, left : cols[-1] + 3]
    height = rows[-1] - rows[0] + 1
    extents = [(x - left, x - left + w) for x, _, w, _ in boxes]
    width = ink.shape[1]
    points = [0, *candidate_cuts(ink.sum(axis=0), height), width]
    pieces, labels = [], []
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            span = (points[i], points[j])
            if not 0.15 * height <= span[1] - span[0] <= 1.6 * height:
                continue
            label = span_label(span, extents)
            if label is None:
                continue
            piece = _piece(ink, span)
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
        bar.update(index + 1, 0.0, len(pieces))
    x, y = np.stack(pieces).astype(np.float32), np.asarray(labels, dtype=np.int64)
    # Balance: at most two "not one digit" pieces per "one digit" piece.
    negatives = np.flatnonzero(y == 0)
    keep = rng.permutation(negatives)[: 2 * int((y == 1).sum())]
    chosen = np.sort(np.concatenate([np.flatnonzero(y == 1), keep]))
    return x[chosen], y[chosen]


def train(args: argparse.Namespace) -> int:
    (x_train, _), _ = load_data(args.data)
    held_out = x_train[-5000:]
    x, y = make_dataset(x_train[:-5000], args.groups, args.seed)
    x_val, y_val = make_dataset(held_out, max(200, args.groups // 10), args.seed + 1)
    print(f"{len(y)} pieces ({y.mean():.0%} one digit); {len(y_val)} for validation")
    nl.seed(args.seed)
    model = build_verifier()
    optimizer = nl.Adam(model.parameters(), lr=args.lr)
    loss_fn = nl.CrossEntropyLoss()
    images = x.reshape(-1, 1, 28, 28)
    steps = math.ceil(len(images) / 128)
    started = time.perf_counter()
    for epoch in range(args.epochs):
        rng = np.random.default_rng([args.seed, epoch])
        model.train()
        bar = ProgressBar(steps, f"epoch {epoch + 1}/{args.epochs}")
        running = 0.0
        for step, index in enumerate(nl.data.batches(len(images), 128, rng=rng)):
            optimizer.lr = (
                args.lr * 0.5 * (1 + math.cos(math.pi * (epoch + step / steps) / args.epochs))
            )
            loss = loss_fn.forward(model.forward(images[index]), y[index])
            model.backward(loss_fn.backward())
            optimizer.step()
            optimizer.zero_grad()
            running = loss if step == 0 else 0.95 * running + 0.05 * loss
            bar.update(step + 1, running, (step + 1) * 128)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--groups", type=int, default=3000, help="rows of touching digits")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=None, help="directory of the MNIST files")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if min(args.groups, args.epochs, args.lr) <= 0:
        parser.error("--groups, --epochs and --lr must be positive")
    try:
        return train(args)
    except nl.data.MnistError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
