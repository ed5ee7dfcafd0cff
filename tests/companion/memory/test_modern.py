"""Modern Hopfield network against PyTorch's attention, autograd and the energy written out in numpy."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import fieldguide as fg
from fieldguide.memory import ModernHopfield, hopfield_attention, lse, modern_energy, modern_update


def _gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("beta", [0.05, 0.125, 1.0, 8.0])
def test_update_equals_scaled_dot_product_attention(beta):
    Y = torch.randn(40, 16, generator=_gen(0))  # stored patterns = keys = values
    R = torch.randn(9, 16, generator=_gen(1))  # state patterns = queries
    expected = F.scaled_dot_product_attention(R[None], Y[None], Y[None], scale=beta)[0]
    torch.testing.assert_close(modern_update(R, Y, beta), expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ModernHopfield(Y, beta=beta).retrieve(R), expected, atol=1e-5, rtol=1e-5)


def test_projected_update_equals_transformer_attention_with_default_scale():
    R, Y = torch.randn(2, 7, 10, generator=_gen(2)), torch.randn(2, 30, 12, generator=_gen(3))  # (batch, rows, width)
    W_Q, W_K, W_V = (torch.randn(a, b, generator=_gen(4 + i)) for i, (a, b) in enumerate([(10, 8), (12, 8), (8, 5)]))
    Q, K = R @ W_Q, Y @ W_K
    expected = F.scaled_dot_product_attention(Q, K, K @ W_V)  # default scale 1/sqrt(d_k)
    torch.testing.assert_close(hopfield_attention(R, Y, W_Q, W_K, W_V), expected, atol=1e-5, rtol=1e-5)
    scaled = F.scaled_dot_product_attention(Q, K, K @ W_V, scale=0.7)
    torch.testing.assert_close(hopfield_attention(R, Y, W_Q, W_K, W_V, beta=0.7), scaled, atol=1e-5, rtol=1e-5)


def test_energy_matches_the_formula_written_out():
    X = torch.randn(25, 6, generator=_gen(5), dtype=torch.float64)
    xi = torch.randn(4, 6, generator=_gen(6), dtype=torch.float64)
    beta = 0.6
    x, s = X.numpy(), xi.numpy()
    M = max(np.sqrt((row**2).sum()) for row in x)
    expected = [
        -math.log(sum(math.exp(beta * float(row @ v)) for row in x)) / beta
        + 0.5 * float(v @ v)
        + math.log(25) / beta
        + 0.5 * M**2
        for v in s
    ]
    np.testing.assert_allclose(modern_energy(xi, X, beta).numpy(), expected, rtol=1e-12)
    expected_lse = [math.log(sum(math.exp(beta * float(r @ v)) for r in x)) / beta for v in s]
    np.testing.assert_allclose(lse(xi @ X.T, beta).numpy(), expected_lse)


def test_update_is_xi_minus_the_energy_gradient():
    X = torch.randn(12, 5, generator=_gen(7), dtype=torch.float64)
    xi = torch.randn(3, 5, generator=_gen(8), dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(modern_energy(xi, X, 2.0).sum(), xi)
    torch.testing.assert_close(modern_update(xi.detach(), X, 2.0), xi.detach() - grad)


@pytest.mark.parametrize("seed", range(8))
def test_energy_is_non_negative_and_never_rises_under_the_update(seed):
    gen = _gen(seed)
    d, N = int(torch.randint(2, 20, (1,), generator=gen)), int(torch.randint(1, 60, (1,), generator=gen))
    beta = float(10 ** (4 * torch.rand(1, generator=gen) - 2))  # 0.01 ... 100
    X = torch.randn(N, d, generator=gen, dtype=torch.float64) * 3
    xi = torch.randn(16, d, generator=gen, dtype=torch.float64) * 3
    mem = ModernHopfield(X, beta=beta)
    energies = [mem.energy(xi)]
    for _ in range(5):
        xi = mem.update(xi)
        energies.append(mem.energy(xi))
    E = torch.stack(energies)  # (steps + 1, B)
    assert (E >= -1e-9).all()
    assert (E.diff(dim=0) <= 1e-9 * (1 + E[:-1].abs())).all()


def test_one_step_retrieval_beyond_the_classical_limit_and_the_beta_extremes():
    X = fg.memory.random_patterns(1000, 64, generator=_gen(9))  # 15.6 d patterns
    query = fg.memory.flip_bits(X[:50], 0.1, generator=_gen(10))
    out = ModernHopfield(X, beta=1.0).retrieve(query)  # one update
    torch.testing.assert_close(out, X[:50], atol=1e-4, rtol=0)
    tiny = ModernHopfield(X, beta=1e-7).retrieve(query)  # beta -> 0: the global average
    torch.testing.assert_close(tiny, X.mean(0).expand_as(tiny), atol=1e-4, rtol=0)
    p = ModernHopfield(X, beta=1.0).attention(query[0])
    assert p.shape == (1000,) and abs(float(p.sum()) - 1) < 1e-5


def test_bad_inputs_raise_clear_errors():
    X = torch.randn(5, 4)
    with pytest.raises(ValueError, match="beta must be a positive number"):
        ModernHopfield(X, beta=0.0)
    with pytest.raises(ValueError, match="beta must be a positive number"):
        modern_update(torch.randn(4), X, beta=-1.0)
    with pytest.raises(ValueError, match="states must have the patterns' dimension 4"):
        modern_energy(torch.randn(2, 3), X)
    with pytest.raises(TypeError, match="states and patterns must share a dtype"):
        modern_update(torch.randn(2, 4, dtype=torch.float64), X)
    with pytest.raises(ValueError, match="W_Q must have R's width"):
        hopfield_attention(torch.randn(3, 4), X, torch.randn(5, 2), torch.randn(4, 2), torch.randn(2, 2))
    with pytest.raises(ValueError, match="R must have at least 2 dimensions"):
        hopfield_attention(torch.randn(4), X, torch.randn(4, 2), torch.randn(4, 2), torch.randn(2, 2))
    with pytest.raises(ValueError, match="patterns must be finite"):
        ModernHopfield(torch.tensor([[1.0, float("nan")]]))
