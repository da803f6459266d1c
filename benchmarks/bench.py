"""Speed of nnlite on the reference network, beside PyTorch on the same CPU when installed.

    python benchmarks/bench.py [--repeats N]

Times, for the network of the nnlite issue (conv 32-32-pool-64-64-pool, dense 256, 10):
one training step at batch 128 (forward, loss, backward, Adam), inference of 1 image and
inference of 1000 images; then the same for the shipped model (with batch norm). Each figure
is the median of several runs after warm-up. PyTorch, when importable, runs the same
networks with as many threads as NumPy's BLAS gets (the machine's cores).
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
from models import build_model, reference_network  # noqa: E402

BATCH = 128


def median_seconds(action: Callable[[], object], repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_nnlite(model: nl.Sequential, repeats: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    loss_fn, optimizer = nl.CrossEntropyLoss(), nl.Adam(model.parameters(), lr=1e-3)

    def train_step() -> None:
        model.train()
        loss_fn.forward(model.forward(x), y)
        model.backward(loss_fn.backward())
        optimizer.step()
        optimizer.zero_grad()

    one = rng.random((1, 1, 28, 28), dtype=np.float32)
    thousand = rng.random((1000, 1, 28, 28), dtype=np.float32)
    results = {"train step, batch 128": median_seconds(train_step, repeats)}
    model.eval()
    results["inference, 1 image"] = median_seconds(lambda: model.predict(one), repeats * 10)
    results["inference, 1000 images"] = median_seconds(lambda: model.predict(thousand), repeats)
    return results


def time_torch(batch_norm: bool, repeats: int) -> dict[str, float] | None:
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
        model.train()
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    def infer(batch: torch.Tensor) -> None:
        with torch.no_grad():
            torch.softmax(model(batch), dim=1)

    one, thousand = torch.rand(1, 1, 28, 28), torch.rand(1000, 1, 28, 28)
    results = {"train step, batch 128": median_seconds(train_step, repeats)}
    model.eval()
    results["inference, 1 image"] = median_seconds(lambda: infer(one), repeats * 10)
    results["inference, 1000 images"] = median_seconds(lambda: infer(thousand), repeats)
    return results


def format_time(seconds: float) -> str:
    if seconds < 0.01:  # single images: a tenth of a millisecond would hide the difference
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per figure (10)")
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
        ours = time_nnlite(model, args.repeats)
        theirs = time_torch(batch_norm, args.repeats)
        for measure, seconds in ours.items():
            reference = theirs[measure] if theirs else None
            ratio = f"{seconds / reference:.2f}x" if reference else "n/a"
            torch_cell = format_time(reference) if reference else "n/a"
            print(
                f"| {name} | {measure} | {format_time(seconds)} | {torch_cell} | {ratio} |",
                flush=True,
            )
    print()
    recognition_table()


def recognition_table() -> None:
    """The recognition pipeline's throughput (benchmarks/pipeline_throughput.py)."""
    sys.path.append(str(Path(__file__).resolve().parent))
    import pipeline_throughput

    pipeline_throughput.main()


if __name__ == "__main__":
    main()
