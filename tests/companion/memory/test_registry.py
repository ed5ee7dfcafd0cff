"""The memory registry, the shared retrieve loop, and the pattern helpers."""

import pytest
import torch

import fieldguide as fg
from fieldguide.memory import AssociativeMemory, ClassicalHopfield, DenseAssociativeMemory, ModernHopfield


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def test_registry_names_lookup_and_creation():
    assert {"classical", "dense", "modern"} <= set(fg.memory.available())
    assert fg.memory.get("MODERN") is ModernHopfield
    assert fg.memory.get(DenseAssociativeMemory) is DenseAssociativeMemory
    X = fg.memory.random_patterns(4, 8)
    mem = fg.memory.create("dense", X, interaction="exponential")
    assert isinstance(mem, DenseAssociativeMemory) and mem.config.interaction == "exponential"
    assert isinstance(fg.memory.create(ClassicalHopfield, X), ClassicalHopfield)
    with pytest.raises(ValueError, match="unknown memory 'sparse'; available: classical"):
        fg.memory.get("sparse")
    with pytest.raises(TypeError, match="memory must be a name"):
        fg.memory.get(3)
    with pytest.raises(TypeError, match="unexpected keyword"):
        fg.memory.create("modern", X, n=3)


def test_register_warns_on_duplicates_and_rejects_non_memories():
    with pytest.raises(TypeError, match="only an AssociativeMemory subclass can be registered"):
        fg.memory.register("thing")(dict)
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        fg.memory.register("")

    class Identity(AssociativeMemory):
        def update(self, states):
            return states

        def energy(self, states):
            return torch.zeros(states.shape[:-1])

    fg.memory.register("identity-test")(Identity)
    with pytest.warns(UserWarning, match="registered twice"):
        fg.memory.register("identity-test")(Identity)
    X = torch.randn(3, 5)
    q = torch.randn(2, 5)
    torch.testing.assert_close(fg.memory.create("identity-test", X).retrieve(q), q)


def _naive_fixed_point(mem, states, max_steps=100):
    for _ in range(max_steps):
        new = mem.update(states)
        if torch.equal(new, states):
            break
        states = new
    return states


@pytest.mark.parametrize("name,kw", [("classical", {}), ("classical", {"asynchronous": False}), ("dense", {"n": 3})])
def test_retrieve_stops_each_query_at_its_fixed_point_like_a_plain_loop(name, kw):
    X = fg.memory.random_patterns(12, 24, generator=_gen(0))
    mem = fg.memory.create(name, X, **kw)
    queries = fg.memory.flip_bits(X[torch.arange(12).repeat(3)], 0.3, generator=_gen(1))
    torch.testing.assert_close(mem.retrieve(queries), _naive_fixed_point(mem, queries))
    torch.testing.assert_close(mem.retrieve(queries, steps=0), queries)
    torch.testing.assert_close(mem.retrieve(queries, steps=2), mem.update(mem.update(queries)))
    single = mem.retrieve(queries[3])
    torch.testing.assert_close(single, mem.retrieve(queries)[3])


def test_random_patterns_are_balanced_signs_and_reproducible():
    X = fg.memory.random_patterns(400, 50, generator=_gen(2))
    assert X.shape == (400, 50) and X.dtype == torch.float32
    assert set(X.unique().tolist()) == {-1.0, 1.0}
    assert abs(X.mean().item()) < 0.02  # 20,000 fair signs: standard error 0.007
    torch.testing.assert_close(X, fg.memory.random_patterns(400, 50, generator=_gen(2)))


def test_flip_bits_flips_exactly_round_fraction_d_uniform_positions():
    X = fg.memory.random_patterns(4000, 20, generator=_gen(3), dtype=torch.float64)
    Y = fg.memory.flip_bits(X, 0.26, generator=_gen(4))  # round(5.2) = 5 bits per row
    flipped = Y != X
    assert (flipped.sum(1) == 5).all()
    assert torch.equal(Y[flipped], -X[flipped])
    freq = flipped.double().mean(0)  # each position with probability 5/20
    assert (freq - 0.25).abs().max() < 0.03  # 4000 rows: standard error 0.007
    torch.testing.assert_close(fg.memory.flip_bits(X, 0.0), X)


def test_exact_recovery_and_recall_rate():
    t = torch.tensor([[1.0, -1.0, 1.0], [1.0, 1.0, -1.0], [-1.0, 1.0, 1.0]])
    r = torch.tensor([[0.3, -2.0, 0.1], [1.0, 0.0, -1.0], [1.0, 1.0, 1.0]])
    assert fg.memory.exact_recovery(r, t).tolist() == [True, False, False]  # a zero counts as wrong
    X = fg.memory.random_patterns(20, 64, generator=_gen(5))
    mem = ModernHopfield(X)
    assert fg.memory.recall_rate(mem, flip_fraction=0.1, num_queries=32, generator=_gen(6)) == 1.0
    no_steps = fg.memory.recall_rate(mem, flip_fraction=0.1, num_queries=32, steps=0, generator=_gen(6))
    assert no_steps == 0.0  # the corrupted queries themselves are never exact


def test_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="num_patterns must be a positive int"):
        fg.memory.random_patterns(0, 5)
    with pytest.raises(ValueError, match="fraction must lie in"):
        fg.memory.flip_bits(torch.ones(2, 3), 1.5)
    with pytest.raises(ValueError, match="retrieved and targets must have the same shape"):
        fg.memory.exact_recovery(torch.ones(2, 3), torch.ones(3, 3))
    with pytest.raises(TypeError, match="memory must be an AssociativeMemory"):
        fg.memory.recall_rate("modern", flip_fraction=0.1, num_queries=4)
    mem = ModernHopfield(torch.ones(2, 3))
    with pytest.raises(ValueError, match="steps must be a non-negative int"):
        mem.retrieve(torch.ones(3), steps=-1)
    with pytest.raises(ValueError, match="max_steps must be a positive int"):
        ClassicalHopfield(torch.ones(2, 3)).retrieve(torch.ones(3), max_steps=0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name,kw", [("classical", {}), ("dense", {"n": 3}), ("modern", {"beta": 1.0})])
def test_memories_follow_the_device_of_their_patterns(name, kw):
    X = fg.memory.random_patterns(40, 32, generator=_gen(7), dtype=torch.float64)
    queries = fg.memory.flip_bits(X, 0.2, generator=_gen(8))
    cpu = fg.memory.create(name, X, **kw).retrieve(queries)
    gpu = fg.memory.create(name, X.cuda(), **kw).retrieve(queries.cuda())
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu)
    rate = fg.memory.recall_rate(fg.memory.create(name, X.cuda(), **kw), flip_fraction=0.1, num_queries=16)
    assert 0.0 <= rate <= 1.0
