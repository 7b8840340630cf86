"""Optimizers: the first three steps against each paper's update rule, written out scalar by
scalar here (independently of nnlib), and hyperparameter checks."""

import math

import numpy as np
import pytest

from nnlib import SGD, Adagrad, Adam, Momentum, Nesterov, RMSProp, get_optimizer
from nnlib.optimizers import OPTIMIZERS

W0 = [0.7, -1.3, 2.0, 0.05]


def grad(w):
    """The gradient of J(w) = w^4/4 - w^2/2 + w/2 (non-quadratic, so the point it is taken at
    matters)."""
    return w**3 - w + 0.5


def run_nnlib(optimizer, steps=3):
    """The stored parameters after each of ``steps`` steps, the gradient taken at the stored
    parameters as a network does."""
    params = {"W": np.array(W0, dtype=np.float64).reshape(2, 2)}
    path = []
    for _ in range(steps):
        optimizer.step(params, {"W": grad(params["W"])})
        path.append(params["W"].ravel().tolist())
    return path


def run_paper(rule, steps=3):
    """``rule(w, state, t) -> w`` applied to each scalar of W0 on its own."""
    path = [[None] * len(W0) for _ in range(steps)]
    for i, w in enumerate(W0):
        state = {}
        for t in range(1, steps + 1):
            w = rule(w, state, t)
            path[t - 1][i] = w
    return path


def assert_paths(nnlib_path, paper_path, rel=1e-12):
    for step_nn, step_paper in zip(nnlib_path, paper_path, strict=True):
        assert step_nn == pytest.approx(step_paper, rel=rel, abs=1e-15)


def test_sgd():
    def rule(w, state, t):
        return w - 0.1 * grad(w)

    assert_paths(run_nnlib(SGD(0.1)), run_paper(rule))


def test_momentum_average_form():
    # v = beta v + (1 - beta) g;  w = w - eta v
    def rule(w, state, t):
        state["v"] = 0.9 * state.get("v", 0.0) + (1 - 0.9) * grad(w)
        return w - 0.2 * state["v"]

    assert_paths(run_nnlib(Momentum(0.2, beta=0.9, form="average")), run_paper(rule))


def test_momentum_velocity_form():
    # Polyak's heavy ball as Sutskever et al. (2013) eq. 1-2: v = mu v - eps g(w); w = w + v
    def rule(w, state, t):
        state["v"] = 0.9 * state.get("v", 0.0) - 0.02 * grad(w)
        return w + state["v"]

    assert_paths(run_nnlib(Momentum(0.02, beta=0.9, form="velocity")), run_paper(rule))


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.99])
def test_momentum_forms_relation(beta):
    """As the docstring states: the velocity form with eta takes the average form's steps
    with eta / (1 - beta)."""
    eta = 0.01
    velocity = run_nnlib(Momentum(eta, beta=beta, form="velocity"), steps=6)
    average = run_nnlib(Momentum(eta / (1 - beta), beta=beta, form="average"), steps=6)
    assert_paths(velocity, average, rel=1e-12)
    assert "1/(1-\\beta)" in Momentum.__doc__ or "1-\\beta" in Momentum.__doc__


def test_nesterov_sutskever_look_ahead_form():
    """Sutskever et al. (2013), eq. 3-4: v = mu v - eps grad(theta + mu v); theta = theta + v.
    nnlib stores the look-ahead point theta + mu v (and takes the gradient there)."""
    mu, eps = 0.9, 0.05

    def rule(theta, state, t):
        v = state.get("v", 0.0)
        v = mu * v - eps * grad(theta + mu * v)
        state["v"] = v
        state["theta"] = theta + v
        return state["theta"]

    paper_theta = run_paper(rule)
    # run again to read the velocity: the stored point is theta_t + mu v_t
    look_ahead = [[None] * len(W0) for _ in range(3)]
    for i, theta in enumerate(W0):
        v = 0.0
        for t in range(3):
            v = mu * v - eps * grad(theta + mu * v)
            theta = theta + v
            assert theta == paper_theta[t][i]
            look_ahead[t][i] = theta + mu * v
    assert_paths(run_nnlib(Nesterov(eps, beta=mu)), look_ahead)


def test_adagrad():
    # Duchi et al. (2011): G = sum of g^2; w = w - eta g / sqrt(G) (+ eps guarding the division)
    def rule(w, state, t):
        g = grad(w)
        state["G"] = state.get("G", 0.0) + g * g
        return w - 0.1 * g / (math.sqrt(state["G"]) + 1e-10)

    assert_paths(run_nnlib(Adagrad(0.1)), run_paper(rule))


def test_rmsprop():
    # Tieleman & Hinton (2012): MeanSquare = 0.9 MeanSquare + 0.1 g^2; w = w - eta g / sqrt(MS)
    def rule(w, state, t):
        g = grad(w)
        state["S"] = 0.9 * state.get("S", 0.0) + 0.1 * g * g
        return w - 0.01 * g / (math.sqrt(state["S"]) + 1e-8)

    assert_paths(run_nnlib(RMSProp(0.01, rho=0.9)), run_paper(rule))


@pytest.mark.parametrize(
    "alpha, beta1, beta2, eps",
    [(0.001, 0.9, 0.999, 1e-8), (0.1, 0.8, 0.99, 1e-8), (0.05, 0.5, 0.9, 0.3)],
)
def test_adam_algorithm_1(alpha, beta1, beta2, eps):
    """Kingma & Ba (2015), Algorithm 1, with the bias corrections written out (a large eps
    too, to show that nnlib's folded form is exactly the same rule)."""

    def rule(theta, state, t):
        g = grad(theta)
        m = beta1 * state.get("m", 0.0) + (1 - beta1) * g
        v = beta2 * state.get("v", 0.0) + (1 - beta2) * g**2
        state["m"], state["v"] = m, v
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        return theta - alpha * m_hat / (math.sqrt(v_hat) + eps)

    adam = Adam(alpha, beta1=beta1, beta2=beta2, epsilon=eps)
    assert_paths(run_nnlib(adam), run_paper(rule), rel=1e-11)
    assert adam.t == 3


def test_adam_paper_defaults():
    adam = Adam()
    assert (adam.learning_rate, adam.beta1, adam.beta2, adam.epsilon) == (0.001, 0.9, 0.999, 1e-8)
    # the first step of Adam moves every weight by about the learning rate
    params = {"W": np.array([[1.0, -2.0]])}
    Adam(0.01).step(params, {"W": np.array([[3.0, -0.5]])})
    np.testing.assert_allclose(params["W"], [[0.99, -1.99]], rtol=1e-8)


def test_against_torch():
    torch = pytest.importorskip("torch")
    pairs = [
        (SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        (Momentum(0.1, 0.9, form="velocity"), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        (
            Nesterov(0.1, 0.9),
            lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
        ),
        (Adagrad(0.1), lambda p: torch.optim.Adagrad(p, lr=0.1)),
        (RMSProp(0.01, 0.9), lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8)),
        (Adam(0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    ]
    for ours, make_torch in pairs:
        w = torch.tensor(np.array(W0).reshape(2, 2), requires_grad=True)
        theirs = make_torch([w])
        path = []
        for _ in range(3):
            theirs.zero_grad()
            w.grad = torch.tensor(grad(w.detach().numpy()))
            theirs.step()
            path.append(w.detach().numpy().ravel().tolist())
        # torch's RMSprop adds eps outside the square root too; Adagrad's eps default is 1e-10
        assert_paths(run_nnlib(ours), path, rel=1e-9)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_negative_learning_rate(name):
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        get_optimizer(name, learning_rate=-0.1)


@pytest.mark.parametrize(
    "make, arg",
    [
        (lambda b: Momentum(beta=b), "beta"),
        (lambda b: Nesterov(beta=b), "beta"),
        (lambda b: RMSProp(rho=b), "rho"),
        (lambda b: Adam(beta1=b), "beta1"),
        (lambda b: Adam(beta2=b), "beta2"),
    ],
)
@pytest.mark.parametrize("bad", [1.0, -0.1, 1.5, float("nan")])
def test_beta_out_of_range(make, arg, bad):
    with pytest.raises(ValueError, match=arg):
        make(bad)


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="optimizer: unknown name 'adamw'"):
        get_optimizer("adamw")
    with pytest.raises(ValueError, match="form must be"):
        Momentum(form="nesterov")
    with pytest.raises(ValueError, match="epsilon"):
        Adam(epsilon=-1e-8)
    with pytest.raises(ValueError, match="learning_rate contains NaN"):
        SGD(float("nan"))
    with pytest.raises(ValueError, match=r"shape mismatch: parameter 'W'"):
        SGD().step({"W": np.zeros((2, 2))}, {"W": np.zeros((2, 3))})
    with pytest.raises(ValueError, match="grads has no entry 'db' \\(or 'b'\\)"):
        SGD().step({"b": np.zeros((2, 1))}, {"W": np.zeros((2, 2))})
    adam = Adam()
    assert get_optimizer(adam) is adam
    assert "beta1=0.9" in repr(adam)


def test_float32_parameters_stay_float32():
    for name in sorted(OPTIMIZERS):
        params = {"W": np.ones((2, 2), dtype=np.float32)}
        optimizer = get_optimizer(name)
        optimizer.step(params, {"W": np.full((2, 2), 0.5, dtype=np.float32)})
        assert params["W"].dtype == np.float32
        for state in optimizer.state.values():
            assert all(a.dtype == np.float32 for a in state.values())
