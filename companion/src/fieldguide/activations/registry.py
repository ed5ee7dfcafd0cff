"""A small registry of activation functions, in the style of timm's ``create_act``."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from .._registry import Registry

ActFn = Callable[[torch.Tensor], torch.Tensor]

_ACTIVATIONS: Registry[ActFn] = Registry("activation", callable, "a callable")

register = _ACTIVATIONS.register
available = _ACTIVATIONS.available
get = _ACTIVATIONS.get


class Activation(nn.Module):
    """Module wrapper around a registered activation function."""

    def __init__(self, name: str, fn: ActFn):
        super().__init__()
        self.name = name
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)

    def extra_repr(self) -> str:
        return self.name


def create(name_or_fn: str | ActFn | nn.Module) -> nn.Module:
    """An ``nn.Module`` for an activation name (modules pass through unchanged)."""
    if isinstance(name_or_fn, nn.Module):
        return name_or_fn
    fn = get(name_or_fn)
    label = name_or_fn if isinstance(name_or_fn, str) else getattr(fn, "__name__", "activation")
    return Activation(label.lower(), fn)


@register("identity")
def identity(x: torch.Tensor) -> torch.Tensor:
    """Identity, the linear network's activation."""
    return x


@register("relu")
def relu(x: torch.Tensor) -> torch.Tensor:
    """Rectified linear unit, max(x, 0)."""
    return torch.relu(x)


@register("tanh")
def tanh(x: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent."""
    return torch.tanh(x)


@register("erf")
def erf(x: torch.Tensor) -> torch.Tensor:
    """Error function, a sigmoid-shaped activation with a closed-form NNGP kernel."""
    return torch.erf(x)


@register("sigmoid")
def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Logistic sigmoid."""
    return torch.sigmoid(x)


@register("gelu")
def gelu(x: torch.Tensor) -> torch.Tensor:
    """Gaussian error linear unit, x * Phi(x) (exact form)."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


@register("abs")
def absolute(x: torch.Tensor) -> torch.Tensor:
    """Absolute value, ``abs(x)``."""
    return torch.abs(x)
