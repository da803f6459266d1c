"""Splitting a number into digits: lines, broken strokes, touching digits.

The components of an :class:`~recognition.normalize.InkMap` are grouped into lines (by
vertical overlap), a digit's broken strokes are joined (pieces that overlap horizontally in a
line), stray marks much smaller than the line's digits are dropped, and a group too wide for
one digit is cut where the classifier is most convincing (:func:`best_cuts`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from .normalize import Box, Component

#: Widest width/height ratio of a single digit before a split is considered.
SPLIT_ASPECT = 1.25
#: Log-score penalty per unit of width/height ratio above SINGLE_ASPECT, for one piece.
ASPECT_PENALTY = 4.0
SINGLE_ASPECT = 1.2
#: Log-score cost of each cut: touching digits are the exception, so a cut must earn its place.
CUT_PENALTY = 1.0
#: Log-score penalty per squared log-ratio of a piece's width to the line's typical digit.
WIDTH_PENALTY = 1.5
#: A piece of a group may hold one digit when it is this many times the group's height wide.
SPAN_MIN, SPAN_MAX = 0.15, 1.6
#: A small piece over or under a tall one, this share of its height away or nearer, is in
#: its line (:func:`split_lines`), when no tall piece beside it shares half its rows.
STRAY_ROWS = 0.25
#: A piece at least this many times as wide as tall is flat: a line drawn under a number
#: (an underline, a fraction's bar) when it lies below the digits.
FLAT = 3.0
#: A short piece on a digit's top (a 5's flag written apart) joins it while together they are
#: at most this many times as wide as tall (:func:`_join_fragments`; 1.1 for other pieces).
FLAG_ASPECT = 1.4
#: Pieces at least this share of the tallest one's height make the lines (:func:`split_lines`).
LINE_TALL = 0.5
#: Pieces stacked one above the other are one digit when together at most this many times
#: the tall pieces' median height (:func:`split_lines`).
STACK_HEIGHT = 1.2
#: A line's slope is fitted once its pieces' centres spread over this many times the tallest
#: one's height (the pieces of one digit, side by side, make no slope).
SLOPE_SPREAD = 0.8
#: A line's slope, as followed from piece to piece, is at most this (about 27 degrees).
MAX_SLOPE = 0.5
#: Ink this strong still joins two pieces of one digit: a calligraphic hand's hairline (an
#: open 4's crossbar) fades below the components' own threshold but stays above the paper's.
BRIDGE_INK = 0.12
#: Two neighbouring groups joined by such a stroke may be one digit when their joint box is
#: at most this many times as wide as it is tall (two digits side by side are wider).
BRIDGE_ASPECT = 0.8
#: A dash that touches a digit ("07-12-99": the "-1"): columns at one end of a group whose ink
#: is at most DASH_THICK of the group's height thick, in the middle half of its rows, together
#: at least DASH_LENGTH of its height long (:func:`without_dashes`).
DASH_THICK, DASH_LENGTH = 0.2, 0.25


@dataclass
class Group(Box):
    """The components of one digit (or of touching digits), and their joint box."""

    parts: list[Component] = field(default_factory=list)

    @classmethod
    def of(cls, parts: list[Component]) -> Group:
        return cls(
            min(p.top for p in parts),
            min(p.left for p in parts),
            max(p.bottom for p in parts),
            max(p.right for p in parts),
            parts,
        )


def _overlap(start_a: int, stop_a: int, start_b: int, stop_b: int) -> int:
    return max(0, min(stop_a, stop_b) - max(start_a, start_b))


def _gap(start_a: int, stop_a: int, start_b: int, stop_b: int) -> int:
    """How far apart two spans are (0 when they meet or overlap)."""
    return max(0, start_b - stop_a, start_a - stop_b)


def flat(box: Box) -> bool:
    """Whether ``box`` is FLAT times as wide as tall or more (no digit is)."""
    return box.width >= FLAT * box.height


def _shared(a: Box, b: Box) -> float:
    """How much two boxes overlap vertically, as a share of the shorter one's height."""
    return _overlap(a.top, a.bottom, b.top, b.bottom) / max(1, min(a.height, b.height))


def _slope(line: list[Group]) -> float | None:
    """A line's slope (rows a column), fitted through its pieces' centres once they spread
    over SLOPE_SPREAD times the tallest one's height (the pieces of one digit, side by side,
    make no slope), at most MAX_SLOPE; None before that."""
    xs = np.array([(c.left + c.right) / 2 for c in line])
    if len(line) < 2 or np.ptp(xs) < SLOPE_SPREAD * max(c.height for c in line):
        return None
    ys = np.array([(c.top + c.bottom) / 2 for c in line])
    return float(np.clip(np.polyfit(xs, ys, 1)[0], -MAX_SLOPE, MAX_SLOPE))


def _moved(piece: Box, slope: float | None, x: float) -> Box:
    """``piece``'s box moved up or down to the column ``x`` along ``slope`` (None: not
    moved)."""
    if slope is None:
        return piece
    shift = round(slope * (x - (piece.left + piece.right) / 2))
    return Box(piece.top + shift, piece.left, piece.bottom + shift, piece.right)


def split_lines(components: list[Component]) -> list[list[Component]]:
    """Group components into text lines, top to bottom.

    The tall pieces (at least LINE_TALL of the tallest one's height), with the pieces of
    one digit stacked one above the other taken together (:func:`_stacked`), are taken left
    to right; each joins the line whose last piece it overlaps vertically by at least half of
    the smaller height (where it is, or carried along the line's slope to it), or starts a new
    one, so that a line may slope (a number written uphill: each digit overlaps its
    neighbour, not the first digit); a line that its slope, carried back, continues to the
    left joins the line it meets there (:func:`_joined_along_slope`). Each smaller piece
    then joins the line of the tall piece nearest to it that it overlaps by half its own
    height, or else the line of a tall piece it is just over or under (STRAY_ROWS; under it,
    not when FLAT: an underline), or starts a line of its own. Lines are ordered by their
    pieces' mean height on the page.
    """
    if not components:
        return []
    tallest = max(c.height for c in components)
    tall = [c for c in components if c.height >= LINE_TALL * tallest]
    units: list[list[Group]] = []  # of whole digits: a digit's stacked pieces as one box
    slopes: list[float | None] = []  # each line's, fitted again when it grows
    for unit in _stacked(tall):
        best, best_shared = None, 0.0
        for index, (line, slope) in enumerate(zip(units, slopes, strict=True)):
            shared = max(  # (a small digit, set lower, may tilt the slope fitted)
                _shared(unit, line[-1]),
                _shared(unit, _moved(line[-1], slope, (unit.left + unit.right) / 2)),
            )
            if shared >= 0.5 and shared > best_shared:
                best, best_shared = index, shared
        if best is None:
            units.append([unit])
            slopes.append(None)
        else:
            units[best].append(unit)
            slopes[best] = _slope(units[best])
    units = _joined_along_slope(units, slopes)
    lines: list[list[Component]] = [
        [part for unit in line for part in unit.parts] for line in units
    ]
    placed = {id(part): index for index, line in enumerate(lines) for part in line}
    for part in sorted(components, key=lambda c: -c.height):
        if id(part) in placed:
            continue
        near = [
            (_gap(part.left, part.right, p.left, p.right), placed[id(p)])
            for p in tall
            if _overlap(part.top, part.bottom, p.top, p.bottom) >= 0.5 * max(1, part.height)
        ] or [  # a 5's flag written apart, just above its body and higher than the line
            (_gap(part.top, part.bottom, p.top, p.bottom), placed[id(p)])
            for p in tall
            if _overlap(part.left, part.right, p.left, p.right) >= 0.5 * max(1, part.width)
            and _gap(part.top, part.bottom, p.top, p.bottom) <= STRAY_ROWS * p.height
            and (part.bottom <= p.top or not flat(part))  # (not underlines)
        ]
        if near:
            index = min(near)[1]
            lines[index].append(part)
        else:
            lines.append([part])
            index = len(lines) - 1
        placed[id(part)] = index
    return sorted(lines, key=lambda line: float(np.mean([(c.top + c.bottom) / 2 for c in line])))


def _joined_along_slope(units: list[list[Group]], slopes: list[float | None]) -> list[list[Group]]:
    """Lines that one line's slope, carried back from its first piece, continues to the
    left: a steep number's first digit, which no slope yet led to (its line had one piece),
    started a line of its own. Taken by their first pieces left to right, a line joins the
    first line that ends before it starts whose last piece its own first piece, carried
    back along its slope, overlaps by half (lines one above the other overlap across, and
    stay apart). One pass, with each line's slope as :func:`split_lines` last fitted it
    (``slopes``, one for each of ``units``)."""
    joined: list[list[Group]] = []
    order = sorted(range(len(units)), key=lambda index: units[index][0].left)
    for line, slope in ((units[index], slopes[index]) for index in order):
        first = line[0]
        for before in joined:
            last = before[-1]
            if last.right <= first.left + 0.5 * first.width and (
                _shared(last, _moved(first, slope, (last.left + last.right) / 2)) >= 0.5
            ):
                before.extend(line)
                break
        else:
            joined.append(list(line))
    return joined


def _stacked(tall: list[Component]) -> list[Group]:
    """The tall pieces, left to right, with the pieces of one digit stacked one above the
    other (a 3 written in two strokes, a faint 5 broken in two) joined: pieces that overlap
    horizontally by half the narrower one and together are at most STACK_HEIGHT of the
    pieces' median height tall, or of a digit beside them (:func:`_as_tall_as_a_neighbour`:
    when most tall pieces are a broken digit's halves, their median is a half). Two lines'
    digits, one above the other, are twice as tall together as either line's."""
    highest = STACK_HEIGHT * float(np.median([c.height for c in tall]))
    units: list[Group] = []
    for part in sorted(tall, key=lambda c: c.left):
        for index, unit in enumerate(units):
            top, bottom = min(unit.top, part.top), max(unit.bottom, part.bottom)
            if (
                _overlap(unit.left, unit.right, part.left, part.right) > 0
                and any(
                    _overlap(p.left, p.right, part.left, part.right)
                    >= 0.5 * min(p.width, part.width)
                    for p in unit.parts
                )
                and (
                    bottom - top <= highest
                    or _as_tall_as_a_neighbour(tall, [*unit.parts, part], top, bottom)
                )
            ):
                units[index] = Group.of([*unit.parts, part])
                break
        else:
            units.append(Group.of([part]))
    return units


def _as_tall_as_a_neighbour(
    tall: list[Component], parts: list[Component], top: int, bottom: int
) -> bool:
    """Whether another of the ``tall`` pieces than ``parts`` spans most (80 %) of the rows
    ``top`` to ``bottom`` and is at least 1 / STACK_HEIGHT of their height: a digit in the
    same row, as tall as the stacked pieces together (a digit beside two lines' digits
    stacked would be as tall as both lines)."""
    span = bottom - top
    return any(
        all(c is not p for p in parts)
        and STACK_HEIGHT * c.height >= span
        and _overlap(c.top, c.bottom, top, bottom) >= 0.8 * span
        for c in tall
    )


def faint_pieces(
    ink: np.ndarray, allowed: np.ndarray | bool, labels: np.ndarray, groups: list[list[int]]
) -> tuple[np.ndarray, np.ndarray]:
    """The faint ink of an ``(h, w)`` window: the connected pieces of ``ink`` above
    BRIDGE_INK (where ``allowed``), as ``(h, w)`` labels, and for each piece (by label)
    whether it meets two or more of ``groups`` (each a list of component labels in the
    window's ``(h, w)`` ``labels``): a faint stroke joining them."""
    faint, count = ndimage.label((ink > BRIDGE_INK) & allowed, structure=np.ones((3, 3)))
    reached = np.zeros((count + 1, len(groups)), dtype=bool)
    for index, group in enumerate(groups):
        reached[faint[np.isin(labels, group)], index] = True
    joins = reached.sum(axis=1) >= 2
    joins[0] = False
    return faint, joins


def faintly_joined(ink: np.ndarray, labels: np.ndarray, left: Group, right: Group) -> bool:
    """Whether faint ink (above BRIDGE_INK in the ``(H, W)`` ``ink``) joins the groups
    ``left`` and ``right`` within their joint box (``labels``: the ink map's ``(H, W)``
    component labels)."""
    joint = Group.of(left.parts + right.parts)
    window = (slice(joint.top, joint.bottom), slice(joint.left, joint.right))
    groups = [[p.label for p in g.parts] for g in (left, right)]
    return bool(faint_pieces(ink[window], True, labels[window], groups)[1].any())


def group_digits(
    line: list[Component], join: Callable[[Group, Group], bool] | None = None
) -> list[Group]:
    """Join the pieces of each digit in one line and order the digits left to right.

    Two pieces join when they overlap horizontally by half of the narrower one, unless both
    are nearly as tall as the line (then they are two digits side by side, unless they
    overlap almost entirely). Neighbours that together are narrow for one digit join when
    ``join(left, right)`` says so (the recognizer's: a faint stroke joins them, see
    :func:`faintly_joined`, and the classifier takes them together for one digit). Pieces
    much shorter than the line's digits that join nothing (dots, dashes, specks) are
    dropped.
    """
    line_height = float(np.median([c.height for c in line])) if line else 0.0
    tallest = max((c.height for c in line), default=0)
    line_height = max(line_height, 0.6 * tallest)
    groups: list[list[Component]] = []
    for part in sorted(line, key=lambda c: c.left):
        joined = False
        for parts in groups:
            box = Group.of(parts)
            shared = _overlap(part.left, part.right, box.left, box.right)
            narrower = max(1, min(part.width, box.width))
            both_tall = min(part.height, box.height) >= 0.7 * line_height
            needed = 0.8 if both_tall else 0.5
            if shared >= needed * narrower:
                parts.append(part)
                joined = True
                break
        if not joined:
            groups.append([part])
    digits = [Group.of(parts) for parts in groups]
    if join is not None:
        digits = _join_narrow(digits, join)
    return _join_fragments(digits, line_height)


def _join_narrow(digits: list[Group], join: Callable[[Group, Group], bool]) -> list[Group]:
    """Join neighbouring groups whose joint box is no wider than BRIDGE_ASPECT times its
    height when ``join`` takes them for one digit."""
    result = list(digits)
    index = 0
    while index + 1 < len(result):
        left, right = result[index], result[index + 1]
        joint = Group.of(left.parts + right.parts)
        if joint.width <= BRIDGE_ASPECT * joint.height and join(left, right):
            result[index : index + 2] = [joint]
        else:
            index += 1
    return result


def _join_fragments(digits: list[Group], line_height: float) -> list[Group]:
    """Join each short group (under 60 % of the line's height: a stroke broken off its digit)
    to its nearest neighbour when the gap is small and the joint box is not too wide for one
    digit (1.1 times its height; FLAG_ASPECT for a piece touching the box of the digit under
    it and in that digit's upper part, the flag of a 5 written apart); drop short groups
    that join nothing and are under 40 % of the height, or under 60 % and wholly in the
    lower half of the line (a comma: "14,38" was read "14938")."""
    result = list(digits)
    changed = True
    while changed:
        changed = False
        for index, group in enumerate(result):
            if group.height >= 0.6 * line_height:
                continue
            best = None
            for other_index in (index - 1, index + 1):
                if not 0 <= other_index < len(result):
                    continue
                other = result[other_index]
                gap = _gap(group.left, group.right, other.left, other.right)
                joint = Group.of(group.parts + other.parts)
                close = gap <= 0.35 * line_height
                # a 5's flag written apart, reaching far to the right of the body it sits on
                flag = gap == 0 and group.bottom <= other.top + 0.4 * other.height
                widest = FLAG_ASPECT if flag else 1.1
                if (
                    close
                    and joint.width <= widest * max(joint.height, 1)
                    and (best is None or gap < best[0])
                ):
                    best = (gap, other_index, joint)
            if best is not None:
                _, other_index, joint = best
                result[min(index, other_index)] = joint
                del result[max(index, other_index)]
                changed = True
                break
    if not result:
        return result
    upright = [g for g in result if g.height >= 0.6 * line_height] or result
    middle = (np.median([g.top for g in upright]) + np.median([g.bottom for g in upright])) / 2
    return [
        g
        for g in result
        if g.height >= 0.4 * line_height and (g.height >= 0.6 * line_height or g.top < middle)
    ]


def without_dashes(ink: np.ndarray) -> tuple[int, int]:
    """The columns ``(start, stop)`` of a group's ``(H, W)`` ink without a dash touching one
    of its ends: the thin level stroke of DASH_THICK or less of the ink's height, in the
    middle half of its rows, over DASH_LENGTH of its height or more. ``(0, W)`` when there
    is none (a 1's flag is high, a 7's bar at the top, a 0's side too short), or when both
    ends have one (a bar through a stroke: a "+", a "t")."""
    strokes = np.asarray(ink) > 0.25
    inked = strokes.any(axis=0)
    rows = np.flatnonzero(strokes.any(axis=1))
    if rows.size == 0:
        return 0, strokes.shape[1]
    height = rows[-1] - rows[0] + 1
    index = np.arange(strokes.shape[0])[:, None]
    top = np.where(strokes, index, strokes.shape[0]).min(axis=0)
    bottom = np.where(strokes, index, -1).max(axis=0)
    level = np.abs((top + bottom) / 2 - (rows[0] + rows[-1]) / 2) <= height / 4
    thin = inked & (bottom - top + 1 <= DASH_THICK * height) & level
    solid = np.flatnonzero(inked & ~thin)
    if solid.size == 0:
        return 0, strokes.shape[1]  # (all dash: a dash alone, left to the line's rules)
    columns = np.flatnonzero(inked)
    before = solid[0] - columns[0] >= DASH_LENGTH * height
    after = columns[-1] - solid[-1] >= DASH_LENGTH * height
    if before == after:  # none, or a bar through a stroke: a "+", a "t"
        return 0, strokes.shape[1]
    return (int(solid[0]), strokes.shape[1]) if before else (0, int(solid[-1]) + 1)


def candidate_cuts(profile: np.ndarray, height: int, limit: int = 12) -> list[int]:
    """Columns where touching digits may be separated: the weakest columns of the ink
    ``profile`` (``(W,)``, ink per column), at least a sixth of the height apart and from the
    ends."""
    width = profile.size
    margin = max(2, int(0.15 * height))
    if width < 2 * margin + 1:
        return []
    smooth = np.convolve(profile, np.ones(3) / 3, mode="same")
    order = np.argsort(smooth[margin : width - margin], kind="stable") + margin
    spacing = max(2, int(height / 6))
    chosen: list[int] = []
    for column in order:
        if all(abs(int(column) - c) >= spacing for c in chosen):
            chosen.append(int(column))
        if len(chosen) == limit:
            break
    return sorted(chosen)


def candidate_spans(profile: np.ndarray, height: int) -> tuple[list[int], list[tuple[int, int]]]:
    """The cut points (both ends and :func:`candidate_cuts`) of a group with ink ``profile``
    ``(W,)`` and the column spans between two of them that may hold one digit: between
    ``SPAN_MIN`` and ``SPAN_MAX`` times the height wide. The reader scores these spans; the
    cut verifier is trained on exactly these."""
    width = profile.size
    points = [0, *candidate_cuts(profile, height), width]
    spans = [
        (points[i], points[j])
        for i in range(len(points))
        for j in range(i + 1, len(points))
        if SPAN_MIN * height <= points[j] - points[i] <= SPAN_MAX * height
    ]
    return points, spans


def best_cuts(
    profile: np.ndarray,
    height: int,
    score: Callable[[list[tuple[int, int]]], np.ndarray],
    digit_width: float | None = None,
) -> list[tuple[int, int]]:
    """Choose how to cut a group of width ``profile.size`` into digits.

    ``score(spans)`` returns, for each column span ``(start, stop)``, the log of the
    classifier's top probability for that piece. The classifier alone is a poor judge (it is
    confident about half digits too), so each piece also pays for its shape: a penalty for a
    width/height ratio too wide for one digit, and for a width far from ``digit_width`` (the
    line's typical digit width; default 0.65 x height). Each cut costs CUT_PENALTY. Dynamic
    programming over the candidate cuts finds the best total. Returns the chosen spans, left
    to right (one span when no cut convinces).
    """
    options = cuts_by_count(profile, height, score, digit_width)
    return max(options.values(), key=lambda option: option[0])[1]


def cuts_by_count(
    profile: np.ndarray,
    height: int,
    score: Callable[[list[tuple[int, int]]], np.ndarray],
    digit_width: float | None = None,
    split_aspect: float = SPLIT_ASPECT,
) -> dict[int, tuple[float, list[tuple[int, int]]]]:
    """:func:`best_cuts` for every number of pieces: ``{count: (total score, spans)}``, the
    best way to cut the group into exactly ``count`` digits (for each count some cutting
    reaches). A group no wider than ``split_aspect`` times its height is never cut:
    ``{1: (0.0, [(0, W)])}``."""
    width = profile.size
    if width <= split_aspect * height:
        return {1: (0.0, [(0, width)])}
    typical = digit_width or 0.65 * height
    points, spans = candidate_spans(profile, height)
    if (0, width) not in spans:
        spans.append((0, width))  # the whole group stays a possible answer
    scores = dict(zip(spans, score(spans), strict=True))

    def shape_cost(span: tuple[int, int]) -> float:
        piece = span[1] - span[0]
        aspect = piece / max(1, height)
        return ASPECT_PENALTY * max(0.0, aspect - SINGLE_ASPECT) + WIDTH_PENALTY * float(
            np.log(piece / typical) ** 2
        )

    # best[(j, k)]: the best way to cover columns up to points[j] with k pieces
    best: dict[tuple[int, int], tuple[float, list[tuple[int, int]]]] = {(0, 0): (0.0, [])}
    for j in range(1, len(points)):
        for i in range(j):
            span = (points[i], points[j])
            if span not in scores:
                continue
            cost = shape_cost(span) + (CUT_PENALTY if i > 0 else 0.0)
            for (end, count), (total, chosen) in list(best.items()):
                if end != i:
                    continue
                option = (total + float(scores[span]) - cost, [*chosen, span])
                key = (j, count + 1)
                if key not in best or option[0] > best[key][0]:
                    best[key] = option
    last = len(points) - 1
    found = {count: option for (end, count), option in best.items() if end == last}
    return found or {1: (0.0, [(0, width)])}
