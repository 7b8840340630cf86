"""Initializers: shapes, dtypes, the variances their papers prescribe, reproducibility."""

import numpy as np
import pytest

from nnlib import INITIALIZERS, Network, get_initializer
from nnlib import initializers as I


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_shape_dtype_and_seed(name, dtype):
    W = get_initializer(name)(3, 5, rng=np.random.default_rng(0), dtype=dtype)
    assert W.shape == (3, 5) and W.dtype == dtype
    again = get_initializer(name)(3, 5, rng=np.random.default_rng(0), dtype=dtype)
    np.testing.assert_array_equal(W, again)


@pytest.mark.parametrize(
    "name, variance",
    [
        ("small_random", lambda n_in, n_out: 0.01**2),
        ("xavier_uniform", lambda n_in, n_out: 2 / (n_in + n_out)),
        ("xavier_normal", lambda n_in, n_out: 2 / (n_in + n_out)),
        ("he", lambda n_in, n_out: 2 / n_in),
    ],
)
def test_variance(name, variance):
    n_out, n_in = 300, 500
    W = get_initializer(name)(n_out, n_in, rng=np.random.default_rng(1))
    assert W.mean() == pytest.approx(0, abs=0.01 * np.sqrt(variance(n_in, n_out)) * 10)
    assert W.var() == pytest.approx(variance(n_in, n_out), rel=0.02)


def test_xavier_uniform_bounds_and_zeros():
    W = I.xavier_uniform(50, 70, rng=np.random.default_rng(2))
    limit = np.sqrt(6 / 120)
    assert -limit <= W.min() < -0.99 * limit and 0.99 * limit < W.max() <= limit
    np.testing.assert_array_equal(I.zeros(2, 3), np.zeros((2, 3)))


def test_equal_weights_never_break_the_symmetry():
    """Every hidden unit starting with the same weights (zeros, or any constant) gets the same
    gradient, so the units stay identical however long we train."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 20))
    y = (X[0] * X[1] > 0).astype(int)
    net = Network(
        [2, 4, 2], "tanh", output="softmax", loss="sparse_categorical_cross_entropy", init="zeros"
    )
    assert all(np.all(layer.W == 0) for layer in net.layers)
    for layer in net.layers:
        layer.W[:] = 0.3
    net.fit(X, y, epochs=20, optimizer="sgd", learning_rate=0.5, progress=False)
    W1, W2 = net.layers[0].W, net.layers[1].W
    assert not np.allclose(W1, 0.3)  # it did learn something...
    np.testing.assert_allclose(W1, np.tile(W1[:1], (4, 1)), rtol=1e-12)  # ...the same per unit
    np.testing.assert_allclose(W2, np.tile(W2[:, :1], (1, 4)), rtol=1e-12)


def test_unknown_name():
    with pytest.raises(ValueError, match="init: unknown name 'uniform'.*'he'"):
        get_initializer("uniform")
    assert get_initializer(I.he) is I.he
