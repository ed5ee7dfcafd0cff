# ---
# jupyter:
#   fieldguide:
#     papers:
#     - 5
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: fieldguide
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Feature learning in infinite width: muP and learning-rate transfer
#
# In the NTK parametrization a very wide network trains like a kernel machine: its features hardly move.
# {cite}`yang2021tensor` ask which ways of scaling initialization and learning rates with width keep the features learning as the width goes to infinity, and find one, the *maximal update parametrization* (muP), in which every layer moves as much as it can without blowing up.
# A practical consequence, shown by {cite}`yang2021tuning`: in muP the best learning rate stops depending on the width, so it can be tuned on a narrow network and reused on a wide one, while in the standard parametrization (SP) it drifts.
# This chapter implements muP for an MLP and measures that transfer on a task that runs in seconds.
#
# **Learning objectives**
#
# 1. State the muP rules for an MLP trained by SGD or Adam (initialization and per-layer learning rate as functions of width) and explain where they come from.
# 2. Run a coordinate check: see the output of an SP network grow with width after a few Adam steps, and a muP network's stay put.
# 3. Sweep learning rates across widths and measure how far the optimum moves under SP and under muP.
#
# **Prerequisites**: {doc}`ntk` (the NTK parametrization and its kernel limit); Adam; log-scale hyper-parameter sweeps.
#
# **Papers**: {cite}`yang2021tensor` (catalog 5), with the learning-rate transfer of {cite}`yang2021tuning`.
# Background: the neural tangent kernel {cite}`jacot2018neural`.

# %% tags=["setup"]
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("fieldguide") is None:  # e.g. on Colab
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "fieldguide==0.1.0"], check=True)

import fieldguide as fg

device = fg.setup(seed=0)
fg.plot.use_style()

# %%

import matplotlib.pyplot as plt
import numpy as np
import torch

# %% [markdown]
# ## The idea
#
# **abc-parametrizations.**
# {cite}`yang2021tensor` write the weights of layer $\ell$ of a width-$n$ network as $W^\ell = n^{-a_\ell} w^\ell$, draw $w^\ell_{ij} \sim \mathcal{N}(0, n^{-2 b_\ell})$, and train $w^\ell$ with learning rate $\eta\, n^{-c}$.
# SP, NTK parametrization and mean-field networks are all points of this space.
# Their dichotomy theorem says that each such parametrization either has a kernel limit (features frozen, like the NTK) or a feature-learning limit, never both, and muP is the one in which every layer learns features maximally.
#
# **Why SP breaks.**
# Take a hidden vector $h \in \mathbb{R}^n$ with $\Theta(1)$ coordinates and a weight update $\Delta W$.
# An update computed from the gradient is a sum of outer products, correlated with $h$, so $\Delta W\, h$ sums $n$ aligned terms:
#
# $$
# (\Delta W h)_i = \sum_{j=1}^{n} \Delta W_{ij} h_j = \Theta(n \cdot \text{entry size of } \Delta W) .
# $$ (alignment)
#
# With Adam every entry of $\Delta W$ has size about $\eta$ whatever the width, so in SP a hidden layer's output moves by $\Theta(\eta n)$: at a fixed learning rate, wider networks take larger steps in function space and eventually blow up.
# The best learning rate must shrink like $1/n$.
#
# **muP.**
# muP fixes each layer's scale so that every update changes every activation by $\Theta(1)$.
# Relative to a base width $n_0$, with $m = n / n_0$, Table 3 of {cite}`yang2021tuning` gives, for an MLP:
#
# | layer | init. variance | SGD learning rate | Adam learning rate |
# |---|---|---|---|
# | input weights, hidden biases | $\sigma^2/\text{fan\_in}$ | $\eta\, m$ | $\eta$ |
# | hidden weights | $\sigma^2/\text{fan\_in}$ | $\eta$ | $\eta / m$ |
# | output weights | $\sigma_o^2/(\text{fan\_in} \cdot m)$ | $\eta / m$ | $\eta / m$ |
#
# SP uses $\sigma^2/\text{fan\_in}$ and $\eta$ everywhere, so the two coincide at $n = n_0$: a narrow model tuned in SP is already in muP.
# The readout starts smaller ($1/n^2$ variance instead of $1/n$) so that its output does not grow when its input features, which it is correlated with after training, move by $\Theta(1)$.
# `fg.width.mup_mlp` builds the network, `fg.width.param_groups` gives the per-layer learning rates.
#
# The figure is the *coordinate check* of {cite}`yang2021tuning`: the mean absolute entry of the output after a few Adam steps, against width.

# %%
torch.manual_seed(0)
probe_x, probe_y = torch.randn(64, 16), torch.randn(64, 1)
probe_widths = [32, 64, 128, 256, 512, 1024]


def coordinates_after(parametrization, width, steps=4, lr=0.01, optimizer="adam"):
    """Mean |coordinate| of both hidden activations and the output after `steps` optimizer steps."""
    model = fg.width.mup_mlp(16, width, 1, 2, parametrization=parametrization, base_width=32)
    optimizer_class = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[optimizer]
    opt = optimizer_class(fg.width.param_groups(model, lr, optimizer=optimizer))
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (model(probe_x) - probe_y) ** 2).mean().backward()
        opt.step()
    return fg.width.coordinate_sizes(model, probe_x).numpy()  # (3,)


coords = {p: np.array([coordinates_after(p, w) for w in probe_widths]) for p in ["sp", "mup"]}  # (6, 3) each
fig, axes = fg.plot.subplots(2, width=3.4, sharey=True)
for ax, p in zip(axes, ["sp", "mup"]):
    for k, name in enumerate(["hidden 1", "hidden 2", "output"]):
        ax.loglog(probe_widths, coords[p][:, k], "o-", label=name)
    ax.set(xlabel="width $n$", title=f"{p.upper()}, after 4 Adam steps")
axes[0].set_ylabel("mean |coordinate|")
axes[0].legend(fontsize=8)
plt.show()
print(f"output size, width 1024 / width 32: SP {coords['sp'][-1, 2] / coords['sp'][0, 2]:.3g}, "
      f"muP {coords['mup'][-1, 2] / coords['mup'][0, 2]:.3g}")

# %% [markdown]
# In SP the output grows roughly in proportion to the width after a few steps, as {eq}`alignment` predicts; in muP every curve is flat.
#
# ## The method
#
# ### The muP learning rates, from scratch
#
# For an MLP with layers `layers.0` (input), `layers.1..L-1` (hidden) and `layers.L` (readout), the table above is a few lines.

# %%
def mup_lr_multipliers(model, base_width, optimizer):
    """Learning-rate multiplier per parameter name under muP (the table above)."""
    m = model.layers[0].out_features / base_width
    last = len(model.layers) - 1
    out = {}
    for name, _ in model.named_parameters():
        i, kind = int(name.split(".")[1]), name.split(".")[2]
        if kind == "bias":
            out[name] = 1.0 if (i == last or optimizer == "adam") else m
        elif i == 0:
            out[name] = m if optimizer == "sgd" else 1.0
        elif i < last:
            out[name] = 1.0 if optimizer == "sgd" else 1 / m
        else:
            out[name] = 1 / m
    return out


model = fg.width.mup_mlp(64, 256, 10, 2, base_width=32, sigma_b=0.1)
for opt in ["sgd", "adam"]:
    ours = mup_lr_multipliers(model, 32, opt)
    theirs = fg.width.lr_multipliers(model, optimizer=opt)
    torch.testing.assert_close(torch.tensor(list(ours.values())), torch.tensor([theirs[k] for k in ours]))
    print(opt, {k: round(v, 4) for k, v in ours.items()})
readout_var = model.readout.weight.var().item()
print(f"readout init variance {readout_var:.3g} vs 1/(fan_in m) = {1 / (256 * 8):.3g}")

# %% [markdown]
# `fg.width.lr_sweep(model, lrs, X, y, steps=..., batch_size=..., optimizer=...)` trains one copy of a model per learning rate at once: `torch.func.vmap` stacks the copies into one batched network, they share the initialization and the mini-batches, and each uses the per-layer rates of its parametrization.
# The package tests check it against `torch.optim.SGD` and `torch.optim.Adam` run on the parameter groups one learning rate at a time.
#
# ## The experiment
#
# The task is the digits data set (1,348 training images of 64 pixels, 10 classes).
# The networks have two hidden ReLU layers of widths 32 to 512 and are trained with Adam on the cross-entropy for a short budget of 50 mini-batch steps of 128 images, with base learning rates on a grid of powers of 2.
# The narrowest width is the base width, where muP and SP coincide.
# We report the training loss at the end, averaged (in log) over two initializations, as {cite}`yang2021tuning` do for their MLP and Transformer sweeps.

# %%
sizes = fg.scale(
    quick=dict(widths=[32, 64, 128, 256, 512], log2_lrs=list(range(-12, -2)), steps=50, batch_size=128, repeats=2),
    paper=dict(widths=[32, 64, 128, 256, 512, 1024, 2048], log2_lrs=list(range(-14, -1)), steps=400, batch_size=128, repeats=4),
)
widths, steps = sizes["widths"], sizes["steps"]
log2_lrs = np.array(sizes["log2_lrs"], dtype=float)
lrs = torch.tensor(2.0**log2_lrs)
X, y = fg.data.digits("train", device=device)
gen = fg.runtime.generator(fg.runtime.current_seed(), device=device)

log_losses = {}  # (parametrization, width) -> (repeats, K) log final training loss
for p in ["sp", "mup"]:
    for w in widths:
        runs = []
        for _ in range(sizes["repeats"]):
            net = fg.width.mup_mlp(64, w, 10, 2, parametrization=p, base_width=widths[0]).to(device)
            runs.append(fg.width.lr_sweep(net, lrs.to(device), X, y, steps=steps, batch_size=sizes["batch_size"],
                                          optimizer="adam", generator=gen).log().cpu().numpy())
        log_losses[p, w] = np.array(runs)
curves = {key: np.exp(v.mean(0)) for key, v in log_losses.items()}  # geometric mean over repeats


def best_log2_lr(loss):
    """Optimum of a loss curve in log2(lr): a parabola through the best grid point and its neighbours."""
    i = int(np.clip(np.argmin(loss), 1, len(loss) - 2))
    a, b, _ = np.polyfit(log2_lrs[i - 1:i + 2], np.log(loss[i - 1:i + 2]), 2)
    return -b / (2 * a) if a > 0 else log2_lrs[int(np.argmin(loss))]


optimum = {p: np.array([best_log2_lr(curves[p, w]) for w in widths]) for p in ["sp", "mup"]}
fig, axes = fg.plot.subplots(2, width=3.6, height=3.0, sharey=True)
colors = plt.cm.viridis(np.linspace(0, 0.9, len(widths)))
for ax, p in zip(axes, ["sp", "mup"]):
    for c, w, opt_lr in zip(colors, widths, optimum[p]):
        ax.semilogy(log2_lrs, np.minimum(curves[p, w], 3.0), "o-", ms=3, color=c, label=f"width {w}")
        ax.axvline(opt_lr, color=c, lw=0.8, ls=":")
    ax.set(xlabel=r"$\log_2$ base learning rate", title=f"{p.upper()} (Adam, {steps} steps)")
axes[0].set_ylabel("final training loss")
axes[0].legend(fontsize=7)
plt.show()
for p in ["sp", "mup"]:
    print(f"{p.upper():>3} optimal log2 lr by width: " + ", ".join(f"{w}: {o:.2f}" for w, o in zip(widths, optimum[p])))

# %% [markdown]
# Under SP the curves slide to the left as the width grows: wider networks need smaller learning rates, and at the narrow network's best rate the wide ones are worse than the narrow one.
# Under muP the curves stack on top of each other, each lower than the last: the optimum stays within about a grid step, and wider is better at every rate.
#
# ## Claim check
#
# {cite}`yang2021tuning` claim that in muP the optimal learning rate is stable across widths, while in SP it shifts, and that in muP wider networks do better at a fixed learning rate.
# The most useful form of the claim is *transfer*: tune the rate on the narrowest network and use it on the widest.
# We measure the *transfer penalty*, the widest network's loss at the narrowest network's best grid rate divided by its own best loss on the grid (1 is perfect transfer).
# We check (margins chosen to hold for seeds 0 to 3): that the SP optimum moves left by more than a grid step (a factor 2); that the muP penalty is below 2 and its optimum does not move down; and that the SP optimum falls by at least 1.5 grid steps more than the muP one.
# Two rows are reported but not asserted, because at this scale they fail for some seeds: that the SP transfer penalty is clearly larger than the muP one (it is for seeds 0 and 2, not for seed 1), and that at the transferred rate the widest muP network beats the narrowest (the gap is within seed noise).

# %% tags=["claim"]
narrow, wide = widths[0], widths[-1]
i_narrow = {p: int(np.argmin(curves[p, narrow])) for p in ["sp", "mup"]}
penalty = {p: curves[p, wide][i_narrow[p]] / curves[p, wide].min() for p in ["sp", "mup"]}
shift = {p: optimum[p][-1] - optimum[p][0] for p in ["sp", "mup"]}
checks = [
    fg.claims.check(
        f"SP: the optimal learning rate drifts down with width ({narrow} -> {wide})",
        paper=5, expected="shifts (about 1/width with Adam)", measured=f"{shift['sp']:.2f} in log2(lr)",
        holds=shift["sp"] < -1.0,
    ),
    fg.claims.check(
        f"muP: the narrow network's best learning rate transfers to width {wide}",
        paper=5, expected="stable optimum", measured=f"transfer penalty {penalty['mup']:.3g}, optimum moved {shift['mup']:.2f} in log2(lr)",
        holds=penalty["mup"] < 2.0 and shift["mup"] > -0.5,
    ),
    fg.claims.check(
        f"SP: the optimum falls by more than the muP one ({narrow} -> {wide})",
        paper=5, expected="SP drifts, muP stays", measured=f"SP {shift['sp']:.2f} vs muP {shift['mup']:.2f} in log2(lr)",
        holds=shift["sp"] < shift["mup"] - 1.5,
    ),
]
sp_transfer = fg.claims.check(
    f"SP: the same transfer fails at width {wide}",
    paper=5, expected="does not transfer", measured=f"transfer penalty {penalty['sp']:.3g}",
    holds=penalty["sp"] > max(1.8, 1.5 * penalty["mup"]),
)
wider_is_better = fg.claims.check(
        "muP: wider is better at the transferred learning rate",
        paper=5, expected="loss falls with width",
        measured=f"{curves['mup', narrow][i_narrow['mup']]:.4f} (width {narrow}) -> {curves['mup', wide][i_narrow['mup']]:.4f} (width {wide})",
    holds=curves["mup", wide][i_narrow["mup"]] < curves["mup", narrow][i_narrow["mup"]],
)
assert all(checks), "a claim failed: see the FAIL rows above"

# %% [markdown]
# The smoothed muP optimum does move, upwards by a bit more than one grid step for seeds 0 to 2, the opposite direction to SP: at widths this small the finite-width corrections are still visible, and {cite}`yang2021tuning` also see the optimum settle only from moderate widths on.
# The transfer penalty is the more robust measure and the one that matters in practice.
#
# ## Explore
#
# Pick a width to compare its SP and muP learning-rate curves (nothing is retrained).
# The static figure shows the widest network.
# To use the selector, run the cell in Jupyter or Colab with `interactive=True`.

# %%
def plot_width(width=512):
    fig, ax = plt.subplots(figsize=(5.2, 3.2))
    for p, style in [("sp", "s--"), ("mup", "o-")]:
        ax.semilogy(log2_lrs, np.minimum(curves[p, width], 3.0), style, label=p.upper())
    ax.semilogy(log2_lrs, curves["sp", widths[0]], ":", color="0.5", label=f"width {widths[0]} (both)")
    ax.set(xlabel=r"$\log_2$ base learning rate", ylabel="final training loss", title=f"width {width}")
    ax.legend(fontsize=8)


explorer = fg.widgets.explore(
    plot_width,
    controls={"width": widths},
    static={"width": widths[-1]},
    interactive=False,  # the stored page shows the static figure; set True in Jupyter or Colab for the selector
)

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: mup-ex1
# Repeat the coordinate check with SGD instead of Adam (`optimizer="sgd"` in `param_groups`, a learning rate of 0.05).
# Does the SP output still grow with width, and does muP still keep it flat?
# :::
#
# ````{solution-start} mup-ex1
# :class: dropdown
# ````

# %% tags=["solution"]
def sgd_output_size(parametrization, width, steps=4, lr=0.05):
    torch.manual_seed(1)
    return float(coordinates_after(parametrization, width, steps, lr, optimizer="sgd")[-1])


for p in ["sp", "mup"]:
    sizes_sgd = [sgd_output_size(p, w) for w in probe_widths]
    print(f"{p.upper():>3} output size by width: " + ", ".join(f"{s:.3g}" for s in sizes_sgd))

# %% [markdown]
# With SGD the SP output also grows with width, more slowly than with Adam at these widths, because the input layer, whose size does not grow, still contributes much of the update; muP stays roughly constant.
#
# ````{solution-end}
# ````
#
# :::{exercise}
# :label: mup-ex2
# Why must the readout start with variance $1/n^2$ in muP, rather than SP's $1/n$?
# Consider the output $f = \sum_j v_j h_j$ after training, when the features $h_j$ have moved by $\Theta(1)$ in a direction correlated with $v$.
# :::
#
# :::{solution} mup-ex2
# :class: dropdown
# After training, the change of the features is built from gradients that contain $v$, so $h$ acquires a component aligned with $v$, and $\sum_j v_j \Delta h_j$ adds $n$ terms of the same sign: it is of order $n \cdot |v_j|$.
# For this to stay $O(1)$ the readout entries must be $O(1/n)$, variance $1/n^2$.
# With SP's $1/\sqrt{n}$ entries the output would grow like $\sqrt{n}$; to avoid that, SP must shrink the learning rate with width, which is exactly the drift of the optimum seen above.
# :::
#
# ## Going further
#
# - **Paper scale.** `FIELDGUIDE_SCALE=paper` sweeps widths up to 2,048, 13 learning rates, 400 steps and 4 initializations.
#   {cite}`yang2021tuning` sweep MLPs of widths up to 8,192 trained for 20 epochs on CIFAR-10 with SGD, and Transformers with Adam; they transfer the learning rate, the initialization scale, the output multiplier and the schedule, and tune GPT-3 6.7B through a 40M-parameter proxy.
# - **What we changed.** A small data set and a short budget of 50 Adam steps, so that the final training loss is still far from zero and its optimum is well defined; with long training the digits loss reaches almost zero at many rates and the optimum is lost in noise.
#   We use Adam rather than SGD: on 64-pixel inputs the input layer, whose size does not grow, dominates SGD's step size at widths below a few thousand, so SP's drift is too small to see with SGD on a laptop.
#   We keep SP's input and hidden initialization ($2/\text{fan\_in}$, He) for both parametrizations and do not tune the multipliers at the base width.
# - **Related papers in the catalog.**
#   *Neural Tangent Kernel: Convergence and Generalization in Neural Networks* ({doc}`ntk`) is the kernel limit that muP avoids.
#   *A theory of representation learning gives a deep generalisation of kernel methods* and *The Principles of Deep Learning Theory* describe feature learning at large but finite width.
# - **References.** Tensor Programs IV {cite}`yang2021tensor`; muTransfer {cite}`yang2021tuning`; the NTK {cite}`jacot2018neural`.
