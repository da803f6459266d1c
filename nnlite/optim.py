"""Optimizers: they need nothing but the list of Parameters and their ``.grad``."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .tensor import Parameter


class Optimizer:
    """Base class: holds the parameters and the learning rate ``lr`` (changeable between steps)."""

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimizer got no parameters to optimise")
        self.lr = float(lr)

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` back to zero (gradients accumulate otherwise)."""
        for param in self.params:
            param.grad.fill(0)

    def step(self) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        """The optimizer's arrays and counters, for checkpoints (names to arrays)."""
        return {}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`state_dict` returned."""


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 decay.

    ``v = momentum * v + (grad + weight_decay * w)``; ``w -= lr * v`` (PyTorch's form).
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.01,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.momentum, self.weight_decay, self.nesterov = momentum, weight_decay, nesterov
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        for param, velocity in zip(self.params, self.velocity, strict=True):
            grad = param.grad
            if self.weight_decay:
                grad = grad + self.weight_decay * param.data
            if self.momentum:
                velocity *= self.momentum
                velocity += grad
                grad = grad + self.momentum * velocity if self.nesterov else velocity
            param.data -= self.lr * grad

    def state_dict(self) -> dict[str, np.ndarray]:
        return {f"velocity.{i}": v for i, v in enumerate(self.velocity)}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.velocity = [state[f"velocity.{i}"].copy() for i in range(len(self.params))]


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), with decoupled weight decay when ``weight_decay > 0`` (AdamW).

    Keeps running averages of the gradient (``m``) and of its square (``v``), corrects their
    bias towards zero in the first steps, and moves each weight by
    ``lr * m_hat / (sqrt(v_hat) + eps)``: a step of about ``lr`` whatever the gradient's scale.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.beta1, self.beta2 = betas
        self.eps, self.weight_decay = eps, weight_decay
        self.steps = 0
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        self.steps += 1
        bias1 = 1.0 - self.beta1**self.steps
        bias2 = 1.0 - self.beta2**self.steps
        for param, m, v in zip(self.params, self.m, self.v, strict=True):
            grad = param.grad
            m *= self.beta1
            m += (1.0 - self.beta1) * grad
            v *= self.beta2
            v += (1.0 - self.beta2) * grad * grad
            if self.weight_decay:
                param.data -= self.lr * self.weight_decay * param.data
            # m / bias1 and v / bias2 are the bias-corrected averages m_hat and v_hat.
            denominator = np.sqrt(v / bias2) + self.eps
            param.data -= (self.lr / bias1) * m / denominator

    def state_dict(self) -> dict[str, np.ndarray]:
        state = {"steps": np.array(self.steps)}
        for i, (m, v) in enumerate(zip(self.m, self.v, strict=True)):
            state[f"m.{i}"], state[f"v.{i}"] = m, v
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.steps = int(state["steps"])
        self.m = [state[f"m.{i}"].copy() for i in range(len(self.params))]
        self.v = [state[f"v.{i}"].copy() for i in range(len(self.params))]
