"""The MNIST loader: lookup order, formats, checksums, and downloads from a local server."""

from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

import nnlite as nl
from nnlite.data import MNIST_FILES, MnistError, load_mnist, parse_idx


def test_shapes_types_and_known_labels(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert (
        y_train.shape == (60000,) and x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    )
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_parse_idx_rejects_bad_headers():
    with pytest.raises(MnistError, match="magic"):
        parse_idx(b"PK\x03\x04rest")
    good = b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + b"\x01\x02\x03"
    assert parse_idx(good).tolist() == [1, 2, 3]
    with pytest.raises(MnistError, match="truncated"):
        parse_idx(good[:-1])


@pytest.fixture
def raw_copy(tmp_path, mnist_dir) -> Path:
    """The four files decompressed (raw IDX) in a directory of their own."""
    directory = tmp_path / "raw"
    directory.mkdir()
    for name in MNIST_FILES:
        with gzip.open(mnist_dir / f"{name}.gz") as source:
            (directory / name).write_bytes(source.read())
    return directory


def test_reads_raw_idx_files(raw_copy, tmp_path):
    (_, y_train), _ = load_mnist(raw_copy, cache_dir=tmp_path / "cache", mirrors=[])
    assert y_train[:3].tolist() == [5, 0, 4]


def test_truncated_file_is_named(raw_copy, tmp_path):
    labels = raw_copy / "t10k-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-10])
    with pytest.raises(MnistError, match="t10k-labels-idx1-ubyte is corrupt or truncated"):
        load_mnist(raw_copy, cache_dir=tmp_path / "cache", mirrors=[])


def test_corrupt_gzip_is_named(tmp_path, mnist_dir):
    directory = tmp_path / "gz"
    shutil.copytree(mnist_dir, directory, ignore=shutil.ignore_patterns("*.md"))
    path = directory / "train-labels-idx1-ubyte.gz"
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data[: len(data) - 50]))
    with pytest.raises(MnistError, match="train-labels-idx1-ubyte"):
        load_mnist(directory, cache_dir=tmp_path / "cache", mirrors=[])


def test_environment_variable_is_used(monkeypatch, mnist_dir, tmp_path):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    _, (_, y_test) = load_mnist(cache_dir=tmp_path / "empty-cache", mirrors=[])
    assert len(y_test) == 10000


def test_missing_directory_is_an_error(tmp_path):
    with pytest.raises(MnistError, match="does not exist"):
        load_mnist(tmp_path / "nowhere", mirrors=[])


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    """serve(directory) -> base URL of an HTTP server on 127.0.0.1 for that directory."""
    servers = []

    def start(directory: Path) -> str:
        handler = functools.partial(QuietHandler, directory=str(directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def corrupt_mirror(tmp_path, mnist_dir) -> Path:
    """A mirror whose files are all served with flipped bytes (and one missing)."""
    directory = tmp_path / "corrupt-mirror"
    directory.mkdir()
    for name in list(MNIST_FILES)[:3]:
        data = bytearray(gzip.decompress((mnist_dir / f"{name}.gz").read_bytes()))
        data[-1] ^= 0xFF
        # (the fastest level: a 47 MB file at the default level took 15 s of the suite)
        (directory / f"{name}.gz").write_bytes(gzip.compress(bytes(data), compresslevel=1))
    return directory


@pytest.mark.slow
def test_download_falls_back_from_a_corrupt_mirror(
    serve, corrupt_mirror, mnist_dir, tmp_path, monkeypatch
):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    cache = tmp_path / "cache"
    mirrors = [serve(corrupt_mirror), serve(mnist_dir)]
    (x_train, _), (x_test, _) = load_mnist(cache_dir=cache, mirrors=mirrors)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{n}.gz" for n in MNIST_FILES)
    # Second call: everything from the cache, no mirror needed.
    (_, y_train), _ = load_mnist(cache_dir=cache, mirrors=[])
    assert y_train[0] == 5


@pytest.mark.slow
def test_failed_download_raises_and_leaves_nothing_in_the_cache(
    serve, corrupt_mirror, tmp_path, monkeypatch
):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    cache = tmp_path / "cache"
    dead = "http://127.0.0.1:9/"  # nothing listens on the discard port
    with pytest.raises(MnistError, match="could not download train-images-idx3-ubyte") as info:
        load_mnist(cache_dir=cache, mirrors=[serve(corrupt_mirror), dead])
    assert "corrupt" in str(info.value) and "MNIST_DIR" in str(info.value)
    assert list(cache.iterdir()) == []


def test_mirrors_from_the_environment(serve, mnist_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("MNIST_MIRRORS", serve(mnist_dir))
    monkeypatch.setenv("NNLITE_CACHE", str(tmp_path / "env-cache"))
    _, (_, y_test) = nl.data.load_mnist()
    assert y_test.shape == (10000,)
    assert (tmp_path / "env-cache" / "t10k-labels-idx1-ubyte.gz").is_file()


def test_batches_cover_every_index_once():
    parts = list(nl.data.batches(10, 4, rng=np.random.default_rng(0)))
    assert [len(p) for p in parts] == [4, 4, 2]
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))
