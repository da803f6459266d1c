"""Sequential, save/load round trips, bad model files, optimizers."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import nnlite as nl
from training.models import reference_network


def small_bn_network() -> nl.Sequential:
    return nl.Sequential(
        [
            nl.Conv2D(1, 4, 3, stride=2, padding=1),
            nl.BatchNorm2D(4),
            nl.ReLU(),
            nl.MaxPool2D(2),
            nl.Flatten(),
            nl.Dense(4 * 7 * 7, 10),
        ]
    )


def test_issue_api_end_to_end(tmp_path):
    model = reference_network()
    x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    y = np.array([1, 2, 3, 4])
    loss_fn = nl.CrossEntropyLoss()
    opt = nl.Adam(model.parameters(), lr=1e-3)
    model.train()
    logits = model.forward(x)
    assert logits.shape == (4, 10)
    loss = loss_fn.forward(logits, y)
    assert isinstance(loss, float)
    grad_x = model.backward(loss_fn.backward())
    assert grad_x.shape == x.shape
    assert all(np.any(p.grad != 0) for p in model.parameters())
    before = model.parameters()[0].data.copy()
    opt.step()
    opt.zero_grad()
    assert not np.array_equal(before, model.parameters()[0].data)
    assert all(not np.any(p.grad) for p in model.parameters())
    model.eval()
    probs = model.predict(x)
    assert probs.shape == (4, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    path = tmp_path / "model.npz"
    model.save(path)
    same = nl.load(path)
    np.testing.assert_array_equal(same.predict(x), probs)


def train_briefly(model: nl.Sequential, steps: int = 3) -> None:
    x = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32)
    y = np.arange(8) % 10
    loss_fn, opt = nl.CrossEntropyLoss(), nl.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model.train()
    for _ in range(steps):
        loss_fn.forward(model.forward(x), y)
        model.backward(loss_fn.backward())
        opt.step()
        opt.zero_grad()


def test_batchnorm_running_statistics_survive_save_and_load(tmp_path):
    model = small_bn_network()
    train_briefly(model)
    bn = model.layers[1]
    assert not np.allclose(bn.running_mean, 0)
    model.metadata = {"note": "hello", "epochs": 3}
    model.save(tmp_path / "bn.npz")
    same = nl.load(tmp_path / "bn.npz")
    np.testing.assert_array_equal(same.layers[1].running_var, bn.running_var)
    assert same.metadata == {"note": "hello", "epochs": 3}
    x = np.random.default_rng(1).random((5, 1, 28, 28), dtype=np.float32)
    np.testing.assert_array_equal(same.predict(x), model.predict(x))
    assert not same.training


def test_a_column_reader_learns_sequences_with_ctc_and_survives_save_and_load(tmp_path):
    """A network of Columns, trained with CTCLoss, learns to read a row of 1-3 glyphs (a
    bar at one of three heights per glyph, each glyph two or three columns wide, a blank
    column between two) and reads them back after a save and load."""
    rng = np.random.default_rng(0)
    nl.seed(0)

    def rows(count: int) -> tuple[np.ndarray, np.ndarray]:
        x = np.zeros((count, 1, 3, 12), dtype=np.float32)
        y = np.full((count, 3), 3, dtype=np.int64)  # 3 is the blank, and the padding
        for n in range(count):
            column = int(rng.integers(0, 2))
            for k in range(int(rng.integers(1, 4))):
                glyph, width = int(rng.integers(0, 3)), int(rng.integers(2, 4))
                x[n, 0, glyph, column : column + width] = 1.0
                y[n, k] = glyph
                column += width + 1
        return x, y

    model = nl.Sequential(
        [nl.Conv2D(1, 8, 3, padding=1), nl.ReLU(), nl.Columns(), nl.Dense(8 * 3, 4)]
    )
    loss_fn, optimizer = nl.CTCLoss(blank=3), nl.Adam(model.parameters(), lr=0.02)
    for _ in range(100):
        x, y = rows(32)
        loss_fn.forward(model.forward(x), y)
        model.backward(loss_fn.backward())
        optimizer.step()
        optimizer.zero_grad()
    x, y = rows(200)
    model.save(tmp_path / "columns.npz")
    same = nl.load(tmp_path / "columns.npz")
    log_probs = np.log(same.predict(x).reshape(200, 12, 4))
    read = nl.functional.ctc_greedy_decode(log_probs, blank=3)
    wanted = [[int(c) for c in row if c != 3] for row in y]
    assert np.mean([a == b for a, b in zip(read, wanted, strict=True)]) >= 0.95


def test_model_file_layout(tmp_path):
    model = small_bn_network()
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        keys = set(archive.files)
        config = json.loads(archive["__config__"].tobytes())
    assert {"0.weight", "0.bias", "1.weight", "1.running_mean", "5.weight"} <= keys
    assert config["layers"][0] == {
        "class": "Conv2D",
        "config": {
            "in_channels": 1,
            "out_channels": 4,
            "kernel_size": 3,
            "stride": 2,
            "padding": 1,
        },
    }
    assert config["version"] == nl.__version__


def test_predict_restores_training_mode_and_rejects_bad_input():
    model = small_bn_network()
    model.train()
    model.predict(np.zeros((2, 1, 28, 28), np.float32))
    assert model.training and model.layers[1].training
    with pytest.raises(ValueError, match="expects input of shape"):
        model.predict(np.zeros((2, 3, 28, 28), np.float32))
    with pytest.raises(ValueError, match="N >= 1"):
        model.predict(np.zeros((0, 1, 28, 28), np.float32))


def test_predict_is_batched_consistently():
    model = small_bn_network()
    x = np.random.default_rng(2).random((23, 1, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(model.predict(x, batch_size=5), model.predict(x), rtol=1e-6)


@pytest.fixture
def saved_model(tmp_path):
    path = tmp_path / "good.npz"
    small_bn_network().save(path)
    return path


def test_truncated_file_is_a_value_error(saved_model, tmp_path):
    data = saved_model.read_bytes()
    broken = tmp_path / "truncated.npz"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        nl.load(broken)


def test_not_an_npz_is_a_value_error(tmp_path):
    path = tmp_path / "photo.npz"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(ValueError, match=r"not a readable \.npz"):
        nl.load(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file"):
        nl.load(tmp_path / "nothing.npz")


def rewrite(path, tmp_path, change):
    """Copy the npz at ``path`` with ``change(config, arrays)`` applied."""
    config, arrays = nl.model.load_arrays(path)
    change(config, arrays)
    out = tmp_path / "changed.npz"
    nl.model.save_arrays(out, config, arrays)
    return out


def test_shape_mismatch_is_a_value_error(saved_model, tmp_path):
    def widen(config, arrays):
        config["layers"][0]["config"]["out_channels"] = 8

    with pytest.raises(ValueError, match=r"array 0.weight has shape \(4, 1, 3, 3\)"):
        nl.load(rewrite(saved_model, tmp_path, widen))


def test_unknown_layer_and_missing_array_are_value_errors(saved_model, tmp_path):
    def unknown(config, arrays):
        config["layers"][2]["class"] = "os.system"

    with pytest.raises(ValueError, match=r"unknown class 'os\.system'"):
        nl.load(rewrite(saved_model, tmp_path, unknown))

    def drop(config, arrays):
        del arrays["1.running_var"]

    with pytest.raises(ValueError, match=r"missing \['1.running_var'\]"):
        nl.load(rewrite(saved_model, tmp_path, drop))


def test_pickled_arrays_are_refused(saved_model, tmp_path):
    path = tmp_path / "pickled.npz"
    with zipfile.ZipFile(saved_model) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.namelist():
            target.writestr(item, source.read(item))
        bad = tmp_path / "obj.npy"
        np.save(bad, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        target.writestr("evil.npy", bad.read_bytes())
    with pytest.raises(ValueError, match=r"not a readable \.npz"):
        nl.load(path)


def test_sgd_matches_hand_computed_steps():
    param = nl.Parameter(np.array([1.0, -2.0]))
    opt = nl.SGD([param], lr=0.1, momentum=0.9)
    param.grad[:] = [1.0, 1.0]
    opt.step()
    np.testing.assert_allclose(param.data, [0.9, -2.1])
    opt.step()  # velocity = 0.9 * 1 + 1 = 1.9
    np.testing.assert_allclose(param.data, [0.71, -2.29])


def test_adam_first_step_moves_by_lr():
    param = nl.Parameter(np.array([1.0, 1.0, 1.0]))
    opt = nl.Adam([param], lr=0.01)
    param.grad[:] = [100.0, -0.001, 0.0]
    opt.step()
    np.testing.assert_allclose(param.data, [0.99, 1.01, 1.0], atol=1e-6)


@pytest.mark.parametrize(
    "make_opt", [lambda p: nl.SGD(p, lr=0.1, momentum=0.9), lambda p: nl.Adam(p, lr=0.1)]
)
def test_optimizers_minimise_a_quadratic(make_opt):
    param = nl.Parameter(np.array([3.0, -4.0]))
    opt = make_opt([param])
    for _ in range(300):
        param.grad = 2 * param.data  # d/dw of |w|^2
        opt.step()
    assert np.abs(param.data).max() < 1e-2


def test_optimizer_state_round_trip():
    params = [nl.Parameter(np.ones(3)), nl.Parameter(np.ones((2, 2)))]
    opt = nl.Adam(params)
    for p in params:
        p.grad = np.full_like(p.data, 0.5)
    opt.step()
    other = nl.Adam(params)
    other.load_state_dict(opt.state_dict())
    assert other.steps == 1
    np.testing.assert_array_equal(other.v[1], opt.v[1])


def test_sequential_rejects_non_layers():
    with pytest.raises(TypeError, match="not an nnlite layer"):
        nl.Sequential([nl.ReLU(), "relu"])


def test_seed_makes_initialisation_repeatable():
    nl.seed(5)
    first = nl.Dense(4, 3).weight.data.copy()
    nl.seed(5)
    np.testing.assert_array_equal(nl.Dense(4, 3).weight.data, first)


def test_predict_from_many_threads_gives_each_caller_its_own_answer():
    """The web app predicts from two worker threads with one model: a forward pass in one
    thread must never leak into another's result (batch-norm once shared its buffers)."""
    from concurrent.futures import ThreadPoolExecutor

    model = nl.Sequential(
        [
            nl.Conv2D(1, 4, 3, padding=1),
            nl.BatchNorm2D(4),
            nl.ReLU(),
            nl.Flatten(),
            nl.Dense(4 * 8 * 8, 10),
        ]
    )
    model.layers[1].running_mean[:] = [0.1, -0.2, 0.3, 0.0]
    model.eval()
    inputs = [np.random.rand(1, 1, 8, 8).astype(np.float32) for _ in range(8)]
    expected = [model.predict(x) for x in inputs]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(30):
            results = list(pool.map(model.predict, inputs))
            for got, want in zip(results, expected, strict=True):
                np.testing.assert_array_equal(got, want)
