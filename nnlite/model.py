"""Sequential models, and saving and loading them as one ``.npz`` file.

File format: a NumPy ``.npz`` archive (a zip of ``.npy`` arrays) holding
- ``__config__``: UTF-8 JSON as a uint8 array: the format name, the library version, each
  layer's class and constructor arguments, and free-form ``metadata`` (training data,
  epochs, seed, test accuracy, ...);
- one array per parameter or buffer under ``"<layer index>.<name>"``, e.g. ``"0.weight"``.

Loading uses ``allow_pickle=False`` (an ``.npz`` file cannot run code), rebuilds layers only
through the registry of known classes, and checks every array's shape against the
configuration, so a wrong file gets a message saying what is wrong.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from . import ops
from .functional import softmax
from .layers import Layer, known_layer_names, layer_class
from .tensor import Parameter

FORMAT_NAME = "nnlite.Sequential"


class Sequential(Layer):
    """Layers applied one after the other; backward runs them in reverse.

    Parameters
    ----------
    layers : the layers, in order.
    metadata : free-form JSON-able facts saved with the model (``model.metadata``).
    """

    def __init__(self, layers: Iterable[Layer], metadata: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.layers = list(layers)
        for index, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"item {index} of Sequential is {layer!r}, not an nnlite layer")
        self.metadata = dict(metadata or {})

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Run every layer: x of the first layer's input shape -> the last layer's output."""
        with ops.batch_scope(len(x)):  # the fast engine's threads, set up once for all layers
            for layer in self.layers:
                x = layer.forward(x)
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """Backpropagate d loss / d output through every layer; returns d loss / d input.

        Parameter gradients accumulate into ``.grad`` (call the optimizer's ``zero_grad``).
        """
        with ops.batch_scope(len(grad_out)):
            for layer in reversed(self.layers):
                grad_out = layer.backward(grad_out)
        return grad_out

    def predict(self, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
        """Class probabilities in evaluation mode (no dropout, running batch-norm statistics).

        x: (N, ...) input of the first layer -> (N, K) probabilities, each row summing to 1.
        Works through ``x`` ``batch_size`` samples at a time to bound memory; the model's
        train/eval mode is restored afterwards.
        """
        x = np.asarray(x)
        if x.ndim == 0 or len(x) == 0:
            raise ValueError(f"predict expects a batch (N, ...) with N >= 1, got shape {x.shape}")
        if not np.issubdtype(x.dtype, np.floating):
            raise ValueError(f"predict expects floating-point input, got dtype {x.dtype}")
        was_training = self.training
        self.eval()
        try:
            parameters = self.parameters()
            dtype = parameters[0].data.dtype if parameters else x.dtype
            x = x.astype(dtype, copy=False)
            chunks = [
                softmax(self.forward(x[start : start + batch_size]), axis=1)
                for start in range(0, len(x), batch_size)
            ]
        finally:
            if was_training:
                self.train()
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)

    def parameters(self) -> list[Parameter]:
        return [param for layer in self.layers for param in layer.parameters()]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter and buffer by its file key, ``"<layer index>.<name>"`` (what
        :meth:`save` writes; optimizers have a ``state_dict`` of the same kind)."""
        return self.named_arrays()

    def load_state_dict(self, arrays: dict[str, np.ndarray]) -> None:
        """The inverse of :meth:`state_dict`."""
        self.set_arrays(arrays)

    def named_arrays(self) -> dict[str, np.ndarray]:
        """Every parameter and buffer by its file key, ``"<layer index>.<name>"`` (the same
        as :meth:`state_dict`)."""
        arrays = {}
        for index, layer in enumerate(self.layers):
            for param in layer.parameters():
                arrays[f"{index}.{param.name}"] = param.data
            for name, buffer in layer.buffers().items():
                arrays[f"{index}.{name}"] = buffer
        return arrays

    def set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """The inverse of :meth:`named_arrays`: take every parameter and buffer from
        ``arrays`` (keyed ``"<layer index>.<name>"``) and reset the gradients."""
        for index, layer in enumerate(self.layers):
            for param in layer.parameters():
                value = arrays[f"{index}.{param.name}"]
                if value.shape == param.data.shape and value.dtype == param.data.dtype:
                    param.data[...] = value  # keeps the memory layout the layer chose
                else:
                    param.data = np.array(value)  # a copy: never share the caller's arrays
                param.zero_grad()
            for name in layer.buffers():
                layer.set_buffer(name, arrays[f"{index}.{name}"])

    def train(self) -> None:
        self.training = True
        for layer in self.layers:
            layer.train()

    def eval(self) -> None:
        self.training = False
        for layer in self.layers:
            layer.eval()

    def astype(self, dtype: np.dtype | type) -> Sequential:
        """Cast every parameter and buffer to ``dtype`` in place; returns the model."""
        for layer in self.layers:
            for param in layer.parameters():
                param.astype(dtype)
            for name, buffer in layer.buffers().items():
                layer.set_buffer(name, buffer.astype(dtype))
        return self

    def get_config(self) -> dict[str, Any]:
        from . import __version__

        return {
            "format": FORMAT_NAME,
            "version": __version__,
            "layers": [
                {"class": type(layer).__name__, "config": layer.get_config()}
                for layer in self.layers
            ],
            "metadata": self.metadata,
        }

    def summary(self) -> str:
        """One line per layer with its parameter count, and the total."""
        lines = []
        for index, layer in enumerate(self.layers):
            count = sum(p.data.size for p in layer.parameters())
            lines.append(f"{index:>3}  {layer!r:<60} {count:>10,}")
        total = sum(p.data.size for p in self.parameters())
        lines.append(f"     {'total parameters':<60} {total:>10,}")
        return "\n".join(lines)

    def save(self, path: str | os.PathLike) -> None:
        """Write the model to one ``.npz`` file at exactly ``path``.

        The file is written to a temporary name and renamed, so an interrupted save never
        leaves a half-written model behind.
        """
        save_arrays(path, self.get_config(), self.named_arrays())

    def __repr__(self) -> str:
        inner = ",\n".join(f"    {layer!r}" for layer in self.layers)
        return f"Sequential([\n{inner}\n])"


def save_arrays(
    path: str | os.PathLike, config: dict[str, Any], arrays: dict[str, np.ndarray]
) -> None:
    """Write ``config`` (as JSON) and ``arrays`` to an ``.npz`` at ``path``, atomically."""
    path = Path(path)
    payload = {"__config__": np.frombuffer(json.dumps(config).encode("utf-8"), dtype=np.uint8)}
    payload.update(arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **payload)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes files private; a model is not
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_arrays(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read an ``.npz`` written by :func:`save_arrays`: (config, arrays).

    Raises FileNotFoundError for a missing file and ValueError for anything that is not
    such a file (truncated, not a zip, no configuration, unreadable arrays).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as error:
        raise ValueError(
            f"{path} is not a readable .npz model file (truncated or corrupt?): {error}"
        ) from None
    if "__config__" not in arrays:
        raise ValueError(f"{path} has no __config__ entry: it was not written by nnlite")
    try:
        config = json.loads(arrays.pop("__config__").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: its __config__ is not valid JSON ({error})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: its __config__ is not a JSON object")
    return config, arrays


def load(path: str | os.PathLike) -> Sequential:
    """Rebuild a model saved with :meth:`Sequential.save`.

    Raises FileNotFoundError when there is no file, and ValueError, naming the problem, when
    the file is truncated, is not an npz, names an unknown layer, or holds arrays whose
    shapes do not match its configuration.
    """
    config, arrays = load_arrays(path)
    if config.get("format") != FORMAT_NAME or not isinstance(config.get("layers"), list):
        raise ValueError(f"{path} is not an nnlite model (format {config.get('format')!r})")
    layers = []
    for index, spec in enumerate(config["layers"]):
        name = spec.get("class") if isinstance(spec, dict) else None
        cls = layer_class(name) if isinstance(name, str) else None
        if cls is None:
            known = ", ".join(known_layer_names())
            raise ValueError(
                f"{path}: layer {index} has unknown class {name!r} (known: {known}; a layer "
                "of your own needs nl.register_layer)"
            )
        try:
            layers.append(cls(**spec.get("config", {})))
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{path}: layer {index} ({name}) has a bad configuration: {error}"
            ) from None
    model = Sequential(layers, metadata=config.get("metadata") or {})
    expected = model.named_arrays()
    missing = sorted(set(expected) - set(arrays))
    unexpected = sorted(set(arrays) - set(expected))
    if missing or unexpected:
        raise ValueError(f"{path}: arrays missing {missing}, unexpected {unexpected}")
    for key, array in arrays.items():
        if array.shape != expected[key].shape:
            raise ValueError(
                f"{path}: array {key} has shape {array.shape}, the configuration needs "
                f"{expected[key].shape}"
            )
        if not np.issubdtype(array.dtype, np.floating):
            raise ValueError(
                f"{path}: array {key} has dtype {array.dtype}, expected floating point"
            )
    model.set_arrays(arrays)
    model.eval()
    return model
