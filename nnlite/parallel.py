"""Using every core: the batch is cut into parts, one per thread.

Why. NumPy runs element-wise work (ReLU, pooling, copying patches) on one core, and OpenBLAS
splits each matrix product over all cores but with a hand-over at every call. Cutting the
batch in one part per core, each carried through every layer by its own thread calling a
one-thread BLAS, beats both (``docs/speed.md`` has the measurements).

How. An op's heavy work is written as a function of a slice of a range (the batch's samples,
or a weight's rows), ``work(part) -> result``, and :func:`over_parts` calls it for
contiguous parts of that range on the worker threads (the calling thread takes the first
part) and returns the results in order; :func:`map_batch` does the same for a function that
maps a batch to a batch, such as ReLU. Threads work here because NumPy lets go of Python's
global lock inside its loops and inside BLAS. While parts run, BLAS is told to use one
thread (:func:`single_threaded_blas`), otherwise each thread's matrix product would in turn
start threads for every core. A range shorter than MIN_CUT is not cut (a few images to
recognise, a dense layer's ten outputs): handing work to another thread costs more than a
layer spends on so little, and BLAS keeps its own threads for it.

The BLAS thread count can only be changed for OpenBLAS (what NumPy's own wheels bundle), on
Linux; elsewhere, or with ``set_num_threads(1)``, everything runs on the calling thread and
BLAS keeps its own threads, which is the plain single-threaded program.
"""

from __future__ import annotations

import ctypes
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

import numpy as np

T = TypeVar("T")

#: The default thread count is capped here: Python's lock is taken for a moment around every
#: NumPy call, which more threads than this would mostly spend waiting for.
MAX_DEFAULT_THREADS = 8


def _find_openblas() -> tuple[Callable[[int], None], Callable[[], int]] | None:
    """OpenBLAS's ``set_num_threads`` and ``get_num_threads`` from the loaded library, if any.

    NumPy's wheels rename the library and its symbols (``scipy_openblas64_`` and
    ``scipy_openblas_set_num_threads64_`` in NumPy 2, ``openblas_set_num_threads64_`` before),
    so the mapped files are searched for one named *openblas* and each spelling is tried.
    """
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:  # not Linux
        return None
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path, mode=getattr(os, "RTLD_NOLOAD", 0))
        except OSError:
            continue
        for prefix in ("scipy_openblas_", "openblas_"):
            for suffix in ("64_", ""):
                setter = getattr(library, f"{prefix}set_num_threads{suffix}", None)
                getter = getattr(library, f"{prefix}get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
                    return setter, getter
    return None


_BLAS = _find_openblas()  # (NumPy, imported above, has loaded BLAS)
_blas_lock = threading.Lock()
_blas_holders = 0  # how many callers are inside single_threaded_blas()
_blas_saved = 1  # BLAS's own thread count, restored when the last holder leaves


def _default_threads() -> int:
    if _BLAS is None:
        return 1  # no way to keep BLAS's threads and ours from competing
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_THREADS))


def _threads_from_environment() -> int:
    """NNLITE_NUM_THREADS if set (a bad value is reported and ignored), else the cores."""
    value = os.environ.get("NNLITE_NUM_THREADS", "").strip()
    if value.isdigit() and int(value) >= 1:
        return int(value)
    if value:
        warnings.warn(
            f"NNLITE_NUM_THREADS must be a whole number >= 1, got {value!r}; using the default",
            stacklevel=2,
        )
    return _default_threads()


_threads = _threads_from_environment()
#: Ranges shorter than this run on the calling thread. Measured on 2 cores with the shipped
#: MNIST network: 4 digits take 5.8 ms cut in two and 3.2 ms on one thread (with BLAS's own
#: threads), 16 digits 10.8 ms and 9.2 ms, 32 digits the same both ways, 64 digits 34 ms and
#: 42 ms; training batches (64 and more) are cut.
MIN_CUT = 32
_min_cut = MIN_CUT
#: Worker threads are started when first needed and then kept, idle between calls; the pool
#: may hold more than the thread count when several callers cut batches at the same time.
_pool: ThreadPoolExecutor | None = None
_POOL_LIMIT = 64
_pool_lock = threading.Lock()
_local = threading.local()  # .busy: this thread is running a part already


def _after_fork_in_child() -> None:
    """A forked child has only the thread that forked: forget the pool and the holders."""
    global _pool, _pool_lock, _blas_lock, _blas_holders
    if _BLAS is not None and _blas_holders > 0:
        _BLAS[0](_blas_saved)
    _pool, _pool_lock, _blas_lock, _blas_holders = None, threading.Lock(), threading.Lock(), 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def set_num_threads(count: int) -> None:
    """Use ``count`` threads (1 = everything on the calling thread). Also NNLITE_NUM_THREADS."""
    global _threads
    if int(count) < 1:
        raise ValueError(f"the thread count must be at least 1, got {count}")
    _threads = min(int(count), _POOL_LIMIT)


def set_min_cut(count: int) -> None:
    """Cut ranges of at least ``count`` (>= 2) into parts; shorter ones run on the calling
    thread (default MIN_CUT)."""
    global _min_cut
    if int(count) < 2:
        raise ValueError(f"the shortest range to cut must be at least 2, got {count}")
    _min_cut = int(count)


def get_min_cut() -> int:
    """The shortest range :func:`over_parts` cuts into parts."""
    return _min_cut


def get_num_threads() -> int:
    """The number of threads :func:`over_parts` uses."""
    return _threads


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Within this block BLAS runs each matrix product on the calling thread only.

    Re-entrant and shared between threads: the first caller in saves BLAS's thread count
    and sets 1, the last one out restores it. (The count is process-wide: meanwhile other
    threads' matrix products run on one thread too.) Does nothing when the count cannot be
    set. Use it only while work is cut into parts (:func:`is_cut`): a batch that is not
    (a single image, say) is better off with all of BLAS's threads.
    """
    global _blas_holders, _blas_saved
    if _BLAS is None:
        yield
        return
    setter, getter = _BLAS
    with _blas_lock:
        if _blas_holders == 0:
            _blas_saved = getter()
            setter(1)
        _blas_holders += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_holders -= 1
            if _blas_holders == 0:
                setter(_blas_saved)


def is_cut(count: int) -> bool:
    """Whether a range of ``count`` is cut into parts: not with one thread, not a range
    shorter than :func:`get_min_cut`, and not from inside a part (that thread is one of the
    parts already)."""
    return count >= _min_cut and _threads > 1 and not getattr(_local, "busy", False)


def batch_parts(count: int, parts: int | None = None) -> list[slice]:
    """Cut ``range(count)`` into at most ``parts`` (default: the thread count) contiguous,
    nearly equal, non-empty slices."""
    parts = max(1, min(parts or _threads, count))
    bounds = [count * i // parts for i in range(parts + 1)]
    return [slice(bounds[i], bounds[i + 1]) for i in range(parts)]


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(_POOL_LIMIT, thread_name_prefix="nnlite")
        return _pool


def _run_part(work: Callable[[slice], T], part: slice) -> T:
    _local.busy = True
    try:
        return work(part)
    finally:
        _local.busy = False


def over_parts(count: int, work: Callable[[slice], T]) -> list[T]:
    """``[work(part) for part in batch_parts(count)]``, the parts on different threads.

    ``work`` gets a slice of ``range(count)`` (samples of a batch, rows of a weight) and must
    only write where no other part writes (its own rows of a shared output, or its own
    result). With one thread, for a range shorter than :func:`get_min_cut`, or when called
    from inside a part, it is just ``[work(slice(0, count))]``. When a part fails, every
    other part has finished before the error reaches the caller: nothing is still writing
    into its arrays.
    """
    if not is_cut(count):
        return [work(slice(0, count))]
    parts = batch_parts(count)
    pool = _get_pool()
    with single_threaded_blas():
        futures: list[Future[T]] = [pool.submit(_run_part, work, part) for part in parts[1:]]
        try:
            first = _run_part(work, parts[0])
        finally:
            wait(futures)  # every part ends before anything is returned or raised
        rest = [future.result() for future in futures]
    return [first, *rest]


def map_batch(
    function: Callable[..., np.ndarray],
    *inputs: np.ndarray,
    out_shape: tuple[int, ...] | None = None,
    dtype: np.dtype | None = None,
) -> np.ndarray:
    """``function(*inputs)``, computed a part of the batch at a time on each thread.

    ``function`` maps arrays of one batch size N (rows of a matrix, images, ...) to an array
    of N results, and takes ``out=`` (as NumPy's element-wise functions do). The result has
    ``out_shape`` and ``dtype`` if given, else the shape, dtype and memory order of the first
    input. A batch shorter than :func:`get_min_cut`, or one thread, is the plain call.
    """
    count = len(inputs[0])
    if not is_cut(count):
        return function(*inputs)
    if out_shape is None:
        out = np.empty_like(inputs[0], dtype=dtype)
    else:
        out = np.empty(out_shape, dtype=dtype or inputs[0].dtype)
    over_parts(count, lambda part: function(*(a[part] for a in inputs), out=out[part]))
    return out
