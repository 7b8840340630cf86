"""Backpropagation against central differences: every layer type and a 3-hidden-layer network,
worst relative error per parameter < 1e-7 in float64."""

import numpy as np
import pytest

from nnlib import Network, gradient_check, numerical_gradient, one_hot, relative_error

TOL = 1e-7
# The step of the central differences: its error is about h^2 |J'| / 6 from the Taylor series
# plus about 1e-16 |J| / h from rounding the loss; h = 1e-5 balances the two in float64.
H = 1e-5


def _data(n_in, n_out, m, loss, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_in, m))
    if loss == "binary_cross_entropy":
        Y = rng.integers(0, 2, (n_out, m)).astype(float)
    elif loss == "categorical_cross_entropy":
        Y = one_hot(rng.integers(0, n_out, m), n_out)
    elif loss == "sparse_categorical_cross_entropy":
        Y = rng.integers(0, n_out, m)
    else:
        Y = rng.standard_normal((n_out, m))
    return X, Y


def _min_distance_to_kink(net, X):
    """The smallest |Z| in every layer (for maxout: the smallest gap between the two largest
    pieces of a group), after a forward pass on X."""
    net.forward(X)
    gaps = []
    for layer in net.layers:
        Z = layer.cache[1]
        if layer.activation.name == "maxout":
            k = layer.activation.pieces
            G = np.sort(Z.reshape(Z.shape[0] // k, k, -1), axis=1)
            gaps.append(np.min(G[:, -1] - G[:, -2]))
        elif layer.activation.name in ("relu", "leaky_relu", "elu"):
            gaps.append(np.min(np.abs(Z)))
    return min(gaps, default=np.inf)


def _check(net, X, Y):
    errors = gradient_check(net, X, Y, epsilon=H)
    assert set(errors) == set(net.parameters())
    worst = max(errors.values())
    assert worst < TOL, errors
    return errors


@pytest.mark.parametrize(
    "hidden, output, loss",
    [
        ("tanh", "softmax", "categorical_cross_entropy"),
        ("sigmoid", "softmax", "sparse_categorical_cross_entropy"),
        ("tanh", "sigmoid", "binary_cross_entropy"),
        ("sigmoid", "linear", "mse"),
        ("tanh", "tanh", "mse"),
        ("tanh", "linear", "mae"),
        ("tanh", "sigmoid", "mse"),  # not fused: dA * g'(Z) at the output
        ("tanh", "softmax", "mse"),  # not fused: the softmax Jacobian product at the output
    ],
)
def test_three_hidden_layer_network(hidden, output, loss):
    n_out = 1 if output == "sigmoid" or loss == "mae" else 3
    net = Network([4, 6, 5, 4, n_out], hidden, output=output, loss=loss, seed=1)
    X, Y = _data(4, n_out, 7, loss, seed=2)
    if loss == "mae":  # keep every output away from its target, where |a - y| has its kink
        Y = net.forward(X) + np.where(np.arange(7) % 2, 0.5, -0.5)
    errors = _check(net, X, Y)
    assert len(errors) == 8


@pytest.mark.parametrize(
    "activation, params",
    [
        ("relu", {}),
        ("leaky_relu", {"alpha": 0.1}),
        ("elu", {"alpha": 1.0}),
        ("maxout", {"k": 3}),
        ("softmax", {}),
        ("sigmoid", {}),
        ("tanh", {}),
        ("linear", {}),
    ],
)
def test_every_layer_type(activation, params):
    """A hidden layer of each kind, between a tanh layer and a linear output, on inputs kept
    away from its kinks (checked, not hoped for: the test asserts the distance)."""
    from nnlib.activations import Activation

    act = Activation(activation, **params)
    net, X, Y = _away_from_kinks(
        lambda seed: Network([3, 5, 4, 2], ["tanh", act, "linear"], loss="mse", seed=seed),
        lambda seed: _data(3, 2, 6, "mse", seed),
        seeds=20,
    )
    _check(net, X, Y)


def _away_from_kinks(make_network, make_data, seeds):
    """The first seed whose network and data keep every Z at least 1e-3 from a kink.

    A central difference moves Z by at most epsilon * |input| ~ 1e-6, so the finite differences
    then never straddle a kink; the distance is asserted, not hoped for.
    """
    for seed in range(seeds):
        net = make_network(seed)
        X, Y = make_data(seed)
        if _min_distance_to_kink(net, X) > 1e-3:
            return net, X, Y
    pytest.fail("no seed kept the inputs away from the kinks")


def test_single_layer_networks():
    X, y = _data(3, 4, 5, "sparse_categorical_cross_entropy", 0)
    _check(Network([3, 4], "softmax", loss="sparse_categorical_cross_entropy", seed=0), X, y)
    X, Y = _data(3, 1, 5, "binary_cross_entropy", 0)
    _check(Network([3, 1], "sigmoid", loss="binary_cross_entropy", seed=0), X, Y)


def test_detects_a_wrong_gradient():
    net = Network([3, 4, 2], "tanh", output="linear", loss="mse", seed=0)
    X, Y = _data(3, 2, 5, "mse", 0)
    backward = net.backward

    def wrong_backward(Y):
        grads = backward(Y)
        grads["dW1"] = grads["dW1"] * 1.01  # a 1% error in dW1 only
        return grads

    net.backward = wrong_backward
    errors = gradient_check(net, X, Y)
    assert 1e-3 < errors["W1"] < 1e-1
    assert max(errors[k] for k in ("b1", "W2", "b2")) < TOL


def test_numerical_gradient_and_relative_error():
    theta = np.array([[1.0, -2.0, 0.5]])
    g = numerical_gradient(lambda: float(np.sum(theta**3)), theta)
    np.testing.assert_allclose(g, 3 * theta**2, rtol=1e-9)
    np.testing.assert_array_equal(theta, [[1.0, -2.0, 0.5]])  # restored
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.2])) == pytest.approx(0.2 / 2.2)


@pytest.mark.parametrize("hidden", ["relu", "leaky_relu", "elu"])
def test_three_hidden_layer_network_of_the_relu_family(hidden):
    loss = "sparse_categorical_cross_entropy"
    net, X, y = _away_from_kinks(
        lambda seed: Network([4, 6, 5, 4, 3], hidden, output="softmax", loss=loss, seed=seed),
        lambda seed: _data(4, 3, 5, loss, seed),
        seeds=50,
    )
    _check(net, X, y)
