"""Training the group reader (``train_groups.py``): a network that reads a group of up to
six touching digits whole (``recognition.groups``). Its groups are synthesized from MNIST
*training* digits (``training.synth``): two to six digits squeezed until their strokes
meet or cross, and single digits stretched wide (a wide group may be one wide digit), each
cropped as the reader crops a group and made into the reader's ``(28, 84)`` input."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

import nnlite as nl
import recognition.groups
from recognition.groups import (
    BLANK,
    CLASSES,
    GROUP_HEIGHT,
    GROUP_WIDTH,
    POSITIONS,
    column_log_probs,
    digits_probability,
    head_probabilities,
    to_group_input,
)
from training import fonts, synth
from training.checkpoints import checkpoint_path, code_hash, load_checkpoint, save_checkpoint
from training.loop import ProgressBar, train_epoch
from training.models import (
    build_column_reader,
    build_group_judge,
    build_group_reader,
    widen_last_dense,
    wider_convs,
    wider_hidden,
)
from training.synth import group_crop, number_ink, pen_ink

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "weights" / "group_reader.npz"
DEFAULT_JUDGE_OUT = ROOT / "weights" / "group_judge.npz"
DEFAULT_COLUMNS_OUT = ROOT / "weights" / "column_reader.npz"
#: Shares of groups of one (often stretched), two and three digits, for a reader of three
#: positions; a reader of more positions (``--positions``) sees ROW_SIZES.
GROUP_SIZES = {1: 0.15, 2: 0.5, 3: 0.35}
#: Shares of groups of one to six digits for a reader of six positions (rows of four to six
#: touching digits, which a reader of three cannot read, and as many pairs and threes).
ROW_SIZES = {1: 0.08, 2: 0.2, 3: 0.2, 4: 0.2, 5: 0.17, 6: 0.15}


class HeadsCrossEntropyLoss:
    """Cross-entropy of each position's softmax, summed over the positions and averaged over
    the batch: ``forward(logits (N, P * CLASSES), labels (N, P)) -> float``,
    ``backward() -> (N, P * CLASSES)`` for P positions. Each position is an ordinary softmax
    classifier, so each head's gradient is ``p - t`` as in ``nl.CrossEntropyLoss``."""

    def __init__(self) -> None:
        self.inner = nl.CrossEntropyLoss()
        self.positions = POSITIONS

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        n, self.positions = labels.shape
        loss = self.inner.forward(logits.reshape(n * self.positions, CLASSES), labels.reshape(-1))
        return loss * self.positions

    def backward(self) -> np.ndarray:
        return self.inner.backward().reshape(-1, self.positions * CLASSES) * self.positions


def group_ink(digits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One group's ink ``(H, W)`` as the reader crops it: ``digits`` ``(K, 28, 28)`` squeezed
    until they touch (K >= 2), or one digit stretched to between 1.0 and 2.2 times its width
    (a wide 2 or 0 is one digit, not two)."""
    height = int(rng.integers(30, 110))
    if len(digits) == 1:
        ink = pen_ink(digits[0], height, rng)
        wide = max(2, round(ink.shape[1] * rng.uniform(1.0, 2.2)))
        ink = np.asarray(
            Image.fromarray(ink, mode="F").resize((wide, height), Image.Resampling.BILINEAR)
        )
    else:
        ink, _ = number_ink(digits, rng, touching=True, height=height, squeeze=0.2)
    return group_crop(ink)[0]


def make_groups(
    images: np.ndarray,
    labels: np.ndarray,
    count: int,
    seed: int,
    progress: bool = True,
    positions: int = POSITIONS,
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` synthesized groups: inputs ``(count, 28, 84)`` uint8 and labels
    ``(count, positions)`` (the digits left to right, then BLANK): groups of GROUP_SIZES
    digits for a reader of three positions, of ROW_SIZES for more."""
    rng = np.random.default_rng(seed)
    shares = GROUP_SIZES if positions <= max(GROUP_SIZES) else ROW_SIZES
    shares = {size: share for size, share in shares.items() if size <= positions}
    total = sum(shares.values())
    sizes = rng.choice(list(shares), size=count, p=[share / total for share in shares.values()])
    inputs = np.zeros((count, GROUP_HEIGHT, GROUP_WIDTH), dtype=np.uint8)
    targets = np.full((count, positions), BLANK, dtype=np.int64)
    bar = ProgressBar(count, "making groups") if progress else None
    for index, size in enumerate(sizes):
        picks = rng.choice(len(images), int(size), replace=False)
        group = to_group_input(group_ink(images[picks], rng))
        inputs[index] = np.round(group * 255).astype(np.uint8)
        targets[index, :size] = labels[picks]
        if bar is not None and ((index + 1) % 500 == 0 or index + 1 == count):
            bar.update(index + 1, None, index + 1)
    return inputs, targets


def not_digit_groups(
    count: int, seed: int, progress: bool = True, positions: int = POSITIONS
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` groups that hold no digit: a letter or symbol from a font, a letter written
    as pen strokes, or a doodle (``training.negatives``), alone or two side by side, made
    into the reader's input as a group is. Inputs ``(count, 28, 84)`` uint8, labels
    ``(count, positions)`` all BLANK: the group reader learns to say "no digit here" for
    a mark the classifier refuses, instead of finding digits in it (an A is not "14")."""
    from training.negatives import doodle, letter, written

    rng = np.random.default_rng([seed, 29])
    makers = (letter, written, doodle)
    inputs = np.zeros((count, GROUP_HEIGHT, GROUP_WIDTH), dtype=np.uint8)
    bar = ProgressBar(count, "groups with no digit") if progress else None
    done = 0
    while done < count:
        marks = [
            makers[int(rng.integers(len(makers)))](rng) for _ in range(1 + (rng.random() < 0.3))
        ]
        field = np.concatenate(marks, axis=1) if len(marks) > 1 else marks[0]
        if field.max() <= 0.25:
            continue
        inputs[done] = np.round(to_group_input(group_crop(field)[0]) * 255).astype(np.uint8)
        done += 1
        if bar is not None and (done % 500 == 0 or done == count):
            bar.update(done, None, done)
    return inputs, np.full((count, positions), BLANK, dtype=np.int64)


def more_positions(model: nl.Sequential, positions: int) -> nl.Sequential:
    """A copy of a trained group reader ``model`` that reads ``positions`` positions (its
    last Dense layer widened): its own positions keep their weights, and each new one starts
    as a copy of its last (which mostly reads BLANK: a group of fewer digits)."""

    def fill(old: nl.Dense, new: nl.Dense) -> None:
        had = old.out_features // CLASSES
        rows = [min(p, had - 1) * CLASSES + c for p in range(positions) for c in range(CLASSES)]
        new.weight.data[:] = old.weight.data[rows]
        new.bias.data[:] = old.bias.data[rows]

    return widen_last_dense(model, positions * CLASSES, fill)


def exact(model: nl.Sequential, inputs: np.ndarray, targets: np.ndarray) -> float:
    """The share of groups whose every position is read right."""
    predicted = np.concatenate(
        [
            head_probabilities(model, inputs[i : i + 500].astype(np.float32) / 255).argmax(2)
            for i in range(0, len(inputs), 500)
        ]
    )
    return float((predicted == targets).all(axis=1).mean())


def varied_strokes(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(N, 1, H, W)`` uint8 groups -> float32 in [0, 1], each group's strokes made a pixel
    thicker (a 2x2 dilation), thinner (half an erosion) or left as they are, and its ink
    dimmed to 55-100 %: the group judge's training. The synthesized letters' strokes are
    thinner than the synthesized digits', and the pipeline's groups vary in both ways (a
    photographed "10" comes thin and grey), so the judge must not tell digits by their pen."""
    ink = batch.astype(np.float32) / 255.0
    padded = np.pad(ink, ((0, 0), (0, 0), (0, 1), (0, 1)))
    shifted = [
        padded[..., y : y + ink.shape[2], x : x + ink.shape[3]] for y in (0, 1) for x in (0, 1)
    ]
    kind = rng.integers(0, 3, len(ink))[:, None, None, None]
    thicker, eroded = np.maximum.reduce(shifted), np.minimum.reduce(shifted)
    varied = np.where(kind == 0, thicker, np.where(kind == 1, (ink + eroded) / 2, ink))
    return (varied * rng.uniform(0.55, 1.0, (len(ink), 1, 1, 1))).astype(np.float32)


def read_by_columns(model: nl.Sequential, inputs: np.ndarray, targets: np.ndarray) -> float:
    """The share of groups ``(N, 28, 84)`` uint8 the column reader reads exactly (its best
    path, :func:`~nnlite.functional.ctc_greedy_decode`, against ``targets`` ``(N, P)``,
    the digits then BLANK)."""
    log_probs = column_log_probs(model, inputs.astype(np.float32) / 255)
    read = nl.functional.ctc_greedy_decode(log_probs, BLANK)
    wanted = [[int(d) for d in row if d != BLANK] for row in targets]
    return float(np.mean([a == b for a, b in zip(read, wanted, strict=True)]))


def judged(judge: nl.Sequential, inputs: np.ndarray, holds_digits: np.ndarray) -> float:
    """The share of groups ``(N, 28, 84)`` uint8 the group judge calls rightly: digits
    (``holds_digits`` ``(N,)`` 1) or none (0), at an even 0.5."""
    believed = digits_probability(judge, inputs.astype(np.float32) / 255)
    return float(((believed >= 0.5) == holds_digits.astype(bool)).mean())


def train(args: argparse.Namespace) -> int:
    (x_train, y_train), _ = nl.data.load_mnist(args.data)
    cut = len(x_train) - 5000  # the last 5000 training digits make the validation groups
    # (named by the generators' code: a change to how groups are made remakes them)
    code = code_hash(sys.modules[__name__], synth, recognition.groups, fonts)
    counts = f"{args.groups}-{args.font_groups}-{args.not_digit_groups}-{args.positions}"
    name = f"groups-{code}-{counts}-{args.seed}.npz"
    cache = args.cache / name
    if cache.is_file():
        with np.load(cache) as saved:
            x, y, x_val, y_val = saved["x"], saved["y"], saved["x_val"], saved["y_val"]
            x_val_not = (  # (caches written before the group judge have none)
                saved["x_val_not"]
                if "x_val_not" in saved.files
                else np.zeros((0, GROUP_HEIGHT, GROUP_WIDTH), dtype=np.uint8)
            )
    else:
        places = args.positions
        x, y = make_groups(x_train[:cut], y_train[:cut], args.groups, args.seed, positions=places)
        if args.font_groups:  # groups of digits written in the TRAIN handwriting fonts
            try:
                written, labels = fonts.font_set(args.font_groups, args.seed + 31)
            except ValueError as error:
                print(f"error: {error}", file=sys.stderr)
                return 2
            x_fonts, y_fonts = make_groups(
                written, labels, args.font_groups, args.seed + 2, positions=places
            )
            x, y = np.concatenate([x, x_fonts]), np.concatenate([y, y_fonts])
        if args.not_digit_groups:
            x_not, y_not = not_digit_groups(args.not_digit_groups, args.seed + 3, positions=places)
            x, y = np.concatenate([x, x_not]), np.concatenate([y, y_not])
        validation = max(200, min(3000, args.groups // 10))
        x_val, y_val = make_groups(
            x_train[cut:], y_train[cut:], validation, args.seed + 1, positions=places
        )
        x_val_not = np.zeros((0, GROUP_HEIGHT, GROUP_WIDTH), dtype=np.uint8)
        if args.not_digit_groups:  # (for the group judge's validation)
            x_val_not, _ = not_digit_groups(validation, args.seed + 4, positions=places)
        args.cache.mkdir(parents=True, exist_ok=True)
        np.savez(cache, x=x, y=y, x_val=x_val, y_val=y_val, x_val_not=x_val_not)
    checked = len(y_val) + (len(x_val_not) if args.judge else 0)
    print(f"{len(y)} groups for training, {checked} for validation", flush=True)
    nl.seed(args.seed)
    if args.judge:  # a group holds digits when its first position reads one
        targets, loss_fn, what = (y[:, 0] != BLANK).astype(np.int64), None, "judged rightly"
        x_check = np.concatenate([x_val, x_val_not])
        y_check = np.repeat(np.array([1, 0], dtype=np.int64), [len(x_val), len(x_val_not)])

        def measure(model: nl.Sequential) -> float:
            return judged(model, x_check, y_check)
    elif args.columns:
        targets, loss_fn, what = y, nl.CTCLoss(blank=BLANK), "read exactly"

        def measure(model: nl.Sequential) -> float:
            return read_by_columns(model, x_val, y_val)
    else:
        targets, loss_fn, what = y, HeadsCrossEntropyLoss(), "read exactly"

        def measure(model: nl.Sequential) -> float:
            return exact(model, x_val, y_val)

    if args.init is not None:
        try:
            model = nl.load(args.init)
        except (OSError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        if not (args.judge or args.columns):
            model = wider_hidden(more_positions(model, args.positions), args.hidden)
            model = wider_convs(model, args.conv_channels)
        print(f"fine-tuning {args.init} (validation groups {what}: {measure(model):.2%})")
    elif args.judge:
        model = build_group_judge()
    elif args.columns:
        model = build_column_reader(CLASSES, args.hidden)
    else:
        model = build_group_reader(args.positions, CLASSES, args.hidden, args.conv_channels)
    optimizer = nl.Adam(model.parameters(), lr=args.lr)
    checkpoint = checkpoint_path(args.out)
    start, spent = 0, 0.0
    if args.resume and checkpoint.is_file():
        state = load_checkpoint(checkpoint, model, optimizer)
        start, spent = int(state["epoch"]), float(state["seconds"])
        print(f"resuming after epoch {start}")
    images = x.reshape(-1, 1, GROUP_HEIGHT, GROUP_WIDTH)

    def to_float(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return batch.astype(np.float32) / 255.0

    transform = varied_strokes if args.judge else to_float

    accuracy = 0.0
    epoch = start
    try:
        while epoch < args.epochs:
            started = time.perf_counter()
            train_epoch(
                model,
                optimizer,
                images,
                targets,
                epoch=epoch,
                epochs=args.epochs,
                base_lr=args.lr,
                rng=np.random.default_rng([args.seed, epoch]),
                warmup=0.5,
                transform=transform,
                loss_fn=loss_fn,
            )
            spent += time.perf_counter() - started
            epoch += 1
            accuracy = measure(model)
            print(f"epoch {epoch}: validation groups {what} {accuracy:.2%}", flush=True)
            save_checkpoint(checkpoint, model, optimizer, {"epoch": epoch, "seconds": spent})
    except KeyboardInterrupt:
        print(
            f"\ninterrupted in epoch {epoch + 1}: the checkpoint {checkpoint} holds epoch "
            f"{epoch}; run again with --resume",
            file=sys.stderr,
        )
        return 130
    model.metadata = {
        "task": "judge whether a group holds digits: 2 classes (0 = no digits: a letter, a "
        "symbol, a doodle; 1 = one to six digits)"
        if args.judge
        else f"read a group of up to {args.positions} touching digits column by column: 21 "
        "steps x 11 classes (digits 0-9, then 10 = the CTC blank), read with CTC"
        if args.columns
        else f"read a group of up to {args.positions} touching digits: {args.positions} "
        "positions x 11 classes (digits 0-9, then 10 = no digit)",
        "input": "(N, 1, 28, 84) float32 in [0, 1], white ink on black, the group 20 px tall",
        "data": f"{args.groups} groups of 1-{args.positions} touching MNIST training digits"
        + (
            f" and {args.font_groups} of digits in handwriting fonts (training.fonts.TRAIN)"
            if args.font_groups
            else ""
        )
        + (
            f" and {args.not_digit_groups} with no digit (letters, symbols, doodles)"
            if args.not_digit_groups
            else ""
        ),
        "fine_tuned_from": str(args.init) if args.init else None,
        ("validation_judged" if args.judge else "validation_exact"): accuracy,
        "epochs": args.epochs,
        "seed": args.seed,
        "train_seconds": round(spent, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    checkpoint.unlink(missing_ok=True)
    print(f"saved {args.out} (validation groups {what} {accuracy:.2%})")
    return 0
