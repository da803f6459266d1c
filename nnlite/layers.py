"""Layers: each one a forward pass, its hand-written backward pass, and its parameters.

The contract every layer keeps::

    out = layer.forward(x)            # remembers what backward needs
    grad_x = layer.backward(grad_out) # sets .grad on its parameters, returns d loss / d x
    layer.parameters()                # list of Parameter
    layer.buffers()                   # non-trainable state saved with the model
    layer.get_config()                # JSON-able constructor arguments
    layer.train() / layer.eval()      # only Dropout and BatchNorm2D care

Every layer computes in the dtype of its input and parameters: float32 for training,
float64 when a gradient check casts them. The arithmetic is in :mod:`nnlite.ops`, computed
by the engine of your choice (``nl.set_engine("reference")`` for the textbook one).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops
from .init import he_normal
from .random import get_rng
from .tensor import Parameter


class Layer:
    """Base class: subclass it, write ``forward`` and ``backward``. To save and load a layer
    of your own, register it (:func:`register_layer`)."""

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
        return ops.dense_forward(x, self.weight.data, self.bias.data)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        grad_x, grad_weight, grad_bias = ops.dense_backward(grad_out, self.x, self.weight.data)
        self.weight.grad += grad_weight
        self.bias.grad += grad_bias
        return grad_x

    def parameters(self) -> list[Parameter]:
        return [self.weight, self.bias]

    def get_config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features}


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in every deep-learning library).

    Shapes: x (N, in_channels, H, W) -> y (N, out_channels, Ho, Wo) with
    ``Ho = (H + 2*padding - kernel_size) // stride + 1``; weight
    (out_channels, in_channels, kernel_size, kernel_size); bias (out_channels,).
    How: im2col and one matrix product (``nnlite/engines/reference.py`` explains it).
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
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        fan_in = in_channels * kernel_size * kernel_size
        self.weight = Parameter(he_normal(shape, fan_in), "weight")
        self.bias = Parameter(np.zeros(out_channels, dtype=np.float32), "bias")

    def forward(self, x: np.ndarray) -> np.ndarray:
        _check_input(self, x, 4, self.in_channels, f"(N, {self.in_channels}, H, W)")
        if min(x.shape[2:]) + 2 * self.padding < self.kernel_size:
            raise ValueError(f"{self!r}: input {x.shape[2:]} is smaller than the kernel")
        out, self.cache = ops.conv2d_forward(
            x, self.weight.data, self.bias.data, self.stride, self.padding
        )
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        grad_x, grad_weight, grad_bias = ops.conv2d_backward(grad_out, self.cache)
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
        out, self.cache = ops.max_pool2d_forward(x, self.kernel_size, self.stride)
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return ops.max_pool2d_backward(grad_out, self.cache)

    def get_config(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size, "stride": self.stride}


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...), in C order (channel-major, like PyTorch)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.input_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out.reshape(self.input_shape)


class Columns(Layer):
    """(N, C, H, W) -> (N * W, C * H): each column of a feature map as one row, sample by
    sample (rows ``n * W`` to ``n * W + W - 1`` are sample n's columns, left to right), its
    features channel-major (``c * H + h``). A Dense layer after it reads every column with
    the same weights: a sequence of W steps for :class:`~nnlite.losses.CTCLoss`."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.ndim != 4:
            got = getattr(x, "shape", type(x).__name__)
            raise ValueError(f"{self!r} expects input of shape (N, C, H, W), got {got}")
        self.input_shape = x.shape
        n, channels, height, width = x.shape
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2)).reshape(n * width, channels * height)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        n, channels, height, width = self.input_shape
        return np.ascontiguousarray(
            grad_out.reshape(n, width, channels, height).transpose(0, 2, 3, 1)
        )


class ReLU(Layer):
    """max(0, x), element-wise; any shape. Its gradient is 1 where x > 0 and 0 elsewhere."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = ops.relu_forward(x)  # x > 0 exactly where out > 0
        return self.out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return ops.relu_backward(grad_out, self.out)


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
        self.mask = keep.astype(x.dtype) / x.dtype.type(1.0 - self.p)
        return x * self.mask

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out if self.mask is None else grad_out * self.mask

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p}


class BatchNorm2D(Layer):
    """Batch normalisation of each of C channels over (N, H, W): (N, C, H, W) -> same shape.

    Training: ``y = gamma * (x - mean) / sqrt(var + eps) + beta`` with the batch's mean and
    (biased) variance per channel, and running averages updated for evaluation
    (``running = (1 - momentum) * running + momentum * batch``, unbiased variance, as in
    PyTorch). Evaluation uses the running averages. ``gamma`` is ``weight`` and ``beta`` is
    ``bias``, both (C,). The backward formula is in ``nnlite/engines/reference.py``.
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
        out, mean, var, cache = ops.batch_norm_forward(
            x,
            self.weight.data,
            self.bias.data,
            self.running_mean,
            self.running_var,
            self.momentum,
            self.eps,
            self.training,
        )
        self.running_mean, self.running_var, self.cache = mean, var, cache
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        grad_x, grad_weight, grad_bias = ops.batch_norm_backward(
            grad_out, self.weight.data, self.cache
        )
        self.weight.grad += grad_weight
        self.bias.grad += grad_bias
        return grad_x

    def parameters(self) -> list[Parameter]:
        return [self.weight, self.bias]

    def buffers(self) -> dict[str, np.ndarray]:
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def get_config(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "momentum": self.momentum, "eps": self.eps}


#: The layers nnlite ships, by class name: what ``nl.load`` builds. A class of your own with
#: the same name (a notebook's ``class Dense(nl.Layer)``) changes nothing here.
BUILTIN_LAYERS: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (Dense, Conv2D, MaxPool2D, Flatten, Columns, ReLU, Dropout, BatchNorm2D)
}
#: Layers of your own that ``nl.load`` may build, added with :func:`register_layer`.
USER_LAYERS: dict[str, type[Layer]] = {}


def register_layer(cls: type[Layer]) -> type[Layer]:
    """Let ``nl.load`` rebuild models that hold layers of class ``cls`` (use it as a class
    decorator). Its name must not be a built-in layer's, nor another registered class's."""
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise TypeError(f"register_layer takes a subclass of nl.Layer, got {cls!r}")
    name = cls.__name__
    if name in BUILTIN_LAYERS and BUILTIN_LAYERS[name] is not cls:
        raise ValueError(
            f"{name} is the name of a built-in layer: give your layer another name "
            f"(a file that says {name} must always load nnlite's {name})"
        )
    if name in USER_LAYERS and USER_LAYERS[name] is not cls:
        raise ValueError(f"another layer class named {name} is registered already")
    if name not in BUILTIN_LAYERS:
        USER_LAYERS[name] = cls
    return cls


def known_layer_names() -> list[str]:
    """Every class name ``nl.load`` can build, built-in and registered."""
    return sorted({*BUILTIN_LAYERS, *USER_LAYERS})


def layer_class(name: str) -> type[Layer] | None:
    """The class ``nl.load`` builds for ``name``: a built-in layer, else a registered one."""
    return BUILTIN_LAYERS.get(name) or USER_LAYERS.get(name)
