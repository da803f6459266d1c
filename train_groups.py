"""Train the group reader: an nnlite network that reads up to six touching digits whole.

    python train_groups.py                   # writes weights/group_reader.npz (~35 min)
    python train_groups.py --resume          # go on after an interruption
    python train_groups.py --init weights/group_reader.npz   # fine-tune the shipped one
    python train_groups.py --judge --not-digit-groups 60000   # weights/group_judge.npz
    python train_groups.py --columns         # weights/column_reader.npz (CTC, no positions)

A straight cut cannot separate touching digits whose strokes overlap; the group reader does
not cut. Rows of two to six MNIST *training* digits are squeezed until their strokes
meet or cross, single digits are stretched wide, and each group is made into the reader's
28x84 input (``recognition.groups.to_group_input``), labelled with its digits left to right
and "no digit" for the positions after them. The synthesized groups are kept in
``build/groups/`` between runs. A checkpoint is written after every epoch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nnlite as nl
from training.groups import (
    DEFAULT_COLUMNS_OUT,
    DEFAULT_JUDGE_OUT,
    DEFAULT_OUT,
    POSITIONS,
    ROOT,
    train,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--groups", type=int, default=120_000, help="synthesized groups")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--positions",
        type=int,
        default=POSITIONS,
        help=f"digits read per group ({POSITIONS}, as the number reader expects)",
    )
    parser.add_argument("--data", type=Path, default=None, help="directory of the MNIST files")
    parser.add_argument(
        "--out", type=Path, default=None, help=f"default {DEFAULT_OUT} ({DEFAULT_JUDGE_OUT})"
    )
    parser.add_argument("--cache", type=Path, default=ROOT / "build" / "groups")
    parser.add_argument("--resume", action="store_true", help="go on from the checkpoint")
    parser.add_argument(
        "--font-groups",
        type=int,
        default=0,
        help="groups more, of digits written in the handwriting fonts of training/fonts.py's "
        "TRAIN families (Debian's fonts-* packages); 0: none",
    )
    parser.add_argument(
        "--not-digit-groups",
        type=int,
        default=0,
        help="groups more that hold no digit (letters, symbols, doodles from "
        "training/negatives.py), read as 'no digit' at every position; 0: none",
    )
    parser.add_argument(
        "--judge",
        action="store_true",
        help="train the group judge (are these digits at all?) on the same groups and the "
        "--not-digit-groups, instead of the group reader",
    )
    parser.add_argument(
        "--columns",
        action="store_true",
        help="train the column reader (a CTC reader of the group's 21 columns) on the same "
        "groups, instead of the group reader",
    )
    parser.add_argument(
        "--init", type=Path, default=None, help="fine-tune this group reader instead of a new one"
    )
    parser.add_argument(
        "--conv-channels",
        type=int,
        default=64,
        help="channels of the last two convolutions (with --init: widened to this many, "
        "the trained channels kept)",
    )
    parser.add_argument(
        "--hidden",
        type=int,
        default=256,
        help="units of the dense layer before the heads (with --init: widened to this many, "
        "the trained units kept)",
    )
    args = parser.parse_args(argv)
    if min(args.groups, args.epochs, args.lr, args.positions, args.hidden, args.conv_channels) <= 0:
        parser.error(
            "--groups, --epochs, --lr, --positions, --hidden and --conv-channels must be positive"
        )
    if min(args.font_groups, args.not_digit_groups) < 0:
        parser.error("--font-groups and --not-digit-groups cannot be negative")
    if args.judge and not args.not_digit_groups:
        parser.error("--judge learns from groups with no digit: give --not-digit-groups")
    if args.judge and args.columns:
        parser.error("--judge and --columns train different networks: give one")
    if args.out is None:
        args.out = (
            DEFAULT_JUDGE_OUT
            if args.judge
            else DEFAULT_COLUMNS_OUT
            if args.columns
            else DEFAULT_OUT
        )
    try:
        return train(args)
    except nl.data.MnistError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
