"""The fast engine: the reference engine's ops (:mod:`nnlite.engines.reference`), computed
the way a 2-core laptop likes them. Same arrays in and out; the tests hold every op to the
reference op.

Layout. At the public boundary images are NCHW (batch, channels, height, width), like
PyTorch. Convolution and pooling work internally on NHWC memory (channels last), because then
every sliding window reads contiguous runs of channels and the output of the matrix product
is already NHWC. The arrays these functions return are NCHW *views* of NHWC memory: NumPy's
element-wise operations keep that memory order, so the next layer gets its NHWC input for free.

im2col in one paragraph. A convolution with a (O, C, kh, kw) kernel computes, at every output
pixel, a dot product between the kernel and the (kh, kw, C) patch of input under it. Gather
all patches as the rows of one matrix ``cols`` of shape (N*Ho*Wo, kh*kw*C) ("image to
columns"), reshape the kernel to a (kh*kw*C, O) matrix, and the whole convolution is one
matrix product ``cols @ kernel``, which BLAS runs at full speed. Backward is two more
products: ``cols.T @ grad`` for the kernel, and ``grad @ kernel.T`` for the patches, which
``col2im`` adds back onto the pixels they came from (overlapping patches share pixels).

What makes it fast here, each measured (``benchmarks/bench.py``, ``docs/speed.md``): the
batch is cut into one part per core, each carried by its own thread (:mod:`nnlite.parallel`;
the functions below write their work as ``work(part)``); the patch matrix is built a few
samples at a time so that it stays in the core's cache (:func:`patch_rows`); inputs with few
channels build it transposed, plane by plane (:func:`patch_planes`); the input gradient of a
wide layer is a convolution too, with the flipped kernel, instead of a scatter-add.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..parallel import is_cut, map_batch, over_parts, single_threaded_blas


def batch_scope(count: int) -> AbstractContextManager[None]:
    """Around a whole forward or backward pass of a batch of ``count``: BLAS stays on one
    thread while the batch is cut into parts (:mod:`nnlite.parallel`), also between layers,
    so that its own idle threads do not compete with ours."""
    return single_threaded_blas() if is_cut(count) else nullcontext()


# -- dense -----------------------------------------------------------------------------------


def dense_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """x (N, I), weight (O, I), bias (O,) -> x @ W.T + b (N, O), the batch in parts, the
    bias added to each part while it is in the cache."""

    def affine(rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        out = np.matmul(rows, weight.T, out=out)
        out += bias
        return out

    shape = (len(x), weight.shape[0])
    return map_batch(affine, x, out_shape=shape, dtype=np.result_type(x, weight))


def dense_backward(
    grad_out: np.ndarray, x: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """grad_out (N, O) -> (grad_x (N, I), grad_weight (O, I), grad_bias (O,)). The weight
    gradient is split by output feature (its rows), the input gradient by sample."""
    grad_weight = np.empty(weight.shape, dtype=np.result_type(grad_out, x))
    over_parts(
        weight.shape[0], lambda rows: np.matmul(grad_out[:, rows].T, x, out=grad_weight[rows])
    )
    grad_x = np.empty((len(grad_out), weight.shape[1]), dtype=np.result_type(grad_out, weight))
    over_parts(len(grad_out), lambda part: np.matmul(grad_out[part], weight, out=grad_x[part]))
    return grad_x, grad_weight, grad_out.sum(axis=0)


# -- ReLU ------------------------------------------------------------------------------------


def _relu(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.maximum(x, 0, out=out)


def _relu_backward(
    grad_out: np.ndarray, relu_out: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    return np.multiply(grad_out, relu_out > 0, out=out)


def relu_forward(x: np.ndarray) -> np.ndarray:
    """max(0, x), the batch in parts; the result keeps x's memory order (NHWC stays NHWC)."""
    return map_batch(_relu, x)


def relu_backward(grad_out: np.ndarray, out: np.ndarray) -> np.ndarray:
    return map_batch(_relu_backward, grad_out, out)


# -- convolution and pooling on channels-last memory -----------------------------------------


def output_size(size: int, kernel_size: int, stride: int, padding: int) -> int:
    """Number of window positions along one axis: ``(size + 2p - k) // s + 1``."""
    return (size + 2 * padding - kernel_size) // stride + 1


def to_nhwc(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> contiguous (N, H, W, C); free when ``x`` is already NHWC in memory."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def pad_nhwc(x: np.ndarray, padding: int) -> np.ndarray:
    """Zero-pad the two spatial axes of an (N, H, W, C) array by ``padding`` on each side."""
    if padding == 0:
        return x
    n, h, w, c = x.shape
    padded = np.empty((n, h + 2 * padding, w + 2 * padding, c), dtype=x.dtype)

    def work(part: slice) -> None:
        inside = padded[part]
        inside[:, padding : padding + h, padding : padding + w, :] = x[part]
        # Zero only the border (writing zeros everywhere first would be one more pass).
        inside[:, :padding] = 0
        inside[:, padding + h :] = 0
        inside[:, padding : padding + h, :padding] = 0
        inside[:, padding : padding + h, padding + w :] = 0

    over_parts(n, work)
    return padded


def column_sums(rows: np.ndarray) -> np.ndarray:
    """Sums down the columns of an (M, C) matrix -> (C,).

    Written as the product ``ones(M) @ rows``: BLAS does it several times faster than
    ``rows.sum(axis=0)`` on the tall, narrow matrices of convolutions and batch norm.
    """
    return np.ones(len(rows), dtype=rows.dtype) @ rows


def batch_column_sums(x: np.ndarray) -> np.ndarray:
    """Sum over every axis but the last of an (N, ..., C) array -> (C,), the batch in parts."""
    channels = x.shape[-1]
    return sum(over_parts(len(x), lambda part: column_sums(x[part].reshape(-1, channels))))


def windows_nhwc(x: np.ndarray, kernel_size: int, stride: int) -> np.ndarray:
    """All (k, k) windows of an (N, H, W, C) array as a view of shape (N, Ho, Wo, k, k, C).

    No data is copied, only strides change: stepping to the next window moves ``stride``
    pixels, stepping inside a window moves one pixel, so window (i, j) and offset (a, b)
    read pixel (i * stride + a, j * stride + b). (What ``sliding_window_view`` computes, in
    a fraction of its time, which matters for single images.)
    """
    n, height, width, channels = x.shape
    out_h = output_size(height, kernel_size, stride, 0)
    out_w = output_size(width, kernel_size, stride, 0)
    sn, sh, sw, sc = x.strides
    return as_strided(
        x,
        shape=(n, out_h, out_w, kernel_size, kernel_size, channels),
        strides=(sn, sh * stride, sw * stride, sh, sw, sc),
        writeable=False,
    )


def col2im_nhwc(
    grad_windows: np.ndarray, input_shape: tuple[int, int, int, int], stride: int
) -> np.ndarray:
    """Add window gradients back onto the pixels they were read from.

    The adjoint of :func:`windows_nhwc`: ``grad_windows`` has shape (N, Ho, Wo, k, k, C) and
    the result has ``input_shape`` (N, H, W, C). The loop runs over the k*k offsets inside a
    window, each step one vectorised add over all samples and pixels; overlapping windows
    add onto the pixels they share.
    """
    _, out_h, out_w, kernel_size, _, _ = grad_windows.shape
    grad_input = np.zeros(input_shape, dtype=grad_windows.dtype)
    for i in range(kernel_size):
        for j in range(kernel_size):
            grad_input[:, i : i + stride * out_h : stride, j : j + stride * out_w : stride, :] += (
                grad_windows[:, :, :, i, j, :]
            )
    return grad_input


#: Bytes of im2col rows built at a time. The patch matrix of a whole batch is large (115 MB
#: for 128 MNIST images through a 32-channel 3x3 convolution); built a few samples at a time
#: it stays in the CPU's cache while the matrix product reads it, and nothing that size is
#: kept. Each thread builds its own chunks (:mod:`nnlite.parallel`), so a chunk should fit
#: in half of one core's L2 cache (the sizes tried are in ``docs/speed.md``).
CHUNK_BYTES = 2**20


def sample_chunks(count: int, bytes_per_sample: int) -> list[slice]:
    """Slices of ``range(count)`` holding about :data:`CHUNK_BYTES` each (at least one)."""
    step = max(1, CHUNK_BYTES // max(1, bytes_per_sample))
    return [slice(start, min(start + step, count)) for start in range(0, count, step)]


def patch_rows(windows: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
    """im2col, a chunk of samples at a time: yields ``(chunk, cols)``.

    windows : (N, Ho, Wo, k, k, C) view from :func:`windows_nhwc`. For each chunk of about
    :data:`CHUNK_BYTES`, ``cols`` is a new (n*Ho*Wo, k*k*C) matrix of the chunk's patches,
    one per row. (Copying every chunk into one reused buffer measured no faster: the
    allocator hands back the block just freed.)
    """
    n, out_h, out_w = windows.shape[:3]
    patch = math.prod(windows.shape[3:])
    chunks = sample_chunks(n, out_h * out_w * patch * windows.itemsize)
    for chunk in chunks:
        yield chunk, windows[chunk].reshape(-1, patch)


#: Up to this many input channels (grey or colour images entering a first layer) the
#: patch matrix is built transposed, one (Ho, Wo) plane per kernel offset and channel:
#: with so few channels a patch row would be copied from runs of only k*C numbers.
FEW_CHANNELS = 4


def patch_planes(x_padded: np.ndarray, kernel_size: int, stride: int) -> np.ndarray:
    """im2col transposed, for inputs with few channels: (N, Hp, Wp, C) -> (k*k*C, N*Ho*Wo).

    Row (a, b, c) holds channel c of every window's pixel at offset (a, b), that is the
    input plane shifted by (a, b) and sampled every ``stride`` pixels: a copy made of long
    runs along the image rows instead of many runs of C numbers.
    """
    n, height, width, channels = x_padded.shape
    out_h = output_size(height, kernel_size, stride, 0)
    out_w = output_size(width, kernel_size, stride, 0)
    sn, sh, sw, sc = x_padded.strides
    planes = as_strided(
        x_padded,
        shape=(kernel_size, kernel_size, channels, n, out_h, out_w),
        strides=(sh, sw, sc, sn, sh * stride, sw * stride),
        writeable=False,
    )
    return planes.reshape(kernel_size * kernel_size * channels, -1)  # the copy


def planes_to_image(
    grad_planes: np.ndarray, image: np.ndarray, kernel_size: int, stride: int
) -> None:
    """The adjoint of :func:`patch_planes`: adds (k*k*C, N*Ho*Wo) onto ``image`` (N, Hp, Wp, C).

    Each row's plane is added back onto the image at its offset: k*k vectorised adds, every
    pixel collecting the gradient of each window that read it.
    """
    n, height, width, channels = image.shape
    out_h = output_size(height, kernel_size, stride, 0)
    out_w = output_size(width, kernel_size, stride, 0)
    planes = grad_planes.reshape(kernel_size, kernel_size, channels, n, out_h, out_w)
    image_planes = image.transpose(3, 0, 1, 2)  # (C, N, Hp, Wp) view
    for a in range(kernel_size):
        for b in range(kernel_size):
            image_planes[
                :, :, a : a + stride * out_h : stride, b : b + stride * out_w : stride
            ] += planes[a, b]


def patch_matrices(
    x_padded: np.ndarray, kernel_size: int, stride: int
) -> Iterator[tuple[slice, np.ndarray]]:
    """The im2col matrix of padded NHWC input as ``(chunk, cols)`` pairs, whichever way fits.

    ``cols`` is (n*Ho*Wo, k*k*C), one patch per row, for the samples in ``chunk``: a chunk
    at a time from :func:`patch_rows`, or with few channels all samples at once as the
    transpose of :func:`patch_planes` (a view; BLAS reads it transposed for free).
    """
    if x_padded.shape[3] <= FEW_CHANNELS:
        yield slice(None), patch_planes(x_padded, kernel_size, stride).T
    else:
        yield from patch_rows(windows_nhwc(x_padded, kernel_size, stride))


def conv2d_nhwc(
    x_padded: np.ndarray,
    kernel: np.ndarray,
    kernel_size: int,
    stride: int,
    bias: np.ndarray | None = None,
) -> np.ndarray:
    """The core of a convolution on padded NHWC input: im2col and one matmul per chunk.

    x_padded : (N, Hp, Wp, C); kernel : (k*k*C, O), rows ordered (row, column, channel);
    bias : (O,) or None. Returns (N, Ho, Wo, O). For each chunk of samples the patches are
    copied into rows ``cols`` (n*Ho*Wo, k*k*C) (:func:`patch_matrices`), and
    ``cols @ kernel`` gives all of the chunk's output pixels at once; the bias is added while
    that chunk is still in the cache.
    """
    n, height, width, _ = x_padded.shape
    out_h = output_size(height, kernel_size, stride, 0)
    out_w = output_size(width, kernel_size, stride, 0)
    out = np.empty((n, out_h, out_w, kernel.shape[1]), dtype=np.result_type(x_padded, kernel))

    def work(part: slice) -> None:  # one thread's share of the batch
        part_out = out[part]
        for chunk, cols in patch_matrices(x_padded[part], kernel_size, stride):
            out_rows = part_out[chunk].reshape(-1, kernel.shape[1])
            np.matmul(cols, kernel, out=out_rows)
            if bias is not None:
                out_rows += bias

    over_parts(n, work)
    return out


def kernel_matrix(weight: np.ndarray) -> np.ndarray:
    """(O, C, k, k) kernel -> (k*k*C, O) matrix whose rows match the columns of im2col."""
    return weight.transpose(2, 3, 1, 0).reshape(-1, weight.shape[0])


def conv2d_forward(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, tuple]:
    """2-D convolution (cross-correlation, as in every deep-learning library).

    Parameters
    ----------
    x : (N, C, H, W) input.
    weight : (O, C, k, k) kernel.
    bias : (O,) bias.

    Returns
    -------
    out : (N, O, Ho, Wo), with ``Ho = (H + 2*padding - k) // stride + 1`` (likewise Wo).
    cache : what :func:`conv2d_backward` needs.
    """
    kernel_size = weight.shape[2]
    x_padded = pad_nhwc(to_nhwc(x), padding)
    out = conv2d_nhwc(x_padded, kernel_matrix(weight), kernel_size, stride, bias)
    return out.transpose(0, 3, 1, 2), (x_padded, x.shape, weight, stride, padding)


def conv2d_backward(grad_out: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Gradients of :func:`conv2d_forward`.

    Parameters
    ----------
    grad_out : (N, O, Ho, Wo) gradient of the loss with respect to the output.

    Returns
    -------
    grad_x : (N, C, H, W); grad_weight : (O, C, k, k); grad_bias : (O,).

    The kernel's gradient is ``cols.T @ grad`` summed over chunks of samples, the patches
    rebuilt chunk by chunk from the cached padded input (as in the forward pass, they stay in
    the cache). With few input channels the input's gradient is ``grad @ kernel.T`` added
    back plane by plane (:func:`planes_to_image`). Otherwise it is itself a convolution:
    every input pixel collects, through the kernel flipped in both directions, the gradients
    of the outputs it helped to make. So ``grad_out`` is spread out by the stride (zeros
    between its pixels), padded by ``k - 1 - padding``, and convolved with the flipped kernel
    whose in- and out-channels swap roles; this reuses the fast forward path instead of a
    slow scatter-add.
    """
    x_padded, input_shape, weight, stride, padding = cache
    out_channels, in_channels, kernel_size, _ = weight.shape
    n, _, height, width = input_shape
    grad_nhwc = to_nhwc(grad_out)  # (N, Ho, Wo, O)
    _, out_h, out_w, _ = grad_nhwc.shape
    patch = kernel_size * kernel_size * in_channels

    def kernel_gradient(part: slice) -> np.ndarray:  # one thread's share: (k*k*C, O)
        part_grad = grad_nhwc[part]
        total = np.zeros((patch, out_channels), dtype=grad_out.dtype)
        for chunk, cols in patch_matrices(x_padded[part], kernel_size, stride):
            total += cols.T @ part_grad[chunk].reshape(-1, out_channels)
        return total

    grad_kernel = sum(over_parts(n, kernel_gradient))
    # (O, C, k, k) view of (k, k, C, O) memory, the layout Conv2D keeps its weight in.
    grad_weight = grad_kernel.reshape(kernel_size, kernel_size, in_channels, out_channels)
    grad_weight = grad_weight.transpose(3, 2, 0, 1)
    grad_bias = batch_column_sums(grad_nhwc)

    if in_channels <= FEW_CHANNELS:
        # The patch gradients are a small matrix: add them back onto the pixels they came
        # from, cheaper than a convolution that builds patches of all the output channels.
        padded_shape = (n, height + 2 * padding, width + 2 * padding, in_channels)
        grad_padded = np.zeros(padded_shape, dtype=grad_out.dtype)

        def input_gradient(part: slice) -> None:
            part_rows = grad_nhwc[part].reshape(-1, out_channels)
            grad_planes = kernel_matrix(weight) @ part_rows.T  # (k*k*C, n*Ho*Wo)
            planes_to_image(grad_planes, grad_padded[part], kernel_size, stride)

        over_parts(n, input_gradient)
        grad_x = grad_padded[:, padding : padding + height, padding : padding + width, :]
        return grad_x.transpose(0, 3, 1, 2), grad_weight, grad_bias
    edge = kernel_size - 1 - padding
    # Rows of input that no window reached (when the stride does not divide evenly).
    extra_h = height - ((out_h - 1) * stride + kernel_size - 2 * padding)
    extra_w = width - ((out_w - 1) * stride + kernel_size - 2 * padding)
    if stride == 1:
        spread = pad_nhwc(grad_nhwc, edge)  # nothing to spread: only the padding
    else:
        spread = np.zeros(
            (
                n,
                (out_h - 1) * stride + 1 + 2 * edge + extra_h,
                (out_w - 1) * stride + 1 + 2 * edge + extra_w,
                out_channels,
            ),
            dtype=grad_out.dtype,
        )
        spread[
            :,
            edge : edge + (out_h - 1) * stride + 1 : stride,
            edge : edge + (out_w - 1) * stride + 1 : stride,
        ] = grad_nhwc
    flipped = weight[:, :, ::-1, ::-1].transpose(2, 3, 0, 1).reshape(-1, in_channels)  # (k*k*O, C)
    grad_x = conv2d_nhwc(spread, flipped, kernel_size, 1)
    return grad_x.transpose(0, 3, 1, 2), grad_weight, grad_bias


def max_pool2d_forward(x: np.ndarray, kernel_size: int, stride: int) -> tuple[np.ndarray, tuple]:
    """Max pooling over (k, k) windows.

    Parameters
    ----------
    x : (N, C, H, W).

    Returns
    -------
    out : (N, C, Ho, Wo) with ``Ho = (H - k) // stride + 1``.
    cache : the input (as NHWC) for :func:`max_pool2d_backward`, which finds the winners;
        inference never pays for them.
    """
    x_nhwc = to_nhwc(x)
    if stride == kernel_size:  # windows tile the input: max over window rows, then columns
        n, height, width, _ = x_nhwc.shape
        k, out_h, out_w = kernel_size, height // stride, width // stride

        def pool(x_part: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
            # Row i of every window is the strided view x[:, i::k]: whole image rows, long
            # contiguous runs. Their maximum, (n, Ho, k*Wo, C), holds each window's column
            # maxima; column j of every window is then the view [:, :, j::k].
            column_max = x_part[:, 0 : k * out_h : k, : k * out_w]
            for i in range(1, k):
                column_max = np.maximum(column_max, x_part[:, i : i + k * out_h : k, : k * out_w])
            result = np.maximum(column_max[:, :, 0::k], column_max[:, :, k - 1 :: k], out=out)
            for j in range(1, k - 1):
                np.maximum(result, column_max[:, :, j::k], out=result)
            return result

        out = map_batch(pool, x_nhwc, out_shape=(n, out_h, out_w, x_nhwc.shape[3]))
    else:
        out = windows_nhwc(x_nhwc, kernel_size, stride).max(axis=(3, 4))  # (N, Ho, Wo, C)
    return out.transpose(0, 3, 1, 2), (x_nhwc, out, kernel_size, stride)


def max_pool2d_backward(grad_out: np.ndarray, cache: tuple) -> np.ndarray:
    """Route each output gradient to its window's winner. (N, C, Ho, Wo) -> (N, C, H, W).

    The winner of a window is its *first* maximum in row-major order (``argmax``): on MNIST
    most windows are all zeros, and the gradient must go to exactly one of the tied inputs,
    not to every input equal to the maximum.
    """
    x_nhwc, out, kernel_size, stride = cache
    grad_nhwc = to_nhwc(grad_out)  # (N, Ho, Wo, C)
    if stride == kernel_size:
        grad_x = np.empty(x_nhwc.shape, dtype=grad_nhwc.dtype)

        def work(part: slice) -> None:
            _max_pool_tiled_backward(
                grad_nhwc[part], x_nhwc[part], out[part], kernel_size, grad_x[part]
            )

        over_parts(len(grad_x), work)
        return grad_x.transpose(0, 3, 1, 2)
    windows = windows_nhwc(x_nhwc, kernel_size, stride)  # (N, Ho, Wo, k, k, C)
    n, out_h, out_w, _, _, c = windows.shape
    flat = windows.reshape(n, out_h, out_w, kernel_size * kernel_size, c)  # copy
    winner = flat.argmax(axis=3)[:, :, :, None, :]  # (N, Ho, Wo, 1, C)
    grad_flat = np.zeros_like(flat, dtype=grad_out.dtype)
    np.put_along_axis(grad_flat, winner, grad_nhwc[:, :, :, None, :], axis=3)
    grad_windows = grad_flat.reshape(n, out_h, out_w, kernel_size, kernel_size, c)
    return col2im_nhwc(grad_windows, x_nhwc.shape, stride).transpose(0, 3, 1, 2)


def _max_pool_tiled_backward(
    grad: np.ndarray, x: np.ndarray, out: np.ndarray, kernel_size: int, grad_x: np.ndarray
) -> None:
    """Max-pool backward when the windows tile the input (stride == k), in NHWC.

    grad, out : (N, Ho, Wo, C); x : (N, H, W, C); the gradient is written into ``grad_x``
    (N, H, W, C). The k*k pixels that share a window position are the strided views
    ``x[:, i::k, j::k]``; visiting them in row-major order, a pixel wins when it equals the
    window's maximum and no earlier pixel of its window has won, which is exactly the first
    maximum. One vectorised step per offset (four for 2x2 pooling), no gather of the windows.
    """
    _, out_h, out_w, _ = out.shape
    k = kernel_size
    if x.shape[1:3] != (k * out_h, k * out_w):
        grad_x[...] = 0  # rows or columns that no window reads get no gradient
    free = None  # (N, Ho, Wo, C) bool: windows whose winner is still to be found
    for i in range(k):
        for j in range(k):
            pixels = (slice(None), slice(i, i + k * out_h, k), slice(j, j + k * out_w, k))
            wins = np.equal(x[pixels], out)
            if free is None:
                free = ~wins
            else:
                wins &= free
                free ^= wins  # wins is a subset of free: this removes the windows just won
            np.multiply(grad, wins, out=grad_x[pixels])


# -- batch normalisation on an (N*H*W, C) view -----------------------------------------------


def _pixel_rows(array: np.ndarray, part: slice) -> np.ndarray:
    """Samples ``part`` of an (N, H, W, C) batch as the (n*H*W, C) matrix of their pixels."""
    return array[part].reshape(-1, array.shape[-1])


def batch_norm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    momentum: float,
    eps: float,
    training: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    """The reference's batch norm, on the batch viewed as an (N*H*W, C) matrix (NHWC
    memory), so that every per-channel statistic is a reduction down the columns. Only
    ``x - mean`` is kept for backward (``xhat`` is that times a per-channel constant), and
    the output is one multiply-add per element."""
    x_nhwc = to_nhwc(x)  # (N, H, W, C)
    channels = x_nhwc.shape[-1]
    count = x_nhwc.size // channels  # M, the values per channel
    if training:
        mean = batch_column_sums(x_nhwc) / count
        centered = np.empty_like(x_nhwc)

        def center(part: slice) -> np.ndarray:  # x - mean, and its sum of squares
            np.subtract(_pixel_rows(x_nhwc, part), mean, out=_pixel_rows(centered, part))
            rows = _pixel_rows(centered, part)
            return np.einsum("mc,mc->c", rows, rows)

        var = sum(over_parts(len(x_nhwc), center)) / count
        unbiased = var * (count / max(count - 1, 1))
        running_mean = ((1 - momentum) * running_mean + momentum * mean).astype(x.dtype)
        running_var = ((1 - momentum) * running_var + momentum * unbiased).astype(x.dtype)
        source, shift = centered, 0
    else:
        mean, var = running_mean.astype(x.dtype), running_var.astype(x.dtype)
        centered = None
        source, shift = x_nhwc, mean
    inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
    scale = gamma * inv_std  # (C,): y = (x - mean) * scale + beta
    offset = beta - shift * scale
    out = np.empty_like(x_nhwc)

    def normalise(part: slice) -> None:  # one multiply-add per element
        part_out = _pixel_rows(out, part)
        np.multiply(_pixel_rows(source, part), scale, out=part_out)
        part_out += offset

    over_parts(len(x_nhwc), normalise)
    if centered is None:  # evaluation: backward (a saliency map, say) rebuilds x - mean
        cache = (inv_std, None, x_nhwc, mean, training)
    else:
        cache = (inv_std, centered, None, None, training)
    return out.transpose(0, 3, 1, 2), running_mean, running_var, cache


def batch_norm_backward(
    grad_out: np.ndarray, gamma: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference's formula, as ``dx = scale * (grad - sum(grad) / M - (x - mean) *
    inv_std * sum(grad * xhat) / M)``, two column reductions and one fused pass."""
    inv_std, centered, x_nhwc, mean, training = cache
    grad_nhwc = to_nhwc(grad_out)  # (N, H, W, C)
    if centered is None:
        centered = x_nhwc - mean
    count = grad_nhwc.size // grad_nhwc.shape[-1]

    def sums(part: slice) -> np.ndarray:  # (2, C): sum(grad), sum(grad * (x - mean))
        grad_rows = _pixel_rows(grad_nhwc, part)
        return np.stack(
            [column_sums(grad_rows), np.einsum("mc,mc->c", grad_rows, _pixel_rows(centered, part))]
        )

    sum_grad, sum_grad_centered = sum(over_parts(len(grad_nhwc), sums))
    sum_grad_x_hat = sum_grad_centered * inv_std
    scale = gamma * inv_std  # d y / d x through x_hat, per channel
    grad_x = np.empty_like(grad_nhwc)
    if not training:
        over_parts(
            len(grad_x),
            lambda part: np.multiply(
                _pixel_rows(grad_nhwc, part), scale, out=_pixel_rows(grad_x, part)
            ),
        )
        return grad_x.transpose(0, 3, 1, 2), sum_grad_x_hat, sum_grad
    centered_factor = inv_std * sum_grad_x_hat / count
    mean_grad = sum_grad / count

    def input_gradient(part: slice) -> None:
        out = _pixel_rows(grad_x, part)
        np.multiply(_pixel_rows(centered, part), centered_factor, out=out)
        np.subtract(_pixel_rows(grad_nhwc, part), out, out=out)
        out -= mean_grad
        out *= scale

    over_parts(len(grad_x), input_gradient)
    return grad_x.transpose(0, 3, 1, 2), sum_grad_x_hat, sum_grad
