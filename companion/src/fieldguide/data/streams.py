"""Continual-learning task streams built from the bundled digits.

* ``permuted_digits``: every task applies its own fixed pixel permutation
  (task 0 may keep the identity), so the input distribution changes while the
  labels keep their meaning (Goodfellow et al., 2013; Kirkpatrick et al., 2017).
* ``split_digits``: the ten classes are dealt out into tasks of a few classes each.
* ``random_label_digits``: the same images with fresh random labels every task, a
  pure memorization stream used to measure plasticity (Dohare et al., 2024, catalog 80).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import _checks
from .digits import digits


@dataclass(frozen=True)
class Task:
    """One task of a stream: training and test tensors, with the classes it uses."""

    task_id: int
    X_train: torch.Tensor  # (n_train, 64)
    y_train: torch.Tensor  # (n_train,)
    X_test: torch.Tensor  # (n_test, 64)
    y_test: torch.Tensor  # (n_test,)
    classes: tuple[int, ...]


def _gen(seed: int) -> torch.Generator:
    _checks.non_negative_int("seed", seed)
    return torch.Generator().manual_seed(seed)


def permuted_digits(
    num_tasks: int, *, seed: int = 0, keep_first: bool = True, device: torch.device | str | None = None
) -> list[Task]:
    """Tasks that share the digits labels and differ by a fixed pixel permutation each."""
    _checks.positive_int("num_tasks", num_tasks)
    gen = _gen(seed)
    X_tr, y_tr = digits("train")
    X_te, y_te = digits("test")
    tasks = []
    for t in range(num_tasks):
        perm = torch.arange(64) if (t == 0 and keep_first) else torch.randperm(64, generator=gen)
        tasks.append(
            Task(t, X_tr[:, perm].to(device), y_tr.to(device), X_te[:, perm].to(device), y_te.to(device), tuple(range(10)))
        )
    return tasks


def split_digits(classes_per_task: int = 2, *, seed: int | None = None, device: torch.device | str | None = None) -> list[Task]:
    """The ten classes dealt into ``10 // classes_per_task`` tasks (in order 0, 1, ... unless ``seed`` shuffles them).

    Labels keep their global values (0-9), the "class-incremental" convention; take
    ``y - min(task.classes)`` for a task-incremental head.
    """
    _checks.positive_int("classes_per_task", classes_per_task)
    if 10 % classes_per_task != 0:
        raise ValueError(f"classes_per_task must divide 10, got {classes_per_task}")
    order = torch.arange(10) if seed is None else torch.randperm(10, generator=_gen(seed))
    X_tr, y_tr = digits("train")
    X_te, y_te = digits("test")
    tasks = []
    for t in range(10 // classes_per_task):
        cls = order[t * classes_per_task : (t + 1) * classes_per_task]
        tr = torch.isin(y_tr, cls)
        te = torch.isin(y_te, cls)
        tasks.append(
            Task(
                t, X_tr[tr].to(device), y_tr[tr].to(device), X_te[te].to(device), y_te[te].to(device), tuple(sorted(cls.tolist()))
            )
        )
    return tasks


def random_label_digits(
    num_tasks: int,
    *,
    num_samples: int = 300,
    num_classes: int = 10,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> list[Task]:
    """The same ``num_samples`` training images relabelled uniformly at random for every task.

    There is nothing to generalize, so a task's training accuracy measures how well
    the network can still memorize: its plasticity. ``X_test``/``y_test`` are the
    training pair itself.
    """
    _checks.positive_int("num_tasks", num_tasks)
    _checks.positive_int("num_samples", num_samples)
    _checks.positive_int("num_classes", num_classes)
    gen = _gen(seed)
    X_tr, _ = digits("train")
    if num_samples > len(X_tr):
        raise ValueError(f"num_samples must be at most {len(X_tr)} (the training split), got {num_samples}")
    idx = torch.randperm(len(X_tr), generator=gen)[:num_samples]
    X = X_tr[idx].to(device)
    tasks = []
    for t in range(num_tasks):
        y = torch.randint(num_classes, (num_samples,), generator=gen).to(device)
        tasks.append(Task(t, X, y, X, y, tuple(range(num_classes))))
    return tasks
