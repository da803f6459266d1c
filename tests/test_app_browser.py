"""The web app in a real browser: Playwright driving Debian's chromium.

A newcomer's path: draw on the canvas at once (mouse on a desktop, a finger on a phone, no
tool to pick), clear and undo, upload a file, open "Inside the network". Screenshots go to
pytest's temporary folder, never over tracked files (``docs/`` is refreshed by
``python benchmarks/screenshots.py``, run by hand).
"""

from __future__ import annotations

import itertools
import json
import shutil
import time

import pytest
from conftest import ROOT
from playwright.sync_api import TimeoutError as PlaywrightTimeout
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
    page.wait_for_selector("#sketch .digit-pad[data-ready]", timeout=30_000)
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


def settle(page, elem_id: str) -> None:
    """Scroll the pad's canvas into view and wait until the page around it is still: every
    image loaded and the canvas in the same place for ten animation frames (a stroke begun
    while the layout still moves can miss the canvas)."""
    page.locator(f"#{elem_id} canvas").scroll_into_view_if_needed()
    page.wait_for_function(
        """(id) => new Promise(done => {
            const canvas = document.querySelector(`#${id} canvas`);
            let last = '', same = 0;
            const look = () => {
                const r = canvas.getBoundingClientRect();
                const where = `${r.left},${r.top},${r.width},${r.height}`;
                same = where === last ? same + 1 : 0;
                last = where;
                const loaded = [...document.images].every(image => image.complete);
                if (same >= 10 && loaded) done(true); else requestAnimationFrame(look);
            };
            look();
        })""",
        arg=elem_id,
        timeout=30_000,
    )


def label_text(page) -> str:
    return page.locator('#pred [data-testid="label-output-value"]').inner_text().strip()


def wait_for_label(page, expected: str) -> None:
    """Wait until the answer label shows ``expected`` (the page answers asynchronously); on a
    timeout, say what the page showed instead."""
    try:
        page.wait_for_function(
            """(expected) => {
                const el = document.querySelector('#pred [data-testid="label-output-value"]');
                return el && el.innerText.trim() === expected;
            }""",
            arg=expected,
            timeout=30_000,
        )
    except PlaywrightTimeout:
        label = page.evaluate(
            """() => document.querySelector('#pred [data-testid="label-output-value"]')
                ?.innerText.trim()"""
        )
        shown = {"label": label, **pad_state(page, "sketch")}
        raise AssertionError(f"the label never read {expected!r}: {shown}") from None


def pad_state(page, elem_id: str) -> dict:
    """What the pad ``elem_id`` shows, for a failure's message: its status line, how many
    drawings it sent and which one was answered last."""
    return page.evaluate(
        """(id) => {
            const pad = document.querySelector(`#${id} .digit-pad`);
            return {status: pad?.querySelector('.status')?.innerText.trim(),
                sent: pad?.dataset.seq,
                answered: document.querySelector(`#${pad?.dataset.done} [data-seq]`)
                    ?.dataset.seq};
        }""",
        elem_id,
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


@pytest.fixture
def phone(browser, app_url):
    """A fresh 390 x 844 touch phone page, scrolled to the canvas: (context, page)."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    page = context.new_page()
    page.goto(app_url)
    page.wait_for_selector("#sketch .digit-pad[data-ready]", timeout=30_000)
    page.locator("#sketch canvas").scroll_into_view_if_needed()
    yield context, page
    context.close()


def test_touch_draws_on_a_phone_without_scrolling(phone, tmp_path):
    context, page = phone
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


def boxes_of(page, selector: str) -> list[dict]:
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
            .filter(el => el.offsetParent !== null)
            .map(el => { const r = el.getBoundingClientRect();
                         return {x: r.x, y: r.y, right: r.right, bottom: r.bottom}; })""",
        selector,
    )


def overlap(a: dict, b: dict) -> bool:
    across = a["x"] < b["right"] and b["x"] < a["right"]
    return across and a["y"] < b["bottom"] and b["y"] < a["bottom"]


def test_desktop_answer_chart_and_input_beside_the_canvas_without_scrolling(page):
    draw(page, SEVEN)
    wait_for_label(page, "7")
    page.wait_for_selector("#seen img")
    canvas = page.locator("#sketch canvas").bounding_box()
    for elem_id in ("pred", "probabilities", "seen"):
        box = page.locator(f"#{elem_id}").bounding_box()
        assert box["y"] + box["height"] <= 800, f"#{elem_id} is below the fold"
        assert box["x"] >= canvas["x"] + canvas["width"], f"#{elem_id} is not beside the canvas"
    assert page.evaluate("() => window.scrollY") == 0


def test_captions_never_cover_pictures(page):
    draw(page, SEVEN)
    wait_for_label(page, "7")
    page.get_by_role("tab", name="Inside the network").click()
    page.wait_for_selector("#feature-maps-4 img", timeout=30_000)
    pictures = boxes_of(page, "img")
    labels = boxes_of(page, '[data-testid="block-label"], .caption')
    assert pictures and labels
    for picture in pictures:
        for label in labels:
            assert not overlap(picture, label), (picture, label)


def test_phone_shows_the_answer_while_the_canvas_is_in_view(phone):
    _, page = phone
    draw(page, SEVEN)
    page.wait_for_selector("#sketch .status >> text=Reads 7", timeout=30_000)
    status = page.locator("#sketch .status").bounding_box()
    canvas = page.locator("#sketch canvas").bounding_box()
    assert canvas["y"] >= 0 and status["y"] + status["height"] <= 844


def test_a_file_that_is_not_an_image_is_explained(page, app_server, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("a shopping list, not a digit")
    page.get_by_role("tab", name="Upload").click()
    page.set_input_files('#upload input[type="file"]', str(notes))
    page.wait_for_selector(
        "text=not an image we can read: PNG, JPEG, GIF, BMP, WebP or TIFF", timeout=30_000
    )
    page.wait_for_timeout(500)
    with open(app_server[0].log_path) as log:
        assert "Traceback" not in log.read()


def test_accessible_names_and_keyboard_tabs(page):
    draw(page, SEVEN)
    wait_for_label(page, "7")
    page.wait_for_selector("#seen img")
    assert page.locator("#seen img").get_attribute("alt")
    page.wait_for_selector('#probabilities [aria-label*="probability"]', timeout=30_000)
    assert page.get_by_role("button", name="Clear").is_visible()
    digit_tab = page.get_by_role("tab", name="Digit", exact=True)
    digit_tab.focus()
    page.keyboard.press("ArrowRight")
    number_tab = page.get_by_role("tab", name="Number")
    assert number_tab.get_attribute("aria-selected") == "true"
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Number"
    page.keyboard.press("ArrowLeft")
    assert digit_tab.get_attribute("aria-selected") == "true"
    # Number view: each box is numbered in the picture and named for a screen reader.
    page.keyboard.press("ArrowRight")
    page.set_input_files('#number-upload input[type="file"]', str(EXAMPLES / "number_69015.png"))
    page.wait_for_selector("#number-boxes img", timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('#number-boxes img').alt.includes('numbered')"
    )
    legend = page.locator("#number-boxes").inner_text()
    assert all(f"{n}: {d}" in legend for n, d in enumerate("69015", start=1)), legend


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours."""

    def luminance(colour: str) -> float:
        values = [float(v) for v in colour[colour.index("(") + 1 : -1].split(",")[:3]]
        linear = [
            (c / 255) / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4
            for c in values
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted([luminance(foreground), luminance(background)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_dark_mode_keeps_the_tools_legible(browser, app_url, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="dark")
    page = context.new_page()
    page.goto(app_url + "?__theme=dark")
    page.wait_for_selector("#sketch .digit-pad[data-ready]", timeout=30_000)
    assert page.evaluate("() => document.body.classList.contains('dark')") or page.evaluate(
        "() => document.querySelector('.dark') !== null"
    )
    for name in ("Undo", "Clear"):
        button = page.get_by_role("button", name=name)
        colours = button.evaluate(
            "b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]"
        )
        assert contrast(*colours) >= 4.5, (name, colours)
    draw(page, SEVEN)
    wait_for_label(page, "7")
    status = page.locator("#sketch .status")
    page.wait_for_selector("#sketch .status >> text=Reads 7")
    page_background = page.evaluate(
        "() => getComputedStyle(document.querySelector('.gradio-container')).backgroundColor"
    )
    colour = status.evaluate("s => getComputedStyle(s).color")
    if "rgba(0, 0, 0, 0)" not in page_background:
        assert contrast(colour, page_background) >= 4.5, (colour, page_background)
    page.screenshot(path=str(tmp_path / "dark.png"))
    context.close()


def test_a_drawing_that_is_not_a_digit_is_refused_in_words(page):
    draw(page, [[(60, 60), (220, 220)], [(220, 60), (60, 220)], [(40, 140), (240, 140)]])
    wait_for_label(page, "not a digit")
    page.wait_for_selector("#verdict >> text=That doesn't look like a digit", timeout=30_000)
    page.wait_for_selector("#sketch .status >> text=Not a digit")
    guesses = page.locator("#pred").inner_text()
    assert any(d in guesses for d in "0123456789")  # the digit guesses are still listed
    page.get_by_role("button", name="Clear").click()
    wait_for_label(page, "draw a digit")
    assert page.locator("#verdict").inner_text().strip() == ""


def test_strokes_drawn_while_an_answer_is_on_its_way_are_read_when_it_comes(page):
    """A slow connection: every request takes a second to leave, and three more strokes are
    drawn while the first stroke's answer is on its way. The pad sends the whole drawing once
    that answer comes, and settles on its answer (Gradio's own "always_last" sent the first
    stroke's event again, and the pad stayed at "Reading..." for good)."""
    sent = []

    def slow(route):  # runs while page.evaluate below waits: holds every request back 1 s
        time.sleep(1.0)
        sent.append(json.loads(route.request.post_data)["event_data"])
        route.continue_()

    page.route("**/queue/join*", slow)
    strokes = [[(60, 60), (220, 220)], [(220, 60), (60, 220)], [(40, 140), (240, 140)]]
    strokes.append([(140, 40), (140, 240)])
    page.evaluate(
        """async (strokes) => {
            const canvas = document.querySelector('#sketch canvas');
            const r = canvas.getBoundingClientRect();
            const at = ([x, y]) => ({clientX: r.left + x * r.width / canvas.width,
                clientY: r.top + y * r.height / canvas.height, pointerId: 1, button: 0,
                bubbles: true});
            for (const [a, b] of strokes) {
                canvas.dispatchEvent(new PointerEvent('pointerdown', at(a)));
                canvas.dispatchEvent(new PointerEvent('pointermove', at(b)));
                canvas.dispatchEvent(new PointerEvent('pointerup', at(b)));
                await new Promise(done => setTimeout(done, 300));
            }
        }""",
        strokes,
    )
    page.wait_for_selector("#sketch .digit-pad:not(.busy)", timeout=30_000)
    assert [event["seq"] for event in sent] == [1, 4]
    assert len(sent[-1]["strokes"]) == 4
    wait_for_label(page, "not a digit")
    assert page.locator("#sketch .status").inner_text().startswith("Not a digit")


def test_a_number_drawn_on_the_number_pad_is_read(page):
    """The Number tab's own pad: a 1, a 7 and a 4 drawn apart are read as "174", in words
    under the canvas too."""
    page.get_by_role("tab", name="Number").click()
    page.wait_for_selector("#number-sketch .digit-pad[data-ready]")
    settle(page, "number-sketch")
    # Where each press landed, to say on a failure which stroke missed the canvas and why.
    page.evaluate("""() => { window.__presses = []; document.addEventListener('pointerdown',
        e => { const r = document.querySelector('#number-sketch canvas').getBoundingClientRect();
          window.__presses.push([e.clientX, e.clientY, e.target.tagName, Math.round(r.top),
            Math.round(r.left)]); }, true); }""")
    one = [(100, 40), (100, 160)]
    seven = [(200, 40), (300, 40), (240, 160)]
    four = [[(380, 40), (360, 120), (440, 120)], [(420, 60), (420, 160)]]
    draw(page, [one, seven, *four], elem_id="number-sketch")
    try:
        page.wait_for_function(
            "() => document.querySelector('#number-text textarea')?.value === '174'",
            timeout=30_000,
        )
    except PlaywrightTimeout:
        text, presses = page.evaluate(
            "() => [document.querySelector('#number-text textarea')?.value, window.__presses]"
        )
        shown = {"text": text, **pad_state(page, "number-sketch"), "presses": presses}
        raise AssertionError(f"the number never read '174': {shown}") from None
    page.wait_for_selector("#number-sketch .status >> text=Reads 174")
