"""How fast the answer follows the pen, in a real browser: pen-up to updated answer.

    python benchmarks/ui_latency.py [--strokes 30] [--url http://127.0.0.1:7860/]

Starts the app on a free port (or uses ``--url``), opens it in Debian's chromium with
Playwright, and draws strokes on the Digit canvas as a visitor would: on a 1280 x 800 desktop
with the mouse, then on an emulated 390 x 844 phone with touch events (CDP) and the CPU slowed
4x as a phone's would be. For each stroke the page itself records the time of the pen-up
(``pointerup``) and of the moment the answer for that stroke arrived (the canvas's ``done``
marker is written with the answer's outputs), so Playwright's own round trips do not count.
Prints p50 / p95 / max per device. No test asserts these numbers.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import start_app  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Strokes in canvas pixels (280 x 280): the parts of a 4, a 7, a 1 and a 0, drawn in turn.
STROKES = [
    [(90, 50), (70, 160), (200, 160)],
    [(170, 60), (170, 240)],
    [(70, 60), (210, 60), (120, 240)],
    [(140, 40), (140, 240)],
    [(140, 40), (80, 90), (80, 200), (140, 245), (200, 200), (200, 90), (140, 40)],
]
#: Installed in the page: each pen-up's request number and time, and each answer's.
PROBE = """
() => {
  window.__ups = []; window.__answers = [];
  const canvas = document.querySelector('#sketch canvas');
  const pad = document.querySelector('#sketch .digit-pad');
  // Registered after the pad's own listener, so the pad has already numbered its request.
  canvas.addEventListener('pointerup',
    () => window.__ups.push([Number(pad.dataset.seq), performance.now()]));
  const done = document.getElementById('sketch-done');
  new MutationObserver(() => {
    const mark = done.querySelector('[data-seq]');
    if (mark) window.__answers.push([Number(mark.dataset.seq), performance.now()]);
  }).observe(done, {childList: true, subtree: true, attributes: true});
}
"""


def canvas_point(page, x: float, y: float) -> tuple[float, float]:
    box = page.locator("#sketch canvas").bounding_box()
    return box["x"] + x * box["width"] / 280, box["y"] + y * box["height"] / 280


def mouse_stroke(page, stroke: list[tuple[float, float]]) -> None:
    page.mouse.move(*canvas_point(page, *stroke[0]))
    page.mouse.down()
    for point in stroke[1:]:
        page.mouse.move(*canvas_point(page, *point), steps=6)
    page.mouse.up()


def touch_stroke(page, session, stroke: list[tuple[float, float]]) -> None:
    points = [canvas_point(page, *p) for p in stroke]
    kind = "touchStart"
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[-1:], strict=True):
        for step in range(6):
            x, y = x0 + (x1 - x0) * step / 6, y0 + (y1 - y0) * step / 6
            session.send(
                "Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]}
            )
            kind = "touchMove"
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def measure(page, count: int, stroke_with) -> list[float]:
    """Draw ``count`` strokes (clearing now and then); the pen-up -> answer times in ms."""
    page.evaluate(PROBE)
    waits = []
    for index in range(count):
        if index % len(STROKES) == 0 and index:
            page.get_by_role("button", name="Clear").click()
            page.wait_for_function("() => window.__answers.length > 0")
        page.evaluate("() => { window.__ups = []; window.__answers = []; }")
        stroke_with(STROKES[index % len(STROKES)])
        waits.append(
            page.wait_for_function(
                """() => {
                    if (!window.__ups.length) return false;
                    const [seq, up] = window.__ups[window.__ups.length - 1];
                    const answer = window.__answers.find(([s]) => s === seq);
                    return answer ? answer[1] - up : false;
                }""",
                timeout=30_000,
            ).json_value()
        )
        page.wait_for_timeout(150)  # a person lifts the pen between strokes
    return waits


def summary(name: str, waits: list[float]) -> str:
    ordered = sorted(waits)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"| {name:<36} | {len(waits):>7} | {statistics.median(waits):>8.0f} | "
        f"{p95:>8.0f} | {ordered[-1]:>8.0f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=30, help="strokes per device (30)")
    parser.add_argument("--url", help="measure a running app instead of starting one")
    args = parser.parse_args(argv)
    process, url = (None, args.url) if args.url else start_app()
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            desktop = browser.new_context(viewport={"width": 1280, "height": 800})
            page = desktop.new_page()
            page.goto(url)
            page.wait_for_selector("#sketch .digit-pad[data-ready]", timeout=60_000)
            mouse_stroke(page, STROKES[0])  # the first answer warms the server up
            page.wait_for_timeout(1500)
            page.get_by_role("button", name="Clear").click()
            page.wait_for_timeout(500)
            waits = measure(page, args.strokes, lambda s: mouse_stroke(page, s))
            rows.append(summary("desktop 1280x800, mouse", waits))
            desktop.close()

            phone = browser.new_context(
                viewport={"width": 390, "height": 844},
                has_touch=True,
                is_mobile=True,
                device_scale_factor=3,
            )
            page = phone.new_page()
            page.goto(url)
            page.wait_for_selector("#sketch .digit-pad[data-ready]", timeout=60_000)
            page.locator("#sketch canvas").scroll_into_view_if_needed()
            session = phone.new_cdp_session(page)
            session.send("Emulation.setCPUThrottlingRate", {"rate": 4})
            waits = measure(page, args.strokes, lambda s: touch_stroke(page, session, s))
            rows.append(summary("phone 390x844, touch, CPU / 4", waits))
            phone.close()
            browser.close()
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=15)
    print("pen-up to updated answer, measured in the page (ms)\n")
    print(f"| {'device':<36} | strokes | {'p50':>8} | {'p95':>8} | {'max':>8} |")
    print(f"|{'-' * 38}|---------|----------|----------|----------|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
