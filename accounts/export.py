"""Corrected recognitions as training samples, in a folder ``train.py --extra DIR`` reads.

The layout (like an image-folder dataset)::

    DIR/7/12-0.png        the 28x28 input the network saw for entry 12, digit 0, labelled 7
    DIR/corrections.csv   file,label,entry,user,time: one row per image

Images are 8-bit greyscale, white ink on black: MNIST's own format.
"""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image

from .store import Store

INDEX = "corrections.csv"


def correction_problem(mode: str, text: str) -> str | None:
    """Why ``text`` is not a correction for an entry of this mode ("digit" or "number"), or
    None. A correction is the right digits, one line per line of digits."""
    if not text:
        return "Give the right digit(s)."
    if any(not (c.isdigit() or c == "\n") for c in text) or not text.isascii():
        return "A correction is made of the digits 0-9 only (one line per line of digits)."
    if mode == "digit" and len(text) != 1:
        return "This entry is a single digit: give one digit 0-9."
    return None


def correction_labels(mode: str, correction: str, input_count: int) -> list[int] | None:
    """The label of each stored input, or None when the correction does not match them
    (a number corrected to a different count of digits cannot say which input is which)."""
    digits = [int(c) for c in correction if c.isdigit()]
    if not digits or len(digits) != input_count or (mode == "digit" and len(digits) != 1):
        return None
    return digits


def export_corrections(store: Store, directory: str | Path) -> tuple[int, int]:
    """Write every corrected input of every user to ``directory``.

    Returns ``(samples written, corrections skipped)``; a correction is skipped when its
    digits cannot be matched to the stored inputs. Images of an earlier export (listed in its
    ``corrections.csv``) are replaced; other files in the folder are left alone.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    index = root / INDEX
    if index.is_file():
        with index.open(newline="") as handle:
            for row in csv.DictReader(handle):
                (root / row["file"]).unlink(missing_ok=True)
    written, skipped, rows = 0, 0, []
    for email, entry in store.corrections():
        labels = correction_labels(entry.mode, entry.correction or "", len(entry.inputs))
        if labels is None:
            skipped += 1
            continue
        for position, (label, image) in enumerate(zip(labels, entry.inputs, strict=True)):
            name = f"{label}/{entry.id}-{position}.png"
            (root / str(label)).mkdir(exist_ok=True)
            Image.fromarray(image).save(root / name)
            rows.append([name, label, entry.id, email, entry.corrected_at])
            written += 1
    with index.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "label", "entry", "user", "time"])
        writer.writerows(rows)
    return written, skipped
