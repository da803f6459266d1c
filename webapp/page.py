"""The page's words, styles and browser scripts: everything a visitor reads on it, in one
place (the handlers and the layout take their texts from here)."""

from __future__ import annotations

import json
from pathlib import Path

from recognition import NOT_A_DIGIT
from recognition.imageio import NOT_AN_IMAGE
from recognition.recognizer import NO_DIGIT

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "images"
BOX_VIEW_SIDE = 800
DRAW_PROMPT = "draw a digit"
INSIDE_EMPTY = (
    "Draw or upload a digit in the **Digit** tab, then come back here. Meanwhile, these are "
    "the 32 filters the first layer learned from MNIST."
)
INSIDE_INTRO = """
What happens to the last digit you drew or uploaded, step by step. First the pipeline makes
your image look like MNIST. Then the network: each **convolution** slides its learned 3x3
filters over the image and every filter answers with a **feature map** (bright: the pattern
is there). The first layer's filters are edge and stroke detectors; deeper layers combine
them. The **saliency** map is the gradient of the winning class's score with respect to
each input pixel, computed by `model.backward`, the same backpropagation that trained the
network: red where more ink would raise the score, blue where it would lower it.
"""
NO_DIGIT_TEXT = NO_DIGIT
NOT_SAVED = (
    "The history database cannot be reached right now, so this answer was not saved. "
    "Try again in a moment."
)
NOT_DIGIT_TEXT = (
    "**That doesn't look like a digit.** The network's best digit guesses are listed, "
    "but it thinks none of them is likely. Draw one digit, 0-9."
)
#: Runs in the browser when the Label changes: the refusal in words, or nothing.
VERDICT_JS = (
    f"(value) => (value && value.label === {json.dumps(NOT_A_DIGIT)}) ? "
    f"{json.dumps(NOT_DIGIT_TEXT)} : ''"
)

CSS = """
#seen img { image-rendering: pixelated; }
#intro h1 { margin-bottom: 0.2em; }
.caption p { margin: 0 0 -6px 2px; }
#verdict:empty { display: none; }
#probabilities { padding-bottom: 28px; }
#seen .icon-button-wrapper:empty, #seen .icon-button-wrapper:not(:has(button)) { display: none; }
#probabilities .vega-embed, #probabilities svg { overflow: visible !important; }
@media (max-width: 640px) {
  #intro-more { display: none; }
  #intro h1 { font-size: 1.5rem; }
}
footer { display: none !important; }
table.history { border-collapse: collapse; width: 100%; }
table.history th, table.history td { padding: 4px 8px; border-bottom: 1px solid #8884;
  text-align: left; vertical-align: middle; }
table.history td.thumb img { max-height: 56px; max-width: 96px; border: 1px solid #8884; }
table.history td.answer { font-size: 1.3em; font-weight: 600; }
"""

#: In the page's <head>: what Gradio's own markup lacks for keyboards and screen readers.
#: Arrow keys, Home and End move between tabs (the WAI-ARIA tabs pattern); the chart and the
#: numbered-boxes picture get names a screen reader can say.
HEAD = r"""
<script>
(() => {
  const NOT_AN_IMAGE = __NOT_AN_IMAGE__;
  document.addEventListener('keydown', (event) => {
    const tab = event.target.closest && event.target.closest('[role="tab"]');
    if (!tab) return;
    const keys = {ArrowRight: 1, ArrowLeft: -1, Home: 'first', End: 'last'};
    if (!(event.key in keys)) return;
    const list = tab.closest('[role="tablist"]') || tab.parentElement;
    const tabs = [...list.querySelectorAll('[role="tab"]')].filter(t => !t.disabled);
    const here = tabs.indexOf(tab);
    const step = keys[event.key];
    const next = step === 'first' ? 0 : step === 'last' ? tabs.length - 1
      : (here + step + tabs.length) % tabs.length;
    event.preventDefault();
    tabs[next].focus();
    tabs[next].click();
  });
  const names = {
    '#probabilities': 'Bar chart: the probability of each digit 0 to 9, and of not a digit',
  };
  const alts = {
    '#number-boxes img': 'The image with a numbered box around each digit found',
  };
  const label = () => {
    for (const [selector, name] of Object.entries(names)) {
      document.querySelectorAll(selector + ' svg, ' + selector + ' canvas').forEach(el => {
        if (el.getAttribute('aria-label') !== name) {
          el.setAttribute('role', 'img'); el.setAttribute('aria-label', name);
        }
      });
    }
    for (const [selector, alt] of Object.entries(alts)) {
      const first = document.querySelector(selector);
      if (first && first.alt !== alt) first.alt = alt;
      document.querySelectorAll(selector).forEach((img, i) => {
        if (i > 0 && img.alt) img.alt = '';  // the coloured masks repeat the boxes
      });
    }
  };
  // Gradio's own upload check says "Invalid file type: x. Only image/* allowed."; say it
  // as the server says it for a file it cannot read.
  const explain = () => {
    document.querySelectorAll('.toast-text, [data-testid="toast-text"]').forEach(el => {
      const match = el.textContent.match(/Invalid file type: (.*)\. Only image\/\* allowed\./);
      if (match) el.textContent = `${match[1]} is ${NOT_AN_IMAGE}.`;
    });
  };
  new MutationObserver(() => { label(); explain(); })
    .observe(document.documentElement, {childList: true, subtree: true});
})();
</script>
""".replace("__NOT_AN_IMAGE__", json.dumps(NOT_AN_IMAGE))

INTRO = """
# Handwritten digit recognizer
Draw a digit, upload a photo or scan of one, or read a whole number.
"""
#: The rest of the introduction (hidden on a phone, where the canvas matters more).
INTRO_MORE = """
The network is a small CNN written from scratch in NumPy (nnlite), 99.6 % on the MNIST test
set; it also says when something is not a digit at all. Before it sees your image, the image
is made to look like MNIST: ink found, centred and scaled, strokes evened out. The 28 x 28
picture is exactly what the network saw.
"""


#: The chart's and the Label's name for the network's eleventh output.
NOT_DIGIT_BAR = "none"


#: The canvases' sizes in pixels (width, height): what the page draws on and the server
#: redraws the strokes at.
DIGIT_CANVAS = (280, 280)
NUMBER_CANVAS = (560, 200)
