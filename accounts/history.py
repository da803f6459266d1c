"""What the app stores for a signed-in user, and how it shows their history.

A drawing is recognised again after every stroke; :class:`Recorder` keeps such a drawing as
one history entry (updated while it grows) instead of one entry per stroke, and a file
recognised twice in a row (on upload and again with the button) as one entry too. Anything
else is a new entry.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from recognition.imageio import ImageSource, load_image
from recognition.recognizer import NO_DIGIT

from .store import Entry, Store

THUMBNAIL_SIDE = 96


@dataclass
class Recognition:
    """One answer to store: ``inputs`` is ``(N, 28, 28)`` in [0, 1], one per digit."""

    mode: str  # "digit" or "number"
    source: str  # "sketch" or "upload"
    answer: str | None
    confidence: float
    inputs: np.ndarray


def thumbnail(image: ImageSource) -> bytes | None:
    """A PNG at most 96 px on its longer side, or None when the image cannot be read."""
    try:
        rgb, _ = load_image(image, max_side=THUMBNAIL_SIDE)
    except ValueError:
        return None
    buffer = io.BytesIO()
    Image.fromarray(np.round(rgb * 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def fingerprint(image: ImageSource) -> np.ndarray | bytes:
    """What identifies an input: a drawing's ink mask ``(H, W)`` bool, a file's SHA-256."""
    if isinstance(image, np.ndarray):
        grey = image if image.ndim == 2 else image[..., :3].mean(axis=-1)
        return grey < (128 if grey.dtype == np.uint8 else 0.5)
    return hashlib.sha256(Path(image).read_bytes()).digest()


def continues(before: np.ndarray | bytes, after: np.ndarray | bytes) -> bool:
    """Whether ``after`` is the same input as ``before``, or the same drawing grown."""
    if isinstance(before, bytes) or isinstance(after, bytes):
        return before == after
    return before.shape == after.shape and not np.any(before & ~after)


class Recorder:
    """Stores recognitions for signed-in users, one entry per drawing or file."""

    def __init__(self, store: Store, sessions: int = 2000) -> None:
        self.store = store
        self.sessions = sessions
        self._last: OrderedDict[tuple[str, str], tuple[int, np.ndarray | bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def record(self, email: str, session: str, image: ImageSource, recognition: Recognition) -> int:
        """Store ``recognition`` of ``image`` (with a thumbnail of it) for ``email``; returns
        the entry id."""
        key = (session, f"{recognition.mode}/{recognition.source}")
        mark = fingerprint(image)
        with self._lock:
            last = self._last.get(key)
        replace = last[0] if last is not None and continues(last[1], mark) else None
        entry = self.store.record(
            email,
            recognition.mode,
            recognition.source,
            recognition.answer,
            recognition.confidence,
            thumbnail(image),
            recognition.inputs,
            replace=replace,
        )
        with self._lock:
            self._last[key] = (entry, mark)
            self._last.move_to_end(key)
            while len(self._last) > self.sessions:
                self._last.popitem(last=False)
        return entry

    def forget(self, session: str, mode: str, source: str) -> None:
        """The canvas was cleared: the next drawing is a new entry."""
        with self._lock:
            self._last.pop((session, f"{mode}/{source}"), None)


def history_html(entries: list[Entry]) -> str:
    """A table of entries (newest first) with their thumbnails, for a ``gr.HTML``."""
    if not entries:
        return '<p class="history-empty">Nothing recognised yet. Draw or upload a digit.</p>'
    rows = []
    for entry in entries:
        image = ""
        if entry.thumbnail:
            data = base64.b64encode(entry.thumbnail).decode()
            image = f'<img src="data:image/png;base64,{data}" alt="input of entry {entry.id}">'
        answer = NO_DIGIT if entry.answer is None else entry.answer
        corrected = html.escape(entry.correction) if entry.correction else ""
        rows.append(
            f"<tr><td>{entry.id}</td><td>{html.escape(entry.created_at)} UTC</td>"
            f"<td>{html.escape(entry.mode)} ({html.escape(entry.source)})</td>"
            f"<td class='thumb'>{image}</td>"
            f"<td class='answer'>{html.escape(answer).replace(chr(10), '<br>')}</td>"
            f"<td>{entry.confidence:.1%}</td><td class='answer'>{corrected}</td></tr>"
        )
    return (
        '<table class="history"><thead><tr><th>Entry</th><th>Time</th><th>Mode</th>'
        "<th>Input</th><th>Answer</th><th>Confidence</th><th>Correction</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
