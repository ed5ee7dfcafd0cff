"""Classical Hopfield network against brute-force references written with numpy loops."""

import numpy as np
import pytest
import torch

import fieldguide as fg
from fieldguide.memory import ClassicalHopfield, hebbian_weights


def _patterns(num, dim, seed):
    gen = torch.Generator().manual_seed(seed)
    return fg.memory.random_patterns(num, dim, generator=gen, dtype=torch.float64)


def test_hebbian_weights_equal_the_brute_force_sum_of_outer_products():
    X = _patterns(7, 11, seed=0)
    x = X.numpy()
    expected = np.zeros((11, 11))
    for mu in range(7):
        for i in range(11):
            for j in range(11):
                if i != j:
                    expected[i, j] += x[mu, i] * x[mu, j]
    np.testing.assert_array_equal(hebbian_weights(X).numpy(), expected)
    full = hebbian_weights(X, zero_diagonal=False).numpy()
    np.testing.assert_array_equal(np.diag(full), np.full(11, 7.0))  # x_i^2 = 1 summed over 7 patterns


def _brute_force_sweep(W, s):
    s = s.copy()
    for i in range(len(s)):
        field = sum(W[i, j] * s[j] for j in range(len(s)))
        if field != 0:
            s[i] = 1.0 if field > 0 else -1.0
    return s


def test_asynchronous_sweep_matches_a_unit_by_unit_loop():
    X = _patterns(12, 20, seed=1)
    mem = ClassicalHopfield(X)
    states = fg.memory.flip_bits(X[:5], 0.3, generator=torch.Generator().manual_seed(2))
    ours = mem.update(states).numpy()
    W = mem.weights.numpy()
    for b in range(5):
        np.testing.assert_array_equal(ours[b], _brute_force_sweep(W, states[b].numpy()))


def test_synchronous_step_is_sign_of_the_field():
    X = _patterns(6, 16, seed=3)
    mem = ClassicalHopfield(X, asynchronous=False)
    s = fg.memory.flip_bits(X, 0.25, generator=torch.Generator().manual_seed(4))
    field = s.numpy() @ mem.weights.numpy()
    expected = np.where(field > 0, 1.0, np.where(field < 0, -1.0, s.numpy()))
    np.testing.assert_array_equal(mem.update(s).numpy(), expected)


@pytest.mark.parametrize("asynchronous", [True, False])
def test_a_single_stored_pattern_is_retrieved_from_a_corrupted_query(asynchronous):
    x = _patterns(1, 50, seed=5)
    mem = ClassicalHopfield(x, asynchronous=asynchronous)
    query = fg.memory.flip_bits(x, 0.4, generator=torch.Generator().manual_seed(6))[0]  # 20 of 50 bits wrong
    assert not torch.equal(query, x[0])
    out = mem.retrieve(query)
    assert out.shape == (50,)
    torch.testing.assert_close(out, x[0])


def test_energy_matches_the_double_sum_and_never_rises_under_asynchronous_sweeps():
    for seed in range(10):
        X = _patterns(15, 24, seed=seed)  # load 0.6: many spurious states, long trajectories
        mem = ClassicalHopfield(X)
        s = torch.randint(0, 2, (8, 24), generator=torch.Generator().manual_seed(100 + seed)).double() * 2 - 1
        W = mem.weights.numpy()
        brute = [-0.5 * sum(W[i, j] * v[i] * v[j] for i in range(24) for j in range(24)) for v in s.numpy()]
        np.testing.assert_allclose(mem.energy(s).numpy(), brute)
        energies = [mem.energy(s)]
        for _ in range(6):
            s = mem.update(s)
            energies.append(mem.energy(s))
        steps = torch.stack(energies).diff(dim=0)
        assert (steps <= 1e-9).all()


def test_stored_patterns_are_fixed_points_at_low_load_and_not_at_high_load():
    low = ClassicalHopfield(_patterns(3, 200, seed=7))
    torch.testing.assert_close(low.update(low.patterns), low.patterns)
    high = ClassicalHopfield(_patterns(100, 50, seed=8))  # load 2: far beyond 0.14
    assert not torch.equal(high.update(high.patterns), high.patterns)


def test_bad_inputs_raise_clear_errors():
    X = _patterns(3, 8, seed=9)
    with pytest.raises(ValueError, match="patterns must have 2"):
        ClassicalHopfield(X[0])
    with pytest.raises(TypeError, match="patterns must be a floating"):
        ClassicalHopfield(X.long())
    with pytest.raises(TypeError, match="asynchronous must be a bool"):
        ClassicalHopfield(X, asynchronous="yes")
    mem = ClassicalHopfield(X)
    with pytest.raises(ValueError, match="queries must have 8 entries"):
        mem.retrieve(torch.ones(5, 7, dtype=torch.float64))
    with pytest.raises(TypeError, match="queries must have the patterns' dtype"):
        mem.retrieve(torch.ones(5, 8))
    with pytest.raises(TypeError, match="patterns must be a torch.Tensor"):
        hebbian_weights(np.ones((3, 8)))
