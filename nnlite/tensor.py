"""Parameter: an array that learns.

A Parameter owns two NumPy arrays of the same shape: ``data`` (the current value) and
``grad`` (d loss / d data, filled in by the owning layer's ``backward``). Optimizers need
nothing but a list of Parameters, as in micrograd.
"""

from __future__ import annotations

import numpy as np


class Parameter:
    """A trainable array with its gradient.

    Parameters
    ----------
    data : np.ndarray
        The initial value, any shape. Stored as given (its dtype is kept).
    name : str
        A readable name such as ``"weight"`` or ``"bias"``; models prefix it with the layer
        index when saving (``"0.weight"``).
    """

    def __init__(self, data: np.ndarray, name: str = "") -> None:
        self.data = np.asarray(data)
        self.grad = np.zeros_like(self.data)
        self.name = name

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def zero_grad(self) -> None:
        """Reset ``grad`` to zeros of ``data``'s shape and dtype."""
        self.grad = np.zeros_like(self.data)

    def astype(self, dtype: np.dtype | type) -> None:
        """Cast ``data`` and ``grad`` in place to ``dtype`` (used by gradient checks)."""
        self.data = self.data.astype(dtype)
        self.grad = self.grad.astype(dtype)

    def __repr__(self) -> str:
        return f"Parameter(name={self.name!r}, shape={self.data.shape}, dtype={self.data.dtype})"
