"""The probes of issue 11: each once gave a silent wrong answer or an error from deep inside NumPy.
Each now gets the mathematically right answer or a clear error naming the argument."""

import warnings

import numpy as np
import pytest

import nnlib
from nnlib import Adam, Network, gradient_check, one_hot
from nnlib import losses as L

rng = np.random.default_rng(0)
X = rng.standard_normal((2, 40))


# -- accuracy is defined for the loss in use ------------------------------------------------


def _fit_bce(Y, n_out, epochs=300):
    net = Network([2, 16, n_out], "tanh", loss="binary_cross_entropy", seed=0)
    net.fit(X, Y, epochs=epochs, optimizer=Adam(0.05), progress=False)
    return net


def test_accuracy_with_soft_binary_targets_counts_the_rounded_targets():
    y = (X[0] > 0).astype(float)
    soft = np.where(y == 1, 0.9, 0.1)[None, :]  # label smoothing: 0.1 / 0.9
    net = _fit_bce(soft, 1)
    assert np.array_equal(net.predict(X), y.astype(int))  # the predictions are all right
    assert net.accuracy(X, soft) == 1.0  # was 0.49: 0.9 and 0.1 truncated to 0
    assert net.evaluate(X, soft)["accuracy"] == 1.0


def test_multilabel_accuracy_exact_match_and_per_label():
    Y = np.vstack([X[0] > 0, X[1] > 0]).astype(float)  # two independent yes/no answers
    net = _fit_bce(Y, 2)
    assert net.predict(X).shape == (2, 40)  # one answer per unit, not an argmax
    assert net.accuracy(X, Y) == 1.0  # was 0.735
    assert net.accuracy(X, Y, per_label=True) == 1.0
    wrong = Y.copy()
    wrong[0, :10] = 1 - wrong[0, :10]  # 10 examples with one wrong answer of two
    assert net.accuracy(X, wrong) == pytest.approx(30 / 40)
    assert net.accuracy(X, wrong, per_label=True) == pytest.approx(70 / 80)
    history = net.fit(X, Y, epochs=1, optimizer=Adam(1e-6), progress=False)
    assert history["accuracy"] == [1.0]


def test_accuracy_of_a_regression_is_refused():
    net = Network([2, 4, 1], "tanh", loss="mse")
    with pytest.raises(ValueError, match="accuracy is defined for classification.*'mse'"):
        net.accuracy(X, X[:1])
    with pytest.raises(ValueError, match="accuracy is defined for classification"):
        net.predict_proba(X)
    assert set(net.evaluate(X, X[:1])) == {"loss"}
    assert "accuracy" not in net.fit(X, X[:1], epochs=2, optimizer=Adam(), progress=False)


def test_accuracy_checks_labels_and_shapes():
    net = Network([2, 4, 3], "relu", loss="sparse_categorical_cross_entropy")
    y = np.zeros(40, dtype=int)
    with pytest.raises(ValueError, match="labels from -1 to 0; expected 0..2"):
        net.accuracy(X, np.where(np.arange(40) == 3, -1, y))
    with pytest.raises(ValueError, match=r"shape mismatch: Y must hold 40 integer labels.*\(39,\)"):
        net.accuracy(X, y[:39])
    onehot = Network([2, 4, 3], "relu", loss="categorical_cross_entropy")
    assert onehot.accuracy(X, y) == onehot.accuracy(X, one_hot(y, 3))  # labels are fine too
    with pytest.raises(ValueError, match="shape mismatch"):
        nnlib.metrics.accuracy(np.zeros(3), np.zeros(4))


# -- the output activation comes from the loss ------------------------------------------------


def test_regression_output_is_linear_by_default():
    net = Network([1, 16, 1], loss="mse", seed=0)
    assert [layer.activation.name for layer in net.layers] == ["relu", "linear"]
    x = np.linspace(-1, 1, 50)[None, :]
    history = net.fit(x, -2 * x, epochs=400, optimizer=Adam(0.01), progress=False)
    assert history["loss"][-1] < 1e-2  # a ReLU output could never predict -2x < 0
    assert net.forward(x).min() < -1


@pytest.mark.parametrize(
    "loss, output",
    [
        ("mse", "linear"),
        ("mae", "linear"),
        ("binary_cross_entropy", "sigmoid"),
        ("categorical_cross_entropy", "softmax"),
        ("sparse_categorical_cross_entropy", "softmax"),
    ],
)
def test_output_from_the_loss_as_scikit_learn(loss, output):
    n_out = 1 if output != "softmax" else 3
    assert Network([2, 3, n_out], "tanh", loss=loss).layers[-1].activation.name == output
    assert Network([2, n_out], loss=loss).layers[-1].activation.name == output
    assert Network([2, 3, n_out], None, loss=loss).layers[0].activation.name == "relu"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Network([2, 3, 1], "relu", output="relu", loss="binary_cross_entropy"),
         "binary_cross_entropy needs .* output='sigmoid'; got 'relu'"),
        (lambda: Network([2, 3, 1], "relu", output="softmax"), "softmax over one unit"),
        (lambda: Network([2, 3, 3], "relu", output="sigmoid",
                         loss="categorical_cross_entropy"), "output='softmax'; got 'sigmoid'"),
        (lambda: Network([2, 3, 1], ["relu", "sigmoid"], output="linear"),
         "output: the list activations already names"),
        (lambda: Network([2, 3, 1], 5), "activations: expected a name"),
        (lambda: Network([2, 3, 1], seed=-1), "seed must be a non-negative integer"),
        (lambda: Network([2, 3, 1], seed=1.5), "seed must be a non-negative integer"),
        (lambda: Network(3), "layer_sizes must be a list"),
    ],
)  # fmt: skip
def test_inconsistent_networks_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# -- gradient checks -------------------------------------------------------------------------


def test_gradient_check_of_a_float32_network_is_done_in_float64():
    net = Network([2, 5, 3], "tanh", loss="categorical_cross_entropy", seed=0, dtype=np.float32)
    Y = one_hot(rng.integers(0, 3, 6), 3)
    errors = gradient_check(net, X[:, :6], Y)
    assert max(errors.values()) < 1e-6  # was 0.8-1.6 for a correct backward pass
    assert net.dtype == np.float32 and net.layers[0].W.dtype == np.float32  # left as it was


@pytest.mark.parametrize("epsilon", [0, -1e-6, np.nan])
def test_epsilon_must_be_positive(epsilon):
    net = Network([2, 3, 1], "tanh", loss="mse")
    with pytest.raises(ValueError, match="epsilon"):
        gradient_check(net, X[:, :4], X[:1, :4], epsilon=epsilon)
    with pytest.raises(ValueError, match="epsilon"):
        nnlib.numerical_gradient(lambda: 0.0, np.zeros(3), epsilon=epsilon)


# -- the loss functions check the ranges of their inputs --------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: L.binary_cross_entropy(np.array([[1.0]]), np.array([[1.79]])),
        lambda: L.binary_cross_entropy_gradient(np.array([[1.0]]), np.array([[1.79]])),
        lambda: L.binary_cross_entropy(np.array([[2.0]]), np.array([[0.5]])),
        lambda: L.binary_cross_entropy(np.array([[-0.5]]), np.array([[0.5]])),
        lambda: L.categorical_cross_entropy(np.array([[1.0], [0.0]]), np.array([[1.2], [-0.2]])),
        lambda: L.categorical_cross_entropy_gradient(np.array([[2.0], [0]]), np.array([[1], [0]])),
        lambda: L.sigmoid_binary_cross_entropy_gradient(np.array([[1.0]]), np.array([[3.0]])),
        lambda: L.sparse_categorical_cross_entropy(np.array([0]), np.array([[1.5], [-0.5]])),
        lambda: L.binary_cross_entropy_from_logits(np.array([[3.0]]), np.array([[0.2]])),
    ],
)
def test_cross_entropies_refuse_values_outside_0_1(call):
    with pytest.raises(ValueError, match=r"must hold values in \[0, 1\]"):
        call()


def test_losses_of_no_examples_are_refused():
    with pytest.raises(ValueError, match="no examples"):
        L.mse(np.zeros((1, 0)), np.zeros((1, 0)))


def test_categorical_targets_must_sum_to_1():
    net = Network([2, 3, 3], "relu", loss="categorical_cross_entropy")
    with pytest.raises(ValueError, match="each column must sum to 1"):
        net.fit(X[:, :2], np.array([[0.5, 1], [0.0, 0], [0.0, 0]]), epochs=1, progress=False)


# -- train_step and fit check their inputs -----------------------------------------------------


@pytest.mark.parametrize("bad, message", [(-1, "labels from -1"), (12, "labels from 0 to 12")])
def test_train_step_checks_labels_like_fit(bad, message):
    net = Network([2, 4, 3], "relu", loss="sparse_categorical_cross_entropy")
    y = np.zeros(5, dtype=int)
    y[2] = bad
    with pytest.raises(ValueError, match=message):
        net.train_step(X[:, :5], y, Adam())
    with pytest.raises(ValueError, match=message):
        net.fit(X[:, :5], y, progress=False)
    with pytest.raises(ValueError, match="optimizer: got the class Adam"):
        net.train_step(X[:, :5], np.zeros(5, dtype=int), Adam)
    with pytest.raises(ValueError, match="train_step needs an Optimizer object"):
        net.train_step(X[:, :5], np.zeros(5, dtype=int), "adam")


def test_fit_defaults_on_xor_give_a_hint():
    X_xor, y_xor = nnlib.datasets.xor()
    net = Network([2, 4, 1], "tanh", loss="binary_cross_entropy", seed=0)
    with pytest.warns(UserWarning, match="hardly fell.*optimizer='adam'"):
        net.fit(X_xor, y_xor, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no hint once an optimizer is chosen
        net.fit(X_xor, y_xor, optimizer="sgd", learning_rate=1.0, epochs=5, progress=False)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda n: n.forward(np.zeros((2, 0))), r"X has no examples: shape \(2, 0\)"),
        (lambda n: n.fit(np.zeros((2, 0)), np.zeros((1, 0)), progress=False), "no examples"),
        (lambda n: n.fit(X, X[:1], seed=-1, progress=False), "seed must be a non-negative"),
        (lambda n: n.fit(X, X[:1], optimizer=Adam, progress=False),
         r"optimizer: got the class Adam, expected an object made from it, e.g. Adam\(\)"),
        (lambda n: n.fit(X.T, X[:1], progress=False),
         r"X has shape \(40, 2\).*needs 2 rows.*examples as rows: pass X.T"),
        (lambda n: n.fit(X, X[:1], patience=3, progress=False), "patience: early stopping needs"),
        (lambda n: n.fit(X, X[:1], schedule=0.1, progress=False), "schedule must be a function"),
        (lambda n: n.fit(X, X[:1], validation_data=X, progress=False), "X_val must be a 2-D array"),
    ],
)  # fmt: skip
def test_fit_errors_name_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call(Network([2, 3, 1], "tanh", loss="mse"))


def test_one_hot_of_nothing():
    with pytest.raises(ValueError, match="y is empty, so the number of classes is unknown"):
        one_hot([])
    assert one_hot([], k=3).shape == (3, 0)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        one_hot([0, 1], k=0)


# -- one vocabulary for gradients ----------------------------------------------------------------


def test_the_natural_loop_works():
    net = Network([2, 4, 1], "tanh", loss="mse", seed=0)
    copy = Network([2, 4, 1], "tanh", loss="mse", seed=0)
    opt = nnlib.SGD(0.1)
    net.forward(X)
    grads = net.backward(X[:1])
    assert set(grads) == {"dW1", "db1", "dW2", "db2"} and set(net.gradients()) == set(grads)
    before = {k: v.copy() for k, v in copy.parameters().items()}
    opt.step(net.parameters(), grads)
    for key, W in net.parameters().items():
        np.testing.assert_allclose(W, before[key] - 0.1 * grads["d" + key])


# -- what a learner expects from fit -----------------------------------------------------------


def _moons(seed=0):
    X, y = nnlib.datasets.two_moons(200, noise=0.3, seed=seed)
    return X, y[None, :].astype(float)


def test_predict_proba_and_evaluate():
    X_m, Y_m = _moons()
    net = Network([2, 8, 1], "tanh", loss="binary_cross_entropy", seed=0)
    P = net.predict_proba(X_m)
    assert P.shape == (1, 200) and np.all((P > 0) & (P < 1))
    result = net.evaluate(X_m, Y_m)
    assert result["loss"] == pytest.approx(net.compute_loss(X_m, Y_m))
    assert result["accuracy"] == net.accuracy(X_m, Y_m)


def test_early_stopping_restores_the_best_weights():
    X_m, Y_m = _moons(0)
    X_v, Y_v = _moons(1)
    net = Network([2, 64, 64, 1], "relu", loss="binary_cross_entropy", seed=0)
    h = net.fit(X_m, Y_m, epochs=300, optimizer=Adam(0.03), validation_data=(X_v, Y_v),
                patience=10, progress=False)  # fmt: skip
    best = h["best_epoch"]
    assert len(h["val_loss"]) == best + 11 < 300  # stopped 10 epochs after the best
    assert h["val_loss"][best] == min(h["val_loss"])
    assert net.compute_loss(X_v, Y_v) == pytest.approx(h["val_loss"][best], rel=1e-12)


def test_learning_rate_schedule():
    X_m, Y_m = _moons()
    net = Network([2, 8, 1], "tanh", loss="binary_cross_entropy", seed=0)
    opt = nnlib.SGD(1.0)
    h = net.fit(X_m, Y_m, epochs=4, optimizer=opt, progress=False,
                schedule=lambda epoch, lr: 0.5**epoch)  # fmt: skip
    assert h["learning_rate"] == [1.0, 0.5, 0.25, 0.125] and opt.learning_rate == 0.125
    with pytest.raises(ValueError, match="schedule's learning_rate must be > 0"):
        net.fit(X_m, Y_m, epochs=2, optimizer=opt, schedule=lambda e, lr: -1, progress=False)


def test_save_and_load_weights(tmp_path):
    X_m, Y_m = _moons()
    net = Network([2, 8, 1], "tanh", loss="binary_cross_entropy", seed=0)
    net.fit(X_m, Y_m, epochs=20, optimizer=Adam(0.01), progress=False)
    net.save_weights(tmp_path / "w.npz")
    other = Network([2, 8, 1], "tanh", loss="binary_cross_entropy", seed=5)
    other.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(other.predict_proba(X_m), net.predict_proba(X_m))
    with pytest.raises(ValueError, match=r"W1 has shape \(8, 2\) but this network's W1"):
        Network([2, 9, 1], "tanh", loss="binary_cross_entropy").load_weights(tmp_path / "w.npz")
    with pytest.raises(ValueError, match="holds .* but this network has"):
        Network([2, 8, 8, 1], "tanh", loss="binary_cross_entropy").load_weights(tmp_path / "w.npz")


def test_optimizer_state_across_fit_calls():
    """A name makes a fresh optimizer at each call; network.optimizer continues the last one."""
    X_m, Y_m = _moons()
    once = Network([2, 8, 1], "tanh", loss="binary_cross_entropy", seed=0)
    twice = Network([2, 8, 1], "tanh", loss="binary_cross_entropy", seed=0)
    once.fit(X_m, Y_m, epochs=6, optimizer="adam", progress=False)
    twice.fit(X_m, Y_m, epochs=3, optimizer="adam", progress=False)
    assert twice.optimizer.t == 3
    twice.fit(X_m, Y_m, epochs=3, optimizer=twice.optimizer, seed=0, progress=False)
    assert twice.optimizer.t == 6
    # same state as six epochs in one call (the shuffling seeds differ, so the data order does)
    restart = Network([2, 8, 1], "tanh", loss="binary_cross_entropy", seed=0)
    restart.fit(X_m, Y_m, epochs=3, optimizer="adam", progress=False)
    restart.fit(X_m, Y_m, epochs=3, optimizer="adam", seed=0, progress=False)
    assert restart.optimizer.t == 3  # a new Adam: its moments started again from zero
    assert not np.allclose(restart.parameters()["W1"], twice.parameters()["W1"])


def test_negative_seeds_are_refused_everywhere():
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        nnlib.datasets.two_moons(seed=-1)
    with pytest.raises(ValueError, match="rng must be a non-negative integer"):
        nnlib.initializers.he(3, 2, rng=-1)
    assert nnlib.initializers.he(3, 2, rng=np.random.default_rng(0)).shape == (3, 2)
