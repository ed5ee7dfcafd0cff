"""Dense associative memory against a brute-force energy comparison, and its n = 2 reduction."""

import math

import numpy as np
import pytest
import torch

import fieldguide as fg
from fieldguide.memory import ClassicalHopfield, DenseAssociativeMemory, interaction


def _patterns(num, dim, seed):
    gen = torch.Generator().manual_seed(seed)
    return fg.memory.random_patterns(num, dim, generator=gen, dtype=torch.float64)


def _F(kind, n):
    if kind == "polynomial":
        return lambda z: z**n
    if kind == "rectified":
        return lambda z: max(z, 0.0) ** n
    return math.exp


def _brute_energy(x, s, F):
    return -sum(F(float(np.dot(x_mu, s))) for x_mu in x)


def _brute_sweep(x, s, F):
    """Set each unit in turn to the value of lower energy (ties keep it), energies summed in Python."""
    s = s.copy()
    for i in range(len(s)):
        plus, minus = s.copy(), s.copy()
        plus[i], minus[i] = 1.0, -1.0
        e_plus, e_minus = _brute_energy(x, plus, F), _brute_energy(x, minus, F)
        if e_plus < e_minus:
            s[i] = 1.0
        elif e_minus < e_plus:
            s[i] = -1.0
    return s


@pytest.mark.parametrize("kind,n", [("polynomial", 3), ("polynomial", 4), ("rectified", 3), ("exponential", 1)])
def test_update_picks_the_lower_energy_value_unit_by_unit(kind, n):
    X = _patterns(30, 12, seed=0)
    mem = DenseAssociativeMemory(X, interaction=kind, n=n)
    states = fg.memory.flip_bits(X[:4], 0.4, generator=torch.Generator().manual_seed(1))
    ours = mem.update(states).numpy()
    for b in range(4):
        np.testing.assert_array_equal(ours[b], _brute_sweep(X.numpy(), states[b].numpy(), _F(kind, n)))
    brute = [_brute_energy(X.numpy(), s, _F(kind, n)) for s in states.numpy()]
    np.testing.assert_allclose(mem.energy(states).numpy(), brute, rtol=1e-12)


def test_quadratic_interaction_reduces_to_the_classical_network():
    X = _patterns(9, 40, seed=2)
    states = fg.memory.flip_bits(X, 0.3, generator=torch.Generator().manual_seed(3))
    dense = DenseAssociativeMemory(X, interaction="polynomial", n=2)
    classical = ClassicalHopfield(X)
    torch.testing.assert_close(dense.update(states), classical.update(states))
    # E_dense = -sum_mu (x_mu^T s)^2 = 2 E_classical - N d (the diagonal the classical W leaves out)
    torch.testing.assert_close(dense.energy(states), 2 * classical.energy(states) - 9 * 40)


@pytest.mark.parametrize("kind", ["polynomial", "rectified", "exponential"])
def test_energy_never_rises_and_retrieval_reaches_a_fixed_point(kind):
    X = _patterns(60, 20, seed=4)  # load 3: far beyond the classical network
    mem = DenseAssociativeMemory(X, interaction=kind, n=3)
    s = torch.randint(0, 2, (16, 20), generator=torch.Generator().manual_seed(5)).double() * 2 - 1
    for _ in range(4):
        new = mem.update(s)
        assert (mem.energy(new) <= mem.energy(s) + 1e-9 * mem.energy(s).abs()).all()
        s = new
    final = mem.retrieve(s)
    torch.testing.assert_close(mem.update(final), final)


def test_cubic_memory_stores_more_than_the_classical_limit():
    X = _patterns(24, 32, seed=6)  # 0.75 d patterns: five times the classical 0.14 d
    gen = torch.Generator().manual_seed(7)
    dense = fg.memory.recall_rate(DenseAssociativeMemory(X, n=3), flip_fraction=0.1, num_queries=64, generator=gen)
    gen = torch.Generator().manual_seed(7)
    classical = fg.memory.recall_rate(ClassicalHopfield(X), flip_fraction=0.1, num_queries=64, generator=gen)
    assert dense > 0.9 and classical < 0.2


def test_interaction_functions():
    z = torch.tensor([-2.0, 0.0, 1.5], dtype=torch.float64)
    torch.testing.assert_close(interaction(z, "polynomial", 3), z**3)
    torch.testing.assert_close(interaction(z, "rectified", 2), torch.tensor([0.0, 0.0, 2.25], dtype=torch.float64))
    torch.testing.assert_close(interaction(z, "exponential"), torch.exp(z))


def test_bad_inputs_raise_clear_errors():
    X = _patterns(3, 8, seed=8)
    with pytest.raises(ValueError, match="interaction must be one of"):
        DenseAssociativeMemory(X, interaction="cubic")
    with pytest.raises(ValueError, match="n must be a positive int"):
        DenseAssociativeMemory(X, n=0)
    with pytest.raises(ValueError, match="states must have 8 entries"):
        DenseAssociativeMemory(X).update(torch.ones(2, 9, dtype=torch.float64))
    with pytest.raises(ValueError, match="kind must be one of"):
        interaction(torch.ones(3), "sine")
