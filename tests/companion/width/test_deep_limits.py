"""Infinitely deep limits (catalog 1) against independent references: numpy's Hermite
polynomials, quadrature with autograd, the finite-depth recursion of ``fg.width.ntk``,
closed forms, brute-force loops and Monte Carlo."""

import math

import numpy as np
import pytest
import torch

import fieldguide as fg
from fieldguide.width import (
    DeepNTK,
    HermiteActivation,
    NoisyBallOnSphere,
    classify_activation,
    consistent_activation,
    deep_ntk,
    deep_ntk_classifier,
    limit_classifier,
    limit_kernel,
    majority_vote,
    one_nearest_neighbour,
    quadrature_dual,
    singular_kernel,
    sphere_dual,
    sphere_gaps,
)

H13 = consistent_activation(2)  # (h_1 + h_3) / sqrt(2)
H2 = HermiteActivation([0.0, 0.0, 1.0])


def _sphere(n, d, seed=0, positive=True):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=gen, dtype=torch.float64)
    if positive:
        x[:, -1] = x[:, -1].abs() + 5.0  # a cap around the last axis: every correlation > 0
    return x / x.norm(dim=1, keepdim=True)


def test_hermite_activation_matches_numpy_hermite_e():
    coefs = [0.3, -0.5, 0.2, 0.7, -0.1]
    z = torch.linspace(-3, 3, 13, dtype=torch.float64)
    scaled = [a / math.sqrt(math.factorial(k)) for k, a in enumerate(coefs)]
    expected = np.polynomial.hermite_e.hermeval(z.numpy(), scaled)
    np.testing.assert_allclose(HermiteActivation(coefs)(z).numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("act", [H13, HermiteActivation([0.4, 0.6, 0.0, 0.5, 0.3]), consistent_activation(3, 2)])
def test_hermite_dual_matches_quadrature_and_autograd(act):
    rho = torch.linspace(-0.9, 0.99, 9, dtype=torch.float64)
    ones = torch.ones_like(rho)
    numeric, exact = quadrature_dual(act, num_points=40), sphere_dual(act)
    second_moment = float(numeric.kernel(ones[:1], ones[:1], ones[:1]))
    torch.testing.assert_close(exact.kernel(rho), numeric.kernel(ones, ones, rho) / second_moment)
    torch.testing.assert_close(exact.derivative(rho), numeric.derivative(ones, ones, rho) / second_moment)
    assert exact.sigma_w == pytest.approx(second_moment**-0.5)
    log_rho = rho[rho > 0].log()
    torch.testing.assert_close(exact.log_kernel(log_rho), exact.kernel(rho[rho > 0]).log())
    torch.testing.assert_close(exact.log_derivative(log_rho), exact.derivative(rho[rho > 0]).log())


@pytest.mark.parametrize("act", ["relu", "erf", H13])
@pytest.mark.parametrize("depth", [1, 4])
def test_raw_deep_ntk_is_the_finite_depth_ntk(act, depth):
    d = 3
    x = _sphere(6, d, positive=False)
    sigma_w = sphere_dual(act).sigma_w
    expected = fg.width.ntk(x * math.sqrt(d) / sigma_w, depth=depth, activation=act, sigma_w=sigma_w)
    got = deep_ntk((x @ x.T).clamp(-1, 1), depth, act, normalize=False)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("act", ["relu", "erf", H13, H2])
def test_normalized_and_log_kernels_agree_with_the_raw_kernel(act):
    rho = torch.tensor([0.05, 0.3, 0.8, 0.999, 0.9999, 1.0], dtype=torch.float64)
    raw = deep_ntk(rho, 12, act, normalize=False)
    ok = raw > 1e-250  # the raw kernel of the 1-NN activation underflows; the log kernel does not
    assert ok.sum() >= 3
    torch.testing.assert_close(deep_ntk(rho, 12, act)[ok], (raw / raw[-1])[ok])
    torch.testing.assert_close(deep_ntk(rho, 12, act, log=True)[ok], (raw / raw[-1])[ok].log())


def test_log_kernel_does_not_underflow_where_the_plain_one_does():
    rho = torch.tensor([0.5, 0.9], dtype=torch.float64)
    assert (deep_ntk(rho, 3000, H13) == 0).all()
    log_k = deep_ntk(rho, 3000, H13, log=True)
    assert log_k.isfinite().all() and log_k[1] > log_k[0]
    # beyond the transient, Theta^L = a_1^{2L} (L r + O(1)): one more layer adds log(a_1^2 / c) + log((L+1) / L)
    step = deep_ntk(rho, 3001, H13, log=True) - log_k
    torch.testing.assert_close(step, torch.full_like(step, math.log(0.25) + math.log(3001 / 3000)), atol=2e-5, rtol=0)


def test_deep_ntk_grid_interpolation_matches_exact_iteration():
    x1, x2 = _sphere(7, 4, seed=1), _sphere(9, 4, seed=2)
    for act, depth in [("relu", 200), (H13, 30), ("erf", 50)]:
        kernel = DeepNTK(act, depth)
        exact = deep_ntk(1 - sphere_gaps(x1, x2), depth, act)
        torch.testing.assert_close(kernel(x1, x2), exact, rtol=2e-3, atol=1e-300)
        torch.testing.assert_close(kernel.log_kernel(x1, x2), exact.log(), rtol=1e-3, atol=2e-3)
    assert torch.allclose(DeepNTK("relu", 50)(x1).diagonal(), torch.ones(7, dtype=torch.float64))


def test_relu_kernel_flattens_to_one_quarter_off_the_diagonal():
    rho = torch.tensor([0.0, 0.5, 0.9], dtype=torch.float64)
    shallow, deep = deep_ntk(rho, 100, "relu"), deep_ntk(rho, 5000, "relu")
    assert ((deep - 0.25).abs() < (shallow - 0.25).abs()).all()
    assert ((deep - 0.25).abs() < 0.02).all()


def test_classification_of_activations_against_closed_forms():
    relu = classify_activation("relu")
    assert relu.kind == "majority_vote" and relu.a0_sq == pytest.approx(1 / math.pi) and relu.slope == pytest.approx(1)
    erf = classify_activation("erf")
    a1_sq, slope = 2 / (3 * math.asin(2 / 3)), 2 / (math.sqrt(5) * math.asin(2 / 3))  # (E erf')^2, E erf'^2 over E erf^2
    assert erf.kind == "singular_kernel" and erf.a1_sq == pytest.approx(a1_sq) and erf.slope == pytest.approx(slope)
    assert erf.alpha == pytest.approx(2 * math.log(1 / a1_sq) / math.log(slope))
    h13 = classify_activation(H13)
    assert h13.kind == "singular_kernel" and h13.alpha == pytest.approx(2.0)
    np.testing.assert_allclose(H13.coefficients, [0, 2**-0.5, 0, 2**-0.5], atol=1e-9)
    assert classify_activation(consistent_activation(3)).alpha == pytest.approx(3.0)
    assert classify_activation(H2).kind == "one_nearest_neighbour"
    assert classify_activation("sigmoid").kind == "degenerate"  # slope < 1: the whole kernel turns constant
    assert classify_activation("identity").kind == "degenerate"
    gelu = classify_activation("gelu")  # E[gelu] != 0 and slope > 1: a fixed point inside (0, 1)
    assert gelu.kind == "majority_vote" and 0 < gelu.fixed_point < 1
    k = sphere_dual("gelu").kernel(torch.tensor(gelu.fixed_point, dtype=torch.float64))
    assert float(k) == pytest.approx(gelu.fixed_point, abs=1e-9)


@pytest.mark.parametrize("act", [H13, "erf", consistent_activation(3)])
def test_limit_kernel_has_the_predicted_singularity(act):
    gap = torch.logspace(-9, -7, 5, dtype=torch.float64)
    r = limit_kernel(1 - gap, act)
    slope = np.polyfit(np.log(np.sqrt(2 * gap.numpy())), np.log(r.numpy()), 1)[0]
    assert slope == pytest.approx(-classify_activation(act).alpha, abs=0.01)


def test_deep_ntk_over_depth_converges_to_the_limit_kernel():
    rho = torch.tensor([0.2, 0.5], dtype=torch.float64)
    depth = 400
    ratio = deep_ntk(rho, depth, H13, normalize=False) / (depth * 0.5**depth) / limit_kernel(rho, H13)
    torch.testing.assert_close(ratio, torch.ones_like(ratio), atol=0.03, rtol=0)


def _loop_predictions(X, y, Xt, rule, alpha=None):
    out = []
    for x in Xt:
        dist = [float(torch.linalg.norm(x - xi)) for xi in X]
        if rule == "mv":
            score = sum(2 * int(v) - 1 for v in y)
        elif rule == "1nn":
            score = 2 * int(y[int(np.argmin(dist))]) - 1
        elif 0.0 in dist:
            score = sum(2 * int(v) - 1 for v, dv in zip(y, dist) if dv == 0)
        else:
            score = sum((2 * int(v) - 1) * dv ** (-alpha) for v, dv in zip(y, dist))
        out.append(int(score > 0))
    return torch.tensor(out)


def test_limit_classifiers_match_brute_force_loops():
    gen = torch.Generator().manual_seed(3)
    X = torch.rand(15, 3, generator=gen, dtype=torch.float64)
    y = (torch.rand(15, generator=gen) < 0.4).long()
    Xt = torch.cat([torch.rand(10, 3, generator=gen, dtype=torch.float64), X[:2]])  # two test points on training points
    assert torch.equal(majority_vote(X, y, Xt), _loop_predictions(X, y, Xt, "mv"))
    assert torch.equal(one_nearest_neighbour(X, y, Xt), _loop_predictions(X, y, Xt, "1nn"))
    for alpha in (0.5, 2.0, 7.0):
        assert torch.equal(singular_kernel(X, y, Xt, alpha=alpha), _loop_predictions(X, y, Xt, "sk", alpha))
    assert torch.equal(limit_classifier("singular_kernel", 2.0)(X, y, Xt), singular_kernel(X, y, Xt, alpha=2.0))
    assert limit_classifier("one_nearest_neighbour") is one_nearest_neighbour
    assert torch.equal(majority_vote(X[:14], torch.arange(14) % 2, Xt[:3]), torch.zeros(3, dtype=torch.long))  # a tie


def test_deep_ntk_classifier_matches_exact_kernel_regression():
    X, Xt = _sphere(30, 3, seed=4), _sphere(12, 3, seed=5)
    y = (X[:, 0] > 0).long()
    for act, depth in (("relu", 6), (H13, 20), ("erf", 40)):
        k, kt = deep_ntk((X @ X.T).clamp(max=1), depth, act), deep_ntk((Xt @ X.T).clamp(max=1), depth, act)
        assert torch.linalg.cond(k) < 1e4  # the grid interpolates the kernel to ~1e-8: keep the system well posed
        f = kt @ torch.linalg.solve(k, 2.0 * y.double() - 1)
        clear = f.abs() > 0.02 * f.abs().max()
        assert clear.sum() >= 8
        labels = deep_ntk_classifier(X, y, Xt, DeepNTK(act, depth, num_grid=20_000))
        assert torch.equal(labels[clear], (f[clear] > 0).long())
    # far deeper than float64 allows without logs: 1-NN kernel becomes 1-NN, singular kernel its limit
    assert torch.equal(deep_ntk_classifier(X, y, Xt, DeepNTK(H2, 60)), one_nearest_neighbour(X, y, Xt))
    limit = (limit_kernel((Xt @ X.T).clamp(max=1 - 1e-15), H13) @ (2.0 * y.double() - 1) > 0).long()
    agree = (deep_ntk_classifier(X, y, Xt, DeepNTK(H13, 5_000, num_grid=200)) == limit).double().mean()
    assert agree >= 11 / 12


def test_deep_ntk_classifier_with_negative_correlations_solves_the_system():
    X, Xt = _sphere(20, 3, seed=6, positive=False), _sphere(8, 3, seed=7, positive=False)
    y = (X[:, 1] > 0).long()
    kernel = DeepNTK("erf", 5)
    k, kt = deep_ntk((X @ X.T).clamp(-1, 1), 5, "erf"), deep_ntk((Xt @ X.T).clamp(-1, 1), 5, "erf")
    expected = (kt @ torch.linalg.solve(k, 2.0 * y.double() - 1) > 0).long()
    assert torch.equal(deep_ntk_classifier(X, y, Xt, kernel), expected)


def test_noisy_ball_problem_against_monte_carlo():
    prob = NoisyBallOnSphere(dim=2, radius=0.6, flip=0.2)
    X, y = prob.sample(200_000, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(X.norm(dim=1), torch.ones(len(X), dtype=torch.float64))
    assert (X[:1000] @ X[:1000].T).min() > 0
    sd = math.sqrt(0.25 / len(y))
    assert abs((prob.bayes_predict(X) != y).double().mean().item() - prob.bayes_error) < 4 * sd
    assert abs(y.double().mean().item() - prob.prior_one) < 4 * sd
    assert prob.clean_prior == pytest.approx(math.pi * 0.36 / 4)
    # the exact risk of fixed predictions = their mean error over fresh label noise
    Xt = X[:500]
    y_pred = one_nearest_neighbour(X[500:3000], y[500:3000], Xt)
    clean = prob.bayes_predict(Xt)
    noise = torch.rand(4000, 500, generator=torch.Generator().manual_seed(1)) < prob.flip
    monte_carlo = ((clean ^ noise.long()) != y_pred).double().mean().item()
    assert prob.risk(Xt, y_pred) == pytest.approx(monte_carlo, abs=3e-3)
    # Cover and Hart: 1-NN error tends to 2 flip (1 - flip)
    one_nn = prob.risk(X[:2000], one_nearest_neighbour(X[2000:22000], y[2000:22000], X[:2000]))
    assert one_nn == pytest.approx(prob.nearest_neighbour_error, abs=0.03)


def test_error_messages():
    with pytest.raises(ValueError, match="coefficients"):
        HermiteActivation([1.0])
    with pytest.raises(ValueError, match="dim \\* \\(degree - 1\\)"):
        consistent_activation(1, 2)
    with pytest.raises(ValueError, match="rho"):
        deep_ntk(torch.tensor([1.5], dtype=torch.float64), 2)
    with pytest.raises(ValueError, match="rho > 0"):
        deep_ntk(torch.tensor([-0.5], dtype=torch.float64), 2, log=True)
    with pytest.raises(ValueError, match="depth"):
        deep_ntk(torch.tensor([0.5], dtype=torch.float64), -1)
    with pytest.raises(ValueError, match="unit sphere"):
        DeepNTK("relu", 3)(torch.ones(2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="min_gap"):
        DeepNTK("relu", 3, min_gap=0.5)
    with pytest.raises(ValueError, match="gaps < 1"):
        DeepNTK("relu", 3).log_from_gap(torch.tensor([1.5], dtype=torch.float64))
    with pytest.raises(ValueError, match="singular_kernel"):
        limit_kernel(torch.tensor([0.5], dtype=torch.float64), "relu")
    with pytest.raises(ValueError, match="rho must be < 1"):
        limit_kernel(torch.tensor([1.0], dtype=torch.float64), H13)
    X, y = torch.rand(4, 2, dtype=torch.float64), torch.tensor([0, 1, 1, 0])
    with pytest.raises(ValueError, match="alpha"):
        singular_kernel(X, y, X, alpha=0.0)
    with pytest.raises(ValueError, match="y_train"):
        one_nearest_neighbour(X, y.double(), X)
    with pytest.raises(ValueError, match="y_train"):
        majority_vote(X, torch.tensor([0, 1, 2, 0]), X)
    with pytest.raises(ValueError, match="features"):
        one_nearest_neighbour(X, y, torch.rand(3, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="kind"):
        limit_classifier("two_nearest_neighbours")
    with pytest.raises(ValueError, match="needs alpha"):
        limit_classifier("singular_kernel")
    with pytest.raises(ValueError, match="only used by"):
        limit_classifier("majority_vote", 2.0)
    with pytest.raises(TypeError, match="DeepNTK"):
        deep_ntk_classifier(X, y, X, fg.width.ntk)
    S = _sphere(6, 3)
    with pytest.raises(ValueError, match="smaller depth"):  # the 1-NN kernel leaves float64 even in log space
        deep_ntk_classifier(S[:4], y, S[4:], DeepNTK(H2, 1100, num_grid=50))
    with pytest.raises(ValueError, match="radius"):
        NoisyBallOnSphere(radius=1.5)
    with pytest.raises(ValueError, match="flip"):
        NoisyBallOnSphere(flip=0.5)
    with pytest.raises(ValueError, match="columns"):
        NoisyBallOnSphere(dim=2).bayes_predict(torch.rand(3, 2, dtype=torch.float64))
