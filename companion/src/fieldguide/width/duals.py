"""Dual activations: the Gaussian expectations that drive infinite-width kernel recursions.

For a pre-activation pair ``(u, v) ~ N(0, [[k11, k12], [k12, k22]])`` the *dual* of an
activation ``phi`` is ``E[phi(u) phi(v)]`` and its *derivative dual* is
``E[phi'(u) phi'(v)]`` (Daniely et al., 2016; Jacot et al., 2018, catalog 6).
ReLU (the arc-cosine kernel of Cho and Saul, 2009), erf (Williams, 1997) and the
identity have closed forms; any other registered activation falls back to
Gauss-Hermite quadrature, with the derivative taken by autograd.

Taught in the chapter *The neural tangent kernel* (book/02-width/ntk).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .. import activations

Expectation = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Dual:
    """The two Gaussian expectations of one activation, as functions of ``(k11, k22, k12)``.

    Every argument broadcasts: ``k11`` and ``k22`` are the variances of ``u`` and ``v``,
    ``k12`` their covariance. ``exact`` tells whether a closed form is used.
    """

    name: str
    kernel: Expectation  # E[phi(u) phi(v)]
    derivative: Expectation  # E[phi'(u) phi'(v)]
    exact: bool


def _cosine(k11: torch.Tensor, k22: torch.Tensor, k12: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    norm = torch.sqrt(k11 * k22)
    cos = (k12 / norm).clamp(-1.0, 1.0)
    return norm, cos


def _relu_kernel(k11, k22, k12):
    norm, cos = _cosine(k11, k22, k12)
    theta = torch.arccos(cos)
    return norm * (torch.sin(theta) + (math.pi - theta) * cos) / (2 * math.pi)


def _relu_derivative(k11, k22, k12):
    _, cos = _cosine(k11, k22, k12)
    return (math.pi - torch.arccos(cos)) / (2 * math.pi)


def _erf_kernel(k11, k22, k12):
    denom = torch.sqrt((1 + 2 * k11) * (1 + 2 * k22))
    return (2 / math.pi) * torch.arcsin((2 * k12 / denom).clamp(-1.0, 1.0))


def _erf_derivative(k11, k22, k12):
    det = (1 + 2 * k11) * (1 + 2 * k22) - 4 * k12**2
    return (4 / math.pi) / torch.sqrt(det)


def _identity_kernel(k11, k22, k12):
    return k12 * torch.ones_like(k11) * torch.ones_like(k22)


def _identity_derivative(k11, k22, k12):
    return torch.ones_like(k12) * torch.ones_like(k11) * torch.ones_like(k22)


_CLOSED_FORMS: dict[str, tuple[Expectation, Expectation]] = {
    "relu": (_relu_kernel, _relu_derivative),
    "erf": (_erf_kernel, _erf_derivative),
    "identity": (_identity_kernel, _identity_derivative),
}


def _hermite_nodes(num_points: int, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes and weights for E[g(z)], z ~ N(0, 1) (probabilists' Hermite rule)."""
    z, w = np.polynomial.hermite_e.hermegauss(num_points)
    w = w / w.sum()
    return torch.as_tensor(z, dtype=dtype, device=device), torch.as_tensor(w, dtype=dtype, device=device)


def quadrature_dual(phi: Callable[[torch.Tensor], torch.Tensor], name: str = "custom", num_points: int = 48) -> Dual:
    """A :class:`Dual` for any elementwise ``phi`` by tensor-product Gauss-Hermite quadrature.

    ``(u, v) = (sqrt(k11) z1, sqrt(k22) (rho z1 + sqrt(1 - rho^2) z2))`` with ``rho`` the
    correlation; the expectation is a weighted sum over ``num_points^2`` nodes, so
    memory grows as ``num_points^2`` times the number of kernel entries. Accurate for
    smooth activations whose features are not much narrower than the pre-activation
    scale; for kinks (ReLU-like) prefer a closed form, and for large variances (say
    ``k11 > 25`` with tanh, whose derivative then lives in a sliver around 0) raise
    ``num_points`` or use a finer 1-D rule, as ``fieldguide.width.propagation`` does.
    """
    if not callable(phi):
        raise TypeError("phi must be callable")
    if isinstance(num_points, bool) or not isinstance(num_points, int) or num_points < 2:
        raise ValueError(f"num_points must be an int >= 2, got {num_points!r}")

    def derivative_of_phi(x: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(phi(x).sum(), x)
        return grad

    def expectation(g: Callable[[torch.Tensor], torch.Tensor]) -> Expectation:
        def fn(k11, k22, k12):
            k11, k22, k12 = torch.broadcast_tensors(k11, k22, k12)
            z, w = _hermite_nodes(num_points, k12.dtype, k12.device)
            norm, rho = _cosine(k11, k22, k12)
            s1, s2 = torch.sqrt(k11)[..., None, None], torch.sqrt(k22)[..., None, None]
            rho = rho[..., None, None]
            z1, z2 = z[:, None], z[None, :]  # (P, 1), (1, P)
            u = s1 * z1  # (..., P, 1)
            v = s2 * (rho * z1 + torch.sqrt((1 - rho**2).clamp_min(0)) * z2)  # (..., P, P)
            weights = w[:, None] * w[None, :]  # (P, P)
            return (g(u) * g(v) * weights).sum(dim=(-2, -1))

        return fn

    return Dual(name, expectation(phi), expectation(derivative_of_phi), exact=False)


def get_dual(activation: str | Callable[[torch.Tensor], torch.Tensor], *, num_points: int = 48) -> Dual:
    """The :class:`Dual` of an activation: closed form where one is known, quadrature otherwise.

    ``activation`` is a name from ``fg.activations.available()`` or a callable.
    """
    if isinstance(activation, str):
        key = activation.lower()
        if key in _CLOSED_FORMS:
            kernel, derivative = _CLOSED_FORMS[key]
            return Dual(key, kernel, derivative, exact=True)
        return quadrature_dual(activations.get(key), key, num_points)
    if callable(activation):
        return quadrature_dual(activation, getattr(activation, "__name__", "custom"), num_points)
    raise TypeError(f"activation must be a name or a callable, got {type(activation).__name__}")
