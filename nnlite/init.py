"""Weight initialisation.

A layer's output variance should neither grow nor shrink with depth. For a layer with
``fan_in`` inputs per output, He (Kaiming) initialisation draws weights with variance
``2 / fan_in``, which keeps the variance of ReLU activations constant; Glorot (Xavier) uses
``2 / (fan_in + fan_out)``, suited to layers without ReLU, such as a final classifier.
"""

from __future__ import annotations

import numpy as np

from .random import get_rng


def he_normal(shape: tuple[int, ...], fan_in: int, dtype: type = np.float32) -> np.ndarray:
    """Normal(0, sqrt(2 / fan_in)) weights of the given ``shape``."""
    std = np.sqrt(2.0 / fan_in)
    return (get_rng().standard_normal(shape) * std).astype(dtype)


def glorot_uniform(
    shape: tuple[int, ...], fan_in: int, fan_out: int, dtype: type = np.float32
) -> np.ndarray:
    """Uniform(-a, a) weights with ``a = sqrt(6 / (fan_in + fan_out))``."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return get_rng().uniform(-limit, limit, size=shape).astype(dtype)
