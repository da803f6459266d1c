"""The library's one source of randomness.

Weight initialisation and dropout draw from a single ``np.random.Generator`` so that
``nl.seed(s)`` makes a whole training run repeatable, like ``torch.manual_seed``.
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)


def seed(value: int) -> None:
    """Reset the library's random generator to a fixed ``value`` (an int >= 0)."""
    global _generator
    _generator = np.random.default_rng(value)


def get_rng() -> np.random.Generator:
    """The generator that initialisers and dropout draw from."""
    return _generator


def get_state() -> dict:
    """A snapshot of the generator's state, for :func:`set_state`."""
    return _generator.bit_generator.state


def set_state(state: dict) -> None:
    """Restore a state taken with :func:`get_state` (used by gradcheck and checkpoints)."""
    _generator.bit_generator.state = state
