"""The web app: draw or upload a digit, or a whole number, and see what the network sees.

    python app.py [--weights PATH] [--host H] [--port P] [--share]   # public demo
    python app.py --accounts [--db PATH] [--no-signup]   # sign-in required, history kept
    python app.py --db PATH --add-user EMAIL             # password from a prompt or stdin
    python app.py --db PATH --export-corrections DIR     # for train.py --extra DIR

Endpoints (for gradio_client): ``/predict_sketch`` (a Sketchpad value), ``/predict_upload``
(an image file) and ``/read_number`` (an image file). The first output of the two predict
endpoints is the Label's value. With ``--accounts`` also ``/history`` (``limit`` -> the
user's entries, newest first) and ``/correct`` (``entry``, ``digits`` -> the entry), each
seeing only the signed-in user's own history. All recognition goes through
``recognition.Recognizer``, the same pipeline as ``recognize.py``.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import functools
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd

from accounts import Accounts, Store, StoreError, export_corrections, hash_password
from accounts.history import Recognition, Recorder, history_html
from accounts.security import normalize_email, registration_problem
from recognition import NOT_A_DIGIT, ImageError, Recognizer, load_image
from recognition.imageio import NOT_AN_IMAGE
from recognition.inside import STEP_CAPTIONS, Inspector, step_strip
from recognition.recognizer import DEFAULT_WEIGHTS, NumberReading, Prediction
from webapp.canvas import StrokeError, done_marker, drawing_pad, event_strokes, render_strokes
from webapp.guard import RequestGuard, guarded_lifespan, normalize_origin
from webapp.inputs import MAX_UPLOAD_BYTES, allow_folder, checked_input, user_error

log = logging.getLogger("digits.web")

ROOT = Path(__file__).resolve().parent
DEFAULT_DB = "digits.db"
#: Sign-ins expire after this many hours.
SESSION_HOURS = 12.0
EXAMPLES = ROOT / "examples" / "images"
#: All recognition work, whatever the tab or endpoint, shares this many workers...
RECOGNITION_WORKERS = 2
#: ...and waits in one queue of at most this many requests (more get "the queue is full").
QUEUE_SIZE = 64
#: Uploads and outputs in Gradio's cache are deleted after this many seconds by default.
CACHE_SECONDS = 3600
#: The number view is drawn on a copy at most this large (the boxes are scaled to it).
BOX_VIEW_SIDE = 800
DRAW_PROMPT = "draw a digit"
INSIDE_EMPTY = (
    "Draw or upload a digit in the **Digit** tab, then come back here. Meanwhile, these are "
    "the 32 filters the first layer learned from MNIST."
)
INSIDE_INTRO = """
What happens to the last digit you drew or uploaded, step by step. First the pipeline makes
your image look like MNIST. Then the network: each **convolution** slides its learned 3x3
filters over the image and every filter answers with a **feature map** (bright: the pattern
is there). The first layer's filters are edge and stroke detectors; deeper layers combine
them. The **saliency** map is the gradient of the winning class's score with respect to
each input pixel, computed by `model.backward`, the same backpropagation that trained the
network: red where more ink would raise the score, blue where it would lower it.
"""
NO_DIGIT_TEXT = "no digit found"
NOT_DIGIT_TEXT = (
    "**That doesn't look like a digit.** The network's best digit guesses are listed, "
    "but it thinks none of them is likely. Draw one digit, 0-9."
)
#: Runs in the browser when the Label changes: the refusal in words, or nothing.
VERDICT_JS = (
    f"(value) => (value && value.label === {json.dumps(NOT_A_DIGIT)}) ? "
    f"{json.dumps(NOT_DIGIT_TEXT)} : ''"
)

CSS = """
#seen img { image-rendering: pixelated; }
#intro h1 { margin-bottom: 0.2em; }
.caption p { margin: 0 0 -6px 2px; }
#verdict:empty { display: none; }
#probabilities { padding-bottom: 28px; }
#seen .icon-button-wrapper:empty, #seen .icon-button-wrapper:not(:has(button)) { display: none; }
#probabilities .vega-embed, #probabilities svg { overflow: visible !important; }
@media (max-width: 640px) {
  #intro-more { display: none; }
  #intro h1 { font-size: 1.5rem; }
}
footer { display: none !important; }
table.history { border-collapse: collapse; width: 100%; }
table.history th, table.history td { padding: 4px 8px; border-bottom: 1px solid #8884;
  text-align: left; vertical-align: middle; }
table.history td.thumb img { max-height: 56px; max-width: 96px; border: 1px solid #8884; }
table.history td.answer { font-size: 1.3em; font-weight: 600; }
"""

#: In the page's <head>: what Gradio's own markup lacks for keyboards and screen readers.
#: Arrow keys, Home and End move between tabs (the WAI-ARIA tabs pattern); the chart and the
#: numbered-boxes picture get names a screen reader can say.
HEAD = r"""
<script>
(() => {
  const NOT_AN_IMAGE = __NOT_AN_IMAGE__;
  document.addEventListener('keydown', (event) => {
    const tab = event.target.closest && event.target.closest('[role="tab"]');
    if (!tab) return;
    const keys = {ArrowRight: 1, ArrowLeft: -1, Home: 'first', End: 'last'};
    if (!(event.key in keys)) return;
    const list = tab.closest('[role="tablist"]') || tab.parentElement;
    const tabs = [...list.querySelectorAll('[role="tab"]')].filter(t => !t.disabled);
    const here = tabs.indexOf(tab);
    const step = keys[event.key];
    const next = step === 'first' ? 0 : step === 'last' ? tabs.length - 1
      : (here + step + tabs.length) % tabs.length;
    event.preventDefault();
    tabs[next].focus();
    tabs[next].click();
  });
  const names = {
    '#probabilities': 'Bar chart: the probability of each digit 0 to 9, and of not a digit',
  };
  const alts = {
    '#number-boxes img': 'The image with a numbered box around each digit found',
  };
  const label = () => {
    for (const [selector, name] of Object.entries(names)) {
      document.querySelectorAll(selector + ' svg, ' + selector + ' canvas').forEach(el => {
        if (el.getAttribute('aria-label') !== name) {
          el.setAttribute('role', 'img'); el.setAttribute('aria-label', name);
        }
      });
    }
    for (const [selector, alt] of Object.entries(alts)) {
      const first = document.querySelector(selector);
      if (first && first.alt !== alt) first.alt = alt;
      document.querySelectorAll(selector).forEach((img, i) => {
        if (i > 0 && img.alt) img.alt = '';  // the coloured masks repeat the boxes
      });
    }
  };
  // Gradio's own upload check says "Invalid file type: x. Only image/* allowed."; say it
  // as the server says it for a file it cannot read.
  const explain = () => {
    document.querySelectorAll('.toast-text, [data-testid="toast-text"]').forEach(el => {
      const match = el.textContent.match(/Invalid file type: (.*)\. Only image\/\* allowed\./);
      if (match) el.textContent = `${match[1]} is ${NOT_AN_IMAGE}.`;
    });
  };
  new MutationObserver(() => { label(); explain(); })
    .observe(document.documentElement, {childList: true, subtree: true});
})();
</script>
""".replace("__NOT_AN_IMAGE__", json.dumps(NOT_AN_IMAGE))

INTRO = """
# Handwritten digit recognizer
Draw a digit, upload a photo or scan of one, or read a whole number.
"""
#: The rest of the introduction (hidden on a phone, where the canvas matters more).
INTRO_MORE = """
The network is a small CNN written from scratch in NumPy (nnlite), 99.6 % on the MNIST test
set; it also says when something is not a digit at all. Before it sees your image, the image
is made to look like MNIST: ink found, centred and scaled, strokes evened out. The 28 x 28
picture is exactly what the network saw.
"""


def _enlarge(digit: np.ndarray, factor: int = 10) -> np.ndarray:
    """``(28, 28)`` float in [0, 1] -> ``(280, 280)`` uint8, each pixel a visible block."""
    return np.kron(
        (np.clip(digit, 0, 1) * 255).astype(np.uint8), np.ones((factor, factor), np.uint8)
    )


#: The chart's and the Label's name for the network's eleventh output.
NOT_DIGIT_BAR = "none"


def _chart(prediction: Prediction | None) -> pd.DataFrame:
    """Bar-chart data: the ten digits' probabilities and "not digit" (they sum to 1)."""
    values = np.zeros(11)
    if prediction is not None and prediction.probabilities is not None:
        values[:10] = prediction.probabilities
        values[10] = prediction.not_digit
    names = [str(d) for d in range(10)] + [NOT_DIGIT_BAR]
    return pd.DataFrame({"digit": names, "probability": values.astype(float)})


def _answer(prediction: Prediction, empty_text: str) -> tuple[Any, pd.DataFrame, Any]:
    """The three outputs of a prediction: Label value, bar-chart data, enlarged input. Ink
    that is not a digit gets the label "not a digit" (its probability is then the largest)
    with the digit guesses listed under it."""
    if prediction.probabilities is None:
        return empty_text, _chart(None), None
    confidences = {str(d): float(p) for d, p in enumerate(prediction.probabilities)}
    if prediction.label is None:  # refused: make sure the label reads "not a digit"
        confidences[NOT_A_DIGIT] = max(prediction.not_digit, *confidences.values())
    elif prediction.not_digit >= 0.01:  # a real doubt is listed with the digits
        confidences[NOT_A_DIGIT] = prediction.not_digit
    return confidences, _chart(prediction), _enlarge(prediction.input)


def _numbered(view: np.ndarray, boxes: list[tuple[int, ...]]) -> np.ndarray:
    """``(H, W, 3)`` uint8 picture with each box's number written beside its top-left corner
    (dark on a white tag), so that boxes are told apart by more than their colour."""
    from PIL import Image, ImageDraw, ImageFont

    picture = Image.fromarray(view)
    draw = ImageDraw.Draw(picture)
    size = max(12, min(28, view.shape[0] // 14))
    font = ImageFont.load_default(size=size)
    for number, (x0, y0, _, _) in enumerate(boxes, start=1):
        text = str(number)
        width = draw.textlength(text, font=font) + 6
        top = y0 - size - 6 if y0 >= size + 6 else y0
        draw.rectangle((x0, top, x0 + width, top + size + 4), fill="white", outline="black")
        draw.text((x0 + 3, top + 1), text, fill="black", font=font)
    return np.asarray(picture)


def _in_words(label_value: Any) -> str:
    """The Label's value as the few words the drawing pad shows under its canvas:
    "Reads 7 (98%)", "Not a digit (87%)", or the prompt."""
    if not isinstance(label_value, dict):
        return str(label_value or "")
    best = max(label_value, key=label_value.get)
    if best == NOT_A_DIGIT:
        return f"Not a digit ({label_value[best]:.0%})"
    return f"Reads {best} ({label_value[best]:.0%})"


def _unusable(error: ImageError) -> gr.Error:
    """The message a user sees for an image that cannot be used (the details go to the log;
    the message names no file and carries no raw exception text)."""
    if error.detail:
        log.info("unusable image: %s (%s)", error, error.detail)
    return user_error(f"This image cannot be used: {error}.")


def _sketch_image(value: dict | np.ndarray | str | bytes | None) -> np.ndarray | None:
    """The drawing of a sketch input (an image file's checked path or bytes, an array, or an
    image editor dict with ``composite``) as ``(H, W, 3)`` float, or None when it is blank.
    Large drawings are shrunk while loading."""
    if isinstance(value, dict):
        value = value.get("composite")
    if value is None:
        return None
    try:
        array, _ = load_image(value)
    except ImageError as error:
        raise _unusable(error) from None
    if array.size == 0 or array.min() == array.max():
        return None
    return array


def _release_memory(handler: Callable) -> Callable:
    """Give freed memory back to the system after each request: glibc keeps large freed
    blocks in its heap otherwise, and a server that peaked once would stay that large."""

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        finally:
            _TRIM()

    return wrapped


def _malloc_trim() -> Callable[[], None]:
    """glibc's ``malloc_trim(0)``, or a no-op where the C library has none."""
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        trim = None
    if trim is None:
        return lambda: None

    def release() -> None:
        trim(0)

    return release


_TRIM = _malloc_trim()


class DigitApp:
    """The handlers of the page, bound to one recognizer (thread-safe: they share no state
    but the optional history :class:`~accounts.history.Recorder`)."""

    def __init__(self, recognizer: Recognizer, recorder: Recorder | None = None) -> None:
        self.recognizer = recognizer
        self.recorder = recorder
        self.inspector = Inspector(recognizer)  # the network's own copy for the Inside tab
        blank = np.zeros((28, 28), np.float32)
        #: One caption per convolution block: what each feature-map image of the tab shows.
        self.inside_captions = [c for _, c in self.inspector.feature_map_grids(blank)]

    def predict_sketch(
        self, value: Any, request: gr.Request | None = None
    ) -> tuple[Any, pd.DataFrame, Any, Any]:
        """A drawing (the sketch input's checked file, or an array) -> (Label value,
        probabilities chart, the 28x28 input enlarged, the drawing kept for the "Inside the
        network" tab)."""
        return self._predict_drawing(_sketch_image(checked_input(value)), request)

    def predict_strokes(
        self, event: gr.EventData, request: gr.Request | None = None
    ) -> tuple[Any, pd.DataFrame, Any, Any, str]:
        """The canvas's ``draw`` event -> the outputs of :meth:`predict_sketch` and the
        ``done`` marker for the page."""
        data, seq = event_strokes(event)
        found = self._predict_drawing(_rendered(data, *DIGIT_CANVAS), request)
        return (*found, done_marker(seq, _in_words(found[0])))

    def _predict_drawing(
        self, drawing: np.ndarray | None, request: gr.Request | None
    ) -> tuple[Any, pd.DataFrame, Any, Any]:
        if drawing is None:
            self._forget(request, "digit")
            return DRAW_PROMPT, _chart(None), None, None
        prediction = self._predict(drawing)
        self._store_prediction(request, drawing, "sketch", prediction)
        return (*_answer(prediction, DRAW_PROMPT), drawing)

    def predict_upload(
        self, path: str | bytes | None, request: gr.Request | None = None
    ) -> tuple[Any, pd.DataFrame, Any, Any]:
        """Image file (its checked path, or bytes) -> (Label value, probabilities chart, the
        28x28 input enlarged, the file kept for the "Inside the network" tab)."""
        path = checked_input(path)
        if not path:
            return "upload an image of a digit", _chart(None), None, None
        prediction = self._predict(path)
        self._store_prediction(request, path, "upload", prediction)
        return (*_answer(prediction, NO_DIGIT_TEXT), path)

    def inside(self, current: Any) -> tuple:
        """The "Inside the network" tab for the last digit recognised (a drawing or a file):
        (what is shown, the preprocessing steps, the saliency overlay, the first layer's
        filters, the feature maps). Computed only when the tab is opened."""
        blocks = len(self.inside_captions)
        if current is None:
            return INSIDE_EMPTY, None, None, self.inspector.filter_grid(), *[None] * blocks
        try:
            view = self.inspector.inspect(current)
        except ImageError as error:
            raise _unusable(error) from None
        prediction = view.prediction
        if prediction.label is None and prediction.probabilities is not None:
            guess, chance = prediction.top_k[0]
            status = (
                f"The last input doesn't look like a digit (not a digit: "
                f"{prediction.not_digit:.1%}; the best digit guess was {guess} at "
                f"{chance:.1%}). Here is what the network saw."
            )
        elif prediction.label is None:
            status = "No ink was found in the last input: only the first steps can be shown."
        else:
            status = (
                f"The last digit you gave was read as **{prediction.label}** "
                f"({prediction.confidence:.1%}). Here is how."
            )
        maps = [grid for grid, _ in view.feature_maps] or [None] * blocks
        strip = step_strip(view.steps) if view.steps else None
        return status, strip, view.saliency_image, view.filters, *maps

    def read_number(
        self, path: str | bytes | None, request: gr.Request | None = None
    ) -> tuple[str, Any, pd.DataFrame]:
        """Image file (its checked path, or bytes) -> (the number read, the image with a box
        per digit, a digit table)."""
        path = checked_input(path)
        if not path:
            return "", None, _digit_table(None)
        return self._read(path, "upload", request)

    def read_number_strokes(
        self, event: gr.EventData, request: gr.Request | None = None
    ) -> tuple[str, Any, pd.DataFrame, str]:
        """The number canvas's ``draw`` event -> the outputs of :meth:`read_number` and the
        ``done`` marker."""
        data, seq = event_strokes(event)
        drawing = _rendered(data, *NUMBER_CANVAS)
        if drawing is None:
            self._forget(request, "number")
            return "", None, _digit_table(None), done_marker(seq)
        number, *rest = self._read(drawing, "sketch", request)
        said = f"Reads {number}" if number and number[0].isdigit() else number
        return (number, *rest, done_marker(seq, said.replace("\n", " / ")))

    def _predict(self, image: Any) -> Prediction:
        try:
            return self.recognizer.predict(image)
        except ImageError as error:
            raise _unusable(error) from None

    def _read(
        self, image: Any, source: str, request: gr.Request | None
    ) -> tuple[str, Any, pd.DataFrame]:
        try:
            reading = self.recognizer.read_number(image)
            shown, scale = load_image(image, max_side=BOX_VIEW_SIDE)
        except ImageError as error:
            raise _unusable(error) from None
        self._store_reading(request, image, source, reading)
        view = (np.clip(shown, 0, 1) * 255).astype(np.uint8)
        marks = [(d.box, str(d.label)) for d in reading.digits]
        marks += [(mark.box, mark.reason) for mark in reading.skipped]
        boxes = [
            (tuple(round(v * scale) for v in (x, y, x + w, y + h)), f"{n}: {name}")
            for n, ((x, y, w, h), name) in enumerate(marks, start=1)
        ]
        view = _numbered(view, [box for box, _ in boxes])
        if reading.number is None:
            return reading.reason or NO_DIGIT_TEXT, (view, boxes), _digit_table(None)
        return reading.number, (view, boxes), _digit_table(reading)

    # -- history (only with --accounts, for a signed-in user) -----------------------------

    def _user(self, request: gr.Request | None) -> str | None:
        if self.recorder is None or request is None or not request.username:
            return None
        return normalize_email(request.username)

    def _forget(self, request: gr.Request | None, mode: str) -> None:
        if self._user(request) is not None:
            self.recorder.forget(request.session_hash or "", mode, "sketch")

    def _store(self, request: gr.Request | None, image: Any, recognition: Recognition) -> None:
        """Store before answering, so that every answer shown is in the history; a failure
        to store still shows the answer, with a warning."""
        email = self._user(request)
        if email is None:
            return
        try:
            self.recorder.record(email, request.session_hash or "", image, recognition)
        except Exception as error:  # the answer must still reach the user
            gr.Warning(f"This answer could not be saved to your history ({error}).")

    def _store_prediction(
        self, request: gr.Request | None, image: Any, source: str, prediction: Prediction
    ) -> None:
        inputs = np.zeros((0, 28, 28)) if prediction.input is None else prediction.input[None]
        answer = None if prediction.label is None else str(prediction.label)
        self._store(
            request,
            image,
            Recognition("digit", source, answer, prediction.confidence, inputs),
        )

    def _store_reading(
        self, request: gr.Request | None, image: Any, source: str, reading: NumberReading
    ) -> None:
        digits = reading.digits
        inputs = np.stack([d.input for d in digits]) if digits else np.zeros((0, 28, 28))
        # The chance that the whole number is right, if the digits' errors are independent.
        confidence = float(np.prod([d.confidence for d in digits])) if digits else 0.0
        self._store(
            request,
            image,
            Recognition("number", source, reading.number, confidence, inputs),
        )


class HistoryView:
    """The History tab and the ``/history`` and ``/correct`` endpoints: each signed-in user
    sees and corrects only their own entries."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _email(request: gr.Request | None) -> str:
        if request is None or not request.username:
            raise user_error("Sign in to see your history.")
        return normalize_email(request.username)

    def history(self, limit: int = 20, request: gr.Request = None) -> list[dict]:
        """The signed-in user's recognitions, newest first (at most ``limit``, up to 500):
        id, time (UTC), mode, source, answer, confidence, correction."""
        entries = self.store.history(self._email(request), max(1, min(int(limit), 500)))
        return [entry.to_json() for entry in entries]

    def correct(self, entry: int, digits: str, request: gr.Request = None) -> dict:
        """Mark the answer of one of your entries wrong and give the right digit(s); returns
        the entry."""
        email = self._email(request)
        found = self.store.entry(email, int(entry))
        if found is None:
            raise user_error(f"There is no entry #{int(entry)} in your history.")
        text = "\n".join(line.strip() for line in str(digits).strip().splitlines())
        problem = _correction_problem(found.mode, text)
        if problem:
            raise user_error(problem)
        return self.store.correct(email, found.id, text).to_json()

    def table(self, request: gr.Request) -> str:
        return history_html(self.store.history(self._email(request), 50))

    def open_tab(self, request: gr.Request) -> tuple[str, int | None]:
        """The table, and the newest entry's number in the form: the likeliest to correct."""
        entries = self.store.history(self._email(request), 50)
        return history_html(entries), entries[0].id if entries else None

    def correct_from_page(
        self, entry: float | None, digits: str, request: gr.Request
    ) -> tuple[str, str]:
        """The form's button: (status message, refreshed table)."""
        if entry is None:
            raise user_error("Give the number of the entry to correct (first column).")
        fixed = self.correct(int(entry), digits, request)
        message = f"Entry #{fixed['id']} corrected to {fixed['correction']}. Thank you!"
        return message, self.table(request)


def _rendered(data: Any, width: int, height: int) -> np.ndarray | None:
    try:
        return render_strokes(data, width, height)
    except StrokeError as error:
        raise user_error(f"This drawing cannot be used: {error}.") from None


def _correction_problem(mode: str, text: str) -> str | None:
    """Why ``text`` is not a correction for an entry of this mode, or None."""
    if not text:
        return "Give the right digit(s)."
    if any(not (c.isdigit() or c == "\n") for c in text) or not text.isascii():
        return "A correction is made of the digits 0-9 only (one line per line of digits)."
    if mode == "digit" and len(text) != 1:
        return "This entry is a single digit: give one digit 0-9."
    return None


def _digit_table(reading: NumberReading | None) -> pd.DataFrame:
    rows = []
    if reading is not None:
        for line_number, line in enumerate(reading.lines, start=1):
            for position, digit in enumerate(line, start=1):
                rows.append([line_number, position, digit.label, f"{digit.confidence:.1%}"])
    return pd.DataFrame(rows, columns=["line", "position", "digit", "confidence"])


def _examples(pattern: str) -> list[str]:
    return [str(path) for path in sorted(EXAMPLES.glob(pattern))]


#: The canvases' sizes in pixels (width, height): what the page draws on and the server
#: redraws the strokes at.
DIGIT_CANVAS = (280, 280)
NUMBER_CANVAS = (560, 200)


def _image_input(elem_id: str, label: str) -> gr.Image:
    """An image input from a file, the webcam or the clipboard. Its events run with
    ``preprocess=False``: the handler checks the file itself and passes it on untouched, so
    that our loader composites transparency and shrinks huge images while decoding."""
    gr.Markdown(f"**{label}**", elem_classes="caption")
    return gr.Image(
        elem_id=elem_id,
        type="filepath",
        image_mode=None,
        sources=["upload", "webcam", "clipboard"],
        label=label,
        show_label=False,
    )


def build_app(
    recognizer: Recognizer, store: Store | None = None, cache_seconds: int = CACHE_SECONDS
) -> gr.Blocks:
    """The page: Draw, Upload and Number tabs, and the answer beside them; with a ``store``
    (``--accounts``) also who is signed in and a History tab. Cached uploads and outputs are
    deleted once they are ``cache_seconds`` old."""
    handlers = DigitApp(recognizer, Recorder(store) if store is not None else None)
    allow_folder(EXAMPLES)  # the example images may be sent back as inputs
    work = {"concurrency_id": "recognition", "concurrency_limit": RECOGNITION_WORKERS}
    files = {**work, "preprocess": False}  # inputs checked by the handlers (webapp.inputs)
    every = max(60, min(cache_seconds, 3600) // 4)
    with gr.Blocks(
        title="Handwritten digit recognizer", delete_cache=(every, cache_seconds)
    ) as demo:
        gr.Markdown(INTRO, elem_id="intro")
        gr.Markdown(INTRO_MORE, elem_id="intro-more")
        current = gr.State(None)  # the last digit input, for "Inside the network"
        # For API callers: /predict_sketch takes the image editor's dict (composite only).
        sketch_api = gr.Sketchpad(visible=False, elem_id="sketch-api")
        sketch_api_button = gr.Button(visible=False)
        if store is not None:
            signed_in = gr.Markdown(elem_id="signed-in")
            demo.load(_signed_in, None, signed_in, api_visibility="private")
        with gr.Tabs():
            with gr.Tab("Digit", id="digit-tab"), gr.Row(equal_height=False):
                with gr.Column(scale=1, min_width=300), gr.Tabs():
                    with gr.Tab("Draw", id="draw"):
                        sketch = drawing_pad(
                            "sketch",
                            *DIGIT_CANVAS,
                            18,
                            "Draw a digit here",
                            "sketch-done",
                            "Drawing area for one digit",
                        )
                        sketch_done = gr.HTML(visible="hidden", elem_id="sketch-done")
                    with gr.Tab("Upload", id="upload-tab"):
                        upload = _image_input("upload", "A photo, scan or picture of one digit")
                        upload_button = gr.Button("Recognise", variant="primary")
                        gr.Examples(_examples("[a-k]*_*.*") + _examples("[p-z]*_*.*"), upload)
                with gr.Column(scale=1, min_width=300):
                    pred = gr.Label(num_top_classes=3, elem_id="pred", label="Prediction")
                    verdict = gr.Markdown("", elem_id="verdict")
                    with gr.Row(equal_height=False, elem_id="answer-pictures"):
                        with gr.Column(scale=0, min_width=180):
                            gr.Markdown("What the network saw (28 x 28)", elem_classes="caption")
                            seen = gr.Image(
                                elem_id="seen",
                                show_label=False,
                                interactive=False,
                                height=168,
                                width=168,
                                buttons=[],
                                alt_text="The 28 x 28 image the network saw, enlarged",
                            )
                        with gr.Column(scale=1, min_width=240):
                            chart = gr.BarPlot(
                                _chart(None),
                                x="digit",
                                y="probability",
                                y_lim=[0, 1],
                                sort="x",
                                x_title=" ",  # the label says it; the axis has no room
                                label="Probability of each digit, and of not a digit",
                                elem_id="probabilities",
                                height=200,
                            )
            with gr.Tab("Number", id="number-tab"):
                gr.Markdown(
                    "Upload or draw a whole number: a PIN, a phone number, lines of digits."
                )
                with gr.Row(equal_height=False):
                    with gr.Column(min_width=300):
                        number_upload = _image_input("number-upload", "An image of a number")
                        number_button = gr.Button("Read number", variant="primary")
                        gr.Examples(_examples("number_*") + _examples("lines_*"), number_upload)
                        number_sketch = drawing_pad(
                            "number-sketch",
                            *NUMBER_CANVAS,
                            12,
                            "Or draw a number here",
                            "number-done",
                            "Drawing area for a number",
                        )
                        number_done = gr.HTML(visible="hidden", elem_id="number-done")
                    with gr.Column(min_width=300):
                        number_text = gr.Textbox(label="Number read", elem_id="number-text")
                        gr.Markdown("**Digits found**, numbered", elem_classes="caption")
                        number_boxes = gr.AnnotatedImage(
                            label="Digits found", elem_id="number-boxes", show_label=False
                        )
                        number_table = gr.Dataframe(
                            _digit_table(None), label="Each digit", elem_id="number-digits"
                        )
            with gr.Tab("Inside the network", id="inside-tab") as inside_tab:
                inside = _inside_tab(handlers)
            if store is not None:
                history = HistoryView(store)
                _history_tab(history)
        if store is not None:
            gr.api(history.history, api_name="history")
            gr.api(history.correct, api_name="correct")

        answer = [pred, chart, seen, current]
        # The page's words for a refusal, in the browser (the API's outputs stay the same).
        pred.change(None, pred, verdict, js=VERDICT_JS, api_visibility="private", queue=False)
        sketch_api_button.click(
            _release_memory(handlers.predict_sketch),
            sketch_api,
            answer,
            api_name="predict_sketch",
            **files,
        )
        sketch.draw(
            _release_memory(handlers.predict_strokes),
            None,
            [*answer, sketch_done],
            api_visibility="private",
            trigger_mode="always_last",
            show_progress="hidden",
            **work,
        )
        upload_button.click(
            _release_memory(handlers.predict_upload),
            upload,
            answer,
            api_name="predict_upload",
            **files,
        )
        upload.change(
            _release_memory(handlers.predict_upload),
            upload,
            answer,
            api_visibility="private",
            **files,
        )
        inside_tab.select(
            _release_memory(handlers.inside), current, inside, api_visibility="private", **work
        )
        number_outputs = [number_text, number_boxes, number_table]
        number_button.click(
            _release_memory(handlers.read_number),
            number_upload,
            number_outputs,
            api_name="read_number",
            **files,
        )
        number_upload.change(
            _release_memory(handlers.read_number),
            number_upload,
            number_outputs,
            api_visibility="private",
            **files,
        )
        number_sketch.draw(
            _release_memory(handlers.read_number_strokes),
            None,
            [*number_outputs, number_done],
            api_visibility="private",
            trigger_mode="always_last",
            show_progress="hidden",
            **work,
        )
    demo.queue(default_concurrency_limit=RECOGNITION_WORKERS, max_size=QUEUE_SIZE)
    return demo


def _picture(caption: str, elem_id: str, height: int | None = None) -> gr.Image:
    """An output picture with its caption above it, never over it (a Gradio image's label
    floats over its top rows), and the caption as its alt text."""
    gr.Markdown(f"**{caption}**", elem_classes="caption")
    return gr.Image(
        elem_id=elem_id,
        show_label=False,
        interactive=False,
        height=height,
        buttons=["fullscreen"],
        alt_text=caption,
    )


def _inside_tab(handlers: DigitApp) -> list[gr.components.Component]:
    """The "Inside the network" tab's outputs: status, steps, saliency, filters, and one
    image per convolution block."""
    gr.Markdown(INSIDE_INTRO)
    status = gr.Markdown(elem_id="inside-status")
    steps = _picture("Preprocessing, step by step", "inside-steps")
    gr.Markdown("\n".join(f"{caption}." for caption in STEP_CAPTIONS.values()))
    with gr.Row(equal_height=False):
        with gr.Column(min_width=280):
            saliency = _picture(
                "Saliency: red where more ink raises the answer's score, blue where it lowers it",
                "saliency",
                height=300,
            )
        with gr.Column(min_width=280):
            filters = _picture(
                "The first layer's 32 filters (red > 0, blue < 0)", "filters", height=300
            )
    maps = [
        _picture(caption, f"feature-maps-{index}")
        for index, caption in enumerate(handlers.inside_captions, start=1)
    ]
    return [status, steps, saliency, filters, *maps]


def _signed_in(request: gr.Request) -> str:
    return f"Signed in as **{request.username}** · [Sign out](/logout)"


def _history_tab(view: HistoryView) -> None:
    """The History tab (filled when opened) with its correction form."""
    with gr.Tab("History", id="history-tab") as tab:
        gr.Markdown(
            "Your recognitions, newest first. If an answer was wrong, give the entry's number "
            "and the right digit(s): corrections can be exported to train the network."
        )
        with gr.Row(equal_height=True):
            entry = gr.Number(None, label="Entry", precision=0, minimum=1, elem_id="correct-entry")
            digits = gr.Textbox(label="The right digit(s)", elem_id="correct-digits")
            save = gr.Button(
                "Save correction", variant="primary", elem_id="correct-button", scale=0
            )
        status = gr.Markdown(elem_id="correct-status")
        refresh = gr.Button("Refresh", size="sm")
        table = gr.HTML(elem_id="history")
    tab.select(view.open_tab, None, [table, entry], api_visibility="private")
    refresh.click(view.table, None, table, api_visibility="private")
    save.click(view.correct_from_page, [entry, digits], [status, table], api_visibility="private")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve the handwritten digit recognizer.")
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help="model file")
    parser.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        help="address to listen on (default: $GRADIO_SERVER_NAME or 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        help="port (default: $GRADIO_SERVER_PORT or 7860)",
    )
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public link")
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also accept requests from pages at ORIGIN (scheme://host[:port]), e.g. a site "
        "that embeds the app; repeatable. Other sites' requests are refused.",
    )
    parser.add_argument(
        "--cache-seconds",
        type=int,
        default=CACHE_SECONDS,
        help=f"delete uploads and outputs this old (default {CACHE_SECONDS})",
    )
    accounts = parser.add_argument_group("accounts and history")
    accounts.add_argument(
        "--accounts", action="store_true", help="require sign-in and keep each user's history"
    )
    accounts.add_argument(
        "--db", default=None, help=f"the accounts database (default: ./{DEFAULT_DB})"
    )
    accounts.add_argument(
        "--no-signup", action="store_true", help="no self-registration: only --add-user"
    )
    accounts.add_argument(
        "--session-hours",
        type=float,
        default=SESSION_HOURS,
        help=f"sign-ins expire after this many hours (default {SESSION_HOURS:g})",
    )
    accounts.add_argument(
        "--add-user",
        metavar="EMAIL",
        help="add an account and exit (password from a prompt, or stdin's first line)",
    )
    accounts.add_argument(
        "--export-corrections",
        metavar="DIR",
        help="write the users' corrected samples to DIR (for train.py --extra DIR) and exit",
    )
    args = parser.parse_args(argv)
    if args.add_user and args.export_corrections:
        parser.error("--add-user and --export-corrections are separate runs")
    admin = args.add_user or args.export_corrections
    if not args.accounts and not admin and (args.db or args.no_signup):
        parser.error("--db and --no-signup need --accounts (python app.py alone is public)")
    if admin and (args.accounts or args.share):
        parser.error(
            "--add-user and --export-corrections do their work and exit; run the app "
            "with --accounts separately"
        )
    try:
        args.allow_origin = [normalize_origin(origin) for origin in args.allow_origin]
    except ValueError as error:
        parser.error(str(error))
    if args.cache_seconds < 60:
        parser.error("--cache-seconds must be at least 60")
    if not args.session_hours > 0:
        parser.error("--session-hours must be positive")
    args.db = args.db or DEFAULT_DB
    return args


def open_store(path: str) -> Store:
    """The accounts database, or one line on stderr and exit status 2."""
    try:
        return Store(path)
    except StoreError as error:
        print(f"app.py: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def read_new_password() -> str:
    """A prompt (twice) on a terminal, otherwise the first line of standard input."""
    if sys.stdin is not None and sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise ValueError("The two passwords do not match.")
        return password
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def add_user(store: Store, email: str) -> int:
    """``--add-user``: 0 when the account was made, 1 (with the reason) when refused."""
    try:
        password = read_new_password()
    except (ValueError, EOFError, KeyboardInterrupt) as error:
        print(f"app.py: {error or 'cancelled'}", file=sys.stderr)
        return 1
    problem = registration_problem(email, password, password)
    address = normalize_email(email)
    if problem is None and store.user(address) is not None:
        problem = f"An account for {address} exists already."
    if problem is not None:
        print(f"app.py: {problem}", file=sys.stderr)
        return 1
    store.add_user(address, hash_password(password))
    print(f"added {address} to {store.path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.add_user:
        return add_user(open_store(args.db), args.add_user)
    if args.export_corrections:
        if not Path(args.db).is_file():
            print(f"app.py: there is no database at {args.db}", file=sys.stderr)
            return 2
        try:
            written, skipped = export_corrections(open_store(args.db), args.export_corrections)
        except OSError as error:
            print(f"app.py: cannot write {args.export_corrections}: {error}", file=sys.stderr)
            return 2
        print(
            f"wrote {written} corrected sample(s) to {args.export_corrections}"
            + (f" ({skipped} corrections skipped: digit count does not match)" if skipped else "")
        )
        return 0
    recognizer = Recognizer.load_or_exit(args.weights, "app.py")
    store = open_store(args.db) if args.accounts else None
    demo = build_app(recognizer, store, args.cache_seconds)
    login: dict[str, Any] = {}
    jobs = []
    app_kwargs: dict[str, Any] = {}
    if store is not None:
        accounts = Accounts(
            store, signup=not args.no_signup, session_seconds=args.session_hours * 3600
        )
        login = {"auth": accounts.authenticate, "auth_message": accounts.auth_message}
        app_kwargs["routes"] = accounts.routes()
        jobs.append(accounts.expire_sessions)
        print(
            f"accounts: {store.path} ({store.user_count()} users); sign-in required"
            + ("" if args.no_signup else ", self-registration at /register")
        )
    app_kwargs["lifespan"] = guarded_lifespan(
        lambda app: RequestGuard(app, allowed_origins=args.allow_origin), jobs
    )
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        max_file_size=MAX_UPLOAD_BYTES,
        app_kwargs=app_kwargs,
        css=CSS,
        head=HEAD,
        theme=gr.themes.Soft(),
        prevent_thread_lock=True,
        quiet=False,
        **login,
    )
    if args.share and not demo.share_url:
        print("app.py: no public link could be made (no network?); serving locally only.")
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        demo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
