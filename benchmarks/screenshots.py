"""Refresh the README's screenshots (docs/screenshot.png, docs/inside.png), by hand:

    python benchmarks/screenshots.py

Starts the app on a free port, draws a 7 on the canvas with the mouse in Debian's chromium
(Playwright), then uploads an example photo and opens "Inside the network". The tests never
write these files; this script is the one place that does.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent / "benchmarks"))

from load import start_app  # noqa: E402

DOCS = ROOT.parent / "docs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def main() -> None:
    process, url = start_app()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url)
            canvas = page.locator("#sketch canvas")
            page.wait_for_selector("#sketch .digit-pad[data-ready]", timeout=30_000)
            box = canvas.bounding_box()
            scale = box["width"] / 280
            points = [(80, 60), (200, 60), (120, 230)]
            page.mouse.move(box["x"] + points[0][0] * scale, box["y"] + points[0][1] * scale)
            page.mouse.down()
            for x, y in points[1:]:
                page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=10)
            page.mouse.up()
            page.wait_for_selector('#pred [data-testid="label-output-value"] >> text=7')
            page.wait_for_timeout(800)
            page.screenshot(path=str(DOCS / "screenshot.png"))
            page.get_by_role("tab", name="Upload").click()
            photo = next((ROOT.parent / "examples" / "images").glob("chalk_*"))
            page.set_input_files('#upload input[type="file"]', str(photo))
            page.wait_for_timeout(2000)
            page.get_by_role("tab", name="Inside the network").click()
            page.wait_for_selector("#feature-maps-4 img", timeout=30_000)
            page.screenshot(path=str(DOCS / "inside.png"), full_page=True)
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=15)
    print(f"wrote {DOCS / 'screenshot.png'} and {DOCS / 'inside.png'}")


if __name__ == "__main__":
    main()
