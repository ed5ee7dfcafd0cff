import math

import pytest
import torch

import fieldguide as fg


def test_dense_ntk_parametrization_forward_is_scaled_linear_map():
    layer = fg.nn.Dense(5, 3, parametrization="ntk", sigma_w=2.0, sigma_b=0.5)
    x = torch.randn(4, 5)
    expected = x @ layer.weight.T * 2.0 / math.sqrt(5) + 0.5 * layer.bias
    torch.testing.assert_close(layer(x), expected)


def test_ntk_and_standard_parametrizations_agree_in_distribution():
    torch.manual_seed(0)
    x = torch.randn(1, 400)
    for par in ("ntk", "standard"):
        outs = torch.cat([fg.nn.Dense(400, 2000, parametrization=par, init="normal", sigma_w=1.5)(x) for _ in range(3)])
        # Var(out) = sigma_w^2 |x|^2 / fan_in for both
        expected = 1.5**2 * x.pow(2).sum().item() / 400
        assert abs(outs.var().item() / expected - 1) < 0.05


def test_ntk_parametrization_gradients_scale_with_multiplier():
    layer = fg.nn.Dense(16, 1, parametrization="ntk", sigma_w=1.0)
    x = torch.randn(1, 16)
    layer(x).sum().backward()
    torch.testing.assert_close(layer.weight.grad, x / 4.0)  # d out / d W = x / sqrt(16)


@pytest.mark.parametrize(
    ("init", "variance"), [("kaiming", lambda i, o: 2 / i), ("xavier", lambda i, o: 2 / (i + o)), ("normal", lambda i, o: 1 / i)]
)
def test_initializations_have_their_variance(init, variance):
    torch.manual_seed(1)
    w = torch.empty(300, 500)
    fg.nn.init_weights(w, init)
    assert abs(w.var().item() / variance(500, 300) - 1) < 0.03


def test_mlp_forward_with_hidden_matches_manual_composition():
    model = fg.nn.MLP(6, [8, 7], 3, activation="tanh", sigma_b=0.1)
    x = torch.randn(5, 6)
    out, hidden = model.forward_with_hidden(x)
    h1 = torch.tanh(x @ model.layers[0].weight.T + model.layers[0].bias)
    h2 = torch.tanh(h1 @ model.layers[1].weight.T + model.layers[1].bias)
    torch.testing.assert_close(hidden[0], h1)
    torch.testing.assert_close(hidden[1], h2)
    torch.testing.assert_close(out, h2 @ model.layers[2].weight.T + model.layers[2].bias)
    assert len(model.hidden_layers) == 2 and model.readout is model.layers[2]


def test_kaiming_preserves_signal_through_deep_relu_net():
    torch.manual_seed(2)
    model = fg.nn.MLP(100, [1000] * 10, 1, activation="relu", init="kaiming")
    x = torch.randn(64, 100)
    _, hidden = model.forward_with_hidden(x)
    ratio = hidden[-1].pow(2).mean() / (x.pow(2).mean())
    assert 0.5 < ratio.item() < 2.0


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="hidden"):
        fg.nn.MLP(3, [4, 0], 1)
    with pytest.raises(ValueError, match="parametrization"):
        fg.nn.Dense(3, 4, parametrization="mup")
    with pytest.raises(ValueError, match="init"):
        fg.nn.Dense(3, 4, init="orthogonal")
    with pytest.raises(ValueError, match="in_features"):
        fg.nn.Dense(0, 4)
    with pytest.raises(ValueError, match="activation"):
        fg.nn.MLP(3, [4], 1, activation="swishy")
    with pytest.raises(ValueError, match="3 features"):
        fg.nn.Dense(3, 4)(torch.randn(2, 5))


def test_activation_registry():
    assert {"relu", "erf", "tanh", "identity", "gelu"} <= set(fg.activations.available())
    assert fg.activations.get("ReLU") is fg.activations.get("relu")
    x = torch.linspace(-3, 3, 31)
    torch.testing.assert_close(fg.activations.get("gelu")(x), torch.nn.functional.gelu(x))
    torch.testing.assert_close(fg.activations.create("erf")(x), torch.erf(x))
    fn = lambda t: t * 2  # noqa: E731
    assert fg.activations.get(fn) is fn
    with pytest.warns(UserWarning, match="twice"):
        fg.activations.register("relu")(torch.relu)
