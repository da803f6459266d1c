"""Average the weights of models fine-tuned from one start (a "model soup").

    python -m training.average OUT.npz A.npz:0.5 B.npz:0.3 C.npz:0.2

Models fine-tuned from the same weights stay close enough that the average of their
parameters (and batch-norm statistics) is a model too, and often keeps what each learnt
better than any one of them (Wortsman et al., 2022). The shares are normalised to sum to 1;
the metadata of the first model is kept, with an ``averaged`` entry naming the parts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import nnlite as nl


def average_models(paths: list[Path], shares: list[float]) -> nl.Sequential:
    """The weighted average of the models at ``paths`` (same layers and shapes): every
    parameter and buffer is ``sum(share_i * array_i) / sum(shares)``, computed in float64."""
    if len(paths) != len(shares) or not paths:
        raise ValueError("give one share for each model, and at least one model")
    if min(shares) < 0 or sum(shares) <= 0:
        raise ValueError("shares must be non-negative and not all zero")
    models = [nl.load(path) for path in paths]
    states = [model.state_dict() for model in models]
    keys = set(states[0])
    for path, state in zip(paths[1:], states[1:], strict=True):
        if set(state) != keys or any(state[k].shape != states[0][k].shape for k in keys):
            raise ValueError(f"{path} does not have the layers of {paths[0]}")
    total = float(sum(shares))
    averaged = {
        key: (
            sum(
                share * state[key].astype(np.float64)
                for share, state in zip(shares, states, strict=True)
            )
            / total
        ).astype(states[0][key].dtype)
        for key in keys
    }
    result = models[0]
    result.load_state_dict(averaged)
    result.metadata = dict(result.metadata or {})
    result.metadata["averaged"] = {
        "of": [str(path) for path in paths],
        "weights": [round(share / total, 4) for share in shares],
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("parts", nargs="+", metavar="MODEL.npz:SHARE")
    args = parser.parse_args(argv)
    paths, shares = [], []
    for part in args.parts:
        path, _, share = part.rpartition(":")
        try:
            paths.append(Path(path))
            shares.append(float(share))
        except ValueError:
            parser.error(f"{part}: expected MODEL.npz:SHARE, e.g. a.npz:0.5")
    try:
        model = average_models(paths, shares)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    model.save(args.out)
    print(
        f"saved {args.out}: {', '.join(f'{p} x {s:g}' for p, s in zip(paths, shares, strict=True))}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
