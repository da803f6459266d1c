"""Training the digit classifier (``train.py``): MNIST with augmentation and synthesized
not-a-digit images, a held-out set for the temperature and the not-a-digit threshold,
fine-tuning on users' corrections, and the evaluation with its pictures."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

import nnlite as nl
from recognition.recognizer import NOT_DIGIT_OUTPUT as NOT_DIGIT
from recognition.recognizer import NOT_DIGIT_THRESHOLD
from training.augment import AugmentConfig, augment_batch
from training.calibration import (
    expected_calibration_error,
    fit_temperature,
    fold_temperature,
    last_dense,
    log_softmax,
    logits_of,
    reliability_diagram,
)
from training.checkpoints import (
    checkpoint_path,
    code_hash,
    data_checksum,
    load_checkpoint,
    save_checkpoint,
)
from training.fonts import font_set
from training.loop import (
    ProgressBar,
    evaluate,
    format_seconds,
    print_evaluation,
    train_epoch,
)
from training.models import build_model, widen_classifier
from training.photographed import cached_photographed_set
from training.samples import load_samples
from training.styles import styled_set

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "weights" / "mnist_cnn.npz"
MAX_MISTAKES_SHOWN = 200  # tiles in the --mistakes picture (a weak model has thousands)
DEFAULT_FINETUNED = ROOT / "weights" / "mnist_cnn_finetuned.npz"
#: Where synthesized not-a-digit images are kept between runs (``DIGITS_NEGATIVES_CACHE``
#: moves it, e.g. for tests).
NEGATIVES_CACHE = Path(os.environ.get("DIGITS_NEGATIVES_CACHE", ROOT / "build" / "negatives"))
#: Where photographed training digits (``--photographed``) are kept between runs.
PHOTOGRAPHED_CACHE = ROOT / "build" / "photographed"
#: Held-out not-a-digit images made (with another seed) to fit the temperature on.
HELD_OUT_NEGATIVES = 3_000
#: The share of clean held-out digits the not-a-digit output may refuse (not_digit_shift()).
MAX_DIGITS_REFUSED = 0.001


def mix_extra(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_extra: np.ndarray,
    y_extra: np.ndarray,
    replay: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The fine-tuning set: ``replay`` random MNIST training images (so that the model does
    not forget MNIST) and the extra samples repeated until they are about a tenth of it (at
    most 50 times each; augmentation makes the repeats differ). ``(N, 28, 28)`` uint8 and
    ``(N,)`` labels, shuffled by the epochs' batches."""
    rng = np.random.default_rng([seed, 7])
    keep = rng.permutation(len(x_train))[: min(replay, len(x_train))]
    repeats = int(np.clip(round(0.1 * len(keep) / len(x_extra)), 1, 50))
    images = np.concatenate([x_train[keep], np.repeat(x_extra, repeats, axis=0)])
    labels = np.concatenate([y_train[keep], np.repeat(y_extra, repeats, axis=0)])
    return images, labels


def load_start(args: argparse.Namespace) -> nl.Sequential:
    """A fresh model, or the ``--init`` model to fine-tune (a ten-digit one gains the
    not-a-digit output when ``--negatives`` asks for it)."""
    classes = 11 if args.negatives else 10
    if args.init is None:
        return build_model(classes)
    model = nl.load(args.init)
    print(f"starting from {args.init}")
    outputs = model.predict(np.zeros((1, 1, 28, 28), np.float32)).shape[1]
    if outputs < classes:
        print(f"adding the not-a-digit output to its {outputs}")
        model = widen_classifier(model, classes)
    return model


def split_holdout(
    images: np.ndarray, labels: np.ndarray, holdout: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The last ``holdout`` images (at most a tenth of them) kept out of training:
    ``(train images, train labels, held-out images, held-out labels)``."""
    holdout = min(holdout, len(images) // 10)
    cut = len(images) - holdout
    return images[:cut], labels[:cut], images[cut:], labels[cut:]


def load_negatives(
    count: int, seed: int, digits: np.ndarray, labels: np.ndarray, judge: nl.Sequential | None
) -> np.ndarray:
    """``(count, 28, 28)`` uint8 synthesized not-a-digit inputs (``negatives.py``), cached in
    NEGATIVES_CACHE under a name that changes with the generator's code and its inputs."""
    from training import negatives

    if count == 0:
        return np.zeros((0, 28, 28), np.uint8)
    name = (
        f"{code_hash(negatives)}-{seed}-{count}-{len(digits)}-{'judged' if judge else 'plain'}.npz"
    )
    path = NEGATIVES_CACHE / name
    if path.is_file():
        try:
            with np.load(path) as cached:
                return cached["images"]
        except (OSError, ValueError, KeyError):
            pass  # remade below
    bar = ProgressBar(count, "not-a-digit images")
    images, _ = negatives.make_negatives(
        count,
        seed,
        digits,
        labels,
        judge=None if judge is None else judge.predict,
        progress=lambda done: bar.update(done, None, done),
    )
    NEGATIVES_CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    np.savez_compressed(partial, images=images)
    partial.replace(path)
    return images


def not_digit_shift(logits: np.ndarray) -> float:
    """How much to lower the not-a-digit logit (steps of 0.25, at most 8) so that at most
    MAX_DIGITS_REFUSED of these held-out digits' ``(N, 11)`` logits are refused: a real digit
    refused is worse than a doodle read as a digit."""
    margin = logits[:, NOT_DIGIT] - logits[:, :NOT_DIGIT].max(axis=1)
    for shift in np.arange(0.0, 8.01, 0.25):
        if (margin > shift).mean() <= MAX_DIGITS_REFUSED:
            return float(shift)
    return 8.0


def calibrate(
    model: nl.Sequential,
    digits: np.ndarray,
    labels: np.ndarray,
    not_digits: np.ndarray,
    seed: int,
) -> dict:
    """Fit a temperature on held-out data and fold it into ``model``. The held-out set is the
    digits ``(N, 28, 28)`` as they are and once more randomly warped (real inputs are rarely
    as clean as MNIST), and the held-out not-a-digit images. First the not-a-digit output's
    bias is lowered by :func:`not_digit_shift` of the clean held-out digits (a prior shift,
    chosen on held-out data, never the test set). Returns the shift, the temperature and what
    they did to the held-out calibration error and refusals."""
    rng = np.random.default_rng([seed, 99])
    clean = nl.data.to_images(digits)
    warped = augment_batch(clean, rng, AugmentConfig())
    images = np.concatenate([clean, warped, nl.data.to_images(not_digits)])
    truth = np.concatenate([labels, labels, np.full(len(not_digits), NOT_DIGIT)])
    logits = logits_of(model, images).astype(np.float64)
    report = {"images": len(truth), "not_digit_shift": 0.0}
    if len(not_digits):
        report["not_digit_shift"] = shift = not_digit_shift(logits[: len(digits)])
        logits[:, NOT_DIGIT] -= shift
        last_dense(model).bias.data[NOT_DIGIT] -= np.float32(shift)
    temperature = fit_temperature(logits, truth)
    fold_temperature(model, temperature)
    report["temperature"] = round(temperature, 4)
    for name, t in (("before", 1.0), ("after", temperature)):
        probabilities = np.exp(log_softmax(logits / t))
        confidence, predicted = probabilities.max(axis=1), probabilities.argmax(axis=1)
        report[f"ece_{name}"] = round(expected_calibration_error(confidence, predicted == truth), 5)
    if logits.shape[1] > NOT_DIGIT:  # a ten-digit model refuses nothing
        calibrated = np.exp(log_softmax(logits / temperature))
        refused = calibrated[:, NOT_DIGIT] >= NOT_DIGIT_THRESHOLD
        is_digit = truth != NOT_DIGIT
        report["digits_refused"] = round(float(refused[is_digit].mean()), 5)
        report["not_digits_refused"] = (
            round(float(refused[~is_digit].mean()), 5) if (~is_digit).any() else None
        )
    return report


def train(args: argparse.Namespace) -> int:
    (x_train, y_train), (x_test, y_test) = nl.data.load_mnist(args.data)
    if args.limit:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    if args.eval_limit:
        x_test, y_test = x_test[: args.eval_limit], y_test[: args.eval_limit]
    extra = None
    augment = None if args.no_augment else AugmentConfig()
    nl.seed(args.seed)
    try:
        if args.extra is not None:
            extra = load_samples(args.extra)
        model = load_start(args)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    x_train, y_train, x_hold, y_hold = split_holdout(x_train, y_train, args.holdout)
    digits = (x_train, y_train)  # for the fragments and overlaps of the negatives
    if extra is not None:
        x_train, y_train = mix_extra(x_train, y_train, *extra, args.replay, args.seed)
        print(f"fine-tuning on {len(extra[1])} extra samples from {args.extra}")
        before = evaluate(model, *extra)["accuracy"]
        print(f"extra samples right before fine-tuning: {before * 100:.1f}%")
    styles = min(args.styles, len(x_train) // 5)  # at most a sixth of the digits
    if styles:
        styled, styled_labels = styled_set(*digits, styles, args.seed + 17)
        x_train = np.concatenate([x_train, styled])
        y_train = np.concatenate([y_train, styled_labels.astype(y_train.dtype)])
        print(f"with {len(styled)} digits in styles MNIST lacks (training.styles)")
    fonts = min(args.fonts, len(x_train) // 5)
    if fonts:
        try:
            written, written_labels = font_set(fonts, args.seed + 23)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        x_train = np.concatenate([x_train, written])
        y_train = np.concatenate([y_train, written_labels.astype(y_train.dtype)])
        print(f"with {len(written)} digits in handwriting fonts (training.fonts)")
    if args.photographed:
        photos, photo_labels = cached_photographed_set(
            *digits, args.photographed, args.seed + 41, PHOTOGRAPHED_CACHE
        )
        x_train = np.concatenate([x_train, photos])
        y_train = np.concatenate([y_train, photo_labels.astype(y_train.dtype)])
        print(f"with {len(photos)} digits photographed and read back (training.photographed)")
    negatives_count = min(args.negatives, len(x_train) // 2)
    judge = nl.load(args.judge) if args.judge else (model if args.init is not None else None)
    not_digits = load_negatives(negatives_count, args.seed, *digits, judge)
    held_out_not_digits = load_negatives(
        min(HELD_OUT_NEGATIVES, negatives_count), args.seed + 1000, *digits, judge
    )
    if len(not_digits):
        print(f"with {len(not_digits)} not-a-digit images; {len(x_hold)} digits held out")
        x_train = np.concatenate([x_train, not_digits])
        y_train = np.concatenate([y_train, np.full(len(not_digits), NOT_DIGIT, y_train.dtype)])
    optimizer = nl.Adam(model.parameters(), lr=args.lr)
    ckpt = checkpoint_path(args.out)
    state = {"epoch": 0, "history": [], "train_seconds": 0.0}
    if args.resume:
        if not ckpt.is_file():
            print(f"error: --resume given but there is no checkpoint at {ckpt}", file=sys.stderr)
            return 2
        state = load_checkpoint(ckpt, model, optimizer)
        print(f"resuming from {ckpt} after epoch {state['epoch']}")
    x_all = nl.data.to_images(x_train)
    warmup = args.warmup if args.warmup is not None else (0.1 if extra is not None else 1.0)
    steps_per_epoch = math.ceil(len(x_all) / args.batch_size)
    print(f"training on {len(x_all)} images, {args.epochs} epochs of {steps_per_epoch} steps")
    epoch = state["epoch"]
    try:
        while epoch < args.epochs:
            # Each epoch draws from its own seeded generators, so a resumed run repeats exactly.
            rng = np.random.default_rng([args.seed, epoch])
            nl.seed(args.seed * 100_003 + epoch)
            started = time.perf_counter()
            running_loss = train_epoch(
                model,
                optimizer,
                x_all,
                y_train,
                epoch=epoch,
                epochs=args.epochs,
                base_lr=args.lr,
                rng=rng,
                batch_size=args.batch_size,
                warmup=warmup,
                transform=None if augment is None else partial(augment_batch, config=augment),
            )
            state["train_seconds"] += time.perf_counter() - started
            result = evaluate(model, x_test, y_test)
            epoch += 1
            state["epoch"] = epoch
            state["history"].append(
                {"epoch": epoch, "loss": running_loss, "test_accuracy": result["accuracy"]}
            )
            print(f"epoch {epoch}: test accuracy {result['accuracy'] * 100:.2f}%", flush=True)
            save_checkpoint(ckpt, model, optimizer, state)
    except KeyboardInterrupt:
        save_checkpoint(ckpt, model, optimizer, state)
        print(
            f"\ninterrupted: checkpoint saved to {ckpt} (epoch {epoch} restarts); "
            "run again with --resume",
            file=sys.stderr,
        )
        return 130
    calibration = None
    if len(x_hold):
        calibration = calibrate(model, x_hold, y_hold, held_out_not_digits, args.seed)
        print(
            f"temperature {calibration['temperature']:.3f} fitted on {calibration['images']} "
            f"held-out images: calibration error {calibration['ece_before'] * 100:.2f}% -> "
            f"{calibration['ece_after'] * 100:.2f}%"
        )
        state["history"][-1]["test_accuracy"] = evaluate(model, x_test, y_test)["accuracy"]
    classes = [str(d) for d in range(10)] + (["not a digit"] if len(not_digits) else [])
    model.metadata = {
        "input": "(N, 1, 28, 28) float32 in [0, 1], white ink on black, MNIST-style centred",
        "classes": classes,
        "not_digit_images": len(not_digits),
        "held_out_digits": len(x_hold),
        "calibration": calibration,
        "data": {"name": "MNIST", "sha256": data_checksum(), "train_images": len(x_all)},
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "augmentation": augment.as_dict() if augment else None,
        "styled_digits": styles,
        "font_digits": fonts,
        "photographed_digits": args.photographed,
        "test_accuracy": state["history"][-1]["test_accuracy"],
        "fine_tuned_from": str(args.init) if args.init else None,
        "extra_samples": None if extra is None else len(extra[1]),
        "history": state["history"],
        "train_seconds": round(state["train_seconds"], 1),
        "library_version": nl.__version__,
    }
    if extra is not None:
        after = evaluate(model, *extra)["accuracy"]
        print(f"extra samples right after fine-tuning: {after * 100:.1f}%")
    model.save(args.out)
    print(
        f"saved {args.out} (test accuracy {model.metadata['test_accuracy'] * 100:.2f}%, "
        f"{format_seconds(state['train_seconds'])} of training)"
    )
    return 0


def run_evaluation(args: argparse.Namespace) -> int:
    try:
        model = nl.load(args.evaluate)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    _, (x_test, y_test) = nl.data.load_mnist(args.data)
    result = evaluate(model, x_test, y_test)
    print_evaluation(result, len(y_test))
    if args.calibration is not None:
        sets = calibration_sets(model, result, x_test, y_test)
        for name, (confidence, correct) in sets.items():
            ece = expected_calibration_error(confidence, correct)
            print(f"expected calibration error, {name}: {ece * 100:.2f}%")
        try:
            reliability_diagram(sets).save(args.calibration)
        except (OSError, ValueError) as error:
            print(f"error: cannot write {args.calibration}: {error}", file=sys.stderr)
            return 2
        print(f"wrote the reliability diagram to {args.calibration}")
    if args.mistakes is not None:
        wrong = np.flatnonzero(result["predicted"] != y_test)
        shown = wrong[:MAX_MISTAKES_SHOWN]
        grid = mistakes_grid(
            x_test[shown], y_test[shown], result["predicted"][shown], result["confidence"][shown]
        )
        try:
            grid.save(args.mistakes)
        except (OSError, ValueError) as error:
            print(f"error: cannot write {args.mistakes}: {error}", file=sys.stderr)
            return 2
        which = (
            f"the {len(wrong)}"
            if len(shown) == len(wrong)
            else f"the first {len(shown)} of the {len(wrong)}"
        )
        print(f"wrote {which} misclassified test digits to {args.mistakes}")
    return 0


#: Realistic images (photos, scans, sketches...) of MNIST test digits in the calibration check.
REALISTIC_PER_STYLE = 100


def calibration_sets(
    model: nl.Sequential, result: dict, x_test: np.ndarray, y_test: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``(confidence, correct)`` arrays for the reliability diagram: the MNIST test set, and
    realistic images of its digits (``training.realistic``: photos, chalk, transparent
    PNGs... read through the whole recognition pipeline)."""
    from recognition import Recognizer
    from training.realistic import STYLES, digit_image

    sets = {"MNIST test": (result["confidence"], result["predicted"] == y_test)}
    recognizer = Recognizer(model)
    rng = np.random.default_rng(2024)
    picks = rng.choice(len(x_test), REALISTIC_PER_STYLE * len(STYLES), replace=False)
    confidence, correct = [], []
    for index, style in zip(picks, np.repeat(STYLES, REALISTIC_PER_STYLE), strict=True):
        answer = recognizer.predict(digit_image(x_test[index], str(style), rng))
        if answer.probabilities is None:
            confidence.append(1.0)  # "no digit found" for a digit: a sure mistake
            correct.append(False)
            continue
        # All eleven answers: a digit refused as "not a digit" is a mistake.
        probabilities = np.append(answer.probabilities, answer.not_digit)
        confidence.append(float(probabilities.max()))
        correct.append(int(np.argmax(probabilities)) == int(y_test[index]))
    sets["realistic images"] = (np.array(confidence), np.array(correct))
    return sets


def mistakes_grid(
    images: np.ndarray,
    labels: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    columns: int = 10,
    scale: int = 3,
):
    """A picture of misclassified digits: ``(K, 28, 28)`` uint8 images (MNIST: white ink on
    black), each drawn dark on light with "true 7 / said 2 (86%)" under it. Returns a PIL
    image; an empty list gives a one-line note."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=13)
    cell_w, image_side, text_h = 28 * scale + 24, 28 * scale, 34
    cell_h = image_side + text_h + 8
    count = len(images)
    rows = max(1, -(-count // columns))
    grid = Image.new("RGB", (min(count, columns) * cell_w + 8 or 300, rows * cell_h + 8), "white")
    draw = ImageDraw.Draw(grid)
    if count == 0:
        draw.text((8, 8), "no mistakes", fill="black", font=font)
    for index in range(count):  # one tile per mistake (dozens), not per pixel
        left = 8 + (index % columns) * cell_w + 12
        top = 8 + (index // columns) * cell_h
        digit = Image.fromarray(255 - images[index]).resize((image_side, image_side))
        grid.paste(digit, (left, top))
        draw.rectangle((left - 1, top - 1, left + image_side, top + image_side), outline="#999")
        draw.text((left, top + image_side + 2), f"true {labels[index]}", fill="#166534", font=font)
        answer = "no digit" if predicted[index] == NOT_DIGIT else predicted[index]
        said = f"said {answer} ({confidence[index]:.0%})"
        draw.text((left, top + image_side + 17), said, fill="#b91c1c", font=font)
    return grid
