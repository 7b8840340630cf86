"""Every bad input gets a clear ValueError; extreme inputs stay finite and silent."""

import warnings

import numpy as np
import pytest

from nnlib import Dense, Network, get_activation, get_optimizer, one_hot
from nnlib.losses import check_loss_name


def _classifier(loss="sparse_categorical_cross_entropy", **kwargs):
    return Network([3, 4, 3], "relu", output="softmax", loss=loss, **kwargs)


X = np.random.default_rng(0).standard_normal((3, 5))
y = np.array([0, 1, 2, 1, 0])


@pytest.mark.parametrize(
    "call, message",
    [
        # shape mismatches, naming both shapes
        (
            lambda: _classifier().forward(np.ones((4, 5))),
            r"X has shape \(4, 5\).*W has shape \(4, 3\)",
        ),
        (
            lambda: _classifier().fit(np.ones((4, 5)), y, progress=False),
            r"X has shape \(4, 5\).*W has shape \(4, 3\)",
        ),
        (lambda: _classifier().fit(X, y[:4], progress=False), r"5 integer labels.*\(4,\)"),
        (
            lambda: Network([3, 2], "sigmoid", loss="mse").fit(X, np.ones((3, 5)), progress=False),
            r"Y has shape \(3, 5\).*outputs \(2, 5\)",
        ),
        (lambda: Dense(3, 2).forward(np.ones((2, 5))), r"W has shape \(2, 3\).*\(2, 5\)"),
        # NaN and infinity in X
        (
            lambda: _classifier().fit(np.where(X > 1, np.nan, X), y, progress=False),
            "X contains NaN",
        ),
        (lambda: _classifier().forward(np.full((3, 2), np.nan)), "X contains NaN"),
        (lambda: _classifier().predict(np.full((3, 2), np.inf)), "X contains an infinite"),
        (lambda: _classifier().fit(np.ones(3), y, progress=False), "X must be a 2-D array"),
        # names
        (lambda: get_activation("ReLU"), r"activation: unknown name 'ReLU'; expected one of"),
        (lambda: Network([2, 2], "swish"), "unknown name 'swish'"),
        (lambda: Network([2, 2], loss="crossentropy"), "loss: unknown name 'crossentropy'"),
        (lambda: check_loss_name("l2"), "loss: unknown name 'l2'"),
        (lambda: get_optimizer("lbfgs"), "optimizer: unknown name 'lbfgs'"),
        (
            lambda: _classifier().fit(X, y, optimizer="adamax", progress=False),
            "optimizer: unknown name 'adamax'",
        ),
        (lambda: Network([2, 2], init="glorot"), "init: unknown name 'glorot'"),
        # hyperparameters
        (lambda: get_optimizer("sgd", learning_rate=-1), "learning_rate must be > 0, got -1"),
        (lambda: _classifier().fit(X, y, learning_rate=-0.1, progress=False), "learning_rate"),
        (lambda: get_optimizer("adam", beta1=1.0), r"beta1 must be in \[0, 1\), got 1.0"),
        (lambda: get_optimizer("adam", beta2=-0.5), r"beta2 must be in \[0, 1\)"),
        (lambda: get_optimizer("momentum", beta=2), r"beta must be in \[0, 1\)"),
        (lambda: _classifier().fit(X, y, epochs=0, progress=False), "epochs must be a positive"),
        (lambda: _classifier().fit(X, y, batch_size=0, progress=False), "batch_size must be"),
        (lambda: _classifier().fit(X, y, loss_threshold=-1, progress=False), "loss_threshold"),
        (lambda: Network([3]), "layer_sizes needs at least"),
        (lambda: Network([3, 4, 2], ["relu"]), "activations: expected 2"),
        (lambda: Network([3, 2], dtype=np.int32), "dtype must be float32 or float64"),
        # bad labels
        (
            lambda: _classifier().fit(X, np.array([0, 1, 3, 1, 0]), progress=False),
            r"labels from 0 to 3; expected 0..2",
        ),
        (
            lambda: _classifier().fit(X, np.array([0, -1, 2, 1, 0]), progress=False),
            "labels from -1",
        ),
        (
            lambda: _classifier().fit(X, np.array([0, 1.5, 2, 1, 0]), progress=False),
            "integer class labels",
        ),
        (
            lambda: _classifier().fit(X, np.array([0, np.nan, 2, 1, 0]), progress=False),
            "Y contains NaN",
        ),
        (
            lambda: _classifier(loss="categorical_cross_entropy").fit(X, y, progress=False),
            "needs one-hot columns.*one_hot",
        ),
        (
            lambda: _classifier(loss="categorical_cross_entropy").fit(
                X, 2 * one_hot(y), progress=False
            ),
            r"in \[0, 1\]",
        ),
        (lambda: one_hot(np.array([[0, 1]])), "1-D array of labels"),
    ],
)
def test_clear_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _silently(f):
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")  # any RuntimeWarning (overflow, ...) fails the test
        return f()


@pytest.mark.parametrize(
    "hidden, output, loss, n_out",
    [
        ("sigmoid", "sigmoid", "binary_cross_entropy", 1),
        ("tanh", "softmax", "categorical_cross_entropy", 3),
        ("relu", "softmax", "sparse_categorical_cross_entropy", 3),
        ("elu", "sigmoid", "mse", 1),
        ("leaky_relu", "softmax", "mse", 3),
    ],
)
@pytest.mark.parametrize("scale", [1e2, 1e4])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_network_forward_backward_extreme_inputs(hidden, output, loss, n_out, scale, dtype):
    """Inputs that make |Z| reach 1e4 and beyond: finite outputs, gradients and loss, and no
    warning. (Underflow to 0, as in exp(-1e4), is the exact float result and allowed.)"""
    net = Network([3, 4, n_out], hidden, output=output, loss=loss, seed=0, dtype=dtype)
    for layer in net.layers:
        layer.W[:] = np.sign(layer.W) * 3.0
    Xe = scale * np.array([[1.0, -1.0, 3.0, -2.0], [-1.0, 1.0, 0.5, 2.0], [2.0, -3, 1, -1]])
    labels = np.array([0, 1, 0, 1 if n_out == 1 else 2])
    if loss == "sparse_categorical_cross_entropy":
        Y = labels
    elif n_out == 1:
        Y = labels.reshape(1, -1).astype(float)
    else:
        Y = one_hot(labels, n_out)
    A = _silently(lambda: net.forward(Xe))
    biggest_Z = max(np.max(np.abs(layer.cache[1])) for layer in net.layers)
    assert biggest_Z >= scale  # |Z| really is that large
    assert np.all(np.isfinite(A))
    assert np.isfinite(_silently(lambda: net.loss(Y)))
    grads = _silently(lambda: net.backward(Y))
    assert all(np.all(np.isfinite(g)) for g in grads.values())
    history = _silently(lambda: net.fit(Xe, Y, epochs=2, optimizer="adam", progress=False))
    assert np.all(np.isfinite(history["loss"]))


def test_maxout_derivative_rejects_rows_not_a_multiple_of_k():
    from nnlib.activations import maxout_derivative

    with pytest.raises(ValueError, match="not a multiple of k=2"):
        maxout_derivative(np.zeros((3, 4)), k=2)


def test_one_hot_rejects_fractional_labels():
    with pytest.raises(ValueError, match="integer class labels"):
        one_hot(np.array([0, 1.7, 2.2]))
    assert one_hot(np.array([0.0, 2.0])).shape == (3, 2)
