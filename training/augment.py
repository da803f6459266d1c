"""Data augmentation for training: random affine warps and stroke-width changes, on a whole
batch at once with NumPy (no loop over images or pixels).

Real inputs differ from MNIST: drawings lean and shear, the recogniser's centring is never
perfect, and a sketchpad brush or a marker draws thinner or thicker strokes than MNIST's pen.
Training on randomly warped copies of each digit teaches the network those differences.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random transformations (each drawn uniformly per image)."""

    rotation_degrees: float = 15.0  # +- rotation
    scale: tuple[float, float] = (0.85, 1.15)  # isotropic zoom
    shear: float = 0.25  # +- horizontal shear factor
    shift: float = 2.5  # +- translation in pixels
    thickness_probability: float = 0.5  # fraction of images whose strokes change width
    thicken: float = 1.0  # at most this much of a 3x3 dilation is blended in
    thin: float = 0.6  # at most this much of a 3x3 erosion is blended in

    def as_dict(self) -> dict:
        return asdict(self)


def random_affine(
    images: np.ndarray, rng: np.random.Generator, config: AugmentConfig
) -> np.ndarray:
    """Warp each image by its own random rotation, scale, shear and shift.

    images: (N, H, W) float32 -> (N, H, W) float32. Every output pixel looks up its source
    position through the inverse transform and interpolates bilinearly; pixels that fall
    outside the image read as background (0).
    """
    n, height, width = images.shape
    angle = np.deg2rad(rng.uniform(-config.rotation_degrees, config.rotation_degrees, n))
    scale = rng.uniform(*config.scale, n)
    shear = rng.uniform(-config.shear, config.shear, n)
    shift = rng.uniform(-config.shift, config.shift, (n, 2))
    cos, sin = np.cos(angle), np.sin(angle)
    # Forward map: rotate(shear(scale * p)). Its 2x2 matrix per image, then its inverse.
    forward = np.empty((n, 2, 2))
    forward[:, 0, 0] = scale * cos
    forward[:, 0, 1] = scale * (cos * shear - sin)
    forward[:, 1, 0] = scale * sin
    forward[:, 1, 1] = scale * (sin * shear + cos)
    inverse = np.linalg.inv(forward)  # (N, 2, 2)
    centre = np.array([(width - 1) / 2, (height - 1) / 2])
    ys, xs = np.mgrid[0:height, 0:width]
    grid = np.stack([xs.ravel(), ys.ravel()], axis=0) - centre[:, None]  # (2, H*W) as (x, y)
    source = inverse @ (grid[None] - shift[:, :, None]) + centre[None, :, None]  # (N, 2, H*W)
    return bilinear_sample(images, source[:, 0], source[:, 1]).reshape(n, height, width)


def bilinear_sample(images: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sample images (N, H, W) at float positions x, y of shape (N, P) -> (N, P).

    Positions outside the image read as 0.
    """
    n, height, width = images.shape
    padded = np.zeros((n, height + 2, width + 2), dtype=images.dtype)
    padded[:, 1:-1, 1:-1] = images
    # +1 for the padding; clip so that far-away points land in the zero border.
    x = np.clip(x + 1, 0, width + 1 - 1e-4)
    y = np.clip(y + 1, 0, height + 1 - 1e-4)
    x0, y0 = np.floor(x).astype(np.intp), np.floor(y).astype(np.intp)
    fx, fy = (x - x0).astype(images.dtype), (y - y0).astype(images.dtype)
    x1, y1 = np.minimum(x0 + 1, width + 1), np.minimum(y0 + 1, height + 1)
    batch = np.arange(n)[:, None]
    top = padded[batch, y0, x0] * (1 - fx) + padded[batch, y0, x1] * fx
    bottom = padded[batch, y1, x0] * (1 - fx) + padded[batch, y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def grey_dilate(images: np.ndarray) -> np.ndarray:
    """3x3 maximum filter of (N, H, W) images: strokes grow by about a pixel each side."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    return sliding_window_view(padded, (3, 3), axis=(1, 2)).max(axis=(3, 4))


def grey_erode(images: np.ndarray) -> np.ndarray:
    """3x3 minimum filter of (N, H, W) images: strokes shrink by about a pixel each side."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    return sliding_window_view(padded, (3, 3), axis=(1, 2)).min(axis=(3, 4))


def random_thickness(
    images: np.ndarray, rng: np.random.Generator, config: AugmentConfig
) -> np.ndarray:
    """Make some images' strokes thicker or thinner by blending in a dilation or an erosion.

    images: (N, H, W) float32 in [0, 1] -> same shape. A blend weight in [-thin, +thicken]
    per image: positive thickens, negative thins, zero (for the untouched images) keeps.
    """
    n = len(images)
    amount = rng.uniform(-config.thin, config.thicken, n).astype(images.dtype)
    amount[rng.random(n) >= config.thickness_probability] = 0
    weight = np.abs(amount)[:, None, None]
    target = np.where((amount > 0)[:, None, None], grey_dilate(images), grey_erode(images))
    return images + weight * (target - images)


def augment_batch(
    images: np.ndarray, rng: np.random.Generator, config: AugmentConfig | None = None
) -> np.ndarray:
    """Augment a training batch: (N, 1, H, W) float32 in [0, 1] -> same shape and range."""
    config = config or AugmentConfig()
    flat = images[:, 0]
    flat = random_thickness(flat, rng, config)
    flat = random_affine(flat, rng, config)
    return np.clip(flat, 0.0, 1.0)[:, None].astype(images.dtype)
