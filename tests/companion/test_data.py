import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

import fieldguide as fg


def test_digits_split_is_fixed_disjoint_and_complete():
    X_tr, y_tr = fg.data.digits("train")
    X_te, y_te = fg.data.digits("test")
    X_all, y_all = fg.data.digits("all")
    assert X_tr.shape == (1348, 64) and X_te.shape == (449, 64) and X_all.shape == (1797, 64)
    assert X_tr.dtype == torch.float32 and y_tr.dtype == torch.int64
    assert 0 <= X_all.min() and X_all.max() <= 1
    raw = load_digits()
    np.testing.assert_allclose(X_all.numpy(), raw.data / 16, rtol=1e-6)
    # train and test are a partition of all rows
    rows = {tuple(r) for r in torch.cat([X_tr, X_te]).numpy().round(4).tolist()}
    assert rows == {tuple(r) for r in X_all.numpy().round(4).tolist()}
    torch.manual_seed(123)  # the split does not depend on the global seed
    torch.testing.assert_close(fg.data.digits("train")[0], X_tr)
    assert sorted(torch.bincount(torch.cat([y_tr, y_te])).tolist()) == sorted(np.bincount(raw.target).tolist())


def test_digits_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        fg.data.digits("validation")
    with pytest.raises(ValueError, match="test_fraction"):
        fg.data.digits(test_fraction=1.0)
    with pytest.raises(ValueError, match="dtype"):
        fg.data.digits(dtype=torch.int32)


def test_gaussian_mixture_bayes_error_matches_monte_carlo():
    gen = torch.Generator().manual_seed(0)
    for separation, prior in [(1.0, 0.5), (0.6, 0.3), (2.0, 0.8)]:
        mix = fg.data.gaussian_mixture(dim=3, separation=separation, prior_one=prior)
        X, y = mix.sample(400_000, generator=gen)
        mc_error = (mix.bayes_predict(X) != y).float().mean().item()
        assert abs(mc_error - mix.bayes_error()) < 3e-3
        # no other threshold does better than the Bayes rule (closed-form check)
        for shift in (-0.3, 0.3):
            worse = ((X[:, 0] > shift + math.log((1 - prior) / prior) / (2 * separation)).long() != y).float().mean()
            assert worse >= mc_error - 1e-3
    assert fg.data.gaussian_mixture(separation=1.0).bayes_error() == pytest.approx(0.5 * math.erfc(1 / math.sqrt(2)))


def test_gaussian_mixture_bad_arguments():
    with pytest.raises(ValueError, match="prior_one"):
        fg.data.gaussian_mixture(prior_one=1.0)
    with pytest.raises(ValueError, match="separation"):
        fg.data.gaussian_mixture(separation=0)
    with pytest.raises(ValueError, match="num_samples"):
        fg.data.gaussian_mixture().sample(0)


def test_teacher_student_targets_come_from_the_teacher():
    gen = torch.Generator().manual_seed(1)
    X, y, teacher = fg.data.teacher_student(200, 5, generator=gen)
    assert X.shape == (200, 5) and y.shape == (200, 1)
    torch.testing.assert_close(y, teacher(X).detach())
    assert (X.pow(2).sum(1).mean() - 1).abs() < 0.2
    _, y_noisy, _ = fg.data.teacher_student(200, 5, teacher=teacher, noise=0.5, generator=gen)
    assert y_noisy.std() > y.std()
    with pytest.raises(TypeError, match="teacher"):
        fg.data.teacher_student(10, 2, teacher="mlp")


def test_permuted_digits_permute_pixels_and_keep_labels():
    tasks = fg.data.permuted_digits(3, seed=0)
    X0, _ = fg.data.digits("train")
    torch.testing.assert_close(tasks[0].X_train, X0)
    for task in tasks[1:]:
        assert not torch.equal(task.X_train, X0)
        torch.testing.assert_close(task.X_train.sort(dim=1).values, X0.sort(dim=1).values)
        torch.testing.assert_close(task.y_train, tasks[0].y_train)


def test_split_digits_partitions_classes():
    tasks = fg.data.split_digits(2)
    assert [t.classes for t in tasks] == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    assert sum(len(t.y_train) for t in tasks) == 1348
    for t in tasks:
        assert set(t.y_train.tolist()) == set(t.classes) and set(t.y_test.tolist()) <= set(t.classes)
    with pytest.raises(ValueError, match="classes_per_task"):
        fg.data.split_digits(3)


def test_random_label_digits_share_images_not_labels():
    tasks = fg.data.random_label_digits(4, num_samples=100, seed=2)
    assert all(torch.equal(t.X_train, tasks[0].X_train) for t in tasks)
    agreement = (tasks[0].y_train == tasks[1].y_train).float().mean()
    assert agreement < 0.3  # independent uniform labels agree about 10% of the time
    with pytest.raises(ValueError, match="num_samples"):
        fg.data.random_label_digits(2, num_samples=5000)
