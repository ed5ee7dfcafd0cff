"""Closed-form training dynamics of kernel gradient descent on the squared loss.

With a constant tangent kernel ``Theta`` (an infinitely wide network, or the
linearization of a finite one), gradient descent on ``L = 1/2 sum_i (f(x_i) - y_i)^2``
moves the function on the training inputs ``X`` by ``f <- f - lr * Theta (f - y)``
(Jacot et al., 2018, catalog 6; Lee et al., 2019). After ``t`` steps

    f_t(X) = f_0(X) + (I - (I - lr Theta)^t) (y - f_0(X))
    f_t(x) = f_0(x) + Theta(x, X) Theta^{-1} (I - (I - lr Theta)^t) (y - f_0(X))

and gradient flow replaces ``(I - lr Theta)^t`` by ``exp(-lr Theta t)``. Along an
eigenvector of ``Theta`` with eigenvalue ``lambda`` the training residual decays by the
factor ``(1 - lr lambda)^t`` (or ``exp(-lr lambda t)``): large-eigenvalue directions are
learned first. As ``t -> infinity`` the predictions become kernel regression,
:class:`fieldguide.width.KernelRegressor` fitted to ``y - f_0(X)``, plus ``f_0``.

A mean loss ``1/(2n) sum_i ...`` is the same dynamics with ``lr / n``.

Taught in the chapter *The neural tangent kernel* (book/02-width/ntk).
"""

from __future__ import annotations

import torch

from .. import _checks


def _times(t: float | int | torch.Tensor, flow: bool) -> tuple[torch.Tensor, bool]:
    """Times as a float64 1-D tensor, and whether a scalar was given."""
    if isinstance(t, bool) or not isinstance(t, (int, float, torch.Tensor)):
        raise TypeError(f"t must be a number or a 1-D tensor of times, got {type(t).__name__}")
    scalar = not isinstance(t, torch.Tensor) or t.ndim == 0
    if not scalar and t.ndim != 1:
        raise ValueError(f"t must be a number or a 1-D tensor, got shape {tuple(t.shape)}")
    times = torch.as_tensor(t, dtype=torch.float64).reshape(-1)  # (T,)
    if not torch.all(times >= 0):
        raise ValueError("t must be non-negative")
    if not flow and not torch.all(times == times.round()):
        raise ValueError("t counts gradient-descent steps and must be whole numbers (or pass flow=True)")
    return times, scalar


def mode_decay(eigenvalues: torch.Tensor, t: float | int | torch.Tensor, *, lr: float, flow: bool = False) -> torch.Tensor:
    """Factor by which the residual along each kernel eigenvector shrinks after time ``t``.

    Least-squares training with a fixed kernel learns the top kernel principal components
    first (Jacot et al., 2018, catalog 6).

    Parameters
    ----------
    eigenvalues
        ``(n,)`` eigenvalues ``lambda_i`` of the kernel on the training set.
    t
        Number of gradient-descent steps (or a time, with ``flow=True``); a number or a
        1-D tensor of ``T`` of them.
    lr
        Learning rate of gradient descent on ``1/2 sum_i (f(x_i) - y_i)^2``.
    flow
        ``False``: gradient descent, ``(1 - lr lambda_i)^t``; ``True``: gradient flow,
        ``exp(-lr lambda_i t)``.

    Returns
    -------
    torch.Tensor
        ``(n,)`` for a scalar ``t``, else ``(T, n)``, in float64.

    Notes
    -----
    Taught in the chapter *The neural tangent kernel* (book/02-width/ntk).
    """
    _checks.tensor("eigenvalues", eigenvalues, ndim=1, floating=True)
    lr = _checks.positive_float("lr", lr)
    times, scalar = _times(t, flow)
    lam = eigenvalues.double()[None, :]  # (1, n)
    times = times.to(lam.device)[:, None]  # (T, 1)
    decay = torch.exp(-lr * lam * times) if flow else torch.pow(1 - lr * lam, times)  # (T, n)
    return decay[0] if scalar else decay


def _learned_fraction_over_lambda(lam: torch.Tensor, times: torch.Tensor, lr: float, flow: bool) -> torch.Tensor:
    """``(1 - decay) / lambda`` per time and eigenvalue, with its limit ``lr t`` at ``lambda -> 0``."""
    lam = lam[None, :]  # (1, n)
    times = times[:, None]  # (T, 1)
    x = lr * lam
    if flow:
        learned = -torch.expm1(-x * times)
    else:
        stable = x < 1
        log_base = torch.log1p(-torch.where(stable, x, torch.zeros_like(x)))
        learned = torch.where(stable, -torch.expm1(times * log_base), 1 - torch.pow(1 - x, times))  # (T, n)
    tiny = lam.abs() <= 1e-12 * lam.abs().max().clamp_min(1e-300)
    safe = torch.where(tiny, torch.ones_like(lam), lam)
    return torch.where(tiny, lr * times * torch.ones_like(lam), learned / safe)  # (T, n)


def kernel_gd(
    k_train: torch.Tensor,
    y: torch.Tensor,
    t: float | int | torch.Tensor,
    *,
    lr: float,
    f0_train: torch.Tensor | None = None,
    k_test_train: torch.Tensor | None = None,
    f0_test: torch.Tensor | None = None,
    flow: bool = False,
) -> torch.Tensor:
    """Predictions of kernel gradient descent after ``t`` steps, in closed form.

    The function-space dynamics of a network trained by full-batch gradient descent
    on ``1/2 sum_i (f(x_i) - y_i)^2`` when its tangent kernel stays fixed
    (Jacot et al., 2018, catalog 6): see the module docstring for the formulas.

    Parameters
    ----------
    k_train
        ``(n, n)`` kernel on the training inputs, ``Theta(X, X)`` (symmetric PSD).
    y
        ``(n,)`` or ``(n, out)`` targets.
    t
        Steps (or a time, with ``flow=True``): a number or a 1-D tensor of ``T`` of them.
    lr
        Learning rate (``lr * max eigenvalue < 2`` for gradient descent to converge).
    f0_train
        The function at initialization on ``X``, shaped like ``y`` (default: zero).
    k_test_train
        ``(m, n)`` kernel ``Theta(x, X)`` between test and training inputs. Without it the
        predictions are on the training inputs.
    f0_test
        The function at initialization on the test inputs, ``(m,)`` or ``(m, out)``;
        required when ``f0_train`` and ``k_test_train`` are given.
    flow
        Gradient flow (continuous time) instead of gradient descent.

    Returns
    -------
    torch.Tensor
        Predictions shaped like ``y`` (training inputs) or ``(m, ...)`` (test inputs),
        with a leading ``T`` axis when ``t`` is a tensor of times; float64.

    Notes
    -----
    Taught in the chapter *The neural tangent kernel* (book/02-width/ntk).
    """
    _checks.tensor("k_train", k_train, ndim=2, floating=True)
    n = k_train.shape[0]
    if k_train.shape != (n, n):
        raise ValueError(f"k_train must be square, got shape {tuple(k_train.shape)}")
    _checks.tensor("y", y, ndim=(1, 2), floating=True)
    _checks.same_length("k_train", k_train, "y", y)
    lr = _checks.positive_float("lr", lr)
    times, scalar = _times(t, flow)
    y = y.double()
    given_f0 = f0_train is not None
    if f0_train is None:
        f0_train = torch.zeros_like(y)
        if f0_test is not None:
            raise ValueError("f0_test was given without f0_train")
    else:
        _checks.tensor("f0_train", f0_train, floating=True)
        if f0_train.shape != y.shape:
            raise ValueError(f"f0_train must have the shape of y, {tuple(y.shape)}, got {tuple(f0_train.shape)}")
        f0_train = f0_train.double()
    if k_test_train is not None:
        _checks.tensor("k_test_train", k_test_train, ndim=2, floating=True)
        if k_test_train.shape[1] != n:
            raise ValueError(f"k_test_train must have {n} columns (one per training point), got {tuple(k_test_train.shape)}")
        m = k_test_train.shape[0]
        if f0_test is None:
            if given_f0:
                raise ValueError("f0_test is required when f0_train and k_test_train are given")
            f0_test = torch.zeros((m, *y.shape[1:]), dtype=torch.float64, device=y.device)
        else:
            _checks.tensor("f0_test", f0_test, floating=True)
            if f0_test.shape != (m, *y.shape[1:]):
                raise ValueError(f"f0_test must have shape {(m, *y.shape[1:])}, got {tuple(f0_test.shape)}")
            f0_test = f0_test.double()

    lam, vecs = torch.linalg.eigh(k_train.double())  # (n,), (n, n)
    gain = _learned_fraction_over_lambda(lam, times.to(lam.device), lr, flow)  # (T, n)
    residual = (y - f0_train).reshape(n, -1)  # (n, out)
    coeff = vecs.T @ residual  # (n, out): residual in the eigenbasis
    alpha = torch.einsum("ik,tk,ko->tio", vecs, gain, coeff)  # (T, n, out): Theta^{-1} (I - decay) r0
    if k_test_train is None:
        out = f0_train.reshape(n, -1) + torch.einsum("ij,tjo->tio", k_train.double(), alpha)  # (T, n, out)
        out = out.reshape(len(times), *y.shape)
    else:
        out = f0_test.reshape(m, -1) + torch.einsum("ij,tjo->tio", k_test_train.double(), alpha)  # (T, m, out)
        out = out.reshape(len(times), m, *y.shape[1:])
    return out[0] if scalar else out
