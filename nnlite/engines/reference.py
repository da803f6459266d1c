"""The reference engine: each op as a textbook writes it, NCHW, one thread, plain NumPy.

Every forward returns its output and, where backward needs more than the arrays the layer
already holds, a ``cache``. Shapes: N samples, C input channels, O output channels (or
features), H x W images, k x k kernels and windows, Ho x Wo outputs.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def batch_scope(count: int) -> AbstractContextManager[None]:
    """Around a pass over a batch: nothing to set up, everything runs on this thread."""
    return nullcontext()


# -- dense: y = x @ W.T + b ------------------------------------------------------------------


def dense_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """x (N, I), weight (O, I), bias (O,) -> y (N, O)."""
    return x @ weight.T + bias


def dense_backward(
    grad_out: np.ndarray, x: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """grad_out (N, O) -> (grad_x (N, I), grad_weight (O, I), grad_bias (O,)).

    y[n, o] = sum_i x[n, i] W[o, i] + b[o], so dL/dx = grad @ W, dL/dW = grad.T @ x and
    dL/db sums the gradient over the batch.
    """
    return grad_out @ weight, grad_out.T @ x, grad_out.sum(axis=0)


# -- ReLU: max(0, x) -------------------------------------------------------------------------


def relu_forward(x: np.ndarray) -> np.ndarray:
    """Any shape -> the same shape."""
    return np.maximum(x, 0)


def relu_backward(grad_out: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The gradient passes where the output is positive (where x > 0), else it stops."""
    return grad_out * (out > 0)


# -- convolution: im2col and one matrix product ----------------------------------------------


def output_size(size: int, kernel_size: int, stride: int, padding: int) -> int:
    """How many window positions fit along one axis: ``(size + 2p - k) // s + 1``."""
    return (size + 2 * padding - kernel_size) // stride + 1


def im2col(x: np.ndarray, kernel_size: int, stride: int, padding: int) -> np.ndarray:
    """x (N, C, H, W) -> cols (N*Ho*Wo, C*k*k): every k x k patch of the zero-padded input,
    one patch per row, ordered (channel, row, column) like a flattened (C, k, k) kernel."""
    p = padding
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    # (N, C, Ho', Wo', k, k): a view of every window (stride 1), no copy yet...
    windows = sliding_window_view(padded, (kernel_size, kernel_size), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]  # ...keeping every stride-th: (N, C, Ho, Wo, k, k)
    n, c, out_h, out_w = windows.shape[:4]
    # Put the patch axes (C, k, k) last, then one row per output pixel: this is the copy.
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * out_h * out_w, c * kernel_size**2)


def col2im(
    cols: np.ndarray, x_shape: tuple[int, ...], kernel_size: int, stride: int, padding: int
) -> np.ndarray:
    """The adjoint of :func:`im2col`: cols (N*Ho*Wo, C*k*k) -> (N, C, H, W).

    Each patch value goes back to the pixel it was read from; pixels shared by overlapping
    patches add up. One vectorised add per kernel offset (i, j): k*k steps in all.
    """
    n, c, h, w = x_shape
    k, p = kernel_size, padding
    out_h, out_w = output_size(h, k, stride, p), output_size(w, k, stride, p)
    patches = cols.reshape(n, out_h, out_w, c, k, k)
    padded = np.zeros((n, c, h + 2 * p, w + 2 * p), dtype=cols.dtype)
    for i in range(k):
        for j in range(k):
            # Offset (i, j) of every window lands on pixels (i + s*y, j + s*x).
            padded[:, :, i : i + stride * out_h : stride, j : j + stride * out_w : stride] += (
                patches[:, :, :, :, i, j].transpose(0, 3, 1, 2)  # (N, C, Ho, Wo)
            )
    return padded[:, :, p : p + h, p : p + w]


def conv2d_forward(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int, padding: int
) -> tuple[np.ndarray, tuple]:
    """x (N, C, H, W), weight (O, C, k, k), bias (O,) -> (out (N, O, Ho, Wo), cache).

    Every output pixel is the dot product of the kernel with the patch under it, so with
    the patches as rows of ``cols`` and the kernel as a (C*k*k, O) matrix, the whole
    convolution is the single matrix product ``cols @ W`` (plus the bias).
    """
    n, _, h, w = x.shape
    out_channels, _, k, _ = weight.shape
    cols = im2col(x, k, stride, padding)  # (N*Ho*Wo, C*k*k)
    kernel = weight.reshape(out_channels, -1).T  # (C*k*k, O)
    out = cols @ kernel + bias  # (N*Ho*Wo, O): one row per output pixel
    out_h, out_w = output_size(h, k, stride, padding), output_size(w, k, stride, padding)
    out = out.reshape(n, out_h, out_w, out_channels).transpose(0, 3, 1, 2)
    return out, (x.shape, cols, weight, stride, padding)


def conv2d_backward(grad_out: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """grad_out (N, O, Ho, Wo) -> (grad_x (N, C, H, W), grad_weight (O, C, k, k),
    grad_bias (O,)).

    Forward was ``out = cols @ kernel + bias``, a matrix product, so backward is two more:
    ``cols.T @ grad`` for the kernel and ``grad @ kernel.T`` for the patches, which
    :func:`col2im` adds back onto the pixels they came from.
    """
    x_shape, cols, weight, stride, padding = cache
    out_channels, _, k, _ = weight.shape
    grad_rows = grad_out.transpose(0, 2, 3, 1).reshape(-1, out_channels)  # (N*Ho*Wo, O)
    grad_weight = (grad_rows.T @ cols).reshape(weight.shape)  # (O, C*k*k) -> (O, C, k, k)
    grad_bias = grad_rows.sum(axis=0)
    grad_cols = grad_rows @ weight.reshape(out_channels, -1)  # (N*Ho*Wo, C*k*k)
    grad_x = col2im(grad_cols, x_shape, k, stride, padding)
    return grad_x, grad_weight, grad_bias


# -- max pooling: the largest value of each window -------------------------------------------


def max_pool2d_forward(x: np.ndarray, kernel_size: int, stride: int) -> tuple[np.ndarray, tuple]:
    """x (N, C, H, W) -> (out (N, C, Ho, Wo), cache), ``Ho = (H - k) // stride + 1``.

    Each window's winner is its *first* maximum (``argmax``): on MNIST most windows are all
    zeros, and backward must send the gradient to exactly one of the tied inputs.
    """
    k = kernel_size
    windows = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    flat = windows.reshape(*windows.shape[:4], k * k)  # (N, C, Ho, Wo, k*k), a copy
    winner = flat.argmax(axis=-1)  # (N, C, Ho, Wo): which of the k*k inputs won
    out = np.take_along_axis(flat, winner[..., None], axis=-1)[..., 0]
    return out, (x.shape, winner, k, stride)


def max_pool2d_backward(grad_out: np.ndarray, cache: tuple) -> np.ndarray:
    """grad_out (N, C, Ho, Wo) -> grad_x (N, C, H, W): each window's gradient goes to its
    winner, every other input of the window gets none."""
    x_shape, winner, k, stride = cache
    out_h, out_w = grad_out.shape[2:]
    grad_windows = np.zeros((*grad_out.shape, k * k), dtype=grad_out.dtype)
    np.put_along_axis(grad_windows, winner[..., None], grad_out[..., None], axis=-1)
    grad_windows = grad_windows.reshape(*grad_out.shape, k, k)
    grad_x = np.zeros(x_shape, dtype=grad_out.dtype)
    for i in range(k):  # as in col2im: overlapping windows add up
        for j in range(k):
            grad_x[:, :, i : i + stride * out_h : stride, j : j + stride * out_w : stride] += (
                grad_windows[..., i, j]
            )
    return grad_x


# -- batch normalisation: per channel, over the batch and the pixels --------------------------


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
    """x (N, C, H, W), gamma, beta, running statistics (C,) ->
    (out (N, C, H, W), new running mean (C,), new running variance (C,), cache).

    Training: ``xhat = (x - mean) / sqrt(var + eps)`` with the batch's mean and (biased)
    variance of each channel, ``out = gamma * xhat + beta``; the running statistics move
    towards the batch's by ``momentum`` (the variance unbiased, as in PyTorch).
    Evaluation: the running statistics take the batch's place and stay as they are.
    """
    axes = (0, 2, 3)  # everything but the channel
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        count = x.size // x.shape[1]  # M: the values of one channel
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var * count / max(count - 1, 1)
    else:
        mean, var = running_mean, running_var

    def per_channel(v: np.ndarray) -> np.ndarray:  # (C,) -> (1, C, 1, 1), to broadcast
        return v.astype(x.dtype).reshape(1, -1, 1, 1)

    inv_std = 1.0 / np.sqrt(per_channel(var) + eps)
    x_hat = (x - per_channel(mean)) * inv_std
    out = per_channel(gamma) * x_hat + per_channel(beta)
    new_stats = running_mean.astype(x.dtype), running_var.astype(x.dtype)
    return out, *new_stats, (x_hat, inv_std, training)


def batch_norm_backward(
    grad_out: np.ndarray, gamma: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """grad_out (N, C, H, W) -> (grad_x (N, C, H, W), grad_gamma (C,), grad_beta (C,)).

    With ``dxhat = grad * gamma`` and sums over the M values of each channel::

        dx = (M * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)) / (M * sqrt(var + eps))

    (the mean and variance depend on x too). In evaluation they are constants:
    ``dx = dxhat / sqrt(var + eps)``.
    """
    x_hat, inv_std, training = cache
    axes = (0, 2, 3)
    grad_gamma = (grad_out * x_hat).sum(axis=axes)
    grad_beta = grad_out.sum(axis=axes)
    dx_hat = grad_out * gamma.reshape(1, -1, 1, 1)
    if not training:
        return dx_hat * inv_std, grad_gamma, grad_beta
    count = grad_out.size // grad_out.shape[1]
    grad_x = (
        count * dx_hat
        - dx_hat.sum(axis=axes, keepdims=True)
        - x_hat * (dx_hat * x_hat).sum(axis=axes, keepdims=True)
    ) * (inv_std / count)
    return grad_x, grad_gamma, grad_beta
