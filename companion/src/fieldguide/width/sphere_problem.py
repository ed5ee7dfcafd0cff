"""A classification problem on the unit sphere whose Bayes error is known exactly.

Points ``u`` are uniform in the cube ``[-1, 1]^dim`` and lifted onto the unit sphere of
``R^{dim+1}`` by ``x = (u, h) / ||(u, h)||``; the data then has a density on a ``dim``-dimensional
cap, and every correlation ``x . x'`` is positive for ``h^2 > dim``. The clean label is 1
inside the ball ``||u|| < radius`` (``radius <= 1``, so the ball lies in the cube) and each
label is flipped independently with probability ``flip < 1/2``. The Bayes classifier is the
clean rule, so the Bayes error is ``flip`` and the asymptotic 1-nearest-neighbour error is
``2 flip (1 - flip)`` (Cover and Hart, 1967). Used to test the limits of catalog 1.

Taught in the chapter *Wide and deep networks as classifiers* (book/02-width/wide-deep-optimality).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .. import _checks


@dataclass(frozen=True)
class NoisyBallOnSphere:
    """Label noise on a ball-shaped class, lifted onto the sphere (see the module docstring)."""

    dim: int = 2  # dimension of the data's domain (the cube, then the cap)
    radius: float = 0.6  # radius of the class-1 ball in the cube
    flip: float = 0.2  # label-noise rate = Bayes error
    height: float = 2.0  # the constant coordinate of the lift; height^2 > dim keeps correlations positive

    def __post_init__(self):
        _checks.positive_int("dim", self.dim)
        if not 0 < self.radius <= 1:
            raise ValueError(f"radius must lie in (0, 1], got {self.radius!r}")
        if not 0 <= self.flip < 0.5:
            raise ValueError(f"flip must lie in [0, 0.5), got {self.flip!r}")
        _checks.positive_float("height", self.height)

    @property
    def bayes_error(self) -> float:
        """Error of the Bayes classifier: the flip rate."""
        return self.flip

    @property
    def clean_prior(self) -> float:
        """P(clean label = 1): the volume of the ball over that of the cube."""
        d = self.dim
        return math.pi ** (d / 2) / math.gamma(d / 2 + 1) * self.radius**d / 2**d

    @property
    def prior_one(self) -> float:
        """P(y = 1) after the flips; majority vote's error tends to min(prior_one, 1 - prior_one)."""
        p = self.clean_prior
        return p * (1 - self.flip) + (1 - p) * self.flip

    @property
    def nearest_neighbour_error(self) -> float:
        """Asymptotic 1-NN error, E[2 eta (1 - eta)] = 2 flip (1 - flip) (Cover and Hart, 1967)."""
        return 2 * self.flip * (1 - self.flip)

    def lift(self, u: torch.Tensor) -> torch.Tensor:
        """Cube points (n, dim) -> unit-sphere points (n, dim + 1)."""
        _checks.tensor("u", u, ndim=2, floating=True)
        if u.shape[1] != self.dim:
            raise ValueError(f"u must have {self.dim} columns, got {u.shape[1]}")
        x = torch.cat([u, torch.full_like(u[:, :1], self.height)], dim=1)  # (n, dim + 1)
        return x / x.norm(dim=1, keepdim=True)

    def bayes_predict(self, X: torch.Tensor) -> torch.Tensor:
        """Labels of the Bayes classifier (the clean rule) for sphere points (n, dim + 1)."""
        _checks.tensor("X", X, ndim=2, floating=True)
        if X.shape[1] != self.dim + 1:
            raise ValueError(f"X must have {self.dim + 1} columns, got {X.shape[1]}")
        u = X[:, : self.dim] / X[:, self.dim :] * self.height  # undo the lift, (n, dim)
        return (u.norm(dim=1) < self.radius).long()

    def sample(
        self, num_samples: int, *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X, y)``: sphere points (num_samples, dim + 1) and noisy int64 labels in {0, 1}."""
        _checks.positive_int("num_samples", num_samples)
        u = 2 * torch.rand(num_samples, self.dim, generator=generator, dtype=dtype) - 1  # (n, dim)
        X = self.lift(u)
        flips = (torch.rand(num_samples, generator=generator, dtype=dtype) < self.flip).long()
        return X, self.bayes_predict(X) ^ flips

    def risk(self, X: torch.Tensor, y_pred: torch.Tensor) -> float:
        """Exact error of predictions on the test inputs X, averaged over their label noise.

        A prediction that agrees with the Bayes rule errs with probability ``flip``, one that
        disagrees with probability ``1 - flip``: risk = flip + (1 - 2 flip) P(y_pred != Bayes).
        """
        _checks.tensor("y_pred", y_pred, ndim=1)
        _checks.same_length("X", X, "y_pred", y_pred)
        disagree = (y_pred.long() != self.bayes_predict(X)).double().mean().item()
        return self.flip + (1 - 2 * self.flip) * disagree
