"""A light drawing surface: a plain ``<canvas>`` that draws on first contact.

Gradio's image editor starts with no tool selected (a visitor must find a small brush icon),
scrolls the page under a finger, and exports its layers 0.5-0.7 s after the pen lifts. This
canvas is a ``gr.HTML`` with a short script: pointer events draw with mouse, pen and touch at
once (``touch-action: none``: a finger draws, the page does not scroll), and when the pen
lifts it sends only the strokes, a few hundred numbers, as the custom event ``draw``. The
server redraws them with Pillow (:func:`render_strokes`), so what the network reads is what
the visitor saw. Undo, Clear and a pen-size slider sit under the canvas.

Event data (``gr.EventData`` of ``draw``)::

    {"strokes": [{"size": 16, "points": [[x, y], ...]}, ...], "seq": 7}

in the canvas's own pixels. ``seq`` numbers the sends; the handler echoes it into a hidden
``done`` element, which is how the page knows the answer for its last stroke has arrived.
"""

from __future__ import annotations

import html
import math
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw

#: Bounds on what one ``draw`` event may ask the server to render.
MAX_STROKES = 300
MAX_POINTS = 20_000
MIN_PEN, MAX_PEN = 2, 60


class StrokeError(ValueError):
    """Event data that is not a drawing."""


def render_strokes(data: Any, width: int, height: int) -> np.ndarray | None:
    """The strokes of a ``draw`` event -> ``(height, width)`` uint8, black ink on white, or
    None when nothing was drawn. Raises :class:`StrokeError` for malformed or oversized data
    (checked before anything is drawn)."""
    strokes = data.get("strokes") if isinstance(data, dict) else None
    if strokes is None:
        return None
    if not isinstance(strokes, list) or len(strokes) > MAX_STROKES:
        raise StrokeError(f"a drawing has at most {MAX_STROKES} strokes")
    parsed: list[tuple[float, list[tuple[float, float]]]] = []
    total = 0
    for stroke in strokes:
        if not isinstance(stroke, dict) or not isinstance(stroke.get("points"), list):
            raise StrokeError("each stroke has a size and a list of points")
        points = stroke["points"]
        total += len(points)
        if total > MAX_POINTS:
            raise StrokeError(f"a drawing has at most {MAX_POINTS} points")
        size = _number(stroke.get("size", 16))
        xy = [(_number(p[0]), _number(p[1])) for p in points if _is_point(p)]
        if len(xy) != len(points):
            raise StrokeError("a point is a pair of numbers")
        if xy:
            limit_x, limit_y = width + MAX_PEN, height + MAX_PEN
            xy = [(min(max(x, -MAX_PEN), limit_x), min(max(y, -MAX_PEN), limit_y)) for x, y in xy]
            parsed.append((min(max(size, MIN_PEN), MAX_PEN), xy))
    if not parsed:
        return None
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    for size, xy in parsed:
        radius = size / 2
        if len(xy) > 1:
            draw.line(xy, fill=0, width=max(1, round(size)), joint="curve")
        for x, y in (xy[0], xy[-1]) if len(xy) > 1 else xy:  # round caps, and dots
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=0)
    return np.asarray(image)


def _is_point(value: Any) -> bool:
    return isinstance(value, list | tuple) and len(value) == 2


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise StrokeError("coordinates and sizes are finite numbers")
    return float(value)


def event_strokes(event: gr.EventData | None) -> tuple[dict, int]:
    """The data of a ``draw`` event and its sequence number (0 when absent)."""
    data = getattr(event, "_data", None) or {}
    seq = data.get("seq", 0) if isinstance(data, dict) else 0
    return data, seq if isinstance(seq, int) and not isinstance(seq, bool) else 0


def done_marker(seq: int, answer: str = "") -> str:
    """The hidden ``done`` element's content for the answer to send number ``seq``; the pad
    shows ``answer`` (a few words) under its canvas, so that on a phone the answer is in view
    while drawing."""
    return f'<span data-seq="{int(seq)}" data-answer="{html.escape(answer)}"></span>'


CSS = """
.digit-pad { display: flex; flex-direction: column; gap: 8px; align-items: flex-start; }
.digit-pad .surface { position: relative; width: 100%; }
.digit-pad canvas { display: block; width: 100%; height: auto; touch-action: none;
  background: #fff; border: 2px solid #9ca3af; border-radius: 10px; cursor: crosshair;
  -webkit-user-select: none; user-select: none; }
.digit-pad .hint { position: absolute; inset: 0; display: flex; align-items: center;
  justify-content: center; color: #6b7280; font-size: 1.05rem; pointer-events: none; }
.digit-pad.drawn .hint { display: none; }
.digit-pad .tools { display: flex; flex-wrap: wrap; gap: 8px; align-items: center;
  width: 100%; }
.digit-pad button { padding: 6px 14px; border-radius: 8px; border: 1px solid #9ca3af;
  background: #f9fafb; color: #111827; font-size: 0.95rem; cursor: pointer; }
.digit-pad button:focus-visible, .digit-pad input:focus-visible {
  outline: 3px solid #6366f1; outline-offset: 2px; }
.digit-pad label { display: flex; gap: 6px; align-items: center; font-size: 0.9rem; }
.digit-pad .status { font-size: 1rem; font-weight: 600; min-height: 1.2em;
  color: var(--body-text-color, #111827); }
.digit-pad.busy canvas { border-color: #6366f1; }
.digit-pad.busy .status { font-weight: 400; color: var(--body-text-color-subdued, #4b5563); }
"""

JS = """
const pad = element.querySelector('.digit-pad');
const canvas = pad.querySelector('canvas');
const ctx = canvas.getContext('2d');
const W = canvas.width, H = canvas.height;
const size = pad.querySelector('input.pen');
const status = pad.querySelector('.status');
let strokes = [], current = null, seq = 0;
function paint(stroke, from) {
  const p = stroke.points;
  ctx.strokeStyle = '#000'; ctx.fillStyle = '#000';
  ctx.lineWidth = stroke.size; ctx.lineCap = 'round'; ctx.lineJoin = 'round';
  if (p.length === 1) {
    ctx.beginPath(); ctx.arc(p[0][0], p[0][1], stroke.size / 2, 0, 2 * Math.PI); ctx.fill();
    return;
  }
  ctx.beginPath(); ctx.moveTo(p[from][0], p[from][1]);
  for (let i = from + 1; i < p.length; i++) ctx.lineTo(p[i][0], p[i][1]);
  ctx.stroke();
}
function redraw() {
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
  strokes.forEach(s => paint(s, 0));
  pad.classList.toggle('drawn', strokes.length > 0);
}
function at(e) {
  const r = canvas.getBoundingClientRect();
  const x = (e.clientX - r.left) * W / r.width, y = (e.clientY - r.top) * H / r.height;
  return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
}
// One request at a time: strokes drawn while an answer is on its way wait, and only the
// latest drawing is sent when it comes (Gradio's own "always_last" would send the first
// drawing's event again, whose answer the pad could never match to the last stroke).
let waiting = 0, pending = false, timer = null;
function go() {
  pending = false; waiting = seq;
  clearTimeout(timer);
  timer = setTimeout(() => {  // no answer: do not wait forever
    waiting = 0;
    if (pending) go();
    else if (pad.classList.contains('busy')) status.textContent = 'No answer yet: draw again';
  }, 20000);
  const copy = strokes.map(s => ({size: s.size, points: s.points.slice()}));
  trigger('draw', {strokes: copy, seq: seq});
}
function send() {
  seq += 1;
  pad.dataset.seq = seq;
  pad.classList.add('busy');
  status.textContent = strokes.length ? 'Reading\\u2026' : '';
  if (waiting && done) pending = true; else go();
}
const done = document.getElementById(pad.dataset.done);
if (done) {
  new MutationObserver(() => {
    const mark = done.querySelector('[data-seq]');
    if (!mark) return;
    const got = Number(mark.dataset.seq);
    if (waiting && got >= waiting) {
      waiting = 0; clearTimeout(timer);
      if (pending) { go(); return; }
    }
    if (got >= seq) {
      pad.classList.remove('busy'); status.textContent = mark.dataset.answer || '';
    }
  }).observe(done, {childList: true, subtree: true, characterData: true, attributes: true});
}
canvas.addEventListener('pointerdown', e => {
  if (e.button !== undefined && e.button > 0) return;
  e.preventDefault();
  canvas.setPointerCapture(e.pointerId);
  current = {size: Number(size.value), points: [at(e)]};
  strokes.push(current);
  pad.classList.add('drawn');
  paint(current, 0);
});
canvas.addEventListener('pointermove', e => {
  if (!current) return;
  e.preventDefault();
  const from = current.points.length - 1;
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
  (events.length ? events : [e]).forEach(ev => current.points.push(at(ev)));
  paint(current, from);
});
function finish(e) {
  if (!current) return;
  e.preventDefault();
  current = null;
  send();
}
canvas.addEventListener('pointerup', finish);
canvas.addEventListener('pointercancel', finish);
canvas.addEventListener('touchstart', e => e.preventDefault(), {passive: false});
pad.querySelector('button.undo').addEventListener('click', () => {
  if (!strokes.length) return;
  strokes.pop(); redraw(); send();
});
pad.querySelector('button.clear').addEventListener('click', () => {
  strokes = []; redraw(); send();
});
redraw();
pad.dataset.ready = '1';  // listeners attached: the pad draws from here on
"""


def drawing_pad(
    elem_id: str, width: int, height: int, pen: int, hint: str, done_id: str, label: str
) -> gr.HTML:
    """A canvas of ``width`` x ``height`` pixels (shown at most that wide, shrunk to fit a
    phone) with Undo, Clear and a pen-size slider starting at ``pen`` pixels. Listen to its
    ``draw`` event; ``done_id`` is the elem_id of the hidden element the handler writes
    :func:`done_marker` into."""
    template = f"""
<div class="digit-pad" data-done="{html.escape(done_id)}" style="max-width: {width}px">
  <div class="surface">
    <canvas width="{width}" height="{height}" role="img"
      aria-label="{html.escape(label)}: draw with the mouse, a finger or a pen"></canvas>
    <div class="hint" aria-hidden="true">{html.escape(hint)}</div>
  </div>
  <div class="tools">
    <button type="button" class="undo">Undo</button>
    <button type="button" class="clear">Clear</button>
    <label>Pen <input class="pen" type="range" min="{MIN_PEN + 4}" max="{MAX_PEN // 2}"
      value="{pen}" aria-label="Pen size"></label>
    <span class="status" role="status" aria-live="polite"></span>
  </div>
</div>"""
    return gr.HTML(
        "",
        html_template=template,
        css_template=CSS,
        js_on_load=JS,
        elem_id=elem_id,
        apply_default_css=False,
        padding=False,
    )
