"""The classical Hopfield network: Hebbian outer-product storage and sign dynamics.

Hopfield (1982) stores binary patterns x_mu in {-1, +1}^d in the weights
W = sum_mu x_mu x_mu^T (zero diagonal) and retrieves by setting each unit to the
sign of its input field, which never raises the energy E = -1/2 s^T W s.
For random patterns retrieval breaks down beyond about 0.14 d stored patterns
(Amit, Gutfreund and Sompolinsky, 1985).

The baseline of catalog 32 (Ramsauer et al., 2021); taught in book/08-memory/modern-hopfield.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import _checks
from .registry import AssociativeMemory, register


def hebbian_weights(patterns: torch.Tensor, *, zero_diagonal: bool = True) -> torch.Tensor:
    """Hebbian weights W = sum_mu x_mu x_mu^T of the classical Hopfield network (Hopfield, 1982).

    Parameters
    ----------
    patterns
        Floating tensor (N, d), one pattern x_mu per row.
    zero_diagonal
        Set W_ii = 0, as Hopfield (1982) does: no unit drives itself.

    Returns
    -------
    torch.Tensor
        The symmetric (d, d) weight matrix. Taught in book/08-memory/modern-hopfield.
    """
    _checks.tensor("patterns", patterns, ndim=2, floating=True)
    W = patterns.T @ patterns  # (d, d) = sum of the N outer products
    if zero_diagonal:
        W = W - torch.diag_embed(torch.diagonal(W))
    return W


def _sign_keep_ties(field: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
    """sign(field), keeping the current state where the field is exactly zero."""
    return torch.where(field > 0, 1.0, torch.where(field < 0, -1.0, current)).to(current.dtype)


@dataclass(frozen=True)
class HopfieldConfig:
    """Hyper-parameters of :class:`ClassicalHopfield`."""

    asynchronous: bool = True  # one unit at a time (Hopfield 1982); False updates all units at once (Little 1974)
    zero_diagonal: bool = True  # W_ii = 0 as in Hopfield (1982)


@register("classical")
class ClassicalHopfield(AssociativeMemory):
    """Classical binary Hopfield network with Hebbian weights and sign dynamics (Hopfield, 1982).

    Parameters
    ----------
    patterns
        Tensor (N, d) of +-1 patterns.
    asynchronous, zero_diagonal
        See :class:`HopfieldConfig`.

    Notes
    -----
    ``update`` is one sweep over the units in the order 0, ..., d-1 (every unit set to the
    sign of its field given the current values of the others, so the energy never rises), or
    with ``asynchronous=False`` one synchronous step s <- sign(W s), which can end in a 2-cycle.
    ``retrieve`` runs to a fixed point by default. Baseline of catalog 32;
    taught in book/08-memory/modern-hopfield.
    """

    default_steps = None

    def __init__(self, patterns: torch.Tensor, *, asynchronous: bool = True, zero_diagonal: bool = True):
        super().__init__(patterns)
        for name, value in (("asynchronous", asynchronous), ("zero_diagonal", zero_diagonal)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool, got {value!r}")
        self.config = HopfieldConfig(asynchronous=asynchronous, zero_diagonal=zero_diagonal)
        self.weights = hebbian_weights(patterns, zero_diagonal=zero_diagonal)  # (d, d)

    def update(self, states: torch.Tensor) -> torch.Tensor:
        """One asynchronous sweep (or one synchronous step) of sign updates, (B, d) -> (B, d)."""
        s, single = self._states("states", states)
        if not self.config.asynchronous:
            s = _sign_keep_ties(s @ self.weights, s)  # W is symmetric: (B, d)
        else:
            s = s.clone()
            for i in range(self.dim):  # units in turn; all queries at once
                field = s @ self.weights[:, i]  # (B,)
                s[:, i] = _sign_keep_ties(field, s[:, i])
        return s[0] if single else s

    def energy(self, states: torch.Tensor) -> torch.Tensor:
        """E(s) = -1/2 s^T W s for each state, (B, d) -> (B,)."""
        s, single = self._states("states", states)
        e = -0.5 * ((s @ self.weights) * s).sum(-1)  # (B,)
        return e[0] if single else e
