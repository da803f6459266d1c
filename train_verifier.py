"""Train the cut verifier: a small nnlite network that answers "is this piece one whole digit?".

    python train_verifier.py                 # writes weights/digit_verifier.npz (~5 min)

The digit classifier alone is a poor judge of where touching digits should be cut: it is
confident about half a digit, or two digits squeezed together, too. The verifier is trained
on exactly the pieces the number reader considers. Rows of 2-3 touching MNIST *training*
digits are made (``training.synth``); every span between candidate cuts becomes a 28x28
piece, as the reader would see it, labelled 1 when it holds one whole digit and nothing of
its neighbours, 0 when it holds a fragment or parts of two digits (ambiguous spans are left
out). Single digits on their own are added as positives. The reader then adds the
verifier's log-probability to the classifier's when it scores a cut.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nnlite as nl
from training.verifier import DEFAULT_OUT, train


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
