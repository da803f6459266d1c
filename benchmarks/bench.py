"""Speed of nnlite on the reference network, beside PyTorch on the same CPU when installed.

    python benchmarks/bench.py [--repeats N]

Times, for the network of the nnlite issue (conv 32-32-pool-64-64-pool, dense 256, 10):
one training step at batch 128 (forward, loss, backward, Adam), inference of 1 image and
inference of 1000 images; then the same for the shipped model (with batch norm), and the
reference engine against the fast one. Each figure is the median time per call after
warm-up. PyTorch, when importable, runs the same networks
with as many threads as nnlite gets (the machine's cores), taking turns with nnlite a block
of calls at a time, so that a slow spell of a shared machine falls on both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnlite as nl  # noqa: E402
from training.models import build_model, reference_network  # noqa: E402

BATCH = 128


#: A measure: (set-up run before each block of calls, the timed call).
Measure = tuple[Callable[[], object], Callable[[], object]]
#: Timed calls per turn, for each measure.
CALLS_PER_TURN = {"train step, batch 128": 2, "inference, 1 image": 20, "inference, 1000 images": 2}


def interleaved_medians(
    libraries: list[Measure], calls: int, rounds: int, warmup: int = 2
) -> list[float]:
    """The median seconds per call of each library's timed call.

    The libraries take turns, a block of calls each, ``rounds`` times: on a shared machine a
    slow spell then falls on both, instead of on whichever happened to be running.
    """
    times: list[list[float]] = [[] for _ in libraries]
    for setup, action in libraries:
        setup()
        for _ in range(warmup):
            action()
    for _ in range(rounds):
        for (setup, action), bucket in zip(libraries, times, strict=True):
            setup()
            action()  # untimed: the other library's idle threads may still be spinning
            for _ in range(calls):
                start = time.perf_counter()
                action()
                bucket.append(time.perf_counter() - start)
    return [statistics.median(bucket) for bucket in times]


def nnlite_measures(model: nl.Sequential) -> dict[str, Measure]:
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    loss_fn, optimizer = nl.CrossEntropyLoss(), nl.Adam(model.parameters(), lr=1e-3)

    def train_step() -> None:
        loss_fn.forward(model.forward(x), y)
        model.backward(loss_fn.backward())
        optimizer.step()
        optimizer.zero_grad()

    one = rng.random((1, 1, 28, 28), dtype=np.float32)
    thousand = rng.random((1000, 1, 28, 28), dtype=np.float32)
    return {
        "train step, batch 128": (model.train, train_step),
        "inference, 1 image": (model.eval, lambda: model.predict(one)),
        "inference, 1000 images": (model.eval, lambda: model.predict(thousand)),
    }


def torch_measures(batch_norm: bool) -> dict[str, Measure] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(os.cpu_count() or 1)
    nn = torch.nn

    def block(i: int, o: int) -> list:
        return [
            nn.Conv2d(i, o, 3, padding=1),
            *([nn.BatchNorm2d(o)] if batch_norm else []),
            nn.ReLU(),
        ]

    model = nn.Sequential(
        *block(1, 32), *block(32, 32), nn.MaxPool2d(2), *block(32, 64), *block(64, 64),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3136, 256), nn.ReLU(),
        nn.Dropout(0.4 if batch_norm else 0.5), nn.Linear(256, 10),
    )  # fmt: skip
    x, y = torch.rand(BATCH, 1, 28, 28), torch.randint(0, 10, (BATCH,))
    loss_fn, optimizer = nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-3)

    def train_step() -> None:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    def infer(batch: torch.Tensor) -> None:
        with torch.no_grad():
            torch.softmax(model(batch), dim=1)

    one, thousand = torch.rand(1, 1, 28, 28), torch.rand(1000, 1, 28, 28)
    return {
        "train step, batch 128": (model.train, train_step),
        "inference, 1 image": (model.eval, lambda: infer(one)),
        "inference, 1000 images": (model.eval, lambda: infer(thousand)),
    }


def format_time(seconds: float) -> str:
    if seconds < 0.01:  # single images: a tenth of a millisecond would hide the difference
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats",
        type=int,
        default=10,
        help="turns per figure (10); a turn times 2 calls, 20 for one image",
    )
    args = parser.parse_args()
    try:
        import torch

        torch_note = f"PyTorch {torch.__version__}"
    except ImportError:
        torch_note = "PyTorch is not installed: no reference column (pip install torch, CPU build)"
    print(
        f"nnlite {nl.__version__}, NumPy {np.__version__}, {os.cpu_count()} CPU cores; {torch_note}"
    )
    print()
    print("| network | measure | nnlite | PyTorch | nnlite / PyTorch |")
    print("|---|---|---:|---:|---:|")
    for name, model, batch_norm in [
        ("issue reference", reference_network(), False),
        ("shipped (batch norm)", build_model(), True),
    ]:
        ours, theirs = nnlite_measures(model), torch_measures(batch_norm)
        for measure, timed in ours.items():
            libraries = [timed] + ([theirs[measure]] if theirs else [])
            calls = CALLS_PER_TURN[measure]
            seconds, *others = interleaved_medians(libraries, calls, args.repeats)
            reference = others[0] if others else None
            ratio = f"{seconds / reference:.2f}x" if reference else "n/a"
            torch_cell = format_time(reference) if reference else "n/a"
            print(
                f"| {name} | {measure} | {format_time(seconds)} | {torch_cell} | {ratio} |",
                flush=True,
            )
    print()
    engine_table(args.repeats)
    print()
    recognition_table()


def engine_table(repeats: int) -> None:
    """The reference engine (the textbook, one thread) against the fast one, same network."""
    print("| shipped network | measure | reference engine | fast engine | reference / fast |")
    print("|---|---|---:|---:|---:|")
    model = build_model()
    ours = nnlite_measures(model)
    for measure in ("train step, batch 128", "inference, 1000 images"):
        setup, action = ours[measure]

        def on(engine: str, action: Callable[[], object] = action) -> Callable[[], object]:
            def run() -> object:
                nl.set_engine(engine)
                try:
                    return action()
                finally:
                    nl.set_engine("fast")

            return run

        reference, fast = interleaved_medians(
            [(setup, on("reference")), (setup, on("fast"))], CALLS_PER_TURN[measure], repeats
        )
        print(
            f"| shipped | {measure} | {format_time(reference)} | {format_time(fast)} | "
            f"{reference / fast:.1f}x |",
            flush=True,
        )


def recognition_table() -> None:
    """The recognition pipeline's throughput (benchmarks/pipeline_throughput.py)."""
    sys.path.append(str(Path(__file__).resolve().parent))
    import pipeline_throughput

    pipeline_throughput.main()


if __name__ == "__main__":
    main()
