"""Continual backpropagation: gradient descent plus a slow generate-and-test of hidden units.

Dohare et al. (2024, catalog 80). After every step, each hidden unit ``i`` of layer
``l`` updates its *contribution utility*, a running average of how much it feeds
the next layer::

    u_l[i] <- eta * u_l[i] + (1 - eta) * abs(h_{l,i}) * sum_k abs(w_{l,i,k})

with ``h_{l,i}`` the unit's output (averaged over the mini-batch here) and
``w_{l,i,k}`` its outgoing weights. Units older than the maturity threshold ``m``
are *eligible*; every step a fraction ``rho`` (the replacement rate) of the
eligible units is due for replacement, accumulated until it makes a whole unit.
The eligible units of lowest utility are then reinitialized: input weights drawn
afresh from the initial distribution, outgoing weights set to zero (so the
network's output does not change), utility and age set to zero.

As in the authors' code, the utility used for ranking is divided by
``1 - eta**age`` (Adam-style bias correction), so units of different ages are
compared fairly; ``bias_correction=False`` ranks by the raw running average of
the paper's equation.

Taught in the chapter *Loss of plasticity and continual backpropagation*
(book/07-continual/loss-of-plasticity).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from .. import _checks
from ..nn import Dense, init_weights
from .strategies import register
from .stream import Strategy


def contribution_utility(hidden: torch.Tensor, next_weight: torch.Tensor) -> torch.Tensor:
    """Instantaneous contribution utility ``mean_b |h_{b,i}| * sum_k |w_{k,i}|`` of every unit (catalog 80).

    Parameters
    ----------
    hidden
        (batch, n_l) outputs of the layer's units.
    next_weight
        (n_{l+1}, n_l) weight matrix of the next layer (its column ``i`` holds unit ``i``'s
        outgoing weights, PyTorch's layout).

    Returns
    -------
    (n_l,) tensor of utilities.

    Notes
    -----
    Taught in book/07-continual/loss-of-plasticity.
    """
    _checks.tensor("hidden", hidden, ndim=2, floating=True)
    _checks.tensor("next_weight", next_weight, ndim=2, floating=True)
    if next_weight.shape[1] != hidden.shape[1]:
        raise ValueError(f"next_weight must have one column per unit ({hidden.shape[1]}), got shape {tuple(next_weight.shape)}")
    return hidden.abs().mean(dim=0) * next_weight.abs().sum(dim=0)  # (n_l,)


def _fresh_weights(layer: Dense) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A new draw of the layer's weight (and bias) from its initial distribution."""
    weight = torch.empty(layer.weight.shape, dtype=layer.weight.dtype)  # (out, in)
    bias = None if layer.bias is None else torch.empty(layer.bias.shape, dtype=layer.bias.dtype)
    if layer.parametrization == "ntk":
        weight.normal_(0.0, 1.0)
        if bias is not None:
            bias.normal_(0.0, 1.0)
    else:
        init_weights(weight, layer.init, sigma_w=layer.sigma_w)
        if bias is not None:
            bias.normal_(0.0, layer.sigma_b)
    return weight.to(layer.weight.device), None if bias is None else bias.to(layer.weight.device)


def _reset_state(optimizer: torch.optim.Optimizer | None, param: torch.Tensor, index: torch.Tensor, dim: int) -> None:
    """Zero the optimizer's per-entry state (momentum, Adam moments) of the reinitialized entries."""
    if optimizer is None or param not in optimizer.state:
        return
    for value in optimizer.state[param].values():
        if isinstance(value, torch.Tensor) and value.shape == param.shape:
            value.index_fill_(dim, index, 0.0)


def _mlp_layers(model: nn.Module) -> list[Dense]:
    layers = getattr(model, "layers", None)
    if layers is None or len(layers) < 2 or not all(isinstance(layer, Dense) for layer in layers):
        raise TypeError(f"model must be a fieldguide.nn.MLP with hidden layers, got {type(model).__name__}")
    return list(layers)


@register("continual_backprop")
@dataclass(eq=False)
class ContinualBackprop(Strategy):
    """Continual backpropagation (Dohare et al., 2024, catalog 80) as a stream-loop strategy.

    Works on a :class:`fieldguide.nn.MLP`: its hidden layers are the units tested, the
    following layer holds their outgoing weights. ``after_step`` returns
    ``{"replaced": number of units reinitialized}``.

    Attributes
    ----------
    utility, age
        One (n_l,) tensor per hidden layer: running contribution utility and steps since (re)initialization.

    Notes
    -----
    Taught in book/07-continual/loss-of-plasticity.
    """

    replacement_rate: float = 1e-4  # rho: fraction of eligible units replaced per step, per layer
    maturity_threshold: int = 100  # m: steps a new unit is protected from replacement
    decay_rate: float = 0.99  # eta: decay of the running utility (0.99 in all of the paper's runs)
    bias_correction: bool = True  # rank by u / (1 - eta**age), as the authors' code does
    utility: list[torch.Tensor] = field(default_factory=list, repr=False)
    age: list[torch.Tensor] = field(default_factory=list, repr=False)
    pending: list[float] = field(default_factory=list, repr=False)  # accumulated fractional replacements

    def __post_init__(self) -> None:
        self.replacement_rate = _checks.probability("replacement_rate", self.replacement_rate)
        _checks.non_negative_int("maturity_threshold", self.maturity_threshold)
        self.decay_rate = _checks.probability("decay_rate", self.decay_rate, open_right=True)
        if not isinstance(self.bias_correction, bool):
            raise TypeError(f"bias_correction must be a bool, got {type(self.bias_correction).__name__}")

    def _layers(self, model: nn.Module, hidden: Sequence[torch.Tensor]) -> list[Dense]:
        layers = _mlp_layers(model)
        if len(hidden) != len(layers) - 1:
            raise ValueError(f"hidden must hold the features of the {len(layers) - 1} hidden layers, got {len(hidden)}")
        if not self.utility:
            device = layers[0].weight.device
            self.utility = [torch.zeros(layer.out_features, device=device) for layer in layers[:-1]]
            self.age = [torch.zeros(layer.out_features, dtype=torch.long, device=device) for layer in layers[:-1]]
            self.pending = [0.0] * (len(layers) - 1)
        return list(layers)

    @torch.no_grad()
    def reinitialize(
        self, model: nn.Module, layer_index: int, units: torch.Tensor, optimizer: torch.optim.Optimizer | None = None
    ) -> None:
        """Reinitialize ``units`` of hidden layer ``layer_index``: fresh input weights, zero outgoing weights.

        Parameters
        ----------
        model
            A :class:`fieldguide.nn.MLP`.
        layer_index
            Which hidden layer (0 is the first).
        units
            1-D integer tensor of the unit indices to reinitialize.
        optimizer
            If given, the per-entry state of the reinitialized weights (momentum, Adam moments) is zeroed.
        """
        layers = _mlp_layers(model)
        _checks.tensor("units", units, ndim=1)
        if units.dtype in (torch.bool,) or units.is_floating_point() or units.is_complex():
            raise TypeError(f"units must hold integer indices, got dtype {units.dtype}")
        if isinstance(layer_index, bool) or not isinstance(layer_index, int) or not 0 <= layer_index < len(layers) - 1:
            raise ValueError(f"layer_index must name a hidden layer in [0, {len(layers) - 2}], got {layer_index}")
        layer, following = layers[layer_index], layers[layer_index + 1]
        weight, bias = _fresh_weights(layer)
        layer.weight[units] = weight[units]
        _reset_state(optimizer, layer.weight, units, 0)
        if bias is not None:
            layer.bias[units] = bias[units]
            _reset_state(optimizer, layer.bias, units, 0)
        following.weight[:, units] = 0.0
        _reset_state(optimizer, following.weight, units, 1)
        if self.utility:
            self.utility[layer_index][units] = 0.0
            self.age[layer_index][units] = 0

    @torch.no_grad()
    def after_step(self, model: nn.Module, hidden: Sequence[torch.Tensor], optimizer: torch.optim.Optimizer) -> dict[str, float]:
        layers = self._layers(model, hidden)
        replaced = 0
        for i, h in enumerate(hidden):
            following = layers[i + 1]
            self.age[i] += 1
            outgoing = following.weight * following.weight_multiplier  # (n_{l+1}, n_l), effective weights
            self.utility[i].mul_(self.decay_rate).add_(contribution_utility(h, outgoing), alpha=1 - self.decay_rate)
            eligible = self.age[i] > self.maturity_threshold  # (n_l,) bool
            num_eligible = int(eligible.sum())
            if num_eligible == 0 or self.replacement_rate == 0:
                continue
            self.pending[i] += self.replacement_rate * num_eligible
            k = min(int(self.pending[i]), num_eligible)
            if k <= 0:
                continue
            self.pending[i] -= k
            score = self.utility[i]
            if self.bias_correction:
                score = score / (1 - self.decay_rate ** self.age[i].double()).to(score.dtype)
            score = torch.where(eligible, score, torch.full_like(score, float("inf")))
            units = torch.topk(score, k, largest=False).indices  # (k,) lowest-utility eligible units
            self.reinitialize(model, i, units, optimizer)
            replaced += k
        return {"replaced": float(replaced)}
