"""The network: forward with caches, backward, predict, the training loop and its options."""

import numpy as np
import pytest

from nnlib import SGD, Adam, Network, one_hot
from nnlib.datasets import xor


def _net(**kwargs):
    args = {"loss": "sparse_categorical_cross_entropy", "output": "softmax", "seed": 0}
    return Network([2, 8, 3], "tanh", **{**args, **kwargs})


def _data(m=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2, m))
    y = (X[0] > 0).astype(int) + (X[1] > 0).astype(int)
    return X, y


def test_forward_caches_every_layer():
    net = Network([3, 4, 5, 2], ["relu", "tanh", "sigmoid"], loss="mse", seed=0)
    X = np.random.default_rng(0).standard_normal((3, 6))
    A = net.forward(X)
    assert A.shape == (2, 6)
    A_prev = X
    for layer in net.layers:
        cached_A_prev, Z, A_layer = layer.cache
        np.testing.assert_allclose(cached_A_prev, A_prev)
        np.testing.assert_allclose(Z, layer.W @ A_prev + layer.b)
        np.testing.assert_allclose(A_layer, layer.activation.forward(Z))
        A_prev = A_layer
    np.testing.assert_array_equal(A, A_prev)


def test_backward_returns_dW_db_per_layer():
    net = _net()
    X, y = _data()
    net.forward(X)
    grads = net.backward(y)
    assert list(grads) == ["dW1", "db1", "dW2", "db2"]
    for l, layer in enumerate(net.layers, start=1):
        assert grads[f"dW{l}"].shape == layer.W.shape
        assert grads[f"db{l}"].shape == layer.b.shape
    assert list(net.parameters()) == ["W1", "b1", "W2", "b2"]
    assert net.parameters()["W1"] is net.layers[0].W


def test_sparse_and_one_hot_give_the_same_gradients():
    X, y = _data()
    a = _net()
    b = _net(loss="categorical_cross_entropy")
    a.forward(X)
    b.forward(X)
    ga, gb = a.backward(y), b.backward(one_hot(y, 3))
    for key in ga:
        np.testing.assert_allclose(ga[key], gb[key], rtol=1e-13)
    assert a.loss(y) == pytest.approx(b.loss(one_hot(y, 3)))


def test_predict_and_accuracy():
    net = _net()
    X, y = _data()
    labels = net.predict(X)
    assert labels.shape == (30,) and labels.dtype.kind == "i"
    np.testing.assert_array_equal(labels, net.forward(X).argmax(axis=0))
    assert net.accuracy(X, y) == pytest.approx(np.mean(labels == y))
    binary = Network([2, 3, 1], "tanh", output="sigmoid", loss="binary_cross_entropy")
    assert set(binary.predict(X)) <= {0, 1}
    regression = Network([2, 3, 1], "tanh", output="linear", loss="mse")
    assert regression.predict(X).shape == (1, 30)


def test_fit_learns_xor_and_stops_below_the_threshold():
    X, y = xor()
    net = Network([2, 4, 1], "tanh", output="sigmoid", loss="binary_cross_entropy", seed=1)
    history = net.fit(
        X,
        y.reshape(1, -1),
        epochs=5000,
        optimizer="adam",
        learning_rate=0.05,
        loss_threshold=0.05,
        progress=False,
    )
    assert history["loss"][-1] < 0.05
    assert len(history["loss"]) < 5000  # stopped early
    assert history["loss"][-2] >= 0.05  # ...at the first epoch below the threshold
    np.testing.assert_array_equal(net.predict(X), y)
    assert history["accuracy"][-1] == 1.0


def test_history_and_validation():
    X, y = _data(40)
    net = _net()
    h = net.fit(
        X[:, :30],
        y[:30],
        epochs=7,
        optimizer="adam",
        learning_rate=0.01,
        batch_size=8,
        validation_data=(X[:, 30:], y[30:]),
        progress=False,
    )
    assert set(h) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 7 for v in h.values())
    assert h["val_loss"][-1] == pytest.approx(net.compute_loss(X[:, 30:], y[30:]))
    assert h["loss"][-1] < h["loss"][0]
    reg = Network([2, 3, 1], "tanh", output="linear", loss="mse")
    assert set(reg.fit(X, X[:1] * 2, epochs=2, progress=False)) == {"loss"}


def test_history_loss_is_the_mean_over_the_epochs_batches():
    """Each batch's loss is measured before its update, weighted by its size."""
    X, y = _data(10)
    net, copy = _net(), _net()
    h = net.fit(
        X,
        y,
        epochs=1,
        optimizer="sgd",
        learning_rate=0.1,
        batch_size=4,
        shuffle=False,
        progress=False,
    )
    opt = SGD(0.1)
    total = 0.0
    for start in (0, 4, 8):
        Xb, yb = X[:, start : start + 4], y[start : start + 4]
        total += copy.compute_loss(Xb, yb) * len(yb)
        copy.backward(yb)
        opt.step(copy.parameters(), copy.gradients())
    assert h["loss"][0] == pytest.approx(total / 10, rel=1e-12)
    for key, W in net.parameters().items():
        np.testing.assert_allclose(W, copy.parameters()[key], rtol=1e-12)


def test_seeded_shuffling_is_reproducible():
    X, y = _data()
    runs = []
    for seed in (0, 0, 1):
        net = _net()
        runs.append(
            net.fit(
                X,
                y,
                epochs=3,
                optimizer="sgd",
                learning_rate=0.1,
                batch_size=5,
                seed=seed,
                progress=False,
            )["loss"]
        )
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert _net().parameters()["W1"].tolist() == _net().parameters()["W1"].tolist()
    assert _net(seed=1).parameters()["W1"].tolist() != _net().parameters()["W1"].tolist()


def test_train_step_is_one_update():
    X, y = _data()
    net, copy = _net(), _net()
    A = net.train_step(X, y, Adam(0.01)).copy()
    np.testing.assert_allclose(A, copy.forward(X), rtol=1e-13)
    copy.backward(y)
    Adam(0.01).step(copy.parameters(), copy.gradients())
    for key, W in net.parameters().items():
        np.testing.assert_allclose(W, copy.parameters()[key], rtol=1e-12)


def test_gradients_from_backward_are_not_overwritten_by_training():
    X, y = _data()
    net = _net()
    net.forward(X)
    grads = {k: v for k, v in net.backward(y).items()}
    saved = {k: v.copy() for k, v in grads.items()}
    A = net.forward(X)
    A_saved = A.copy()
    net.fit(X, y, epochs=2, batch_size=30, optimizer="sgd", progress=False)
    for key in grads:
        np.testing.assert_array_equal(grads[key], saved[key])
    np.testing.assert_array_equal(A, A_saved)


def test_progress_bar_can_be_on_or_off(monkeypatch):
    import tqdm.auto

    made = []

    class Recorder(tqdm.auto.tqdm):
        def __init__(self, *args, **kwargs):
            made.append(self)
            kwargs["disable"] = True  # keep the test's output clean
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(tqdm.auto, "tqdm", Recorder)
    X, y = _data()
    _net().fit(X, y, epochs=2, progress=False)
    assert made == []
    _net().fit(X, y, epochs=2, progress=True)
    assert len(made) == 1 and made[0].total == 2


def test_progress_bar_is_notebook_aware():
    """nnlib takes its bar from tqdm.auto, which is the widget bar inside Jupyter and the text
    bar elsewhere."""
    import nnlib.training

    source = open(nnlib.training.__file__).read()
    assert "from tqdm.auto import tqdm" in source


def test_float32_on_request():
    X, y = _data()
    net = _net(dtype=np.float32)
    assert all(W.dtype == np.float32 for W in net.parameters().values())
    assert net.forward(X).dtype == np.float32
    net.fit(X, y, epochs=3, optimizer="adam", batch_size=7, progress=False)
    assert all(W.dtype == np.float32 for W in net.parameters().values())
    assert all(g.dtype == np.float32 for g in net.gradients().values())
    assert _net().parameters()["W1"].dtype == np.float64


def test_step_network_refuses_to_train():
    X, y = _data()
    net = Network([2, 3, 1], ["step", "sigmoid"], loss="binary_cross_entropy")
    assert set(net.predict(X)) <= {0, 1}  # the forward pass works
    with pytest.raises(ValueError, match="'step' has no usable gradient"):
        net.fit(X, (y > 0).reshape(1, -1), epochs=1, progress=False)
    net.forward(X)
    with pytest.raises(ValueError, match="'step' has no usable gradient"):
        net.backward((y > 0).reshape(1, -1))


def test_repr():
    assert repr(_net()) == (
        "Network([2, 8, 3], ['tanh', 'softmax'], loss='sparse_categorical_cross_entropy')"
    )


def test_divergence_is_reported():
    X, _ = _data()
    net = Network([2, 8, 1], "relu", output="linear", loss="mse")
    with pytest.raises(FloatingPointError, match="diverged"), np.errstate(all="ignore"):
        net.fit(X, 1e3 * X[:1] ** 3, epochs=50, optimizer="sgd", learning_rate=10.0, progress=False)


def test_training_after_replacing_a_weight_array():
    """A W replaced by a new array (not written in place) is trained all the same."""
    X, y = _data()
    net, copy = _net(), _net()
    net.layers[0].W = net.layers[0].W.copy()  # no longer a view of the packed parameters
    net.fit(X, y, epochs=3, optimizer="adam", batch_size=8, progress=False)
    copy.fit(X, y, epochs=3, optimizer="adam", batch_size=8, progress=False)
    for key, W in net.parameters().items():
        np.testing.assert_allclose(W, copy.parameters()[key], rtol=1e-12)


def test_a_custom_optimizer_sees_each_parameter_by_name():
    from nnlib import Optimizer

    class NoBiasUpdate(Optimizer):
        seen = set()

        def update(self, key, W, dW):
            self.seen.add(key)
            if key.startswith("W"):
                W -= self.learning_rate * dW

    X, y = _data()
    net = _net()
    b_before = [layer.b.copy() for layer in net.layers]
    net.fit(X, y, epochs=2, optimizer=NoBiasUpdate(0.1), progress=False)
    assert NoBiasUpdate.seen == {"W1", "b1", "W2", "b2"}
    for layer, b in zip(net.layers, b_before, strict=True):
        np.testing.assert_array_equal(layer.b, b)
