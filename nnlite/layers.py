"""Layers: each one a forward pass, its hand-written backward pass, and its parameters.

The contract every layer keeps::

    out = layer.forward(x)            # remembers what backward needs
    grad_x = layer.backward(grad_out) # sets .grad on its parameters, returns d loss / d x
    layer.parameters()                # list of Parameter
    layer.buffers()                   # non-trainable state saved with the model
    layer.get_config()                # JSON-able constructor arguments
    layer.train() / layer.eval()      # only Dropout and BatchNorm2D care

Every layer computes in the dtype of its input and parameters: float32 for training,
float64 when a gradient check casts them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import functional as F
from .init import he_normal
from .parallel import map_batch, over_batch
from .random import get_rng
from .tensor import Parameter

#: Every Layer subclass by class name; ``nl.load`` rebuilds models through it.
LAYER_REGISTRY: dict[str, type[Layer]] = {}


class Layer:
    """Base class. Subclasses are registered by name in :data:`LAYER_REGISTRY`."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        LAYER_REGISTRY[cls.__name__] = cls

    def __init__(self) -> None:
        self.training = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def parameters(self) -> list[Parameter]:
        """The layer's trainable Parameters (none by default)."""
        return []

    def buffers(self) -> dict[str, np.ndarray]:
        """Non-trainable arrays that are part of the model, such as running statistics."""
        return {}

    def set_buffer(self, name: str, value: np.ndarray) -> None:
        """Replace the buffer ``name`` (used when loading a model)."""
        setattr(self, name, value)

    def get_config(self) -> dict[str, Any]:
        """The constructor's keyword arguments, JSON-able, so that ``cls(**config)`` rebuilds it."""
        return {}

    def train(self) -> None:
        self.training = True

    def eval(self) -> None:
        self.training = False

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _check_input(layer: Layer, x: np.ndarray, ndim: int, channels: int, what: str) -> None:
    """Raise a ValueError that names the layer, the expected shape and the shape received."""
    if not isinstance(x, np.ndarray) or x.ndim != ndim or x.shape[1] != channels:
        got = getattr(x, "shape", type(x).__name__)
        raise ValueError(f"{layer!r} expects input of shape {what}, got {got}")


class Dense(Layer):
    """Fully connected layer: ``y = x @ W.T + b``.

    Shapes: x (N, in_features) -> y (N, out_features); weight (out_features, in_features),
    as in PyTorch; bias (out_features,). He initialisation.
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(he_normal((out_features, in_features), in_features), "weight")
        self.bias = Parameter(np.zeros(out_features, dtype=np.float32), "bias")

    def forward(self, x: np.ndarray) -> np.ndarray:
        _check_input(self, x, 2, self.in_features, f"(N, {self.in_features})")
        self.x = x
        weight, bias = self.weight.data, self.bias.data

        def affine(rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
            out = np.matmul(rows, weight.T, out=out)
            out += bias
            return out

        shape = (len(x), self.out_features)
        return map_batch(affine, x, out_shape=shape, dtype=np.result_type(x, weight))

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # y_nj = sum_i x_ni W_ji + b_j, so dW = grad.T @ x, db = sum over the batch, dx = grad @ W
        x, weight = self.x, self.weight.data
        grad_weight = np.empty_like(weight)  # split by output feature: rows of dW
        over_batch(
            self.out_features,
            lambda part: np.matmul(grad_out[:, part].T, x, out=grad_weight[part]),
        )
        self.weight.grad += grad_weight
        self.bias.grad += grad_out.sum(axis=0)
        grad_x = np.empty((len(grad_out), self.in_features), dtype=grad_out.dtype)
        over_batch(len(grad_out), lambda part: np.matmul(grad_out[part], weight, out=grad_x[part]))
        return grad_x

    def parameters(self) -> list[Parameter]:
        return [self.weight, self.bias]

    def get_config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features}


class Conv2D(Layer):
    """2-D convolution through im2col and one matrix product (see :mod:`nnlite.functional`).

    Shapes: x (N, in_channels, H, W) -> y (N, out_channels, Ho, Wo) with
    ``Ho = (H + 2*padding - kernel_size) // stride + 1``; weight
    (out_channels, in_channels, kernel_size, kernel_size); bias (out_channels,).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride, self.padding = int(kernel_size), int(stride), int(padding)
        if not 0 <= self.padding < self.kernel_size or self.stride < 1:
            raise ValueError("Conv2D needs stride >= 1 and 0 <= padding < kernel_size")
        fan_in = in_channels * kernel_size * kernel_size
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        # The weight has PyTorch's (O, C, k, k) shape but lives in (k, k, C, O) memory, so
        # that the (k*k*C, O) kernel matrix of im2col is a free reshape instead of a copy at
        # every call. (Assigning another array to .data works too: that only costs the copy.)
        weight = np.empty(shape[2:] + shape[1::-1], dtype=np.float32).transpose(3, 2, 0, 1)
        weight[...] = he_normal(shape, fan_in)
        self.weight = Parameter(weight, "weight")
        self.bias = Parameter(np.zeros(out_channels, dtype=np.float32), "bias")

    def forward(self, x: np.ndarray) -> np.ndarray:
        _check_input(self, x, 4, self.in_channels, f"(N, {self.in_channels}, H, W)")
        if min(x.shape[2:]) + 2 * self.padding < self.kernel_size:
            raise ValueError(f"{self!r}: input {x.shape[2:]} is smaller than the kernel")
        out, self.cache = F.conv2d_forward(
            x, self.weight.data, self.bias.data, self.stride, self.padding
        )
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        grad_x, grad_weight, grad_bias = F.conv2d_backward(grad_out, self.cache)
        self.weight.grad += grad_weight
        self.bias.grad += grad_bias
        return grad_x

    def parameters(self) -> list[Parameter]:
        return [self.weight, self.bias]

    def get_config(self) -> dict[str, Any]:
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
        }


class MaxPool2D(Layer):
    """Max pooling: (N, C, H, W) -> (N, C, Ho, Wo), ``Ho = (H - kernel_size) // stride + 1``.

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows). Backward sends each
    window's gradient to exactly one input, its first maximum.
    """

    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        super().__init__()
        self.kernel_size = int(kernel_size)
        self.stride = int(stride) if stride is not None else self.kernel_size

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.ndim != 4:
            raise ValueError(f"{self!r} expects input of shape (N, C, H, W), got {np.shape(x)}")
        out, self.cache = F.max_pool2d_forward(x, self.kernel_size, self.stride)
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return F.max_pool2d_backward(grad_out, self.cache)

    def get_config(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size, "stride": self.stride}


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...), in C order (channel-major, like PyTorch)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.input_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out.reshape(self.input_shape)


class ReLU(Layer):
    """max(0, x), element-wise; any shape. Its gradient is 1 where x > 0 and 0 elsewhere."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = map_batch(_relu, x)
        self.out = out  # x > 0 exactly where out > 0; the mask is made only if backward runs
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return map_batch(_relu_backward, grad_out, self.out)


def _relu(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.maximum(x, 0, out=out)


def _relu_backward(
    grad_out: np.ndarray, relu_out: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    return np.multiply(grad_out, relu_out > 0, out=out)


class Dropout(Layer):
    """Inverted dropout: in training, zero each element with probability ``p`` and scale the
    survivors by ``1 / (1 - p)``, so that evaluation needs no rescaling; identity in eval mode.
    Any shape. The mask comes from the library's generator (``nl.seed``)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout probability must be in [0, 1), got {p}")
        self.p = float(p)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0.0:
            self.mask = None
            return x
        keep = get_rng().random(x.shape, dtype=np.float32) >= self.p
        mask = keep.astype(x.dtype) / x.dtype.type(1.0 - self.p)
        self.mask = mask
        return x * mask

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out if self.mask is None else grad_out * self.mask

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p}


def _pixel_rows(array: np.ndarray, part: slice) -> np.ndarray:
    """Samples ``part`` of an (N, H, W, C) batch as the (n*H*W, C) matrix of their pixels."""
    return array[part].reshape(-1, array.shape[-1])


class BatchNorm2D(Layer):
    """Batch normalisation over (N, H, W) for each of C channels: (N, C, H, W) -> same shape.

    Training: ``y = gamma * (x - mean) / sqrt(var + eps) + beta`` with the batch's mean and
    (biased) variance per channel, and running averages updated for evaluation
    (``running = (1 - momentum) * running + momentum * batch``, unbiased variance, as in
    PyTorch). Evaluation uses the running averages.

    Backward (training mode), with ``xhat`` the normalised input, M = N*H*W and sums over
    the M values of a channel::

        dxhat = grad * gamma
        dx = (M * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)) / (M * sqrt(var + eps))

    In evaluation mode the statistics are constants and ``dx = gamma * grad / sqrt(var+eps)``.

    Internally the batch is viewed as an (N*H*W, C) matrix (NHWC memory), so that every
    per-channel statistic is a reduction down the columns. Only ``x - mean`` is kept for
    backward (``xhat`` is that times a per-channel constant, folded into the per-channel
    factors), so each pass writes the fewest full-size arrays.
    """

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features, self.momentum, self.eps = int(num_features), float(momentum), float(eps)
        self.weight = Parameter(np.ones(num_features, dtype=np.float32), "weight")
        self.bias = Parameter(np.zeros(num_features, dtype=np.float32), "bias")
        self.running_mean = np.zeros(num_features, dtype=np.float32)
        self.running_var = np.ones(num_features, dtype=np.float32)

    def forward(self, x: np.ndarray) -> np.ndarray:
        _check_input(self, x, 4, self.num_features, f"(N, {self.num_features}, H, W)")
        x_nhwc = F.to_nhwc(x)  # (N, H, W, C)
        count = x_nhwc.size // self.num_features  # M, the values per channel

        if self.training:
            mean = F.batch_column_sums(x_nhwc) / count
            centered = np.empty_like(x_nhwc)

            def center(part: slice) -> np.ndarray:  # x - mean, and its sum of squares
                np.subtract(_pixel_rows(x_nhwc, part), mean, out=_pixel_rows(centered, part))
                return np.einsum(
                    "mc,mc->c", _pixel_rows(centered, part), _pixel_rows(centered, part)
                )

            var = sum(over_batch(len(x_nhwc), center)) / count
            unbiased = var * (count / max(count - 1, 1))
            momentum = self.momentum
            self.running_mean = ((1 - momentum) * self.running_mean + momentum * mean).astype(
                x.dtype
            )
            self.running_var = ((1 - momentum) * self.running_var + momentum * unbiased).astype(
                x.dtype
            )
            source, shift = centered, 0
        else:
            mean, var = self.running_mean.astype(x.dtype), self.running_var.astype(x.dtype)
            centered = None
            source, shift = x_nhwc, mean
        inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype)
        scale = self.weight.data * inv_std  # (C,): y = (x - mean) * scale + beta
        offset = self.bias.data - shift * scale
        out = np.empty_like(x_nhwc)

        def normalise(part: slice) -> None:  # one multiply-add per element
            part_out = _pixel_rows(out, part)
            np.multiply(_pixel_rows(source, part), scale, out=part_out)
            part_out += offset

        over_batch(len(x_nhwc), normalise)
        # Locals first, attributes (for backward) after: a forward in another thread on the
        # same layer must not change this call's result.
        self.inv_std, self.centered = inv_std, centered
        self.x_nhwc, self.mean = (x_nhwc, mean) if centered is None else (None, None)
        return out.transpose(0, 3, 1, 2)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        grad_nhwc = F.to_nhwc(grad_out)  # (N, H, W, C)
        centered = self.centered
        if centered is None:  # after an evaluation-mode forward (a saliency map, say)
            centered = self.x_nhwc - self.mean
        inv_std, count = self.inv_std, grad_nhwc.size // self.num_features

        def sums(part: slice) -> np.ndarray:  # (2, C): sum(grad), sum(grad * (x - mean))
            grad_rows = _pixel_rows(grad_nhwc, part)
            return np.stack(
                [
                    F.column_sums(grad_rows),
                    np.einsum("mc,mc->c", grad_rows, _pixel_rows(centered, part)),
                ]
            )

        sum_grad, sum_grad_centered = sum(over_batch(len(grad_nhwc), sums))
        sum_grad_x_hat = sum_grad_centered * inv_std
        self.weight.grad += sum_grad_x_hat
        self.bias.grad += sum_grad
        scale = self.weight.data * inv_std  # d y / d x through x_hat, per channel
        grad_x = np.empty_like(grad_nhwc)
        if not self.training:
            over_batch(
                len(grad_x),
                lambda part: np.multiply(
                    _pixel_rows(grad_nhwc, part), scale, out=_pixel_rows(grad_x, part)
                ),
            )
            return grad_x.transpose(0, 3, 1, 2)
        # The batch statistics depend on x too: the formula above, as
        # dx = scale * (grad - sum(grad) / M - (x - mean) * inv_std * sum(grad * xhat) / M).
        centered_factor = inv_std * sum_grad_x_hat / count
        mean_grad = sum_grad / count

        def input_gradient(part: slice) -> None:
            out = _pixel_rows(grad_x, part)
            np.multiply(_pixel_rows(centered, part), centered_factor, out=out)
            np.subtract(_pixel_rows(grad_nhwc, part), out, out=out)
            out -= mean_grad
            out *= scale

        over_batch(len(grad_x), input_gradient)
        return grad_x.transpose(0, 3, 1, 2)

    def parameters(self) -> list[Parameter]:
        return [self.weight, self.bias]

    def buffers(self) -> dict[str, np.ndarray]:
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def get_config(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "momentum": self.momentum, "eps": self.eps}
