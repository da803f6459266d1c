"""MNIST: reading IDX files, finding or downloading them, and batching.

``load_mnist()`` looks for the four files, in order, in the directory it is given, in
``$MNIST_DIR``, and in the user cache (``$NNLITE_CACHE`` or ``~/.cache/nnlite/mnist``); failing
all three it downloads them from public mirrors into the cache. Each file may be gzip
(``.gz``) or raw IDX, and the SHA-256 of its uncompressed content is checked against the
published value, so a corrupt or truncated file is an error that names the file, never
silently wrong data.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

#: SHA-256 of each file's uncompressed IDX content.
MNIST_FILES = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

#: Public mirrors serving ``<name>.gz``; ``$MNIST_MIRRORS`` (space-separated URLs) overrides.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


class MnistError(RuntimeError):
    """A missing, corrupt or undownloadable MNIST file; the message names it and the fix."""


def default_cache_dir() -> Path:
    """``$NNLITE_CACHE``, else ``$XDG_CACHE_HOME/nnlite/mnist``, else ``~/.cache/nnlite/mnist``."""
    if os.environ.get("NNLITE_CACHE"):
        return Path(os.environ["NNLITE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nnlite" / "mnist"


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode an IDX file: big-endian magic (0x0000 08 D: unsigned bytes, D dimensions), D
    uint32 sizes, then the data. Returns a uint8 array of those dimensions."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise MnistError(f"{name} is not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MnistError(f"{name} is truncated: its header is incomplete")
    shape = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">u4"))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise MnistError(
            f"{name} holds {len(raw) - header} bytes of data, its header promises {expected} "
            "(truncated or corrupt)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def read_verified(path: Path, name: str) -> np.ndarray:
    """Read ``path`` (gzip or raw IDX), check its SHA-256, decode it. Raises MnistError."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise MnistError(f"{path} cannot be read ({error}); delete it and try again") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != MNIST_FILES[name]:
        raise MnistError(
            f"{path} is corrupt or truncated (SHA-256 {digest[:12]}..., expected "
            f"{MNIST_FILES[name][:12]}...); delete it and download it again"
        )
    return parse_idx(raw, str(path))


def _find(directory: Path, name: str) -> Path | None:
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    return None


def download(name: str, cache_dir: Path, mirrors: Sequence[str], timeout: float = 30.0) -> Path:
    """Fetch ``<name>.gz`` from the first mirror that serves a file with the right checksum.

    The download goes to a temporary file and is moved into ``cache_dir`` only after its
    checksum passes, so a bad or interrupted download never stays in the cache.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"{name}.gz"
    problems = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + f"/{name}.gz"
        handle, temporary = tempfile.mkstemp(dir=cache_dir, prefix=f".{name}.", suffix=".part")
        temporary = Path(temporary)
        try:
            with (
                os.fdopen(handle, "wb") as file,
                urllib.request.urlopen(url, timeout=timeout) as response,
            ):
                shutil.copyfileobj(response, file)
            read_verified(temporary, name)
            os.replace(temporary, target)
            return target
        except (OSError, urllib.error.URLError, MnistError) as error:
            problems.append(f"{url}: {error}")
        finally:
            temporary.unlink(missing_ok=True)
    raise MnistError(
        f"could not download {name}: "
        + "; ".join(problems)
        + ". Put the four MNIST files in a directory and pass it, or set $MNIST_DIR."
    )


def load_mnist(
    directory: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    mirrors: Sequence[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST as uint8 arrays: ``(x_train, y_train), (x_test, y_test)``.

    Shapes: x_train (60000, 28, 28), y_train (60000,), x_test (10000, 28, 28),
    y_test (10000,). Pixels are 0 (background) to 255 (ink); labels 0 to 9.

    Looks in ``directory``, then ``$MNIST_DIR``, then the cache; downloads what is still
    missing into the cache. A file that is present but corrupt raises MnistError naming it
    (a broken copy is never skipped over silently).
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    places = [Path(p) for p in (directory, os.environ.get("MNIST_DIR")) if p] + [cache]
    if directory is not None and not Path(directory).is_dir():
        raise MnistError(f"MNIST directory {directory} does not exist")
    if mirrors is None:
        env_mirrors = os.environ.get("MNIST_MIRRORS", "").split()
        mirrors = env_mirrors or MNIST_MIRRORS
    arrays = {}
    for name in MNIST_FILES:
        found = next((path for place in places if (path := _find(place, name))), None)
        if found is None:
            found = download(name, cache, mirrors)
        arrays[name] = read_verified(found, name)
    return (
        (arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]),
        (arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]),
    )


def batches(
    n: int, batch_size: int, shuffle: bool = True, rng: np.random.Generator | None = None
) -> Iterator[np.ndarray]:
    """Index arrays that split ``range(n)`` into batches of ``batch_size`` (the last may be
    smaller), in a random order when ``shuffle``: ``for idx in batches(...): x[idx], y[idx]``."""
    order = (rng or np.random.default_rng()).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def to_images(x: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) in 0..255 -> float32 (N, 1, 28, 28) in [0, 1], the model's input."""
    return (x.astype(np.float32) / 255.0)[:, None, :, :]
