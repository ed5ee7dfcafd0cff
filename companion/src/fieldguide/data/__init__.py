"""Data for the chapters: bundled scikit-learn sets, synthetic tasks with known answers,
and continual-learning task streams. Nothing is ever downloaded."""

from .digits import digits
from .streams import Task, permuted_digits, random_label_digits, split_digits
from .synthetic import GaussianMixture, gaussian_mixture, teacher_student

__all__ = [
    "GaussianMixture",
    "Task",
    "digits",
    "gaussian_mixture",
    "permuted_digits",
    "random_label_digits",
    "split_digits",
    "teacher_student",
]
