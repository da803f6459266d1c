"""The web app in a real browser: Playwright driving Debian's chromium.

A newcomer's path: draw on the canvas at once (mouse on a desktop, a finger on a phone, no
tool to pick), clear and undo, upload a file, open "Inside the network". Screenshots go to
pytest's temporary folder, never over tracked files (``docs/`` is refreshed by
``python benchmarks/screenshots.py``, run by hand).
"""

from __future__ import annotations

import itertools
import shutil

import pytest
from conftest import ROOT
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
EXAMPLES = ROOT / "examples" / "images"
SEVEN = [[(80, 60), (200, 60), (120, 230)]]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh desktop page (1280 x 800) for each test: no test depends on another's state."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(app_url)
    page.wait_for_selector("#sketch canvas", timeout=30_000)
    yield page
    context.close()


def canvas_point(page, elem_id: str, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of the canvas pixel (x, y) (the canvas may be shown scaled)."""
    canvas = page.locator(f"#{elem_id} canvas")
    box = canvas.bounding_box()
    width = canvas.evaluate("c => c.width")
    height = canvas.evaluate("c => c.height")
    return box["x"] + x * box["width"] / width, box["y"] + y * box["height"] / height


def draw(page, strokes: list[list[tuple[float, float]]], elem_id: str = "sketch") -> None:
    """Draw strokes given in canvas pixels with the mouse, as a visitor would: press, move,
    release; no tool is picked first."""
    for stroke in strokes:
        page.mouse.move(*canvas_point(page, elem_id, *stroke[0]))
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*canvas_point(page, elem_id, *point), steps=8)
        page.mouse.up()


def label_text(page) -> str:
    return page.locator('#pred [data-testid="label-output-value"]').inner_text().strip()


def wait_for_label(page, expected: str) -> None:
    """Wait until the answer label shows ``expected`` (the page answers asynchronously)."""
    page.wait_for_function(
        """(expected) => {
            const el = document.querySelector('#pred [data-testid="label-output-value"]');
            return el && el.innerText.trim() === expected;
        }""",
        arg=expected,
        timeout=30_000,
    )


def test_draw_on_first_contact_and_read_the_label(page, tmp_path):
    draw(page, SEVEN)
    wait_for_label(page, "7")
    assert label_text(page) == "7"
    page.screenshot(path=str(tmp_path / "drawn.png"))


def test_clear_and_undo(page):
    draw(page, [[(80, 60), (200, 60)], [(200, 60), (120, 230)]])
    wait_for_label(page, "7")
    page.get_by_role("button", name="Undo").click()  # back to one bar: no longer a 7
    page.wait_for_function(
        """() => {
            const el = document.querySelector('#pred [data-testid="label-output-value"]');
            return el && el.innerText.trim() !== '7';
        }""",
        timeout=30_000,
    )
    page.get_by_role("button", name="Clear").click()
    wait_for_label(page, "draw a digit")
    draw(page, SEVEN)  # draws again at once after clearing
    wait_for_label(page, "7")


def test_touch_draws_on_a_phone_without_scrolling(browser, app_url, tmp_path):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    page = context.new_page()
    page.goto(app_url)
    page.wait_for_selector("#sketch canvas", timeout=30_000)
    page.locator("#sketch canvas").scroll_into_view_if_needed()
    scrolled = page.evaluate("() => window.scrollY")
    session = context.new_cdp_session(page)
    for stroke in SEVEN:
        points = [canvas_point(page, "sketch", *p) for p in stroke]
        path = [points[0]]
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            path += [(x0 + (x1 - x0) * k / 10, y0 + (y1 - y0) * k / 10) for k in range(1, 11)]
        kind = "touchStart"
        for x, y in path:
            session.send(
                "Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]}
            )
            kind = "touchMove"
        session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    wait_for_label(page, "7")
    assert page.evaluate("() => window.scrollY") == scrolled, "the finger scrolled the page"
    page.screenshot(path=str(tmp_path / "phone.png"))
    context.close()


def test_upload_a_file(page):
    page.get_by_role("tab", name="Upload").click()
    photo = next(EXAMPLES.glob("chalk_*"))
    page.set_input_files('#upload input[type="file"]', str(photo))
    expected = photo.stem.rsplit("_", 1)[1]
    wait_for_label(page, expected)
    assert label_text(page) == expected


def test_inside_the_network_shows_the_last_digit(page, tmp_path):
    """After an upload, the "Inside the network" tab explains that digit: its steps,
    saliency, filters and one feature-map image per convolution block."""
    photo = next(EXAMPLES.glob("chalk_*"))
    expected = photo.stem.rsplit("_", 1)[1]
    page.get_by_role("tab", name="Upload").click()
    page.set_input_files('#upload input[type="file"]', str(photo))
    wait_for_label(page, expected)
    page.get_by_role("tab", name="Inside the network").click()
    page.wait_for_selector("#inside-status >> text=was read as", timeout=30_000)
    assert f"read as {expected}" in page.locator("#inside-status").inner_text()
    for elem_id in ("inside-steps", "saliency", "filters", "feature-maps-1", "feature-maps-4"):
        page.wait_for_selector(f"#{elem_id} img", timeout=30_000)
    page.screenshot(path=str(tmp_path / "inside.png"), full_page=True)
