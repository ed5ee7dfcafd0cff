"""Dense associative memory: a sharper interaction function between state and patterns.

Krotov and Hopfield (2016) write the energy of a binary state s as
E(s) = -sum_mu F(x_mu^T s); F(z) = z^2 gives back the classical network, while
F(z) = z^n stores about d^(n-1) patterns. Demircigil et al. (2017) take F(z) = exp(z)
and store exponentially many. Each unit is set to whichever of +1 or -1 has the
lower energy with the other units held fixed:
s_i <- sign( sum_mu F(x_mu,i + a_mu,i) - F(-x_mu,i + a_mu,i) ),  a_mu,i = sum_{j != i} x_mu,j s_j.

The binary predecessor of catalog 32 (Ramsauer et al., 2021); taught in book/08-memory/modern-hopfield.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import _checks
from .registry import AssociativeMemory, register

INTERACTIONS = ("polynomial", "rectified", "exponential")


@dataclass(frozen=True)
class DenseConfig:
    """Hyper-parameters of :class:`DenseAssociativeMemory`."""

    interaction: str = "polynomial"  # F(z) = z^n; "rectified": max(z, 0)^n; "exponential": exp(z) (Demircigil et al.)
    n: int = 3  # degree of the (rectified) polynomial; capacity grows like d^(n-1); unused for "exponential"


def interaction(z: torch.Tensor, kind: str = "polynomial", n: int = 3) -> torch.Tensor:
    """The interaction function F of a dense associative memory, applied elementwise.

    ``"polynomial"``: z^n; ``"rectified"``: max(z, 0)^n (Krotov and Hopfield, 2016);
    ``"exponential"``: exp(z) (Demircigil et al., 2017). Taught in book/08-memory/modern-hopfield.
    """
    _checks.tensor("z", z, floating=True)
    kind = _checks.one_of("kind", kind, INTERACTIONS)
    _checks.positive_int("n", n)
    if kind == "exponential":
        return torch.exp(z)
    return (z.clamp_min(0) if kind == "rectified" else z) ** n


def _int_power(z: torch.Tensor, n: int) -> torch.Tensor:
    """z ** n for a positive int n by repeated squaring (several times faster than ``pow`` on CPU)."""
    result, base = None, z
    while n:
        if n & 1:
            result = base if result is None else result * base
        n >>= 1
        if n:
            base = base * base
    return result


@register("dense")
class DenseAssociativeMemory(AssociativeMemory):
    """Dense associative memory of Krotov and Hopfield (2016) with asynchronous sign updates.

    Parameters
    ----------
    patterns
        Tensor (N, d) of +-1 patterns.
    interaction, n
        The interaction function F, see :class:`DenseConfig`.

    Notes
    -----
    ``update`` is one sweep over the units 0, ..., d-1, each set to the value of lower energy
    given the others (ties keep the current value), so the energy never rises; ``retrieve``
    runs to a fixed point by default. Catalog 32's binary predecessor;
    taught in book/08-memory/modern-hopfield.
    """

    default_steps = None

    def __init__(self, patterns: torch.Tensor, *, interaction: str = "polynomial", n: int = 3):
        super().__init__(patterns)
        kind = _checks.one_of("interaction", interaction, INTERACTIONS)
        self.config = DenseConfig(interaction=kind, n=_checks.positive_int("n", n))

    def _score(self, a: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Sign-equivalent of sum_mu F(a_mu + x_mu) - F(a_mu - x_mu) over the last axis, (B, N) -> (B,)."""
        cfg = self.config
        if cfg.interaction == "exponential":  # compare the two sums in log space: no overflow
            return torch.logsumexp(a + x, -1) - torch.logsumexp(a - x, -1)
        up, down = a + x, a - x  # (B, N)
        if cfg.interaction == "rectified":
            up, down = up.clamp_min(0), down.clamp_min(0)
        return (_int_power(up, cfg.n) - _int_power(down, cfg.n)).sum(-1)

    def update(self, states: torch.Tensor) -> torch.Tensor:
        """One asynchronous sweep of the Krotov-Hopfield update, (B, d) -> (B, d)."""
        s, single = self._states("states", states)
        s = s.clone()
        X = self.patterns  # (N, d)
        h = s @ X.T  # (B, N): overlaps x_mu^T s, kept current as units flip
        for i in range(self.dim):  # units in turn; all queries and patterns at once
            x_i = X[:, i]  # (N,)
            a = h - s[:, i : i + 1] * x_i  # (B, N): the overlap without unit i
            score = self._score(a, x_i.expand_as(a))  # (B,)
            new = torch.where(score > 0, 1.0, torch.where(score < 0, -1.0, s[:, i])).to(s.dtype)
            h = h + (new - s[:, i])[:, None] * x_i  # (B, N)
            s[:, i] = new
        return s[0] if single else s

    def energy(self, states: torch.Tensor) -> torch.Tensor:
        """E(s) = -sum_mu F(x_mu^T s) for each state, (B, d) -> (B,)."""
        s, single = self._states("states", states)
        overlaps = s @ self.patterns.T  # (B, N)
        if self.config.interaction == "exponential":
            e = -torch.exp(torch.logsumexp(overlaps, -1))
        else:
            e = -interaction(overlaps, self.config.interaction, self.config.n).sum(-1)
        return e[0] if single else e
