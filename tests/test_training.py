"""End-to-end training: the digits to >= 97% test accuracy, float32 and float64."""

import time

import numpy as np
import pytest

from nnlib import Network, datasets


@pytest.fixture(scope="module")
def digits_split():
    X, y, _ = datasets.digits()
    return datasets.train_test_split(X, y, test_fraction=0.2, seed=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_digits_reach_97_percent(digits_split, dtype):
    X_train, X_test, y_train, y_test = digits_split
    assert X_train.shape == (64, 1438) and X_test.shape == (64, 359)
    net = Network(
        [64, 128, 64, 10],
        "relu",
        output="softmax",
        loss="sparse_categorical_cross_entropy",
        seed=0,
        dtype=dtype,
    )
    start = time.perf_counter()
    history = net.fit(
        X_train,
        y_train,
        epochs=30,
        optimizer="adam",
        learning_rate=1e-3,
        batch_size=64,
        seed=0,
        progress=False,
    )
    seconds = time.perf_counter() - start
    accuracy = net.accuracy(X_test, y_test)
    assert accuracy >= 0.97, accuracy
    assert history["accuracy"][-1] > 0.99
    assert all(W.dtype == dtype for W in net.parameters().values())
    assert net.forward(X_test).dtype == dtype
    assert seconds < 10  # about 0.2 s on the course machine


def test_float32_and_float64_agree(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    predictions = []
    for dtype in (np.float64, np.float32):
        net = Network(
            [64, 32, 10],
            "tanh",
            output="softmax",
            loss="sparse_categorical_cross_entropy",
            seed=0,
            dtype=dtype,
        )
        net.fit(
            X_train,
            y_train,
            epochs=5,
            optimizer="adam",
            learning_rate=1e-2,
            batch_size=64,
            progress=False,
        )
        predictions.append(net.predict(X_test))
    assert np.mean(predictions[0] == predictions[1]) > 0.97


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_every_optimizer_learns_the_moons(optimizer):
    X, y = datasets.two_moons(m=200, noise=0.1, seed=0)
    rates = {"sgd": 0.5, "momentum": 0.5, "nesterov": 0.05, "adagrad": 0.1}
    net = Network([2, 16, 16, 1], "tanh", output="sigmoid", loss="binary_cross_entropy", seed=0)
    net.fit(
        X,
        y.reshape(1, -1),
        epochs=300,
        optimizer=optimizer,
        learning_rate=rates.get(optimizer, 0.01),
        batch_size=32,
        progress=False,
    )
    assert net.accuracy(X, y) > 0.95


def test_spirals_with_relu_and_batch_gradient_descent():
    X, y = datasets.spirals(m_per_class=100, classes=3, seed=0)
    net = Network(
        [2, 64, 3], "relu", output="softmax", loss="sparse_categorical_cross_entropy", seed=0
    )
    net.fit(X, y, epochs=1500, optimizer="adam", learning_rate=0.02, progress=False)
    assert net.accuracy(X, y) > 0.9
