"""The baseline strategies of the loss-of-plasticity study, and the strategy registry.

* ``backprop``: plain backpropagation, every hook a no-op.
* ``l2``: L2 regularization, the penalty ``lambda / 2 * ||theta||^2`` (its gradient is the
  weight decay ``lambda * theta``).
* ``shrink_and_perturb``: after every step, ``theta <- (1 - shrink) * theta + sigma * eps``
  with ``eps ~ N(0, I)`` (Ash and Adams, 2020). Dohare et al. (2024, catalog 80) apply it
  at every step, as L2 shrinkage plus a small Gaussian perturbation; with SGD the shrink
  equals ``lr * weight_decay``.

Strategies are looked up by name, in the style of timm's registries:
``fg.continual.create("l2", weight_decay=1e-3)``.

Taught in the chapter *Loss of plasticity and continual backpropagation*
(book/07-continual/loss-of-plasticity).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .. import _checks
from .._registry import Registry
from .stream import Strategy


def _is_strategy_class(obj: object) -> bool:
    return isinstance(obj, type) and issubclass(obj, Strategy)


def _name_strategy(key: str, cls: type[Strategy]) -> None:
    cls.name = key


_STRATEGIES: Registry[type[Strategy]] = Registry("strategy", _is_strategy_class, "a Strategy subclass", _name_strategy)

register = _STRATEGIES.register
available = _STRATEGIES.available
get = _STRATEGIES.get


def create(name_or_obj: str | type[Strategy] | Strategy, **kwargs) -> Strategy:
    """A strategy instance from a name or class and its keyword arguments; instances pass through."""
    if isinstance(name_or_obj, Strategy):
        if kwargs:
            raise ValueError("kwargs cannot be given together with a ready Strategy instance")
        return name_or_obj
    return get(name_or_obj)(**kwargs)


@register("backprop")
@dataclass
class Backprop(Strategy):
    """Plain backpropagation: the stream loop with no extra term and no extra step (catalog 80)."""


@register("l2")
@dataclass
class L2(Strategy):
    """L2 regularization: adds ``weight_decay / 2 * sum ||theta||^2`` over all parameters to the loss.

    With SGD this is exactly ``torch.optim.SGD(..., weight_decay=weight_decay)``.
    Dohare et al. (2024, catalog 80) find that it slows loss of plasticity by keeping weights small.
    """

    weight_decay: float = 1e-3  # lambda: strength of the penalty

    def __post_init__(self) -> None:
        self.weight_decay = _checks.non_negative_float("weight_decay", self.weight_decay)

    def penalty(self, model: nn.Module) -> torch.Tensor:
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            return torch.zeros(())
        return 0.5 * self.weight_decay * sum((p**2).sum() for p in params)


@register("shrink_and_perturb")
@dataclass
class ShrinkAndPerturb(Strategy):
    """Shrink-and-perturb after every step: ``theta <- (1 - shrink) * theta + sigma * eps`` (Ash and Adams, 2020).

    As used by Dohare et al. (2024, catalog 80): L2-style shrinkage toward zero plus a small
    Gaussian perturbation of every parameter, applied after each optimizer step. The noise
    comes from PyTorch's global generator (seeded by ``fg.setup``).
    """

    shrink: float = 1e-4  # fraction by which every parameter shrinks toward 0 per step
    noise_std: float = 1e-3  # sigma: standard deviation of the added Gaussian noise

    def __post_init__(self) -> None:
        self.shrink = _checks.probability("shrink", self.shrink, open_right=True)
        self.noise_std = _checks.non_negative_float("noise_std", self.noise_std)

    @torch.no_grad()
    def after_step(
        self, model: nn.Module, hidden: Sequence[torch.Tensor], optimizer: torch.optim.Optimizer
    ) -> dict[str, float] | None:
        for p in model.parameters():
            p.mul_(1.0 - self.shrink)
            if self.noise_std > 0:
                p.add_(torch.randn(p.shape, dtype=p.dtype).to(p.device), alpha=self.noise_std)
        return None
