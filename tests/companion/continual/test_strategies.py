"""Baseline strategies and the registry: penalties by brute force and autograd, shrink-and-perturb by Monte Carlo."""

import copy
import warnings

import pytest
import torch

import fieldguide as fg
from fieldguide.continual import L2, Backprop, ContinualBackprop, ShrinkAndPerturb, Strategy
from fieldguide.continual import strategies as registry


def test_registry_names_lookup_and_creation():
    assert {"backprop", "l2", "shrink_and_perturb", "continual_backprop"} <= set(fg.continual.available())
    assert fg.continual.get("L2") is L2
    assert fg.continual.get(ContinualBackprop) is ContinualBackprop
    s = fg.continual.create("shrink_and_perturb", shrink=0.01, noise_std=0.0)
    assert isinstance(s, ShrinkAndPerturb) and s.shrink == 0.01
    ready = Backprop()
    assert fg.continual.create(ready) is ready
    assert ContinualBackprop.name == "continual_backprop"


def test_registry_errors_and_duplicate_warning():
    with pytest.raises(ValueError, match="unknown strategy"):
        fg.continual.get("ewc_but_misspelled")
    with pytest.raises(TypeError, match="strategy"):
        fg.continual.get(3)
    with pytest.raises(ValueError, match="kwargs"):
        fg.continual.create(Backprop(), lr=1)
    with pytest.raises(ValueError, match="name"):
        fg.continual.register("")
    with pytest.raises(TypeError, match="Strategy"):
        fg.continual.register("not_a_strategy")(int)

    class Mine(Strategy):
        pass

    try:
        fg.continual.register("test_only_strategy")(Mine)
        with pytest.warns(UserWarning, match="twice"):
            fg.continual.register("test_only_strategy")(Mine)
        assert fg.continual.create("test_only_strategy").name == "test_only_strategy"
    finally:
        registry._STRATEGIES._entries.pop("test_only_strategy", None)


def test_backprop_hooks_do_nothing():
    model = fg.nn.MLP(64, [8], 10)
    before = copy.deepcopy(model.state_dict())
    s = Backprop()
    assert s.penalty(model) == 0.0
    assert s.after_step(model, [], None) is None
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])


def test_l2_penalty_value_and_gradient():
    torch.manual_seed(0)
    model = fg.nn.MLP(5, [7, 3], 2, sigma_b=0.5)
    s = L2(weight_decay=0.3)
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])
    value = s.penalty(model)
    torch.testing.assert_close(value.detach(), 0.5 * 0.3 * (flat**2).sum())
    value.backward()
    for p in model.parameters():
        torch.testing.assert_close(p.grad, 0.3 * p.detach())


def test_shrink_without_noise_scales_every_parameter():
    torch.manual_seed(1)
    model = fg.nn.MLP(5, [7], 2, sigma_b=0.5)
    before = [p.detach().clone() for p in model.parameters()]
    ShrinkAndPerturb(shrink=0.1, noise_std=0.0).after_step(model, [], None)
    for p, q in zip(model.parameters(), before):
        torch.testing.assert_close(p.detach(), 0.9 * q)


def test_perturbation_is_gaussian_with_the_given_std():
    torch.manual_seed(2)
    model = fg.nn.MLP(300, [400], 200)
    before = [p.detach().clone() for p in model.parameters()]
    ShrinkAndPerturb(shrink=0.02, noise_std=0.05).after_step(model, [], None)
    noise = torch.cat([(p.detach() - 0.98 * q).flatten() for p, q in zip(model.parameters(), before)])
    assert noise.numel() > 100_000
    assert abs(noise.mean().item()) < 3 * 0.05 / noise.numel() ** 0.5 + 1e-6
    assert noise.std().item() == pytest.approx(0.05, rel=0.01)
    kurtosis = ((noise - noise.mean()) ** 4).mean() / noise.var() ** 2
    assert kurtosis.item() == pytest.approx(3.0, abs=0.1)  # Gaussian, not uniform (1.8)


def test_hyperparameters_are_validated():
    with pytest.raises(ValueError, match="weight_decay"):
        L2(weight_decay=-1.0)
    with pytest.raises(ValueError, match="shrink"):
        ShrinkAndPerturb(shrink=1.0)
    with pytest.raises(ValueError, match="noise_std"):
        ShrinkAndPerturb(noise_std=-0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "weight_decay=0.002" in repr(L2(weight_decay=0.002))
