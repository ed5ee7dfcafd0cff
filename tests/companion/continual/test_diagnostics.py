"""Diagnostics of plasticity against closed forms and hand-built networks."""

import numpy as np
import pytest
import torch

import fieldguide as fg
from fieldguide.continual import dead_unit_fraction, effective_rank, plasticity_metrics, weight_magnitude


def _orthonormal(n, k, seed):
    q, _ = torch.linalg.qr(torch.randn(n, k, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))
    return q  # (n, k) orthonormal columns


@pytest.mark.parametrize("k", [1, 3, 7])
def test_effective_rank_of_k_equal_singular_values_is_k(k):
    m = 2.5 * _orthonormal(20, k, 0) @ _orthonormal(9, k, 1).T  # (20, 9), k singular values 2.5
    assert effective_rank(m) == pytest.approx(k, rel=1e-9)
    assert effective_rank(100 * m) == pytest.approx(k, rel=1e-9)  # scale-free


def test_effective_rank_matches_numpy_entropy():
    m = np.random.default_rng(0).normal(size=(30, 12)) @ np.diag(np.geomspace(1, 1e-3, 12))
    s = np.linalg.svd(m, compute_uv=False)
    p = s / s.sum()
    expected = np.exp(-(p * np.log(p)).sum())
    assert effective_rank(torch.tensor(m, dtype=torch.float32)) == pytest.approx(expected, rel=1e-5)
    assert 1.0 <= expected <= 12


def test_effective_rank_of_zero_matrix_is_zero_and_bad_input_raises():
    assert effective_rank(torch.zeros(5, 4)) == 0.0
    with pytest.raises(ValueError, match="features"):
        effective_rank(torch.ones(5))
    with pytest.raises(TypeError, match="features"):
        effective_rank(np.ones((2, 2)))
    with pytest.raises(TypeError, match="floating"):
        effective_rank(torch.ones(2, 2, dtype=torch.long))


def _hand_built():
    """Layer 0: units 0, 1 see only negative weights on non-negative inputs (dead); layer 1: unit 2 dead."""
    model = fg.nn.MLP(3, [4, 3], 2)
    with torch.no_grad():
        model.layers[0].weight.copy_(torch.tensor([[-1.0, -1, -1], [-2, -1, 0], [1, 1, 1], [0.5, 0, 1]]))
        model.layers[1].weight.copy_(torch.tensor([[1.0, 1, 1, 1], [0, 0, 1, 0], [-1, -1, -1, -1]]))
    return model


def test_dead_units_of_a_hand_built_network():
    model = _hand_built()
    X = torch.rand(50, 3) + 0.01
    assert dead_unit_fraction(model, X, per_layer=True) == [0.5, pytest.approx(1 / 3)]
    assert dead_unit_fraction(model, X) == pytest.approx(3 / 7)
    # a unit that fires on a single input is alive: (0, 0, -1) wakes unit 0 only
    assert dead_unit_fraction(model, torch.cat([X, torch.tensor([[0.0, 0, -1]])]), per_layer=True)[0] == 0.25


def test_weight_magnitude_is_the_mean_absolute_weight_without_biases():
    torch.manual_seed(0)
    model = fg.nn.MLP(5, [7], 3, sigma_b=10.0)
    ws = [model.layers[0].weight.detach().numpy(), model.layers[1].weight.detach().numpy()]
    expected = np.concatenate([np.abs(w).ravel() for w in ws]).mean()
    assert weight_magnitude(model) == pytest.approx(expected, rel=1e-6)


def test_plasticity_metrics_combine_the_three_diagnostics():
    model = _hand_built()
    X = torch.rand(40, 3) + 0.01
    out = plasticity_metrics(model, X)
    assert out["dead_fraction"] == pytest.approx(3 / 7)
    assert out["weight_magnitude"] == pytest.approx(weight_magnitude(model))
    last_hidden = model.forward_with_hidden(X)[1][-1]
    assert out["effective_rank"] == pytest.approx(effective_rank(last_hidden))
    task = fg.data.random_label_digits(1, num_samples=30)[0]
    big = fg.nn.MLP(64, [16], 10)
    assert plasticity_metrics(big, task) == plasticity_metrics(big, task.X_train)


def test_diagnostics_reject_bad_models_and_inputs():
    with pytest.raises(TypeError, match="forward_with_hidden"):
        dead_unit_fraction(torch.nn.Linear(3, 2), torch.ones(4, 3))
    with pytest.raises(ValueError, match="X"):
        dead_unit_fraction(_hand_built(), torch.ones(3))
    with pytest.raises(ValueError, match="hidden layers"):
        dead_unit_fraction(fg.nn.MLP(3, [], 2), torch.ones(4, 3))
    with pytest.raises(TypeError, match="model"):
        weight_magnitude("net")
