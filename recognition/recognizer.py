"""The recognition pipeline that the CLI and the web app share.

    recognizer = Recognizer.load()                 # weights/mnist_cnn.npz by default
    answer = recognizer.predict("photo.jpg")       # label, confidence, top_k, the 28x28 input
    reading = recognizer.read_number("pin.png")    # "4071", each digit with a box

An image goes through :func:`~recognition.imageio.load_image` (any format, shrunk early),
:func:`~recognition.normalize.find_ink` (background, polarity, components), then either all
of its ink becomes one digit (:meth:`Recognizer.predict`) or it is split into lines and digits
(:meth:`Recognizer.read_number`); each digit is made MNIST-like by
:func:`~recognition.normalize.to_mnist` and classified by the nnlite network.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

import nnlite as nl

from .groups import (
    BLANK,
    CLASSES,
    GROUP_HEIGHT,
    GROUP_WIDTH,
    INK_HEIGHT,
    POSITIONS,
    GroupView,
    column_log_probs,
    digits_probability,
    head_probabilities,
    to_group_input,
)
from .imageio import ImageSource, load_image
from .normalize import (
    STRAY_AREA,
    Box,
    Component,
    InkMap,
    dilate_cross,
    find_ink,
    pad_with_paper,
    to_mnist,
)
from .segment import (
    SPLIT_ASPECT,
    Group,
    cuts_by_count,
    faint_pieces,
    faintly_joined,
    flat,
    group_digits,
    split_lines,
    without_dashes,
)
from .shapes import bow, has_loop, long_up_stroke_one, one_stroke

DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "mnist_cnn.npz"
#: The cut verifier (``train_verifier.py``): "is this piece one whole digit?".
DEFAULT_VERIFIER = DEFAULT_WEIGHTS.with_name("digit_verifier.npz")
#: The group reader (``train_groups.py``): reads up to six touching digits without cutting.
DEFAULT_GROUP_READER = DEFAULT_WEIGHTS.with_name("group_reader.npz")
#: The group judge (``train_groups.py --judge``): "are these digits at all?" for a group the
#: group reader would read (it finds digits in anything: a letter A is "14" to it).
DEFAULT_GROUP_JUDGE = DEFAULT_WEIGHTS.with_name("group_judge.npz")
#: The column reader (``train_groups.py --columns``): a second reader of touching digits,
#: built otherwise (CTC over the group's columns, no fixed positions); its reading is fused
#: with the group reader's.
DEFAULT_COLUMN_READER = DEFAULT_WEIGHTS.with_name("column_reader.npz")
#: How much the column reader's log-probability of a cutting's digits counts in its score (as
#: much as the group reader's; 1.0 and 3.0 read 1,200 touching rows of four to six within a
#: row of 2.0).
COLUMN_WEIGHT = 2.0
#: How much the verifier's log-probability counts against the classifier's in a cut's score.
VERIFIER_WEIGHT = 2.0
#: How much the group reader's log-probability counts against the cut reader's score (as
#: much as the verifier's: 1.0 read touching rows of three about half a point worse).
GROUP_WEIGHT = 2.0
#: Groups wider than this times their height are shown to the group reader; when it sees two
#: or more digits, they are cut although narrower than ``segment.SPLIT_ASPECT``.
TOUCH_ASPECT = 0.5
#: ...and, in a line whose single digits are about ``w`` wide, wider than this times ``w``.
TOUCH_WIDTH = 1.6
#: When the group reader is this sure of its reading and cutting cannot agree with it, its
#: reading stands (0.9 read 1-2 points fewer touching rows of five and six exactly with the
#: reader of 1,024 hidden units).
GROUP_TRUST = 0.8
#: With the column reader, the two readers' reading stands from this geometric mean of their
#: probabilities (:meth:`~recognition.groups.GroupView.score`). Of 3,000 validation groups,
#: the fused readings scored 0.6-0.8 were right 89 % of the time, the group reader's alone
#: at 0.8-0.9 94 %, at 0.5-0.8 88 % (0.5 and 0.7 read 1,200 touching rows of four to six
#: within two rows of 0.6).
FUSED_TRUST = 0.6
#: How sure the group reader must be of a group the classifier refused ("not a digit") for
#: the second look to cut it: surer than GROUP_TRUST, since a letter is refused too (an M
#: between digits is "14" to the reader at 0.9).
SECOND_LOOK_TRUST = 0.95
#: ... and when the group reader and the column reader read the refused group alike (a
#: touching "37" both read at 0.77 first in a row of six): of 230 letters and symbols drawn
#: between digits none more is cut at 0.75 or at 0.6; touching rows of six 175 -> 176 of
#: 200, held-out font numbers one digit in five touching 353 -> 355 of 400.
AGREED_SECOND_LOOK_TRUST = 0.75
#: The group readers read each group at INK_HEIGHT (as trained) and also scaled to these ink
#: heights, and their log-probabilities are averaged (:func:`_mean_log`): a digit read
#: alike at three sizes is surer than one read at one. On 600 touching rows of four to six
#: digits from MNIST's test set (two seeds), (18, 22) read 1.2 points more exactly, 17 and 23
#: none; four more heights (18, 19, 21, 22) a point more on sixes but at twice the cost.
GROUP_LOOK_HEIGHTS = (18, 22)
#: A reading of LONG_READING digits or more by the group readers together stands from
#: LONG_TRUST rather than FUSED_TRUST: the cut reader alone reads a long touching row worse
#: than the readers unsure of it (0.3 read touching rows of five and six 2-4 points more
#: exactly than 0.6, rows of four the same).
LONG_READING = 4
LONG_TRUST = 0.3
#: A group the group judge takes for digits less surely than this, and the classifier refuses
#: as one mark, is not read by the group reader: the cut reader alone reads it, and refuses
#: a letter mostly (0.5 refused 5 letters of 230 more, and cost a touching pair of 200 and 3
#: of the held-out hands' most touching numbers of 200; most letters are judged below 0.02).
JUDGE_TRUST = 0.1
#: A group about to be cut whose end is a dash (``segment.without_dashes``) is one digit and
#: the dash when the rest, one digit wide, is read as a digit this surely ("-9" is not "29").
DASHED_DIGIT = 0.9
#: A group whose whole is read as one digit with this log-score (classifier and verifier, as
#: in the cut search) stays one digit whatever the group reader says.
SURE_SINGLE = -0.3
#: A piece the ink map dropped (a speck) at most this share of the smallest part's area may
#: carry a hairline joining a digit's parts (:func:`isolated_window`).
HAIRLINE_SPECK = 0.5
#: A group of touching digits is cut from its ink with this many pixels around it.
GROUP_MARGIN = 2
#: A group read whole keeps every piece of ink at least this share of its largest piece's
#: size (:func:`piece_ink`; a straight cut's slivers, under a fifth, are dropped).
SPECK_SHARE = 0.05
NO_DIGIT = "no digit found"
NOT_A_DIGIT = "not a digit"
#: The index of the model's eleventh output, "not a digit" (outputs 0-9 are the digits).
NOT_DIGIT_OUTPUT = 10
#: The model's eleventh output (when it has one) is "not a digit"; an input whose
#: not-a-digit probability reaches this is refused, with the digit guesses still shown.
NOT_DIGIT_THRESHOLD = 0.5
#: In a number, a mark the classifier refuses less surely than this, as tall as the digits
#: read in its line (DOUBT_HEIGHT of their median height), is read as its best digit: a
#: held-out hand's curled 2 or hairline 8 is "not a digit" at 0.6-0.7 to the classifier, a
#: letter mostly at 0.9 or more. Alone, or of another height, it is refused from
#: NOT_DIGIT_THRESHOLD as in digit mode.
DOUBTED_DIGIT = 0.7
DOUBT_HEIGHT = (0.75, 1.35)
#: A number is read from at most this many separate marks; more is refused unread (reading
#: costs a classification per mark, and 3000 little bars must not keep a server busy).
MAX_MARKS = 150
#: A line of marks that all touch the image's edge, and less than this share as tall as the
#: tallest line, is no line of digits (in number mode); nor is a line as low whose every
#: piece is flat (``segment.flat``): a line drawn under or over the number, a fraction's bar.
EDGE_LINE = 0.5
#: A piece whose ink spreads across its long axis at most this share of its spread along it
#: is a bar (a dash, a line drawn at a slant), not touching digits, however tall its line
#: (:func:`_is_bar`; a row of k touching digits spreads about 1.4 / k as far across, so
#: rows of up to nine stay digits); or a flat piece that fills BAR_FILL of its box (a thick
#: short dash; touching digits fill half their box or less); lying within BAR_ANGLE degrees
#: of level (a 1 is a bar standing up).
BAR_SPREAD, BAR_FILL, BAR_ANGLE = 0.15, 0.75, 35.0
TOO_MANY_MARKS = "too many marks to read as a number"
#: Why a mark read as a 1 was left out of a number (:func:`_without_brackets`).
BRACKET = "a bracket"
#: A "1" read alone (not cut from touching digits) is a bracket when its edges bow at least
#: BRACKET_BOW (:func:`~recognition.shapes.bow`) and a bracket bowed the other way closes it
#: later in the line, or, first or last in its line, when they bow at least LONE_BRACKET_BOW
#: (0.1 % of MNIST's 1s, 1 % at 0.12).
BRACKET_BOW, LONE_BRACKET_BOW = 0.1, 0.2
PLUS = "a plus sign"
#: The first mark of a line, read as a 4, is a "+" (an international phone number's "+44")
#: when it is at most PLUS_HEIGHT times as tall as the line's other digits (their median)
#: and floats: its bottom at least PLUS_FLOAT of their height above theirs, its top as far
#: below their top. A 4 stands on the line and is as tall as its neighbours.
PLUS_HEIGHT, PLUS_FLOAT = 0.7, 0.08
#: A pair bowed less, down to WEAK_BRACKET_BOW, when both are at least TALL_BRACKET times
#: as tall as the digits between them (a bracket reaches above and below its digits).
WEAK_BRACKET_BOW, TALL_BRACKET = 0.05, 1.15


class WeightsError(ValueError):
    """A weights file that cannot be loaded as a digit classifier."""


@dataclass
class Prediction:
    """The answer for one digit.

    ``label`` is None when there is no ink or the ink is not a digit, and ``reason`` then
    says which (NO_DIGIT or NOT_A_DIGIT); ``detail`` says why no ink was found ("the image
    is one flat colour"), for the app to tell a user who uploaded such an image.
    ``probabilities`` is ``(10,)``, the digits' probabilities; ``not_digit`` is the
    probability that the ink is not a digit at all (they sum to 1). When the ink is not a
    digit, ``top_k`` still lists the digit guesses and ``confidence`` is ``not_digit``.
    ``input`` is the ``(28, 28)`` image the network saw; ``steps`` holds the intermediate
    images when they were asked for.
    """

    label: int | None
    confidence: float = 0.0
    top_k: list[tuple[int, float]] = field(default_factory=list)
    probabilities: np.ndarray | None = None
    input: np.ndarray | None = None
    reason: str = ""
    detail: str = ""
    steps: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    not_digit: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON fields (without ``file``)."""
        if self.label is None:
            found: dict[str, Any] = {"label": None, "reason": self.reason}
            if self.top_k:
                found["top_k"] = [[label, round(p, 4)] for label, p in self.top_k]
            return found
        return {
            "label": self.label,
            "confidence": round(self.confidence, 4),
            "top_k": [[label, round(p, 4)] for label, p in self.top_k],
        }


@dataclass
class DigitReading:
    """One digit of a number: its label, confidence, box ``(x, y, w, h)`` in the pixels of the
    original image, ``(10,)`` probabilities and the ``(28, 28)`` input the network saw."""

    label: int
    confidence: float
    box: tuple[int, int, int, int]
    probabilities: np.ndarray = field(repr=False)
    input: np.ndarray = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "confidence": round(self.confidence, 4), "box": list(self.box)}


@dataclass
class SkippedMark:
    """A mark in a number that is not a digit (a dash, a dot, a letter): its box ``(x, y, w,
    h)`` in the original image's pixels and why it was left out."""

    box: tuple[int, int, int, int]
    reason: str = NOT_A_DIGIT

    def to_json(self) -> dict[str, Any]:
        return {"box": list(self.box), "reason": self.reason}


@dataclass
class NumberReading:
    """A number read from an image: one list of digits per text line, top to bottom, and the
    marks left out because they are not digits."""

    lines: list[list[DigitReading]]
    reason: str = ""
    detail: str = ""
    skipped: list[SkippedMark] = field(default_factory=list)

    @property
    def digits(self) -> list[DigitReading]:
        return [digit for line in self.lines for digit in line]

    @property
    def number(self) -> str | None:
        """The digits as text, lines separated by newlines; None when there are none."""
        if not self.digits:
            return None
        return "\n".join("".join(str(d.label) for d in line) for line in self.lines if line)

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "number": self.number,
            "digits": [digit.to_json() for digit in self.digits],
            "skipped": [mark.to_json() for mark in self.skipped],
        }
        if self.number is None:
            found["reason"] = self.reason or NO_DIGIT
        return found


class Recognizer:
    """A digit classifier (an nnlite model taking ``(N, 1, 28, 28)``) with the pipeline that
    makes real images look like its training data."""

    def __init__(
        self,
        model: nl.Sequential,
        deskew: bool = True,
        verifier: nl.Sequential | None = None,
        group_reader: nl.Sequential | None = None,
        group_judge: nl.Sequential | None = None,
        column_reader: nl.Sequential | None = None,
    ) -> None:
        self.model = model
        self.model.eval()
        self.deskew = deskew
        self.verifier = verifier
        self.group_reader = group_reader
        self.group_judge = group_judge
        self.column_reader = column_reader
        for helper in (verifier, group_reader, group_judge, column_reader):
            if helper is not None:
                helper.eval()

    @classmethod
    def load(cls, weights: str | os.PathLike | None = None, deskew: bool = True) -> Recognizer:
        """Load a classifier saved by ``train.py``; :class:`WeightsError` says what is wrong."""
        path = Path(weights) if weights is not None else DEFAULT_WEIGHTS
        if not path.is_file():
            raise WeightsError(f"weights file {path} does not exist")
        try:
            model = nl.load(path)
        except (ValueError, OSError, KeyError) as error:
            raise WeightsError(f"cannot load weights {path}: {error}") from None
        try:
            probe = model.predict(np.zeros((1, 1, 28, 28), dtype=np.float32))
        except (ValueError, IndexError, TypeError) as error:
            raise WeightsError(
                f"weights {path} are not a digit classifier for 28x28 images ({error})"
            ) from None
        if probe.shape not in ((1, 10), (1, 11)):
            raise WeightsError(
                f"weights {path} are not a digit classifier: it maps a 28x28 image to "
                f"{probe.shape[1:]} outputs, not 10 (digits) or 11 (digits, not a digit)"
            )
        return cls(
            model,
            deskew=deskew,
            verifier=_load_verifier(DEFAULT_VERIFIER),
            group_reader=_load_helper(
                DEFAULT_GROUP_READER,
                (1, GROUP_HEIGHT, GROUP_WIDTH),
                POSITIONS * CLASSES,
                "group reader",
            ),
            group_judge=_load_helper(
                DEFAULT_GROUP_JUDGE, (1, GROUP_HEIGHT, GROUP_WIDTH), 2, "group judge"
            ),
            column_reader=_load_helper(
                DEFAULT_COLUMN_READER,
                (1, GROUP_HEIGHT, GROUP_WIDTH),
                (GROUP_WIDTH // 4, CLASSES),
                "column reader",
            ),
        )

    @classmethod
    def load_or_exit(cls, weights: str | os.PathLike | None, program: str) -> Recognizer:
        """:meth:`load` for a command-line program: on bad weights, print one line on stderr
        (``program: what is wrong``) and exit with status 2, never a traceback."""
        try:
            return cls.load(weights)
        except WeightsError as error:
            print(f"{program}: {error}", file=sys.stderr)
            raise SystemExit(2) from None

    def classify(self, inputs: np.ndarray) -> np.ndarray:
        """``(N, 28, 28)`` MNIST-style inputs -> ``(N, 11)`` probabilities: the ten digits,
        then "not a digit" (always 0 for a ten-output model)."""
        if len(inputs) == 0:
            return np.zeros((0, 11), dtype=np.float32)
        batch = np.asarray(inputs, dtype=np.float32).reshape(-1, 1, 28, 28)
        probabilities = self.model.predict(batch)
        if probabilities.shape[1] == 10:
            probabilities = np.pad(probabilities, ((0, 0), (0, 1)))
        return probabilities

    def answer(self, digit: np.ndarray, top_k: int = 3) -> Prediction:
        """The :class:`Prediction` for one ``(28, 28)`` network input."""
        probabilities = with_shapes(digit, self.classify(digit[None])[0])
        digits = probabilities[:NOT_DIGIT_OUTPUT]
        not_digit = float(probabilities[NOT_DIGIT_OUTPUT])
        order = np.argsort(-digits, kind="stable")[: max(1, min(top_k, 10))]
        top = [(int(k), float(digits[k])) for k in order]
        if not_digit >= NOT_DIGIT_THRESHOLD:
            return Prediction(
                None, not_digit, top, digits, digit, reason=NOT_A_DIGIT, not_digit=not_digit
            )
        return Prediction(
            int(order[0]), float(digits[order[0]]), top, digits, digit, not_digit=not_digit
        )

    def predict(self, image: ImageSource, top_k: int = 3, steps: bool = False) -> Prediction:
        """Recognise the single digit in ``image`` (a path, bytes, PIL image or array).

        With ``steps=True`` the answer's ``steps`` holds ``"image"``, ``"background"``,
        ``"ink"``, ``"crop"``, ``"stroke"``, ``"deskew"`` and ``"input"``. When no digit is
        found, the image is looked at once more with a margin of its border's colour
        (:func:`~recognition.normalize.pad_with_paper`); the steps are then the second look's.
        Raises :class:`~recognition.imageio.ImageError` for an unusable image.
        """
        rgb, _ = load_image(image)
        found = self._predict_rgb(rgb, top_k, steps)
        if found.label is None:
            # A digit cropped tight to its ink, or drawn to the canvas's edges, leaves too
            # little paper around it for the light model and the ink's polarity: seen again
            # with a margin of the border's colour around it.
            again = self._predict_rgb(pad_with_paper(rgb), top_k, steps)
            # (ink judged not a digit at first needs a clear answer to become one)
            if again.label is not None and (found.reason == NO_DIGIT or again.confidence >= 0.5):
                return again
        return found

    def _predict_rgb(self, rgb: np.ndarray, top_k: int, steps: bool) -> Prediction:
        """:meth:`predict` on an ``(H, W, 3)`` float image."""
        ink_map = find_ink(rgb)
        recorded: dict[str, np.ndarray] = {}
        if steps:
            recorded.update(image=rgb, background=ink_map.background, ink=ink_map.ink)
        if not ink_map.components:
            return Prediction(None, reason=NO_DIGIT, detail=ink_map.reason, steps=recorded)
        inside, _ = inside_a_ring(ink_map)
        ink, _, _ = isolated_window(ink_map, digit_parts(inside, ink_map.ink.shape))
        digit = to_mnist(ink, self.deskew, recorded if steps else None)
        found = self.answer(digit, top_k)
        found.steps = recorded
        return found

    def read_number(self, image: ImageSource) -> NumberReading:
        """Read every digit in ``image``: lines top to bottom, digits left to right, each with
        a box in the original image's pixels and a confidence."""
        rgb, load_scale = load_image(image)
        ink_map = find_ink(rgb)
        if not ink_map.components:
            return NumberReading([], reason=NO_DIGIT, detail=ink_map.reason)
        if len(ink_map.components) > MAX_MARKS:
            return NumberReading([], reason=TOO_MANY_MARKS)
        to_original = 1.0 / (ink_map.scale * load_scale)
        skipped: list[SkippedMark] = []
        found: list[tuple[int, Group, float | None]] = []  # (line, group, typical width)
        others: list[float | None] = []  # the typical width of the line's other single digits
        components, ring = inside_a_ring(ink_map)
        if ring is not None:  # a circle drawn around the number
            skipped.append(SkippedMark(_original_box(ring, to_original)))
        lines_found = split_lines(components)
        tallest = max(_height(line) for line in lines_found)
        for index, line in enumerate(lines_found):
            low = _height(line) < EDGE_LINE * tallest
            if (
                # the rim of a shadow or of the page where it leaves the frame
                (low and all(part.at_edge(ink_map.ink.shape) for part in line))
                # a line drawn under (or over) the number, or a dash: no digit is that flat
                or (low and all(flat(part) for part in line))
                or all(_is_bar(ink_map.labels, part) for part in line)
            ):
                skipped += [SkippedMark(_original_box(part, to_original)) for part in line]
                continue
            groups = group_digits(line, lambda a, b: self._joined(ink_map, a, b))
            single = [g for g in groups if g.width <= SPLIT_ASPECT * g.height]
            digit_width = float(np.median([g.width for g in single])) if single else None
            used = {id(part) for group in groups for part in group.parts}
            for part in line:  # dots, dashes and specks the grouping left out
                if id(part) not in used:
                    skipped.append(SkippedMark(_original_box(part, to_original)))
            found += [(index, group, digit_width) for group in groups]
            for group in groups:
                rest = [g.width for g in single if g is not group]
                others.append(float(np.median(rest)) if len(rest) >= 2 else None)
        crops = [self._group_crop(ink_map, group) for _, group, _ in found]
        looked = [
            self._may_touch(group, width)
            for (_, group, _), width in zip(found, others, strict=True)
        ]
        views = iter(
            self._group_views([crop for crop, look in zip(crops, looked, strict=True) if look])
        )
        # Groups that stay whole are classified together, in one batch; the others are cut.
        plans: list[tuple[list[tuple[int, int]], list[np.ndarray | None], dict]] = []
        whole: dict[int, np.ndarray] = {}  # the place in ``found`` -> the 28x28 input
        for place, ((_, group, digit_width), (ink, top, left), look) in enumerate(
            zip(found, crops, looked, strict=True)
        ):
            plan = self._plan(ink, group, digit_width, next(views) if look else None)
            # a group about to be cut that is one digit and a dash touching it ("-9" of
            # "07-12-99"): the rest one digit wide, and surely a digit
            dashed = self._without_dash(ink, top, left, group.height) if plan is not None else None
            if dashed is not None and dashed[2][:NOT_DIGIT_OUTPUT].max() >= DASHED_DIGIT:
                span, whole[place], _, dash = dashed
                plans.append(([span], [None], {}))
                skipped.append(SkippedMark(_original_box(dash, to_original)))
                continue
            if plan is None:
                whole[place] = to_mnist(piece_ink(ink, (0, ink.shape[1])), self.deskew)
                plan = ([(0, ink.shape[1])], [None], {})
            plans.append(plan)
        places = list(whole)
        probabilities_of = dict(
            zip(places, self.classify(np.stack(list(whole.values()))) if whole else [], strict=True)
        )
        # A digit refused as "not a digit" because a dash touches it (the "-1" of "07-12-99")
        # is read without the dash, which is skipped, when without it it is a digit.
        for place in places:
            if probabilities_of[place][NOT_DIGIT_OUTPUT] < NOT_DIGIT_THRESHOLD:
                continue
            dashed = self._without_dash(*crops[place])
            if dashed is None or dashed[2][NOT_DIGIT_OUTPUT] >= NOT_DIGIT_THRESHOLD:
                continue
            span, whole[place], probabilities_of[place], dash = dashed
            plans[place] = ([span], [None], {})
            skipped.append(SkippedMark(_original_box(dash, to_original)))
        # A whole group refused as "not a digit" that may hold two digits (touching digits
        # narrower than the line's other digits suggest: italic ones that overlap) is shown
        # to the group reader after all. When the readers are sure (SECOND_LOOK_TRUST) of two
        # digits or more and the cut reader, cutting on its own, finds the same digits (or,
        # from AGREED_SECOND_LOOK_TRUST, the group reader's and the column reader's best
        # readings are the same), it is cut;
        # the group reader alone finds digits in anything (it reads a letter A as "14"), so
        # it does not decide alone, and letters it reads less surely (a drawn "M" as "14" at
        # up to 0.905, "R" as "12") are not cut (the font numbers' overlapping pairs read at
        # 0.88-1.0).
        second = [
            place
            for place in places
            if probabilities_of[place][NOT_DIGIT_OUTPUT] >= NOT_DIGIT_THRESHOLD
            and not looked[place]  # (nor any the group judge said holds no digits)
            and self._may_touch(found[place][1], None)
        ]
        for place, view in zip(
            second, self._group_views([crops[place] for place in second]), strict=True
        ):
            if view is None:
                continue  # (the group judge: no digits)
            reading, score = view.best()
            trust = AGREED_SECOND_LOOK_TRUST if view.agreed() else SECOND_LOOK_TRUST
            if np.exp(score) < trust or reading == [1, 1]:
                continue  # (not sure; or a V, a U: two strokes the classifier refused)
            (_, group, digit_width), (ink, _, _) = found[place], crops[place]
            memo: dict = {}  # (both cut the same group: each span is read once)
            plan = self._plan(ink, group, digit_width, view, memo)
            # (a row "141331" lost its "331", read so by both readers at 0.98 and 0.96)
            if plan is not None and (
                view.agreed() or self._cut_alone(ink, group, digit_width, memo) == reading
            ):
                plans[place] = plan
                del whole[place]
        lines: dict[int, list[DigitReading]] = {}
        bows: dict[int, float] = {}  # (the id of) each reading -> its ink's bow
        thin: set[int] = set()  # (ids of) readings whose ink is one thin stroke
        joined: set[int] = set()  # (ids of) 4s whose ink runs on into a neighbour's: no "+"
        doubted: set[int] = set()  # (ids of) readings the classifier refused, unsurely
        for place, ((index, _, _), (ink, top, left), (spans, chosen, cache)) in enumerate(
            zip(found, crops, plans, strict=True)
        ):
            if place in whole:  # a whole group: its classification from the batch
                cache = {spans[0]: (whole[place], probabilities_of[place])}
            if len(spans) == 2 and all(
                np.argmax((cache[span][1] if joint is None else joint)[:NOT_DIGIT_OUTPUT]) == 1
                for span, joint in zip(spans, chosen, strict=True)
            ):  # "11": or the two legs of one 1 written as a tall "Λ", or the sides of a 0?
                digit, probabilities = self._read_whole(piece_ink(ink, (0, ink.shape[1])))
                best = int(np.argmax(probabilities[:NOT_DIGIT_OUTPUT]))
                if probabilities[NOT_DIGIT_OUTPUT] < NOT_DIGIT_THRESHOLD and (
                    (best == 1 and long_up_stroke_one(digit)) or (best != 1 and has_loop(ink))
                ):  # (two 1s enclose nothing)
                    spans, chosen = [(0, ink.shape[1])], [probabilities]
                    cache = {spans[0]: (digit, probabilities)}
            for span, joint in zip(spans, chosen, strict=True):
                digit, probabilities = cache[span]
                probabilities = with_shapes(digit, probabilities if joint is None else joint)
                piece = piece_ink(ink, span)
                inked = _inked_box(piece, top, left)
                if inked is None:
                    continue
                box = _original_box(inked, to_original)
                refusal = probabilities[NOT_DIGIT_OUTPUT]
                if refusal >= (DOUBTED_DIGIT if len(spans) == 1 else NOT_DIGIT_THRESHOLD):
                    skipped.append(SkippedMark(box))
                    continue
                digits = probabilities[:NOT_DIGIT_OUTPUT]
                label = int(np.argmax(digits))
                reading = DigitReading(label, float(digits[label]), box, digits, digit)
                if refusal >= NOT_DIGIT_THRESHOLD:
                    doubted.add(id(reading))
                lines.setdefault(index, []).append(reading)
                if label == 4 and not stands_apart(ink, span):
                    joined.add(id(reading))
                # a bracket is a mark of its own, read as a 1, or as a 3, 6 or 7 if bowed
                stroke = len(spans) == 1 and one_stroke(piece)
                alone = len(spans) == 1 and (label == 1 or stroke)
                bows[id(reading)] = bow(piece) if alone else 0.0
                if stroke:
                    thin.add(id(reading))
        read = []
        for index in sorted(lines):
            doubts = _doubted_marks(lines[index], doubted)
            skipped += [SkippedMark(lines[index][i].box) for i in sorted(doubts)]
            line = [r for i, r in enumerate(lines[index]) if i not in doubts]
            kept, marks = _without_brackets(
                line, [bows[id(r)] for r in line], [id(r) in thin for r in line]
            )
            kept, plus = _without_plus(kept, bool(kept) and id(kept[0]) not in joined)
            skipped += marks + plus
            if kept:
                read.append(kept)
        reason = "" if read else (NOT_A_DIGIT if skipped else NO_DIGIT)
        return NumberReading(read, reason=reason, skipped=skipped)

    def _joined(self, ink_map: InkMap, left: Group, right: Group) -> bool:
        """Whether two neighbouring groups are one digit: a faint stroke joins them (an
        open 4's hairline bar) and the classifier takes them together for one digit, not
        "not a digit" (what a ruled line leaves joins a digit to a stray mark too)."""
        if not faintly_joined(ink_map.ink, ink_map.labels, left, right):
            return False
        ink, _, _ = isolated_window(ink_map, left.parts + right.parts, GROUP_MARGIN)
        _, probabilities = self._read_whole(ink)
        return bool(probabilities[NOT_DIGIT_OUTPUT] < NOT_DIGIT_THRESHOLD)

    def _without_dash(
        self, ink: np.ndarray, top: int, left: int, widest: float | None = None
    ) -> tuple[tuple[int, int], np.ndarray, np.ndarray, Box] | None:
        """A group's ``ink`` without a dash touching one of its ends
        (:func:`~recognition.segment.without_dashes`): the rest's columns, its ``(28, 28)``
        input and ``(11,)`` probabilities, and the dash's inked box in the ink map (the
        crop's ``top`` and ``left`` in it). None when it has no such dash, or the rest is
        wider than ``widest``."""
        span = without_dashes(ink)
        if span == (0, ink.shape[1]) or (widest is not None and span[1] - span[0] > widest):
            return None
        dash = ink.copy()
        dash[:, span[0] : span[1]] = 0.0
        box = _inked_box(dash, top, left)
        if box is None:
            return None
        digit = to_mnist(piece_ink(ink, span), self.deskew)
        return span, digit, self.classify(digit[None])[0], box

    def _read_whole(self, ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One group's ``(H, W)`` ink read as one digit: its ``(28, 28)`` input and
        ``(11,)`` probabilities (:func:`with_shapes`)."""
        digit = to_mnist(ink, self.deskew)
        return digit, with_shapes(digit, self.classify(digit[None])[0])

    def _plan(
        self,
        ink: np.ndarray,
        group: Group,
        digit_width: float | None,
        view: GroupView | None,
        memo: dict | None = None,
    ) -> tuple[list[tuple[int, int]], list[np.ndarray | None], dict] | None:
        """How to read one group (:meth:`_cut_group`'s spans, joint probabilities and
        cache), or None when it stays whole: narrow for one digit, unless the group reader
        (``view``) sees two digits or more in it. ``memo``: as :meth:`_cut_group`'s."""
        touching = view is not None and np.exp(view.heads[1, BLANK]) < 0.5
        split_aspect = 0.0 if touching else SPLIT_ASPECT
        if ink.shape[1] <= split_aspect * group.height:  # (as cuts_by_count decides)
            return None
        return self._cut_group(ink, group, digit_width, split_aspect, view, memo)

    def _cut_alone(
        self, ink: np.ndarray, group: Group, digit_width: float | None, memo: dict | None = None
    ) -> list[int]:
        """The digits the cut reader alone (no group reader) reads in ``ink``, cutting it
        however narrow it is. ``memo``: as :meth:`_cut_group`'s."""
        spans, chosen, cache = self._cut_group(ink, group, digit_width, 0.0, None, memo)
        return [
            int(np.argmax((cache[span][1] if joint is None else joint)[:NOT_DIGIT_OUTPUT]))
            for span, joint in zip(spans, chosen, strict=True)
        ]

    def _may_touch(self, group: Group, digit_width: float | None) -> bool:
        """Whether the group reader should look at ``group``: wide enough to hold two digits,
        for its height and, when the line has two or more other single digits, for their
        typical width ``digit_width``."""
        if self.group_reader is None or group.width <= TOUCH_ASPECT * group.height:
            return False
        return digit_width is None or group.width > TOUCH_WIDTH * digit_width

    def _group_views(self, crops: list[tuple[np.ndarray, int, int]]) -> list[GroupView | None]:
        """What the group readers make of each group's crop (:class:`~recognition.groups.
        GroupView`: the group reader's ``(POSITIONS, CLASSES)`` log-probabilities, and the
        column reader's when there is one), in one batch; None for a group the group judge
        takes for digits less surely than JUDGE_TRUST and the classifier refuses as one
        mark (a letter, a symbol: the reader would find digits in it)."""
        if not crops or self.group_reader is None:
            return []
        looks = [
            np.stack([to_group_input(ink, self.deskew, height) for ink, _, _ in crops])
            for height in (INK_HEIGHT, *GROUP_LOOK_HEIGHTS)
        ]
        inputs = looks[0]
        batch = np.concatenate(looks)  # (looks x groups, GROUP_HEIGHT, GROUP_WIDTH)
        heads = np.log(np.maximum(head_probabilities(self.group_reader, batch), 1e-9))
        heads = _mean_log(heads.reshape(len(looks), len(crops), *heads.shape[1:]))
        columns: list[np.ndarray | None] = [None] * len(heads)
        if self.column_reader is not None:
            steps = column_log_probs(self.column_reader, batch)
            columns = list(_mean_log(steps.reshape(len(looks), len(crops), *steps.shape[1:])))
        views = [GroupView(own, other) for own, other in zip(heads, columns, strict=True)]
        if self.group_judge is None:
            return views
        digits = digits_probability(self.group_judge, inputs).tolist()
        return [
            group if sure >= JUDGE_TRUST or not self._refused_whole(ink) else None
            for group, sure, (ink, _, _) in zip(views, digits, crops, strict=True)
        ]

    def _refused_whole(self, ink: np.ndarray) -> bool:
        """Whether the classifier, reading a group's ``(H, W)`` ink as one mark, refuses it as
        "not a digit" (a wide single digit, which the group judge may doubt, it reads)."""
        return bool(self._read_whole(ink)[1][NOT_DIGIT_OUTPUT] >= NOT_DIGIT_THRESHOLD)

    @staticmethod
    def _group_crop(ink_map: InkMap, group: Group) -> tuple[np.ndarray, int, int]:
        """One group's ink with GROUP_MARGIN around it (other marks zeroed), and the crop's
        top and left in the ink map."""
        return isolated_window(ink_map, group.parts, GROUP_MARGIN)

    def _cut_group(
        self,
        ink: np.ndarray,
        group: Group,
        digit_width: float | None,
        split_aspect: float,
        view: GroupView | None,
        memo: dict | None = None,
    ) -> tuple[list[tuple[int, int]], list[np.ndarray | None], dict]:
        """Cut one group of touching digits where the classifier and the cut verifier are
        most convincing, weighed against the group readers' ``view`` (:meth:`_choose`).
        Returns the spans, their joint probabilities (None: the classifier's) and the cache
        of every scored span's ``(28x28 input, (11,) probabilities)``. ``memo``, a dict
        shared by calls that cut the same ``ink``, keeps every span's reading and score
        between them, so no span is classified twice."""
        cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        scored: dict[tuple[int, int], float] = {}
        memo = {} if memo is None else memo

        def score(spans: list[tuple[int, int]]) -> np.ndarray:
            fresh = [span for span in spans if span not in memo]
            if fresh:
                inputs = np.stack([to_mnist(piece_ink(ink, span), self.deskew) for span in fresh])
                probabilities = self.classify(inputs)
                scores = np.log(probabilities[:, :NOT_DIGIT_OUTPUT].max(axis=1) + 1e-9)
                if self.verifier is not None:
                    whole = self.verifier.predict(inputs.reshape(-1, 1, 28, 28))[:, 1]
                    scores += VERIFIER_WEIGHT * np.log(whole + 1e-6)
                for span, digit, probs, value in zip(
                    fresh, inputs, probabilities, scores.tolist(), strict=True
                ):
                    memo[span] = (digit, probs, value)
            for span in spans:
                digit, probs, scored[span] = memo[span]
                cache[span] = (digit, probs)
            return np.array([scored[span] for span in spans], dtype=np.float32)

        options = cuts_by_count(ink.sum(axis=0), group.height, score, digit_width, split_aspect)
        whole = (0, ink.shape[1])
        if view is not None and scored.get(whole, -np.inf) >= SURE_SINGLE:
            # One digit, says the classifier and the verifier with one voice: a wide 2 or 0
            # that the group reader takes for two.
            return [whole], [None], cache
        spans, chosen = self._choose(options, cache, view)
        if view is not None:
            labels, reading = view.best()
            read = [int(np.argmax(c[:NOT_DIGIT_OUTPUT])) for c in chosen if c is not None]
            if (
                labels
                and np.exp(reading) >= self._trust(view, labels)
                and read != labels
                # (it sees so many digits at most; when it fills every position, the cut's
                # one more may be a digit cut in two)
                and len(spans) <= len(view.heads) + (len(labels) == len(view.heads))
            ):
                # The group readers are sure, and cutting found no way to agree with them:
                # their digits stand, in the best cut into that many pieces (or an even one).
                count = len(labels)
                spans = options[count][1] if count in options else _even_spans(ink, count)
                chosen = [np.append(digits, 0.0) for digits in view.digits(labels)]
        missing = [span for span in spans if span not in cache]
        if missing:
            score(missing)
        return spans, chosen, cache

    @staticmethod
    def _trust(view: GroupView, labels: list[int]) -> float:
        """How sure the group readers (``view``) must be of reading ``labels`` for it to stand
        against the cut reader's: GROUP_TRUST for the group reader alone, FUSED_TRUST with
        the column reader, LONG_TRUST for a reading of LONG_READING digits or more."""
        if view.columns is None:
            return GROUP_TRUST
        return LONG_TRUST if len(labels) >= LONG_READING else FUSED_TRUST

    def _choose(
        self,
        options: dict[int, tuple[float, list[tuple[int, int]]]],
        cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]],
        view: GroupView | None,
    ) -> tuple[list[tuple[int, int]], list[np.ndarray | None]]:
        """Weigh the cut reader's best cutting into each number of digits (``options``, from
        :func:`~recognition.segment.cuts_by_count`) against the group readers' reading of
        the whole group (``view``: the group reader's ``(POSITIONS, CLASSES)``
        log-probabilities, and the column reader's log-probability of each cutting's digits,
        raised to COLUMN_WEIGHT), by score.
        Returns the spans and, when the group reader took part, each digit's ``(11,)``
        probabilities: the classifier's for the piece times the group reader's for that
        position (raised to GROUP_WEIGHT), renormalised (else None: the classifier's own)."""
        _, best_spans = max(options.values(), key=lambda option: option[0])
        if view is None or len(best_spans) > len(view.heads):
            return best_spans, [None] * len(best_spans)
        heads = view.heads
        winner: tuple[float, list[tuple[int, int]], list[np.ndarray]] | None = None
        for count, (total, spans) in options.items():
            if count > len(heads) or any(span not in cache for span in spans):
                continue
            pieces = np.log(np.maximum(np.stack([cache[span][1] for span in spans]), 1e-9))
            joint = pieces.copy()
            joint[:, :NOT_DIGIT_OUTPUT] += GROUP_WEIGHT * heads[:count, :NOT_DIGIT_OUTPUT]
            # "not a digit" for a piece is "no digit here" for the group reader
            joint[:, NOT_DIGIT_OUTPUT] += GROUP_WEIGHT * heads[:count, BLANK]
            # the cut reader's score counted each piece's top digit; now the jointly best one
            total += float(
                (
                    joint[:, :NOT_DIGIT_OUTPUT].max(axis=1)
                    - pieces[:, :NOT_DIGIT_OUTPUT].max(axis=1)
                ).sum()
            )
            total += GROUP_WEIGHT * float(heads[count:, BLANK].sum())
            if view.columns is not None:  # the column reader's word on these digits
                read = joint[:, :NOT_DIGIT_OUTPUT].argmax(axis=1).tolist()
                total += COLUMN_WEIGHT * view.column_score(read)
            if winner is None or total > winner[0]:
                chosen = np.exp(joint - joint.max(axis=1, keepdims=True))
                winner = (total, spans, list(chosen / chosen.sum(axis=1, keepdims=True)))
        if winner is None:
            return best_spans, [None] * len(best_spans)
        return winner[1], winner[2]


def with_shapes(digit: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """The classifier's ``(11,)`` ``probabilities`` for the ``(28, 28)`` input ``digit``,
    or, when it refuses a 1 written as a tall "Λ" (:func:`~recognition.shapes.
    long_up_stroke_one`, its best digit a 1), its digits' probabilities alone, renormalised
    (the "not a digit" output set to 0)."""
    if (
        probabilities[NOT_DIGIT_OUTPUT] < NOT_DIGIT_THRESHOLD
        or int(np.argmax(probabilities[:NOT_DIGIT_OUTPUT])) != 1
        or not long_up_stroke_one(digit)
    ):
        return probabilities
    digits = probabilities[:NOT_DIGIT_OUTPUT]
    return np.append(digits / max(float(digits.sum()), 1e-12), 0.0).astype(np.float32)


def _doubted_marks(readings: list[DigitReading], doubted: set[int]) -> set[int]:
    """The places in one line's ``readings`` of the marks the classifier refused unsurely
    (their ids in ``doubted``) that are not read as digits after all: all of them when the
    line holds no sure digit, else those whose height is off the sure digits' median height
    by more than DOUBT_HEIGHT allows."""
    sure = [r.box[3] for r in readings if id(r) not in doubted]
    height = float(np.median(sure)) if sure else 0.0
    low, high = DOUBT_HEIGHT
    return {
        i
        for i, reading in enumerate(readings)
        if id(reading) in doubted and not (sure and low <= reading.box[3] / height <= high)
    }


def _without_brackets(
    readings: list[DigitReading], bows: list[float], thin: list[bool]
) -> tuple[list[DigitReading], list[SkippedMark]]:
    """One line's readings without its brackets (a "(" before digits, a ")" after them, bowed
    less when taller than the digits between; one alone only first or last in its line,
    only if read as a 1 and one thin stroke), and those as skipped
    marks. ``bows``: each reading's ink's bow (:func:`~recognition.shapes.bow`: positive
    for a "(", negative for a ")"; 0.0 for a reading cut from a group, or that is neither a
    1 nor one thin stroke, :func:`~recognition.shapes.one_stroke`); ``thin``: whether each
    reading's ink is one thin stroke. A 1 with a long flag bows like a "(" but is two
    strokes where the flag leaves the stem."""
    marks = [i for i, reading in enumerate(readings) if reading.label == 1 or bows[i]]
    brackets: set[int] = set()

    def pair(i: int, j: int) -> bool:
        if min(bows[i], -bows[j]) >= BRACKET_BOW:
            return True
        between = float(np.median([reading.box[3] for reading in readings[i + 1 : j]]))
        return min(readings[i].box[3], readings[j].box[3]) >= TALL_BRACKET * between

    inside = -1  # the closing bracket of the last pair found: the marks before it are digits
    for i in marks:
        a_one = readings[i].label == 1
        if i <= inside:
            continue
        if bows[i] >= WEAK_BRACKET_BOW and i + 1 < len(readings):
            closing = [
                j for j in marks if j > i + 1 and bows[j] <= -WEAK_BRACKET_BOW and pair(i, j)
            ]
            if closing:
                brackets.update([i, closing[0]])
                inside = closing[0]
            elif a_one and thin[i] and bows[i] >= LONE_BRACKET_BOW and i == 0:
                brackets.add(i)
        elif a_one and thin[i] and bows[i] <= -LONE_BRACKET_BOW and i == len(readings) - 1 > 0:
            brackets.add(i)
    kept = [reading for i, reading in enumerate(readings) if i not in brackets]
    return kept, [SkippedMark(readings[i].box, BRACKET) for i in sorted(brackets)]


def _without_plus(
    readings: list[DigitReading], alone: bool
) -> tuple[list[DigitReading], list[SkippedMark]]:
    """One line's readings without a "+" read as a 4 before them (PLUS_HEIGHT), and it as
    a skipped mark. ``alone``: whether the first reading's ink touches no other reading's
    (:func:`stands_apart`; a piece cut from touching digits is small for being cut, not for
    being a "+")."""
    if len(readings) < 2 or readings[0].label != 4 or not alone:
        return readings, []
    boxes = np.array([reading.box for reading in readings[1:]], dtype=np.float64)
    height = float(np.median(boxes[:, 3]))
    top, bottom = float(np.median(boxes[:, 1])), float(np.median(boxes[:, 1] + boxes[:, 3]))
    _, y, _, h = readings[0].box
    if (
        h <= PLUS_HEIGHT * height
        and y + h <= bottom - PLUS_FLOAT * height
        and y >= top + PLUS_FLOAT * height
    ):
        return readings[1:], [SkippedMark(readings[0].box, PLUS)]
    return readings, []


def _mean_log(log_probs: np.ndarray) -> np.ndarray:
    """Several looks' log-probabilities, ``(L, ..., CLASSES)``, averaged over the looks and
    renormalised over the classes: ``(..., CLASSES)`` log-probabilities (a geometric mean of
    the looks' probabilities, so that a class every look finds likely wins)."""
    return nl.log_softmax(log_probs.mean(axis=0), axis=-1)


def _even_spans(ink: np.ndarray, count: int) -> list[tuple[int, int]]:
    """``count`` column spans across ``ink`` ``(H, W)``, cut at the weakest column within a
    tenth of the width of each even division."""
    width = ink.shape[1]
    profile = ink.sum(axis=0)
    reach = max(1, width // 10)
    cuts = [0]
    for k in range(1, count):
        centre = round(k * width / count)
        low, high = max(cuts[-1] + 1, centre - reach), min(width - 1, centre + reach)
        cuts.append(low + int(np.argmin(profile[low : high + 1])) if high >= low else centre)
    cuts.append(width)
    return [(cuts[k], cuts[k + 1]) for k in range(count)]


def _is_bar(labels: np.ndarray, part: Component) -> bool:
    """Whether the ink of ``part`` (its pixels in the ``(H, W)`` component ``labels``) is a
    bar lying down (a dash, a line drawn at a slant): its pixels' principal axis within
    BAR_ANGLE degrees of level, and either their spread across it at most BAR_SPREAD of
    their spread along it, or, a thick short dash, its box flat and BAR_FILL full of ink."""
    rows, cols = np.nonzero(labels[part.top : part.bottom, part.left : part.right] == part.label)
    if rows.size < 3:
        return False
    (across, along), axes = np.linalg.eigh(np.cov(np.stack([rows, cols]).astype(np.float64)))
    level = abs(axes[1, 1]) >= np.cos(np.radians(BAR_ANGLE))  # (the long axis's column part)
    thin = across <= BAR_SPREAD**2 * along
    full = flat(part) and rows.size >= BAR_FILL * part.width * part.height
    return bool(level and (thin or full))


def _inked_box(ink: np.ndarray, top: int, left: int) -> Box | None:
    """The box of the strokes (above 0.25) of ``ink`` ``(h, w)``, a crop whose first row
    and column are ``top`` and ``left`` of the ink map, in the ink map; None if it has
    none."""
    rows = np.flatnonzero((ink > 0.25).any(axis=1))
    cols = np.flatnonzero((ink > 0.25).any(axis=0))
    if rows.size == 0:
        return None
    return Box(
        int(top + rows[0]), int(left + cols[0]), int(top + rows[-1] + 1), int(left + cols[-1] + 1)
    )


def _height(line: list[Component]) -> int:
    """The height of a line of marks, top of the highest to bottom of the lowest."""
    return max(c.bottom for c in line) - min(c.top for c in line)


def _original_box(box: Box, to_original: float) -> tuple[int, int, int, int]:
    """An ink-map box (a component's, or a cut piece's ink) as ``(x, y, w, h)`` in the
    original image's pixels."""
    return (
        int(np.floor(box.left * to_original)),
        int(np.floor(box.top * to_original)),
        max(1, round(box.width * to_original)),
        max(1, round(box.height * to_original)),
    )


def _load_helper(
    path: Path, input_shape: tuple[int, ...], outputs: int | tuple[int, ...], what: str
) -> nl.Sequential | None:
    """A helper network of the number reader (the cut verifier, the group reader) when its
    file is there and sound: it maps ``(1, *input_shape)`` to ``(1, outputs)`` (or to the
    shape ``outputs``, for the column reader's one row per column). Without it numbers are
    still read, less well (a note on stderr says so)."""
    if not path.is_file():
        return None
    expected = (1, outputs) if isinstance(outputs, int) else outputs
    try:
        helper = nl.load(path)
        if helper.forward(np.zeros((1, *input_shape), np.float32)).shape == expected:
            return helper
        answer = f"{outputs} outputs" if isinstance(outputs, int) else f"outputs {outputs}"
        problem = f"it does not answer {answer}"
    except (ValueError, OSError, KeyError, IndexError, TypeError) as error:
        problem = str(error)
    print(f"note: {what} {path} not used ({problem})", file=sys.stderr)
    return None


def _load_verifier(path: Path) -> nl.Sequential | None:
    """The cut verifier at ``path`` (``None`` when it is missing or broken)."""
    return _load_helper(path, (1, 28, 28), 2, "cut verifier")


#: A small mark (under STRAY_AREA of the largest piece's area) further than STRAY_GAP times
#: the largest piece's longer side from its box is not part of a single digit.
STRAY_GAP = 0.2
#: A flat piece this share of the digit's height below it, or further, is an underline.
UNDERLINE_GAP = 0.08
#: Ink inside a ring at least this share of the ring's height tall is what was circled
#: (:func:`inside_a_ring`).
RING_INNER = 0.4


def inside_a_ring(ink_map: InkMap) -> tuple[list[Component], Component | None]:
    """The ink map's components without a circle (or a box) drawn around the others, and
    that ring (None when there is none): the piece with the largest box, when every other
    piece lies in the hole it closes and together they are at least RING_INNER of its
    height (a 0 with a dot in it keeps its dot and its 0)."""
    components = ink_map.components
    if len(components) < 2:
        return components, None
    ring = max(components, key=lambda c: c.height * c.width)
    inner = [c for c in components if c is not ring]
    top, bottom = min(c.top for c in inner), max(c.bottom for c in inner)
    if (
        bottom - top < RING_INNER * ring.height
        or top <= ring.top
        or bottom >= ring.bottom
        or min(c.left for c in inner) <= ring.left
        or max(c.right for c in inner) >= ring.right
    ):
        return components, None
    window = ink_map.labels[ring.top : ring.bottom, ring.left : ring.right] == ring.label
    hole = ndimage.binary_fill_holes(window) & ~window
    if not all(
        hole[(c.top + c.bottom) // 2 - ring.top, (c.left + c.right) // 2 - ring.left] for c in inner
    ):
        return components, None
    return inner, ring


def digit_parts(
    components: list[Component], shape: tuple[int, ...] | None = None
) -> list[Component]:
    """The components that make up one digit: the largest piece of ink, every piece at least
    STRAY_AREA of its size, small pieces within STRAY_GAP of its longer side from its box
    (a 5's bar) and those straight above or below it (the dot of a "?" or a "!", which make
    it no digit) unless they touch the edge of the ``(H, W)`` image ``shape`` (the rim of a
    shadow where it leaves the frame). Small marks further away to the side (a leftover of
    a shadow's edge, a speck of dirt) would shrink the digit when it is scaled to 20 pixels
    with them. A flat piece (``segment.flat``) below the digit, apart from
    it by UNDERLINE_GAP of its height or more, is a line drawn under it and is left out
    (and is never taken for the digit itself while another piece is not flat)."""
    if len(components) <= 1:
        return components
    upright = [c for c in components if not flat(c)] or components
    big = max(upright, key=lambda c: c.area)
    reach = STRAY_GAP * max(big.height, big.width)
    kept = []
    for part in components:
        if flat(part) and part.top - big.bottom >= UNDERLINE_GAP * big.height:
            continue  # an underline
        gap = max(big.top - part.bottom, part.top - big.bottom, big.left - part.right,
                  part.left - big.right, 0)  # fmt: skip
        above_or_below = part.left < big.right and big.left < part.right  # (a "?"'s dot)
        above_or_below = above_or_below and not (shape is not None and part.at_edge(shape))
        if part is big or part.area >= STRAY_AREA * big.area or gap <= reach or above_or_below:
            kept.append(part)
    return kept


def isolate_ink(ink_map: InkMap, parts: list[Component]) -> np.ndarray:
    """``(H, W)`` ink of the given components only, with their faint anti-aliased rims (unlabelled
    pixels within two pixels of them); every other piece of ink is zeroed. (Worked out on
    the components' bounding box only: nothing outside it can be kept.)"""
    isolated = np.zeros(ink_map.ink.shape, dtype=np.float32)
    if parts:
        window, top, left = isolated_window(ink_map, parts)
        isolated[top : top + window.shape[0], left : left + window.shape[1]] = window
    return isolated


def isolated_window(
    ink_map: InkMap, parts: list[Component], margin: int = 2
) -> tuple[np.ndarray, int, int]:
    """:func:`isolate_ink` on the parts' bounding box grown by ``margin`` (at least the two
    pixels of the rims; within the image) only: that ``(h, w)`` window of ink, and its top
    and left in the ink map."""
    height, width = ink_map.ink.shape
    top = max(0, min(part.top for part in parts) - margin)
    left = max(0, min(part.left for part in parts) - margin)
    bottom = min(height, max(part.bottom for part in parts) + margin)
    right = min(width, max(part.right for part in parts) + margin)
    window = (slice(top, bottom), slice(left, right))
    labels = ink_map.labels[window]
    wanted = np.zeros(int(labels.max()) + 1, dtype=bool)  # (the parts' labels are in it)
    wanted[[part.label for part in parts]] = True
    mask = wanted[labels]
    keep = mask | (dilate_cross(mask, 2) & (labels == 0))
    ink = ink_map.ink[window]
    if len(parts) >= 2:
        # the faint strokes that join the parts (a calligraphic hand's hairlines, fainter
        # than any piece), not passing through other pieces: where they meet two parts.
        # A speck the ink map dropped is no other piece: it may be a stronger bit of the
        # hairline (the loop of a French school hand's open 4, between its bar and stem).
        groups = [[part.label] for part in parts]
        kept = np.zeros_like(wanted)
        kept[[c.label for c in ink_map.components if c.label < len(kept)]] = True
        sizes = np.bincount(labels.reshape(-1), minlength=len(wanted))
        speck = ~kept & (sizes <= HAIRLINE_SPECK * min(part.area for part in parts))
        speck[0] = True
        faint, joins = faint_pieces(ink, mask | speck[labels], labels, groups)
        keep |= joins[faint]
    return np.where(keep, ink, 0.0).astype(np.float32), top, left


def stands_apart(ink: np.ndarray, span: tuple[int, int]) -> bool:
    """Whether the columns ``span`` of a group's ``(H, W)`` ink hold ink of their own: the
    whole group, or a piece no stroke of which runs on across its cuts (a mark the grouping
    joined to its neighbour, as a short "+" is, and not a piece cut from touching digits)."""
    if span[0] <= 0 and span[1] >= ink.shape[1]:
        return True
    labels, _ = ndimage.label(np.asarray(ink) > 0.25, structure=np.ones((3, 3)))
    inside = np.unique(labels[:, span[0] : span[1]])
    outside = np.unique(np.concatenate([labels[:, : span[0]], labels[:, span[1] :]], axis=1))
    return not np.intersect1d(inside[inside > 0], outside[outside > 0]).size


def piece_ink(ink: np.ndarray, span: tuple[int, int]) -> np.ndarray:
    """The ink of columns ``span[0]:span[1]`` of ``ink`` (same shape, other columns zeroed),
    without the slivers of neighbouring digits that a straight cut leaves: connected pieces
    under a fifth of the largest one's size are dropped. Uncut (the whole width), the ink is
    one group's own pieces, and only specks (under SPECK_SHARE of the largest) are dropped:
    a 5's flag written apart is a sixth of its body."""
    piece = np.zeros_like(ink)
    piece[:, span[0] : span[1]] = ink[:, span[0] : span[1]]
    labels, count = ndimage.label(piece > 0.25, structure=np.ones((3, 3)))
    if count > 1:
        sizes = np.bincount(labels.reshape(-1))
        sizes[0] = 0
        whole = span[0] <= 0 and span[1] >= ink.shape[1]
        small = sizes < (SPECK_SHARE if whole else 0.2) * sizes.max()
        small[0] = False
        piece[small[labels]] = 0.0
    return piece
