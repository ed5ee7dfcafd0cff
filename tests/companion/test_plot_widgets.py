import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import fieldguide as fg  # noqa: E402


def test_power_law_fit_recovers_exponent():
    x = np.array([10, 100, 1000, 10000.0])
    slope, c = fg.plot.power_law_fit(x, 3 * x**-0.5)
    assert slope == pytest.approx(-0.5) and c == pytest.approx(3)
    with pytest.raises(ValueError, match="positive"):
        fg.plot.power_law_fit([1, 2], [0, 1])


def test_use_style_and_loglog_with_fit():
    fg.plot.use_style()
    assert plt.rcParams["axes.spines.top"] is False
    fig, ax = fg.plot.subplots(2)
    assert len(ax) == 2
    assert fg.plot.loglog_with_fit(ax[0], [1, 10, 100], [1, 0.1, 0.01]) == pytest.approx(-1)
    plt.close(fig)


def test_explore_draws_static_figure_without_a_kernel():
    calls = []

    def plot_fn(width, activation):
        calls.append((width, activation))
        plt.figure()
        plt.plot([0, width])

    result = fg.widgets.explore(plot_fn, {"width": (1, 10), "activation": ["relu", "erf"]}, {"width": 3, "activation": "relu"})
    assert result is None and calls == [(3, "relu")]
    with pytest.raises(ValueError, match="missing"):
        fg.widgets.explore(plot_fn, {"width": (1, 10)}, {})


def test_explore_builds_widget_when_asked():
    pytest.importorskip("ipywidgets")
    widget = fg.widgets.explore(lambda a, b: plt.figure(), {"a": (1, 5), "b": ["x", "y"]}, {"a": 2, "b": "y"}, interactive=True)
    assert [child.value for child in widget.children[:2]] == [2, "y"]
    assert (widget.children[0].min, widget.children[0].max) == (1, 5)


def test_static_environment_switches_the_explorer_off(monkeypatch):
    monkeypatch.setenv("FIELDGUIDE_STATIC", "1")
    assert fg.widgets._has_live_frontend() is False
