"""The web app in a real browser: Playwright driving Debian's chromium.

Draws a digit with the mouse on the sketchpad, reads the label, uploads a file, and saves the
screenshot that the README shows (docs/screenshot.png).
"""

from __future__ import annotations

import shutil

import pytest
from conftest import ROOT
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = ROOT / "docs" / "screenshot.png"


@pytest.fixture(scope="module")
def page(app_url):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.goto(app_url)
        page.wait_for_selector("#sketch canvas", timeout=30_000)
        yield page
        browser.close()


def draw(page, strokes: list[list[tuple[float, float]]], elem_id: str = "sketch") -> None:
    """Draw strokes given in canvas pixels (280 x 280) with the mouse."""
    page.click(f'#{elem_id} button[aria-label="Brush"]')
    canvas = page.locator(f"#{elem_id} canvas").first
    box = canvas.bounding_box()
    zoom_text = page.locator(f"#{elem_id} .zoom-number span").first.inner_text()
    zoom = float(zoom_text.strip().rstrip("%")) / 100
    centre_x, centre_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def at(x: float, y: float) -> tuple[float, float]:
        return centre_x + (x - 140) * zoom, centre_y + (y - 140) * zoom

    for stroke in strokes:
        page.mouse.move(*at(*stroke[0]))
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*at(*point), steps=8)
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


def test_draw_a_digit_and_read_the_label(page):
    draw(page, [[(80, 60), (200, 60), (120, 230)]])
    page.locator("#sketch").locator("xpath=..").locator(
        "button", has_text="Recognise"
    ).first.click()
    wait_for_label(page, "7")
    assert label_text(page) == "7"
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=False)


def test_upload_a_file(page):
    page.get_by_role("tab", name="Upload").click()
    photo = next((ROOT / "examples" / "images").glob("chalk_*"))
    page.set_input_files('#upload input[type="file"]', str(photo))
    expected = photo.stem.rsplit("_", 1)[1]
    wait_for_label(page, expected)
    assert label_text(page) == expected


def test_inside_the_network_shows_the_last_digit(page):
    """After the upload above, the "Inside the network" tab explains that digit: its steps,
    saliency, filters and one feature-map image per convolution block."""
    page.get_by_role("tab", name="Inside the network").click()
    page.wait_for_selector("#inside-status >> text=was read as", timeout=30_000)
    expected = next((ROOT / "examples" / "images").glob("chalk_*")).stem.rsplit("_", 1)[1]
    assert f"read as {expected}" in page.locator("#inside-status").inner_text()
    for elem_id in ("inside-steps", "saliency", "filters", "feature-maps-1", "feature-maps-4"):
        page.wait_for_selector(f"#{elem_id} img", timeout=30_000)
    page.screenshot(path=str(ROOT / "docs" / "inside.png"), full_page=True)
