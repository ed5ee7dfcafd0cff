"""Interactive explorers that still show something on the static web page.

``explore(plot_fn, controls, static)`` draws ``plot_fn(**static)`` as an ordinary
figure (what the online book and nbval see) and, when ipywidgets is installed
and a live kernel is running, adds sliders that redraw it. Batch runs (``make
execute``, the tests) set ``FIELDGUIDE_STATIC=1``: a kernel driven by nbclient or
nbval looks live, but nobody can move its sliders, and the widget's first redraw
would add an output that only a live front end can show.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import matplotlib.pyplot as plt


def _has_live_frontend() -> bool:
    if os.environ.get("FIELDGUIDE_STATIC", "") not in ("", "0"):
        return False  # batch execution (make execute, nbval): the static figure only
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def explore(
    plot_fn: Callable[..., Any],
    controls: Mapping[str, Any],
    static: Mapping[str, Any],
    *,
    interactive: bool | None = None,
):
    """Show a static figure of ``plot_fn(**static)`` and, live, an ipywidgets explorer.

    Parameters
    ----------
    plot_fn
        Draws one figure from keyword arguments (it may create its own figure).
    controls
        ipywidgets abbreviations or widgets per argument, e.g. ``{"width": (16, 1024, 16)}``
        or ``{"activation": ["relu", "erf"]}``.
    static
        The values of the static figure; must give every argument in ``controls``.
    interactive
        Force the explorer on or off (default: on when a live kernel runs and
        ``FIELDGUIDE_STATIC`` is unset or 0).

    Returns
    -------
    The ipywidgets ``interactive`` object, or ``None`` when only the static figure was drawn.
    """
    if not callable(plot_fn):
        raise TypeError("plot_fn must be callable")
    if not isinstance(controls, Mapping) or not isinstance(static, Mapping):
        raise TypeError("controls and static must be mappings from argument names to values")
    missing = set(controls) - set(static)
    if missing:
        raise ValueError(f"static must give a value for every control; missing {sorted(missing)}")
    plot_fn(**static)
    plt.show()
    if interactive is None:
        interactive = _has_live_frontend()
    if not interactive:
        return None
    import ipywidgets
    from IPython.display import display

    def redraw(**kwargs):
        plot_fn(**kwargs)
        plt.show()

    # each control starts at its static value, so the live figure opens where the static one is
    start = {name: ipywidgets.interactive.widget_from_abbrev(abbrev, static[name]) for name, abbrev in controls.items()}
    widget = ipywidgets.interactive(redraw, **start)
    display(widget)
    return widget
