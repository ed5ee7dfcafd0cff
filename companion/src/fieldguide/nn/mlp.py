"""Dense layers and MLPs in standard or NTK parametrization.

Standard parametrization (PyTorch's default form): ``h = W x + b`` with the
initialization scale inside ``W`` (``W ~ N(0, sigma_w^2 / fan_in)`` for
``init="normal"``).

NTK parametrization (Jacot et al., 2018, catalog 6): ``h = sigma_w / sqrt(fan_in) * W x
+ sigma_b * b`` with ``W, b ~ N(0, 1)``. The forward pass at initialization is the
same in distribution; the gradients are not, which is what makes the tangent
kernel converge to a deterministic limit as the width grows.

Taught in the chapter *The neural tangent kernel* (book/02-width/ntk).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .. import _checks
from ..activations import create as create_activation

PARAMETRIZATIONS = ("standard", "ntk")
INITS = ("normal", "kaiming", "xavier", "pytorch")


def init_weights(weight: torch.Tensor, init: str, *, sigma_w: float = 1.0, nonlinearity_gain: float | None = None) -> None:
    """Initialize a (fan_out, fan_in) weight matrix in place.

    ``normal``: N(0, sigma_w^2 / fan_in). ``kaiming``: N(0, 2 / fan_in) (He et al., 2015).
    ``xavier``: N(0, 2 / (fan_in + fan_out)) (Glorot and Bengio, 2010). ``pytorch``:
    PyTorch's ``nn.Linear`` default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    """
    init = _checks.one_of("init", init, INITS)
    fan_out, fan_in = weight.shape
    with torch.no_grad():
        if init == "normal":
            weight.normal_(0.0, sigma_w / math.sqrt(fan_in))
        elif init == "kaiming":
            gain = math.sqrt(2.0) if nonlinearity_gain is None else nonlinearity_gain
            weight.normal_(0.0, gain / math.sqrt(fan_in))
        elif init == "xavier":
            weight.normal_(0.0, math.sqrt(2.0 / (fan_in + fan_out)))
        else:
            bound = 1.0 / math.sqrt(fan_in)
            weight.uniform_(-bound, bound)


class Dense(nn.Module):
    """An affine layer in standard or NTK parametrization.

    Parameters
    ----------
    in_features, out_features
        Layer sizes.
    parametrization
        ``"standard"`` or ``"ntk"`` (see the module docstring).
    init
        Weight initialization for the standard parametrization (see :func:`init_weights`);
        the NTK parametrization always draws ``W, b ~ N(0, 1)``.
    sigma_w, sigma_b
        Weight and bias scales. With ``sigma_b = 0`` the layer has no bias.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        parametrization: str = "standard",
        init: str = "normal",
        sigma_w: float = 1.0,
        sigma_b: float = 0.0,
    ):
        super().__init__()
        self.in_features = _checks.positive_int("in_features", in_features)
        self.out_features = _checks.positive_int("out_features", out_features)
        self.parametrization = _checks.one_of("parametrization", parametrization, PARAMETRIZATIONS)
        self.init = _checks.one_of("init", init, INITS)
        self.sigma_w = _checks.positive_float("sigma_w", sigma_w)
        self.sigma_b = _checks.non_negative_float("sigma_b", sigma_b)
        self.weight = nn.Parameter(torch.empty(out_features, in_features))  # (out, in)
        self.bias = nn.Parameter(torch.empty(out_features)) if self.sigma_b > 0 else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with torch.no_grad():
            if self.parametrization == "ntk":
                self.weight.normal_(0.0, 1.0)
                if self.bias is not None:
                    self.bias.normal_(0.0, 1.0)
            else:
                init_weights(self.weight, self.init, sigma_w=self.sigma_w)
                if self.bias is not None:
                    self.bias.normal_(0.0, self.sigma_b)

    @property
    def weight_multiplier(self) -> float:
        """Factor applied to ``weight`` in the forward pass (1 in standard parametrization)."""
        return self.sigma_w / math.sqrt(self.in_features) if self.parametrization == "ntk" else 1.0

    @property
    def bias_multiplier(self) -> float:
        """Factor applied to ``bias`` in the forward pass (1 in standard parametrization)."""
        return self.sigma_b if self.parametrization == "ntk" else 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.in_features:
            raise ValueError(f"input must have {self.in_features} features in its last dimension, got shape {tuple(x.shape)}")
        out = torch.nn.functional.linear(x, self.weight) * self.weight_multiplier  # (..., out)
        if self.bias is not None:
            out = out + self.bias * self.bias_multiplier
        return out

    def extra_repr(self) -> str:
        return (
            f"{self.in_features}, {self.out_features}, parametrization={self.parametrization}, "
            f"sigma_w={self.sigma_w:g}, sigma_b={self.sigma_b:g}"
        )


class MLP(nn.Module):
    """A fully connected network ``in -> hidden[0] -> ... -> hidden[-1] -> out``.

    ``forward(x)`` returns the output; ``forward_with_hidden(x)`` also returns the
    post-activation features of every hidden layer, for diagnostics and for the
    utility measures of continual backpropagation.

    Parameters
    ----------
    in_features
        Input dimension.
    hidden
        Widths of the hidden layers (may be empty: a linear model).
    out_features
        Output dimension.
    activation
        A registered activation name (``fg.activations.available()``) or a callable.
    parametrization, init, sigma_w, sigma_b
        Passed to every :class:`Dense` layer. The readout layer uses ``sigma_w_out``
        if given (``init="normal"`` with ``sigma_w=1`` keeps a linear readout at unit scale).

    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        *,
        activation: str = "relu",
        parametrization: str = "standard",
        init: str = "kaiming",
        sigma_w: float = 1.0,
        sigma_b: float = 0.0,
        sigma_w_out: float | None = None,
    ):
        super().__init__()
        if isinstance(hidden, (int, str)) or not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden):
            raise ValueError(f"hidden must be a sequence of positive ints, got {hidden!r}")
        sizes = [_checks.positive_int("in_features", in_features), *hidden, _checks.positive_int("out_features", out_features)]
        num_layers = len(sizes) - 1
        readout_sigma = sigma_w if sigma_w_out is None else sigma_w_out
        self.layers = nn.ModuleList(
            Dense(
                sizes[i],
                sizes[i + 1],
                parametrization=parametrization,
                init=(init if i < num_layers - 1 else ("normal" if init == "kaiming" else init)),
                sigma_w=(sigma_w if i < num_layers - 1 else readout_sigma),
                sigma_b=sigma_b,
            )
            for i in range(num_layers)
        )
        self.activation = create_activation(activation)

    @property
    def hidden_layers(self) -> list[Dense]:
        """The layers followed by the activation (all but the readout)."""
        return list(self.layers[:-1])

    @property
    def readout(self) -> Dense:
        return self.layers[-1]

    def forward_with_hidden(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Output and the list of post-activation features of each hidden layer."""
        hidden = []
        h = x
        for layer in self.hidden_layers:
            h = self.activation(layer(h))  # (..., width)
            hidden.append(h)
        return self.readout(h), hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_hidden(x)[0]
