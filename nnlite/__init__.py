"""nnlite: a small neural-network library in pure NumPy, with hand-written backpropagation.

import nnlite as nl
model = nl.Sequential([nl.Flatten(), nl.Dense(784, 128), nl.ReLU(), nl.Dense(128, 10)])
loss_fn, opt = nl.CrossEntropyLoss(), nl.Adam(model.parameters(), lr=1e-3)
loss = loss_fn.forward(model.forward(x), y)
model.backward(loss_fn.backward()); opt.step(); opt.zero_grad()
"""

__version__ = "0.1.0"

from . import data, engines, functional, ops, parallel
from .functional import log_softmax, softmax
from .gradcheck import GradcheckResult, gradcheck
from .init import glorot_uniform, he_normal
from .layers import (
    BUILTIN_LAYERS,
    BatchNorm2D,
    Columns,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Layer,
    MaxPool2D,
    ReLU,
    register_layer,
)
from .losses import CrossEntropyLoss, CTCLoss, ctc_log_likelihood
from .model import Sequential, load
from .ops import engine, set_engine
from .optim import SGD, Adam, Optimizer
from .parallel import get_num_threads, set_num_threads
from .random import seed
from .tensor import Parameter

__all__ = [
    "BUILTIN_LAYERS",
    "SGD",
    "Adam",
    "BatchNorm2D",
    "CTCLoss",
    "Columns",
    "Conv2D",
    "CrossEntropyLoss",
    "Dense",
    "Dropout",
    "Flatten",
    "GradcheckResult",
    "Layer",
    "MaxPool2D",
    "Optimizer",
    "Parameter",
    "ReLU",
    "Sequential",
    "__version__",
    "ctc_log_likelihood",
    "data",
    "engine",
    "engines",
    "functional",
    "get_num_threads",
    "glorot_uniform",
    "gradcheck",
    "he_normal",
    "load",
    "log_softmax",
    "ops",
    "parallel",
    "register_layer",
    "seed",
    "set_engine",
    "set_num_threads",
    "softmax",
]
