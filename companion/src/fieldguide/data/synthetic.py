"""Synthetic tasks whose right answer is known: a teacher-student regression and
a Gaussian mixture with a closed-form Bayes error."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .. import _checks


def teacher_student(
    num_samples: int,
    in_features: int,
    *,
    teacher: torch.nn.Module | None = None,
    noise: float = 0.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.nn.Module]:
    """Regression data ``y = teacher(x) + noise * eps`` with ``x ~ N(0, I / in_features)``.

    Inputs are scaled so that ``||x||^2`` is about 1. Without a ``teacher``, a random
    one-hidden-layer tanh network of width 32 (from ``generator``) is used.

    Returns
    -------
    X : (num_samples, in_features)
    y : (num_samples, out) where out is the teacher's output size
    teacher : the module that made the targets
    """
    _checks.positive_int("num_samples", num_samples)
    _checks.positive_int("in_features", in_features)
    _checks.non_negative_float("noise", noise)
    if teacher is None:
        from ..nn import MLP

        teacher = MLP(in_features, [32], 1, activation="tanh", init="normal", sigma_w=1.5)
        with torch.no_grad():
            for layer in teacher.layers:
                w = torch.randn(layer.weight.shape, generator=generator) * layer.sigma_w / math.sqrt(layer.in_features)
                layer.weight.copy_(w)
    elif not isinstance(teacher, torch.nn.Module):
        raise TypeError(f"teacher must be a torch.nn.Module, got {type(teacher).__name__}")
    X = torch.randn(num_samples, in_features, generator=generator) / math.sqrt(in_features)  # (n, d)
    with torch.no_grad():
        y = teacher(X)
    if y.ndim == 1:
        y = y[:, None]
    if noise > 0:
        y = y + noise * torch.randn(y.shape, generator=generator)
    return X, y, teacher


@dataclass(frozen=True)
class GaussianMixture:
    """Two classes ``N(-mu, I)`` and ``N(+mu, I)`` in ``dim`` dimensions with priors ``(1 - p1, p1)``.

    The Bayes classifier is linear, ``x . mu > t`` with ``t = log((1 - p1) / p1) / 2``, and its error
    has the closed form returned by :meth:`bayes_error`.
    """

    dim: int
    separation: float  # ||mu||: distance from each mean to the origin
    prior_one: float = 0.5  # p1, the prior of class 1

    @property
    def mu(self) -> torch.Tensor:
        mu = torch.zeros(self.dim)
        mu[0] = self.separation
        return mu

    def bayes_error(self) -> float:
        """Closed-form error of the Bayes classifier."""
        s, p1 = self.separation, self.prior_one
        threshold = math.log((1 - p1) / p1) / 2  # on the projection z = x . mu / ||mu||, scaled by 1/s
        phi = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
        t = threshold / s
        # class 1 (mean +s on z) errs when z < t; class 0 (mean -s) errs when z > t
        return p1 * phi(t - s) + (1 - p1) * (1 - phi(t + s))

    def bayes_predict(self, X: torch.Tensor) -> torch.Tensor:
        """Labels of the Bayes-optimal classifier."""
        _checks.tensor("X", X, ndim=2, floating=True)
        t = math.log((1 - self.prior_one) / self.prior_one) / 2
        return (X[:, 0] * self.separation > t).long()

    def sample(self, num_samples: int, *, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X, y)`` with ``X`` of shape (num_samples, dim) and int64 labels in {0, 1}."""
        _checks.positive_int("num_samples", num_samples)
        y = (torch.rand(num_samples, generator=generator) < self.prior_one).long()  # (n,)
        X = torch.randn(num_samples, self.dim, generator=generator)  # (n, dim)
        X[:, 0] += self.separation * (2 * y - 1).float()
        return X, y


def gaussian_mixture(dim: int = 2, separation: float = 1.0, prior_one: float = 0.5) -> GaussianMixture:
    """A :class:`GaussianMixture` with validated arguments."""
    _checks.positive_int("dim", dim)
    _checks.positive_float("separation", separation)
    p = _checks.probability("prior_one", prior_one)
    if p in (0.0, 1.0):
        raise ValueError(f"prior_one must lie strictly between 0 and 1, got {prior_one!r}")
    return GaussianMixture(dim=dim, separation=float(separation), prior_one=p)
