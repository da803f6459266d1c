"""The ops the layers are made of, computed by one of two engines.

    import nnlite as nl
    nl.engine()                 # "fast" (the default) or "reference"
    nl.set_engine("reference")  # the textbook: NCHW, one thread (nnlite/engines/reference.py)

``NNLITE_ENGINE=reference|fast`` chooses at start-up. Both engines take and return the same
arrays (NCHW images, weights in their natural layout), so a model trained with one runs on
the other. An op's cache remembers the engine that made it: a backward pass always runs
on the engine of its forward pass, even if the engine was changed in between.

Every op, with its shapes (N samples, C/O channels or features, k x k windows)::

    dense_forward(x (N, I), W (O, I), b (O,)) -> y (N, O)
    dense_backward(grad (N, O), x, W) -> (dx, dW, db)
    relu_forward(x) -> y;  relu_backward(grad, y) -> dx
    conv2d_forward(x (N, C, H, W), W (O, C, k, k), b (O,), stride, padding) -> (y, cache)
    conv2d_backward(grad (N, O, Ho, Wo), cache) -> (dx, dW, db)
    max_pool2d_forward(x (N, C, H, W), k, stride) -> (y, cache);  max_pool2d_backward(grad, cache)
    batch_norm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, training)
        -> (y, new running_mean, new running_var, cache)
    batch_norm_backward(grad, gamma, cache) -> (dx, dgamma, dbeta)
"""

from __future__ import annotations

import os
import warnings
from contextlib import AbstractContextManager
from types import ModuleType
from typing import Any

import numpy as np

from .engines import fast, reference

ENGINES: dict[str, ModuleType] = {"reference": reference, "fast": fast}
DEFAULT_ENGINE = "fast"


def _engine_from_environment() -> str:
    name = os.environ.get("NNLITE_ENGINE", "").strip().lower()
    if name in ENGINES:
        return name
    if name:
        warnings.warn(
            f"NNLITE_ENGINE must be one of {sorted(ENGINES)}, got {name!r}; using "
            f"{DEFAULT_ENGINE!r}",
            stacklevel=2,
        )
    return DEFAULT_ENGINE


_current = _engine_from_environment()


def set_engine(name: str) -> None:
    """Compute every op from now on with engine ``name``: "reference" or "fast"."""
    global _current
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}: choose one of {sorted(ENGINES)}")
    _current = name


def engine() -> str:
    """The name of the engine in use."""
    return _current


def _engine() -> ModuleType:
    return ENGINES[_current]


def batch_scope(count: int) -> AbstractContextManager[None]:
    """Around a whole forward or backward pass of a batch of ``count`` (``Sequential`` uses
    it): the fast engine keeps BLAS on one thread while it cuts the batch; the reference
    engine does nothing."""
    return _engine().batch_scope(count)


def dense_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return _engine().dense_forward(x, weight, bias)


def dense_backward(
    grad_out: np.ndarray, x: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _engine().dense_backward(grad_out, x, weight)


def relu_forward(x: np.ndarray) -> np.ndarray:
    return _engine().relu_forward(x)


def relu_backward(grad_out: np.ndarray, out: np.ndarray) -> np.ndarray:
    return _engine().relu_backward(grad_out, out)


def conv2d_forward(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, tuple[str, Any]]:
    out, cache = _engine().conv2d_forward(x, weight, bias, stride, padding)
    return out, (_current, cache)


def conv2d_backward(
    grad_out: np.ndarray, cache: tuple[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    name, inner = cache
    return ENGINES[name].conv2d_backward(grad_out, inner)


def max_pool2d_forward(
    x: np.ndarray, kernel_size: int, stride: int
) -> tuple[np.ndarray, tuple[str, Any]]:
    out, cache = _engine().max_pool2d_forward(x, kernel_size, stride)
    return out, (_current, cache)


def max_pool2d_backward(grad_out: np.ndarray, cache: tuple[str, Any]) -> np.ndarray:
    name, inner = cache
    return ENGINES[name].max_pool2d_backward(grad_out, inner)


def batch_norm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    momentum: float,
    eps: float,
    training: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, Any]]:
    out, mean, var, cache = _engine().batch_norm_forward(
        x, gamma, beta, running_mean, running_var, momentum, eps, training
    )
    return out, mean, var, (_current, cache)


def batch_norm_backward(
    grad_out: np.ndarray, gamma: np.ndarray, cache: tuple[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    name, inner = cache
    return ENGINES[name].batch_norm_backward(grad_out, gamma, inner)
