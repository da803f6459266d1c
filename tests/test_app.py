"""The web app through its API (gradio_client), as outside checks use it."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, run_script, start_server, stop_server
from gradio_client import Client, handle_file
from PIL import Image, ImageDraw

EXAMPLES = ROOT / "examples" / "images"


@pytest.fixture(scope="module")
def client(app_url) -> Client:
    return Client(app_url, verbose=False)


def sketch_value(path: Path | None) -> dict:
    return {"background": None, "layers": [], "composite": handle_file(str(path)) if path else None}


def drawn(tmp_path: Path, name: str, strokes, size=(280, 280), mode="L") -> Path:
    image = Image.new(mode, size, 255 if mode == "L" else (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for points in strokes:
        draw.line(points, fill=0 if mode == "L" else (0, 0, 0, 255), width=18)
    path = tmp_path / name
    image.save(path)
    return path


def top_label(value: dict) -> str:
    return value["label"]


def test_endpoints_are_named(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/predict_sketch", "/predict_upload", "/read_number"} <= names


def test_drawn_digit_through_the_sketchpad(client, tmp_path):
    seven = drawn(tmp_path, "seven.png", [[(70, 60), (210, 60), (120, 230)]])
    label, _, seen = client.predict(sketch_value(seven), api_name="/predict_sketch")
    assert top_label(label) == "7"
    assert len(label["confidences"]) == 3
    assert label["confidences"][0]["confidence"] > 0.5
    assert seen is not None and Path(seen).is_file()
    assert Image.open(seen).size == (280, 280)


def test_blank_canvas_asks_for_a_digit(client, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("L", (280, 280), 255).save(blank)
    for value in (sketch_value(None), sketch_value(blank)):
        label, _, seen = client.predict(value, api_name="/predict_sketch")
        assert top_label(label) == "draw a digit" and seen is None


def test_uploaded_files(client):
    for path in sorted(EXAMPLES.glob("*_[0-9].*")):
        expected = path.stem.rsplit("_", 1)[1]
        label, _, _ = client.predict(handle_file(str(path)), api_name="/predict_upload")
        assert top_label(label) == expected, path.name


def test_transparent_png_is_not_black(client, tmp_path):
    one = drawn(tmp_path, "one.png", [[(140, 40), (140, 240)]], mode="RGBA")
    assert np.asarray(Image.open(one))[:, :, :3].max() == 0  # ink only in the alpha channel
    label, _, _ = client.predict(handle_file(str(one)), api_name="/predict_upload")
    assert top_label(label) == "1"


def test_a_number(client):
    path = next(EXAMPLES.glob("number_*"))
    number, _, table = client.predict(handle_file(str(path)), api_name="/read_number")
    assert number == path.stem.split("_")[1]
    assert len(table["data"]) == len(number)


def test_an_empty_image_is_no_digit(client, tmp_path):
    blank = tmp_path / "blank.jpg"
    Image.new("RGB", (300, 200), (240, 235, 225)).save(blank)
    label, _, _ = client.predict(handle_file(str(blank)), api_name="/predict_upload")
    assert top_label(label) == "no digit found"


def test_a_broken_file_gets_a_message(client, tmp_path):
    broken = tmp_path / "broken.png"
    data = io.BytesIO()
    Image.new("L", (64, 64), 255).save(data, format="PNG")
    broken.write_bytes(data.getvalue()[:60])
    with pytest.raises(Exception, match=r"(?i)cannot|error|truncated"):
        client.predict(handle_file(str(broken)), api_name="/predict_upload")


def test_uploads_over_ten_megabytes_are_refused(client, tmp_path):
    big = tmp_path / "big.bmp"
    noise = np.random.default_rng(0).integers(0, 256, (2000, 2000, 3), dtype=np.uint8)
    Image.fromarray(noise).save(big)  # 12 MB
    assert big.stat().st_size > 10 * 2**20
    with pytest.raises(Exception, match=r"(?i)large|size|10"):
        client.predict(handle_file(str(big)), api_name="/predict_upload")


def test_twenty_requests_at_once(app_url):
    """20 requests submitted together are queued and all answered, each correctly. (Files in
    the answers are not downloaded: Gradio caches equal outputs under one name, and 20
    identical answers rewriting that file while it is served can cut a download short.)"""
    client = Client(app_url, verbose=False, download_files=False)
    paths = sorted(EXAMPLES.glob("*_[0-9].*"))
    jobs = [paths[i % len(paths)] for i in range(20)]
    pending = [client.submit(handle_file(str(p)), api_name="/predict_upload") for p in jobs]
    answers = [job.result(timeout=120)[0] for job in pending]
    assert [top_label(a) for a in answers] == [p.stem.rsplit("_", 1)[1] for p in jobs]


@pytest.mark.slow
def test_share_without_network_keeps_serving_locally():
    process, url = start_server(["--share"])
    try:
        label, _, _ = Client(url, verbose=False).predict(
            handle_file(str(next(EXAMPLES.glob("photo_*")))), api_name="/predict_upload"
        )
        assert top_label(label) == "7"
    finally:
        output = stop_server(process)
    assert "serving locally" in output or "public URL" in output


@pytest.mark.slow
def test_bad_weights_stop_the_app_with_one_line(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"nope")
    result = run_script("app.py", "--weights", str(bad), timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_why_no_digit_was_found_reaches_the_user(monkeypatch, tmp_path):
    """Prediction.detail ("the image is one flat colour") is shown for an upload."""
    import webapp.handlers as handlers
    from recognition import Recognizer

    shown = []
    monkeypatch.setattr(handlers.gr, "Info", shown.append)
    flat = tmp_path / "flat.png"
    Image.new("RGB", (120, 90), (200, 200, 200)).save(flat)
    app = handlers.DigitApp(Recognizer.load())
    label, *_ = app.predict_upload(str(flat))
    assert label == "no digit found"
    assert shown == ["No digit found: the image is one flat colour."]
    number, *_ = app.read_number(str(flat))
    assert number == "no digit found" and len(shown) == 2
