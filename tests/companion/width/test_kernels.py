"""Infinite-width kernels against independent references: Monte Carlo, quadrature,
wide finite networks, scikit-learn."""

import functools

import numpy as np
import pytest
import torch
from sklearn.kernel_ridge import KernelRidge

import fieldguide as fg
from fieldguide.width import KernelRegressor, get_dual, nngp, ntk, quadrature_dual

ACTIVATIONS = {"relu": torch.relu, "erf": torch.erf, "identity": lambda x: x}


def _gaussian_pairs(k11, k22, k12, n, seed=0):
    gen = torch.Generator().manual_seed(seed)
    cov = torch.tensor([[k11, k12], [k12, k22]], dtype=torch.float64)
    z = torch.randn(n, 2, generator=gen, dtype=torch.float64) @ torch.linalg.cholesky(cov).T
    return z[:, 0], z[:, 1]


@pytest.mark.parametrize("name", ["relu", "erf", "identity"])
def test_closed_form_duals_match_monte_carlo(name):
    phi = ACTIVATIONS[name]
    dual = get_dual(name)
    assert dual.exact
    u, v = _gaussian_pairs(1.3, 0.7, -0.4, 2_000_000)
    args = [torch.tensor(a, dtype=torch.float64) for a in (1.3, 0.7, -0.4)]
    mc = (phi(u) * phi(v)).mean()
    torch.testing.assert_close(dual.kernel(*args), mc, atol=3e-3, rtol=1e-2)
    du = torch.func.vmap(torch.func.grad(lambda x: phi(x)))(u)
    dv = torch.func.vmap(torch.func.grad(lambda x: phi(x)))(v)
    torch.testing.assert_close(dual.derivative(*args), (du * dv).mean(), atol=3e-3, rtol=1e-2)


def test_quadrature_matches_closed_form_for_smooth_activation():
    k11 = torch.tensor([0.5, 2.0], dtype=torch.float64)
    k22 = torch.tensor([1.0, 0.3], dtype=torch.float64)
    k12 = torch.tensor([0.2, -0.7], dtype=torch.float64)
    exact, numeric = get_dual("erf"), quadrature_dual(torch.erf, num_points=64)
    torch.testing.assert_close(numeric.kernel(k11, k22, k12), exact.kernel(k11, k22, k12), atol=1e-8, rtol=1e-6)
    torch.testing.assert_close(numeric.derivative(k11, k22, k12), exact.derivative(k11, k22, k12), atol=1e-8, rtol=1e-6)


def test_quadrature_used_for_activation_without_closed_form():
    dual = get_dual("tanh")
    assert not dual.exact
    u, v = _gaussian_pairs(0.8, 1.1, 0.5, 1_000_000, seed=1)
    args = [torch.tensor(a, dtype=torch.float64) for a in (0.8, 1.1, 0.5)]
    torch.testing.assert_close(dual.kernel(*args), (torch.tanh(u) * torch.tanh(v)).mean(), atol=2e-3, rtol=1e-2)


def test_relu_nngp_one_layer_is_arc_cosine_closed_form():
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], dtype=torch.float64)
    k = nngp(x, depth=1, activation="relu", sigma_w=np.sqrt(2.0))
    norms = x.norm(dim=1)  # sqrt(Sigma^1(x, x)) = |x| with sigma_w^2 = 2 = d
    cos = ((x @ x.T) / (norms[:, None] * norms[None, :])).clamp(-1, 1)
    theta = torch.arccos(cos)
    expected = 2 * norms[:, None] * norms[None, :] * (torch.sin(theta) + (np.pi - theta) * cos) / (2 * np.pi)
    torch.testing.assert_close(k, expected)
    # He initialization preserves the squared norm: Sigma^2(x, x) = Sigma^1(x, x)
    torch.testing.assert_close(k.diagonal(), norms**2)


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_nngp_matches_output_covariance_of_random_wide_networks(activation):
    torch.manual_seed(0)
    x = torch.randn(4, 3)
    num_nets, width = 4000, 256
    # a batch of independent 2-hidden-layer networks, drawn in one go
    W1 = torch.randn(num_nets, width, 3) * 1.2 / np.sqrt(3)
    W2 = torch.randn(num_nets, width, width) * 1.2 / np.sqrt(width)
    w3 = torch.randn(num_nets, 1, width) * 1.2 / np.sqrt(width)
    b = [torch.randn(num_nets, width, 1) * 0.3 for _ in range(2)] + [torch.randn(num_nets, 1, 1) * 0.3]
    phi = ACTIVATIONS[activation]
    h = phi(W1 @ x.T + b[0])  # (nets, width, 4)
    h = phi(W2 @ h + b[1])
    out = (w3 @ h + b[2])[:, 0, :]  # (nets, 4)
    empirical = (out.T @ out / num_nets).double()
    analytic = nngp(x.double(), depth=2, activation=activation, sigma_w=1.2, sigma_b=0.3)
    torch.testing.assert_close(empirical, analytic, atol=0.08 * analytic.abs().max().item(), rtol=0)


def _empirical_ntk_by_autograd(model, x):
    rows = []
    for i in range(x.shape[0]):
        model.zero_grad()
        model(x[i : i + 1]).sum().backward()
        rows.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    jac = torch.stack(rows)  # (n, num_params)
    return jac @ jac.T


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize(("hidden", "tolerance"), [([16384], 0.03), ([2048, 2048], 0.15)])
def test_ntk_matches_wide_network_in_ntk_parametrization(activation, hidden, tolerance):
    # finite-width fluctuations shrink like depth / sqrt(width): a few percent here
    torch.manual_seed(1)
    x = torch.randn(5, 4, dtype=torch.float64)
    model = fg.nn.MLP(4, hidden, 1, activation=activation, parametrization="ntk", sigma_w=1.3, sigma_b=0.2).double()
    empirical = _empirical_ntk_by_autograd(model, x)
    analytic = ntk(x, depth=len(hidden), activation=activation, sigma_w=1.3, sigma_b=0.2)
    rel = (empirical - analytic).norm() / analytic.norm()
    assert rel < tolerance, f"relative Frobenius error {rel:.3f}"
    # the NNGP alone is not the tangent kernel: the test can tell them apart
    other = nngp(x, depth=len(hidden), activation=activation, sigma_w=1.3, sigma_b=0.2)
    assert (empirical - other).norm() / other.norm() > 3 * tolerance


def test_ntk_diagonal_bookkeeping_matches_full_matrix():
    x1 = torch.randn(3, 5, dtype=torch.float64)
    x2 = torch.randn(4, 5, dtype=torch.float64)
    layers = fg.width.layer_kernels(x1, x2, depth=3, activation="erf", sigma_w=1.5, sigma_b=0.1)
    full = fg.width.layer_kernels(torch.cat([x1, x2]), depth=3, activation="erf", sigma_w=1.5, sigma_b=0.1)
    torch.testing.assert_close(layers[-1].ntk, full[-1].ntk[:3, 3:])
    torch.testing.assert_close(layers[-1].ntk1, full[-1].ntk.diagonal()[:3])
    torch.testing.assert_close(layers[-1].var2, full[-1].nngp.diagonal()[3:])


def test_kernel_regressor_matches_sklearn_kernel_ridge():
    torch.manual_seed(2)
    X, Xt = torch.randn(30, 3, dtype=torch.float64), torch.randn(7, 3, dtype=torch.float64)
    y = torch.sin(X.sum(1))
    k = functools.partial(ntk, depth=2)
    ours = KernelRegressor(k, ridge=0.1).fit(X, y).predict(Xt)
    ref = KernelRidge(alpha=0.1, kernel="precomputed").fit(k(X, X).numpy(), y.numpy()).predict(k(Xt, X).numpy())
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-8, atol=1e-10)


def test_kernel_regressor_interpolates_without_ridge():
    X = torch.randn(10, 2, dtype=torch.float64)
    y = torch.randn(10, 2, dtype=torch.float64)
    model = KernelRegressor(functools.partial(ntk, depth=1)).fit(X, y)
    torch.testing.assert_close(model.predict(X), y)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="x1 and x2"):
        ntk(torch.randn(3, 2), torch.randn(3, 4))
    with pytest.raises(ValueError, match="x1"):
        ntk(torch.randn(3))
    with pytest.raises(ValueError, match="depth"):
        ntk(torch.randn(3, 2), depth=-1)
    with pytest.raises(ValueError, match="sigma_w"):
        nngp(torch.randn(3, 2), sigma_w=0)
    with pytest.raises(ValueError, match="unknown activation"):
        ntk(torch.randn(3, 2), activation="nope")
    with pytest.raises(ValueError, match="num_points"):
        quadrature_dual(torch.tanh, num_points=1)
    with pytest.raises(ValueError, match="ridge"):
        KernelRegressor(ntk, ridge=-1)
    with pytest.raises(RuntimeError, match="fit"):
        KernelRegressor(ntk).predict(torch.randn(2, 2))
    with pytest.raises(ValueError, match="same number of rows"):
        KernelRegressor(ntk).fit(torch.randn(3, 2), torch.randn(4))
