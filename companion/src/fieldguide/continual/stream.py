"""One stream loop and one set of hooks for every continual-learning strategy.

A :class:`Strategy` is a plugin with eight named hooks, in the style of
Avalanche's plugins: ``before_task``, ``after_task``, ``before_step``,
``penalty``, ``after_backward``, ``after_step``, ``before_eval`` and
``after_eval``. :func:`run_stream` trains one model on a list of
:class:`fieldguide.data.Task` objects, one after the other and without ever
resetting the weights, and calls the hooks in a fixed order. Hooks *return* their
contribution (a penalty tensor, a dict of counters or metrics) rather than
editing the loop's state, so plain backpropagation, L2, shrink-and-perturb and
continual backpropagation (Dohare et al., 2024, catalog 80) swap in one line.

Taught in the chapter *Loss of plasticity and continual backpropagation*
(book/07-continual/loss-of-plasticity).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from .. import _checks
from ..data import Task
from ..train import LOSSES, OPTIMIZERS, loss_fn, make_optimizer, progress_disabled

HOOKS = (
    "before_task",
    "before_step",
    "penalty",
    "after_backward",
    "after_step",
    "after_task",
    "before_eval",
    "after_eval",
)


class Strategy:
    """Base class of continual-learning strategies: every hook does nothing.

    Subclasses override the hooks they need. The loop of :func:`run_stream`
    calls, for every task::

        before_task
        for every step:  before_step, penalty, after_backward, after_step
        after_task, before_eval, after_eval

    ``penalty`` returns a scalar added to the loss; ``after_step`` and
    ``after_eval`` return a dict (or ``None``) that the loop records.

    Taught in book/07-continual/loss-of-plasticity.
    """

    name = "strategy"

    def before_task(self, model: nn.Module, task: Task) -> None:
        """Called once before the first step of ``task``."""

    def before_step(self, model: nn.Module, step: int) -> None:
        """Called before the forward pass of every step (``step`` counts from 0 over the stream)."""

    def penalty(self, model: nn.Module) -> torch.Tensor | float:
        """A term added to the training loss (default 0)."""
        return 0.0

    def after_backward(self, model: nn.Module) -> None:
        """Called after ``loss.backward()`` and before the optimizer step (gradients are set)."""

    def after_step(
        self, model: nn.Module, hidden: Sequence[torch.Tensor], optimizer: torch.optim.Optimizer
    ) -> dict[str, float] | None:
        """Called after the optimizer step with the batch's hidden features; returns counters to sum per task."""
        return None

    def after_task(self, model: nn.Module, task: Task) -> None:
        """Called once after the last step of ``task``."""

    def before_eval(self, model: nn.Module, task: Task) -> None:
        """Called before the end-of-task evaluation."""

    def after_eval(self, model: nn.Module, task: Task, metrics: dict[str, float]) -> dict[str, float] | None:
        """Called after the evaluation with its metrics; returns extra metrics to record."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@dataclass
class StreamHistory:
    """What :func:`run_stream` records: one dict of metrics per task and the loss of every step."""

    strategy: str
    tasks: list[dict[str, float]] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)

    def metric(self, name: str) -> list[float]:
        """The per-task values of one metric, e.g. ``history.metric("accuracy")``."""
        if not self.tasks or name not in self.tasks[0]:
            known = sorted(self.tasks[0]) if self.tasks else []
            raise ValueError(f"name must be a recorded metric, one of {known}, got {name!r}")
        return [record[name] for record in self.tasks]


def _forward(model: nn.Module, X: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    if hasattr(model, "forward_with_hidden"):
        out, hidden = model.forward_with_hidden(X)
        return out, list(hidden)
    return model(X), []


def run_stream(
    model: nn.Module,
    tasks: Sequence[Task],
    strategy: Strategy | None = None,
    *,
    steps_per_task: int = 100,
    batch_size: int = 32,
    optimizer: str = "sgd",
    lr: float = 0.01,
    loss: str = "cross_entropy",
    measure: Callable[[nn.Module, Task], dict[str, float]] | None = None,
    generator: torch.Generator | None = None,
    progress: bool = True,
) -> StreamHistory:
    """Train ``model`` on ``tasks`` in sequence, calling ``strategy``'s hooks, and record per-task metrics.

    The weights (and the optimizer's state) carry over from task to task: the
    setting in which Dohare et al. (2024, catalog 80) show that plain
    backpropagation loses plasticity.

    Parameters
    ----------
    model
        The network; a :class:`fieldguide.nn.MLP` passes its hidden features to ``after_step``.
    tasks
        The stream, e.g. ``fg.data.random_label_digits(...)`` or ``fg.data.permuted_digits(...)``.
    strategy
        A :class:`Strategy` (``None``: plain backpropagation).
    steps_per_task, batch_size
        Optimizer steps per task, and mini-batch size (batches are drawn epoch by epoch
        from a fresh permutation of the task's training set).
    optimizer, lr
        ``"sgd"`` or ``"adam"`` and its step size; one optimizer lives through the whole stream.
    loss
        ``"cross_entropy"`` or ``"mse"``.
    measure
        ``measure(model, task) -> dict`` evaluated after each task, e.g.
        :func:`fieldguide.continual.plasticity_metrics`.
    generator
        Random generator for the mini-batch order (``None``: the global one that ``fg.setup`` seeds).
    progress
        Show a tqdm bar over tasks (``TQDM_DISABLE=1`` silences it).

    Returns
    -------
    StreamHistory
        Per task: ``task``, ``accuracy`` and ``loss`` on the task's test pair at the end of
        the task (for random-label streams the test pair is the training set), the sums of
        ``after_step``'s counters, ``measure``'s metrics and ``after_eval``'s contribution.

    Notes
    -----
    Taught in book/07-continual/loss-of-plasticity.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(tasks, Task) or not isinstance(tasks, Sequence) or len(tasks) == 0:
        raise ValueError("tasks must be a non-empty sequence of fieldguide.data.Task")
    for t in tasks:
        if not isinstance(t, Task):
            raise TypeError(f"tasks must hold fieldguide.data.Task objects, got {type(t).__name__}")
    strategy = Strategy() if strategy is None else strategy
    if not isinstance(strategy, Strategy):
        raise TypeError(f"strategy must be a fieldguide.continual.Strategy, got {type(strategy).__name__}")
    _checks.positive_int("steps_per_task", steps_per_task)
    _checks.positive_int("batch_size", batch_size)
    _checks.one_of("optimizer", optimizer, OPTIMIZERS)
    loss = _checks.one_of("loss", loss, LOSSES)
    criterion = loss_fn(loss)
    if measure is not None and not callable(measure):
        raise TypeError("measure must be callable as measure(model, task) -> dict")

    opt = make_optimizer(optimizer, model.parameters(), lr)
    history = StreamHistory(strategy=getattr(strategy, "name", type(strategy).__name__))
    step = 0
    quiet = progress_disabled(progress)
    for task in tqdm(tasks, leave=False, desc="tasks", disable=quiet):
        strategy.before_task(model, task)
        n = task.X_train.shape[0]
        order = torch.empty(0, dtype=torch.long)
        counters: dict[str, float] = {}
        model.train()
        for _ in range(steps_per_task):
            if order.numel() < min(batch_size, n):
                order = torch.randperm(n, generator=generator)
            idx, order = order[:batch_size].to(task.X_train.device), order[batch_size:]
            strategy.before_step(model, step)
            opt.zero_grad(set_to_none=True)
            out, hidden = _forward(model, task.X_train[idx])
            batch_loss = criterion(out, task.y_train[idx])
            total = batch_loss + strategy.penalty(model)
            total.backward()
            strategy.after_backward(model)
            opt.step()
            contribution = strategy.after_step(model, [h.detach() for h in hidden], opt)
            for key, value in (contribution or {}).items():
                counters[key] = counters.get(key, 0.0) + float(value)
            history.step_loss.append(batch_loss.item())
            step += 1
        strategy.after_task(model, task)

        model.eval()
        strategy.before_eval(model, task)
        with torch.no_grad():
            out = model(task.X_test)
            metrics = {"task": float(task.task_id), "loss": criterion(out, task.y_test).item()}
            if loss == "cross_entropy":
                metrics["accuracy"] = (out.argmax(-1) == task.y_test).float().mean().item()
            metrics.update(counters)
            if measure is not None:
                metrics.update(measure(model, task))
        metrics.update(strategy.after_eval(model, task, dict(metrics)) or {})
        history.tasks.append(metrics)
    return history
