"""A shared link is served to strangers: each attack that once worked, sent raw over HTTP as an
attacker would, and the refusal it must now get (issue: "a public link you can share").

The server runs as ``python app.py --allow-origin https://school.example`` on 127.0.0.1, and
its memory is read from /proc while the attacks run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from conftest import ROOT, start_server, stop_server
from PIL import Image, ImageDraw

EXAMPLES = ROOT / "examples" / "images"
SHARE_HOST = "digits.example.org"  # the Host a share link or a Space sends


@pytest.fixture(scope="module")
def server():
    process, url = start_server(["--allow-origin", "https://school.example"])
    yield url, process.pid
    stop_server(process)


def rss_mb(pid: int) -> float:
    """Resident memory of the server process now, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def upload(url: str, path: Path) -> dict:
    """Upload a file as the page does; returns the file payload Gradio expects back."""
    with path.open("rb") as stream:
        answer = httpx.post(url + "gradio_api/upload", files={"files": stream}, timeout=60)
    answer.raise_for_status()
    return {"path": answer.json()[0], "meta": {"_type": "gradio.FileData"}}


def call(url: str, api: str, data: list, timeout: float = 60) -> tuple[str, object]:
    """One call through Gradio's HTTP API: ("complete", outputs) or ("error", message)."""
    started = httpx.post(f"{url}gradio_api/call/{api}", json={"data": data}, timeout=timeout)
    started.raise_for_status()
    event_id = started.json()["event_id"]
    text = httpx.get(f"{url}gradio_api/call/{api}/{event_id}", timeout=timeout).text
    event, payload = None, None
    for line in text.splitlines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event in ("complete", "error"):
            payload = json.loads(line.split(":", 1)[1])
    if event == "error":
        return "error", (payload or {}).get("error")
    return event, payload


# -- files off the server ----------------------------------------------------------------


@pytest.mark.parametrize("api", ["read_number", "predict_upload"])
def test_a_server_path_is_never_opened(server, api):
    url, _ = server
    secret = ROOT / "docs" / "history.png"  # an image the server can read
    for payload in (
        {"path": str(secret)},
        {"path": str(secret), "meta": {"_type": "gradio.FileData"}},
    ):
        status, message = call(url, api, [payload])
        assert status == "error", (payload, message)
        assert message is None or str(ROOT) not in message


def test_a_sketch_that_names_a_server_file_is_refused(server):
    url, _ = server
    payload = {"background": None, "layers": [], "composite": {"path": "/etc/hostname"}}
    status, _ = call(url, "predict_sketch", [payload])
    assert status == "error"


def test_the_refusal_is_a_sentence_without_paths(server):
    url, _ = server
    status, message = call(url, "predict_upload", [{"path": "/etc/hostname"}])
    assert status == "error" and message == (
        "This file was not uploaded to this app; send the image itself."
    )


def test_uploaded_files_and_the_apps_examples_are_read(server):
    url, _ = server
    photo = next(EXAMPLES.glob("photo_*"))
    status, outputs = call(url, "predict_upload", [upload(url, photo)])
    assert status == "complete" and outputs[0]["label"] == "7"
    status, outputs = call(url, "predict_upload", [{"path": str(photo)}])  # an example
    assert status == "complete" and outputs[0]["label"] == "7"


def test_a_broken_upload_is_explained_without_raw_errors(server, tmp_path):
    url, _ = server
    broken = tmp_path / "broken.png"
    data = (EXAMPLES / "thin_4.png").read_bytes()
    broken.write_bytes(data[:80])
    status, message = call(url, "predict_upload", [upload(url, broken)])
    assert status == "error" and "cannot be used" in message
    assert "/" not in message and "(" not in message


# -- bounded work ------------------------------------------------------------------------


def bars(path: Path) -> Path:
    """A 3 KB PNG of 3010 short bars: each a mark the number reader would classify."""
    image = np.full((1300, 1000), 255, np.uint8)
    for row in range(43):
        for column in range(70):
            y, x = 2 + row * 30, 3 + column * 14
            image[y : y + 27, x : x + 3] = 0
    Image.fromarray(image).save(path, optimize=True)
    return path


def test_three_thousand_marks_are_refused_quickly(server, tmp_path):
    url, pid = server
    before = rss_mb(pid)
    started = time.monotonic()
    status, outputs = call(url, "read_number", [upload(url, bars(tmp_path / "bars.png"))])
    assert time.monotonic() - started < 10
    assert status == "complete" and outputs[0] == "too many marks to read as a number"
    assert rss_mb(pid) - before < 300


def test_a_huge_canvas_is_refused_before_decoding(server, tmp_path):
    url, pid = server
    huge = tmp_path / "huge.png"
    image = Image.new("L", (9000, 9000), 255)
    ImageDraw.Draw(image).line([(4000, 3000), (5000, 6000)], fill=0, width=200)
    image.save(huge, optimize=True)
    assert huge.stat().st_size < 200_000
    before = rss_mb(pid)
    started = time.monotonic()
    for api in ("read_number", "predict_upload"):
        status, message = call(url, api, [upload(url, huge)])
        assert status == "error" and "megapixels" in message
    assert time.monotonic() - started < 10
    assert rss_mb(pid) - before < 300


def test_a_large_image_is_read_on_a_small_copy_and_memory_comes_back(server, tmp_path):
    url, pid = server
    large = tmp_path / "large.png"
    image = Image.new("L", (5800, 5800), 255)
    draw = ImageDraw.Draw(image)
    draw.line([(1000, 1000), (1000, 4500)], fill=0, width=300)
    draw.line([(3000, 1000), (4500, 1000), (3400, 4500)], fill=0, width=300)
    image.save(large, optimize=True)
    payload = upload(url, large)
    before = rss_mb(pid)
    started = time.monotonic()
    status, outputs = call(url, "read_number", [payload])
    assert status == "complete" and outputs[0] == "17"
    assert time.monotonic() - started < 10
    time.sleep(0.5)
    assert rss_mb(pid) - before < 300


def test_a_sketch_with_two_hundred_layers_reads_only_the_drawing(server, tmp_path):
    url, pid = server
    seven = tmp_path / "seven.png"
    image = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(image).line([(70, 60), (210, 60), (120, 230)], fill=0, width=18)
    image.save(seven)
    drawing = upload(url, seven)
    layer = upload(url, EXAMPLES / "photo_7.jpg")
    before = rss_mb(pid)
    payload = {"background": layer, "layers": [layer] * 200, "composite": drawing}
    status, outputs = call(url, "predict_sketch", [payload])
    assert status == "complete" and outputs[0]["label"] == "7"
    assert rss_mb(pid) - before < 300


def test_component_server_blob_calls_are_refused(server):
    url, _ = server
    call_ = {"session_hash": "x", "component_id": 1, "fn_name": "accept_blobs", "data": {}}
    call_["data"] = {"type": "layer", "index": 10**8, "id": "a"}
    assert httpx.post(url + "gradio_api/component_server", json=call_).status_code == 403
    blob = {"files": ("blob", b"\x89PNG" + b"0" * 100, "image/png")}
    form = {"data": json.dumps(call_["data"]), "fn_name": "accept_blobs", "session_hash": "x"}
    answer = httpx.post(url + "gradio_api/component_server", data=form, files=blob)
    assert answer.status_code == 403


def test_oversized_request_bodies_are_refused(server):
    url, _ = server
    body = b'{"data": ["' + b"x" * (2 * 2**20) + b'"]}'
    answer = httpx.post(
        url + "gradio_api/call/predict_upload",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413


def test_all_recognition_is_one_concurrency_group():
    """Every listener that runs the network (each tab, each endpoint) shares one group of
    two workers: "two at a time" holds for the whole app, not per listener."""
    from recognition import Recognizer
    from webapp.layout import build_app

    demo = build_app(Recognizer.load())
    names = {"predict_sketch", "predict_upload", "predict_strokes", "read_number", "inside"}
    names |= {"read_number_strokes"}
    recognition = [f for f in demo.fns.values() if getattr(f.fn, "__name__", "") in names]
    assert len(recognition) >= 8
    assert {f.concurrency_id for f in recognition} == {"recognition"}
    assert {f.concurrency_limit for f in recognition} == {2}
    assert demo._queue.max_size == 64


@pytest.mark.slow
def test_cached_files_are_deleted_after_an_hour():
    from recognition import Recognizer
    from webapp.layout import build_app

    demo = build_app(Recognizer.load())
    frequency, age = demo.delete_cache
    assert age == 3600 and 0 < frequency <= 3600
    assert build_app(Recognizer.load(), cache_seconds=600).delete_cache[1] == 600


# -- other sites -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["gradio_api/info", "config", "login", "logout", "register"])
def test_foreign_origins_are_refused(server, path):
    url, _ = server
    foreign = {"Host": SHARE_HOST, "Origin": "https://evil.example"}
    assert httpx.get(url + path, headers=foreign).status_code == 403
    assert httpx.post(url + path, headers=foreign, data={"username": "a"}).status_code == 403
    preflight = {**foreign, "Access-Control-Request-Method": "POST"}
    answer = httpx.options(url + path, headers=preflight)
    assert answer.status_code == 403
    assert "access-control-allow-origin" not in answer.headers
    assert httpx.get(url + path, headers={"Host": SHARE_HOST, "Origin": "null"}).status_code == 403


def test_the_apps_own_origin_and_allowed_origins_pass(server):
    url, _ = server
    own = httpx.get(
        url + "gradio_api/info", headers={"Host": SHARE_HOST, "Origin": f"https://{SHARE_HOST}"}
    )
    assert own.status_code == 200
    school = httpx.get(
        url + "gradio_api/info", headers={"Host": SHARE_HOST, "Origin": "https://school.example"}
    )
    assert school.status_code == 200
    assert httpx.get(url + "gradio_api/info").status_code == 200  # no Origin: not a browser


def test_bad_allowed_origins_are_a_usage_error():
    from conftest import run_script

    result = run_script("app.py", "--allow-origin", "school.example")
    assert result.returncode == 2 and "not an origin" in result.stderr
