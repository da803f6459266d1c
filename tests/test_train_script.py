"""train.py: a quick run, determinism, resuming, Ctrl-C, metadata, evaluation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import nnlite as nl
import train
from training import checkpoints, digits, loop

QUICK = ["--limit", "256", "--eval-limit", "200", "--batch-size", "64"]


@pytest.fixture(autouse=True)
def negatives_cache(tmp_path, monkeypatch):
    """The synthesized not-a-digit images of each test are cached in its own folder."""
    monkeypatch.setattr(digits, "NEGATIVES_CACHE", tmp_path / "negatives")
    monkeypatch.setattr(digits, "PHOTOGRAPHED_CACHE", tmp_path / "photographed")


def run(tmp_path, name, *extra):
    out = tmp_path / name
    assert train.main([*QUICK, "--out", str(out), *extra]) == 0
    return out


def arrays(path):
    return nl.load(path).named_arrays()


@pytest.mark.slow
def test_quick_run_writes_a_model_with_metadata(tmp_path, capsys):
    out = run(tmp_path, "m.npz", "--epochs", "1", "--seed", "3")
    printed = capsys.readouterr()
    assert "epoch 1: test accuracy" in printed.out
    assert "img/s" in printed.err and "left" in printed.err  # the progress bar
    meta = nl.load(out).metadata
    assert meta["epochs"] == 1 and meta["seed"] == 3
    # 256 digits: a tenth (25) held out for calibration; a fifth of the rest (46) redrawn in
    # writing styles MNIST lacks and added; half as many not-a-digit images as those 277.
    assert meta["held_out_digits"] == 25 and meta["styled_digits"] == 46
    assert meta["not_digit_images"] == 138
    assert meta["data"]["train_images"] == 231 + 46 + 138 and len(meta["data"]["sha256"]) == 64
    assert meta["classes"][-1] == "not a digit" and len(meta["classes"]) == 11
    assert 0.25 <= meta["calibration"]["temperature"] <= 8.0
    assert nl.load(out).predict(np.zeros((1, 1, 28, 28), np.float32)).shape == (1, 11)
    assert meta["augmentation"]["rotation_degrees"] > 0
    assert 0.0 <= meta["test_accuracy"] <= 1.0 and meta["train_seconds"] > 0
    assert meta["library_version"] == nl.__version__


@pytest.mark.slow
def test_same_seed_same_weights(tmp_path):
    first = arrays(run(tmp_path, "a.npz", "--epochs", "1"))
    second = arrays(run(tmp_path, "b.npz", "--epochs", "1"))
    other = arrays(run(tmp_path, "c.npz", "--epochs", "1", "--seed", "1"))
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    assert not np.array_equal(first["0.weight"], other["0.weight"])


@pytest.mark.slow
def test_resume_continues_exactly(tmp_path):
    straight = arrays(run(tmp_path, "straight.npz", "--epochs", "2", "--no-augment"))
    out = run(tmp_path, "resumed.npz", "--epochs", "1", "--no-augment")
    assert checkpoints.checkpoint_path(out).is_file()
    run(tmp_path, "resumed.npz", "--epochs", "2", "--no-augment", "--resume")
    resumed = arrays(out)
    for key in straight:
        np.testing.assert_array_equal(straight[key], resumed[key])


@pytest.mark.slow
def test_resume_without_checkpoint_is_a_clear_error(tmp_path, capsys):
    code = train.main([*QUICK, "--out", str(tmp_path / "x.npz"), "--resume"])
    assert code == 2 and "no checkpoint" in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint(tmp_path):
    out = tmp_path / "interrupted.npz"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, str(train.ROOT / "train.py"), "--limit", "20000", "--eval-limit", "100",
         "--epochs", "5", "--negatives", "0", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        # A shell without job control starts background jobs with SIGINT ignored, and the
        # child would inherit that (CI launched with `... &`): give it the default back.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 120
    line = ""
    while "training on" not in line and time.monotonic() < deadline:
        line = process.stdout.readline()
    time.sleep(2)  # inside the first epoch
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "checkpoint saved" in err and "--resume" in err
    assert "Traceback" not in err
    config, _ = nl.model.load_arrays(checkpoints.checkpoint_path(out))
    assert config["epoch"] == 0 and not out.exists()


def test_evaluate_prints_accuracy_per_class_and_confusion(quick_model, capsys):
    assert train.main(["--evaluate", str(quick_model)]) == 0
    printed = capsys.readouterr().out
    assert "test accuracy:" in printed and "errors in 10000 images" in printed
    assert "per-class accuracy:" in printed and "confusion matrix" in printed
    rows = [
        line for line in printed.splitlines() if line.strip()[:2] in {f"{d}:" for d in range(10)}
    ]
    counts = [sum(int(v) for v in line.split(":")[1].split()) for line in rows[-10:]]
    assert counts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def quick_model(tmp_path_factory):
    """One quickly trained model for the --evaluate tests."""
    folder = tmp_path_factory.mktemp("quick")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(digits, "NEGATIVES_CACHE", folder / "negatives")
        return run(folder, "quick.npz", "--epochs", "1")


def test_evaluate_draws_the_mistakes(quick_model, tmp_path, capsys):
    from PIL import Image

    out = quick_model
    grid = tmp_path / "mistakes.png"
    assert train.main(["--evaluate", str(out), "--mistakes", str(grid)]) == 0
    printed = capsys.readouterr().out
    errors = int(printed.split(" errors in")[0].rsplit("(", 1)[1])
    shown = min(errors, digits.MAX_MISTAKES_SHOWN)
    assert f"the {errors} misclassified" in printed
    assert Image.open(grid).size == (min(shown, 10) * 108 + 8, -(-shown // 10) * 126 + 8)
    with pytest.raises(SystemExit):
        train.parse_args(["--mistakes", str(grid)])


def test_evaluate_draws_a_reliability_diagram(quick_model, tmp_path, capsys, monkeypatch):
    from PIL import Image

    monkeypatch.setattr(digits, "REALISTIC_PER_STYLE", 5)  # 50 realistic images, not 1000
    out = quick_model
    diagram = tmp_path / "calibration.png"
    assert train.main(["--evaluate", str(out), "--calibration", str(diagram)]) == 0
    printed = capsys.readouterr().out
    assert "expected calibration error, MNIST test:" in printed
    assert "expected calibration error, realistic images:" in printed
    assert Image.open(diagram).size[0] > 300
    with pytest.raises(SystemExit):
        train.parse_args(["--calibration", str(diagram)])


@pytest.mark.slow
def test_ten_digit_model_without_negatives(tmp_path):
    out = run(tmp_path, "ten.npz", "--epochs", "1", "--negatives", "0", "--holdout", "0")
    meta = nl.load(out).metadata
    assert meta["not_digit_images"] == 0 and meta["calibration"] is None
    assert meta["styled_digits"] == 51  # a fifth of the 256 digits
    assert meta["data"]["train_images"] == 256 + 51 and len(meta["classes"]) == 10


@pytest.mark.slow
def test_ten_digit_model_is_still_calibrated_on_held_out_digits(tmp_path):
    out = run(tmp_path, "ten.npz", "--epochs", "1", "--negatives", "0")
    calibration = nl.load(out).metadata["calibration"]
    assert calibration["temperature"] > 0 and "digits_refused" not in calibration


@pytest.mark.slow
def test_fine_tuning_a_ten_digit_model_adds_the_not_a_digit_output(tmp_path):
    ten = run(tmp_path, "ten.npz", "--epochs", "1", "--negatives", "0", "--holdout", "0")
    out = run(tmp_path, "eleven.npz", "--epochs", "1", "--init", str(ten), "--lr", "1e-4")
    assert nl.load(out).predict(np.zeros((1, 1, 28, 28), np.float32)).shape == (1, 11)


def test_evaluate_a_corrupt_file_is_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_text("not a model")
    assert train.main(["--evaluate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err


def test_photographed_digits_are_what_the_pipeline_makes_of_photos(mnist, tmp_path):
    """``--photographed N``: training digits dressed as photos (every style) and read back
    by the single-digit pipeline; the same seed gives the same set, a cache serves it
    again, and the inputs are MNIST-like (the ink's longer side 20 pixels)."""
    from training.photographed import ALL_STYLES, cached_photographed_set, photographed_set

    (images, labels), _ = mnist
    x, y = photographed_set(images[:300], labels[:300], 40, seed=5, workers=1, progress=False)
    assert x.dtype == np.uint8 and x.shape[1:] == (28, 28) and 36 <= len(x) <= 40
    assert set(y.tolist()) <= set(labels[:300].tolist()) and len(ALL_STYLES) >= 15
    for image in x:  # the ink's longer side scaled to 20 pixels, as MNIST's
        rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 22
    again, _ = photographed_set(images[:300], labels[:300], 40, seed=5, workers=1, progress=False)
    assert np.array_equal(x, again)
    other, _ = photographed_set(images[:300], labels[:300], 40, seed=6, workers=1, progress=False)
    assert not np.array_equal(x[: len(other)], other[: len(x)])
    # read by the shipped model, most are the digit they were made from
    model = nl.load(digits.DEFAULT_OUT)
    assert (model.predict(x[:, None] / np.float32(255)).argmax(1) == y).mean() >= 0.9
    cached = cached_photographed_set(images[:300], labels[:300], 40, 5, tmp_path)
    assert len(list(tmp_path.glob("photographed-*.npz"))) == 1
    with pytest.raises(SystemExit):
        train.parse_args(["--photographed", "-1"])
    assert np.array_equal(
        cached_photographed_set(images[:300], labels[:300], 40, 5, tmp_path)[0], cached[0]
    )


@pytest.mark.parametrize("flag", ["--epochs", "--batch-size", "--limit"])
def test_bad_numbers_are_refused(flag):
    with pytest.raises(SystemExit):
        train.parse_args([flag, "0"])


def test_learning_rate_schedule_warms_up_and_decays():
    lrs = [loop.learning_rate(1.0, e, 10) for e in np.linspace(0, 10, 101)]
    assert lrs[0] < 0.05 and max(lrs) == pytest.approx(1.0) and lrs[-1] == pytest.approx(0.01)
    assert all(isinstance(lr, float) for lr in lrs)  # JSON-able for the metadata
