"""One small, fast training loop for every chapter, and its metrics.

``fit`` runs mini-batch (or full-batch) training with SGD or Adam, records the
loss after every step and, when evaluation data are given, the metrics at the end
of every epoch. Progress is shown with tqdm; set ``TQDM_DISABLE=1`` (as ``make
test`` and ``make execute`` do) to silence it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from . import _checks

LOSSES = ("cross_entropy", "mse")
OPTIMIZERS = ("sgd", "adam")


def loss_fn(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``cross_entropy`` (integer labels) or ``mse`` (half mean squared error, summed over outputs)."""
    name = _checks.one_of("loss", name, LOSSES)
    if name == "cross_entropy":
        return nn.functional.cross_entropy

    def half_mse(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if y.ndim == 1 and y_hat.ndim == 2 and y_hat.shape[1] == 1:
            y = y[:, None]
        return 0.5 * ((y_hat - y) ** 2).sum(-1).mean() if y_hat.ndim > 1 else 0.5 * ((y_hat - y) ** 2).mean()

    return half_mse


def progress_disabled(progress: bool = True) -> bool:
    """Whether progress bars stay hidden: ``progress=False``, or ``TQDM_DISABLE`` set to anything but 0.

    tqdm reads ``TQDM_DISABLE`` only when no ``disable`` argument is given, and its
    notebook bar not at all, so the package reads it here for every bar it draws.
    """
    return not progress or os.environ.get("TQDM_DISABLE", "") not in ("", "0")


@torch.no_grad()
def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows of ``X`` whose arg-max output equals the integer label ``y``."""
    _checks.tensor("X", X, floating=True)
    _checks.tensor("y", y, ndim=1)
    _checks.same_length("X", X, "y", y)
    return (model(X).argmax(-1) == y).float().mean().item()


@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, loss: str = "cross_entropy") -> dict[str, float]:
    """Loss (and accuracy, for classification) of ``model`` on ``(X, y)``."""
    _checks.tensor("X", X, floating=True)
    _checks.tensor("y", y)
    _checks.same_length("X", X, "y", y)
    y_hat = model(X)
    out = {"loss": loss_fn(loss)(y_hat, y).item()}
    if loss == "cross_entropy":
        out["accuracy"] = (y_hat.argmax(-1) == y).float().mean().item()
    return out


@dataclass
class History:
    """What :func:`fit` records: per-step training loss, per-epoch evaluation metrics."""

    step_loss: list[float] = field(default_factory=list)
    epoch_metrics: list[dict[str, float]] = field(default_factory=list)

    @property
    def final_loss(self) -> float:
        return self.step_loss[-1] if self.step_loss else float("nan")


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0, momentum: float = 0.0) -> torch.optim.Optimizer:
    """``sgd`` or ``adam`` over ``params``."""
    name = _checks.one_of("optimizer", name, OPTIMIZERS)
    _checks.positive_float("lr", lr)
    _checks.non_negative_float("weight_decay", weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, momentum=momentum)
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


def fit(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    loss: str = "cross_entropy",
    optimizer: str | torch.optim.Optimizer = "sgd",
    lr: float = 0.1,
    epochs: int = 1,
    batch_size: int | None = None,
    weight_decay: float = 0.0,
    eval_data: tuple[torch.Tensor, torch.Tensor] | None = None,
    generator: torch.Generator | None = None,
    after_step: Callable[[int, torch.Tensor], None] | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` on ``(X, y)`` and return its :class:`History`.

    Parameters
    ----------
    loss
        ``"cross_entropy"`` (``y`` holds integer labels) or ``"mse"`` (``y`` holds targets).
    optimizer
        ``"sgd"``, ``"adam"`` or a ready ``torch.optim.Optimizer`` (then ``lr`` and
        ``weight_decay`` are ignored).
    epochs, batch_size
        Passes over the data and mini-batch size (``None``: full batch).
    eval_data
        ``(X_eval, y_eval)`` evaluated after every epoch.
    generator
        Random generator for the mini-batch order (reproducible shuffling).
    after_step
        Called as ``after_step(step, loss)`` after each optimizer step.
    progress
        Show a tqdm bar (``TQDM_DISABLE=1`` silences it too).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _checks.tensor("X", X, floating=True)
    _checks.tensor("y", y)
    _checks.same_length("X", X, "y", y)
    criterion = loss_fn(loss)
    _checks.positive_int("epochs", epochs)
    n = X.shape[0]
    if batch_size is None:
        batch_size = n
    _checks.positive_int("batch_size", batch_size)
    if isinstance(optimizer, torch.optim.Optimizer):
        opt = optimizer
    else:
        opt = make_optimizer(optimizer, model.parameters(), lr, weight_decay)
    if eval_data is not None and (not isinstance(eval_data, tuple) or len(eval_data) != 2):
        raise ValueError("eval_data must be a tuple (X_eval, y_eval)")

    history = History()
    steps_per_epoch = -(-n // batch_size)
    step = 0
    with tqdm(total=epochs * steps_per_epoch, disable=progress_disabled(progress), leave=False, desc="fit") as bar:
        for _ in range(epochs):
            order = torch.randperm(n, generator=generator).to(X.device) if batch_size < n else None
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size] if order is not None else slice(None)
                opt.zero_grad(set_to_none=True)
                batch_loss = criterion(model(X[idx]), y[idx])
                batch_loss.backward()
                opt.step()
                history.step_loss.append(batch_loss.item())
                if after_step is not None:
                    after_step(step, batch_loss.detach())
                step += 1
                bar.update(1)
            if eval_data is not None:
                history.epoch_metrics.append(evaluate(model, *eval_data, loss=loss))
    return history
