"""Continual backpropagation against loops, closed forms and Monte Carlo (catalog 80)."""

import copy
import math

import pytest
import torch

import fieldguide as fg
from fieldguide.continual import ContinualBackprop, contribution_utility


def _model(widths=(6, 5), seed=0, **kw):
    torch.manual_seed(seed)
    return fg.nn.MLP(4, list(widths), 3, **kw)


def test_contribution_utility_matches_a_loop():
    gen = torch.Generator().manual_seed(0)
    h = torch.randn(7, 5, generator=gen)
    w = torch.randn(3, 5, generator=gen)
    expected = torch.zeros(5)
    for i in range(5):
        act = sum(abs(h[b, i].item()) for b in range(7)) / 7
        out = sum(abs(w[k, i].item()) for k in range(3))
        expected[i] = act * out
    torch.testing.assert_close(contribution_utility(h, w), expected)


def test_running_utility_has_the_closed_form_of_a_geometric_average():
    model = _model()
    X = torch.rand(9, 4)
    hidden = [h.detach() for h in model.forward_with_hidden(X)[1]]
    cbp = ContinualBackprop(replacement_rate=0.0, decay_rate=0.9)
    for _ in range(12):
        out = cbp.after_step(model, hidden, None)
    assert out == {"replaced": 0.0}
    for i, h in enumerate(hidden):
        inst = contribution_utility(h, model.layers[i + 1].weight.detach())
        torch.testing.assert_close(cbp.utility[i], (1 - 0.9**12) * inst)
        assert cbp.age[i].tolist() == [12] * h.shape[1]


def test_fractional_replacements_accumulate():
    # m = 0: every unit is eligible after its first step; rho * n = 0.01 * 50 = 1 / 2 per step
    model = _model(widths=(50, 50))
    hidden = [torch.rand(3, 50), torch.rand(3, 50)]
    cbp = ContinualBackprop(replacement_rate=0.01, maturity_threshold=0)
    counts = [cbp.after_step(model, hidden, None)["replaced"] for _ in range(10)]
    assert counts == [0.0, 2.0] * 5  # one unit per layer every second step
    assert sum(counts) == 2 * math.floor(10 * 0.01 * 50)


def test_maturity_threshold_protects_young_units():
    model = _model(widths=(20,))
    hidden = [torch.rand(3, 20)]
    cbp = ContinualBackprop(replacement_rate=0.5, maturity_threshold=5)
    counts = [cbp.after_step(model, hidden, None)["replaced"] for _ in range(7)]
    assert counts[:5] == [0.0] * 5  # ages 1..5 are not above m = 5
    assert counts[5] == 10.0  # at age 6 all 20 are eligible: 0.5 * 20
    assert counts[6] == 5.0  # the 10 reset units are young again: 0.5 * 10


def test_lowest_utility_units_are_replaced_with_fresh_inputs_and_zero_outputs():
    model = _model(widths=(8, 6), seed=3)
    before = copy.deepcopy(model)
    h0 = torch.arange(1.0, 9.0).repeat(4, 1)  # (4, 8): unit i has activation i + 1
    h0[:, [2, 5]] = 0.0  # two silent units: zero utility
    h1 = torch.ones(4, 6)
    cbp = ContinualBackprop(replacement_rate=2 / 8, maturity_threshold=0)
    cbp.pending = [0.0, -10.0]  # keep layer 1 out of this test
    cbp.utility = [torch.zeros(8), torch.zeros(6)]
    cbp.age = [torch.zeros(8, dtype=torch.long), torch.zeros(6, dtype=torch.long)]
    assert cbp.after_step(model, [h0, h1], None)["replaced"] == 2.0
    replaced = [2, 5]
    kept = [i for i in range(8) if i not in replaced]
    first, second = model.layers[0].weight, model.layers[1].weight
    assert torch.equal(first[kept], before.layers[0].weight[kept])
    assert not torch.equal(first[replaced], before.layers[0].weight[replaced])
    assert torch.equal(second[:, replaced], torch.zeros(6, 2))
    assert torch.equal(second[:, kept], before.layers[1].weight[:, kept])
    assert cbp.utility[0][replaced].tolist() == [0.0, 0.0] and cbp.age[0][replaced].tolist() == [0, 0]


def test_reinitialized_unit_does_not_change_the_function_beyond_removing_it():
    model = _model(widths=(10, 10), seed=4)
    removed = copy.deepcopy(model)
    with torch.no_grad():
        removed.layers[1].weight[:, [1, 7]] = 0.0  # the unit's old contribution is gone
    ContinualBackprop().reinitialize(model, 0, torch.tensor([1, 7]))
    X = torch.randn(16, 4)
    torch.testing.assert_close(model(X), removed(X))  # the new input weights are invisible at first


def test_fresh_input_weights_follow_the_initial_distribution():
    torch.manual_seed(5)
    model = fg.nn.MLP(400, [500], 2)  # kaiming: N(0, 2 / fan_in)
    ContinualBackprop().reinitialize(model, 0, torch.arange(500))
    w = model.layers[0].weight.detach()
    assert w.mean().item() == pytest.approx(0.0, abs=3 * math.sqrt(2 / 400) / math.sqrt(w.numel()))
    assert w.std().item() == pytest.approx(math.sqrt(2 / 400), rel=0.01)


def test_optimizer_state_of_replaced_units_is_reset():
    model = _model(widths=(6,), seed=6)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    torch.nn.functional.cross_entropy(model(torch.rand(5, 4)), torch.tensor([0, 1, 2, 0, 1])).backward()
    opt.step()
    exp_avg_in = opt.state[model.layers[0].weight]["exp_avg"].clone()
    ContinualBackprop().reinitialize(model, 0, torch.tensor([2]), opt)
    state_in = opt.state[model.layers[0].weight]
    assert torch.equal(state_in["exp_avg"][2], torch.zeros(4))
    assert torch.equal(state_in["exp_avg_sq"][2], torch.zeros(4))
    assert torch.equal(state_in["exp_avg"][[0, 1, 3, 4, 5]], exp_avg_in[[0, 1, 3, 4, 5]])
    assert torch.equal(opt.state[model.layers[1].weight]["exp_avg_sq"][:, 2], torch.zeros(3))


@pytest.mark.parametrize("bias_correction", [True, False])
def test_bias_correction_decides_between_old_and_young_units(bias_correction):
    # unit 0: old (age 500), utility 0.5; unit 1: young (age 110), utility 0.4
    model = _model(widths=(2,), seed=7)
    cbp = ContinualBackprop(replacement_rate=0.5, maturity_threshold=100, bias_correction=bias_correction)
    cbp.utility, cbp.age, cbp.pending = [torch.tensor([0.5, 0.4])], [torch.tensor([499, 109])], [0.0]
    before = model.layers[1].weight.detach().clone()
    cbp.after_step(model, [torch.zeros(3, 2)], None)  # scales both utilities by eta, ages +1
    corrected = [0.5 / (1 - 0.99**500), 0.4 / (1 - 0.99**110)]  # 0.503 vs 0.597: the old unit goes
    expected = min(range(2), key=lambda i: corrected[i]) if bias_correction else 1
    other = 1 - expected
    assert torch.equal(model.layers[1].weight[:, expected], torch.zeros(3))
    assert torch.equal(model.layers[1].weight[:, other], before[:, other])


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="replacement_rate"):
        ContinualBackprop(replacement_rate=1.5)
    with pytest.raises(ValueError, match="maturity_threshold"):
        ContinualBackprop(maturity_threshold=-1)
    with pytest.raises(ValueError, match="decay_rate"):
        ContinualBackprop(decay_rate=1.0)
    with pytest.raises(TypeError, match="bias_correction"):
        ContinualBackprop(bias_correction=1)
    with pytest.raises(TypeError, match="MLP"):
        ContinualBackprop().after_step(torch.nn.Linear(3, 2), [torch.ones(2, 3)], None)
    model = _model()
    with pytest.raises(ValueError, match="hidden"):
        ContinualBackprop().after_step(model, [torch.ones(2, 6)], None)
    with pytest.raises(ValueError, match="layer_index"):
        ContinualBackprop().reinitialize(model, 2, torch.tensor([0]))
    with pytest.raises(TypeError, match="units"):
        ContinualBackprop().reinitialize(model, 0, torch.tensor([0.0]))
    with pytest.raises(ValueError, match="units"):
        ContinualBackprop().reinitialize(model, 0, torch.tensor([[0]]))
    with pytest.raises(TypeError, match="MLP"):
        ContinualBackprop().reinitialize(fg.nn.MLP(4, [], 3), 0, torch.tensor([0]))
    with pytest.raises(ValueError, match="next_weight"):
        contribution_utility(torch.ones(2, 3), torch.ones(4, 5))
    with pytest.raises(TypeError, match="hidden"):
        contribution_utility([[1.0]], torch.ones(1, 1))


def test_keeps_plasticity_where_backprop_loses_it_on_a_short_stream():
    """A small end-to-end check: units die under plain SGD at a large step, CBP revives them."""

    def dead_after(strategy):
        torch.manual_seed(0)
        model = fg.nn.MLP(64, [32], 10)
        tasks = fg.data.random_label_digits(5, num_samples=60, seed=0)
        fg.continual.run_stream(model, tasks, strategy, steps_per_task=40, batch_size=20, lr=0.5, progress=False)
        return fg.continual.dead_unit_fraction(model, tasks[0].X_train)

    assert dead_after(ContinualBackprop(replacement_rate=0.01, maturity_threshold=20)) < dead_after(None)
