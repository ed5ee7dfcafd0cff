"""The book's house style for figures, and a few recurring plots.

Call ``fg.plot.use_style()`` once (``fg.setup`` does not touch matplotlib);
figures then share sizes, fonts, a colour-blind-safe palette and light grids.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

# Okabe-Ito colour-blind-safe palette.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")

STYLE = {
    "figure.figsize": (6.0, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
    "image.cmap": "viridis",
}


def use_style() -> None:
    """Apply the house style to matplotlib."""
    mpl.rcParams.update(STYLE)


def subplots(ncols: int = 1, nrows: int = 1, *, width: float = 3.2, height: float = 2.8, **kwargs):
    """``plt.subplots`` with panels of ``width`` x ``height`` inches each, laid out tightly."""
    if ncols < 1 or nrows < 1:
        raise ValueError(f"ncols and nrows must be positive, got {ncols}, {nrows}")
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), layout="constrained", **kwargs)
    return fig, axes


def power_law_fit(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Least-squares fit of ``log y = slope * log x + log c``; returns ``(slope, c)``."""
    x_arr, y_arr = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x_arr.shape != y_arr.shape or x_arr.ndim != 1 or len(x_arr) < 2:
        raise ValueError("x and y must be 1-D sequences of equal length (at least 2)")
    if np.any(x_arr <= 0) or np.any(y_arr <= 0):
        raise ValueError("x and y must be positive for a power-law fit")
    slope, intercept = np.polyfit(np.log(x_arr), np.log(y_arr), 1)
    return float(slope), float(np.exp(intercept))


def loglog_with_fit(ax, x: Sequence[float], y: Sequence[float], *, label: str = "", marker: str = "o") -> float:
    """Plot ``y`` against ``x`` on log-log axes with its power-law fit; returns the slope."""
    slope, c = power_law_fit(x, y)
    x_arr = np.asarray(x, dtype=float)
    (line,) = ax.loglog(x_arr, y, marker, label=label)
    ax.loglog(x_arr, c * x_arr**slope, "--", color=line.get_color(), alpha=0.7, label=f"slope {slope:.2f}")
    return slope
