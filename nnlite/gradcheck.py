"""Finite-difference gradient checking, for the library's tests and for students' own layers.

A backward pass is a claim: "this is d loss / d input". The check tests the claim against
the definition of a derivative. For a layer ``f``, a fixed random array ``R`` of the output's
shape turns the output into a scalar ``L = sum(f(x) * R)``, whose gradient with respect to
the output is exactly ``R``. So ``layer.backward(R)`` must equal the central difference

    dL/dx_i ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)

for every input element ``x_i``, and likewise for every parameter element. Everything runs
in float64 on a copy of the layer: in float32 the differences drown in rounding error.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import random as nl_random


@dataclass
class GradcheckResult:
    """The outcome of :func:`gradcheck`; true when every checked element agreed.

    ``errors`` maps ``"input"`` and each parameter's name to the worst relative error
    ``|analytic - numeric| / max(|analytic| + |numeric|, atol)`` over its checked elements.
    """

    ok: bool
    errors: dict[str, float] = field(default_factory=dict)
    tolerance: float = 0.0

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        verdict = "passed" if self.ok else "FAILED"
        details = ", ".join(f"{name}: {error:.2e}" for name, error in self.errors.items())
        return (
            f"gradcheck {verdict} (worst relative errors {details}; tolerance {self.tolerance:.0e})"
        )


def _to_float64(layer: Any) -> Any:
    """A deep copy of ``layer`` whose parameters and buffers are float64."""
    layer = copy.deepcopy(layer)
    sublayers = getattr(layer, "layers", [layer])
    for sub in sublayers:
        for param in sub.parameters() if hasattr(sub, "parameters") else []:
            param.astype(np.float64)
        for name, buffer in (sub.buffers() if hasattr(sub, "buffers") else {}).items():
            sub.set_buffer(name, buffer.astype(np.float64))
    return layer


def gradcheck(
    layer: Any,
    x: np.ndarray,
    target: np.ndarray | None = None,
    *,
    eps: float = 1e-6,
    tolerance: float = 1e-5,
    atol: float = 1e-7,
    max_elements: int = 100,
    seed: int = 0,
) -> GradcheckResult:
    """Compare ``layer.backward`` with central finite differences.

    Parameters
    ----------
    layer : a layer or model (``forward``, ``backward``, ``parameters``), or a loss
        (``forward(logits, target)``, ``backward()``) when ``target`` is given.
    x : the input, any shape the layer accepts; cast to float64.
    target : labels for a loss; ``None`` for a layer.
    eps : the finite-difference step.
    tolerance : the largest relative error that passes.
    atol : floor of the relative error's denominator, so that two tiny numbers agree.
    max_elements : at most this many randomly chosen elements of each array are checked.
    seed : chooses the projection ``R`` and the checked elements.

    The layer is copied, so the caller's layer is untouched. Randomness inside the layer
    (dropout) is replayed identically for every evaluation.
    """
    layer = _to_float64(layer)
    x = np.array(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    rng_state = nl_random.get_state()
    params = layer.parameters() if hasattr(layer, "parameters") else []

    if target is None:
        projection = rng.standard_normal(layer.forward(x).shape)

        def scalar() -> float:
            nl_random.set_state(rng_state)
            return float(np.sum(layer.forward(x) * projection))

        def analytic() -> np.ndarray:
            nl_random.set_state(rng_state)
            layer.forward(x)
            return layer.backward(projection)
    else:

        def scalar() -> float:
            return float(layer.forward(x, target))

        def analytic() -> np.ndarray:
            layer.forward(x, target)
            return layer.backward()

    for param in params:
        param.zero_grad()
    grads = {"input": np.array(analytic(), dtype=np.float64)}
    grads.update({param.name or f"param{i}": param.grad.copy() for i, param in enumerate(params)})
    arrays = {"input": x}
    arrays.update({param.name or f"param{i}": param.data for i, param in enumerate(params)})

    errors = {}
    for name, array in arrays.items():
        errors[name] = _worst_error(array, grads[name], scalar, eps, atol, max_elements, rng)
    ok = all(error <= tolerance for error in errors.values())
    nl_random.set_state(rng_state)
    return GradcheckResult(ok=ok, errors=errors, tolerance=tolerance)


def _worst_error(
    array: np.ndarray,
    analytic: np.ndarray,
    scalar: Callable[[], float],
    eps: float,
    atol: float,
    max_elements: int,
    rng: np.random.Generator,
) -> float:
    """Worst relative error between ``analytic`` and central differences of ``scalar``
    over up to ``max_elements`` elements of ``array`` (perturbed in place, then restored)."""
    if analytic.shape != array.shape:
        return float("inf")
    flat_indices = np.arange(array.size)
    if array.size > max_elements:
        flat_indices = rng.choice(array.size, size=max_elements, replace=False)
    worst = 0.0
    for flat_index in flat_indices:  # a loop over a few sampled elements, only in checks
        index = np.unravel_index(flat_index, array.shape)
        original = array[index]
        array[index] = original + eps
        plus = scalar()
        array[index] = original - eps
        minus = scalar()
        array[index] = original
        numeric = (plus - minus) / (2 * eps)
        exact = analytic[index]
        worst = max(worst, abs(exact - numeric) / max(abs(exact) + abs(numeric), atol))
    return worst
