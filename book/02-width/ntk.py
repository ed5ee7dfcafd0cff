# ---
# jupyter:
#   fieldguide:
#     papers:
#     - 6
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
# # The neural tangent kernel
#
# Gradient descent moves a network's parameters, but what we care about is how it moves the network's *function*.
# To first order, one step changes the output at any input $x$ by a kernel, the neural tangent kernel (NTK), applied to the errors on the training set.
# {cite}`jacot2018neural` showed that in a suitable parametrization this kernel becomes deterministic as the layers grow wide, that it can be computed by a short recursion over the layers, and that it stops changing during training.
# An infinitely wide network trained on the squared loss is then a kernel machine: its training dynamics are linear and solvable in closed form, and it ends at kernel regression with the NTK.
# This chapter computes the kernel both ways, exactly and from finite networks, and measures how closely real networks of growing width follow the theory.
#
# **Learning objectives**
#
# 1. Derive the kernel gradient descent picture of training, and compute the analytic NTK of deep ReLU and erf networks by the layer-wise recursion.
# 2. Compute the empirical NTK of any PyTorch network with `torch.func`, and watch it converge to the analytic kernel like $1/\sqrt{\text{width}}$.
# 3. Predict a wide network's training dynamics and final predictions in closed form, and measure where finite widths depart from them.
#
# **Prerequisites**: {doc}`../start/index` (how to run a chapter); gradient descent on a squared loss; Gaussian expectations; eigen-decompositions of symmetric matrices.
#
# **Papers**: {cite}`jacot2018neural` (catalog 6).
# Background: the Gaussian-process limit of wide networks at initialization {cite}`lee2018deep`, the arc-cosine kernels {cite}`cho2009kernel`, and the linearized dynamics of wide networks {cite}`lee2019wide`.

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
import copy
import functools
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch.func import functional_call, jacrev, vmap

# %% [markdown]
# ## The idea
#
# **Kernel gradient descent.**
# Train a network $f(x; \theta)$ on inputs $X = (x_1, \dots, x_N)$ with targets $y$ by gradient descent on $L(\theta) = \tfrac12 \sum_i (f(x_i; \theta) - y_i)^2$ with learning rate $\eta$.
# One step moves the parameters by $-\eta \sum_i \nabla_\theta f(x_i)\,(f(x_i) - y_i)$.
# By the chain rule, the output at any input $x$ then moves, to first order in $\eta$, by
#
# $$
# f(x) \;\leftarrow\; f(x) - \eta \sum_{i=1}^{N} \hat\Theta(x, x_i)\,\big(f(x_i) - y_i\big),
# \qquad
# \hat\Theta(x, x') = \nabla_\theta f(x; \theta) \cdot \nabla_\theta f(x'; \theta) .
# $$ (kernel-gd)
#
# $\hat\Theta$ is the *empirical* neural tangent kernel: a Gram matrix of parameter gradients, so symmetric and positive semi-definite.
# Equation {eq}`kernel-gd` is gradient descent in function space, with the gradient smoothed by the kernel.
# In general $\hat\Theta$ depends on the random initialization and changes as $\theta$ moves.
#
# **NTK parametrization.**
# {cite}`jacot2018neural` write each layer of width $n_\ell$ as
#
# $$
# h^{\ell+1} = \frac{\sigma_w}{\sqrt{n_\ell}}\, W^{\ell} \phi(h^{\ell}) + \sigma_b\, b^{\ell},
# \qquad W^\ell_{ij},\ b^\ell_i \sim \mathcal{N}(0, 1),
# $$ (ntk-param)
#
# with the input $x$ in place of $\phi(h^0)$ (the paper has $\sigma_w = 1$ and calls $\sigma_b$ $\beta$).
# The forward pass has the same distribution as the usual initialization with variance $\sigma_w^2 / n_\ell$.
# What changes is the gradient: every weight enters through a factor $1/\sqrt{n_\ell}$.
# The kernel $\hat\Theta$ is then a sum of $n_\ell$ terms of size $1/n_\ell$ per layer: an average, which the law of large numbers makes deterministic.
# And each weight moves by $O(1/\sqrt{n_\ell})$ during training, too little to change the average.
# `fg.nn.MLP(..., parametrization="ntk", sigma_w=..., sigma_b=...)` builds exactly these layers.
#
# **The recursion.**
# As the widths grow, the pre-activations become Gaussian processes with covariance $\Sigma^\ell$ (the NNGP kernel of {cite}`lee2018deep`), and $\hat\Theta$ converges to a deterministic $\Theta$ (Theorem 1 of {cite}`jacot2018neural`).
# For inputs of dimension $d$, with $(u, v)$ a centred Gaussian pair of covariance $\Sigma^\ell$ restricted to $\{x, x'\}$:
#
# $$
# \begin{aligned}
# \Sigma^{1}(x, x') &= \frac{\sigma_w^2}{d}\, x \cdot x' + \sigma_b^2, &
# \Theta^{1} &= \Sigma^{1}, \\
# \Sigma^{\ell+1}(x, x') &= \sigma_w^2\, \mathbb{E}\big[\phi(u)\phi(v)\big] + \sigma_b^2, &
# \dot\Sigma^{\ell+1}(x, x') &= \sigma_w^2\, \mathbb{E}\big[\phi'(u)\phi'(v)\big], \\
# \Theta^{\ell+1}(x, x') &= \Sigma^{\ell+1}(x, x') + \dot\Sigma^{\ell+1}(x, x')\, \Theta^{\ell}(x, x') .
# \end{aligned}
# $$ (ntk-recursion)
#
# A network with $L$ hidden layers has NNGP kernel $\Sigma^{L+1}$ and NTK $\Theta^{L+1}$: `fg.width.nngp(x1, x2, depth=L, ...)` and `fg.width.ntk(x1, x2, depth=L, ...)`.
# The first term of $\Theta^{\ell+1}$ comes from the weights of layer $\ell$; the second carries the earlier layers' contributions through one more derivative of $\phi$.
# For ReLU both expectations are the arc-cosine kernels of {cite}`cho2009kernel`.
# With $\cos\vartheta = k_{12} / \sqrt{k_{11} k_{22}}$,
#
# $$
# \mathbb{E}\big[\phi(u)\phi(v)\big] = \frac{\sqrt{k_{11} k_{22}}}{2\pi}\big(\sin\vartheta + (\pi - \vartheta)\cos\vartheta\big),
# \qquad
# \mathbb{E}\big[\phi'(u)\phi'(v)\big] = \frac{\pi - \vartheta}{2\pi} .
# $$ (arc-cosine)
#
# For erf they are arcsine formulas, and `fg.width.get_dual` falls back to Gauss-Hermite quadrature for any other activation.
#
# **Training as a linear ODE.**
# If the kernel does not move (Theorem 2 of {cite}`jacot2018neural`), {eq}`kernel-gd` is a linear recursion for the outputs on the training set, solved by
#
# $$
# f_t(X) = f_0(X) + \big(I - (I - \eta\Theta)^t\big)\big(y - f_0(X)\big),
# \qquad
# f_t(x) = f_0(x) + \Theta(x, X)\,\Theta^{-1}\big(I - (I - \eta\Theta)^t\big)\big(y - f_0(X)\big),
# $$ (linear-dynamics)
#
# with $\Theta = \Theta(X, X)$; gradient flow replaces $(I - \eta\Theta)^t$ by $e^{-\eta\Theta t}$.
# Along an eigenvector of $\Theta$ with eigenvalue $\lambda_i$ the training residual shrinks by $(1 - \eta\lambda_i)$ per step: the top kernel principal components are learned first.
# As $t \to \infty$ the network interpolates the data and predicts $f_0(x) + \Theta(x, X)\Theta^{-1}(y - f_0(X))$: kernel regression with the NTK, started from the random function $f_0$.
# {cite}`lee2019wide` make this precise for finite widths: the network stays within $O(1/\sqrt{n})$ of its first-order Taylor expansion in $\theta$ throughout training, and so does its kernel.
# `fg.width.kernel_gd` evaluates {eq}`linear-dynamics` in closed form.
#
# The picture shows the analytic NTK between two unit inputs at angle $\gamma$, normalized by its value at $\gamma = 0$, for networks of growing depth.
# ReLU kernels have a corner at $\gamma = 0$ and become sharper with depth; with $\sigma_w = 1$ the erf network stays nearly linear, and so does its kernel.

# %%
SIGMA_W, SIGMA_B = 1.0, 0.1  # the paper's setting: sigma_w = 1, bias scale beta = 0.1
angles = torch.linspace(0, math.pi, 181, dtype=torch.float64)
on_circle = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)  # (181, 2) unit inputs
origin = on_circle[:1]  # (1, 2): the input at angle 0

fig, axes = fg.plot.subplots(2, width=3.4, sharey=True)
for ax, activation in zip(axes, ["relu", "erf"]):
    for depth in [1, 2, 4, 8]:
        k = fg.width.ntk(origin, on_circle, depth=depth, activation=activation, sigma_w=SIGMA_W, sigma_b=SIGMA_B)[0]
        ax.plot(np.degrees(angles.numpy()), (k / k[0]).numpy(), label=f"{depth} hidden")
    ax.set(xlabel=r"angle $\gamma$ between the inputs (degrees)", title=f"{activation} NTK")
axes[0].set_ylabel(r"$\Theta(x, x') / \Theta(x, x)$")
axes[0].legend(fontsize=8)
plt.show()

# %% [markdown]
# ## The method
#
# ### The analytic kernel of one hidden layer, from scratch
#
# For one hidden ReLU layer, the recursion {eq}`ntk-recursion` is a single step with the arc-cosine formulas {eq}`arc-cosine`.

# %%
def relu_ntk_one_layer(x1, x2, sigma_w=1.0, sigma_b=0.0):
    """The NTK of a one-hidden-layer ReLU network in NTK parametrization, (n1, n2)."""
    d = x1.shape[1]
    sigma1 = sigma_w**2 * (x1 @ x2.T) / d + sigma_b**2  # (n1, n2)
    var1 = sigma_w**2 * (x1 * x1).sum(1) / d + sigma_b**2  # (n1,)
    var2 = sigma_w**2 * (x2 * x2).sum(1) / d + sigma_b**2  # (n2,)
    norms = torch.sqrt(var1[:, None] * var2[None, :])
    theta = torch.arccos((sigma1 / norms).clamp(-1, 1))  # angle between the pre-activations
    sigma2 = sigma_w**2 * norms * (torch.sin(theta) + (math.pi - theta) * torch.cos(theta)) / (2 * math.pi) + sigma_b**2
    sigma2_dot = sigma_w**2 * (math.pi - theta) / (2 * math.pi)
    return sigma2 + sigma2_dot * sigma1


x_a, x_b = torch.randn(5, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
ours = relu_ntk_one_layer(x_a, x_b, sigma_w=1.3, sigma_b=0.2)
torch.testing.assert_close(ours, fg.width.ntk(x_a, x_b, depth=1, activation="relu", sigma_w=1.3, sigma_b=0.2))
print("one-layer ReLU NTK from scratch matches fg.width.ntk:", tuple(ours.shape))

# %% [markdown]
# ### The empirical kernel of a finite network, from scratch
#
# `torch.func` turns the network into a function of its parameters, `jacrev` differentiates one output with respect to all of them, and `vmap` does that for every input at once, with no Python loop over samples.
# The empirical NTK {eq}`kernel-gd` is then a sum of Jacobian products, one per parameter tensor.

# %%
def empirical_ntk_scalar(model, x):
    """Empirical NTK (n, n) of a scalar-output model on the inputs x (n, d)."""
    params = {name: p.detach() for name, p in model.named_parameters()}

    def f(p, xi):  # one input (d,) -> one output ()
        return functional_call(model, p, (xi[None],))[0, 0]

    jac = vmap(jacrev(f), in_dims=(None, 0))(params, x)  # name -> (n, *shape)
    return sum(j.flatten(1) @ j.flatten(1).T for j in jac.values())


model = fg.nn.MLP(3, [64, 64], 1, activation="relu", parametrization="ntk", sigma_w=1.3, sigma_b=0.2).double()
ours = empirical_ntk_scalar(model, x_a)
torch.testing.assert_close(ours, fg.width.empirical_ntk(model, x_a))
print("empirical NTK from scratch matches fg.width.empirical_ntk:", tuple(ours.shape))

# %% [markdown]
# The package version also takes a second input set, `empirical_ntk(model, x1, x2)`, and multi-output models, for which it returns the `(n1, n2, out, out)` kernel or, with `reduce="mean"`, the average of its diagonal blocks.
# `fg.width.kernel_gd(k_train, y, t, lr=..., f0_train=..., k_test_train=..., f0_test=...)` evaluates the dynamics {eq}`linear-dynamics`.
# The package's tests check it against gradient descent run step by step on a linearized network.
#
# ## The experiment
#
# Following the paper's numerical section, the inputs lie on the unit circle.
# We take 20 points of $\sin(3s)$ for $s \in [-1, 1]$ and place them at angles $\gamma = 3\pi s / 4$, so that the training data cover three quarters of the circle and leave a gap.
# The networks have one hidden ReLU layer in NTK parametrization with $\sigma_w = 1$ and $\sigma_b = 0.1$, the paper's $\beta$.
# Three measurements, each against width:
#
# 1. the distance between the empirical NTK at initialization and the analytic one (also for two hidden layers);
# 2. how far the empirical NTK moves during training by full-batch gradient descent;
# 3. how far the trained network's predictions on the whole circle are from the NTK predictor, kernel regression started from the network's own $f_0$.
#
# The learning rate is $\eta = 1/\lambda_{\max}$ on the summed loss, with $\lambda_{\max}$ the top eigenvalue of the analytic $\Theta(X, X)$.
# `fg.train.fit` minimizes the *mean* squared error $\tfrac{1}{2N}\sum_i (f(x_i) - y_i)^2$, so it gets $N\eta$.
# The number of steps is large enough for even the slowest kernel direction to nearly converge; the cell below prints how far.

# %%
sizes = fg.scale(
    quick=dict(widths=[64, 128, 256, 512, 1024, 2048, 4096, 8192], draws=8, deep_widths=[64, 128, 256, 512, 1024], deep_draws=4, steps=1500),
    paper=dict(widths=[2**k for k in range(6, 16)], draws=32, deep_widths=[2**k for k in range(6, 12)], deep_draws=16, steps=5000),
)
widths, steps = sizes["widths"], sizes["steps"]
ARC = 3 * math.pi / 4  # the training data cover the angles [-ARC, ARC]


def on_arc(s):
    """Place s in [-4/3, 4/3] on the unit circle at angle ARC * s: (len(s), 2)."""
    return torch.stack([torch.cos(ARC * s), torch.sin(ARC * s)], dim=1)


N = 20
s_train = torch.linspace(-1, 1, N)
X, y = on_arc(s_train), torch.sin(3 * s_train)  # (20, 2), (20,)
s_test = torch.linspace(-4 / 3, 4 / 3, 161)  # the whole circle, including the gap
X_test = on_arc(s_test)  # (161, 2)

hyper = dict(sigma_w=SIGMA_W, sigma_b=SIGMA_B)
ntk_fn = functools.partial(fg.width.ntk, depth=1, activation="relu", **hyper)
nngp_fn = functools.partial(fg.width.nngp, depth=1, activation="relu", **hyper)
theta_train = ntk_fn(X.double())  # (20, 20) analytic NTK on the training set
eigenvalues, eigenvectors = torch.linalg.eigh(theta_train)
lr = 1.0 / eigenvalues[-1].item()


def make_network(width, depth=1):
    return fg.nn.MLP(2, [width] * depth, 1, activation="relu", parametrization="ntk", **hyper).to(device)


print(f"{N} training points; eigenvalues of Theta(X, X) from {eigenvalues[0]:.3g} to {eigenvalues[-1]:.3g}")
print(f"learning rate 1/lambda_max = {lr:.3f}; slowest direction after {steps} steps: (1 - lr lambda_min)^t = "
      f"{(1 - lr * eigenvalues[0].item()) ** steps:.3f}")

# %% [markdown]
# ### 1. The kernel at initialization
#
# For each width we draw fresh networks and compare their empirical NTK on the 20 training inputs with the analytic one, in relative Frobenius norm.

# %%
def init_error(width, depth, draws):
    """Mean relative Frobenius distance between empirical and analytic NTK over `draws` networks."""
    analytic = fg.width.ntk(X.double(), depth=depth, activation="relu", **hyper)
    errors = []
    for _ in range(draws):
        k = fg.width.empirical_ntk(make_network(width, depth), X.to(device)).cpu().double()
        errors.append(((k - analytic).norm() / analytic.norm()).item())
    return float(np.mean(errors))


init_errors = {
    1: [init_error(w, 1, sizes["draws"]) for w in widths],
    2: [init_error(w, 2, sizes["deep_draws"]) for w in sizes["deep_widths"]],
}

fig, ax = fg.plot.subplots(1, width=4.4, height=3.2)
init_slope = {
    1: fg.plot.loglog_with_fit(ax, widths, init_errors[1], label="1 hidden layer"),
    2: fg.plot.loglog_with_fit(ax, sizes["deep_widths"], init_errors[2], label="2 hidden layers", marker="s"),
}
ax.set(xlabel="width $n$", ylabel=r"$\|\hat\Theta_0 - \Theta\|_F / \|\Theta\|_F$", title="empirical vs analytic NTK at initialization")
ax.legend(fontsize=8)
plt.show()
for depth, slope in init_slope.items():
    print(f"{depth} hidden layer(s): fitted slope {slope:.3f} (theory: -0.5)")

# %% [markdown]
# The error falls along a line of slope close to $-1/2$: the empirical kernel is an average over the hidden units, so its fluctuations shrink like $1/\sqrt{n}$.
# The second layer adds its own fluctuations, so the deeper network's kernel is noisier at equal width.
#
# ### 2. Training: how much does the kernel move?
#
# Now one network per width is trained for the same number of steps.
# We keep its empirical kernel before and after training, its initial function $f_0$ and its trained function on the test circle.
# For the widest network we also record the training outputs at every step.

# %%
results = {}
X_dev, y_dev, X_test_dev = X.to(device), y.to(device), X_test.to(device)
for width in widths:
    net = make_network(width)
    with torch.no_grad():
        f0_train, f0_test = net(X_dev)[:, 0], net(X_test_dev)[:, 0]
    theta_0 = fg.width.empirical_ntk(net, X_dev)
    trajectory = []
    record = width == widths[-1]

    def after_step(step, loss, net=net, trajectory=trajectory, record=record):
        if record:
            with torch.no_grad():
                trajectory.append(net(X_dev)[:, 0].cpu())

    history = fg.train.fit(net, X_dev, y_dev[:, None], loss="mse", optimizer="sgd", lr=lr * N, epochs=steps, after_step=after_step, progress=False)
    theta_T = fg.width.empirical_ntk(net, X_dev)
    with torch.no_grad():
        f_test = net(X_test_dev)[:, 0]
    results[width] = dict(
        f0_train=f0_train.cpu(), f0_test=f0_test.cpu(), f_test=f_test.cpu(), final_loss=history.final_loss,
        movement=((theta_T - theta_0).norm() / theta_0.norm()).item(), trajectory=trajectory,
    )

movement = [results[w]["movement"] for w in widths]
fig, ax = fg.plot.subplots(1, width=4.4, height=3.2)
move_slope = fg.plot.loglog_with_fit(ax, widths, movement, label="after training")
ax.set(xlabel="width $n$", ylabel=r"$\|\hat\Theta_T - \hat\Theta_0\|_F / \|\hat\Theta_0\|_F$", title=f"kernel movement over {steps} steps")
ax.legend(fontsize=8)
plt.show()
print(f"fitted slope {move_slope:.3f}; largest final training loss {max(r['final_loss'] for r in results.values()):.2e}")

# %% [markdown]
# Every network fits the data, yet the wider the network, the less its kernel moves.
# {cite}`lee2019wide` bound the movement by $O(1/\sqrt{n})$; the fitted slope here is steeper, between $-1/2$ and $-1$.
# A heuristic reason: to first order, the change of each hidden unit's contribution to $\hat\Theta$ carries the random sign of its readout weight, and these changes partly cancel in the average.
# For smooth activations the cancellation is complete and the movement falls like $1/n$; finer finite-width analyses {cite}`dyer2020asymptotics` improve on the $1/\sqrt{n}$ bound.
# ReLU's kink spoils the cancellation for the few units whose sign flips, which is why our slope lies in between.
#
# ### 3. Predictions: the network against the NTK predictor
#
# The NTK theory predicts each trained network from its own start: $f_0(x) + \Theta(x, X)\Theta^{-1}(y - f_0(X))$.
# The random initial function matters, above all in the gap where there are no data.
# (An alternative is to start from $f_0 = 0$, with the antisymmetric trick of Exercise {ref}`ntk-ex1`.)
# As a reference that *could* fit as well, we also compute the same predictor with the NNGP kernel $\Sigma^2$, the kernel of Bayesian inference and of training the readout alone.

# %%
def predictor(kernel_fn, r):
    """Kernel regression on y - f0, started from f0, evaluated on the test circle (float64)."""
    regressor = fg.width.KernelRegressor(kernel_fn).fit(X.double(), y.double() - r["f0_train"].double())
    return r["f0_test"].double() + regressor.predict(X_test.double())


for r in results.values():
    r["ntk_pred"], r["nngp_pred"] = predictor(ntk_fn, r), predictor(nngp_fn, r)
    r["dev_ntk"] = (r["f_test"].double() - r["ntk_pred"]).abs().max().item()
    r["dev_nngp"] = (r["f_test"].double() - r["nngp_pred"]).abs().max().item()

# after `steps` steps the kernel dynamics are converged: compare the finite-time predictor with the limit
widest = results[widths[-1]]
finite_time = fg.width.kernel_gd(theta_train, y.double(), steps, lr=lr, f0_train=widest["f0_train"].double(),
                                 k_test_train=ntk_fn(X_test.double(), X.double()), f0_test=widest["f0_test"].double())
print(f"NTK predictor after {steps} steps vs t -> infinity: max difference {(finite_time - widest['ntk_pred']).abs().max():.1e}")

gamma = np.degrees(ARC * s_test.numpy())
fig, axes = fg.plot.subplots(2, width=3.6, height=3.0)
for ax, width in zip(axes, [widths[0], widths[-1]]):
    r = results[width]
    ax.axvspan(135, 180, color="0.92", lw=0)
    ax.axvspan(-180, -135, color="0.92", lw=0)
    ax.plot(gamma, r["f_test"], label="trained network")
    ax.plot(gamma, r["ntk_pred"], "--", label="NTK predictor")
    ax.plot(gamma, r["nngp_pred"], ":", color="0.4", label="NNGP predictor")
    ax.plot(np.degrees(ARC * s_train.numpy()), y, "k.", label="data")
    ax.set(xlabel=r"angle $\gamma$ (degrees)", title=f"width {width}: max gap to NTK {r['dev_ntk']:.3f}")
axes[0].set_ylabel("output")
axes[0].legend(fontsize=7, loc="lower right")
plt.show()

dev_ntk = [results[w]["dev_ntk"] for w in widths]
dev_nngp = [results[w]["dev_nngp"] for w in widths]
fig, ax = fg.plot.subplots(1, width=4.4, height=3.2)
dev_slope = fg.plot.loglog_with_fit(ax, widths, dev_ntk, label="network vs NTK predictor")
ax.loglog(widths, dev_nngp, "s:", color="0.4", label="network vs NNGP predictor")
ax.set(xlabel="width $n$", ylabel="max deviation on the circle", title="trained networks vs kernel predictors")
ax.legend(fontsize=8)
plt.show()
print(f"max deviation from the NTK predictor: {dev_ntk[0]:.3f} at width {widths[0]}, {dev_ntk[-1]:.3f} at width {widths[-1]} "
      f"(fitted slope {dev_slope:.2f}); from the NNGP predictor at width {widths[-1]}: {dev_nngp[-1]:.3f}")

# %% [markdown]
# The grey bands mark the gap without data.
# The narrow network strays from the NTK predictor there, the wide one follows it closely.
# The NNGP predictor, a different kernel, stays about a tenth away at every width: the agreement is specific to the NTK.
# The deviation falls more slowly than the kernel error at initialization.
# It is a maximum over 161 test points, and a ReLU network departs from its linearization by $O(1/\sqrt{n})$ with a sizeable constant.
#
# ### 4. Learning along the kernel's eigenvectors
#
# Project the widest network's training residual $r_t = f_t(X) - y$ on the eigenvectors of the analytic $\Theta(X, X)$.
# By {eq}`linear-dynamics` component $i$ shrinks by the factor $(1 - \eta\lambda_i)^t$, which `fg.width.mode_decay` computes.

# %%
residuals = torch.stack(widest["trajectory"]).double() - y.double()  # (steps, 20): after steps 1, 2, ...
residuals = torch.cat([(widest["f0_train"].double() - y.double())[None], residuals])  # (steps + 1, 20)
order = torch.argsort(eigenvalues, descending=True)
modes = residuals @ eigenvectors[:, order]  # (steps + 1, 20) components, top eigenvalue first
t_grid = torch.arange(steps + 1)
predicted = fg.width.mode_decay(eigenvalues[order], t_grid, lr=lr) * modes[0]  # (steps + 1, 20)
shown, horizon = [1, 2, 4, 7], min(steps, 300)  # well-separated eigenvalues; the first 300 steps

fig, ax = fg.plot.subplots(1, width=4.8, height=3.2)
for i, k in enumerate(shown):
    label = rf"$i$ = {k + 1}, $\eta\lambda_i$ = {lr * eigenvalues[order][k]:.3f}"
    ax.semilogy(t_grid[:horizon], (modes[:horizon, k] / modes[0, k]).abs(), color=fg.plot.PALETTE[i], label=label)
    ax.semilogy(t_grid[:horizon], (predicted[:horizon, k] / modes[0, k]).abs(), "--", color=fg.plot.PALETTE[i], alpha=0.7)
ax.set(xlabel="gradient-descent step $t$", ylabel=r"$|v_i^\top r_t| \,/\, |v_i^\top r_0|$", ylim=(1e-5, 2),
       title=f"width {widths[-1]}: network (solid), theory (dashed)")
ax.legend(fontsize=7)
plt.show()
early = (modes[:50, shown] - predicted[:50, shown]).abs() / modes[0, shown].abs()  # (50, 4)
print(f"eigenvalues lambda_i of Theta(X, X): {', '.join(f'{v:.3g}' for v in eigenvalues[order][:8])}, ...")
print(f"largest gap between measured and predicted components in the first 50 steps: {early.max():.4f} (relative to the start)")

# %% [markdown]
# Each component decays exponentially at its own rate, as predicted, over two to four orders of magnitude.
# Then it settles on a floor: the finite network's kernel differs from $\Theta$ by about 2% and moves a little, which couples the components.
# The top principal components are learned within a few steps, the bottom ones take hundreds: this is the paper's argument for early stopping.
#
# ## Claim check
#
# The paper claims that, in NTK parametrization, the empirical NTK converges to a deterministic limit as the width grows, that it stays constant during training in that limit, and that the trained network is then kernel regression with the limiting NTK.
# We check, at widths up to 8192 (the margins hold for seeds 0 to 5):
# the slope of the initialization error against width is near $-1/2$;
# the kernel's movement during training falls at least as fast as $1/\sqrt{n}$, the bound of {cite}`lee2019wide`;
# the widest network's predictions are within a few hundredths of the NTK predictor, several times closer than at small widths and than the NNGP predictor.

# %% tags=["claim"]
narrow_dev = float(np.mean(dev_ntk[:3]))
checks = [
    fg.claims.check(
        "empirical NTK at init approaches the analytic NTK like 1/sqrt(width), 1 hidden layer",
        paper=6, expected="slope -0.5", measured=f"slope {init_slope[1]:.3f}",
        holds=-0.65 < init_slope[1] < -0.35,
    ),
    fg.claims.check(
        "the same for 2 hidden layers",
        paper=6, expected="slope -0.5", measured=f"slope {init_slope[2]:.3f}",
        holds=-0.9 < init_slope[2] < -0.25,
    ),
    fg.claims.check(
        "the kernel moves less during training as the width grows",
        paper=6, expected="slope <= -0.5 (Lee et al. 2019: O(n^-1/2))", measured=f"slope {move_slope:.3f}",
        holds=move_slope < -0.45,
    ),
    fg.claims.check(
        f"the widest network's kernel hardly moves (width {widths[-1]})",
        paper=6, expected="0 in the limit", measured=f"{movement[-1]:.4f}",
        holds=movement[-1] < 0.02,
    ),
    fg.claims.check(
        f"the widest trained network predicts like NTK regression (width {widths[-1]})",
        paper=6, expected="0 deviation in the limit", measured=f"max deviation {dev_ntk[-1]:.3f}",
        holds=dev_ntk[-1] < 0.04,
    ),
    fg.claims.check(
        "the deviation shrinks with width",
        paper=6, expected="decreasing", measured=f"{narrow_dev:.3f} (3 narrowest) -> {dev_ntk[-1]:.3f}",
        holds=dev_ntk[-1] < narrow_dev / 1.5,
    ),
    fg.claims.check(
        "the agreement is specific to the NTK (not the NNGP)",
        paper=6, expected="NTK closer than NNGP", measured=f"{dev_ntk[-1]:.3f} vs NNGP {dev_nngp[-1]:.3f}",
        holds=dev_ntk[-1] < 0.5 * dev_nngp[-1],
    ),
]
assert all(checks), "a claim failed: see the FAIL rows above"

# %% [markdown]
# ## Explore
#
# Pick a width to compare its trained network with its NTK predictor (the networks of the experiment, nothing is retrained).
# The static figure shows width 256.
# To use the selector, run the cell in Jupyter or Colab with `interactive=True`.

# %%
def plot_width(width=256):
    r = results[width]
    fig, ax = plt.subplots(figsize=(5.6, 3.2))
    ax.axvspan(135, 180, color="0.92", lw=0)
    ax.axvspan(-180, -135, color="0.92", lw=0)
    ax.plot(gamma, r["f0_test"], color="0.7", lw=1, label="network at initialization")
    ax.plot(gamma, r["f_test"], label="trained network")
    ax.plot(gamma, r["ntk_pred"], "--", label="NTK predictor")
    ax.plot(np.degrees(ARC * s_train.numpy()), y, "k.", label="data")
    ax.set(xlabel=r"angle $\gamma$ (degrees)", ylabel="output", title=f"width {width}: max deviation {r['dev_ntk']:.3f}")
    ax.legend(fontsize=7, loc="lower right")


explorer = fg.widgets.explore(
    plot_width,
    controls={"width": widths},
    static={"width": 256},
    interactive=False,  # the stored page shows the static figure; set True in Jupyter or Colab for the selector
)

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ntk-ex1
# The random initial function $f_0$ complicates the comparison with kernel regression.
# Remove it: build a network $f = (g_1 - g_2)/\sqrt{2}$ from two copies of the same network $g$ at initialization.
# Show that $f_0 = 0$ and that the empirical NTK of $f$ at initialization equals that of $g$.
# Then train $f$ of width 2048 as in the experiment and compare it with plain kernel regression `KernelRegressor(ntk_fn).fit(X, y)`, with no $f_0$ correction.
# :::
#
# ````{solution-start} ntk-ex1
# :class: dropdown
# ````

# %% tags=["solution"]
class Antisymmetric(torch.nn.Module):
    """f = (g1 - g2) / sqrt(2) with g2 a copy of g1: zero output at initialization, same NTK."""

    def __init__(self, g):
        super().__init__()
        self.g1, self.g2 = g, copy.deepcopy(g)

    def forward(self, x):
        return (self.g1(x) - self.g2(x)) / math.sqrt(2)


f = Antisymmetric(make_network(2048))
with torch.no_grad():
    print(f"max |f_0| on the test circle: {f(X_test_dev).abs().max():.1e}")
ntk_gap = (fg.width.empirical_ntk(f, X_dev) - fg.width.empirical_ntk(f.g1, X_dev)).abs().max()
print(f"max difference between the NTKs of f and g: {ntk_gap:.1e}")
fg.train.fit(f, X_dev, y_dev[:, None], loss="mse", optimizer="sgd", lr=lr * N, epochs=steps, progress=False)
with torch.no_grad():
    f_trained = f(X_test_dev)[:, 0].cpu().double()
plain = fg.width.KernelRegressor(ntk_fn).fit(X.double(), y.double()).predict(X_test.double())
print(f"max deviation from plain NTK regression: {(f_trained - plain).abs().max():.3f}")

# %% [markdown]
# The gradients of $f$ with respect to the two copies are $\nabla g / \sqrt{2}$ and $-\nabla g / \sqrt{2}$, so $\hat\Theta_f = \tfrac12 \hat\Theta_g + \tfrac12 \hat\Theta_g = \hat\Theta_g$ at initialization.
# The trick doubles the cost of the network and changes its random initial function into zero, which also removes $f_0$'s variance from the predictions.
#
# ````{solution-end}
# ````
#
# :::{exercise}
# :label: ntk-ex2
# Why does the initialization error fall like $1/\sqrt{n}$?
# Write the empirical NTK of a one-hidden-layer network in NTK parametrization, $f(x) = \frac{\sigma_w}{\sqrt{n}} \sum_{j=1}^{n} a_j \phi(h_j(x)) + \sigma_b b$ with $h_j(x) = \frac{\sigma_w}{\sqrt{d}} w_j \cdot x + \sigma_b c_j$, as an average over the hidden units, and name its limit.
# :::
#
# :::{solution} ntk-ex2
# :class: dropdown
# The gradients with respect to $a_j$, $w_j$, $c_j$ and $b$ give
# $\hat\Theta(x, x') = \frac{\sigma_w^2}{n} \sum_{j=1}^{n} \Big[ \phi(h_j(x))\phi(h_j(x')) + a_j^2\, \phi'(h_j(x))\phi'(h_j(x'))\, \Sigma^1(x, x') \Big] + \sigma_b^2$,
# with $\Sigma^1(x, x') = \frac{\sigma_w^2}{d} x \cdot x' + \sigma_b^2$.
# The $n$ terms of the sum are independent and identically distributed, because each involves only unit $j$'s parameters.
# By the law of large numbers the average tends to its expectation; with $\mathbb{E}[a_j^2] = 1$ this is $\Sigma^2 + \dot\Sigma^2 \Sigma^1 = \Theta^2$, the recursion {eq}`ntk-recursion`.
# By the central limit theorem the fluctuations around it are of order $1/\sqrt{n}$.
# :::
#
# :::{exercise}
# :label: ntk-ex3
# Repeat the first measurement of the experiment for one-hidden-layer **erf** networks with $\sigma_w = 2$.
# Does the initialization error fall with the same slope?
# :::
#
# ````{solution-start} ntk-ex3
# :class: dropdown
# ````

# %% tags=["solution"]
erf_kernel = fg.width.ntk(X.double(), depth=1, activation="erf", sigma_w=2.0, sigma_b=SIGMA_B)
erf_errors = []
for width in widths:
    errors = []
    for _ in range(sizes["draws"]):
        net = fg.nn.MLP(2, [width], 1, activation="erf", parametrization="ntk", sigma_w=2.0, sigma_b=SIGMA_B).to(device)
        k = fg.width.empirical_ntk(net, X_dev).cpu().double()
        errors.append(((k - erf_kernel).norm() / erf_kernel.norm()).item())
    erf_errors.append(np.mean(errors))
erf_slope, _ = fg.plot.power_law_fit(widths, erf_errors)
print(f"erf: relative error {erf_errors[0]:.3f} at width {widths[0]}, {erf_errors[-1]:.4f} at width {widths[-1]}; slope {erf_slope:.3f}")

# %% [markdown]
# The slope is again close to $-1/2$: the argument of Exercise {ref}`ntk-ex2` uses nothing about ReLU.
# Only the constant differs, since it depends on the fourth moments of the activation's features.
#
# ````{solution-end}
# ````
#
# ## Going further
#
# - **Paper scale.** `FIELDGUIDE_SCALE=paper` runs widths up to 32,768 with 32 networks per width at initialization, two-layer networks up to width 2,048, and 5,000 training steps (a GPU helps).
#   The paper's own numerical section uses four-layer ReLU networks of widths 500 and 10,000 with $\beta = 0.1$ on the unit circle, and compares their kernels at initialization and after training; it also follows training along kernel principal components on MNIST.
# - **What we changed.** The training experiments use one hidden layer: the empirical NTK of deeper networks stores one Jacobian row per input of size $n^2$, too much at width 8,192 on a laptop.
#   The recursion itself is checked for two hidden layers at initialization, and the package's tests check it for other depths.
#   We train by full-batch gradient descent with a fixed learning rate $1/\lambda_{\max}$, not gradient flow, and compare with the discrete-time formula {eq}`linear-dynamics`.
# - **Related papers in the catalog.**
#   *Wide and Deep Neural Networks Achieve Optimality for Classification* ({doc}`wide-deep-optimality`) takes the depth of these kernels to infinity.
#   *Feature Learning in Infinite-Width Neural Networks* shows that the NTK limit learns no features, and finds a parametrization whose infinite-width limit does.
#   *A theory of representation learning gives a deep generalisation of kernel methods* and *The Principles of Deep Learning Theory* go beyond the fixed kernel, with finite-width corrections.
#   *What Can Be Learnt With Wide Convolutional Neural Networks?* and *More is Better in Modern Machine Learning* study what infinite-width kernels generalize to.
# - **References.** The NNGP limit {cite}`lee2018deep`; arc-cosine kernels {cite}`cho2009kernel`; linearized training {cite}`lee2019wide`; finite-width corrections {cite}`dyer2020asymptotics`.
