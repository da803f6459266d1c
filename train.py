"""Train the shipped MNIST model with nnlite, or evaluate a saved one.

    python train.py                                  # weights/mnist_cnn.npz's first stage
    python train.py --epochs 1 --limit 2000          # a quick experiment
    python train.py --resume                         # continue from the last checkpoint
    python train.py --evaluate weights/mnist_cnn.npz # accuracy, per class, confusion matrix
    python train.py --extra corrections/             # fine-tune on app.py --export-corrections
    python train.py --evaluate weights/mnist_cnn.npz --calibration docs/calibration.png

The model has eleven outputs: the ten digits and *not a digit*, trained on synthesized
letters, symbols, doodles, specks, digit fragments and overlapping digits
(``training/negatives.py``, cached under ``build/negatives/``). The last ``--holdout``
training digits are kept out of training: after the last epoch a temperature is fitted on
them (and on held-out negatives) and folded into the last layer, so the confidences are
calibrated (``training/calibration.py``), and the not-a-digit threshold is measured on them.
The work is done in ``training/digits.py``; this file is its command line.

A checkpoint (model, optimizer, epoch, history) is written after every epoch next to the
output as ``<out>.ckpt.npz``; Ctrl-C saves one before exiting, and ``--resume`` continues.
The same seed and data give the same weights.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nnlite as nl
from training.digits import DEFAULT_FINETUNED, DEFAULT_OUT, ROOT, run_evaluation, train
from training.loop import BATCH_SIZE


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="passes over the training set (10; 2 with --extra)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=BATCH_SIZE, help=f"images per step ({BATCH_SIZE})"
    )
    parser.add_argument(
        "--lr", type=float, default=None, help="peak Adam learning rate (2e-3; 2e-4 with --extra)"
    )
    parser.add_argument("--warmup", type=float, help="warm-up epochs (1; 0.1 with --extra)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--data", type=Path, default=None, help="directory of the MNIST files")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"model file ({DEFAULT_OUT.relative_to(ROOT)}; "
        f"{DEFAULT_FINETUNED.relative_to(ROOT)} with --extra)",
    )
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    parser.add_argument(
        "--eval-limit", type=int, default=None, help="test on the first N test images per epoch"
    )
    parser.add_argument("--no-augment", action="store_true", help="train on the images as they are")
    parser.add_argument("--resume", action="store_true", help="continue from <out>.ckpt.npz")
    parser.add_argument(
        "--evaluate", type=Path, metavar="MODEL", help="evaluate a saved model and exit"
    )
    parser.add_argument(
        "--mistakes",
        type=Path,
        metavar="PNG",
        help="with --evaluate: also draw the misclassified test digits, with true and "
        "predicted labels, as a picture grid",
    )
    parser.add_argument(
        "--negatives",
        type=int,
        default=30_000,
        help="synthesized not-a-digit images to train the eleventh output on (30000; "
        "0 trains a ten-digit model)",
    )
    parser.add_argument(
        "--judge",
        type=Path,
        metavar="MODEL",
        help="a digit classifier that throws away synthesized fragments and overlaps it reads "
        "as a digit (default: the --init model, if any)",
    )
    parser.add_argument(
        "--styles", type=int, default=10_000, help="digits in styles MNIST lacks: 10000"
    )
    parser.add_argument(
        "--fonts", type=int, default=0, help="digits in handwriting fonts (training.fonts): 0"
    )
    parser.add_argument("--photographed", type=int, default=0, help="digits from photos: 0")
    parser.add_argument(
        "--holdout",
        type=int,
        default=5_000,
        help="training digits kept out of training to fit the temperature on (5000)",
    )
    parser.add_argument(
        "--calibration",
        type=Path,
        metavar="PNG",
        help="with --evaluate: draw a reliability diagram (accuracy against confidence) and "
        "print the expected calibration error",
    )
    finetune = parser.add_argument_group("fine-tuning on users' corrections")
    finetune.add_argument(
        "--extra",
        type=Path,
        metavar="DIR",
        help="corrected samples (DIR/<digit>/*.png, from app.py --export-corrections)",
    )
    finetune.add_argument(
        "--init",
        type=Path,
        metavar="MODEL",
        help=f"start from this model (default with --extra: {DEFAULT_OUT.relative_to(ROOT)})",
    )
    finetune.add_argument(
        "--replay",
        type=int,
        default=10_000,
        help="MNIST training images mixed with the extra samples, so nothing is forgotten (10000)",
    )
    args = parser.parse_args(argv)
    if args.mistakes is not None and args.evaluate is None:
        parser.error("--mistakes needs --evaluate MODEL")
    if args.calibration is not None and args.evaluate is None:
        parser.error("--calibration needs --evaluate MODEL")
    if args.extra is not None and args.init is None:
        args.init = DEFAULT_OUT
    fine_tuning = args.extra is not None
    args.epochs = args.epochs if args.epochs is not None else (2 if fine_tuning else 10)
    args.lr = args.lr if args.lr is not None else (2e-4 if fine_tuning else 2e-3)
    args.out = args.out or (DEFAULT_FINETUNED if fine_tuning else DEFAULT_OUT)
    limits = [value for value in (args.limit, args.eval_limit) if value is not None]
    if min([args.epochs, args.batch_size, args.lr, args.replay, *limits]) <= 0:
        parser.error(
            "--epochs, --batch-size, --lr, --limit, --eval-limit and --replay must be positive"
        )
    counts = [args.negatives, args.holdout, args.styles, args.fonts, args.photographed]
    if min(*counts, args.warmup or 0) < 0:
        parser.error("--negatives, --holdout, --styles, --fonts, --photographed, --warmup: >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run_evaluation(args) if args.evaluate else train(args)
    except nl.data.MnistError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
