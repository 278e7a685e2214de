"""RRL core: exact recurrent gradients, differential Sharpe, online learning."""

import numpy as np
import pytest

from applications.trading import rrl


def _data(seed=0, t=120, d=4):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(t, d))
    y = 0.002 + 0.04 * rng.standard_t(5, size=t) / 1.3 + 0.01 * x[:, 0]
    return x, y


def _finite_difference(fn, theta, eps=1e-6):
    grad = np.zeros_like(theta)
    for j in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[j] += eps
        down[j] -= eps
        grad[j] = (fn(up) - fn(down)) / (2 * eps)
    return grad


@pytest.mark.parametrize("cost,l2", [(0.0, 0.0), (0.005, 0.0), (0.005, 0.05)])
def test_batch_gradient_matches_finite_differences(cost, l2):
    x, y = _data()
    theta = rrl.init_theta(x.shape[1], seed=3, scale=0.5)[0]
    theta[-1] = 0.8  # a strong recurrence: dF_{t-1}/dw matters
    _, grad = rrl.objective_and_gradient(theta, x, y, cost, l2, initial_position=0.2)
    fd = _finite_difference(lambda w: rrl.objective(w, x, y, cost, l2, initial_position=0.2), theta)
    np.testing.assert_allclose(grad, fd, atol=1e-7, rtol=1e-5)


def test_gradient_without_recurrence_term_is_wrong():
    """The recurrent path carries real gradient: dropping it breaks the match."""
    x, y = _data()
    theta = rrl.init_theta(x.shape[1], seed=3, scale=0.5)[0]
    theta[-1] = 0.8
    fd = _finite_difference(lambda w: rrl.objective(w, x, y, 0.005), theta)
    # Truncated gradient: only the direct dF_t/dw (recurrent weight frozen at 0 in the chain).
    f = rrl.positions(theta, x)
    jac_direct = (1 - f**2)[:, None] * np.concatenate([np.ones((len(x), 1)), x, np.r_[0, f[:-1]][:, None]], 1)
    jac_exact = rrl.position_jacobians(theta, x)
    assert np.abs(jac_exact - jac_direct).max() > 1e-2
    _, grad = rrl.objective_and_gradient(theta, x, y, 0.005)
    np.testing.assert_allclose(grad, fd, atol=1e-7, rtol=1e-5)


def test_rtrl_jacobians_match_finite_differences():
    x, _ = _data(t=60)
    theta = rrl.init_theta(x.shape[1], seed=1, scale=0.6)[0]
    theta[-1] = -0.9
    jac = rrl.position_jacobians(theta, x, initial_position=-0.3)
    eps = 1e-6
    for j in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[j] += eps
        down[j] -= eps
        fd = (rrl.positions(up, x, -0.3) - rrl.positions(down, x, -0.3)) / (2 * eps)
        np.testing.assert_allclose(jac[:, j], fd, atol=1e-8)


def test_stacked_models_equal_single_models():
    x, y = _data()
    thetas = rrl.init_theta(x.shape[1], models=3, seed=2)
    l2 = np.array([0.0, 0.01, 0.1])
    values, grads = rrl.objective_and_gradient(thetas, x, y, 0.005, l2)
    for k in range(3):
        value, grad = rrl.objective_and_gradient(thetas[k], x, y, 0.005, l2[k])
        np.testing.assert_allclose(values[k], value)
        np.testing.assert_allclose(grads[k], grad)


def test_differential_sharpe_is_the_sharpe_derivative():
    """D_t is d(S_t)/d(eta) at eta=0 of the moving Sharpe (Moody et al.): check by differencing."""
    rng = np.random.default_rng(0)
    r = rng.normal(0.01, 0.05, size=50)
    a, b = 0.004, 0.003
    d, _ = rrl.differential_sharpe(r[:1], 0.01, a0=a, b0=b)
    eta = 1e-7
    a1, b1 = a + eta * (r[0] - a), b + eta * (r[0] ** 2 - b)
    expected = (a1 / np.sqrt(b1 - a1**2) - a / np.sqrt(b - a**2)) / eta
    np.testing.assert_allclose(d[0], expected, rtol=1e-5)
    with pytest.raises(ValueError, match="eta"):
        rrl.differential_sharpe(r, 1.5)


def test_batch_training_raises_in_sample_sharpe():
    x, y = _data(t=300)
    theta0 = rrl.init_theta(x.shape[1], seed=0)
    before = rrl.objective(theta0, x, y, 0.001)[0]
    theta, info = rrl.train_batch(theta0, x, y, 0.001, epochs=100, learning_rate=0.02)
    assert info["train_sharpe"][0] > before + 0.1


def test_online_training_learns_a_predictable_series():
    """Returns that follow the sign of feature 0: online RRL learns to go long when it is positive."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 2))
    y = 0.01 * np.sign(x[:, 0]) + 0.01 * rng.normal(size=2000)
    theta0 = np.zeros(4)
    theta, taken = rrl.train_online(theta0, x, y, cost=0.0005, eta=0.01, learning_rate=0.1, epochs=1)
    assert theta[1] > 0.5  # the weight on the informative feature
    late = slice(1000, None)
    assert rrl.sharpe(rrl.trading_returns(taken[late], y[late], 0.0005)) > 0.5


def test_bad_shapes_are_clear():
    with pytest.raises(ValueError, match="d \\+ 2"):
        rrl.positions(np.zeros(3), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="time, features"):
        rrl.positions(np.zeros(3), np.zeros(5))
