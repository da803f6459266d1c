"""Checkpoints: the model, the optimizer and the training state in one ``.npz`` written
after every epoch, so that an interrupted run resumes exactly (``train.py --resume``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import nnlite as nl
from nnlite.model import load_arrays, save_arrays


def data_checksum() -> str:
    """One SHA-256 over the four MNIST files' verified content hashes."""
    joined = "".join(nl.data.MNIST_FILES[name] for name in sorted(nl.data.MNIST_FILES))
    return hashlib.sha256(joined.encode()).hexdigest()


def code_hash(*modules: object) -> str:
    """12 hex digits of one SHA-256 over the source files of ``modules``: a cache of data a
    generator made is named by it, so a change to the generator's code is never served the
    old data."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:12]


def checkpoint_path(out: Path) -> Path:
    return out.with_name(out.name.removesuffix(".npz") + ".ckpt.npz")


def save_checkpoint(path: Path, model: nl.Sequential, optimizer: nl.Adam, state: dict) -> None:
    """Model arrays, optimizer state and the training state (JSON) in one npz, atomically."""
    arrays = {f"model.{k}": v for k, v in model.named_arrays().items()}
    arrays.update({f"optim.{k}": v for k, v in optimizer.state_dict().items()})
    save_arrays(path, {"format": "nnlite.checkpoint", "model": model.get_config(), **state}, arrays)


def load_checkpoint(path: Path, model: nl.Sequential, optimizer: nl.Adam) -> dict:
    """Restore a checkpoint into ``model`` and ``optimizer``; returns the training state."""
    config, arrays = load_arrays(path)
    if config.get("format") != "nnlite.checkpoint":
        raise ValueError(f"{path} is not a training checkpoint")
    if config["model"]["layers"] != model.get_config()["layers"]:
        raise ValueError(f"{path} was made for a different architecture")
    model.set_arrays(
        {k.removeprefix("model."): v for k, v in arrays.items() if k.startswith("model.")}
    )
    optimizer.load_state_dict({k[6:]: v for k, v in arrays.items() if k.startswith("optim.")})
    return config
