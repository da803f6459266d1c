"""nnlite.parallel (the fast engine's threads): the batch cut into parts on threads gives what
one thread gives."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import nnlite as nl
from nnlite import parallel
from tests.test_model import small_bn_network


@pytest.fixture
def threads():
    """Set the thread count for one test and put it back afterwards; ranges of two and more
    are cut meanwhile (by default only ranges of MIN_CUT are), so that small batches test
    the parts."""
    before, shortest = parallel.get_num_threads(), parallel.get_min_cut()
    parallel.set_min_cut(2)
    yield parallel.set_num_threads
    parallel.set_num_threads(before)
    parallel.set_min_cut(shortest)


def test_a_short_range_stays_on_the_calling_thread_by_default():
    assert parallel.get_min_cut() == parallel.MIN_CUT >= 2
    caller = threading.get_ident()
    before = parallel.get_num_threads()
    parallel.set_num_threads(2)
    try:
        shorter = parallel.MIN_CUT - 1
        short = parallel.over_parts(shorter, lambda part: (part, threading.get_ident()))
        assert short == [(slice(0, shorter), caller)]
        long = parallel.over_parts(parallel.MIN_CUT, lambda part: threading.get_ident())
        assert len(long) == 2 and long[0] == caller and long[1] != caller
    finally:
        parallel.set_num_threads(before)
    with pytest.raises(ValueError, match="at least 2"):
        parallel.set_min_cut(1)


def bn_cnn() -> nl.Sequential:
    """Every layer kind that cuts the batch: convolutions with few and many channels (stride
    1 and 2), batch norm, ReLU, both max-pool paths, dropout and dense layers."""
    nl.seed(5)
    return nl.Sequential(
        [
            nl.Conv2D(1, 6, 3, padding=1),
            nl.BatchNorm2D(6),
            nl.ReLU(),
            nl.Conv2D(6, 8, 3, stride=2, padding=1),
            nl.ReLU(),
            nl.MaxPool2D(2),
            nl.Conv2D(8, 8, 3, padding=1),
            nl.MaxPool2D(2, stride=1),
            nl.Flatten(),
            nl.Dense(8 * 2 * 2, 16),
            nl.ReLU(),
            nl.Dropout(0.3),
            nl.Dense(16, 10),
        ]
    )


def one_step(model: nl.Sequential, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Forward and backward in training mode: [logits, grad_x, every .grad]."""
    model.train()
    nl.seed(11)  # the same dropout mask in every run
    loss_fn = nl.CrossEntropyLoss()
    for param in model.parameters():
        param.zero_grad()
    logits = model.forward(x)
    loss_fn.forward(logits, y)
    grad_x = model.backward(loss_fn.backward())
    return [logits, grad_x] + [param.grad.copy() for param in model.parameters()]


@pytest.mark.parametrize("batch", [1, 2, 7])
def test_threads_give_the_same_outputs_and_gradients(threads, batch):
    rng = np.random.default_rng(batch)
    x = rng.random((batch, 1, 12, 12), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    results = {}
    for count in (1, 2, 3):
        threads(count)
        model = bn_cnn()
        step = one_step(model, x, y)
        results[count] = (step, model.predict(x), model.layers[1].running_mean.copy())
    for count in (2, 3):
        for single, cut in zip(results[1][0], results[count][0], strict=True):
            # Parts are smaller matrices, which BLAS sums in another order: float32 rounding
            # differs in the last bits, by how much depends on the CPU's kernels (1.5e-6 of
            # logits up to 9 on an AMD EPYC); a wrong part would be off by the values.
            scale = np.abs(single).max()
            np.testing.assert_allclose(cut, single, rtol=1e-5, atol=1e-6 + 2e-6 * scale)
        np.testing.assert_allclose(results[count][1], results[1][1], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(results[count][2], results[1][2], rtol=1e-6, atol=1e-7)


def test_batch_parts_cover_the_batch_once():
    for count in range(1, 20):
        for parts in range(1, 6):
            slices = parallel.batch_parts(count, parts)
            assert len(slices) == min(count, parts)
            covered = np.concatenate([np.arange(count)[part] for part in slices])
            np.testing.assert_array_equal(covered, np.arange(count))
            sizes = [part.stop - part.start for part in slices]
            assert max(sizes) - min(sizes) <= 1


def test_over_parts_runs_parts_on_other_threads_and_keeps_order(threads):
    threads(3)
    seen = []
    all_started = threading.Barrier(3, timeout=10)  # passes only if the parts run at once

    def work(part: slice) -> tuple[int, int]:
        seen.append(threading.get_ident())
        all_started.wait()
        inner = parallel.over_parts(4, lambda inner_part: inner_part)  # nested: runs inline
        assert inner == [slice(0, 4)]
        return part.start, part.stop

    assert parallel.over_parts(10, work) == [(0, 3), (3, 6), (6, 10)]
    assert len(set(seen)) == 3  # the caller and two workers
    assert threading.get_ident() in seen


def test_an_error_in_a_part_reaches_the_caller(threads):
    threads(2)

    def work(part: slice) -> None:
        if part.start > 0:
            raise ValueError("second half failed")

    with pytest.raises(ValueError, match="second half failed"):
        parallel.over_parts(4, work)
    assert parallel.over_parts(4, lambda part: part.stop) == [2, 4]  # the pool still works


def test_every_part_has_ended_before_an_error_is_raised(threads):
    """A part that fails early must not let the caller go on while another part is still
    writing into the arrays it was given."""
    import time

    threads(3)
    finished = []

    def work(part: slice) -> None:
        if part.start == 0:
            raise ValueError("the first part failed at once")
        time.sleep(0.2 * part.start)  # the other parts are still working...
        finished.append(part.start)

    with pytest.raises(ValueError, match="failed at once"):
        parallel.over_parts(9, work)
    assert sorted(finished) == [3, 6]  # ...and were waited for

    def late_failure(part: slice) -> None:
        if part.start == 3:
            raise ValueError("a middle part failed")
        time.sleep(0.3 if part.start == 6 else 0)
        finished.append(part.start)

    finished.clear()
    with pytest.raises(ValueError, match="middle part"):
        parallel.over_parts(9, late_failure)
    assert sorted(finished) == [0, 6]


def test_bad_thread_count_is_refused(monkeypatch):
    with pytest.raises(ValueError, match="at least 1"):
        nl.set_num_threads(0)
    default = parallel._default_threads()
    for bad in ("0", "-2", "two", "1.5"):  # reported, and the default used: import never fails
        monkeypatch.setenv("NNLITE_NUM_THREADS", bad)
        with pytest.warns(UserWarning, match="NNLITE_NUM_THREADS"):
            assert parallel._threads_from_environment() == default
    monkeypatch.setenv("NNLITE_NUM_THREADS", "3")
    assert parallel._threads_from_environment() == 3
    monkeypatch.delenv("NNLITE_NUM_THREADS")
    assert parallel._threads_from_environment() >= 1


def test_blas_is_single_threaded_inside_and_restored_after(threads, request):
    """NumPy's wheels bundle OpenBLAS: the library must find it, or training on several
    cores would silently be the slow single-threaded program."""
    threads(2)
    assert parallel._BLAS is not None, "OpenBLAS's set_num_threads was not found"
    setter, getter = parallel._BLAS
    outside = getter()
    setter(2)  # (scripts/test gives each of its workers one BLAS thread)
    request.addfinalizer(lambda: setter(outside))
    before = getter()
    assert before == 2
    with parallel.single_threaded_blas():
        assert getter() == 1
        with parallel.single_threaded_blas():  # re-entrant
            assert getter() == 1
        assert getter() == 1
    assert getter() == before
    with nl.ops.batch_scope(1):  # a single image keeps BLAS's threads
        assert getter() == before
    with nl.ops.batch_scope(2):
        assert getter() == 1
    model = small_bn_network()
    model.predict(np.zeros((3, 1, 28, 28), np.float32))
    assert getter() == before


def test_concurrent_predictions_from_several_threads(threads):
    """The app predicts from several threads at once; each must get its own answer."""
    threads(2)
    model = bn_cnn()
    model.eval()
    rng = np.random.default_rng(0)
    inputs = [rng.random((n, 1, 12, 12), dtype=np.float32) for n in (1, 3, 5, 8)]
    expected = [model.predict(x) for x in inputs]
    results: dict[int, list[np.ndarray]] = {i: [] for i in range(len(inputs))}

    def predict_many(index: int) -> None:
        for _ in range(20):
            results[index].append(model.predict(inputs[index]))

    workers = [threading.Thread(target=predict_many, args=(i,)) for i in range(len(inputs))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for index, answers in results.items():
        assert len(answers) == 20
        for answer in answers:
            np.testing.assert_allclose(answer, expected[index], rtol=1e-6, atol=1e-7)
