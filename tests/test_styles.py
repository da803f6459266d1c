"""Writing styles MNIST barely has: drawn test digits (never trained on) read by the shipped
model through the whole pipeline, and the augmentation that teaches them."""

from __future__ import annotations

import numpy as np
import pytest

from recognition import Recognizer
from training.realistic import render
from training.styles import (
    DRAWN_STYLES,
    SQUEEZE,
    STRETCH,
    add_style,
    drawn_digit,
    stretched_digit,
    styled_set,
)


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer.load()


@pytest.mark.parametrize("style", list(DRAWN_STYLES))
def test_drawn_styles_are_read(recognizer, style):
    """Each style drawn with a pen, 25 times, on a photographed page: measured 85-100 % per
    style with 40 each (a long flagged 1: 90 % before the style training, a slashed 0: 0 %,
    refused as not a digit); every style at least 21 of these 25."""
    rng = np.random.default_rng(sum(map(ord, style)))
    label = DRAWN_STYLES[style]
    read = [recognizer.predict(render(drawn_digit(style, rng), "paper", rng)) for _ in range(25)]
    right = sum(answer.label == label for answer in read)
    assert right >= 21, f"{style}: {[answer.label for answer in read]}"


@pytest.mark.parametrize("name, factors", [("stretched", STRETCH), ("squeezed", SQUEEZE)])
def test_digits_drawn_to_fill_a_box_are_read(recognizer, mnist, name, factors):
    """MNIST test digits stretched or squeezed to a box: measured 97-99 % (90 % and 87 % for
    stronger stretching and squeezing before the style training)."""
    _, (images, labels) = mnist
    rng = np.random.default_rng(len(name))
    picks = rng.choice(len(images), 60, replace=False)
    right = 0
    for index in picks:
        ink = stretched_digit(images[index], rng.uniform(*factors))
        right += recognizer.predict(render(ink, "paper", rng)).label == labels[index]
    assert right >= 0.9 * len(picks)


def test_drawn_digits_have_the_asked_shape():
    rng = np.random.default_rng(0)
    for style in DRAWN_STYLES:
        ink = drawn_digit(style, rng, height=80)
        assert ink.dtype == np.float32 and ink.max() == pytest.approx(1.0)
        rows = np.flatnonzero(ink.max(axis=1) > 0.5)
        assert 75 <= rows[-1] - rows[0] + 1 <= 100  # 80 tall, plus the pen and a foot
    with pytest.raises(ValueError, match="unknown style"):
        drawn_digit("8 fancy", rng)
    _ = stretched_digit(np.eye(28, dtype=np.uint8) * 255, 2.0)


def test_add_style_draws_on_the_digit_and_keeps_mnist_format(mnist):
    (images, labels), _ = mnist
    rng = np.random.default_rng(2)
    for digit in (0, 1, 7, 9):
        index = int(np.flatnonzero(labels == digit)[0])
        styled = [add_style(images[index], digit, rng) for _ in range(5)]
        for out in styled:
            assert out.shape == (28, 28) and out.dtype == np.uint8
            rows = np.flatnonzero(out.max(axis=1) > 25)
            cols = np.flatnonzero(out.max(axis=0) > 25)
            assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 22  # longer side ~20
            mass = out.astype(float) / out.sum()
            centre = (mass.sum(axis=1) @ np.arange(28), mass.sum(axis=0) @ np.arange(28))
            assert abs(centre[0] - 13.5) < 2.0 and abs(centre[1] - 13.5) < 2.0
        # most of them are visibly changed from the plain digit
        assert sum(np.abs(out.astype(int) - images[index]).sum() > 2000 for out in styled) >= 3
    x, y = styled_set(images[:2000], labels[:2000], 40, seed=1)
    assert x.shape == (40, 28, 28) and y.shape == (40,)
    assert np.isin(y[:20], (0, 1, 7, 9)).all()  # half of them are the restyled classes
