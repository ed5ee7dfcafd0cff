# ---
# jupyter:
#   fieldguide:
#     papers:
#     - 1
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
# # Wide and deep networks as classifiers: 1-NN, majority vote, and Bayes optimality
#
# An infinitely wide network trained by gradient descent is a kernel machine with the neural tangent kernel (NTK).
# Let its depth grow too, and the kernel changes shape layer after layer until, in the limit, the classifier it defines is one of three textbook rules: the label of the nearest training point, the label of the larger class, or a vote weighted by a kernel that blows up at the training points.
# Which of the three you get is decided by two Hermite coefficients of the activation and the slope of its dual at 1 {cite}`radhakrishnan2023wide`.
# Only the third, with the right exponent, is *consistent*: its error tends to the Bayes error, the smallest any classifier can reach.
# This chapter iterates the kernel recursion to great depth, sorts activations into the three classes, and checks on a problem with a known Bayes error which of them learn as data grows.
#
# **Learning objectives**
#
# 1. Iterate the one-dimensional dual map of an activation to see what the NTK of an infinitely wide network becomes as its depth grows, and predict its limit from $a_0$, $a_1$ and $k'(1)$.
# 2. Implement majority vote, 1-nearest neighbour and singular-kernel classifiers behind one interface, and check that a deep NTK classifier agrees with the one its activation predicts.
# 3. Measure that a singular kernel with exponent equal to the data's dimension approaches the Bayes error as $n$ grows, while 1-NN stays near the Cover–Hart limit and majority vote at the minority rate.
#
# **Prerequisites**: {doc}`ntk` (the NNGP and NTK recursions, dual activations, kernel regression); Hermite polynomials help but are not needed.
#
# **Papers**: Radhakrishnan, Belkin and Uhler, *Wide and deep neural networks achieve consistency for classification* {cite}`radhakrishnan2023wide` (catalog 1; its arXiv version is titled *... achieve optimality for classification*).

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

from fieldguide import width

f64 = torch.float64  # kernels of near neighbours need double precision

# %% [markdown]
# ## The idea
#
# Put the inputs on the unit sphere, drop the biases, and scale the weights by $\sigma_w^2 = 1/\E[\phi(z)^2]$, so that every pre-activation has variance 1.
# Then the NNGP $\Sigma^l$ and the NTK $\Theta^l$ of a pair of inputs depend only on their correlation $\rho = x \cdot x'$, through the *normalised dual* of the activation {cite}`daniely2016toward`,
#
# $$
# k(\rho) = \frac{\E[\phi(u)\phi(v)]}{\E[\phi(z)^2]} = \sum_{i \ge 0} a_i^2 \rho^i, \qquad \sum_{i\ge 0} a_i^2 = 1,
# $$ (wd-dual)
#
# where $a_i$ are the coefficients of $\phi/\|\phi\|$ in the normalised Hermite polynomials $h_i = \mathrm{He}_i/\sqrt{i!}$ and $(u, v)$ are standard normals with correlation $\rho$.
# Its derivative $k'$ is the dual of $\phi'$, and depth $L$ is reached by iterating
#
# $$
# \Sigma^{l+1} = k(\Sigma^l), \qquad \Theta^{l+1} = k(\Sigma^l) + k'(\Sigma^l)\,\Theta^l, \qquad \Sigma^0 = \Theta^0 = \rho .
# $$ (wd-recursion)
#
# The trained infinitely wide network predicts $\operatorname{sign}\big(\Theta^L(x, X)\,\Theta^L(X, X)^{-1} y\big)$, which does not change if the kernel is multiplied by a constant: what decides the classifier is the *shape* $\Theta^L(\rho)/\Theta^L(1)$.
# Three numbers of the dual decide where that shape goes as $L \to \infty$: $a_0^2 = k(0)$, $a_1^2 = k'(0)$ and the slope $c = k'(1) = \sum_i i\, a_i^2$, the factor by which $\Theta^L(x, x)$ grows per layer.
#
# * **$a_0 \neq 0$, e.g. ReLU.** Every correlation is pulled towards a fixed point $\rho^\star > 0$ (for ReLU, $c = 1$ and $\rho^\star = 1$, slowly).
#   The normalised kernel becomes one constant off the diagonal (for ReLU, $1/4$), the kernel matrix becomes $\beta\,\mathbf{1}\mathbf{1}^\top + (1-\beta) I$, and the predictor becomes proportional to $\sum_i y_i$: **majority vote**.
# * **$a_0 = 0$.** Then $\rho = 0$ is the attracting fixed point and $\rho = 1$ is repelling ($c > 1$ for every nonlinear $\phi$).
#   A pair at gap $\delta = 1 - \rho$ stays close for about $T = \log(1/\delta)/\log c$ layers, while $\Theta$ grows like $c$ per layer, and then decorrelates at the rate $a_1^2$ per layer.
#   Since $\Sigma^l \approx a_1^{2(l-T)}$ after that, $\Theta^L(\rho) \approx a_1^{2L}\,\big(L\, r(\rho) + \dots\big)$ with
#
# $$
# r(\rho) = \lim_{l\to\infty} \frac{\Sigma^l(\rho)}{a_1^{2l}} \;\propto\; a_1^{-2T} = \delta^{-\log(1/a_1^2)/\log c} \;\propto\; \|x - x'\|^{-\alpha}, \qquad \alpha = \frac{2 \log(1/a_1^2)}{\log c},
# $$ (wd-alpha)
#
# using $\|x - x'\|^2 = 2\delta$ on the sphere.
# If $a_1 \neq 0$ the deep NTK classifier becomes the **singular kernel classifier** $\operatorname{sign}\sum_i y_i\, r(x \cdot x_i)$.
# If $a_1 = 0$ the decay is faster than any exponential, the nearest training point outweighs all others, and the classifier is **1-nearest neighbour**.
#
# A singular kernel $\|x - x_i\|^{-\alpha}$ with $\alpha$ equal to the dimension $d$ of the data is the *Hilbert kernel*, whose vote is consistent {cite}`mitra2021parameter`; singular kernels of this kind also interpolate the data and still learn at optimal rates {cite}`belkin2019does,belkin2018overfitting`.
# To build a consistent network we need $a_0 = 0$ and $a_1^2 = c^{-d/2}$.
# For data of dimension $d = 2$ the activation $\phi(z) = \big(h_1(z) + h_3(z)\big)/\sqrt 2 = \big(z + (z^3 - 3z)/\sqrt 6\big)/\sqrt 2$ does it: $a_1^2 = 1/2$, $c = 1/2 + 3/2 = 2$, $\alpha = 2$.
# (The paper gives its own explicit activations for the consistent class; the exponent {eq}`wd-alpha` and the activation above are derived here from the recursion and checked numerically below.)
# Sigmoid-like activations with $a_0 \neq 0$ and $c < 1$ are a fourth, degenerate case: the whole kernel, diagonal included, collapses to one constant.
#
# The picture shows the three fates.
# For ReLU the normalised kernel flattens towards $1/4$ at every $\rho < 1$.
# For $(h_1 + h_3)/\sqrt 2$ the kernel's shape converges to $r \propto \|x - x'\|^{-2}$; at finite depth a steeper piece, of slope $-(\alpha + 2) = -4$, survives at distances below about $L^{-1/2}$.
# For $h_2$ ($a_0 = a_1 = 0$) the log-kernel falls off ever faster with distance: only the nearest point counts.

# %%
consistent = width.consistent_activation(2)  # (h_1 + h_3) / sqrt(2)
quadratic = width.HermiteActivation([0.0, 0.0, 1.0])  # h_2 = (z^2 - 1) / sqrt(2)
relu_depths, consistent_depths, quadratic_depths = (1, 10, 100, 1000, 10_000), (10, 100, 1000, 10_000), (2, 4, 8, 16, 32)
relu_kernels = {L: width.DeepNTK("relu", L) for L in relu_depths}
consistent_kernels = {L: width.DeepNTK(consistent, L) for L in consistent_depths}
quadratic_kernels = {L: width.DeepNTK(quadratic, L) for L in quadratic_depths}

fig, axes = fg.plot.subplots(3, width=3.4, height=2.9)
for L, kernel in relu_kernels.items():
    log_gap, log_k = kernel.grid(log=True)  # log(1 - rho), log(Theta^L(rho) / Theta^L(1))
    axes[0].plot(1 - log_gap.exp(), log_k.exp(), label=f"L = {L}")
axes[0].axhline(0.25, color="k", ls=":", lw=1)
axes[0].set(xlabel=r"correlation $\rho$", ylabel=r"$\Theta^L(\rho) / \Theta^L(1)$", title="ReLU: flattens to 1/4")
axes[0].legend(fontsize=7)

reference_gap = 0.5  # shapes are compared after dividing by their value at rho = 1/2
for L, kernel in consistent_kernels.items():
    log_gap, log_k = kernel.grid(log=True)
    shape = log_k - kernel.log_from_gap(torch.tensor([reference_gap], dtype=f64))
    axes[1].loglog((2 * log_gap.exp()).sqrt(), shape.exp(), label=f"L = {L}")
gap = torch.logspace(-9, math.log10(0.99), 200, dtype=f64)
limit = width.limit_kernel(1 - gap, consistent)
limit_at_ref = width.limit_kernel(torch.tensor(1 - reference_gap, dtype=f64), consistent)
axes[1].loglog((2 * gap).sqrt(), limit / limit_at_ref, "k--", lw=1.2, label=r"limit $r(\rho)$")
axes[1].set(xlabel=r"distance $\|x - x'\|$", ylabel="kernel / kernel at $\\rho = 1/2$", xlim=(1e-4, 2), ylim=(1e-2, 1e15))
axes[1].set_title(r"$(h_1 + h_3)/\sqrt{2}$: $\|x-x'\|^{-2}$")
axes[1].legend(fontsize=7)

for L, kernel in quadratic_kernels.items():
    log_gap, log_k = kernel.grid(log=True)
    axes[2].semilogx((2 * log_gap.exp()).sqrt(), log_k / math.log(10), label=f"L = {L}")
axes[2].set(xlabel=r"distance $\|x - x'\|$", ylabel=r"$\log_{10}$ kernel", title=r"$h_2$: only the nearest counts", ylim=(-60, 2))
axes[2].legend(fontsize=7)
plt.show()

# %% [markdown]
# ## The method
#
# The core is the recursion {eq}`wd-recursion` on a single number $\rho$.
# For ReLU the normalised dual is the arc-cosine kernel, $k(\rho) = \big(\sqrt{1-\rho^2} + (\pi - \arccos\rho)\,\rho\big)/\pi$ with $k'(\rho) = (\pi - \arccos \rho)/\pi$, and $k(1) = k'(1) = 1$, so $\Theta^L(1) = L + 1$.
# From scratch:

# %%
def relu_dual(rho):
    return (torch.sqrt(1 - rho**2) + (math.pi - torch.arccos(rho)) * rho) / math.pi


def relu_dual_derivative(rho):
    return (math.pi - torch.arccos(rho)) / math.pi


def deep_relu_ntk(rho, depth):
    """Theta^L(rho) / Theta^L(1) for ReLU, by the recursion (wd-recursion)."""
    sigma, theta = rho, rho  # Sigma^0 = Theta^0 = rho
    for _ in range(depth):
        sigma, theta = relu_dual(sigma), relu_dual(sigma) + relu_dual_derivative(sigma) * theta
    return theta / (depth + 1)  # Theta^L(1) = L + 1


rho = torch.linspace(-0.9, 0.99, 7, dtype=f64)
torch.testing.assert_close(deep_relu_ntk(rho, 50), width.deep_ntk(rho, 50, "relu"))

# the same numbers from the general NTK recursion of fg.width.ntk, on inputs of norm sqrt(d) / sigma_w
d, sigma_w = 3, width.sphere_dual("relu").sigma_w  # sigma_w = sqrt(2)
x = torch.randn(6, d, dtype=f64)
x = x / x.norm(dim=1, keepdim=True)
theta = fg.width.ntk(x * math.sqrt(d) / sigma_w, depth=50, activation="relu", sigma_w=sigma_w)
torch.testing.assert_close(theta / theta.diagonal()[:, None], deep_relu_ntk((x @ x.T).clamp(-1, 1), 50), atol=1e-6, rtol=1e-6)
print("recursion from scratch == fg.width.deep_ntk == fg.width.ntk (depth 50)")

# %% [markdown]
# The package version, `width.deep_ntk(rho, depth, activation)`, takes any activation: closed forms for ReLU and erf, exact polynomials for Hermite activations (`width.HermiteActivation`), Gauss–Hermite quadrature for the rest.
# It can also run in log space (`log=True`), which the singular and 1-NN kernels need: their off-diagonal entries shrink like $a_1^{2L}$ or faster and leave float64 after a few hundred layers.
# `width.DeepNTK(activation, depth)` iterates the map once on a grid of gaps $1 - \rho$ and interpolates, so a depth of $10^4$ costs the same for a thousand pairs as for a million.
#
# `width.classify_activation` reads $a_0^2$, $a_1^2$ and $c$ off the dual and returns the predicted limit with its exponent {eq}`wd-alpha`:

# %%
activations = {
    "relu": "relu",
    "gelu": "gelu",
    "abs": "abs",
    "sigmoid": "sigmoid",
    "erf": "erf",
    "tanh": "tanh",
    "h_2": quadratic,
    "(h_1 + h_3)/sqrt2": consistent,
    "d = 3 member": width.consistent_activation(3),
}
limits = {name: width.classify_activation(act) for name, act in activations.items()}
lines = [f"{'activation':>18}  {'a0^2':>6}  {'a1^2':>6}  {'c':>6}  {'rho*':>6}  {'limit':>22}  alpha"]
for name, lim in limits.items():
    alpha = f"{lim.alpha:.3f}" if lim.alpha is not None else "-"
    lines.append(f"{name:>18}  {lim.a0_sq:6.3f}  {lim.a1_sq:6.3f}  {lim.slope:6.3f}  {lim.fixed_point:6.3f}  {lim.kind:>22}  {alpha}")
print("\n".join(lines))

# %% [markdown]
# The exponent is a prediction about the limit kernel $r$, so we can check it: fit the slope of $\log r$ against $\log\|x - x'\|$ at small distances.

# %%
small_gap = torch.logspace(-10, -8, 5, dtype=f64)
lines = []
for name in ("erf", "tanh", "(h_1 + h_3)/sqrt2", "d = 3 member"):
    r = width.limit_kernel(1 - small_gap, activations[name])
    slope, _ = fg.plot.power_law_fit((2 * small_gap).sqrt().numpy(), r.numpy())
    lines.append(f"{name:>18}: fitted exponent {-slope:.3f}, predicted alpha {limits[name].alpha:.3f}")
print("\n".join(lines))

# %% [markdown]
# The three limiting classifiers share one interface, `predict(X_train, y_train, X_test) -> labels` with labels in $\{0, 1\}$, and `width.limit_classifier(kind, alpha)` returns the one a limit names.
# The singular kernel vote fits in two lines:

# %%
def singular_vote(X_train, y_train, X_test, alpha):
    weights = torch.cdist(X_test, X_train) ** (-alpha)  # (m, n)
    return (weights @ (2 * y_train - 1).to(weights.dtype) > 0).long()


X_small = torch.rand(40, 3, dtype=f64)
y_small = (torch.rand(40) < 0.4).long()
X_query = torch.rand(25, 3, dtype=f64)
for alpha in (1.0, 2.0, 5.0):
    assert torch.equal(singular_vote(X_small, y_small, X_query, alpha), width.singular_kernel(X_small, y_small, X_query, alpha=alpha))
print("singular vote from scratch == width.singular_kernel")

# %% [markdown]
# ## The experiment
#
# We need a problem whose Bayes error is known exactly.
# `width.NoisyBallOnSphere` draws $u$ uniformly in the square $[-1, 1]^2$, labels it 1 inside the disc $\|u\| < 0.6$, flips every label with probability $0.2$, and lifts $u$ onto the unit sphere of $\mathbb{R}^3$ as $(u, 2)/\|(u, 2)\|$.
# The data has dimension $d = 2$, so the Hilbert kernel has $\alpha = 2$; the Bayes classifier is the clean disc rule, with error exactly $0.2$.
# Because the noise rate is the same everywhere, 1-NN tends to $2 \cdot 0.2 \cdot 0.8 = 0.32$ {cite}`cover1967nearest`, and majority vote, which predicts the larger class 0 everywhere, errs on every point of class 1, a fraction $0.37$.
# The risk of a classifier on test inputs is computed exactly over their label noise, $0.2 + 0.6\,P(\hat y \neq \text{Bayes})$, which is less noisy than counting errors on noisy test labels.

# %%
problem = width.NoisyBallOnSphere(dim=2, radius=0.6, flip=0.2)
gen = fg.runtime.generator(fg.runtime.current_seed())
num_test = fg.scale(quick=1500, paper=20_000)
X_test, _ = problem.sample(num_test, generator=gen)
print(f"Bayes error {problem.bayes_error:.3f}, P(y = 1) = {problem.prior_one:.3f}, Cover-Hart 1-NN limit {problem.nearest_neighbour_error:.3f}")

X_show, y_show = problem.sample(600, generator=gen)
u_show = X_show[:, :2] / X_show[:, 2:] * problem.height  # back to the square
fig, ax = fg.plot.subplots(width=4.4, height=3.0)
ax.scatter(*u_show[y_show == 0].T, s=6, label="y = 0")
ax.scatter(*u_show[y_show == 1].T, s=6, label="y = 1")
angle = np.linspace(0, 2 * np.pi, 200)
ax.plot(problem.radius * np.cos(angle), problem.radius * np.sin(angle), "k", lw=1.2, label="Bayes boundary")
ax.set(xlabel="$u_1$", ylabel="$u_2$", aspect="equal", title="20% of the labels flipped")
ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
plt.show()

# %% [markdown]
# First the three limits themselves, plus the singular kernel that erf's limit gives ($\alpha \approx 0.89$, not $d$), on training sets of growing size.

# %%
alpha_consistent, alpha_erf = limits["(h_1 + h_3)/sqrt2"].alpha, limits["erf"].alpha
rules = {
    "majority vote": width.limit_classifier("majority_vote"),
    "1-NN": width.limit_classifier("one_nearest_neighbour"),
    f"singular, alpha = {alpha_consistent:.0f} (Hilbert)": width.limit_classifier("singular_kernel", alpha_consistent),
    f"singular, alpha = {alpha_erf:.2f} (erf)": width.limit_classifier("singular_kernel", alpha_erf),
}
sizes = fg.scale(quick=[100, 200, 500, 1000, 2000, 4000, 8000], paper=[100, 300, 1000, 3000, 10_000, 30_000, 100_000])
risks = {name: [] for name in rules}
for n in sizes:
    X, y = problem.sample(n, generator=gen)
    for name, rule in rules.items():
        risks[name].append(problem.risk(X_test, rule(X, y, X_test)))

fig, ax = fg.plot.subplots(width=6.4, height=3.2)
for name, values in risks.items():
    ax.semilogx(sizes, values, "o-", label=name)
ax.axhline(problem.bayes_error, color="k", lw=1, label="Bayes error")
ax.axhline(problem.nearest_neighbour_error, color="k", ls="--", lw=1, label="Cover-Hart 1-NN limit")
ax.axhline(problem.prior_one, color="k", ls=":", lw=1, label="minority rate")
ax.set(xlabel="training points n", ylabel="test error", title="The limits of infinitely deep networks")
ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
plt.show()
print("\n".join(f"{name:>30}: " + "  ".join(f"{v:.3f}" for v in values) for name, values in risks.items()))

# %% [markdown]
# Only the Hilbert kernel keeps getting better; its excess error shrinks slowly, like $1/\log n$ {cite}`mitra2021parameter`, because the number of points that effectively vote grows only logarithmically.
# 1-NN stalls near the Cover–Hart limit, majority vote sits at the minority rate, and erf's singular kernel, with $\alpha < d$, lets far-away points outvote the near ones and drifts towards majority vote.
#
# Now the networks themselves.
# We train the deep NTK classifier (`width.deep_ntk_classifier`: kernel regression on the labels $\pm 1$, what an infinitely wide network of that depth converges to) for one activation of each class, at growing depth, and count on how many test points it agrees with the limit its class predicts.

# %%
num_deep = fg.scale(quick=1000, paper=4000)
X, y = problem.sample(num_deep, generator=gen)
X_query = X_test[:1000]
families = {
    "relu -> majority vote": (relu_kernels, limits["relu"]),
    "(h_1 + h_3)/sqrt2 -> singular, alpha = 2": (consistent_kernels, limits["(h_1 + h_3)/sqrt2"]),
    "h_2 -> 1-NN": (quadratic_kernels, limits["h_2"]),
}
agreement, deep_risk = {}, {}
for name, (kernels, lim) in families.items():
    target = width.limit_classifier(lim.kind, lim.alpha)(X, y, X_query)
    agreement[name] = {}
    for L, kernel in kernels.items():
        labels = width.deep_ntk_classifier(X, y, X_query, kernel)
        agreement[name][L] = (labels == target).double().mean().item()
    deep_risk[name] = (problem.risk(X_query, labels), problem.risk(X_query, target))

fig, ax = fg.plot.subplots(width=5.0, height=3.0)
for name, values in agreement.items():
    ax.semilogx(list(values), list(values.values()), "o-", label=name)
ax.set(xlabel="depth L", ylabel="agreement with the predicted limit", ylim=(0.4, 1.02), title=f"Deep NTK classifiers, n = {num_deep}")
ax.legend(fontsize=7)
plt.show()
lines = []
for name, values in agreement.items():
    L = max(values)
    lines.append(f"{name:>42}: depth {L:>6}, agreement {values[L]:.3f}, risk {deep_risk[name][0]:.3f} (limit: {deep_risk[name][1]:.3f})")
print("\n".join(lines))

# %% [markdown]
# Each network drifts towards its limit as it deepens.
# ReLU is slow: its off-diagonal kernel approaches $1/4$ only like a power of $1/L$, and until the flat part dominates, a moderately deep ReLU network is a good classifier rather than a majority vote.
# The singular network is slow too, for the reason the picture showed: at depth $L$ its kernel is still steeper than $\|x - x'\|^{-2}$ at distances below about $L^{-1/2}$, which is where the nearest neighbours of a thousand points lie.
# The 1-NN network gets there within a few dozen layers.

# %% [markdown]
# ## Claim check
#
# The paper's claims, at laptop scale: the singular kernel classifier with $\alpha = d$ approaches the Bayes error as $n$ grows, 1-NN and majority vote do not, and an activation's deep NTK classifier becomes the limit its class predicts.
# The singular kernel's excess error decays only like $1/\log n$, so at $n = 8000$ we assert that it is small and shrinking, not that it is zero.

# %% tags=["claim"]
hilbert, nearest = risks[f"singular, alpha = {alpha_consistent:.0f} (Hilbert)"], risks["1-NN"]
majority, erf_kernel = risks["majority vote"], risks[f"singular, alpha = {alpha_erf:.2f} (erf)"]
bayes, early, late = problem.bayes_error, np.mean(hilbert[:2]), np.mean(hilbert[-2:])
majority_large_n = [m for n, m in zip(sizes, majority) if n >= 500]  # n < 500 may, rarely, have class 1 in the majority
checks = [
    fg.claims.check(
        "singular kernel classifier (alpha = d) ends near the Bayes error",
        paper=1, expected=f"-> {bayes:.3f} as n grows", measured=f"{hilbert[-1]:.3f} at n = {sizes[-1]}",
        holds=hilbert[-1] - bayes < 0.07,
    ),
    fg.claims.check(
        "its error shrinks as n grows",
        paper=1, expected="decreasing", measured=f"{early:.3f} (n <= {sizes[1]}) -> {late:.3f} (n >= {sizes[-2]})",
        holds=early - late > 0.02,
    ),
    fg.claims.check(
        "1-NN stays at the Cover-Hart limit, well above Bayes",
        paper=1, expected=f"{problem.nearest_neighbour_error:.3f} = 2 eta (1 - eta)", measured=f"{nearest[-1]:.3f}",
        holds=nearest[-1] - bayes > 0.08 and abs(nearest[-1] - problem.nearest_neighbour_error) < 0.04,
    ),
    fg.claims.check(
        "the singular kernel classifier beats 1-NN",
        paper=1, expected="lower error", measured=f"{hilbert[-1]:.3f} vs {nearest[-1]:.3f}",
        holds=hilbert[-1] < nearest[-1] - 0.05,
    ),
    fg.claims.check(
        "majority vote sits at the minority rate",
        paper=1, expected=f"{problem.prior_one:.3f}", measured=f"{min(majority_large_n):.3f} to {max(majority_large_n):.3f}",
        holds=all(abs(m - problem.prior_one) < 0.03 for m in majority_large_n),
    ),
    fg.claims.check(
        "a singular kernel with alpha < d (erf's) is not consistent",
        paper=1, expected=f"well above {hilbert[-1]:.3f}", measured=f"{erf_kernel[-1]:.3f}",
        holds=erf_kernel[-1] > hilbert[-1] + 0.05,
    ),
]
for name, values in agreement.items():
    depth = max(values)
    checks.append(
        fg.claims.check(
            f"deep NTK classifier, {name}",
            paper=1, expected="agreement -> 1 as depth grows", measured=f"{values[depth]:.3f} at depth {depth}",
            holds=values[depth] >= 0.85,
        )
    )
assert all(checks), "a claim failed: see the FAIL rows above"

# %% [markdown]
# ## Explore
#
# The decision regions, drawn back in the square, of deep NTK classifiers trained on 400 points, for one activation of each class.
# Move the depth: ReLU's region fills the square with the majority class, $h_2$'s becomes a patchwork of nearest-neighbour cells, and $(h_1 + h_3)/\sqrt 2$ keeps a smoothed version of the disc.

# %%
X_explore, y_explore = problem.sample(400, generator=gen)
grid_u = torch.linspace(-1, 1, 50, dtype=f64)
U = torch.cartesian_prod(grid_u, grid_u)  # (2500, 2)
X_grid = problem.lift(U)


def plot_regions(depth):
    fig, axes = fg.plot.subplots(3, width=2.6, height=2.6)
    for ax, (name, act) in zip(axes, [("relu", "relu"), ("(h_1 + h_3)/sqrt2", consistent), ("h_2", quadratic)]):
        labels = width.deep_ntk_classifier(X_explore, y_explore, X_grid, width.DeepNTK(act, depth))
        ax.imshow(labels.reshape(50, 50).T.numpy(), origin="lower", extent=(-1, 1, -1, 1), cmap="coolwarm", vmin=0, vmax=1)
        ax.plot(problem.radius * np.cos(angle), problem.radius * np.sin(angle), "k", lw=1)
        ax.set(title=f"{name}, L = {depth}", xticks=[], yticks=[])
    return fig


fg.widgets.explore(plot_regions, {"depth": [1, 10, 100, 300, 1000]}, {"depth": 1000})

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: wide-deep-optimality-ex1
# Classify `tanh` with `width.classify_activation` and compute its exponent $\alpha$.
# Is its deep NTK classifier consistent on our two-dimensional problem?
# Check by measuring the test error of `width.singular_kernel` with tanh's $\alpha$ and with $\alpha = 2$ at $n = 4000$.
# :::
#
# ````{solution-start} wide-deep-optimality-ex1
# :class: dropdown
# ````

# %% tags=["solution"]
tanh_limit = width.classify_activation("tanh")
lines = [f"tanh: {tanh_limit.kind}, alpha = {tanh_limit.alpha:.3f}"]
X_ex, y_ex = problem.sample(4000, generator=gen)
for alpha in (tanh_limit.alpha, 2.0):
    error = problem.risk(X_test, width.singular_kernel(X_ex, y_ex, X_test, alpha=alpha))
    lines.append(f"alpha = {alpha:.3f}: test error {error:.3f} (Bayes {problem.bayes_error:.3f})")
print("\n".join(lines))

# %% [markdown]
# tanh has $a_0 = 0$ and $a_1 \neq 0$, so its limit is a singular kernel, but with $\alpha \approx 0.88 < d = 2$: far points outvote near ones and the error stays far above the Bayes error, like erf's.
#
# ````{solution-end}
# ````
#
# :::{exercise}
# :label: wide-deep-optimality-ex2
# Show that for any nonlinear activation with $a_0 = 0$ the slope $c = k'(1)$ exceeds 1, and that ReLU has $c = 1$ exactly.
# Then use the recursion {eq}`wd-recursion` to explain why an activation with $a_0 \neq 0$ and $c > 1$, such as GELU, still gives majority vote.
# :::
#
# ````{solution-start} wide-deep-optimality-ex2
# :class: dropdown
# ````
#
# With $a_0 = 0$, $c = \sum_{i \ge 1} i\, a_i^2 \ge \sum_{i\ge1} a_i^2 = 1$, with equality only if every $a_i$ with $i \ge 2$ vanishes, i.e. only for a linear $\phi$.
# For ReLU, $k'(\rho) = (\pi - \arccos\rho)/\pi$, so $k'(1) = 1$; equivalently $\E[\phi'(z)^2]/\E[\phi(z)^2] = (1/2)/(1/2) = 1$.
# If $a_0 \neq 0$ and $c > 1$, every $\rho \in (0, 1)$ is driven to a fixed point $\rho^\star \in (0, 1)$ where $a^\star = k'(\rho^\star) < 1$.
# Then $\Theta^{l+1} = k(\Sigma^l) + k'(\Sigma^l)\Theta^l \to \rho^\star + a^\star \Theta^l$, so the off-diagonal kernel converges to the constant $\rho^\star/(1 - a^\star)$, the same for every pair, while the diagonal grows like $c^L$.
# The kernel matrix becomes $c^L I$ plus a constant matrix, and the predictor becomes proportional to $\sum_i y_i$.
# `width.classify_activation("gelu")` reports $\rho^\star \approx 0.76$.
#
# ````{solution-end}
# ````
#
# :::{exercise}
# :label: wide-deep-optimality-ex3
# Move to data of dimension $d = 3$ with `width.NoisyBallOnSphere(dim=3, radius=0.8)`.
# Build an activation whose limit is consistent there with `width.consistent_activation(3)`, confirm its $\alpha$, and compare the singular kernel with $\alpha = 3$ against $\alpha = 2$ and 1-NN at $n = 4000$.
# :::
#
# ````{solution-start} wide-deep-optimality-ex3
# :class: dropdown
# ````

# %% tags=["solution"]
problem3 = width.NoisyBallOnSphere(dim=3, radius=0.8, flip=0.2)
act3 = width.consistent_activation(3)
coefficients = ", ".join(f"{a:.4f}" for a in act3.coefficients)
lines = [f"Hermite coefficients ({coefficients}), alpha = {width.classify_activation(act3).alpha:.3f}"]
X3, y3 = problem3.sample(4000, generator=gen)
X3_test, _ = problem3.sample(1000, generator=gen)
rules3 = {
    "alpha = 3": width.limit_classifier("singular_kernel", 3.0),
    "alpha = 2": width.limit_classifier("singular_kernel", 2.0),
    "1-NN": width.one_nearest_neighbour,
}
for name, rule in rules3.items():
    lines.append(f"{name:>9}: test error {problem3.risk(X3_test, rule(X3, y3, X3_test)):.3f} (Bayes {problem3.bayes_error:.3f})")
print("\n".join(lines))

# %% [markdown]
# In three dimensions a fixed $n$ covers the space more thinly, so every rule is further from the Bayes error than in two, but $\alpha = d = 3$ still comes closest.
#
# ````{solution-end}
# ````

# %% [markdown]
# ## Going further
#
# * **Paper scale.** `FIELDGUIDE_SCALE=paper` runs up to $n = 10^5$ training points and $2 \cdot 10^4$ test points (a GPU helps with the distance matrices).
#   Even then the Hilbert kernel's excess error, which shrinks like $1/\log n$, is not zero; the paper's statement is about the limit.
# * **Finite depth.** At depth $L$ the singular NTK is $a_1^{2L}\big(L\,r(\rho) + q(\rho)\big)$ with a transient $q \propto \|x - x'\|^{-(\alpha + 2)}$; the limit is reached for pairs with $L\,\|x - x'\|^2 \gg 1$.
#   How fast the classifier converges therefore depends on $n$: more data means closer neighbours and deeper networks before the limit shows.
# * **Signal propagation.** $c < 1$, $c = 1$ and $c > 1$ are the ordered phase, the edge of chaos and the chaotic phase of deep signal propagation; the taxonomy refines them with $a_0$ (do correlations settle at a positive value?) and $a_1$ (how fast do they decay?).
# * **Related chapters and papers of the catalog.** *Neural Tangent Kernel: Convergence and Generalization in Neural Networks* ({doc}`ntk`, catalog 6), *What Can Be Learnt With Wide Convolutional Neural Networks?* (catalog 3) and *More is Better in Modern Machine Learning: when Infinite Overparameterization is Optimal and Overfitting is Obligatory* (catalog 12), where interpolating with infinitely many features is again optimal.
