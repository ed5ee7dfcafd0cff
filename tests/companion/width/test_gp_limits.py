"""Scale mixtures and pseudo-i.i.d. networks against independent references: scipy, brute-force
Gaussian conditioning, Monte Carlo, fg.nn.MLP and the NNGP recursion."""

import math

import numpy as np
import pytest
import scipy.stats as st
import torch

import fieldguide as fg
from fieldguide.width import (
    conditional_kernel,
    nngp,
    random_network_features,
    random_weights,
    sample_inverse_gamma,
    scale_mixture_outputs,
    student_t_logpdf,
    student_t_predict,
)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_inverse_gamma_sampler_matches_scipy():
    for a, b in [(5.0, 5.0), (0.7, 2.0)]:
        s = sample_inverse_gamma(a, b, (40_000,), generator=_gen(1)).numpy()
        assert st.kstest(s, st.invgamma(a, scale=b).cdf).statistic < 0.012


def test_student_t_logpdf_matches_scipy():
    g = _gen(2)
    m = torch.randn(4, 4, generator=g, dtype=torch.float64)
    scale = m @ m.T + 0.5 * torch.eye(4, dtype=torch.float64)
    y = torch.randn(3, 4, generator=g, dtype=torch.float64)
    expected = st.multivariate_t(loc=np.zeros(4), shape=scale.numpy(), df=7.0).logpdf(y.numpy())
    np.testing.assert_allclose(student_t_logpdf(y, scale, 7.0).numpy(), expected, rtol=1e-10)


def test_student_t_predict_by_brute_force_mixture():
    """Integrate the GP posterior over the InvGamma(a + n/2, b + y'K^-1 y / 2) scale posterior numerically."""
    g = _gen(3)
    x = torch.randn(6, 2, generator=g, dtype=torch.float64)
    xs = torch.randn(3, 2, generator=g, dtype=torch.float64)
    y = torch.randn(6, generator=g, dtype=torch.float64)
    k, ks, kss = nngp(x), nngp(xs, x), nngp(xs)
    a, b, noise = 2.5, 1.5, 0.2
    mean, scale, df = student_t_predict(k, y, ks, kss.diagonal(), a, b, noise=noise)
    # Gaussian conditioning on the joint (y, f*) with covariance sigma^2 [[K + noise I, ks^T], [ks, kss]]
    kt = k + noise * torch.eye(6, dtype=k.dtype)
    gp_mean = ks @ torch.linalg.inv(kt) @ y
    gp_var = (kss - ks @ torch.linalg.inv(kt) @ ks.T).diagonal()
    torch.testing.assert_close(mean, gp_mean)
    assert df == 2 * a + 6
    # posterior over sigma^2, by quadrature on a grid: mixture variance = E[sigma^2 | y] gp_var
    grid = np.linspace(1e-3, 40, 400_001)
    log_post = st.invgamma(a, scale=b).logpdf(grid) - 3 * np.log(grid) - float(y @ torch.linalg.solve(kt, y)) / (2 * grid)
    w = np.exp(log_post - log_post.max())
    e_s2 = (w * grid).sum() / w.sum()
    t_var = scale.numpy() ** 2 * df / (df - 2)  # variance of the predictive t
    np.testing.assert_allclose(t_var, e_s2 * gp_var.numpy(), rtol=1e-4)


def test_weight_ensembles_have_the_iid_second_moments():
    for ensemble, extra in [("iid", {}), ("sparse", dict(density=0.3)), ("lowrank", dict(rank=16))]:
        w = random_weights(400, 64, 64, ensemble=ensemble, sigma_w=1.5, generator=_gen(4), **extra)
        flat = w.reshape(400, -1)  # (nets, entries)
        torch.testing.assert_close(flat.var(), torch.tensor(1.5**2 / 64), rtol=0.03, atol=0)
        # entries of one matrix are uncorrelated: covariance of two entries in the same row and column
        for i, j in [((0, 0), (0, 1)), ((0, 0), (1, 0))]:
            corr = np.corrcoef(w[:, i[0], i[1]].numpy(), w[:, j[0], j[1]].numpy())[0, 1]
            assert abs(corr) < 0.15
    sparse = random_weights(10, 200, 200, ensemble="sparse", density=0.25, generator=_gen(5))
    assert abs((sparse != 0).float().mean().item() - 0.25) < 0.01
    low = random_weights(3, 50, 40, ensemble="lowrank", rank=3, generator=_gen(6))
    assert torch.linalg.matrix_rank(low).tolist() == [3, 3, 3]


def test_features_match_fg_nn_mlp_with_the_same_weights():
    x = torch.randn(5, 3, dtype=torch.float64)
    g = _gen(7)
    feats = random_network_features(x, 2, 16, depth=2, activation="tanh", sigma_w=1.3, sigma_b=0.4, generator=g)
    # replay the same draws into fg.nn.MLP modules (NTK parametrization: W, b standard normal)
    g = _gen(7)
    w1 = torch.randn(2, 16, 3, generator=g, dtype=torch.float64) * 1.3 / math.sqrt(3)
    b1 = torch.randn(2, 16, 1, generator=g, dtype=torch.float64) * 0.4
    w2 = torch.randn(2, 16, 16, generator=g, dtype=torch.float64) * 1.3 / math.sqrt(16)
    b2 = torch.randn(2, 16, 1, generator=g, dtype=torch.float64) * 0.4
    for net in range(2):
        mlp = fg.nn.MLP(3, [16, 16], 1, activation="tanh", parametrization="ntk", sigma_w=1.3, sigma_b=0.4).double()
        with torch.no_grad():
            mlp.layers[0].weight.copy_(w1[net] * math.sqrt(3) / 1.3)
            mlp.layers[0].bias.copy_(b1[net, :, 0] / 0.4)
            mlp.layers[1].weight.copy_(w2[net] * math.sqrt(16) / 1.3)
            mlp.layers[1].bias.copy_(b2[net, :, 0] / 0.4)
            hidden = mlp.forward_with_hidden(x)[1][-1]  # (5, 16)
        torch.testing.assert_close(feats[net].T, hidden)


@pytest.mark.parametrize("ensemble", ["iid", "sparse", "lowrank"])
def test_conditional_kernel_converges_to_nngp(ensemble):
    x = torch.randn(4, 2, generator=_gen(8), dtype=torch.float64)
    hyper = dict(depth=2, activation="relu", sigma_w=math.sqrt(2), sigma_b=0.2)
    feats = random_network_features(x, 20, 1024, ensemble=ensemble, generator=_gen(9), **hyper)
    k_hat = conditional_kernel(feats, sigma_w=math.sqrt(2), sigma_b=0.2).mean(0)
    k = nngp(x, **hyper)
    assert ((k_hat - k).norm() / k.norm()).item() < 0.05


def test_conditional_kernel_is_the_readout_monte_carlo_covariance():
    feats = torch.randn(1, 8, 3, generator=_gen(10), dtype=torch.float64).abs()
    v = torch.randn(200_000, 8, generator=_gen(11), dtype=torch.float64) * (1.2 / math.sqrt(8))
    c = torch.randn(200_000, 1, generator=_gen(12), dtype=torch.float64) * 0.3
    out = v @ feats[0] + c  # (draws, 3)
    expected = out.T @ out / out.shape[0]
    torch.testing.assert_close(conditional_kernel(feats, sigma_w=1.2, sigma_b=0.3)[0], expected, rtol=0.02, atol=0.02)


def test_scale_mixture_outputs_are_student_t():
    x = torch.tensor([[0.6, -0.8]], dtype=torch.float64)
    feats = random_network_features(x, 20_000, 256, depth=1, sigma_w=math.sqrt(2), generator=_gen(13))
    out = scale_mixture_outputs(feats, 3.0, 6.0, sigma_w=math.sqrt(2), generator=_gen(14))[:, 0].numpy()
    k = nngp(x, depth=1, sigma_w=math.sqrt(2))[0, 0].item()
    t = st.t(6.0, scale=math.sqrt(6.0 / 3.0 * k))
    assert st.kstest(out, t.cdf).statistic < 0.015
    assert st.kstest(out, st.norm(scale=out.std()).cdf).statistic > 0.02


def test_bad_input_raises():
    x = torch.randn(3, 2)
    with pytest.raises(ValueError, match="ensemble"):
        random_weights(2, 3, 3, ensemble="dense")
    with pytest.raises(ValueError, match="density"):
        random_weights(2, 3, 3, ensemble="sparse", density=1.5)
    with pytest.raises(ValueError, match="num_nets"):
        random_network_features(x, 0, 4)
    with pytest.raises(ValueError, match="x"):
        random_network_features(torch.randn(3), 2, 4)
    with pytest.raises(ValueError, match="features"):
        conditional_kernel(torch.randn(3, 4))
    with pytest.raises(ValueError, match="a"):
        sample_inverse_gamma(-1.0, 1.0, (3,))
    with pytest.raises(ValueError, match="shapes"):
        student_t_predict(torch.eye(3), torch.zeros(3), torch.zeros(2, 4), torch.ones(2), 1.0, 1.0)
    with pytest.raises(TypeError, match="y"):
        student_t_logpdf(torch.zeros(3, dtype=torch.long), torch.eye(3), 2.0)
