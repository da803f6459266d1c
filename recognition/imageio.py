"""Reading user images: anything Pillow reads, made into one RGB float array.

The rest of the pipeline only ever sees ``(H, W, 3)`` float32 in [0, 1]. This module is where
the file formats' quirks end: EXIF rotation, palettes, 16-bit and float greyscale, CMYK,
transparency (composited on a plain background), animated images (first frame), and images
too large to decode safely (refused before decoding, or shrunk while decoding).
"""

from __future__ import annotations

import io
import os
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

#: Images that claim more pixels than this are refused before any pixel is decoded: a
#: "decompression bomb" is a small file that claims e.g. 30000 x 30000 pixels. JPEG decodes
#: at 1/8 scale when asked (a 100-megapixel photo never exists in full); other formats are
#: decoded whole, so they get the lower bound, which keeps one image under ~150 MB.
MAX_PIXELS = 120_000_000
MAX_PIXELS_DECODED_WHOLE = 36_000_000
#: Files larger than this are refused without being read.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: What a file that is not an image is told (and what works instead).
NOT_AN_IMAGE = "not an image we can read: PNG, JPEG, GIF, BMP, WebP or TIFF"
#: Images are shrunk while loading so that their longer side is at most this.
MAX_SIDE = 1600

ImageSource = str | os.PathLike | bytes | np.ndarray | Image.Image


class ImageError(ValueError):
    """An input that cannot be used as an image.

    The message is a sentence for the user (no file paths, no raw exception text);
    ``detail`` keeps the underlying error, for logs.
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


def load_image(source: ImageSource, max_side: int = MAX_SIDE) -> tuple[np.ndarray, float]:
    """Read an image into RGB float32 in [0, 1], at most ``max_side`` pixels on its longer side.

    ``source`` is a path, the file's bytes, a PIL image, or an array: ``(H, W)`` grey or
    ``(H, W, 3|4)`` RGB(A), uint8 (0..255), uint16 (0..65535) or float (0..1).
    Transparent pixels are composited on white when the visible ink is dark and on black when
    it is light, so that ink drawn only in the alpha channel stays visible.

    Returns ``(H, W, 3)`` float32 and its scale: returned pixels per pixel of the original
    (1.0 unless the image was shrunk). Raises :class:`ImageError` for anything unusable.
    """
    if isinstance(source, np.ndarray):
        image = _array_to_pil(source)
    elif isinstance(source, Image.Image):
        image = source
    else:
        image = _open(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _to_rgb_float(image, max_side)
    except ImageError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombWarning) as error:
        raise ImageError("the image data is damaged or truncated", detail=str(error)) from None


def _open(source: str | os.PathLike | bytes) -> Image.Image:
    """Open a path or bytes with Pillow, checking size before any pixel is decoded."""
    if isinstance(source, bytes):
        if not source:
            raise ImageError("the file is empty")
        if len(source) > MAX_FILE_BYTES:
            raise ImageError(f"the file is larger than {MAX_FILE_BYTES // 2**20} MB")
        stream: io.BytesIO | str | os.PathLike = io.BytesIO(source)
    else:
        if not os.path.isfile(source):
            raise ImageError("no such file")
        size = os.path.getsize(source)
        if size == 0:
            raise ImageError("the file is empty")
        if size > MAX_FILE_BYTES:
            raise ImageError(f"the file is larger than {MAX_FILE_BYTES // 2**20} MB")
        stream = source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(stream)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"the image claims more pixels than the {MAX_PIXELS // 10**6} megapixels accepted "
            "(a decompression bomb?)"
        ) from None
    except UnidentifiedImageError:
        raise ImageError(NOT_AN_IMAGE) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError("the image cannot be opened", detail=str(error)) from None
    width, height = image.size
    limit = MAX_PIXELS if image.format == "JPEG" else MAX_PIXELS_DECODED_WHOLE
    if width * height > limit:
        raise ImageError(
            f"the image has {width}x{height} pixels, more than the {limit // 10**6} "
            f"megapixels accepted for {image.format or 'this format'}"
        )
    if width < 1 or height < 1:
        raise ImageError("the image has no pixels")
    return image


def _array_to_pil(array: np.ndarray) -> Image.Image:
    """An ``(H, W)``, ``(H, W, 1|3|4)`` array as a PIL image (uint8 or float 'F')."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageError(f"expected an (H, W), (H, W, 3) or (H, W, 4) array, got {array.shape}")
    if array.size == 0:
        raise ImageError("the image has no pixels")
    if array.shape[0] * array.shape[1] > MAX_PIXELS:
        raise ImageError("the image has more pixels than accepted")
    if array.dtype == np.uint8:
        return Image.fromarray(array)
    if array.dtype == bool:
        return Image.fromarray(array.astype(np.uint8) * 255)
    values = array.astype(np.float32)
    if not np.isfinite(values).all():
        raise ImageError("the image contains NaN or infinite values")
    scale = 65535.0 if array.dtype == np.uint16 else (255.0 if values.max() > 1.0 else 1.0)
    return Image.fromarray(np.clip(values / scale * 255.0 + 0.5, 0, 255).astype(np.uint8))


def _to_rgb_float(image: Image.Image, max_side: int) -> tuple[np.ndarray, float]:
    """Decode the first frame, shrink it early, and flatten it to ``(H, W, 3)`` float32."""
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    original_side = max(image.size)
    if image.format == "JPEG":
        # JPEG can decode at 1/2, 1/4 or 1/8 scale: a 64-megapixel photo never exists in full.
        image.draft(image.mode, (max_side, max_side))
    image = ImageOps.exif_transpose(image) or image
    image = _shrink(image, max_side)
    return _flatten(image), max(image.size) / original_side


def _flatten(image: Image.Image) -> np.ndarray:
    """Any Pillow mode as ``(H, W, 3)`` float32 in [0, 1]."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float32)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        if image.mode == "F" and values.max() <= 1.0:
            top = 1.0
        grey = np.clip(values / top, 0.0, 1.0)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if image.mode == "P" or image.mode == "PA":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
        return _composite(rgba)
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return rgb


def _shrink(image: Image.Image, max_side: int) -> Image.Image:
    """Reduce the image so that its longer side is at most ``max_side``, cheaply."""
    longest = max(image.size)
    if longest <= max_side:
        return image
    if image.mode not in ("1", "L", "LA", "RGB", "RGBA", "P", "PA", "CMYK", "I", "F", "I;16"):
        image = image.convert("RGBA")
    if image.mode in ("P", "PA", "1"):
        image = image.convert("RGBA")
    factor = longest // max_side
    if factor >= 2:
        image = image.reduce(factor)  # integer box reduction: fast and anti-aliased
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BOX)
    return image


def _composite(rgba: np.ndarray) -> np.ndarray:
    """Flatten ``(H, W, 4)`` RGBA onto white, or onto black when the visible ink is light."""
    colour, alpha = rgba[:, :, :3], rgba[:, :, 3:4]
    weight = float(alpha.sum())
    background = 1.0
    if weight > 0 and float(alpha.min()) < 0.99:
        luminance = colour @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        if float((luminance * alpha[:, :, 0]).sum()) / weight > 0.6:
            background = 0.0
    return colour * alpha + background * (1.0 - alpha)
