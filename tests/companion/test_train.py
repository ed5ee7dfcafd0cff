import pytest
import torch

import fieldguide as fg


def test_fit_reduces_loss_and_reports_metrics():
    fg.setup(seed=0)
    X, y = fg.data.digits("train")
    X_te, y_te = fg.data.digits("test")
    model = fg.nn.MLP(64, [64], 10)
    history = fg.train.fit(
        model, X, y, optimizer="adam", lr=3e-3, epochs=4, batch_size=128, eval_data=(X_te, y_te), progress=False
    )
    assert len(history.step_loss) == 4 * 11 and len(history.epoch_metrics) == 4
    assert history.step_loss[-1] < 0.5 * history.step_loss[0]
    assert history.epoch_metrics[-1]["accuracy"] > 0.85
    assert history.epoch_metrics[-1]["accuracy"] == pytest.approx(fg.train.accuracy(model, X_te, y_te))


def test_full_batch_sgd_step_matches_manual_update():
    torch.manual_seed(1)
    model = fg.nn.MLP(3, [4], 1, activation="tanh")
    X, y = torch.randn(8, 3), torch.randn(8, 1)
    manual = [p.detach().clone() for p in model.parameters()]
    loss = 0.5 * ((model(X) - y) ** 2).sum(-1).mean()
    grads = torch.autograd.grad(loss, list(model.parameters()))
    manual = [p - 0.1 * g for p, g in zip(manual, grads)]
    fg.train.fit(model, X, y, loss="mse", lr=0.1, epochs=1, progress=False)
    for p, m in zip(model.parameters(), manual):
        torch.testing.assert_close(p, m)


def test_evaluate_matches_functional_losses():
    model = fg.nn.MLP(5, [6], 3)
    X, y = torch.randn(10, 5), torch.randint(3, (10,))
    out = fg.train.evaluate(model, X, y)
    assert out["loss"] == pytest.approx(torch.nn.functional.cross_entropy(model(X), y).item())
    assert out["accuracy"] == pytest.approx((model(X).argmax(1) == y).float().mean().item())


def test_after_step_callback_and_generator_reproducibility():
    X, y = fg.data.digits("train")
    losses = []
    for _ in range(2):
        torch.manual_seed(0)
        model = fg.nn.MLP(64, [16], 10)
        steps = []
        h = fg.train.fit(
            model,
            X,
            y,
            epochs=1,
            batch_size=500,
            generator=torch.Generator().manual_seed(5),
            after_step=lambda s, _loss, steps=steps: steps.append(s),
            progress=False,
        )
        assert steps == [0, 1, 2]
        losses.append(h.step_loss)
    assert losses[0] == losses[1]


def test_tqdm_disable_environment_is_honoured(monkeypatch, capsys):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert fg.train.progress_disabled(True)
    monkeypatch.setenv("TQDM_DISABLE", "0")
    assert not fg.train.progress_disabled(True) and fg.train.progress_disabled(False)
    monkeypatch.delenv("TQDM_DISABLE")
    assert not fg.train.progress_disabled(True)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    model = fg.nn.MLP(2, [3], 2)
    fg.train.fit(model, torch.randn(4, 2), torch.tensor([0, 1, 0, 1]), progress=True)
    captured = capsys.readouterr()
    assert "fit" not in captured.err


def test_bad_arguments():
    model = fg.nn.MLP(2, [3], 2)
    X, y = torch.randn(4, 2), torch.tensor([0, 1, 0, 1])
    with pytest.raises(ValueError, match="optimizer"):
        fg.train.fit(model, X, y, optimizer="lbfgs")
    with pytest.raises(ValueError, match="loss"):
        fg.train.fit(model, X, y, loss="hinge")
    with pytest.raises(ValueError, match="same number of rows"):
        fg.train.fit(model, X, y[:3])
    with pytest.raises(ValueError, match="batch_size"):
        fg.train.fit(model, X, y, batch_size=0)
    with pytest.raises(ValueError, match="lr"):
        fg.train.fit(model, X, y, lr=-1.0)
    with pytest.raises(TypeError, match="model"):
        fg.train.fit("model", X, y)
    with pytest.raises(TypeError, match="X"):
        fg.train.fit(model, X.numpy(), y)
