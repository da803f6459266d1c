"""Extra training samples: the corrected inputs that ``app.py --export-corrections`` writes
(``DIR/<digit>/<entry>-<k>.png``, 28x28, white ink on black), read back for
``train.py --extra DIR``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def load_samples(directory: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Every ``DIR/<digit>/*.png`` -> (``(N, 28, 28)`` uint8 images, ``(N,)`` uint8 labels).

    Raises ``ValueError`` naming the file when an image is not 28x28 or cannot be read.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder")
    images, labels = [], []
    for label in range(10):
        for path in sorted((root / str(label)).glob("*.png")):
            try:
                with Image.open(path) as image:
                    array = np.asarray(image.convert("L"), dtype=np.uint8)
            except OSError as error:
                raise ValueError(f"{path} is not a readable image ({error})") from None
            if array.shape != (28, 28):
                raise ValueError(f"{path} is {array.shape[1]}x{array.shape[0]}, not 28x28")
            images.append(array)
            labels.append(label)
    if not images:
        raise ValueError(f"{root} holds no samples (expected <digit>/<name>.png files)")
    return np.stack(images), np.asarray(labels, dtype=np.uint8)
