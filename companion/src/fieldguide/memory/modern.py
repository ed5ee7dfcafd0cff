"""The modern Hopfield network with continuous states, and its update as attention.

Ramsauer et al. (2021), catalog 32. With stored patterns x_1, ..., x_N (the columns
of X), the largest pattern norm M and inverse temperature beta, the energy of a
state xi is

    E(xi) = -lse(beta, X^T xi) + 1/2 xi^T xi + beta^-1 log N + 1/2 M^2,
    lse(beta, z) = beta^-1 log sum_i exp(beta z_i),

and the update xi <- X softmax(beta X^T xi) never raises it (a concave-convex
procedure). Written for a batch of states as rows, the update is
softmax(beta Xi X^T) X: attention with queries Xi, keys and values X and scale beta.
Taught in book/08-memory/modern-hopfield.
"""

from __future__ import annotations

import math

import torch

from .. import _checks
from .registry import AssociativeMemory, register


def lse(z: torch.Tensor, beta: float, dim: int = -1) -> torch.Tensor:
    """The scaled log-sum-exp lse(beta, z) = beta^-1 log sum_i exp(beta z_i) of Ramsauer et al. (2021).

    Taught in book/08-memory/modern-hopfield.
    """
    _checks.tensor("z", z, floating=True)
    beta = _checks.positive_float("beta", beta)
    return torch.logsumexp(beta * z, dim=dim) / beta


def _check_pair(states: torch.Tensor, patterns: torch.Tensor, beta: float) -> tuple[torch.Tensor, float]:
    _checks.tensor("patterns", patterns, ndim=2, floating=True)
    _checks.tensor("states", states, ndim=(1, 2), floating=True)
    if states.shape[-1] != patterns.shape[1]:
        raise ValueError(
            f"states must have the patterns' dimension {patterns.shape[1]} in their last axis, got shape {tuple(states.shape)}"
        )
    if states.dtype != patterns.dtype:
        raise TypeError(f"states and patterns must share a dtype, got {states.dtype} and {patterns.dtype}")
    return states, _checks.positive_float("beta", beta)


def modern_update(states: torch.Tensor, patterns: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """One update xi_new = X softmax(beta X^T xi) of the modern Hopfield network (Ramsauer et al., 2021).

    Parameters
    ----------
    states
        Tensor (d,) or (B, d): the state(s) xi, one per row.
    patterns
        Tensor (N, d): the stored patterns, one per row (the paper's X^T).
    beta
        Inverse temperature; large beta retrieves single patterns, small beta averages.

    Returns
    -------
    torch.Tensor
        The new state(s), shaped like ``states``. Taught in book/08-memory/modern-hopfield.
    """
    states, beta = _check_pair(states, patterns, beta)
    p = torch.softmax(beta * states @ patterns.T, dim=-1)  # (B, N) or (N,)
    return p @ patterns  # (B, d) or (d,)


def modern_energy(states: torch.Tensor, patterns: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Energy E(xi) = -lse(beta, X^T xi) + xi^T xi / 2 + log(N) / beta + M^2 / 2 (Ramsauer et al., 2021).

    ``M`` is the largest norm of a stored pattern; the two constants make E >= 0.
    Shapes: states (d,) or (B, d), patterns (N, d) -> () or (B,).
    Taught in book/08-memory/modern-hopfield.
    """
    states, beta = _check_pair(states, patterns, beta)
    N = patterns.shape[0]
    M = patterns.norm(dim=1).max()
    return -lse(states @ patterns.T, beta) + 0.5 * (states * states).sum(-1) + math.log(N) / beta + 0.5 * M**2


def hopfield_attention(
    R: torch.Tensor,
    Y: torch.Tensor,
    W_Q: torch.Tensor,
    W_K: torch.Tensor,
    W_V: torch.Tensor,
    beta: float | None = None,
) -> torch.Tensor:
    """Hopfield update in an associative space: Z = softmax(beta R W_Q W_K^T Y^T) Y W_K W_V.

    The state patterns R (rows) are mapped to queries Q = R W_Q, the stored patterns Y (rows)
    to keys K = Y W_K, and the retrieved patterns projected by W_V; this is
    Ramsauer et al. (2021)'s reading of transformer attention softmax(Q K^T / sqrt(d_k)) V
    with V = Y W_K W_V. ``beta`` defaults to 1 / sqrt(d_k).

    Shapes: R (..., S, d_r), Y (..., N, d_y), W_Q (d_r, d_k), W_K (d_y, d_k), W_V (d_k, d_v)
    -> (..., S, d_v). Taught in book/08-memory/modern-hopfield.
    """
    for name, t in (("R", R), ("Y", Y)):
        _checks.tensor(name, t, floating=True)
        if t.ndim < 2:
            raise ValueError(f"{name} must have at least 2 dimensions (rows of patterns), got shape {tuple(t.shape)}")
    for name, t in (("W_Q", W_Q), ("W_K", W_K), ("W_V", W_V)):
        _checks.tensor(name, t, ndim=2, floating=True)
    if W_Q.shape[0] != R.shape[-1] or W_K.shape[0] != Y.shape[-1]:
        raise ValueError(
            f"W_Q must have R's width {R.shape[-1]} rows and W_K Y's width {Y.shape[-1]} rows, "
            f"got {tuple(W_Q.shape)} and {tuple(W_K.shape)}"
        )
    if W_Q.shape[1] != W_K.shape[1] or W_V.shape[0] != W_K.shape[1]:
        raise ValueError(
            "W_Q and W_K must have d_k columns and W_V d_k rows, "
            f"got {tuple(W_Q.shape)}, {tuple(W_K.shape)} and {tuple(W_V.shape)}"
        )
    d_k = W_K.shape[1]
    beta = 1.0 / math.sqrt(d_k) if beta is None else _checks.positive_float("beta", beta)
    Q, K = R @ W_Q, Y @ W_K  # (..., S, d_k), (..., N, d_k)
    return torch.softmax(beta * Q @ K.transpose(-2, -1), dim=-1) @ (K @ W_V)  # (..., S, d_v)


@register("modern")
class ModernHopfield(AssociativeMemory):
    """Modern Hopfield network with continuous states (Ramsauer et al., 2021).

    Parameters
    ----------
    patterns
        Tensor (N, d), one stored pattern per row (any real values).
    beta
        Inverse temperature (default 1).

    Notes
    -----
    ``retrieve`` runs one update by default, the paper's one-step retrieval; pass
    ``steps`` for more. Catalog 32; taught in book/08-memory/modern-hopfield.
    """

    default_steps = 1

    def __init__(self, patterns: torch.Tensor, *, beta: float = 1.0):
        super().__init__(patterns)
        self.beta = _checks.positive_float("beta", beta)

    def attention(self, states: torch.Tensor) -> torch.Tensor:
        """The weights softmax(beta X^T xi) the update puts on each stored pattern, (B, d) -> (B, N)."""
        s, single = self._states("states", states)
        p = torch.softmax(self.beta * s @ self.patterns.T, dim=-1)  # (B, N)
        return p[0] if single else p

    def update(self, states: torch.Tensor) -> torch.Tensor:
        """One update xi <- X softmax(beta X^T xi), (B, d) -> (B, d)."""
        self._states("states", states)
        return modern_update(states, self.patterns, self.beta)

    def energy(self, states: torch.Tensor) -> torch.Tensor:
        """The energy of each state, (B, d) -> (B,); see :func:`modern_energy`."""
        self._states("states", states)
        return modern_energy(states, self.patterns, self.beta)

    def __repr__(self) -> str:
        return f"ModernHopfield(num_patterns={self.num_patterns}, dim={self.dim}, beta={self.beta:g})"
