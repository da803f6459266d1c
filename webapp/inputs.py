"""Image inputs that only ever hand the app a file a user sent, never one off the server's disk.

Gradio passes a file payload given as ``{"path": ...}`` *without* its ``meta`` marker to the
component unchecked, so an API call could name any file the server can read. The app's
image events therefore run with Gradio's preprocessing off and check the path here
(:func:`checked_input`): it must be inside Gradio's upload folder (where every
upload and every example shown on the page lives) or the app's own example folder, and no
larger than the upload limit. Nothing here decodes the image: the recognition pipeline does
that, shrinking huge images while decoding.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

log = logging.getLogger("digits.web")

#: Uploads larger than this are refused, in the browser and in the handlers.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
NOT_UPLOADED = "This file was not uploaded to this app; send the image itself."
TOO_LARGE = f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB; not processed."

#: Files the app itself offers (its examples) may be used as inputs too.
_allowed_folders: list[Path] = []


def user_error(message: str) -> gr.Error:
    """The error a visitor sees for their own mistake (a wrong file, a huge image): shown on
    the page, and not printed to the server's log as a traceback."""
    return gr.Error(message, print_exception=False)


def allow_folder(folder: str | os.PathLike) -> None:
    """Accept input files from ``folder`` too (the app's example images)."""
    _allowed_folders.append(Path(folder).resolve())


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def checked_file(payload: Any) -> str | bytes | None:
    """A file payload (Gradio's ``FileData``/``ImageData``, or a dict of the same) -> the path
    of a file the user sent, or its bytes for an inline ``data:`` URL; None for no file.
    Raises :class:`gradio.Error` for anything else: a path outside the upload folder, a
    missing or oversized file, an undecodable data URL. Refusals are logged with the path;
    the user's message names none."""
    if payload is None:
        return None
    fields = payload if isinstance(payload, dict) else payload.__dict__
    url, path = fields.get("url"), fields.get("path")
    if isinstance(url, str) and url.startswith("data:") and not path:
        return _data_url(url)
    if not isinstance(path, str) or not path:
        return None
    resolved = Path(os.path.realpath(path))
    folders = [Path(os.path.realpath(get_upload_folder())), *_allowed_folders]
    if not any(_inside(resolved, folder) for folder in folders):
        log.warning("refused an input file outside the upload folder: %s", path)
        raise user_error(NOT_UPLOADED)
    if not resolved.is_file():
        log.warning("refused an input file that does not exist: %s", path)
        raise user_error(NOT_UPLOADED)
    if resolved.stat().st_size > MAX_UPLOAD_BYTES:
        raise user_error(TOO_LARGE)
    return str(resolved)


def _data_url(url: str) -> bytes:
    """The bytes of a base64 ``data:`` URL, refused beyond the upload limit before decoding."""
    header, _, encoded = url.partition(",")
    if not header.endswith(";base64") or len(encoded) > MAX_UPLOAD_BYTES * 4 // 3 + 4:
        raise user_error(TOO_LARGE if len(encoded) > MAX_UPLOAD_BYTES else NOT_UPLOADED)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise user_error("The image data could not be decoded.") from None


def checked_input(value: Any) -> Any:
    """What an image input's event hands its handler when Gradio's preprocessing is off
    (``preprocess=False``): a file payload becomes :func:`checked_file`'s path or bytes; an
    image editor dict keeps only its ``composite`` (``background`` and ``layers`` are
    ignored, whatever they hold), checked likewise. Anything else (an array from a Python
    caller, None) is returned as it is."""
    if isinstance(value, dict) and "composite" in value:
        value = value["composite"]
    if isinstance(value, dict) and ("path" in value or "url" in value):
        return checked_file(value)
    return value
