"""The web app: draw or upload a digit, or a whole number, and see what the network sees.

    python app.py [--weights PATH] [--host H] [--port P] [--share]

Endpoints (for gradio_client): ``/predict_sketch`` (a Sketchpad value), ``/predict_upload``
(an image file) and ``/read_number`` (an image file). The first output of the two predict
endpoints is the Label's value. All recognition goes through ``recognition.Recognizer``, the
same pipeline as ``recognize.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd

from recognition import ImageError, Recognizer
from recognition.recognizer import DEFAULT_WEIGHTS, NumberReading, Prediction

ROOT = Path(__file__).resolve().parent
EXAMPLES = ROOT / "examples" / "images"
#: Uploads larger than this are refused, in the browser and in the handlers.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
DRAW_PROMPT = "draw a digit"
NO_DIGIT_TEXT = "no digit found"

CSS = """
#sketch, #number-sketch { max-width: 100%; }
#seen img { image-rendering: pixelated; }
footer { display: none !important; }
"""

INTRO = """
# Handwritten digit recognizer
Draw a digit, upload a photo or scan of one, or read a whole number. The network is a small
CNN written from scratch in NumPy (nnlite), 99.6 % on the MNIST test set. Before it sees
your image, the image is made to look like MNIST: ink found, centred and scaled, strokes
evened out. The 28 x 28 picture is exactly what the network saw.
"""


def _enlarge(digit: np.ndarray, factor: int = 10) -> np.ndarray:
    """``(28, 28)`` float in [0, 1] -> ``(280, 280)`` uint8, each pixel a visible block."""
    return np.kron(
        (np.clip(digit, 0, 1) * 255).astype(np.uint8), np.ones((factor, factor), np.uint8)
    )


def _chart(probabilities: np.ndarray | None) -> pd.DataFrame:
    values = np.zeros(10) if probabilities is None else probabilities
    return pd.DataFrame({"digit": [str(d) for d in range(10)], "probability": values.astype(float)})


def _answer(prediction: Prediction, empty_text: str) -> tuple[Any, pd.DataFrame, Any]:
    """The three outputs of a prediction: Label value, bar-chart data, enlarged input."""
    if prediction.label is None:
        return empty_text, _chart(None), None
    confidences = {str(d): float(p) for d, p in enumerate(prediction.probabilities)}
    return confidences, _chart(prediction.probabilities), _enlarge(prediction.input)


def _check_upload(path: str | None) -> None:
    if path and os.path.getsize(path) > MAX_UPLOAD_BYTES:
        raise gr.Error(f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB; not processed.")


def _sketch_image(value: dict | np.ndarray | None) -> np.ndarray | None:
    """The drawing of a Sketchpad value (a dict with ``composite``), or None when empty."""
    if isinstance(value, dict):
        value = value.get("composite")
    if value is None:
        return None
    array = np.asarray(value)
    if array.size == 0 or array.min() == array.max():
        return None
    return array


class DigitApp:
    """The handlers of the page, bound to one recognizer (thread-safe: they share no state)."""

    def __init__(self, recognizer: Recognizer) -> None:
        self.recognizer = recognizer

    def predict_sketch(self, value: dict | None) -> tuple[Any, pd.DataFrame, Any]:
        """Sketchpad value -> (Label value, probabilities chart, the 28x28 input enlarged)."""
        drawing = _sketch_image(value)
        if drawing is None:
            return DRAW_PROMPT, _chart(None), None
        return _answer(self._predict(drawing), DRAW_PROMPT)

    def predict_upload(self, path: str | None) -> tuple[Any, pd.DataFrame, Any]:
        """Image file -> (Label value, probabilities chart, the 28x28 input enlarged)."""
        if not path:
            return "upload an image of a digit", _chart(None), None
        _check_upload(path)
        return _answer(self._predict(path), NO_DIGIT_TEXT)

    def read_number(self, path: str | None) -> tuple[str, Any, pd.DataFrame]:
        """Image file -> (the number read, the image with a box per digit, a digit table)."""
        if not path:
            return "", None, _digit_table(None)
        _check_upload(path)
        return self._read(path)

    def read_number_sketch(self, value: dict | None) -> tuple[str, Any, pd.DataFrame]:
        drawing = _sketch_image(value)
        if drawing is None:
            return "", None, _digit_table(None)
        return self._read(drawing)

    def _predict(self, image: Any) -> Prediction:
        try:
            return self.recognizer.predict(image)
        except ImageError as error:
            raise gr.Error(f"This image cannot be used: {error}.") from None

    def _read(self, image: Any) -> tuple[str, Any, pd.DataFrame]:
        try:
            reading = self.recognizer.read_number(image)
            shown = image if isinstance(image, np.ndarray) else str(image)
        except ImageError as error:
            raise gr.Error(f"This image cannot be used: {error}.") from None
        if reading.number is None:
            return NO_DIGIT_TEXT, (shown, []), _digit_table(None)
        boxes = [
            ((x, y, x + w, y + h), f"{d.label} ({d.confidence:.0%})")
            for d in reading.digits
            for x, y, w, h in [d.box]
        ]
        return reading.number, (shown, boxes), _digit_table(reading)


def _digit_table(reading: NumberReading | None) -> pd.DataFrame:
    rows = []
    if reading is not None:
        for line_number, line in enumerate(reading.lines, start=1):
            for position, digit in enumerate(line, start=1):
                rows.append([line_number, position, digit.label, round(digit.confidence, 4)])
    return pd.DataFrame(rows, columns=["line", "position", "digit", "confidence"])


def _examples(pattern: str) -> list[str]:
    return [str(path) for path in sorted(EXAMPLES.glob(pattern))]


def _sketchpad(
    elem_id: str, canvas_size: tuple[int, int], brush_size: int, label: str
) -> gr.Sketchpad:
    """A drawing canvas: black fixed-colour brush on white, one layer, greyscale numpy value."""
    return gr.Sketchpad(
        elem_id=elem_id,
        type="numpy",
        image_mode="L",
        canvas_size=canvas_size,
        brush=gr.Brush(default_size=brush_size, colors=["#000000"], color_mode="fixed"),
        layers=False,
        transforms=(),
        label=label,
    )


def _image_input(elem_id: str, label: str) -> gr.Image:
    """An image input from a file, the webcam or the clipboard, passed on as the file path
    untouched (``image_mode=None``), so that our loader composites transparency itself."""
    return gr.Image(
        elem_id=elem_id,
        type="filepath",
        image_mode=None,
        sources=["upload", "webcam", "clipboard"],
        label=label,
    )


def build_app(recognizer: Recognizer) -> gr.Blocks:
    """The page: Draw, Upload and Number tabs, and the answer beside them."""
    handlers = DigitApp(recognizer)
    with gr.Blocks(title="Handwritten digit recognizer") as demo:
        gr.Markdown(INTRO)
        with gr.Tabs():
            with gr.Tab("Digit", id="digit-tab"), gr.Row(equal_height=False):
                with gr.Column(scale=1, min_width=300), gr.Tabs():
                    with gr.Tab("Draw", id="draw"):
                        sketch = _sketchpad("sketch", (280, 280), 12, "Draw a digit")
                        sketch_button = gr.Button("Recognise", variant="primary")
                    with gr.Tab("Upload", id="upload-tab"):
                        upload = _image_input("upload", "A photo, scan or picture of one digit")
                        upload_button = gr.Button("Recognise", variant="primary")
                        gr.Examples(_examples("[a-k]*_*.*") + _examples("[p-z]*_*.*"), upload)
                with gr.Column(scale=1, min_width=300):
                    pred = gr.Label(num_top_classes=3, elem_id="pred", label="Prediction")
                    chart = gr.BarPlot(
                        _chart(None),
                        x="digit",
                        y="probability",
                        y_lim=[0, 1],
                        sort="x",
                        label="All ten probabilities",
                        elem_id="probabilities",
                        height=220,
                    )
                    seen = gr.Image(
                        elem_id="seen",
                        label="What the network saw (28 x 28, enlarged)",
                        interactive=False,
                        height=280,
                        width=280,
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
                        number_sketch = _sketchpad(
                            "number-sketch", (560, 200), 8, "Or draw a number"
                        )
                        number_sketch_button = gr.Button("Read drawing")
                    with gr.Column(min_width=300):
                        number_text = gr.Textbox(label="Number read", elem_id="number-text")
                        number_boxes = gr.AnnotatedImage(
                            label="Digits found", elem_id="number-boxes"
                        )
                        number_table = gr.Dataframe(
                            _digit_table(None), label="Each digit", elem_id="number-digits"
                        )

        answer = [pred, chart, seen]
        sketch_button.click(handlers.predict_sketch, sketch, answer, api_name="predict_sketch")
        sketch.change(
            handlers.predict_sketch,
            sketch,
            answer,
            api_visibility="private",
            trigger_mode="always_last",
            show_progress="hidden",
        )
        upload_button.click(handlers.predict_upload, upload, answer, api_name="predict_upload")
        upload.change(handlers.predict_upload, upload, answer, api_visibility="private")
        number_outputs = [number_text, number_boxes, number_table]
        number_button.click(
            handlers.read_number, number_upload, number_outputs, api_name="read_number"
        )
        number_upload.change(
            handlers.read_number, number_upload, number_outputs, api_visibility="private"
        )
        number_sketch_button.click(
            handlers.read_number_sketch, number_sketch, number_outputs, api_visibility="private"
        )
    demo.queue(default_concurrency_limit=2, max_size=200)
    return demo


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
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    recognizer = Recognizer.load_or_exit(args.weights, "app.py")
    demo = build_app(recognizer)
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        max_file_size=MAX_UPLOAD_BYTES,
        css=CSS,
        theme=gr.themes.Soft(),
        prevent_thread_lock=True,
        quiet=False,
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
