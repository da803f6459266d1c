"""The not-a-digit generator (negatives.py): what it draws, that it never draws digits, and
that it is repeatable."""

from __future__ import annotations

import numpy as np
import pytest

import training.negatives as neg


@pytest.fixture(scope="module")
def digits(mnist):
    (x_train, y_train), _ = mnist
    return x_train[:2000], y_train[:2000]


@pytest.mark.slow
def test_same_seed_same_images_and_every_kind_is_made(digits):
    first, kinds = neg.make_negatives(150, 5, *digits)
    second, _ = neg.make_negatives(150, 5, *digits)
    other, _ = neg.make_negatives(150, 6, *digits)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)
    assert first.shape == (150, 28, 28) and first.dtype == np.uint8
    assert set(kinds.tolist()) == set(range(len(neg.KINDS)))
    # Each is what the pipeline shows the network: ink, normalised to full strength.
    assert (first.reshape(150, -1).max(axis=1) >= 200).all()


def test_no_glyph_is_a_digit_look_alike():
    assert not set(neg.GLYPHS) & set("0123456789OoDlIiJTSsZzBbGgq|/()")


@pytest.mark.slow
def test_a_judge_that_sees_digits_everywhere_leaves_no_fragments_or_overlaps(digits):
    def sure_it_is_a_digit(batch):
        found = np.zeros((len(batch), 11), np.float32)
        found[:, 3] = 1.0
        return found

    _, kinds = neg.make_negatives(120, 1, *digits, judge=sure_it_is_a_digit)
    made = {neg.KINDS[k] for k in kinds}
    assert "fragment" not in made and "overlap" not in made and "letter" in made


def test_upright_bars_are_ones_and_never_fragments():
    bar = np.zeros((60, 60), np.float32)
    bar[5:55, 28:33] = 1.0
    dash = bar.T.copy()
    assert neg._upright_bar(bar) and not neg._upright_bar(dash)


def test_a_dot_on_a_canvas_becomes_a_network_input():
    canvas = np.zeros((neg.FIELD, neg.FIELD), np.float32)
    canvas[90:110, 95:112] = 1.0
    seen = neg.as_network_input(canvas)
    assert seen.shape == (28, 28) and seen.max() > 0.9
    assert neg.as_network_input(np.zeros((neg.FIELD, neg.FIELD), np.float32)) is None


def test_each_doodle_draws_ink():
    rng = np.random.default_rng(0)
    for shape in neg.DOODLES:
        ink = neg.draw_strokes(shape(rng), rng, 120)
        assert ink.shape == (neg.FIELD, neg.FIELD) and ink.sum() > 50, shape.__name__


def test_each_written_glyph_draws_ink():
    rng = np.random.default_rng(1)
    assert not set(neg.WRITTEN) & set("0123456789OoDlIiJTSsZzBbGgq")
    for _ in range(60):
        ink = neg.written(rng)
        assert ink.shape == (neg.FIELD, neg.FIELD) and ink.sum() > 50
