"""Closed-form kernel gradient descent against explicit iterations: gradient descent
on the linearized network in parameter space, the matrix exponential, and kernel
regression at convergence."""

import functools

import numpy as np
import pytest
import scipy.linalg
import torch

import fieldguide as fg
from fieldguide.width import KernelRegressor, kernel_gd, mode_decay, parameter_jacobian


def _linearized_problem(seed=0, width=16, num_train=6, num_test=4, out=1):
    torch.manual_seed(seed)
    model = fg.nn.MLP(3, [width], out, activation="erf", parametrization="ntk", sigma_w=1.5, sigma_b=0.2).double()
    X = torch.randn(num_train, 3, dtype=torch.float64)
    Xt = torch.randn(num_test, 3, dtype=torch.float64)
    y = torch.randn(num_train, out, dtype=torch.float64).squeeze(-1)

    def flat_jacobian(x):
        jac = parameter_jacobian(model, x)
        return torch.cat([j.flatten(2) for j in jac.values()], dim=2)  # (n, out, P)

    with torch.no_grad():
        f0, f0t = model(X).squeeze(-1), model(Xt).squeeze(-1)
    return X, Xt, y, f0, f0t, flat_jacobian(X), flat_jacobian(Xt)


def _gd_on_linear_model(J, Jt, y, f0, f0t, lr, steps):
    """Gradient descent on 1/2 sum (f_lin - y)^2 with f_lin = f0 + J dtheta, in parameter space."""
    out = J.shape[1]
    dtheta = torch.zeros(J.shape[2], dtype=torch.float64)
    f0, y = f0.reshape(-1, out), y.reshape(-1, out)
    history = []
    for _ in range(steps):
        residual = f0 + torch.einsum("iap,p->ia", J, dtheta) - y  # (n, out)
        dtheta = dtheta - lr * torch.einsum("iap,ia->p", J, residual)
        history.append(dtheta.clone())
    train = [f0 + torch.einsum("iap,p->ia", J, d) for d in history]
    test = [f0t.reshape(-1, out) + torch.einsum("iap,p->ia", Jt, d) for d in history]
    return torch.stack(train), torch.stack(test)  # (steps, n, out), (steps, m, out)


def test_matches_gradient_descent_on_linearized_network():
    X, Xt, y, f0, f0t, J, Jt = _linearized_problem()
    k, kt = J[:, 0] @ J[:, 0].T, Jt[:, 0] @ J[:, 0].T  # (6, 6), (4, 6)
    lr = 1.0 / torch.linalg.eigvalsh(k).max().item()
    train, test = _gd_on_linear_model(J, Jt, y, f0, f0t, lr, steps=40)
    steps = torch.tensor([1, 7, 40])
    pred_train = kernel_gd(k, y, steps, lr=lr, f0_train=f0)
    pred_test = kernel_gd(k, y, steps, lr=lr, f0_train=f0, k_test_train=kt, f0_test=f0t)
    assert pred_train.shape == (3, 6) and pred_test.shape == (3, 4)
    torch.testing.assert_close(pred_train, train[steps - 1, :, 0])
    torch.testing.assert_close(pred_test, test[steps - 1, :, 0])
    # a scalar number of steps gives one prediction, no time axis
    torch.testing.assert_close(kernel_gd(k, y, 40, lr=lr, f0_train=f0, k_test_train=kt, f0_test=f0t), test[-1, :, 0])


def test_multi_output_targets_are_fitted_column_by_column():
    _, _, _, f0, f0t, J, Jt = _linearized_problem(seed=3)
    k, kt = J[:, 0] @ J[:, 0].T, Jt[:, 0] @ J[:, 0].T
    Y = torch.randn(6, 2, dtype=torch.float64)
    F0, F0t = torch.stack([f0, -f0], 1), torch.stack([f0t, -f0t], 1)  # (6, 2), (4, 2)
    lr, steps = 0.5 / torch.linalg.eigvalsh(k).max().item(), torch.tensor([3, 30])
    both = kernel_gd(k, Y, steps, lr=lr, f0_train=F0, k_test_train=kt, f0_test=F0t)
    assert both.shape == (2, 4, 2)
    for c in range(2):
        one = kernel_gd(k, Y[:, c], steps, lr=lr, f0_train=F0[:, c], k_test_train=kt, f0_test=F0t[:, c])
        torch.testing.assert_close(both[..., c], one)
    _, test = _gd_on_linear_model(J, Jt, Y[:, 1], F0[:, 1], F0t[:, 1], lr, steps=30)
    torch.testing.assert_close(both[1, :, 1], test[-1, :, 0])


def test_gradient_flow_matches_matrix_exponential():
    _, _, y, f0, _, J, _ = _linearized_problem(seed=1)
    k = J[:, 0] @ J[:, 0].T
    lr, time = 0.3, 2.5
    expected = y + torch.from_numpy(scipy.linalg.expm(-lr * time * k.numpy())) @ (f0 - y)
    torch.testing.assert_close(kernel_gd(k, y, time, lr=lr, f0_train=f0, flow=True), expected)
    # many small gradient-descent steps approach the flow
    small = kernel_gd(k, y, 4000, lr=lr * time / 4000, f0_train=f0)
    torch.testing.assert_close(small, expected, atol=1e-3, rtol=0)


def test_long_training_becomes_kernel_regression_from_f0():
    torch.manual_seed(4)
    X, Xt = torch.randn(8, 2, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    y, f0, f0t = torch.randn(8, dtype=torch.float64), torch.randn(8, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
    kernel = functools.partial(fg.width.ntk, depth=2, sigma_b=0.5)
    k, kt = kernel(X), kernel(Xt, X)
    lr = 1.0 / torch.linalg.eigvalsh(k).max().item()
    expected = f0t + KernelRegressor(kernel).fit(X, y - f0).predict(Xt)
    torch.testing.assert_close(kernel_gd(k, y, 10**7, lr=lr, f0_train=f0, k_test_train=kt, f0_test=f0t), expected)
    torch.testing.assert_close(kernel_gd(k, y, 10**7, lr=lr, f0_train=f0), y)


def test_rank_deficient_kernel_leaves_null_directions_untouched():
    # a linear model with 2 parameters on 5 points: the kernel has rank 2
    torch.manual_seed(5)
    J = torch.randn(5, 1, 2, dtype=torch.float64)
    Jt = torch.randn(3, 1, 2, dtype=torch.float64)
    y, f0, f0t = torch.randn(5, dtype=torch.float64), torch.zeros(5, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    k, kt = J[:, 0] @ J[:, 0].T, Jt[:, 0] @ J[:, 0].T
    lr = 0.5 / torch.linalg.eigvalsh(k).max().item()
    train, test = _gd_on_linear_model(J, Jt, y, f0, f0t, lr, steps=30)
    torch.testing.assert_close(kernel_gd(k, y, 30, lr=lr), train[-1, :, 0])
    torch.testing.assert_close(kernel_gd(k, y, 30, lr=lr, k_test_train=kt), test[-1, :, 0])


def test_residual_decays_along_eigenvectors_by_mode_decay():
    _, _, y, f0, _, J, _ = _linearized_problem(seed=2)
    k = J[:, 0] @ J[:, 0].T
    lam, vecs = torch.linalg.eigh(k)
    lr, steps = 0.9 / lam.max().item(), torch.arange(0, 50, 7)
    residual = kernel_gd(k, y, steps, lr=lr, f0_train=f0) - y  # (T, n)
    decay = mode_decay(lam, steps, lr=lr)  # (T, n)
    assert decay.shape == (len(steps), 6)
    torch.testing.assert_close(residual @ vecs, decay * ((f0 - y) @ vecs))
    # closed forms, scalar time
    torch.testing.assert_close(mode_decay(lam, 3, lr=lr), (1 - lr * lam) ** 3)
    torch.testing.assert_close(mode_decay(lam, 3.5, lr=lr, flow=True), torch.exp(-lr * lam * 3.5))
    assert np.all(np.diff(decay[-1].numpy()[::-1]) >= 0)  # large eigenvalues decay first


def test_bad_inputs_raise_clear_errors():
    k, y = torch.eye(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    with pytest.raises(ValueError, match="square"):
        kernel_gd(torch.ones(3, 2), y, 1, lr=0.1)
    with pytest.raises(ValueError, match="same number of rows"):
        kernel_gd(k, torch.ones(4), 1, lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        kernel_gd(k, y, 1, lr=0.0)
    with pytest.raises(ValueError, match="non-negative"):
        kernel_gd(k, y, -1, lr=0.1)
    with pytest.raises(ValueError, match="whole numbers"):
        kernel_gd(k, y, 1.5, lr=0.1)
    with pytest.raises(TypeError, match="t must be"):
        kernel_gd(k, y, "10", lr=0.1)
    with pytest.raises(ValueError, match="1-D"):
        kernel_gd(k, y, torch.ones(2, 2), lr=0.1)
    with pytest.raises(ValueError, match="f0_test was given without f0_train"):
        kernel_gd(k, y, 1, lr=0.1, k_test_train=torch.ones(2, 3), f0_test=torch.ones(2))
    with pytest.raises(ValueError, match="f0_test is required"):
        kernel_gd(k, y, 1, lr=0.1, f0_train=y, k_test_train=torch.ones(2, 3))
    with pytest.raises(ValueError, match="columns"):
        kernel_gd(k, y, 1, lr=0.1, k_test_train=torch.ones(2, 4))
    with pytest.raises(ValueError, match="f0_train"):
        kernel_gd(k, y, 1, lr=0.1, f0_train=torch.ones(2))
    with pytest.raises(ValueError, match="f0_test must have shape"):
        kernel_gd(k, y, 1, lr=0.1, f0_train=y, k_test_train=torch.ones(2, 3), f0_test=torch.ones(3))
    with pytest.raises(ValueError, match="eigenvalues"):
        mode_decay(torch.ones(2, 2), 1, lr=0.1)
