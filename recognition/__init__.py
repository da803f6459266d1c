"""Recognising handwritten digits and numbers in real images with the shipped nnlite model.

Application code, not part of the pure ``nnlite`` library: ``recognize.py`` and ``app.py``
both use :class:`Recognizer`, so the CLI and the web app can never disagree.
"""

from .imageio import ImageError, load_image
from .normalize import find_ink, to_mnist
from .recognizer import (
    DEFAULT_WEIGHTS,
    NO_DIGIT,
    NOT_A_DIGIT,
    DigitReading,
    NumberReading,
    Prediction,
    Recognizer,
    SkippedMark,
    WeightsError,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "NOT_A_DIGIT",
    "NO_DIGIT",
    "DigitReading",
    "ImageError",
    "NumberReading",
    "Prediction",
    "Recognizer",
    "SkippedMark",
    "WeightsError",
    "find_ink",
    "load_image",
    "to_mnist",
]
