"""Inside the network: pictures of what the pipeline and the network do with one digit.

For the app's "Inside the network" tab, and for anyone who wants to look::

    inspector = Inspector(Recognizer.load())
    view = inspector.inspect("examples/images/photo_7.jpg")
    view.steps          # [(image, caption), ...]: the raw image ... the 28x28 input
    view.feature_maps   # [(grid, caption), ...]: every channel after each convolution block
    view.filters        # the first layer's 3x3 filters, red positive, blue negative
    view.saliency       # (28, 28): d(winning class score) / d(input pixel), by model.backward

The saliency map is computed exactly as training computes gradients: a forward pass, then
``model.backward`` of a one-hot gradient on the winning class's logit (the score before the
softmax). Red pixels are where more ink would raise that score, blue where it would lower it.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

import nnlite as nl

from .imageio import ImageSource
from .recognizer import NOT_DIGIT_OUTPUT, Prediction, Recognizer

STEP_CAPTIONS = {
    "image": "1. Your image, as loaded",
    "background": "2. The paper's light, estimated and removed (contrast stretched)",
    "ink": "3. Ink: what differs from the paper, white on black like MNIST",
    "crop": "4. The digit's ink, cropped",
    "stroke": "5. Strokes thinned or thickened towards MNIST's pen",
    "deskew": "6. Slant straightened (only when steeper than MNIST's own)",
    "input": "7. 20x20 box in 28x28, centred by mass: what the network sees",
}

# Anchors of a perceptually even dark-blue -> green -> yellow map (after matplotlib's viridis).
_VIRIDIS = np.array(
    [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float32
)


def viridis(values: np.ndarray) -> np.ndarray:
    """``(...)`` values in [0, 1] -> ``(..., 3)`` uint8 colours."""
    position = np.clip(values, 0.0, 1.0) * (len(_VIRIDIS) - 1)
    low = np.minimum(position.astype(int), len(_VIRIDIS) - 2)
    weight = (position - low)[..., None]
    colour = _VIRIDIS[low] * (1 - weight) + _VIRIDIS[low + 1] * weight
    return np.round(colour).astype(np.uint8)


def diverging(values: np.ndarray) -> np.ndarray:
    """``(...)`` values in [-1, 1] -> ``(..., 3)`` uint8: white at 0, red at +1, blue at -1."""
    v = np.clip(values, -1.0, 1.0)[..., None]
    white = np.ones(3, np.float32)
    red, blue = np.array([0.8, 0.1, 0.1]), np.array([0.1, 0.3, 0.85])
    colour = np.where(v >= 0, white + v * (red - white), white - v * (blue - white))
    return np.round(colour * 255).astype(np.uint8)


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Each pixel a ``factor`` x ``factor`` block: ``(H, W[, 3])`` -> ``(H*f, W*f[, 3])``."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def tile(images: np.ndarray, columns: int, gap: int = 2, fill: int = 255) -> np.ndarray:
    """``(K, h, w, 3)`` uint8 tiles -> one ``(rows*(h+gap)-gap, columns*(w+gap)-gap, 3)`` grid."""
    count, height, width = images.shape[:3]
    rows = -(-count // columns)
    grid = np.full(
        (rows * (height + gap) - gap, columns * (width + gap) - gap, 3), fill, dtype=np.uint8
    )
    for index in range(count):  # one slice per tile (at most a few dozen), not per pixel
        top, left = (index // columns) * (height + gap), (index % columns) * (width + gap)
        grid[top : top + height, left : left + width] = images[index]
    return grid


def note_panel(shape: tuple[int, int], text: str) -> np.ndarray:
    """A light grey ``(H, W, 3)`` uint8 panel with ``text`` in its middle: a step that has
    nothing to show (a drawing's paper is evenly lit) says so instead of being blank."""
    height, width = shape
    panel = Image.new("RGB", (width, height), (226, 228, 234))
    draw = ImageDraw.Draw(panel)
    size = max(10, min(height, width) // 9)
    font = ImageFont.load_default(size=size)
    draw.multiline_text(
        (width / 2, height / 2), text, fill=(55, 65, 81), font=font, anchor="mm", align="center"
    )
    return np.asarray(panel)


def _display(array: np.ndarray, stretch: bool = False) -> np.ndarray:
    """A pipeline step (float in [0, 1], grey or RGB) -> ``(H, W, 3)`` uint8 for showing;
    ``stretch`` spreads its values over the whole range (to see a faint light gradient)."""
    array = np.asarray(array, dtype=np.float32)
    low, high = float(array.min()), float(array.max())
    if stretch and high - low > 0.02:  # a flat background stays as it is
        array = (array - low) / (high - low)
    grey = np.round(np.clip(array, 0.0, 1.0) * 255).astype(np.uint8)
    return grey if grey.ndim == 3 else np.repeat(grey[..., None], 3, axis=-1)


def step_strip(steps: list[tuple[np.ndarray, str]], cell: int = 150, gap: int = 6) -> np.ndarray:
    """The pipeline's steps side by side, each fitted into a ``cell`` square and numbered:
    ``(cell + 2*gap, n*(cell + gap) + gap, 3)`` uint8."""
    strip = Image.new("RGB", (len(steps) * (cell + gap) + gap, cell + 2 * gap), (235, 236, 240))
    draw = ImageDraw.Draw(strip)
    for index, (image, _) in enumerate(steps):
        picture = Image.fromarray(image)
        picture.thumbnail(
            (cell, cell),
            Image.Resampling.NEAREST if min(image.shape[:2]) < cell else Image.Resampling.LANCZOS,
        )
        if max(picture.size) < cell:  # small steps (the 28x28 input) are enlarged, blocky
            factor = cell / max(picture.size)
            size = (round(picture.width * factor), round(picture.height * factor))
            picture = picture.resize(size, Image.Resampling.NEAREST)
        left = gap + index * (cell + gap) + (cell - picture.width) // 2
        top = gap + (cell - picture.height) // 2
        strip.paste(picture, (left, top))
        x0 = gap + index * (cell + gap)
        draw.rectangle((x0, gap, x0 + 17, gap + 17), fill=(79, 70, 229))
        draw.text((x0 + 5, gap + 3), str(index + 1), fill=(255, 255, 255))
    return np.asarray(strip)


@dataclass
class InsideView:
    """Everything the "Inside the network" tab shows for one input."""

    prediction: Prediction
    steps: list[tuple[np.ndarray, str]] = field(default_factory=list)
    feature_maps: list[tuple[np.ndarray, str]] = field(default_factory=list)
    filters: np.ndarray | None = None
    saliency: np.ndarray | None = None  # (28, 28) float gradient
    saliency_image: np.ndarray | None = None  # (280, 280, 3) uint8 overlay


class Inspector:
    """Looks inside a recognizer's network without disturbing it: it works on its own copy of
    the model (a backward pass writes the layers' caches and gradients), one call at a time."""

    def __init__(self, recognizer: Recognizer) -> None:
        self.recognizer = recognizer
        self.model = copy.deepcopy(recognizer.model)
        self.model.eval()
        self._lock = threading.Lock()

    def inspect(self, image: ImageSource) -> InsideView:
        """The steps, feature maps, filters and saliency for the digit in ``image``.

        Raises :class:`~recognition.imageio.ImageError` for an unusable image; for an image
        without ink only the steps (and ``prediction.label is None``) are given.
        """
        prediction = self.recognizer.predict(image, steps=True)
        view = InsideView(prediction)
        for name, caption in STEP_CAPTIONS.items():
            if name in prediction.steps:
                step = np.asarray(prediction.steps[name], dtype=np.float32)
                if name == "background" and float(step.max() - step.min()) <= 0.02:
                    shown = note_panel(step.shape[:2], "Even light:\nnothing to remove")
                else:
                    shown = _display(step, stretch=name == "background")
                view.steps.append((shown, caption))
        view.filters = self.filter_grid()
        if prediction.input is None:  # no ink: nothing reached the network
            return view
        digit = prediction.input.astype(np.float32)
        # The saliency of the answer given: a digit's, or "not a digit"'s.
        target = prediction.label if prediction.label is not None else NOT_DIGIT_OUTPUT
        with self._lock:
            view.feature_maps = self.feature_map_grids(digit)
            view.saliency = self.saliency(digit, target)
        view.saliency_image = saliency_overlay(digit, view.saliency)
        return view

    def feature_map_grids(self, digit: np.ndarray) -> list[tuple[np.ndarray, str]]:
        """``(28, 28)`` input -> one grid per convolution block: each channel's activation
        (after the block's batch-norm and ReLU), each scaled to its own range."""
        x = digit.reshape(1, 1, 28, 28)
        grids, conv_index, pending = [], 0, None
        layers = self.model.layers
        for position, layer in enumerate(layers):
            x = layer.forward(x)
            if isinstance(layer, nl.Conv2D):
                conv_index += 1
                pending = layer
            block_ends = position + 1 == len(layers) or not isinstance(
                layers[position + 1], nl.BatchNorm2D | nl.ReLU
            )
            if pending is not None and x.ndim == 4 and block_ends:
                maps = x[0]
                low = maps.min(axis=(1, 2), keepdims=True)
                high = maps.max(axis=(1, 2), keepdims=True)
                scaled = (maps - low) / np.maximum(high - low, 1e-6)
                size = maps.shape[1]
                factor = max(1, 56 // size)
                tiles = viridis(enlarge(scaled.transpose(1, 2, 0), factor).transpose(2, 0, 1))
                columns = 8 if len(maps) <= 32 else 16
                caption = (
                    f"Convolution {conv_index}: {len(maps)} feature maps of {size}x{size} "
                    f"({pending.in_channels} -> {pending.out_channels} channels, "
                    f"{pending.kernel_size}x{pending.kernel_size} kernels)"
                )
                grids.append((tile(tiles, columns), caption))
                pending = None
        return grids

    def filter_grid(self) -> np.ndarray | None:
        """The first convolution's filters, one enlarged tile each (red > 0, blue < 0, each
        scaled by the largest weight of the layer)."""
        first = next((layer for layer in self.model.layers if isinstance(layer, nl.Conv2D)), None)
        if first is None:
            return None
        weights = first.weight.data.mean(axis=1)  # (out, k, k), averaged over input channels
        scaled = weights / max(float(np.abs(weights).max()), 1e-12)
        factor = max(1, 48 // first.kernel_size)
        tiles = diverging(np.stack([enlarge(w, factor) for w in scaled]))
        return tile(tiles, 8, gap=4, fill=150)

    def saliency(self, digit: np.ndarray, label: int) -> np.ndarray:
        """``(28, 28)``: the gradient of class ``label``'s logit with respect to each input
        pixel, from one forward and one ``model.backward`` pass."""
        logits = self.model.forward(digit.reshape(1, 1, 28, 28))
        grad_out = np.zeros_like(logits)
        grad_out[0, label] = 1.0
        grad_input = self.model.backward(grad_out)
        for parameter in self.model.parameters():
            parameter.grad[...] = 0.0
        return grad_input[0, 0]


def saliency_overlay(digit: np.ndarray, gradient: np.ndarray, factor: int = 10) -> np.ndarray:
    """The ``(28, 28)`` digit in grey with the gradient over it (red where more ink raises the
    winning score, blue where it lowers it, stronger colour for a larger gradient):
    ``(28*factor, 28*factor, 3)`` uint8."""
    scale = max(float(np.abs(gradient).max()), 1e-12)
    strength = np.clip(np.abs(gradient) / scale, 0, 1)[..., None] ** 0.7
    colour = np.where(gradient[..., None] >= 0, [220, 30, 30], [30, 80, 230]).astype(np.float32)
    base = (40 + 120 * np.clip(digit, 0, 1))[..., None].repeat(3, axis=-1)
    mixed = base * (1 - strength) + colour * strength
    return enlarge(np.round(mixed).astype(np.uint8), factor)
