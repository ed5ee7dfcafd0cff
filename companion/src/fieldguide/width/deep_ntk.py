"""The NTK of a depth-``L`` network on unit-sphere inputs, by iterating the one-dimensional dual map.

On the unit sphere, with the weight scale ``sigma_w = 1 / sqrt(E[phi(z)^2])`` and no bias, the
NTK of ``fg.width.ntk`` depends on a pair of inputs only through ``rho = x . x'``:

    Sigma^{l+1} = k(Sigma^l),   Theta^{l+1} = k(Sigma^l) + k'(Sigma^l) Theta^l,   Sigma^0 = Theta^0 = rho,

with ``k`` the normalised dual of :func:`fieldguide.width.sphere_dual`. Normalising by
``Theta^L(1)`` keeps the recursion finite at any depth; in log space (``rho > 0``) it also
never underflows, which the singular and 1-NN limits need (their off-diagonal entries decay
exponentially or faster in ``L``). :class:`DeepNTK` iterates the map once on a grid of gaps
``1 - rho`` and interpolates, so a depth of 10^4 costs the same for 10 pairs as for 10^7
(Radhakrishnan, Belkin and Uhler, 2023, catalog 1).

Taught in the chapter *Wide and deep networks as classifiers* (book/02-width/wide-deep-optimality).
"""

from __future__ import annotations

import math

import torch

from .. import _checks
from .deep_limits import Activation, HermiteActivation, SphereDual, sphere_dual

AnyActivation = Activation | HermiteActivation | SphereDual


def _as_dual(activation: AnyActivation) -> SphereDual:
    return activation if isinstance(activation, SphereDual) else sphere_dual(activation)


def _log(x: torch.Tensor) -> torch.Tensor:
    return x.clamp_min(0).log()  # -inf for 0 (and for rounding below 0)


def deep_ntk(
    rho: torch.Tensor, depth: int, activation: AnyActivation = "relu", *, normalize: bool = True, log: bool = False
) -> torch.Tensor:
    """NTK ``Theta^L(rho)`` of a depth-``L`` network on unit-sphere inputs, elementwise on a tensor of correlations.

    ``normalize``: return ``Theta^L(rho) / Theta^L(1)``, the kernel that decides the classifier
    (entries may underflow to 0 at large depth). ``normalize=False``: the raw kernel, equal to
    ``fg.width.ntk`` on inputs of norm ``sqrt(d) / sigma_w``. ``log``: the logarithm of the
    normalised kernel, computed in log space; needs ``rho`` in (0, 1].
    """
    _checks.tensor("rho", rho, floating=True)
    _checks.non_negative_int("depth", depth)
    if rho.numel() and rho.abs().max() > 1 + 1e-9:
        raise ValueError("rho must hold correlations in [-1, 1]")
    if log and not normalize:
        raise ValueError("log=True needs normalize=True")
    dual = _as_dual(activation)
    rho = rho.clamp(-1, 1)
    if log:
        return _deep_ntk_log(rho, depth, dual)
    if not normalize:
        s = theta = rho
        for _ in range(depth):
            k = dual.kernel(s)
            s, theta = k, k + dual.derivative(s) * theta
        return theta
    # the diagonal rho = 1 rides along as the last entry: Theta^l(1) normalises the rest
    s = theta = torch.cat([rho.reshape(-1), rho.new_ones(1)])  # (N + 1,)
    inv = rho.new_ones(())  # 1 / Theta^l(1)
    for _ in range(depth):
        k, dk = dual.kernel(s), dual.derivative(s)
        theta_next = k * inv + dk * theta  # Theta^{l+1} / Theta^l(1)
        scale = theta_next[-1]
        s, theta, inv = k, theta_next / scale, inv / scale
    return theta[:-1].reshape(rho.shape)


def _deep_ntk_log(rho: torch.Tensor, depth: int, dual: SphereDual) -> torch.Tensor:
    """log(Theta^L / Theta^L(1)) with log Sigma^l tracked too, so that neither underflows."""
    if rho.numel() and rho.min() <= 0:
        raise ValueError("log=True needs correlations rho > 0")
    log_s = torch.cat([rho.reshape(-1), rho.new_ones(1)]).log()  # (N + 1,), the last entry is rho = 1
    log_theta, log_inv = log_s, rho.new_zeros(())  # log(1 / Theta^l(1))
    for _ in range(depth):
        if dual.log_kernel is not None and dual.log_derivative is not None:
            log_k, log_dk = dual.log_kernel(log_s), dual.log_derivative(log_s)
        else:  # k(s) = s * (k(s) / s), and k(s) / s -> k'(0) once s underflows
            s = log_s.exp()
            ratio = torch.where(s > 1e-150, dual.kernel(s) / s.clamp_min(1e-300), dual.derivative(s))
            log_k, log_dk = log_s + _log(ratio), _log(dual.derivative(s))
        log_next = torch.logaddexp(log_k + log_inv, log_dk + log_theta)  # log(Theta^{l+1} / Theta^l(1))
        log_scale = log_next[-1]
        log_s, log_theta, log_inv = log_k, log_next - log_scale, log_inv - log_scale
    return log_theta[:-1].reshape(rho.shape)


class DeepNTK:
    """Kernel callable ``k(x1, x2) -> (n1, n2)``: the normalised depth-``L`` NTK of unit-sphere inputs.

    The map is iterated once on ``num_grid`` gaps ``g = 1 - rho``, log-spaced from ``min_gap`` to 2
    (to 1 for :meth:`log_kernel`), and interpolated linearly in ``log g`` (in the log of the
    kernel where it is positive). Gaps come from ``||x1 - x2||^2 / 2``, accurate for near
    neighbours; gaps below ``min_gap`` take the grid's first value, gap 0 gives the diagonal 1.
    For activations with ``a_1 = 0`` the log-kernel itself falls like ``-2^L`` and leaves float64
    (becomes ``-inf``) beyond about a thousand layers.
    """

    def __init__(self, activation: AnyActivation, depth: int, *, num_grid: int = 2000, min_gap: float = 1e-12):
        self.depth = _checks.non_negative_int("depth", depth)
        self.num_grid = _checks.positive_int("num_grid", num_grid)
        if not 0 < min_gap < 1e-2:
            raise ValueError(f"min_gap must lie in (0, 0.01), got {min_gap!r}")
        self.min_gap = float(min_gap)
        self.dual = _as_dual(activation)
        self._grids: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

    def grid(self, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu", *, log: bool = False):
        """``(log_gap, value)``: ``value = Theta^L(1 - gap) / Theta^L(1)`` on the grid (its log if ``log``)."""
        key = (torch.device(device), dtype, log)
        if key not in self._grids:
            top = math.log(1 - 1e-9) if log else math.log(2.0)
            log_gap = torch.linspace(math.log(self.min_gap), top, self.num_grid, dtype=dtype, device=device)
            self._grids[key] = (log_gap, deep_ntk(1 - log_gap.exp(), self.depth, self.dual, log=log))
        return self._grids[key]

    def _interpolate(self, gap: torch.Tensor, log: bool) -> torch.Tensor:
        log_gap, value = self.grid(gap.dtype, gap.device, log=log)
        lg = gap.clamp(min=self.min_gap, max=log_gap[-1].exp().item()).log()
        idx = torch.searchsorted(log_gap, lg.contiguous()).clamp(1, len(log_gap) - 1)
        x0, x1, v0, v1 = log_gap[idx - 1], log_gap[idx], value[idx - 1], value[idx]
        w = (lg - x0) / (x1 - x0)
        if log:  # log values; -inf where the kernel underflowed even in log space
            finite = v0.isfinite() & v1.isfinite()
            out = torch.where(finite, torch.lerp(v0, v1, w), torch.minimum(v0, v1))
            return torch.where(gap <= 0, torch.zeros_like(out), out)
        positive = (v0 > 0) & (v1 > 0)
        tiny = torch.finfo(value.dtype).tiny
        loglin = torch.exp(torch.lerp(v0.clamp_min(tiny).log(), v1.clamp_min(tiny).log(), w))
        out = torch.where(positive, loglin, torch.lerp(v0, v1, w))
        return torch.where(gap <= 0, torch.ones_like(out), out)

    def from_gap(self, gap: torch.Tensor) -> torch.Tensor:
        """The normalised kernel at gaps ``1 - rho`` in [0, 2] (any shape)."""
        _checks.tensor("gap", gap, floating=True)
        return self._interpolate(gap, log=False)

    def log_from_gap(self, gap: torch.Tensor) -> torch.Tensor:
        """The log of the normalised kernel at gaps ``1 - rho`` in [0, 1) (positive correlations)."""
        _checks.tensor("gap", gap, floating=True)
        if gap.numel() and gap.max() >= 1:
            raise ValueError("log_from_gap needs gaps < 1 (positive correlations)")
        return self._interpolate(gap, log=True)

    def __call__(self, x1: torch.Tensor, x2: torch.Tensor | None = None) -> torch.Tensor:
        return self.from_gap(sphere_gaps(x1, x2))

    def log_kernel(self, x1: torch.Tensor, x2: torch.Tensor | None = None) -> torch.Tensor:
        """The log of the kernel matrix (n1, n2); every correlation must be positive."""
        return self.log_from_gap(sphere_gaps(x1, x2))


def sphere_gaps(x1: torch.Tensor, x2: torch.Tensor | None = None) -> torch.Tensor:
    """Gaps ``1 - x1 . x2 = ||x1 - x2||^2 / 2`` (n1, n2) of unit-sphere points, accurate for near neighbours."""
    _checks.tensor("x1", x1, ndim=2, floating=True)
    x2 = x1 if x2 is None else x2
    _checks.tensor("x2", x2, ndim=2, floating=True)
    if x1.shape[1] != x2.shape[1]:
        raise ValueError(f"x1 and x2 must have the same number of features, got {x1.shape[1]} and {x2.shape[1]}")
    for name, x in (("x1", x1), ("x2", x2)):
        if x.numel() and (x.norm(dim=1) - 1).abs().max() > 1e-6:
            raise ValueError(f"{name} must hold points on the unit sphere (rows of norm 1)")
    return torch.cdist(x1, x2, compute_mode="donot_use_mm_for_euclid_dist") ** 2 / 2  # (n1, n2)
