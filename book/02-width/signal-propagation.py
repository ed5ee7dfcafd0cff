# ---
# jupyter:
#   fieldguide:
#     papers:
#     - 189
#     - 251
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
# # Signal propagation at initialization: the edge of chaos
#
# Before a deep network learns anything, its random weights already decide whether training can start.
# Push two different inputs through a deep random network: depending on the initialization scale, their representations either collapse onto each other (the *ordered* phase) or decorrelate chaotically (the *chaotic* phase), and in both cases gradients vanish or explode exponentially with depth.
# Between the two lies the *edge of chaos* (EOC), where information travels much deeper.
# {cite}`hayou2019impact` analyse where the EOC lies for a given activation, show that for ReLU it is a single point at which correlations still converge, only polynomially, and identify smooth activations that propagate information deeper still.
# This chapter computes the maps that govern this, draws the phase diagram, checks the theory against random networks, trains deep networks at and away from the EOC, and closes with a related result on what deep ReLU networks do to the *length* of input curves {cite}`hanin2022deep`.
#
# **Learning objectives**
#
# 1. Compute the variance and correlation maps of a deep random network, the fixed point $q^*$, the slope $\chi_1$ and the edge-of-chaos curve for any activation, and check them against Monte Carlo through random networks.
# 2. Explain why ReLU's edge of chaos is the single point $(\sigma_b, \sigma_w) = (0, \sqrt 2)$ and why correlations still converge to 1 there, like $1/\ell^2$, while tanh-like activations converge like $1/\ell$.
# 3. Measure the consequence for training (EOC against ordered and chaotic initializations of a 40-layer tanh network) and for geometry (expected length preservation in deep ReLU networks).
#
# **Prerequisites**: {doc}`ntk` (the layer-wise Gaussian recursion and dual activations); Gaussian expectations; fixed points of one-dimensional maps.
#
# **Papers**: {cite}`hayou2019impact` (catalog 189) and {cite}`hanin2022deep` (catalog 251).
# Background: the mean-field theory of signal propagation {cite}`poole2016exponential` and its depth scales {cite}`schoenholz2017deep`.

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
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

# %% [markdown]
# ## The idea
#
# **Two maps.**
# Take a fully connected network with layers $h^{\ell+1} = W^{\ell} \phi(h^{\ell}) + b^{\ell}$, weights $W^\ell_{ij} \sim \mathcal N(0, \sigma_w^2 / n_\ell)$ and biases $b^\ell_i \sim \mathcal N(0, \sigma_b^2)$.
# As the widths grow, each pre-activation is Gaussian, and two statistics describe how inputs travel {cite}`poole2016exponential`: the squared length per unit $q^\ell = \|h^\ell(x)\|^2 / n_\ell$ and the correlation $c^\ell$ between the pre-activations of two inputs of equal length.
# With $z \sim \mathcal N(0, 1)$ and $(u, v)$ a centred Gaussian pair of variance $q$ and correlation $c$,
#
# $$
# q^{\ell+1} = \sigma_w^2\, \mathbb E\big[\phi(\sqrt{q^\ell} z)^2\big] + \sigma_b^2,
# \qquad
# c^{\ell+1} = \frac{\sigma_w^2\, \mathbb E[\phi(u)\phi(v)] + \sigma_b^2}{q^*} .
# $$ (maps)
#
# The length map converges quickly to a fixed point $q^*$; the correlation map always fixes $c = 1$ (identical inputs stay identical), and the question is whether that fixed point attracts.
# Its slope there is
#
# $$
# \chi_1 = \frac{\partial c^{\ell+1}}{\partial c^{\ell}}\Big|_{c = 1} = \sigma_w^2\, \mathbb E\big[\phi'(\sqrt{q^*} z)^2\big] .
# $$ (chi1)
#
# If $\chi_1 < 1$, $c = 1$ attracts and every pair of inputs becomes indistinguishable at depth: the *ordered* phase.
# If $\chi_1 > 1$, $c = 1$ repels, nearby inputs decorrelate towards some $c^* < 1$: the *chaotic* phase.
# Near the stable fixed point $c^*$ the distance shrinks like $e^{-\ell/\xi_c}$ with depth scale $\xi_c = -1/\log \chi_c$, $\chi_c$ the slope at $c^*$ {cite}`schoenholz2017deep`; $\chi_1$ also multiplies the squared gradients at each layer, so gradients vanish ($\chi_1 < 1$) or explode ($\chi_1 > 1$) exponentially.
# The **edge of chaos** is the curve $\chi_1(\sigma_b, \sigma_w) = 1$, where $\xi_c$ diverges.
#
# **What the activation changes** {cite}`hayou2019impact`.
# For ReLU, $\mathbb E[\phi'(\sqrt q z)^2] = 1/2$, so $\chi_1 = \sigma_w^2/2$ and the EOC asks for $\sigma_w^2 = 2$; but then the length map is $q \mapsto q + \sigma_b^2$, which has no fixed point unless $\sigma_b = 0$.
# ReLU's EOC is the single point $(\sigma_b, \sigma_w) = (0, \sqrt 2)$: He initialization.
# There the correlation still converges to 1, only polynomially instead of exponentially; expanding the arc-cosine map of {doc}`ntk` near $c = 1$ gives $1 - c^{\ell} \approx 9\pi^2 / (2\ell^2)$.
# For the smooth activations the paper singles out (ELU and Swish among them; tanh behaves the same way) the EOC is a curve and, on it, $1 - c^\ell$ decays only like $1/\ell$: information about the difference between two inputs survives much deeper.
# The paper ties this deeper propagation to faster training, and shows it empirically.
#
# The picture: the correlation map of tanh (with $\sigma_b = 0.3$) in the three regimes.
# In the ordered phase the curve lies above the diagonal and $c^\ell$ climbs to 1; in the chaotic phase it crosses the diagonal at $c^* < 1$; on the EOC it touches the diagonal tangentially at $c = 1$.

# %%
SIGMA_B = 0.3
sw_eoc = float(fg.width.edge_of_chaos("tanh", SIGMA_B))
regimes = {"ordered": 0.7 * sw_eoc, "edge of chaos": sw_eoc, "chaotic": 1.8 * sw_eoc}
cs = torch.linspace(-1, 1, 201, dtype=torch.float64)

fig, ax = fg.plot.subplots(1, width=3.6)
for name, sw in regimes.items():
    q = fg.width.variance_fixed_point("tanh", sigma_w=sw, sigma_b=SIGMA_B)
    ax.plot(cs, fg.width.correlation_map(cs, q, "tanh", sigma_w=sw, sigma_b=SIGMA_B), label=f"{name} ($\\sigma_w$={sw:.2f})")
ax.plot(cs, cs, "k:", lw=1)
ax.set(xlabel="$c^\\ell$", ylabel="$c^{\\ell+1}$", title="tanh correlation map, $\\sigma_b$=0.3")
ax.legend(fontsize=7)
plt.show()
print(f"tanh edge of chaos at sigma_b = {SIGMA_B}: sigma_w = {sw_eoc:.4f}")

# %% [markdown]
# ## The method
#
# ### From scratch
#
# For tanh, everything in {eq}`maps` and {eq}`chi1` is a one-dimensional Gaussian expectation.
# A Gauss-Hermite rule computes them; iterating the length map gives $q^*$, and $\chi_1$ follows.

# %%
nodes, weights = np.polynomial.hermite_e.hermegauss(101)
weights = weights / weights.sum()  # E[g(z)] = sum(weights * g(nodes))


def q_star_scratch(sw, sb, iterations=300):
    q = 1.0
    for _ in range(iterations):
        q = sw**2 * np.sum(weights * np.tanh(np.sqrt(q) * nodes) ** 2) + sb**2
    return q


def chi1_scratch(sw, sb):
    return sw**2 * np.sum(weights / np.cosh(np.sqrt(q_star_scratch(sw, sb)) * nodes) ** 4)  # tanh' = 1/cosh^2


SW, SB = 1.5, 0.3
scratch = torch.tensor([q_star_scratch(SW, SB), chi1_scratch(SW, SB)], dtype=torch.float64)
package = torch.stack([
    fg.width.variance_fixed_point("tanh", sigma_w=SW, sigma_b=SB),
    fg.width.chi1("tanh", sigma_w=SW, sigma_b=SB),
])
torch.testing.assert_close(package, scratch, rtol=1e-6, atol=0)
print(f"q* = {package[0]:.5f}, chi_1 = {package[1]:.5f} (from scratch: {scratch[0]:.5f}, {scratch[1]:.5f})")

# %% [markdown]
# ### The package
#
# `fieldguide.width` has the pieces, for any registered activation or callable:
#
# - `variance_map(q, activation, sigma_w=, sigma_b=)` and `variance_fixed_point(...)`, the attracting $q^*$ (scanned and bisected, `inf` when none exists);
# - `chi1(activation, sigma_w=, sigma_b=)`, `edge_of_chaos(activation, sigma_b)` (the $\sigma_w$ with $\chi_1 = 1$, `nan` where the EOC does not reach) and `correlation_depth_scale(...)`, $\xi_c$;
# - `correlation_map(c, q, activation, ...)`, which reuses the dual activations `fg.width.get_dual` of {doc}`ntk`, and `correlation_curve(c0, depth, ...)`, its iterates;
# - `measure_propagation(mlp, x)`, the Monte Carlo side: it pushes inputs through a finite `fg.nn.MLP` and returns every layer's $q^\ell$ and $c^\ell$.
#
# ReLU's EOC is one point; tanh's starts at $\sigma_w = 1$ for $\sigma_b = 0$ (because $\tanh'(0) = 1$ and $q^* = 0$ there) and rises with $\sigma_b$.

# %%
print("ReLU EOC sigma_w at sigma_b = 0, 0.1:", fg.width.edge_of_chaos("relu", torch.tensor([0.0, 0.1])).numpy().round(4))
print("tanh EOC sigma_w at sigma_b = 0, 0.1, 0.3:", fg.width.edge_of_chaos("tanh", torch.tensor([0.0, 0.1, 0.3])).numpy().round(4))
print(f"ReLU chi_1 at sigma_w^2 = 2: {float(fg.width.chi1('relu', sigma_w=math.sqrt(2))):.4f}")
print(f"tanh depth scale xi_c, ordered / chaotic: {fg.width.correlation_depth_scale('tanh', sigma_w=regimes['ordered'], sigma_b=SIGMA_B):.2f}"
      f" / {fg.width.correlation_depth_scale('tanh', sigma_w=regimes['chaotic'], sigma_b=SIGMA_B):.2f} layers")

# %% [markdown]
# ## The experiment
#
# Four measurements, at laptop scale: the phase diagram of tanh; the correlation through depth, theory against random networks; the rate at which correlations converge on the EOC for ReLU against smooth activations; and training deep tanh networks from the three kinds of initialization.

# %%
sizes = fg.scale(
    quick=dict(width=1024, depth=40, long_depth=500, train_width=64, train_depth=40, epochs=25,
               length_width=32, length_depths=[1, 2, 4, 8, 16, 32], nets=24, curve_points=512),
    paper=dict(width=4096, depth=100, long_depth=2000, train_width=256, train_depth=100, epochs=60,
               length_width=64, length_depths=[1, 2, 5, 10, 20, 50], nets=100, curve_points=4000),
)
print(sizes)

# %% [markdown]
# ### 1. The phase diagram of tanh
#
# $\log \chi_1$ over the $(\sigma_b, \sigma_w)$ plane, with the EOC curve where it crosses zero.

# %%
sb_grid = torch.linspace(0.0, 1.0, 26, dtype=torch.float64)
sw_grid = torch.linspace(0.5, 4.0, 36, dtype=torch.float64)
log_chi = torch.log(fg.width.chi1("tanh", sigma_w=sw_grid[:, None], sigma_b=sb_grid[None, :]))  # (36, 26)
eoc_sb = torch.linspace(0.0, 1.0, 11, dtype=torch.float64)
eoc_sw = fg.width.edge_of_chaos("tanh", eoc_sb)

fig, ax = fg.plot.subplots(1, width=4.0)
mesh = ax.pcolormesh(sb_grid, sw_grid, log_chi, cmap="RdBu_r", vmin=-1.5, vmax=1.5, shading="auto")
ax.plot(eoc_sb, eoc_sw, "k-", lw=2, label="edge of chaos")
for name, sw in regimes.items():
    ax.plot([SIGMA_B], [sw], "o", label=name)
ax.text(0.05, 0.7, "ordered", color="navy")
ax.text(0.05, 3.5, "chaotic", color="darkred")
fig.colorbar(mesh, ax=ax, label="$\\log \\chi_1$")
ax.set(xlabel="$\\sigma_b$", ylabel="$\\sigma_w$", title="tanh")
ax.legend(fontsize=7, loc="center right")
plt.show()

# %% [markdown]
# ### 2. Correlations through depth: theory against random networks
#
# Two inputs of correlation 0.2 scaled so that the first layer already sits at $q^*$, pushed through one random tanh network per regime (width 1024 at quick scale); the curves are {eq}`maps` iterated.

# %%
width, depth = sizes["width"], sizes["depth"]
d_in, c_in = 64, 0.2
basis = torch.linalg.qr(torch.randn(d_in, 2))[0].T  # (2, d_in) orthonormal rows
pair = torch.stack([basis[0], c_in * basis[0] + math.sqrt(1 - c_in**2) * basis[1]])  # unit vectors, cosine c_in

theory, measured = {}, {}
for name, sw in regimes.items():
    q_star = float(fg.width.variance_fixed_point("tanh", sigma_w=sw, sigma_b=SIGMA_B))
    x = pair * math.sqrt(d_in * (q_star - SIGMA_B**2) / sw**2)  # first-layer q = q*
    c1 = (sw**2 * c_in * (q_star - SIGMA_B**2) / sw**2 + SIGMA_B**2) / q_star  # first-layer correlation
    theory[name] = fg.width.correlation_curve(c1, depth - 1, "tanh", sigma_w=sw, sigma_b=SIGMA_B, q=q_star)
    net = fg.nn.MLP(d_in, [width] * depth, 1, activation="tanh", init="normal", sigma_w=sw, sigma_b=SIGMA_B)
    measured[name] = fg.width.measure_propagation(net, x).c[:, 0, 1].double()

fig, ax = fg.plot.subplots(1, width=4.0)
layers = np.arange(1, depth + 1)
for name in regimes:
    line, = ax.plot(layers, theory[name], label=f"{name}: theory")
    ax.plot(layers, measured[name], "o", ms=3, color=line.get_color(), label=f"{name}: width {width}")
ax.set(xlabel="layer $\\ell$", ylabel="$c^\\ell$", title="correlation of two inputs through depth")
ax.legend(fontsize=7)
plt.show()
corr_error = {name: float((measured[name] - theory[name]).abs().max()) for name in regimes}
print("max |measured - theory| over layers:", {k: round(v, 4) for k, v in corr_error.items()})

# %% [markdown]
# In the ordered phase the two inputs merge within a few layers; in the chaotic phase they settle at $c^* < 1$ and further layers scramble rather than keep information; on the EOC the correlation creeps towards 1 slowly.
#
# ### 3. On the edge of chaos: ReLU against smooth activations
#
# Iterate the correlation map at each activation's EOC point, from $c^0 = 0.2$, for 500 layers (quick scale).
# ReLU sits at $(0, \sqrt 2)$; tanh, erf and ELU at their EOC point for $\sigma_b = 0.1$.

# %%
long_depth = sizes["long_depth"]
eoc_points = {"ReLU": ("relu", math.sqrt(2.0), 0.0)}
for label, act in [("tanh", "tanh"), ("erf", "erf"), ("ELU", F.elu)]:
    eoc_points[label] = (act, float(fg.width.edge_of_chaos(act, 0.1)), 0.1)
gap = {}
for label, (act, sw, sb) in eoc_points.items():
    q = 1.0 if label == "ReLU" else None  # ReLU at the EOC: every q is a fixed point
    gap[label] = 1 - fg.width.correlation_curve(0.2, long_depth, act, sigma_w=sw, sigma_b=sb, q=q)
ell = torch.arange(long_depth + 1, dtype=torch.float64)
tail = slice(long_depth // 5, long_depth + 1)
slopes = {label: fg.plot.power_law_fit(ell[tail].numpy(), g[tail].numpy())[0] for label, g in gap.items()}
relu_constant = float(long_depth**2 * gap["ReLU"][-1] / (9 * math.pi**2 / 2))

fig, ax = fg.plot.subplots(1, width=4.0)
for label, g in gap.items():
    ax.loglog(ell[1:], g[1:], label=f"{label} ($\\sigma_w$={eoc_points[label][1]:.3f}): slope {slopes[label]:.2f}")
ax.loglog(ell[10:], 9 * math.pi**2 / 2 / ell[10:] ** 2, "k:", label="$9\\pi^2 / (2\\ell^2)$")
ax.set(xlabel="layer $\\ell$", ylabel="$1 - c^\\ell$", title="on the edge of chaos")
ax.legend(fontsize=7)
plt.show()
print("log-log slopes of 1 - c over the last 80% of layers:", {k: round(v, 3) for k, v in slopes.items()})
print(f"ReLU: l^2 (1 - c_l) / (9 pi^2 / 2) at l = {long_depth}: {relu_constant:.3f}")

# %% [markdown]
# Both converge polynomially, as the paper shows, but at different rates: ReLU's gap closes like $1/\ell^2$, the smooth activations' like $1/\ell$.
# After 500 layers a ReLU network has squeezed two quite different inputs to a correlation within about $2 \times 10^{-4}$ of 1; tanh, erf and ELU keep them tens of times further apart.
# ELU's slope is still approaching $-1$ at this depth.
#
# ### 4. Training deep tanh networks
#
# Does it matter for training?
# Train a 40-layer, width-64 tanh network on the digits (standardized pixels, plain SGD with learning rate 0.03 and batches of 128, 25 epochs at quick scale, about 270 steps) from the EOC point and from the ordered and chaotic points of the figures above.

# %%
X_train, y_train = fg.data.digits("train")
X_test, y_test = fg.data.digits("test")
mean, std = X_train.mean(0), X_train.std(0) + 1e-2
X_train, X_test = (X_train - mean) / std, (X_test - mean) / std

curves, final = {}, {}
for name, sw in regimes.items():
    net = fg.nn.MLP(64, [sizes["train_width"]] * sizes["train_depth"], 10, activation="tanh", init="normal",
                    sigma_w=sw, sigma_b=SIGMA_B, sigma_w_out=1.0)
    losses: list[float] = []
    fg.train.fit(net, X_train, y_train, optimizer="sgd", lr=0.03, epochs=sizes["epochs"], batch_size=128,
                 generator=fg.runtime.generator(fg.runtime.current_seed()),
                 after_step=lambda step, loss, losses=losses: losses.append(float(loss)), progress=False)
    curves[name] = np.array(losses)
    final[name] = {"train loss": float(np.mean(losses[-20:])), "test accuracy": fg.train.accuracy(net, X_test, y_test)}

fig, ax = fg.plot.subplots(1, width=4.0)
for name, losses in curves.items():
    ax.plot(np.convolve(losses, np.ones(10) / 10, mode="valid"), label=name)
ax.set(xlabel="SGD step", ylabel="training loss (moving average)", yscale="log",
       title=f"tanh, depth {sizes['train_depth']}, width {sizes['train_width']}")
ax.legend(fontsize=7)
plt.show()
for name, r in final.items():
    print(f"{name:14s} train loss {r['train loss']:.4f}   test accuracy {r['test accuracy']:.3f}")

# %% [markdown]
# Off the EOC the 40-layer network barely improves on chance: in the ordered phase all inputs reach the last layer as nearly the same vector, in the chaotic phase as nearly unrelated ones, and the gradients vanish or explode accordingly.
# From the EOC it fits the training set within a few hundred steps.
#
# ## Deep ReLU networks preserve expected length
#
# {cite}`hanin2022deep` look at the same random networks from a geometric angle.
# Feed a ReLU network a curve of inputs and measure the length of the curve of outputs: does depth stretch it?
# Earlier work argued the length grows exponentially with depth; they prove that with the standard He initialization (weight variance $2/\text{fan-in}$ in the hidden layers, which is ReLU's EOC point) the *expected* length distortion does not grow with depth: for equal input and output dimension it stays at most 1 and shrinks slightly as depth grows, while its higher moments, hence its spread, grow with the ratio depth/width.
# Their bounds also depend on the layer widths and on the ratio of output to input dimension.
# One intuition: the Jacobian of the network along the curve has $\mathbb E\|J u\|^2 = \|u\|^2 \, n_{\text{out}}/n_{\text{in}}$ exactly at every depth when the variance is $2/\text{fan-in}$, and the length is an average of $\|J u\|$, which Jensen's inequality keeps below $\sqrt{\mathbb E \|Ju\|^2}$.
#
# The measurement: ReLU networks of width 32 (quick scale) with equal input and output dimension, no biases, He initialization in the hidden layers and variance $1/\text{fan-in}$ at the linear readout (`fg.nn.MLP(..., init="kaiming")`), at several depths, each fed a circle of radius $\sqrt{n}$ in a random plane; for contrast, the same networks with weight variance $4/\text{fan-in}$, which leaves the EOC on the chaotic side.

# %%
n, points = sizes["length_width"], sizes["curve_points"]
plane = torch.linalg.qr(torch.randn(n, 2))[0]  # (n, 2) orthonormal basis of a random plane
angle = torch.linspace(0, 2 * math.pi, points)
circle = math.sqrt(n) * torch.stack([angle.cos(), angle.sin()], 1) @ plane.T  # (points, n)

distortion = {"He, 2/fan-in": [], "4/fan-in": []}
for depth_l in sizes["length_depths"]:
    for label, kwargs in [("He, 2/fan-in", dict(init="kaiming")), ("4/fan-in", dict(init="normal", sigma_w=2.0, sigma_w_out=1.0))]:
        ratios = [fg.width.length_distortion(fg.nn.MLP(n, [n] * depth_l, n, activation="relu", **kwargs), circle)
                  for _ in range(sizes["nets"])]
        distortion[label].append(ratios)
he = np.array(distortion["He, 2/fan-in"])  # (depths, nets)
big = np.array(distortion["4/fan-in"])

fig, axes = fg.plot.subplots(2, width=3.4)
depths_l = np.array(sizes["length_depths"])
axes[0].errorbar(depths_l, he.mean(1), yerr=he.std(1), fmt="o-", capsize=3, label="mean $\\pm$ std over networks")
axes[0].axhline(1.0, color="k", ls=":")
axes[0].plot(depths_l, np.exp(-5 * depths_l / (8 * n)), "k--", lw=1, label="$e^{-5L/(8n)}$ (a guide)")
axes[0].set(xscale="log", xlabel="depth", ylabel="length distortion", title="He initialization", ylim=(0, 2))
axes[0].legend(fontsize=7)
axes[1].semilogy(depths_l, he.mean(1), "o-", label="2/fan-in (EOC)")
axes[1].semilogy(depths_l, big.mean(1), "s-", label="4/fan-in")
axes[1].semilogy(depths_l, np.sqrt(2.0) ** depths_l, "k:", label="$\\sqrt{2}^{L}$")
axes[1].set(xscale="log", xlabel="depth", title="mean distortion")
axes[1].legend(fontsize=7)
plt.show()
for d_l, m, s, b in zip(depths_l, he.mean(1), he.std(1), big.mean(1)):
    print(f"depth {d_l:3d}: He mean {m:.3f} (std {s:.3f})   4/fan-in mean {b:.4g}")

# %% [markdown]
# The mean never exceeds 1 and shrinks with depth; how fast is set by depth/width (here up to $L/n = 1$, a deep and narrow network: the shrinkage is slight only while $L \ll n$), and the dashed guide $e^{-5L/(8n)}$ follows it closely.
# The spread between networks widens with depth.
# One step off the EOC and the length grows like $\sqrt 2^{L}$, the exponential growth earlier work expected.
#
# ## Claim check
#
# What the papers claim and what this chapter measured:
# the mean-field maps describe random networks (here to within the finite-width noise of one network of width 1024);
# on the EOC, ReLU correlations converge like $1/\ell^2$ (slope $-2$, constant $9\pi^2/2$) and tanh, erf and ELU ones like $1/\ell$ (slope $-1$), the sense in which {cite}`hayou2019impact` say smooth activations propagate information deeper;
# deep tanh networks train from the EOC and not from the ordered or chaotic points;
# and ReLU networks at He initialization keep the mean length distortion at or below 1 at every depth, shrinking with depth/width, while its spread grows {cite}`hanin2022deep`.
# In the chaotic phase one network of width 1024 strays further from the mean-field curve (see the max error printed above), so that case is checked by where it settles rather than layer by layer.
# The asymptotic rates are properties of the maps, so their margins are tight; the others allow for any seed.

# %% tags=["claim"]
smooth_slopes = [slopes[k] for k in ("tanh", "erf", "ELU")]
checks = [
    fg.claims.check(
        "the correlation map predicts a random tanh network's layer-to-layer correlations (ordered and EOC)",
        paper=189, expected="agreement up to finite-width noise",
        measured=f"max error {max(corr_error['ordered'], corr_error['edge of chaos']):.3f} (width {width})",
        holds=max(corr_error["ordered"], corr_error["edge of chaos"]) < 0.1,
    ),
    fg.claims.check(
        "in the chaotic phase the network's correlations settle near the map's fixed point c* < 1",
        paper=189, expected=f"c* = {float(theory['chaotic'][-1]):.3f}",
        measured=f"mean over the last 20 layers {float(measured['chaotic'][-20:].mean()):.3f}",
        holds=abs(float(measured["chaotic"][-20:].mean() - theory["chaotic"][-1])) < 0.1 and float(theory["chaotic"][-1]) < 0.9,
    ),
    fg.claims.check(
        "ReLU's EOC is the single point (sigma_b, sigma_w^2) = (0, 2)",
        paper=189, expected="sigma_w = 1.4142 at sigma_b = 0, none at sigma_b > 0",
        measured=f"{float(fg.width.edge_of_chaos('relu', 0.0)):.4f}, sigma_b = 0.1: {float(fg.width.edge_of_chaos('relu', 0.1))}",
        holds=abs(float(fg.width.edge_of_chaos("relu", 0.0)) - math.sqrt(2)) < 1e-6 and math.isnan(float(fg.width.edge_of_chaos("relu", 0.1))),
    ),
    fg.claims.check(
        "on the EOC, ReLU correlations still converge to 1, polynomially: 1 - c_l ~ 9 pi^2 / (2 l^2)",
        paper=189, expected="slope -2, ratio 1", measured=f"slope {slopes['ReLU']:.3f}, ratio {relu_constant:.3f}",
        holds=-2.1 < slopes["ReLU"] < -1.8 and abs(relu_constant - 1) < 0.1,
    ),
    fg.claims.check(
        "smooth activations on their EOC converge more slowly, like 1/l (tanh, erf, ELU)",
        paper=189, expected="slope -1 (asymptotically), far above ReLU's -2", measured=", ".join(f"{s:.3f}" for s in smooth_slopes),
        holds=all(-1.15 < s < -0.7 for s in smooth_slopes),
    ),
    fg.claims.check(
        f"EOC initialization trains a depth-{sizes['train_depth']} tanh network; ordered and chaotic ones stall",
        paper=189, expected="EOC loss far below both",
        measured=", ".join(f"{k} {v['train loss']:.3f}" for k, v in final.items()),
        holds=final["edge of chaos"]["train loss"] < 0.4 * min(final["ordered"]["train loss"], final["chaotic"]["train loss"]),
    ),
    fg.claims.check(
        "He-initialized ReLU networks do not stretch expected length with depth (n_in = n_out; depths 1 to 32 at width 32)",
        paper=251, expected="mean distortion <= 1 at every depth, decaying with depth/width (no exponential growth)",
        measured=", ".join(f"{m:.3f}" for m in he.mean(1)),
        holds=bool(np.all(he.mean(1) < 1.05)) and he.mean(1)[-1] < he.mean(1)[0] + 0.05 and he.mean(1)[-1] > 0.25,
    ),
    fg.claims.check(
        "the spread of the distortion grows with depth",
        paper=251, expected="std grows", measured=f"std {he.std(1)[0]:.3f} (depth {depths_l[0]}) -> {he.std(1)[-1]:.3f} (depth {depths_l[-1]})",
        holds=he.std(1)[-1] > 2 * he.std(1)[0],
    ),
    fg.claims.check(
        "with weight variance 4/fan-in the length grows exponentially instead",
        paper=251, expected="~ sqrt(2)^L", measured=f"{big.mean(1)[-2]:.4g} at depth {depths_l[-2]} (sqrt(2)^L = {math.sqrt(2) ** depths_l[-2]:.4g})",
        holds=big.mean(1)[-2] > 0.1 * math.sqrt(2) ** depths_l[-2],
    ),
]
assert all(checks), "a claim failed: see the FAIL rows above"

# %% [markdown]
# ## Explore
#
# Move $\sigma_w$ and $\sigma_b$ and watch the correlation of pairs of inputs (starting at several $c^0$) through 60 layers, for tanh or ReLU.
# The title gives $\chi_1$ and the depth scale $\xi_c$; near $\chi_1 = 1$ the curves flatten out and $\xi_c$ blows up.


# %%
def plot_correlations(sigma_w=1.3956, sigma_b=0.3, activation="tanh"):
    fig, ax = fg.plot.subplots(1, width=4.0)
    q = float(fg.width.variance_fixed_point(activation, sigma_w=sigma_w, sigma_b=sigma_b))
    if not math.isfinite(q):
        ax.set_title("no finite q*: the length explodes")
        plt.show()
        return
    q = max(q, 1e-6)
    for c0 in (-0.5, 0.0, 0.5, 0.9):
        ax.plot(fg.width.correlation_curve(c0, 60, activation, sigma_w=sigma_w, sigma_b=sigma_b, q=q), label=f"$c^0$ = {c0}")
    slope = float(fg.width.chi1(activation, sigma_w=sigma_w, sigma_b=sigma_b, q=q))
    xi = fg.width.correlation_depth_scale(activation, sigma_w=sigma_w, sigma_b=sigma_b)
    ax.set(xlabel="layer", ylabel="$c^\\ell$", ylim=(-1, 1.05), title=f"$\\chi_1$ = {slope:.3f}, $\\xi_c$ = {xi:.3g}")
    ax.legend(fontsize=7)
    plt.show()


fg.widgets.explore(
    plot_correlations,
    controls={"sigma_w": (0.5, 4.0, 0.05), "sigma_b": (0.0, 1.0, 0.05), "activation": ["tanh", "relu", "erf"]},
    static={"sigma_w": 1.3956, "sigma_b": 0.3, "activation": "tanh"},
)

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: signal-propagation-ex1
# Derive ReLU's edge of chaos by hand.
# Use $\mathbb E[\max(0, \sqrt q z)^2] = q/2$ to write the length map, find its fixed point $q^*$ for $\sigma_w^2 < 2$, and show that $\chi_1 = \sigma_w^2/2$ whatever $q$.
# Why does $\chi_1 = 1$ then force $\sigma_b = 0$?
# :::
#
# ````{solution-start} signal-propagation-ex1
# :class: dropdown
# ````
# The length map is $q \mapsto \sigma_w^2 q / 2 + \sigma_b^2$, a line of slope $\sigma_w^2/2$.
# For $\sigma_w^2 < 2$ it has the attracting fixed point $q^* = \sigma_b^2 / (1 - \sigma_w^2/2)$.
# The derivative of ReLU is the indicator of $z > 0$, so $\mathbb E[\phi'(\sqrt q z)^2] = 1/2$ and $\chi_1 = \sigma_w^2/2$ for every $q$.
# The EOC needs $\sigma_w^2 = 2$; then the length map is $q \mapsto q + \sigma_b^2$, which grows without bound unless $\sigma_b = 0$ (and then every $q$ is a fixed point).
# So the EOC is the single point $(0, \sqrt 2)$, which `fg.width.edge_of_chaos("relu", ...)` reports as `nan` for any $\sigma_b > 0$.
#
# ````{solution-end}
# ````
#
# :::{exercise}
# :label: signal-propagation-ex2
# Schoenholz et al. found that a random network is trainable only up to a depth of a few times $\xi_c$.
# Compute $\xi_c$ along a line of $\sigma_w$ at $\sigma_b = 0.3$ for tanh and plot it against $\sigma_w$, marking the EOC.
# Where does the 40-layer network of the experiment fall?
# :::
#
# ````{solution-start} signal-propagation-ex2
# :class: dropdown
# ````

# %% tags=["solution"]
line = np.linspace(0.6, 3.0, 16)
xis = [fg.width.correlation_depth_scale("tanh", sigma_w=float(s), sigma_b=SIGMA_B) for s in line]
fig, ax = fg.plot.subplots(1, width=4.0)
ax.semilogy(line, xis, "o-", ms=3)
ax.axvline(sw_eoc, color="k", ls=":", label="edge of chaos")
ax.axhline(40 / 6, color="gray", ls="--", label="40 layers / 6")
ax.set(xlabel="$\\sigma_w$", ylabel="$\\xi_c$ (layers)", title="tanh, $\\sigma_b$ = 0.3")
ax.legend(fontsize=7)
plt.show()
print(f"xi_c at the ordered / chaotic points of the experiment: "
      f"{fg.width.correlation_depth_scale('tanh', sigma_w=regimes['ordered'], sigma_b=SIGMA_B):.2f} / "
      f"{fg.width.correlation_depth_scale('tanh', sigma_w=regimes['chaotic'], sigma_b=SIGMA_B):.2f}")

# %% [markdown]
# $\xi_c$ peaks sharply at the EOC and is only a few layers at the ordered and chaotic points used in the experiment, far below the 40 layers of the network: the depth-scale picture predicts that those two networks cannot train, as observed.
#
# ````{solution-end}
# ````
#
# :::{exercise}
# :label: signal-propagation-ex3
# Repeat the training experiment with ReLU at its EOC point (`init="kaiming"`, no bias) and with tanh at its EOC, at the same depth and learning rate.
# Does the smooth activation train faster, as {cite}`hayou2019impact` report for their (larger) networks? Is the difference robust to the seed?
# :::
#
# ````{solution-start} signal-propagation-ex3
# :class: dropdown
# ````
# Build the ReLU network with `fg.nn.MLP(64, [64] * 40, 10, activation="relu", init="kaiming")` (hidden weight variance $2/\text{fan-in}$, no bias: ReLU's EOC) and train it with the same `fg.train.fit` call as the tanh networks, for seeds 0 to 3.
# Compare the two loss curves over several seeds (and a couple of learning rates) before drawing a conclusion: with a few hundred steps on a small data set the gap between two trainable initializations can be smaller than the spread between seeds.
# The paper's advantage for smooth activations is measured on deeper networks trained for longer, where ReLU's faster loss of correlation ($1/\ell^2$ against $1/\ell$) has more layers to act.
#
# ````{solution-end}
# ````
#
# ## Going further
#
# - **Paper scale.** `FIELDGUIDE_SCALE=paper` uses wider networks for the Monte Carlo check, 2,000 layers for the convergence rates, a 100-layer width-256 training run and 100 networks per depth for the length distortion. {cite}`hayou2019impact` train deeper and wider networks on image-classification benchmarks and compare activations at and off their EOC; here the training comparison uses tanh only, on the small digits data, for a few hundred SGD steps.
# - **What was changed.** The quadrature for the one-dimensional expectations is a fine trapezoid rule (accurate for the sharp $\tanh'$ of large $q$); the pair expectations reuse the dual activations of {doc}`ntk`. The length experiment uses 24 networks of width 32 and a circle of 512 points, not the paper's larger sweeps.
# - **Related chapters and papers.** The kernels of {doc}`ntk` are built from the same Gaussian recursion; {doc}`wide-deep-optimality` follows it to infinite depth. In the catalog: *Towards Training Without Depth Limits: Batch Normalization Without Gradient Explosion*, *GELU Activation Function in Deep Learning: A Comprehensive Mathematical Analysis and Performance*, *Padé Activation Units: End-to-end Learning of Flexible Activation Functions in Deep Networks*, and *On the infinite-depth limit of finite-width neural networks*.
