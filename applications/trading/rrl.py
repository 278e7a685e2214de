"""Recurrent reinforcement learning (Moody & Saffell 2001) in numpy, float64.

The trader's position at the end of period `t` is

    F_t = tanh(w . [1, x_t, F_{t-1}])          (x_t: the features known at t)

and it earns, over period `t + 1`, the excess return

    R_t = F_t * y_t - cost * |F_t - F_{t-1}|   (y_t: the next period's excess return)

(`R_t` is indexed by the decision that earns it). Training maximizes the
Sharpe ratio of `R` (batch) or, online, the differential Sharpe ratio `D_t`.
Gradients are exact through the recurrence: `dF_t/dw` includes
`dF_t/dF_{t-1} * dF_{t-1}/dw`, by backpropagation through time (batch) or by
real-time recurrent learning (online); `tests/applications/trading` checks both
against finite differences.

Parameters are stored as `theta = [b, u_1..u_d, v]` (bias, input weights,
recurrent weight); every function accepts a stack `(models, d + 2)` of them,
so seeds and hyperparameters train side by side in one time loop.

Reference:
- [Moody & Saffell, 2001](https://doi.org/10.1109/72.935097), "Learning to
  Trade via Direct Reinforcement", IEEE TNN 12(4).
- [Moody, Wu, Liao & Saffell, 1998](https://doi.org/10.1002/(SICI)1099-131X(1998090)17:5/6%3C441::AID-FOR707%3E3.0.CO;2-%23)
  (the differential Sharpe ratio).
"""

import numpy as np


def _stack(theta):
    theta = np.asarray(theta, dtype="float64")
    if theta.ndim == 1:
        return theta[None], True
    if theta.ndim != 2:
        raise ValueError(f"`theta` must be (d + 2,) or (models, d + 2). Received: theta.shape={theta.shape}")
    return theta, False


def _check(theta, x):
    x = np.asarray(x, dtype="float64")
    if x.ndim != 2:
        raise ValueError(f"`x` must be (time, features). Received: x.shape={x.shape}")
    if theta.shape[1] != x.shape[1] + 2:
        raise ValueError(
            f"`theta` must hold d + 2 = {x.shape[1] + 2} numbers [b, u (d), v] for {x.shape[1]} features. "
            f"Received: theta.shape={theta.shape}"
        )
    return x


def init_theta(num_features, models=1, seed=0, scale=0.1):
    """Small random parameters, `(models, num_features + 2)`."""
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, scale, size=(models, num_features + 2))


def positions(theta, x, initial_position=0.0):
    """Positions `F_t` for every row of `x` (the recurrence run forward).

    Args:
        theta: `(d + 2,)` or `(models, d + 2)` parameters `[b, u, v]`.
        x: `(time, d)` features.
        initial_position: `F_{-1}`, a number or one per model.

    Returns:
        `(time,)` or `(models, time)` positions in (-1, 1).
    """
    theta, single = _stack(theta)
    x = _check(theta, x)
    z = theta[:, 0][:, None] + theta[:, 1:-1] @ x.T  # (models, time)
    v = theta[:, -1]
    out = np.empty_like(z)
    f = np.broadcast_to(np.asarray(initial_position, dtype="float64"), v.shape).copy()
    for t in range(z.shape[1]):
        f = np.tanh(z[:, t] + v * f)
        out[:, t] = f
    return out[0] if single else out


def trading_returns(f, y, cost, initial_position=0.0):
    """`R_t = F_t y_t - cost |F_t - F_{t-1}|` (last axis is time)."""
    f = np.asarray(f, dtype="float64")
    previous = np.concatenate(
        [np.broadcast_to(np.asarray(initial_position, dtype="float64"), f.shape[:-1])[..., None], f[..., :-1]],
        axis=-1,
    )
    return f * np.asarray(y, dtype="float64") - cost * np.abs(f - previous)


def sharpe(r, axis=-1):
    """Per-period Sharpe ratio `mean / std` (population std; 0 when std is 0)."""
    r = np.asarray(r, dtype="float64")
    std = r.std(axis=axis)
    return np.where(std > 0, r.mean(axis=axis) / np.where(std > 0, std, 1.0), 0.0)


def objective(theta, x, y, cost, l2=0.0, initial_position=0.0):
    """Batch objective: Sharpe of `R` minus `l2 / 2 * |u, v|^2`, per model."""
    theta_s, single = _stack(theta)
    f = positions(theta_s, x, initial_position)
    l2 = np.broadcast_to(np.asarray(l2, dtype="float64"), theta_s.shape[:1])
    value = sharpe(trading_returns(f, y, cost, initial_position)) - 0.5 * l2 * (theta_s[:, 1:] ** 2).sum(-1)
    return value[0] if single else value


def objective_and_gradient(theta, x, y, cost, l2=0.0, initial_position=0.0):
    """The batch objective and its exact gradient (backpropagation through time).

    Args:
        theta: `(d + 2,)` or `(models, d + 2)`.
        x: `(time, d)` features; `y`: `(time,)` next-period excess returns.
        cost: transaction cost per unit of position change (0.005 = 0.5%).
        l2: weight decay on `u` and `v` (a number, or one per model).
        initial_position: `F_{-1}`.

    Returns:
        `(objective, gradient)` shaped like `theta`'s leading axis / `theta`.
    """
    theta, single = _stack(theta)
    x = _check(theta, x)
    y = np.asarray(y, dtype="float64")
    l2 = np.broadcast_to(np.asarray(l2, dtype="float64"), theta.shape[:1])
    f = positions(theta, x, initial_position)
    n = f.shape[1]
    previous = np.concatenate([np.full((f.shape[0], 1), float(initial_position)), f[:, :-1]], axis=1)
    step = f - previous
    r = f * y - cost * np.abs(step)
    mean, std = r.mean(-1), r.std(-1)
    std = np.maximum(std, 1e-12)
    value = mean / std - 0.5 * l2 * (theta[:, 1:] ** 2).sum(-1)
    d_r = 1.0 / (n * std[:, None]) - mean[:, None] * (r - mean[:, None]) / (n * std[:, None] ** 3)
    sign = np.sign(step)
    direct = d_r * (y - cost * sign)  # dS/dR_t * dR_t/dF_t
    direct[:, :-1] += d_r[:, 1:] * cost * sign[:, 1:]  # dS/dR_{t+1} * dR_{t+1}/dF_t
    v = theta[:, -1]
    slope = 1.0 - f**2
    g = np.empty_like(f)  # dL/dz_t (pre-activation), through the recurrence
    carry = np.zeros(f.shape[0])
    for t in range(n - 1, -1, -1):
        total = direct[:, t] + carry  # dL/dF_t
        g[:, t] = total * slope[:, t]
        carry = g[:, t] * v
    grad = np.empty_like(theta)
    grad[:, 0] = g.sum(-1)
    grad[:, 1:-1] = g @ x
    grad[:, -1] = (g * previous).sum(-1)
    grad[:, 1:] -= l2[:, None] * theta[:, 1:]
    return (value[0], grad[0]) if single else (value, grad)


def position_jacobians(theta, x, initial_position=0.0):
    """`dF_t / dtheta` for every `t` by real-time recurrent learning.

    `J_t = (1 - F_t^2) ([1, x_t, F_{t-1}] + v J_{t-1})`: the exact total
    derivative, recurrence included. Returns `(time, d + 2)` for one model.
    """
    theta = np.asarray(theta, dtype="float64")
    x = _check(theta[None], x)
    f = positions(theta, x, initial_position)
    jac = np.empty((len(f), theta.size))
    j_prev = np.zeros(theta.size)
    f_prev = float(initial_position)
    for t in range(len(f)):
        inputs = np.concatenate([[1.0], x[t], [f_prev]])
        j_prev = (1.0 - f[t] ** 2) * (inputs + theta[-1] * j_prev)
        jac[t] = j_prev
        f_prev = f[t]
    return jac


def differential_sharpe(r, eta, a0=0.0, b0=None):
    """The differential Sharpe ratios `D_t` and the moving moments `A_t`, `B_t`.

    `A_t = A_{t-1} + eta (R_t - A_{t-1})`, `B_t = B_{t-1} + eta (R_t^2 - B_{t-1})`,
    `D_t = (B_{t-1} dA_t - A_{t-1} dB_t / 2) / (B_{t-1} - A_{t-1}^2)^{3/2}`
    (0 while the variance estimate is not positive).

    Args:
        r: `(time,)` returns.
        eta: adaptation rate in (0, 1).
        a0, b0: initial moments (default `b0`: `r[0]**2`).
    """
    if not 0.0 < eta < 1.0:
        raise ValueError(f"`eta` must be in (0, 1). Received: eta={eta!r}")
    r = np.asarray(r, dtype="float64")
    a, b = float(a0), float(r[0] ** 2 if b0 is None else b0)
    out, moments = np.zeros(len(r)), np.zeros((len(r), 2))
    for t, value in enumerate(r):
        var = b - a * a
        if var > 0:
            out[t] = (b * (value - a) - 0.5 * a * (value * value - b)) / var**1.5
        a, b = a + eta * (value - a), b + eta * (value * value - b)
        moments[t] = a, b
    return out, moments


def train_online(theta, x, y, cost, eta=0.01, learning_rate=0.05, epochs=1, warmup=None,
                 initial_position=0.0, l2=0.0):
    """Online RRL: after each period, `theta += lr * dD_t/dtheta` (RTRL).

    `dD_t/dtheta = dD_t/dR_t (dR_t/dF_t J_t + dR_t/dF_{t-1} J_{t-1})` with
    `dD_t/dR_t = (B_{t-1} - A_{t-1} R_t) / (B_{t-1} - A_{t-1}^2)^{3/2}` and the
    RTRL Jacobians `J` carried forward with the current parameters. The first
    `warmup` periods (default `1 / eta`) only update `A` and `B`.

    Returns:
        `(theta, positions)`: the final parameters and the positions taken
        while learning (each decided before its period's return was seen).
    """
    theta = np.array(theta, dtype="float64")
    x = _check(theta[None], x)
    y = np.asarray(y, dtype="float64")
    warmup = int(round(1.0 / eta)) if warmup is None else int(warmup)
    a, b = 0.0, float(np.mean(y[: max(warmup, 1)] ** 2))
    taken = np.zeros(len(x))
    for epoch in range(epochs):
        f_prev, j_prev = float(initial_position), np.zeros(theta.size)
        for t in range(len(x)):
            inputs = np.concatenate([[1.0], x[t], [f_prev]])
            f = np.tanh(inputs @ theta)
            j = (1.0 - f * f) * (inputs + theta[-1] * j_prev)
            taken[t] = f
            step = f - f_prev
            r = f * y[t] - cost * abs(step)
            var = b - a * a
            if (epoch > 0 or t >= warmup) and var > 1e-16:
                d_dr = (b - a * r) / var**1.5
                sign = np.sign(step)
                grad = d_dr * ((y[t] - cost * sign) * j + cost * sign * j_prev)
                grad[1:] -= l2 * theta[1:]
                theta = theta + learning_rate * grad
            a, b = a + eta * (r - a), b + eta * (r * r - b)
            f_prev, j_prev = f, j
    return theta, taken


def train_batch(theta, x, y, cost, l2=0.0, learning_rate=0.01, epochs=300, validation=None,
                eval_every=10, initial_position=0.0):
    """Full-batch gradient ascent (Adam) on the Sharpe ratio, all models at once.

    Args:
        theta: `(models, d + 2)` starting parameters.
        x, y: training features `(time, d)` and next-period returns `(time,)`.
        validation: optional `(x_val, y_val)` that directly follow the
            training rows; each model keeps the parameters of its best
            validation Sharpe (checked every `eval_every` epochs, the
            recurrence running on from the training rows).

    Returns:
        `(theta, info)`: parameters (the best on validation if given) and a
        dict with `train_sharpe`, `validation_sharpe`, `best_epoch` per model
        and the `history` of validation Sharpes.
    """
    theta, _ = _stack(theta)
    theta = theta.copy()
    m, s = np.zeros_like(theta), np.zeros_like(theta)
    beta1, beta2 = 0.9, 0.999
    best = theta.copy()
    best_score = np.full(theta.shape[0], -np.inf)
    best_epoch = np.zeros(theta.shape[0], dtype=int)
    history = []

    def val_sharpe(params):
        x_all = np.concatenate([x, validation[0]])
        y_all = np.concatenate([y, validation[1]])
        f = positions(params, x_all, initial_position)
        r = trading_returns(f, y_all, cost, initial_position)
        return sharpe(r[:, len(x):])

    for epoch in range(epochs + 1):
        if validation is not None and (epoch % eval_every == 0 or epoch == epochs):
            score = val_sharpe(theta)
            history.append((epoch, score.tolist()))
            better = score > best_score
            best[better], best_score[better], best_epoch[better] = theta[better], score[better], epoch
        if epoch == epochs:
            break
        _, grad = objective_and_gradient(theta, x, y, cost, l2, initial_position)
        m = beta1 * m + (1 - beta1) * grad
        s = beta2 * s + (1 - beta2) * grad**2
        m_hat, s_hat = m / (1 - beta1 ** (epoch + 1)), s / (1 - beta2 ** (epoch + 1))
        theta = theta + learning_rate * m_hat / (np.sqrt(s_hat) + 1e-8)
    final = best if validation is not None else theta
    info = {
        "train_sharpe": objective(final, x, y, cost, 0.0, initial_position).tolist(),
        "validation_sharpe": best_score.tolist() if validation is not None else None,
        "best_epoch": best_epoch.tolist() if validation is not None else [epochs] * theta.shape[0],
        "history": history,
    }
    return final, info
