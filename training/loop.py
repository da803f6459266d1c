"""The one training loop and what goes with it: the learning-rate schedule, the progress
bar (tqdm), evaluation on labelled digits. ``training.digits`` (the classifier) and
``training.verifier`` (the cut verifier) both train through :func:`train_epoch`."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from tqdm import tqdm

import nnlite as nl
from recognition.recognizer import NOT_DIGIT_OUTPUT as NOT_DIGIT

#: Images per training step, for every model trained here (``train.py --batch-size`` changes it).
BATCH_SIZE = 128


def learning_rate(base_lr: float, epoch: float, epochs: int, warmup: float = 1.0) -> float:
    """Linear warm-up over the first epoch, then cosine decay to 1% of ``base_lr``.

    ``epoch`` is fractional (epoch index + fraction of the epoch done).
    """
    if epoch < warmup:
        return base_lr * max(epoch / warmup, 0.02)
    progress = (epoch - warmup) / max(epochs - warmup, 1e-9)
    return base_lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


class ProgressBar:
    """A progress bar on stderr (tqdm): done/total, loss, images per second, time left. On a
    terminal it redraws in place; in a log file it writes a line every 15 s."""

    def __init__(self, total: int, label: str) -> None:
        interactive = sys.stderr.isatty()
        self.bar = tqdm(
            total=total,
            desc=label,
            file=sys.stderr,
            mininterval=0.2 if interactive else 15.0,
            ascii=not interactive,
            bar_format="{desc} [{bar:30}] {n}/{total}{postfix} {elapsed} elapsed, {remaining} left",
        )
        self.start = time.perf_counter()

    def update(self, done: int, loss: float | None, images: int) -> None:
        """``done`` of ``total`` steps, the running ``loss`` (None while making data: not
        shown), ``images`` seen or made so far."""
        elapsed = time.perf_counter() - self.start
        rate = images / elapsed if elapsed > 0 else 0.0
        shown = "" if loss is None else f"loss {loss:.4f} "
        self.bar.set_postfix_str(f"{shown}{rate:,.0f} img/s", refresh=False)
        self.bar.update(done - self.bar.n)
        if done >= self.bar.total:
            self.bar.close()


def train_epoch(
    model: nl.Sequential,
    optimizer: nl.Optimizer,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    epoch: int,
    epochs: int,
    base_lr: float,
    rng: np.random.Generator,
    batch_size: int = BATCH_SIZE,
    warmup: float = 1.0,
    transform: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
    loss_fn: nl.CrossEntropyLoss | Any | None = None,
) -> float:
    """One pass over ``images`` ``(N, 1, 28, 28)`` float32 with integer ``labels`` ``(N,)``
    in shuffled batches (drawn from ``rng``), cross-entropy loss, the learning rate of
    :func:`learning_rate` set before every step, ``transform(batch, rng)`` (augmentation)
    applied to each batch; ``loss_fn`` (``forward(logits, labels)``, ``backward()``) replaces
    the cross-entropy, e.g. for a model with several heads. Returns the running
    (exponentially averaged) loss."""
    loss_fn = loss_fn if loss_fn is not None else nl.CrossEntropyLoss()
    steps = math.ceil(len(images) / batch_size)
    model.train()
    bar = ProgressBar(steps, f"epoch {epoch + 1}/{epochs}")
    running, seen = 0.0, 0
    for step, index in enumerate(nl.data.batches(len(images), batch_size, rng=rng)):
        optimizer.lr = learning_rate(base_lr, epoch + step / steps, epochs, warmup)
        batch = images[index]
        if transform is not None:
            batch = transform(batch, rng)
        loss = loss_fn.forward(model.forward(batch), labels[index])
        model.backward(loss_fn.backward())
        optimizer.step()
        optimizer.zero_grad()
        running = loss if step == 0 else 0.95 * running + 0.05 * loss
        seen += len(index)
        bar.update(step + 1, running, seen)
    return float(running)


def format_seconds(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def evaluate(model: nl.Sequential, images: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy, per-class accuracy and the confusion matrix (rows: true digit, columns:
    predicted class; an eleventh column counts the digits called "not a digit", which are
    errors). ``images`` ``(N, 28, 28)`` uint8, ``labels`` ``(N,)``."""
    probabilities = model.predict(nl.data.to_images(images))
    predicted = probabilities.argmax(axis=1)
    classes = probabilities.shape[1]
    confusion = np.zeros((10, classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = confusion.diagonal()[:10] / np.maximum(confusion.sum(axis=1), 1)
    return {
        "accuracy": float((predicted == labels).mean()),
        "per_class": per_class.tolist(),
        "confusion": confusion,
        "predicted": predicted,
        "confidence": probabilities.max(axis=1),
        "probabilities": probabilities,
        "refused": int((predicted == NOT_DIGIT).sum()) if classes > NOT_DIGIT else 0,
    }


def print_evaluation(result: dict, count: int) -> None:
    errors = round((1 - result["accuracy"]) * count)
    print(f"test accuracy: {result['accuracy'] * 100:.2f}% ({errors} errors in {count} images)")
    print("per-class accuracy:")
    for digit, accuracy in enumerate(result["per_class"]):
        print(f"  {digit}: {accuracy * 100:6.2f}%")
    if result["confusion"].shape[1] > NOT_DIGIT:
        print(f"refused as not a digit: {result['refused']}")
    print("confusion matrix (rows: true digit, columns: predicted; ' no': not a digit):")
    names = [str(d) for d in range(10)] + ["no"] * (result["confusion"].shape[1] - 10)
    print("      " + "".join(f"{d:>6}" for d in names))
    for digit, row in enumerate(result["confusion"]):
        print(f"  {digit}: " + "".join(f"{v:>6}" for v in row))
