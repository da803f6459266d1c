"""What the page's events do: recognise a drawing, a file or a number, show the network's
inside, and keep a signed-in user's history. Each handler checks its input itself (see
``webapp.inputs``) and answers with the outputs the layout wires it to."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
from collections.abc import Callable
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd

from accounts import Store
from accounts.export import correction_problem
from accounts.history import Recognition, Recorder, history_html
from accounts.security import normalize_email
from accounts.store import DatabaseUnavailableError
from recognition import NOT_A_DIGIT, ImageError, Recognizer, load_image
from recognition.inside import Inspector, step_strip
from recognition.recognizer import NumberReading, Prediction
from webapp.canvas import StrokeError, done_marker, event_strokes, render_strokes
from webapp.inputs import checked_input, user_error
from webapp.page import (
    BOX_VIEW_SIDE,
    DIGIT_CANVAS,
    DRAW_PROMPT,
    INSIDE_EMPTY,
    NO_DIGIT_TEXT,
    NOT_DIGIT_BAR,
    NOT_SAVED,
    NUMBER_CANVAS,
)

log = logging.getLogger("digits.web")

RECOGNITION_WORKERS = 2
#: ...and waits in one queue of at most this many requests (more get "the queue is full").
QUEUE_SIZE = 64
#: Uploads and outputs in Gradio's cache are deleted after this many seconds by default.


def _enlarge(digit: np.ndarray, factor: int = 10) -> np.ndarray:
    """``(28, 28)`` float in [0, 1] -> ``(280, 280)`` uint8, each pixel a visible block."""
    return np.kron(
        (np.clip(digit, 0, 1) * 255).astype(np.uint8), np.ones((factor, factor), np.uint8)
    )


def chart_data(prediction: Prediction | None) -> pd.DataFrame:
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
        return empty_text, chart_data(None), None
    confidences = {str(d): float(p) for d, p in enumerate(prediction.probabilities)}
    if prediction.label is None:  # refused: make sure the label reads "not a digit"
        confidences[NOT_A_DIGIT] = max(prediction.not_digit, *confidences.values())
    elif prediction.not_digit >= 0.01:  # a real doubt is listed with the digits
        confidences[NOT_A_DIGIT] = prediction.not_digit
    return confidences, chart_data(prediction), _enlarge(prediction.input)


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


def _explain(detail: str) -> None:
    """Why no digit was found in an uploaded image ("the image is one flat colour"), shown
    beside the answer as a notice. Drawings need none: an empty canvas is plain to see."""
    if detail:
        gr.Info(f"No digit found: {detail}.")


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


def release_memory(handler: Callable) -> Callable:
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
            return DRAW_PROMPT, chart_data(None), None, None
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
            return "upload an image of a digit", chart_data(None), None, None
        prediction = self._predict(path)
        self._store_prediction(request, path, "upload", prediction)
        _explain(prediction.detail)
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
            return "", None, digit_table(None)
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
            return "", None, digit_table(None), done_marker(seq)
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
        if source == "upload":
            _explain(reading.detail)
        view = (np.clip(shown, 0, 1) * 255).astype(np.uint8)
        marks = [(d.box, str(d.label)) for d in reading.digits]
        marks += [(mark.box, mark.reason) for mark in reading.skipped]
        boxes = [
            (tuple(round(v * scale) for v in (x, y, x + w, y + h)), f"{n}: {name}")
            for n, ((x, y, w, h), name) in enumerate(marks, start=1)
        ]
        view = _numbered(view, [box for box, _ in boxes])
        if reading.number is None:
            return reading.reason or NO_DIGIT_TEXT, (view, boxes), digit_table(None)
        return reading.number, (view, boxes), digit_table(reading)

    # -- history (only with --accounts, for a signed-in user) -----------------------------

    def _user(self, request: gr.Request | None) -> str | None:
        if self.recorder is None or request is None or not request.username:
            return None
        return normalize_email(request.username)

    def _forget(self, request: gr.Request | None, mode: str) -> None:
        if self._user(request) is not None:
            self.recorder.forget(request.session_hash or "", mode, "sketch")

    def _store(self, request: gr.Request | None, image: Any, recognition: Recognition) -> None:
        """Store before answering, so that every answer shown is in the history: a database
        that cannot be reached turns the answer into an error that says so."""
        email = self._user(request)
        if email is None:
            return
        try:
            self.recorder.record(email, request.session_hash or "", image, recognition)
        except DatabaseUnavailableError:
            raise user_error(NOT_SAVED) from None

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


def _database_errors(handler: Callable) -> Callable:
    """A history handler whose database does not answer says so in one line."""

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except DatabaseUnavailableError:
            raise user_error(
                "The history database cannot be reached right now; try again in a moment."
            ) from None

    return wrapped


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

    @_database_errors
    def history(self, limit: int = 20, request: gr.Request = None) -> list[dict]:
        """The signed-in user's recognitions, newest first (at most ``limit``, up to 500):
        id, time (UTC), mode, source, answer, confidence, correction."""
        entries = self.store.history(self._email(request), max(1, min(int(limit), 500)))
        return [entry.to_json() for entry in entries]

    @_database_errors
    def correct(self, entry: int, digits: str, request: gr.Request = None) -> dict:
        """Mark the answer of one of your entries wrong and give the right digit(s); returns
        the entry."""
        email = self._email(request)
        found = self.store.entry(email, int(entry))
        if found is None:
            raise user_error(f"There is no entry #{int(entry)} in your history.")
        text = "\n".join(line.strip() for line in str(digits).strip().splitlines())
        problem = correction_problem(found.mode, text)
        if problem:
            raise user_error(problem)
        return self.store.correct(email, found.id, text).to_json()

    @_database_errors
    def table(self, request: gr.Request) -> str:
        return history_html(self.store.history(self._email(request), 50))

    @_database_errors
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


def digit_table(reading: NumberReading | None) -> pd.DataFrame:
    rows = []
    if reading is not None:
        for line_number, line in enumerate(reading.lines, start=1):
            for position, digit in enumerate(line, start=1):
                rows.append([line_number, position, digit.label, f"{digit.confidence:.1%}"])
    return pd.DataFrame(rows, columns=["line", "position", "digit", "confidence"])
