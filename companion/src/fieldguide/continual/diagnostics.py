"""Diagnostics of loss of plasticity: dead units, effective rank, weight magnitude.

Dohare et al. (2024, catalog 80) track three correlates of a network that is
losing its ability to learn:

* the fraction of *dead* ReLU units, units whose output is zero on every input of a sample;
* the *effective rank* of the representation (Roy and Vetterli, 2007): with the
  singular values ``sigma_k`` of the (n_samples, n_units) feature matrix and
  ``p_k = sigma_k / sum_j sigma_j``, ``erank = exp(-sum_k p_k log p_k)``;
* the average magnitude ``|w|`` of the weights.

Taught in the chapter *Loss of plasticity and continual backpropagation*
(book/07-continual/loss-of-plasticity).
"""

from __future__ import annotations

import torch
from torch import nn

from .. import _checks
from ..data import Task


def effective_rank(features: torch.Tensor) -> float:
    """Effective rank of a matrix, ``exp`` of the entropy of its normalized singular values (Roy and Vetterli, 2007).

    Parameters
    ----------
    features
        A (n, d) matrix, e.g. the features of ``n`` inputs in a hidden layer of ``d`` units.

    Returns
    -------
    float
        A number between 1 and ``rank(features)``; 0 for the zero matrix (no direction at all).

    Notes
    -----
    Used by Dohare et al. (2024, catalog 80); taught in book/07-continual/loss-of-plasticity.
    """
    _checks.tensor("features", features, ndim=2, floating=True)
    sigma = torch.linalg.svdvals(features.detach().double())  # (min(n, d),)
    total = sigma.sum()
    if total <= 0:
        return 0.0
    p = sigma / total
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def _hidden(model: nn.Module, X: torch.Tensor) -> list[torch.Tensor]:
    if not hasattr(model, "forward_with_hidden"):
        raise TypeError(f"model must provide forward_with_hidden (e.g. fieldguide.nn.MLP), got {type(model).__name__}")
    _checks.tensor("X", X, ndim=2, floating=True)
    with torch.no_grad():
        return list(model.forward_with_hidden(X)[1])


def dead_unit_fraction(model: nn.Module, X: torch.Tensor, *, per_layer: bool = False) -> float | list[float]:
    """Fraction of hidden units whose output is exactly zero for every row of ``X``.

    Parameters
    ----------
    model
        A network with ``forward_with_hidden`` (a :class:`fieldguide.nn.MLP` with ReLU units).
    X
        (n, in_features) inputs, the sample on which a unit must be silent to count as dead.
    per_layer
        Return one fraction per hidden layer instead of the fraction over all hidden units.

    Notes
    -----
    Used by Dohare et al. (2024, catalog 80); taught in book/07-continual/loss-of-plasticity.
    """
    hidden = _hidden(model, X)
    if not hidden:
        raise ValueError("model has no hidden layers, so it has no units that can die")
    dead = [(h == 0).all(dim=0) for h in hidden]  # one (width,) bool mask per layer
    if per_layer:
        return [float(d.float().mean()) for d in dead]
    return float(torch.cat(dead).float().mean())


def weight_magnitude(model: nn.Module) -> float:
    """Average absolute value of the network's weights (parameters with two or more dimensions; biases excluded).

    Used by Dohare et al. (2024, catalog 80); taught in book/07-continual/loss-of-plasticity.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    weights = [p.detach().abs().flatten() for p in model.parameters() if p.ndim >= 2]
    if not weights:
        raise ValueError("model has no weight matrices")
    return float(torch.cat(weights).mean())


def plasticity_metrics(model: nn.Module, data: Task | torch.Tensor) -> dict[str, float]:
    """The three diagnostics on a task's training inputs (or on a given input matrix).

    Returns ``dead_fraction`` (over all hidden units), ``effective_rank`` (of the last
    hidden layer's features, the representation the readout sees) and ``weight_magnitude``.
    Pass it to :func:`fieldguide.continual.run_stream` as ``measure``.

    Used by Dohare et al. (2024, catalog 80); taught in book/07-continual/loss-of-plasticity.
    """
    X = data.X_train if isinstance(data, Task) else data
    hidden = _hidden(model, X)
    if not hidden:
        raise ValueError("model has no hidden layers")
    dead = torch.cat([(h == 0).all(dim=0) for h in hidden]).float().mean()
    return {
        "dead_fraction": float(dead),
        "effective_rank": effective_rank(hidden[-1]),
        "weight_magnitude": weight_magnitude(model),
    }
