"""The fast path (nnlib.fast, what fit runs) computes what the plain path computes."""

import numpy as np
import pytest

from nnlib import SGD, Adam, Momentum, Network, Optimizer


def _problem(loss, n_out, m, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((5, m))
    if loss == "sparse_categorical_cross_entropy":
        return X, rng.integers(0, n_out, m)
    if loss == "categorical_cross_entropy":
        return X, np.eye(n_out)[:, rng.integers(0, n_out, m)]
    if loss == "binary_cross_entropy":
        return X, (rng.random((n_out, m)) > 0.5).astype(float)
    return X, rng.standard_normal((n_out, m))


CASES = [
    ("relu", None, "sparse_categorical_cross_entropy", 3),
    ("tanh", None, "categorical_cross_entropy", 3),
    ("sigmoid", None, "binary_cross_entropy", 2),
    ("leaky_relu", None, "mse", 2),
    ("elu", "sigmoid", "mse", 1),
    ("maxout", "softmax", "mse", 3),
    ("tanh", None, "mae", 1),
]


@pytest.mark.parametrize("hidden, output, loss, n_out", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_train_step_equals_forward_backward_step(hidden, output, loss, n_out, dtype):
    plain = Network([5, 6, 4, n_out], hidden, output=output, loss=loss, seed=3, dtype=dtype)
    fast = Network([5, 6, 4, n_out], hidden, output=output, loss=loss, seed=3, dtype=dtype)
    opt_plain, opt_fast = Adam(0.01), Adam(0.01)
    for m, seed in ((7, 0), (3, 1), (7, 2)):  # two batch sizes, each with its own arrays
        X, Y = _problem(loss, n_out, m, seed)
        A = plain.forward(X)
        opt_plain.step(plain.parameters(), plain.backward(Y))  # the book's loop
        A_fast = fast.train_step(X, Y, opt_fast)
        assert A_fast.dtype == dtype
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(A_fast, A, rtol=tol, atol=tol)
        for key, P in plain.parameters().items():
            assert fast.parameters()[key].dtype == dtype
            np.testing.assert_allclose(fast.parameters()[key], P, rtol=tol, atol=tol)


def test_fit_equals_the_plain_loop():
    """One epoch of full-batch fit is forward, backward and step, as the book writes it."""
    X, Y = _problem("binary_cross_entropy", 1, 20)
    a = Network([5, 8, 1], "tanh", loss="binary_cross_entropy", seed=0)
    b = Network([5, 8, 1], "tanh", loss="binary_cross_entropy", seed=0)
    opt = Momentum(0.5)
    for _ in range(5):
        a.forward(X)
        opt.step(a.parameters(), a.backward(Y))
    b.fit(X, Y, epochs=5, optimizer=Momentum(0.5), shuffle=False, progress=False)
    for key, P in a.parameters().items():
        np.testing.assert_allclose(b.parameters()[key], P, rtol=1e-12)


def test_an_optimizer_by_name_gets_parameters_by_name():
    seen = []

    class Plain(Optimizer):  # elementwise = False: one call per parameter
        def update(self, key, W, dW):
            seen.append(key)
            W -= self.learning_rate * dW

    X, Y = _problem("mse", 1, 10)
    a = Network([5, 4, 1], "tanh", loss="mse", seed=0)
    b = Network([5, 4, 1], "tanh", loss="mse", seed=0)
    a.train_step(X, Y, Plain(0.1))
    b.train_step(X, Y, SGD(0.1))
    assert seen == ["W1", "b1", "W2", "b2"]
    for key, P in a.parameters().items():
        np.testing.assert_allclose(b.parameters()[key], P, rtol=1e-14)
