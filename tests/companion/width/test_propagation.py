"""Signal propagation maps against closed forms, plain iteration, finite differences and
Monte Carlo through wide random networks (catalog 189, book/02-width/signal-propagation)."""

import math

import pytest
import torch

import fieldguide as fg
from fieldguide.width import (
    chi1,
    correlation_curve,
    correlation_depth_scale,
    correlation_map,
    curve_length,
    edge_of_chaos,
    gaussian_moments,
    get_dual,
    length_distortion,
    measure_propagation,
    variance_fixed_point,
    variance_map,
)


def test_moments_match_closed_forms_and_monte_carlo():
    q = torch.tensor([0.3, 1.0, 4.0], dtype=torch.float64)
    m, d = gaussian_moments("relu", q)
    torch.testing.assert_close(m, q / 2)
    torch.testing.assert_close(d, torch.full_like(q, 0.5))
    erf = get_dual("erf")
    m, d = gaussian_moments("erf", q)
    torch.testing.assert_close(m, erf.kernel(q, q, q))
    torch.testing.assert_close(d, erf.derivative(q, q, q))
    z = torch.randn(2_000_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    m, d = gaussian_moments("tanh", 2.5)
    x = math.sqrt(2.5) * z
    assert abs(float(m) - float((torch.tanh(x) ** 2).mean())) < 2e-3
    assert abs(float(d) - float((1 - torch.tanh(x) ** 2).pow(2).mean())) < 2e-3


def test_variance_fixed_point_closed_form_and_iteration():
    # ReLU: q* = sigma_b^2 / (1 - sigma_w^2 / 2) below the edge, none above it
    q = variance_fixed_point("relu", sigma_w=torch.tensor([1.0, 1.3], dtype=torch.float64), sigma_b=0.4)
    torch.testing.assert_close(q, 0.16 / (1 - torch.tensor([1.0, 1.69], dtype=torch.float64) / 2))
    assert math.isinf(float(variance_fixed_point("relu", sigma_w=1.6, sigma_b=0.1)))
    # tanh: bisection agrees with plain iteration of the map
    q_iter = torch.tensor(1.0, dtype=torch.float64)
    for _ in range(300):
        q_iter = variance_map(q_iter, "tanh", sigma_w=2.0, sigma_b=0.5)
    torch.testing.assert_close(variance_fixed_point("tanh", sigma_w=2.0, sigma_b=0.5), q_iter)
    assert float(variance_fixed_point("tanh", sigma_w=0.8, sigma_b=0.0)) < 1e-10  # ordered, no bias: q* = 0


def test_chi1_and_edge_of_chaos():
    torch.testing.assert_close(chi1("relu", sigma_w=math.sqrt(2.0)), torch.tensor(1.0, dtype=torch.float64))
    eoc = edge_of_chaos("relu", torch.tensor([0.0, 0.2]))
    assert abs(float(eoc[0]) - math.sqrt(2.0)) < 1e-8 and math.isnan(float(eoc[1]))  # a single point (0, sqrt 2)
    sb = torch.tensor([0.0, 0.1, 0.5, 1.0])
    sw = edge_of_chaos("tanh", sb)
    assert abs(float(sw[0]) - 1.0) < 1e-6  # tanh'(0) = 1: chi_1 = sigma_w^2 at q* = 0
    assert torch.all(sw[1:] > sw[:-1])
    torch.testing.assert_close(chi1("tanh", sigma_w=sw, sigma_b=sb), torch.ones(4, dtype=torch.float64), atol=1e-6, rtol=0)


def test_chi1_is_the_slope_of_the_correlation_map_at_one():
    sw, sb = 1.7, 0.3
    q = float(variance_fixed_point("tanh", sigma_w=sw, sigma_b=sb))
    assert abs(float(correlation_map(1.0, q, "tanh", sigma_w=sw, sigma_b=sb)) - 1) < 1e-5  # two quadrature rules
    h = 1e-3
    ends = correlation_map(torch.tensor([1 - h, 1.0], dtype=torch.float64), q, "tanh", sigma_w=sw, sigma_b=sb)
    slope = float(ends[1] - ends[0]) / h
    assert abs(slope - float(chi1("tanh", sigma_w=sw, sigma_b=sb))) < 5e-3


def test_relu_eoc_correlations_converge_like_inverse_square_depth():
    c = correlation_curve(0.2, 400, "relu", sigma_w=math.sqrt(2.0), q=1.0)
    assert abs(400**2 * float(1 - c[-1]) / (9 * math.pi**2 / 2) - 1) < 0.1


def test_depth_scale():
    sw, sb = 0.8, 0.05
    expected = -1 / math.log(float(chi1("tanh", sigma_w=sw, sigma_b=sb)))
    assert abs(correlation_depth_scale("tanh", sigma_w=sw, sigma_b=sb) - expected) < 1e-9
    assert correlation_depth_scale("tanh", sigma_w=2.5, sigma_b=0.05) > 0
    with pytest.raises(ValueError, match="no finite fixed point"):
        correlation_depth_scale("relu", sigma_w=1.6, sigma_b=0.1)


def test_maps_match_wide_random_network():
    fg.setup(seed=0)
    sw, sb, depth = 1.6, 0.3, 4
    net = fg.nn.MLP(16, [3000] * depth, 1, activation="tanh", init="normal", sigma_w=sw, sigma_b=sb).double()
    x = torch.randn(2, 16, dtype=torch.float64)
    x = x / x.norm(dim=1, keepdim=True) * 4.0  # squared length per input unit: 1
    x[1] = 0.6 * x[0] + 0.8 * x[1] * x[0].norm() / x[1].norm()
    prop = measure_propagation(net, x)
    q = sw**2 * (x * x).sum(1) / 16 + sb**2
    c = (sw**2 * (x[0] @ x[1]) / 16 + sb**2) / torch.sqrt(q[0] * q[1])
    for layer in range(depth):
        torch.testing.assert_close(prop.q[layer], q, rtol=0.06, atol=0)
        assert abs(float(prop.c[layer, 0, 1]) - float(c)) < 0.03
        q_next = variance_map(q, "tanh", sigma_w=sw, sigma_b=sb)
        c = correlation_map(c, q[0], "tanh", sigma_w=sw, sigma_b=sb) * q[0] / torch.sqrt(q_next[0] * q_next[1])
        q = q_next


def test_lengths():
    t = torch.linspace(0, 2 * math.pi, 2001, dtype=torch.float64)
    circle = torch.stack([torch.cos(t), torch.sin(t)], 1)
    assert abs(float(curve_length(circle)) - 2 * math.pi) < 1e-5
    lin = torch.nn.Linear(2, 2, bias=False).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.0, -3.0], [3.0, 0.0]]))  # a rotation times 3
    assert abs(length_distortion(lin, circle) - 3.0) < 1e-9


def test_errors():
    with pytest.raises(ValueError, match="q must be non-negative"):
        variance_map(-1.0, "tanh")
    with pytest.raises(TypeError, match="activation"):
        variance_map(1.0, 3)
    with pytest.raises(ValueError, match="c must lie"):
        correlation_map(1.5, 1.0)
    with pytest.raises(ValueError, match="q must be positive"):
        correlation_map(0.5, 0.0)
    with pytest.raises(ValueError, match="sigma_w_range"):
        edge_of_chaos("tanh", 0.0, sigma_w_range=(2.0, 1.0))
    with pytest.raises(ValueError, match="sigma_b must be non-negative"):
        chi1("tanh", sigma_b=-0.1)
    with pytest.raises(TypeError, match="model"):
        measure_propagation(torch.nn.Linear(2, 2), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="x must have 2 dimensions"):
        measure_propagation(fg.nn.MLP(2, [4], 1), torch.zeros(2))
    with pytest.raises(ValueError, match="points"):
        curve_length(torch.zeros(1, 2))
