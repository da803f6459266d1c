"""The page's layout: the Digit (Draw, Upload), Number, Inside and History tabs, and how
their events are wired to the handlers (``webapp.handlers``)."""

from __future__ import annotations

import gradio as gr

from accounts import Store
from accounts.history import Recorder
from recognition import Recognizer
from recognition.inside import STEP_CAPTIONS
from webapp import CACHE_SECONDS
from webapp.canvas import drawing_pad
from webapp.handlers import (
    QUEUE_SIZE,
    RECOGNITION_WORKERS,
    DigitApp,
    HistoryView,
    chart_data,
    digit_table,
    release_memory,
)
from webapp.inputs import allow_folder
from webapp.page import (
    DIGIT_CANVAS,
    EXAMPLES,
    INSIDE_INTRO,
    INTRO,
    INTRO_MORE,
    NUMBER_CANVAS,
    VERDICT_JS,
)


def _examples(pattern: str) -> list[str]:
    return [str(path) for path in sorted(EXAMPLES.glob(pattern))]


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
                                chart_data(None),
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
                            digit_table(None), label="Each digit", elem_id="number-digits"
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
            release_memory(handlers.predict_sketch),
            sketch_api,
            answer,
            api_name="predict_sketch",
            **files,
        )
        sketch.draw(
            release_memory(handlers.predict_strokes),
            None,
            [*answer, sketch_done],
            api_visibility="private",
            trigger_mode="multiple",  # the pad itself sends one drawing at a time
            show_progress="hidden",
            **work,
        )
        upload_button.click(
            release_memory(handlers.predict_upload),
            upload,
            answer,
            api_name="predict_upload",
            **files,
        )
        upload.change(
            release_memory(handlers.predict_upload),
            upload,
            answer,
            api_visibility="private",
            **files,
        )
        inside_tab.select(
            release_memory(handlers.inside), current, inside, api_visibility="private", **work
        )
        number_outputs = [number_text, number_boxes, number_table]
        number_button.click(
            release_memory(handlers.read_number),
            number_upload,
            number_outputs,
            api_name="read_number",
            **files,
        )
        number_upload.change(
            release_memory(handlers.read_number),
            number_upload,
            number_outputs,
            api_visibility="private",
            **files,
        )
        number_sketch.draw(
            release_memory(handlers.read_number_strokes),
            None,
            [*number_outputs, number_done],
            api_visibility="private",
            trigger_mode="multiple",  # the pad itself sends one drawing at a time
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
