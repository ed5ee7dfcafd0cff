import random

import numpy as np
import pytest
import torch

import fieldguide as fg


def test_setup_seeds_every_generator(monkeypatch):
    monkeypatch.delenv("FIELDGUIDE_SEED", raising=False)
    fg.setup(seed=3)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    fg.setup(seed=3)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
    fg.setup(seed=4)
    assert torch.rand(1).item() != first[2]


def test_setup_fixes_threads_and_determinism(monkeypatch):
    monkeypatch.delenv("FIELDGUIDE_SEED", raising=False)
    before = torch.get_num_threads()
    try:
        fg.setup(seed=0, threads=1)
        assert torch.get_num_threads() == 1
        assert torch.are_deterministic_algorithms_enabled()
        monkeypatch.setenv("FIELDGUIDE_THREADS", "2")
        fg.setup(seed=0)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_seed_override_from_environment(monkeypatch):
    monkeypatch.setenv("FIELDGUIDE_SEED", "7")
    fg.setup(seed=0)
    assert fg.runtime.current_seed() == 7
    draw = torch.rand(1).item()
    monkeypatch.delenv("FIELDGUIDE_SEED")
    fg.setup(seed=7)
    assert torch.rand(1).item() == draw


def test_device_defaults_and_override(monkeypatch):
    monkeypatch.delenv("FIELDGUIDE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert fg.device().type == expected
    monkeypatch.setenv("FIELDGUIDE_DEVICE", "cpu")
    assert fg.device() == torch.device("cpu")
    monkeypatch.setenv("FIELDGUIDE_DEVICE", "tpu-please")
    with pytest.raises(ValueError, match="FIELDGUIDE_DEVICE"):
        fg.device()
    if not torch.cuda.is_available():
        monkeypatch.setenv("FIELDGUIDE_DEVICE", "cuda")
        with pytest.raises(ValueError, match="CUDA is not available"):
            fg.device()


def test_scale_switches_on_environment(monkeypatch):
    monkeypatch.delenv("FIELDGUIDE_SCALE", raising=False)
    assert fg.scale(quick=1, paper=2) == 1
    monkeypatch.setenv("FIELDGUIDE_SCALE", "paper")
    assert fg.scale(quick=1, paper=2) == 2
    monkeypatch.setenv("FIELDGUIDE_SCALE", "huge")
    with pytest.raises(ValueError, match="FIELDGUIDE_SCALE"):
        fg.scale(quick=1, paper=2)


@pytest.mark.parametrize("kwargs", [{"seed": -1}, {"seed": 1.5}, {"seed": True}, {"threads": 0}])
def test_setup_rejects_bad_arguments(kwargs, monkeypatch):
    monkeypatch.delenv("FIELDGUIDE_SEED", raising=False)
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        fg.setup(**({"seed": 0} | kwargs))


def test_bad_environment_values(monkeypatch):
    monkeypatch.setenv("FIELDGUIDE_SEED", "abc")
    with pytest.raises(ValueError, match="FIELDGUIDE_SEED"):
        fg.setup(seed=0)
    monkeypatch.delenv("FIELDGUIDE_SEED")
    monkeypatch.setenv("FIELDGUIDE_THREADS", "0")
    with pytest.raises(ValueError, match="FIELDGUIDE_THREADS"):
        fg.setup(seed=0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_package_runs_on_cuda():
    X, y = fg.data.digits("train", device="cuda")
    model = fg.nn.MLP(64, [32], 10).to("cuda")
    history = fg.train.fit(model, X, y, lr=0.5, epochs=3, progress=False)
    assert history.step_loss[-1] < history.step_loss[0]
    k = fg.width.ntk(X[:5].double(), depth=2)
    assert k.device.type == "cuda"
