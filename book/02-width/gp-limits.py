# ---
# jupyter:
#   fieldguide:
#     papers:
#     - 2
#     - 233
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
# # Gaussian process limits beyond i.i.d. Gaussian weights
#
# A wide random network with i.i.d. Gaussian weights is a Gaussian process: this is the NNGP limit of {cite}`neal1996bayesian` and {cite}`lee2018deep`.
# Both ingredients of that statement can be loosened, and this chapter does it twice.
# First, {cite}`lee2022scale` put a random scale on the readout weights: the limit becomes a *scale mixture* of the NNGP, and with an inverse-gamma prior a Student-t process, with heavier tails and a posterior whose uncertainty grows when the data are surprising.
# Second, {cite}`naitsaada2024beyond` drop independence: sparse and low-rank weight matrices, cheap to store and multiply, still give the same NNGP as the width grows.
# We sample thousands of finite networks at once and check both limits against the closed forms.
#
# **Learning objectives**
#
# 1. Derive why an inverse-gamma prior on the readout variance turns the NNGP into a Student-t process, and compute its closed-form regression posterior.
# 2. Sample many random networks at once with batched weights, and test their output distribution against the Student-t and Gaussian limits.
# 3. Build sparse and low-rank ("pseudo-i.i.d.") weight ensembles and measure how fast their empirical kernels converge to the i.i.d. NNGP.
#
# **Prerequisites**: {doc}`ntk` (the NNGP recursion `fg.width.nngp`); Gaussian process regression; the Student-t distribution.
#
# **Papers**: {cite}`lee2022scale` (catalog 2) and {cite}`naitsaada2024beyond` (catalog 233).
# Background: {cite}`neal1996bayesian`, {cite}`lee2018deep`, and Student-t processes {cite}`shah2014student`.

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
import functools
import math

import matplotlib.pyplot as plt
import numpy as np
import scipy.stats as st
import torch

gen = torch.Generator().manual_seed(fg.runtime.current_seed())  # every draw below flows from the chapter's seed

# %% [markdown]
# ## The idea
#
# **Scale mixtures.**
# Write the readout of a network with $L$ hidden layers of width $n$ as $f(x) = \sum_{j=1}^n v_j \phi(h_j(x)) + c$ with $v_j \sim \mathcal N(0, \sigma^2 \sigma_w^2 / n)$ and $c \sim \mathcal N(0, \sigma^2 \sigma_b^2)$.
# For a fixed $\sigma^2$, the output on any finite set of inputs tends to $\mathcal N(0, \sigma^2 K)$, with $K$ the NNGP kernel.
# {cite}`lee2022scale` make $\sigma^2$ itself random, drawn once per network.
# The limit is then a mixture of Gaussian processes that share the kernel $K$ and differ only in scale.
# With $\sigma^2 \sim \mathrm{InvGamma}(a, b)$, integrating it out gives the multivariate Student-t
#
# $$
# p(f) = \int \mathcal N(f; 0, \sigma^2 K)\, \mathrm{InvGamma}(\sigma^2; a, b)\, d\sigma^2
# = \mathrm{MVT}\big(f;\ \nu = 2a,\ 0,\ \tfrac{b}{a} K\big).
# $$ (t-prior)
#
# Its marginals are Student-t with $2a$ degrees of freedom: kurtosis $3 + 6/(2a - 4)$ instead of the Gaussian $3$.
#
# **Closed-form regression.**
# Observe $y = f(X) + \varepsilon$ with noise that shares the scale, $\varepsilon \sim \mathcal N(0, \sigma^2 s^2 I)$, and write $\tilde K = K(X, X) + s^2 I$.
# Then $\sigma^2 \mid y \sim \mathrm{InvGamma}(a + n/2,\ b + y^\top \tilde K^{-1} y / 2)$, and the prediction at a test input $x_*$ is
#
# $$
# f(x_*) \mid y \sim t_{2a + n}\Big(k_*^\top \tilde K^{-1} y,\ \ \frac{2b + y^\top \tilde K^{-1} y}{2a + n}\,\big(k_{**} - k_*^\top \tilde K^{-1} k_*\big)\Big).
# $$ (t-posterior)
#
# The mean is the GP's; the variance is the GP's, rescaled by a factor that grows when the targets fit the kernel badly ($y^\top \tilde K^{-1} y$ large), as with outliers.
# That data-dependent width is the robustness the paper claims.
#
# **Pseudo-i.i.d. weights.**
# The Gaussian limit needs much less than i.i.d. Gaussian weights.
# {cite}`naitsaada2024beyond` extend the proof of the GP limit to weight matrices whose entries are exchangeable, uncorrelated, of variance $\sigma_w^2 / n$, with suitable moment bounds: *pseudo-i.i.d.*
# Two cheap ensembles qualify:
#
# $$
# W^{\text{sparse}}_{ij} = \frac{m_{ij}}{\sqrt p}\, \frac{\sigma_w}{\sqrt n} g_{ij}, \quad m_{ij} \sim \mathrm{Bernoulli}(p);
# \qquad
# W^{\text{low-rank}} = \frac{\sigma_w}{\sqrt{n r}}\, U V, \quad U \in \mathbb R^{n \times r},\ V \in \mathbb R^{r \times n},
# $$ (pseudo-iid)
#
# with standard normal $g, U, V$, and the rank $r$ growing with $n$.
# Their networks converge to the *same* NNGP as i.i.d. ones.
#
# The picture shows the density of a scale mixture with $a = b = 5$ next to the Gaussian with the same variance: a sharper peak and heavier tails.

# %%
A, B = 5.0, 5.0  # inverse-gamma shape and scale: nu = 2a = 10 degrees of freedom, so the kurtosis (4) exists
z = np.linspace(-6, 6, 400)
fig, axes = fg.plot.subplots(2, width=3.4)
for ax in axes:
    ax.plot(z, st.t(2 * A, scale=math.sqrt(B / A)).pdf(z), label=r"Student-t, $\nu = 2a = 10$")
    ax.plot(z, st.norm(scale=math.sqrt(B / (A - 1))).pdf(z), "--", label="Gaussian, same variance")
    ax.set(xlabel="output $f(x)$")
axes[0].set(ylabel="density", title="the two limits")
axes[1].set(yscale="log", ylim=(1e-6, 1), title="log scale: the tails")
axes[0].legend(fontsize=8)
plt.show()

# %% [markdown]
# ## The method
#
# ### The Student-t process posterior, from scratch
#
# Equation {eq}`t-posterior` takes a Cholesky factor and two solves.

# %%
def t_process_predict(K, y, K_star, k_star_star, a, b, noise):
    """Student-t process predictive: mean (m,), scale (m,), degrees of freedom."""
    n = len(y)
    K_tilde = K + noise * torch.eye(n, dtype=K.dtype)
    alpha = torch.linalg.solve(K_tilde, y)  # (n,)
    gp_var = k_star_star - (K_star * torch.linalg.solve(K_tilde, K_star.T).T).sum(1)  # (m,)
    factor = (2 * b + y @ alpha) / (2 * a + n)
    return K_star @ alpha, torch.sqrt(factor * gp_var), 2 * a + n


kernel = functools.partial(fg.width.nngp, depth=2, activation="relu", sigma_w=math.sqrt(2), sigma_b=0.5)
x_a = torch.randn(7, 1, generator=gen, dtype=torch.float64)
y_a = torch.randn(7, generator=gen, dtype=torch.float64)
x_b = torch.linspace(-3, 3, 5, dtype=torch.float64)[:, None]
ours = t_process_predict(kernel(x_a), y_a, kernel(x_b, x_a), kernel(x_b).diagonal(), A, B, 0.1)
theirs = fg.width.student_t_predict(kernel(x_a), y_a, kernel(x_b, x_a), kernel(x_b).diagonal(), A, B, noise=0.1)
torch.testing.assert_close(ours[:2], theirs[:2])
print(f"Student-t process posterior from scratch matches fg.width.student_t_predict; df = {theirs[2]:g}")

# %% [markdown]
# ### Many random networks at once
#
# `fg.width.random_network_features(x, num_nets, width, depth=..., ensemble=...)` draws `num_nets` networks as batched weight tensors of shape `(num_nets, width, fan_in)` and returns their last hidden layer, `(num_nets, width, n)`.
# The networks are those of `fg.nn.MLP(d, [width] * depth, 1, parametrization="ntk")`; the first layer is always i.i.d., and `ensemble="sparse"` or `"lowrank"` changes the hidden-to-hidden matrices as in {eq}`pseudo-iid`.
# From the features, two more functions give the rest:
#
# - `fg.width.scale_mixture_outputs(features, a, b, sigma_w=..., sigma_b=...)` draws $\sigma^2 \sim \mathrm{InvGamma}(a, b)$ per network and a readout scaled by it;
# - `fg.width.conditional_kernel(features, sigma_w=..., sigma_b=...)` integrates the readout out exactly and returns each network's own output covariance $\hat K = \frac{\sigma_w^2}{n} \Phi^\top \Phi + \sigma_b^2$, which tends to $K$ as $n \to \infty$.
#
# As a check, the mean of $\hat K$ over i.i.d. ReLU networks with one hidden layer is exactly the NNGP (the first layer is Gaussian), up to Monte Carlo error.

# %%
x_check = torch.randn(4, 3, generator=gen, dtype=torch.float64)
features = fg.width.random_network_features(x_check, 2000, 256, depth=1, sigma_w=math.sqrt(2), sigma_b=0.5, generator=gen)
k_mean = fg.width.conditional_kernel(features, sigma_w=math.sqrt(2), sigma_b=0.5).mean(0)  # (4, 4)
k_exact = fg.width.nngp(x_check, depth=1, sigma_w=math.sqrt(2), sigma_b=0.5)
torch.testing.assert_close(k_mean, k_exact, rtol=0.03, atol=0.03)
print(f"features {tuple(features.shape)}; mean conditional kernel vs NNGP: max gap {(k_mean - k_exact).abs().max():.4f}")

# %% [markdown]
# ## The experiment
#
# Three measurements.
#
# 1. **The prior.** Networks with one hidden ReLU layer of width 512 ($\sigma_w^2 = 2$, $\sigma_b = 0.1$), each with its own $\sigma^2 \sim \mathrm{InvGamma}(5, 5)$; we compare their outputs at one input with the Student-t {eq}`t-prior` and with the Gaussian of equal variance.
#    The paper's own prior check uses the same construction; we pick $a = 5$ so that the kurtosis exists and can be estimated.
# 2. **Regression with outliers.** 40 noisy points of $\sin(2x)$ on $[-2, 2]$, two of them shifted up by 3, and a two-hidden-layer ReLU NNGP.
#    We compare the t-process {eq}`t-posterior` with two NNGP posteriors: one with the prior's scale $\sigma^2 = b/a$, one with $\sigma^2$ fitted by maximum marginal likelihood, in test negative log-likelihood on $[-2, 2]$ and out of distribution on $[3, 5]$.
# 3. **Pseudo-i.i.d. networks.** Two-hidden-layer tanh networks ($\sigma_w = 1.5$, $\sigma_b = 0.1$) on 6 random inputs, with i.i.d., sparse ($p = 1/4$) and low-rank ($r = n/4$) hidden weights; for each width, the relative Frobenius distance between each network's $\hat K$ and the NNGP, and between their average and the NNGP.

# %%
sizes = fg.scale(
    quick=dict(prior_nets=20_000, prior_width=512, nets=100, widths=[32, 64, 128, 256, 512]),
    paper=dict(prior_nets=100_000, prior_width=2048, nets=1000, widths=[32, 64, 128, 256, 512, 1024, 2048]),
)
SW, SB = math.sqrt(2), 0.1
x_prior = torch.tensor([[1.0, 0.5], [0.3, -1.0]], dtype=torch.float64)
feat = fg.width.random_network_features(x_prior, sizes["prior_nets"], sizes["prior_width"], depth=1, sigma_w=SW, sigma_b=SB, generator=gen)
outputs = fg.width.scale_mixture_outputs(feat, A, B, sigma_w=SW, sigma_b=SB, generator=gen)  # (nets, 2)
k00 = fg.width.nngp(x_prior, depth=1, sigma_w=SW, sigma_b=SB)[0, 0].item()
u = outputs[:, 0].numpy() / math.sqrt(k00)  # standardized so that the t limit has scale sqrt(b / a) = 1
t_limit, gauss = st.t(2 * A, scale=math.sqrt(B / A)), st.norm(scale=math.sqrt(B / (A - 1)))
ks_t, ks_gauss = st.kstest(u, t_limit.cdf).statistic, st.kstest(u, gauss.cdf).statistic
kurtosis = st.kurtosis(u, fisher=False)
tail = float(np.mean(np.abs(u) > 3))
print(f"{sizes['prior_nets']} networks of width {sizes['prior_width']}: kurtosis {kurtosis:.3f} (t: {3 + 6 / (2 * A - 4):.1f}, Gaussian: 3)")
print(f"KS distance to the t limit {ks_t:.4f}, to the Gaussian {ks_gauss:.4f}")
print(f"P(|f| > 3): {tail:.4f} (t: {2 * t_limit.sf(3):.4f}, Gaussian: {2 * gauss.sf(3):.4f})")

# %%
fig, axes = fg.plot.subplots(2, width=3.4)
axes[0].hist(u, bins=120, range=(-6, 6), density=True, color="0.75", label="networks")
for ax in axes:
    ax.plot(z, t_limit.pdf(z), label="Student-t limit")
    ax.plot(z, gauss.pdf(z), "--", label="Gaussian, same variance")
counts, edges = np.histogram(u, bins=40, range=(-8, 8), density=True)
axes[1].plot((edges[1:] + edges[:-1]) / 2, counts, "k.", label="networks")
axes[0].set(xlabel="standardized output", ylabel="density", title="output of wide random networks")
axes[1].set(xlabel="standardized output", yscale="log", ylim=(1e-5, 1), title="tails")
axes[0].legend(fontsize=7)
plt.show()

# %% [markdown]
# ### Regression with outliers
#
# The noise variance is $s^2 = 0.01$ in units of $\sigma^2$; the t-process and both NNGPs share the kernel and the posterior mean.

# %%
NOISE, N = 0.01, 40


def truth(x):
    return torch.sin(2 * x)


x_train = torch.rand(N, 1, generator=gen, dtype=torch.float64) * 4 - 2
y_train = truth(x_train[:, 0]) + 0.1 * torch.randn(N, generator=gen, dtype=torch.float64)
outliers = torch.randperm(N, generator=gen)[:2]
y_train[outliers] += 3.0
x_in = torch.linspace(-2, 2, 100, dtype=torch.float64)[:, None]
x_ood = torch.linspace(3, 5, 100, dtype=torch.float64)[:, None]
K = kernel(x_train)
fit = (y_train @ torch.linalg.solve(K + NOISE * torch.eye(N, dtype=K.dtype), y_train)).item()
sigma2_ml = fit / N  # maximum marginal likelihood scale of the NNGP


def predictive(x_test, scale2=None):
    """Mean, scale and df of y* at x_test: the t-process, or the NNGP with sigma^2 = scale2."""
    k_test = kernel(x_test).diagonal() + NOISE  # predict noisy targets
    mean, scale, df = fg.width.student_t_predict(K, y_train, kernel(x_test, x_train), k_test, A, B, noise=NOISE)
    if scale2 is None:
        return mean, scale, df
    gp_scale = scale * math.sqrt(scale2 * (2 * A + N) / (2 * B + fit))  # undo the t-process factor
    return mean, gp_scale, math.inf


def nll(x_test, scale2=None):
    y_test = truth(x_test[:, 0]) + 0.1 * torch.randn(len(x_test), generator=gen, dtype=torch.float64)
    mean, scale, df = predictive(x_test, scale2)
    dist = st.norm(mean.numpy(), scale.numpy()) if df == math.inf else st.t(df, mean.numpy(), scale.numpy())
    return float(-dist.logpdf(y_test.numpy()).mean())


models = {"t-process": None, "NNGP, sigma^2 = b/a": B / A, "NNGP, max. likelihood": sigma2_ml}
scores = {name: (nll(x_in, s2), nll(x_ood, s2)) for name, s2 in models.items()}
print(f"t-process rescaling factor (2b + y'K^-1 y) / (2a + n) = {(2 * B + fit) / (2 * A + N):.2f}; ML scale {sigma2_ml:.2f}")
for name, (nll_in, nll_ood) in scores.items():
    print(f"{name:24s} test NLL in-distribution {nll_in:7.3f}   out of distribution {nll_ood:7.3f}")

# %%
x_plot = torch.linspace(-3, 5, 200, dtype=torch.float64)[:, None]
fig, ax = plt.subplots(figsize=(6, 3.2))
for name, s2 in models.items():
    mean, scale, df = predictive(x_plot, s2)
    q = st.norm.ppf(0.975) if df == math.inf else st.t(df).ppf(0.975)
    ax.fill_between(x_plot[:, 0], mean - q * scale, mean + q * scale, alpha=0.25, label=f"{name} (95%)")
ax.plot(x_plot[:, 0], mean, "k", lw=1, label="posterior mean (shared)")
ax.plot(x_train[:, 0], y_train, "k.", label="data")
ax.plot(x_train[outliers, 0], y_train[outliers], "rx", label="outliers")
ax.plot(x_plot[:, 0], truth(x_plot[:, 0]), ":", color="0.4", label="truth")
ax.set(xlabel="$x$", ylabel="$y$", ylim=(-12, 12))
ax.legend(fontsize=6, ncol=2, loc="lower left")
plt.show()

# %% [markdown]
# ### Sparse and low-rank networks
#
# For each ensemble and width we draw `nets` networks and compare their conditional kernels with the i.i.d. NNGP.

# %%
x_six = torch.randn(6, 2, generator=gen, dtype=torch.float64)
deep = dict(depth=2, activation="tanh", sigma_w=1.5, sigma_b=0.1)
K_limit = fg.width.nngp(x_six, **deep)
ensembles = {"iid": {}, "sparse": dict(density=0.25), "lowrank": {}}  # rank defaults to width / 4
per_net, averaged = {}, {}
for name, extra in ensembles.items():
    per_net[name], averaged[name] = [], []
    for width in sizes["widths"]:
        feats = fg.width.random_network_features(x_six, sizes["nets"], width, ensemble=name, generator=gen, **deep, **extra)
        K_hat = fg.width.conditional_kernel(feats, sigma_w=1.5, sigma_b=0.1)  # (nets, 6, 6)
        per_net[name].append(((K_hat - K_limit).flatten(1).norm(dim=1) / K_limit.norm()).mean().item())
        averaged[name].append(((K_hat.mean(0) - K_limit).norm() / K_limit.norm()).item())
slopes = {name: fg.plot.power_law_fit(sizes["widths"], errs)[0] for name, errs in per_net.items()}
for name in ensembles:
    print(f"{name:8s} per-network error {per_net[name][0]:.3f} -> {per_net[name][-1]:.4f} (slope {slopes[name]:.3f}); "
          f"averaged kernel error at width {sizes['widths'][-1]}: {averaged[name][-1]:.4f}")

fig, ax = plt.subplots(figsize=(4.6, 3.2))
for name in ensembles:
    ax.loglog(sizes["widths"], per_net[name], "o-", label=name)
ax.loglog(sizes["widths"], per_net["iid"][0] * (np.array(sizes["widths"]) / sizes["widths"][0]) ** -0.5, "k:", label=r"$n^{-1/2}$")
ax.set(xlabel="width $n$", ylabel=r"$\|\hat K - K\|_F / \|K\|_F$", title="distance to the NNGP")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# All three ensembles approach the NNGP at the same rate $n^{-1/2}$; the low-rank networks carry a larger constant, as rank $n/4$ averages over fewer independent directions.
#
# ## Claim check
#
# The scale-mixture claims (catalog 2): the output of wide networks with an inverse-gamma readout scale follows the Student-t limit, not a Gaussian; and the t-process posterior is robust to outliers out of distribution.
# Against an NNGP that keeps the prior scale $b/a$, the t-process wins by a wide margin, because its rescaling factor absorbs the misfit that the outliers cause.
# Against an NNGP whose scale is fitted by maximum likelihood, which absorbs the same misfit, our toy problem does *not* reproduce the advantage out of distribution: the two are close, and the t-process is usually slightly worse on $[3, 5]$ while slightly better in distribution.
# That row is reported with its honest verdict and left out of the assertion.
# The pseudo-i.i.d. claims (catalog 233): sparse and low-rank networks converge to the i.i.d. NNGP as the width grows.

# %% tags=["claim"]
nll_t, nll_prior, nll_ml = scores["t-process"], scores["NNGP, sigma^2 = b/a"], scores["NNGP, max. likelihood"]
widest = sizes["widths"][-1]
checks = [
    fg.claims.check(
        "wide networks with an inverse-gamma readout scale have Student-t outputs (KS distance)",
        paper=2, expected="t limit with 2a = 10 dof", measured=f"KS {ks_t:.4f} to the t, {ks_gauss:.4f} to the Gaussian",
        holds=ks_t < 0.015 and ks_t < ks_gauss,
    ),
    fg.claims.check(
        "their kurtosis is the t value, not the Gaussian 3",
        paper=2, expected="kurtosis 4.0", measured=f"{kurtosis:.3f}",
        holds=3.5 < kurtosis < 4.8,
    ),
    fg.claims.check(
        "heavier tails: P(|f| > 3) exceeds the Gaussian's",
        paper=2, expected=f"t {2 * t_limit.sf(3):.4f} vs Gaussian {2 * gauss.sf(3):.4f}", measured=f"{tail:.4f}",
        holds=tail > 1.4 * 2 * gauss.sf(3),
    ),
    fg.claims.check(
        "t-process beats the NNGP with the prior scale out of distribution (test NLL)",
        paper=2, expected="lower NLL for the t-process", measured=f"{nll_t[1]:.3f} vs {nll_prior[1]:.3f}",
        holds=nll_t[1] < nll_prior[1],
    ),
]
# reported with its honest verdict, not asserted (see the text above)
ml_row = fg.claims.check(
    "t-process beats the maximum-likelihood NNGP out of distribution (test NLL)",
    paper=2, expected="lower NLL for the t-process", measured=f"{nll_t[1]:.3f} vs {nll_ml[1]:.3f}",
    holds=nll_t[1] < nll_ml[1],
)
for name in ("sparse", "lowrank"):
    checks += [
        fg.claims.check(
            f"{name} networks converge to the i.i.d. NNGP (per-network kernel error vs width)",
            paper=233, expected="error -> 0 (CLT rate n^-1/2)",
            measured=f"{per_net[name][0]:.3f} -> {per_net[name][-1]:.4f}, slope {slopes[name]:.3f}",
            holds=-0.65 < slopes[name] < -0.35 and per_net[name][-1] < per_net[name][0] / 2.5,
        ),
        fg.claims.check(
            f"{name} networks have the same average kernel as the NNGP (width {widest})",
            paper=233, expected="same NNGP", measured=f"relative error {averaged[name][-1]:.4f}",
            holds=averaged[name][-1] < 0.03,
        ),
    ]
assert all(checks), "a claim failed: see the FAIL rows above"

# %% [markdown]
# ## Explore
#
# How does the prior shape $a$ change the t-process posterior on the outlier data?
# Small $a$ means heavy tails and a posterior dominated by the data's misfit; large $a$ pins $\sigma^2$ near $b/a$ and approaches the NNGP with that scale.
# The static figure shows $a = b = 5$.
# To use the slider, run the cell in Jupyter or Colab with `interactive=True`.

# %%
def plot_prior(a=5.0):
    k_test = kernel(x_plot).diagonal() + NOISE
    mean, scale, df = fg.width.student_t_predict(K, y_train, kernel(x_plot, x_train), k_test, a, a, noise=NOISE)
    q = st.t(df).ppf(0.975)
    fig, ax = plt.subplots(figsize=(5.6, 3.0))
    ax.fill_between(x_plot[:, 0], mean - q * scale, mean + q * scale, alpha=0.3, label=f"t-process 95%, a = b = {a:g}")
    ax.plot(x_plot[:, 0], mean, "k", lw=1)
    ax.plot(x_train[:, 0], y_train, "k.")
    ax.set(xlabel="$x$", ylabel="$y$", ylim=(-12, 12))
    ax.legend(fontsize=8, loc="lower left")


explorer = fg.widgets.explore(
    plot_prior,
    controls={"a": [1.0, 2.0, 5.0, 20.0, 100.0]},
    static={"a": 5.0},
    interactive=False,  # the stored page shows the static figure; set True in Jupyter or Colab for the slider
)

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: gp-limits-ex1
# The pseudo-i.i.d. theory needs the rank to grow with the width.
# Repeat the low-rank measurement with a fixed rank $r = 2$ (`rank=2`).
# Does the per-network kernel error still shrink like $n^{-1/2}$? What about the averaged kernel?
# :::
#
# ````{solution-start} gp-limits-ex1
# :class: dropdown
# ````

# %% tags=["solution"]
fixed_rank, fixed_avg = [], []
for width in sizes["widths"]:
    feats = fg.width.random_network_features(x_six, sizes["nets"], width, ensemble="lowrank", rank=2, generator=gen, **deep)
    K_hat = fg.width.conditional_kernel(feats, sigma_w=1.5, sigma_b=0.1)
    fixed_rank.append(((K_hat - K_limit).flatten(1).norm(dim=1) / K_limit.norm()).mean().item())
    fixed_avg.append(((K_hat.mean(0) - K_limit).norm() / K_limit.norm()).item())
print("rank 2, per-network error:", " ".join(f"{e:.3f}" for e in fixed_rank))
print("rank 2, averaged kernel error:", " ".join(f"{e:.3f}" for e in fixed_avg))
print(f"slope {fg.plot.power_law_fit(sizes['widths'], fixed_rank)[0]:.3f}")

# %% [markdown]
# With rank 2 the second layer's pre-activations of one network are $U_i \cdot (V \phi(h^1))$: every unit sees the same two random directions $V \phi(h^1)$, so the units are not close to independent and the law of large numbers over units stops helping.
# The per-network error plateaus instead of falling, and the averaged kernel is biased because the pre-activations are a Gaussian scale-and-shape mixture rather than Gaussian.
#
# ````{solution-end}
# ````
#
# :::{exercise}
# :label: gp-limits-ex2
# Derive the posterior of the scale: with $\sigma^2 \sim \mathrm{InvGamma}(a, b)$ and $y \mid \sigma^2 \sim \mathcal N(0, \sigma^2 \tilde K)$, show that $\sigma^2 \mid y \sim \mathrm{InvGamma}(a + n/2, b + y^\top \tilde K^{-1} y / 2)$, and deduce the scale factor in {eq}`t-posterior`.
# :::
#
# :::{solution} gp-limits-ex2
# :class: dropdown
# As a function of $\sigma^2$, the likelihood is $(\sigma^2)^{-n/2} \exp(-y^\top \tilde K^{-1} y / (2\sigma^2))$ and the prior is $(\sigma^2)^{-a-1} \exp(-b / \sigma^2)$.
# Their product is $(\sigma^2)^{-(a + n/2) - 1} \exp(-(b + y^\top \tilde K^{-1} y / 2) / \sigma^2)$: an inverse gamma with the stated parameters.
# Given $\sigma^2$, the GP posterior at $x_*$ is $\mathcal N(\mu_*, \sigma^2 v_*)$; integrating $\sigma^2$ against $\mathrm{InvGamma}(a', b')$ gives a Student-t with $2a'$ degrees of freedom and squared scale $(b'/a') v_*$, as in {eq}`t-prior`.
# With $a' = a + n/2$ and $b' = b + y^\top \tilde K^{-1} y / 2$, $b'/a' = (2b + y^\top \tilde K^{-1} y) / (2a + n)$.
# :::
#
# ## Going further
#
# - **Paper scale.** `FIELDGUIDE_SCALE=paper` samples 100,000 networks of width 2,048 for the prior and widths up to 2,048 with 1,000 networks per width for the pseudo-i.i.d. ensembles.
#   {cite}`lee2022scale` evaluate on UCI regression benchmarks with distribution shift and on image classification, where the t-process posterior is not closed form and they use importance sampling and variational inference; they also study general scale priors and networks trained by gradient descent.
#   {cite}`naitsaada2024beyond` prove the limit for fully connected and convolutional networks, and also cover orthogonal weights and use the result to locate the edge of chaos for these ensembles.
# - **What we changed.** Our regression is a 1-D toy with two outliers instead of the paper's benchmarks, with $a = b = 5$ fixed rather than tuned; the kernel's own scale would be tuned in practice.
#   Our sparse matrices use i.i.d. Bernoulli masks rather than the paper's structured sparsity, and the first layer of every network stays i.i.d., since its fan-in is the input dimension 2.
#   We integrate the readout out exactly (`conditional_kernel`) to measure each network's kernel without readout noise.
# - **Related papers in the catalog.** *Neural Tangent Kernel: Convergence and Generalization in Neural Networks* ({doc}`ntk`) is the training-time counterpart of the NNGP.
#   *A theory of representation learning gives a deep generalisation of kernel methods* goes beyond the fixed kernel, and *A Study of Bayesian Neural Network Surrogates for Bayesian Optimization* compares NNGP-style surrogates in practice.
#   *Multi-layer random features and the approximation power of neural networks*, *Commutative Width and Depth Scaling in Deep Neural Networks* and *On the infinite-depth limit of finite-width neural networks* study other limits of random networks.
# - **References.** The original GP limit {cite}`neal1996bayesian`; deep NNGPs {cite}`lee2018deep`; Student-t processes {cite}`shah2014student`.
