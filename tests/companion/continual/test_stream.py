"""The stream loop: hook order with a recording strategy, equality with hand-written loops, errors."""

import copy

import pytest
import torch

import fieldguide as fg
from fieldguide.continual import HOOKS, Strategy, run_stream


class Recorder(Strategy):
    """Records every hook call (and what it was given), contributes a counter and a metric."""

    def __init__(self):
        self.calls = []
        self.hidden_shapes = []

    def before_task(self, model, task):
        self.calls.append(("before_task", task.task_id))

    def before_step(self, model, step):
        self.calls.append(("before_step", step))

    def penalty(self, model):
        self.calls.append(("penalty", None))
        return torch.zeros(())

    def after_backward(self, model):
        assert all(p.grad is not None for p in model.parameters())
        self.calls.append(("after_backward", None))

    def after_step(self, model, hidden, optimizer):
        self.hidden_shapes.append([tuple(h.shape) for h in hidden])
        assert isinstance(optimizer, torch.optim.Optimizer)
        self.calls.append(("after_step", None))
        return {"calls": 1.0}

    def after_task(self, model, task):
        self.calls.append(("after_task", task.task_id))

    def before_eval(self, model, task):
        self.calls.append(("before_eval", task.task_id))

    def after_eval(self, model, task, metrics):
        self.calls.append(("after_eval", task.task_id))
        return {"double_accuracy": 2 * metrics["accuracy"]}


def _tasks(num_tasks=2, num_samples=20):
    return fg.data.random_label_digits(num_tasks, num_samples=num_samples, seed=0)


def test_every_hook_fires_in_order():
    torch.manual_seed(0)
    model = fg.nn.MLP(64, [8, 6], 10)
    rec = Recorder()
    history = run_stream(model, _tasks(), rec, steps_per_task=3, batch_size=7, progress=False)
    expected = []
    step = 0
    for t in range(2):
        expected.append(("before_task", t))
        for _ in range(3):
            expected += [("before_step", step), ("penalty", None), ("after_backward", None), ("after_step", None)]
            step += 1
        expected += [("after_task", t), ("before_eval", t), ("after_eval", t)]
    assert rec.calls == expected
    assert {name for name, _ in rec.calls} == set(HOOKS)
    assert rec.hidden_shapes == [[(7, 8), (7, 6)]] * 6
    # contributions are recorded: counters summed per task, after_eval's metrics merged
    assert history.metric("calls") == [3.0, 3.0]
    assert history.metric("double_accuracy") == [2 * a for a in history.metric("accuracy")]
    assert history.metric("task") == [0.0, 1.0]
    assert len(history.step_loss) == 6


def test_full_batch_backprop_equals_plain_sgd_loop():
    torch.manual_seed(1)
    model = fg.nn.MLP(64, [16], 10)
    reference = copy.deepcopy(model)
    tasks = _tasks(num_tasks=3, num_samples=30)
    run_stream(model, tasks, fg.continual.Backprop(), steps_per_task=4, batch_size=30, lr=0.2, progress=False)
    opt = torch.optim.SGD(reference.parameters(), lr=0.2)
    for task in tasks:
        for _ in range(4):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(reference(task.X_train), task.y_train).backward()
            opt.step()
    for p, q in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-5)


def test_l2_penalty_equals_sgd_weight_decay():
    torch.manual_seed(2)
    model = fg.nn.MLP(64, [16], 10, sigma_b=0.1)
    reference = copy.deepcopy(model)
    tasks = _tasks(num_tasks=2, num_samples=25)
    run_stream(model, tasks, fg.continual.L2(weight_decay=0.05), steps_per_task=5, batch_size=25, lr=0.1, progress=False)
    opt = torch.optim.SGD(reference.parameters(), lr=0.1, weight_decay=0.05)
    for task in tasks:
        for _ in range(5):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(reference(task.X_train), task.y_train).backward()
            opt.step()
    for p, q in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-5)


def test_accuracy_and_measure_are_recorded_per_task():
    torch.manual_seed(3)
    model = fg.nn.MLP(64, [12], 10)
    tasks = _tasks(num_tasks=2)
    history = run_stream(model, tasks, steps_per_task=2, batch_size=5, measure=fg.continual.plasticity_metrics, progress=False)
    final = fg.train.accuracy(model, tasks[-1].X_test, tasks[-1].y_test)
    assert history.tasks[-1]["accuracy"] == pytest.approx(final)
    assert history.tasks[-1]["weight_magnitude"] == pytest.approx(fg.continual.weight_magnitude(model))
    assert history.strategy == "strategy"


def test_batches_are_reproducible_with_a_generator():
    def once():
        torch.manual_seed(4)
        model = fg.nn.MLP(64, [8], 10)
        gen = torch.Generator().manual_seed(7)
        return run_stream(model, _tasks(), steps_per_task=5, batch_size=6, generator=gen, progress=False).step_loss

    assert once() == once()


def test_bad_arguments_raise_clear_errors():
    model = fg.nn.MLP(64, [8], 10)
    tasks = _tasks()
    with pytest.raises(TypeError, match="model"):
        run_stream("net", tasks)
    with pytest.raises(ValueError, match="tasks"):
        run_stream(model, [])
    with pytest.raises(ValueError, match="tasks"):
        run_stream(model, tasks[0])
    with pytest.raises(TypeError, match="tasks"):
        run_stream(model, [1, 2])
    with pytest.raises(TypeError, match="strategy"):
        run_stream(model, tasks, "l2")
    with pytest.raises(ValueError, match="steps_per_task"):
        run_stream(model, tasks, steps_per_task=0)
    with pytest.raises(ValueError, match="batch_size"):
        run_stream(model, tasks, batch_size=-1)
    with pytest.raises(ValueError, match="optimizer"):
        run_stream(model, tasks, optimizer="rmsprop")
    with pytest.raises(ValueError, match="loss"):
        run_stream(model, tasks, loss="hinge")
    with pytest.raises(TypeError, match="measure"):
        run_stream(model, tasks, measure=3)
    history = run_stream(model, tasks, steps_per_task=1, progress=False)
    with pytest.raises(ValueError, match="name"):
        history.metric("dead_fraction")
