"""Taxonomy of infinitely wide *and* deep networks on the sphere: normalised duals and the three limits.

For inputs on the unit sphere and an activation scaled so that every layer keeps
``Sigma(x, x) = 1`` (weight scale ``sigma_w = 1 / sqrt(E[phi(z)^2])``, no bias), the
NNGP and NTK of a depth-``L`` network depend on the inputs only through their
correlation ``rho = x . x'``, by the one-dimensional maps (Radhakrishnan, Belkin and
Uhler, 2023, catalog 1; dual activations as in Daniely et al., 2016)

    Sigma^{l+1} = k(Sigma^l),   Theta^{l+1} = k(Sigma^l) + k'(Sigma^l) Theta^l,   Sigma^0 = Theta^0 = rho,

with ``k(rho) = sum_i a_i^2 rho^i`` the normalised dual (``a_i`` the Hermite coefficients of
``phi``, ``sum_i a_i^2 = 1``) and ``k'`` its derivative, the dual of ``phi'``. As ``L``
grows, the sign of the NTK regression predictor tends to one of three classifiers, set by
``a_0^2 = k(0)``, ``a_1^2 = k'(0)`` and the slope ``c = k'(1)``:

* ``a_0 != 0`` (``E[phi(z)] != 0``, e.g. ReLU): the normalised kernel flattens to a constant
  off the diagonal: **majority vote**;
* ``a_0 = a_1 = 0``: off-diagonal entries vanish faster than any exponential: **1-nearest neighbour**;
* ``a_0 = 0, a_1 != 0``: ``Theta^L / (L a_1^{2L}) -> r(rho)``, a kernel with a singularity
  ``||x - x'||^{-alpha}``, ``alpha = 2 log(1 / a_1^2) / log(c)``: a **singular kernel** classifier,
  consistent (Bayes optimal as n grows) when ``alpha`` equals the data's dimension (Hilbert kernel).

``c < 1`` with ``a_0 != 0`` (e.g. the logistic sigmoid) makes the whole kernel, diagonal included,
collapse to one constant; no classifier survives that limit (kind ``"degenerate"``).
The recursion itself, at any finite depth, lives in :mod:`fieldguide.width.deep_ntk`.

Taught in the chapter *Wide and deep networks as classifiers* (book/02-width/wide-deep-optimality).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .. import _checks
from .duals import get_dual

Activation = str | Callable[[torch.Tensor], torch.Tensor]
KINDS = ("majority_vote", "one_nearest_neighbour", "singular_kernel", "degenerate")


class HermiteActivation(nn.Module):
    """Activation ``phi(z) = sum_k a_k h_k(z)``, ``h_k = He_k / sqrt(k!)`` the normalised Hermite polynomials.

    Its normalised dual is the polynomial ``sum_k a_k^2 rho^k / sum_k a_k^2``, so every
    quantity of the taxonomy is exact (catalog 1, book/02-width/wide-deep-optimality).
    """

    def __init__(self, coefficients: Sequence[float]):
        super().__init__()
        coefs = [float(a) for a in coefficients]
        if len(coefs) < 2 or not all(math.isfinite(a) for a in coefs) or sum(a * a for a in coefs) == 0:
            raise ValueError(f"coefficients must be >= 2 finite numbers, not all zero, got {coefficients!r}")
        self.coefficients = tuple(coefs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        he_prev, he = torch.ones_like(x), x  # He_0, He_1
        out = self.coefficients[0] * he_prev + self.coefficients[1] * he
        for k in range(1, len(self.coefficients) - 1):
            he_prev, he = he, x * he - k * he_prev  # He_{k+1} = x He_k - k He_{k-1}
            out = out + self.coefficients[k + 1] * he / math.sqrt(math.factorial(k + 1))
        return out

    def extra_repr(self) -> str:
        return "coefficients=(" + ", ".join(f"{a:.4g}" for a in self.coefficients) + ")"


def consistent_activation(dim: int, degree: int = 3) -> HermiteActivation:
    """The activation ``sqrt(t) h_1 + sqrt(1 - t) h_degree`` whose infinite-depth limit has ``alpha = dim``.

    ``alpha = dim`` means ``a_1^2 = c^{-dim/2}`` with ``c = t + degree (1 - t)``; for ``dim = 2,
    degree = 3`` the root is ``t = 1/2``. A root in ``(0, 1)`` exists when ``dim (degree - 1) > 2``.
    """
    _checks.positive_int("dim", dim)
    _checks.positive_int("degree", degree)
    if dim * (degree - 1) <= 2:
        raise ValueError(f"need dim * (degree - 1) > 2 for alpha = dim, got dim={dim}, degree={degree}")

    def gap(t: float) -> float:  # negative near 0, positive just below 1
        return math.log(t) + dim / 2 * math.log(t + degree * (1 - t))

    lo, hi = 1e-12, 1 - 1e-12
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if gap(mid) < 0 else (lo, mid)
    t = (lo + hi) / 2
    coefs = [0.0] * (degree + 1)
    coefs[1], coefs[degree] = math.sqrt(t), math.sqrt(1 - t)
    return HermiteActivation(coefs)


@dataclass(frozen=True)
class SphereDual:
    """The normalised dual of an activation, as functions of the correlation ``rho``.

    kernel(rho) = E[phi(u) phi(v)] / E[phi(z)^2] and derivative(rho) = E[phi'(u) phi'(v)] / E[phi(z)^2]
    for standard normal ``u, v`` with correlation ``rho``; ``sigma_w = 1 / sqrt(E[phi(z)^2])`` is the
    weight scale of the network these describe (``fg.width.ntk(..., sigma_w=sigma_w)``).
    ``log_kernel`` and ``log_derivative``, when given, map ``log rho`` to ``log kernel(rho)`` and
    ``log derivative(rho)`` without underflow (for the log-space recursion of ``deep_ntk``).
    """

    name: str
    kernel: Callable[[torch.Tensor], torch.Tensor]
    derivative: Callable[[torch.Tensor], torch.Tensor]
    sigma_w: float
    log_kernel: Callable[[torch.Tensor], torch.Tensor] | None = None
    log_derivative: Callable[[torch.Tensor], torch.Tensor] | None = None


def _hermite_dual(activation: HermiteActivation) -> SphereDual:
    total = sum(a * a for a in activation.coefficients)
    sq = [a * a / total for a in activation.coefficients]  # a_i^2, normalised: sum = 1
    dsq = [i * s for i, s in enumerate(sq)][1:]  # coefficients of the derivative

    def horner(coefs: list[float], rho: torch.Tensor) -> torch.Tensor:
        out = torch.full_like(rho, coefs[-1])
        for c in reversed(coefs[:-1]):
            out = out * rho + c
        return out

    def log_poly(coefs: list[float], log_rho: torch.Tensor) -> torch.Tensor:
        terms = [math.log(c) + i * log_rho for i, c in enumerate(coefs) if c > 0]  # log(c_i rho^i)
        return torch.logsumexp(torch.stack(terms), dim=0) if terms else torch.full_like(log_rho, -math.inf)

    return SphereDual(
        "hermite",
        lambda rho: horner(sq, rho),
        lambda rho: horner(dsq, rho) if dsq else torch.zeros_like(rho),
        1 / math.sqrt(total),
        lambda log_rho: log_poly(sq, log_rho),
        lambda log_rho: log_poly(dsq, log_rho),
    )


def sphere_dual(activation: Activation | HermiteActivation) -> SphereDual:
    """The :class:`SphereDual` of an activation: exact for :class:`HermiteActivation`, else via ``get_dual``."""
    if isinstance(activation, HermiteActivation):
        return _hermite_dual(activation)
    dual = get_dual(activation)
    one = torch.ones((), dtype=torch.float64)
    second_moment = float(dual.kernel(one, one, one))
    if not second_moment > 0:
        raise ValueError("activation must not vanish almost everywhere (E[phi(z)^2] = 0)")

    def kernel(rho: torch.Tensor) -> torch.Tensor:
        one = rho.new_ones(())
        return dual.kernel(one, one, rho) / second_moment

    def derivative(rho: torch.Tensor) -> torch.Tensor:
        one = rho.new_ones(())
        return dual.derivative(one, one, rho) / second_moment

    return SphereDual(dual.name, kernel, derivative, 1 / math.sqrt(second_moment))


def _as_dual(activation: Activation | HermiteActivation | SphereDual) -> SphereDual:
    return activation if isinstance(activation, SphereDual) else sphere_dual(activation)


@dataclass(frozen=True)
class DeepLimit:
    """Which classifier the infinitely deep NTK of an activation becomes, and why.

    a0_sq, a1_sq : k(0) and k'(0), the squared Hermite coefficients a_0^2 and a_1^2 (normalised)
    slope : c = k'(1) = sum_i i a_i^2, the growth of Theta^L(x, x) per layer
    fixed_point : the correlation ``rho*`` every rho in (0, 1) is driven to
    alpha : exponent of the singular kernel ||x - x'||^{-alpha} (singular_kernel only, else None)
    """

    kind: str
    a0_sq: float
    a1_sq: float
    slope: float
    fixed_point: float
    alpha: float | None


def classify_activation(activation: Activation | HermiteActivation | SphereDual, *, tol: float = 1e-9) -> DeepLimit:
    """The infinite-depth limit of an activation's NTK classifier (catalog 1): see the module docstring."""
    _checks.positive_float("tol", tol)
    dual = _as_dual(activation)
    zero, one = torch.zeros((), dtype=torch.float64), torch.ones((), dtype=torch.float64)
    a0_sq, a1_sq = max(0.0, float(dual.kernel(zero))), max(0.0, float(dual.derivative(zero)))  # squares: drop rounding
    slope = float(dual.derivative(one))
    fixed_point, alpha = 0.0, None
    if a0_sq > tol:
        kind = "majority_vote" if slope > 1 - 1e-6 else "degenerate"
        fixed_point = 1.0 if slope < 1 + 1e-6 else _smallest_fixed_point(dual)
    elif slope <= 1 + 1e-6:
        kind = "degenerate"  # a linear activation: Theta^L = (L + 1) rho, no limit classifier
    elif a1_sq <= tol:
        kind = "one_nearest_neighbour"
    else:
        kind, alpha = "singular_kernel", 2 * math.log(1 / a1_sq) / math.log(slope)
    return DeepLimit(kind, a0_sq, a1_sq, slope, fixed_point, alpha)


def _smallest_fixed_point(dual: SphereDual) -> float:
    """The smallest root of k(rho) = rho in [0, 1), by Newton's method from 0.

    ``k - rho`` is convex on [0, 1] (k has non-negative Taylor coefficients), positive at 0 and
    negative just below 1 when c = k'(1) > 1, so the Newton iterates increase monotonically to it.
    """
    rho = torch.zeros((), dtype=torch.float64)
    for _ in range(100):
        step = (dual.kernel(rho) - rho) / (dual.derivative(rho) - 1)
        rho = rho - step
        if abs(float(step)) < 1e-12:  # quadratic convergence: the next step is at rounding level
            break
    return float(rho)


def limit_kernel(
    rho: torch.Tensor, activation: Activation | HermiteActivation | SphereDual, *, tol: float = 1e-10, max_steps: int = 100_000
) -> torch.Tensor:
    """The kernel ``r(rho) = lim_l Sigma^l(rho) / a_1^{2l}`` of the singular-kernel limit.

    ``Theta^L(rho) / (L a_1^{2L}) -> r(rho)`` as ``L -> inf`` for ``rho < 1``; ``r`` blows up like
    ``||x - x'||^{-alpha}`` at ``rho -> 1``. Only for activations of kind ``"singular_kernel"``.
    """
    _checks.tensor("rho", rho, floating=True)
    dual = _as_dual(activation)
    limit = classify_activation(dual)
    if limit.kind != "singular_kernel":
        raise ValueError(f"limit_kernel needs an activation of kind 'singular_kernel', this one is {limit.kind!r}")
    if rho.numel() and rho.max() >= 1:
        raise ValueError("rho must be < 1: the limit kernel is infinite at rho = 1")
    s, log_a, steps = rho.clone(), math.log(limit.a1_sq), 0
    while rho.numel() and (steps == 0 or s.abs().max() >= tol):
        if steps == max_steps:
            raise RuntimeError(f"the iterates did not reach the linear regime in {max_steps} steps")
        s, steps = dual.kernel(s), steps + 1
    return torch.sign(s) * torch.exp(s.abs().clamp_min(torch.finfo(s.dtype).tiny).log() - steps * log_a)
