"""Kernel regression with any kernel ``k(x1, x2) -> (n1, n2)``.

``KernelRegressor(k, ridge).fit(X, y).predict(X_new)`` computes
``k(X_new, X) (k(X, X) + ridge I)^{-1} y``. With the NTK and ``ridge = 0`` this is
what an infinitely wide network trained to convergence by gradient descent on the
squared loss predicts, from a zero-output start (Jacot et al., 2018, catalog 6).

Taught in the chapter *The neural tangent kernel* (book/02-width/ntk).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .. import _checks

KernelFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class KernelRegressor:
    """Kernel (ridge) regression; the kernel is any callable ``k(x1, x2) -> (n1, n2)``.

    Parameters
    ----------
    kernel
        E.g. ``functools.partial(fg.width.ntk, depth=2)``.
    ridge
        Non-negative ridge added to the diagonal (0: interpolation).
    """

    def __init__(self, kernel: KernelFn, ridge: float = 0.0):
        if not callable(kernel):
            raise TypeError("kernel must be callable as kernel(x1, x2) -> Tensor")
        self.kernel = kernel
        self.ridge = _checks.non_negative_float("ridge", ridge)
        self.X_train: torch.Tensor | None = None
        self.alpha: torch.Tensor | None = None

    def fit(self, X: torch.Tensor, y: torch.Tensor) -> KernelRegressor:
        """Solve ``(k(X, X) + ridge I) alpha = y`` in float64."""
        _checks.tensor("X", X, ndim=2, floating=True)
        _checks.tensor("y", y, ndim=(1, 2), floating=True)
        _checks.same_length("X", X, "y", y)
        k = self.kernel(X, X).double()  # (n, n)
        if k.shape != (X.shape[0], X.shape[0]):
            raise ValueError(f"kernel(X, X) must have shape {(X.shape[0], X.shape[0])}, got {tuple(k.shape)}")
        k = k + self.ridge * torch.eye(k.shape[0], dtype=k.dtype, device=k.device)
        self.alpha = torch.linalg.solve(k, y.double())  # (n,) or (n, out)
        self.X_train = X
        return self

    def predict(self, X: torch.Tensor) -> torch.Tensor:
        """Predictions ``k(X, X_train) alpha`` in the dtype of ``X``."""
        if self.alpha is None:
            raise RuntimeError("call fit(X, y) before predict(X)")
        _checks.tensor("X", X, ndim=2, floating=True)
        return (self.kernel(X, self.X_train).double() @ self.alpha).to(X.dtype)
