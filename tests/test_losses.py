"""Losses and their gradients: central differences, fused gradients, references, stability."""

import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnlib import GRADIENTS, LOSSES, one_hot
from nnlib import losses as L
from nnlib.activations import sigmoid, softmax
from nnlib.gradcheck import numerical_gradient


@st.composite
def problems(draw, kind):
    """(Y, A) of a random shape ``(n, m)`` suited to the loss ``kind``."""
    n = 1 if kind == "binary" else draw(st.integers(1 if kind == "regression" else 2, 5))
    m = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if kind == "regression":
        Y = rng.uniform(-3, 3, (n, m))
        # keep A - Y away from 0, where MAE has its kink
        A = Y + rng.choice([-1, 1], (n, m)) * rng.uniform(0.01, 2, (n, m))
        return Y, A
    if kind == "binary":
        return rng.integers(0, 2, (1, m)).astype(float), rng.uniform(0.05, 0.95, (1, m))
    y = rng.integers(0, n, m)
    A = softmax(rng.uniform(-2, 2, (n, m)))
    return (one_hot(y, n) if kind == "onehot" else y), A


def _numeric_dA(loss, Y, A):
    Ac = A.copy()
    return numerical_gradient(lambda: loss(Y, Ac), Ac)


@pytest.mark.parametrize("name", ["mse", "mae"])
@given(YA=problems("regression"))
def test_regression_gradients(name, YA):
    Y, A = YA
    np.testing.assert_allclose(
        GRADIENTS[name](Y, A), _numeric_dA(LOSSES[name], Y, A), rtol=1e-6, atol=1e-9
    )


@given(YA=problems("binary"))
def test_binary_cross_entropy_gradient(YA):
    Y, A = YA
    np.testing.assert_allclose(
        GRADIENTS["binary_cross_entropy"](Y, A),
        _numeric_dA(LOSSES["binary_cross_entropy"], Y, A),
        rtol=1e-6,
        atol=1e-9,
    )


@pytest.mark.parametrize("name", ["categorical_cross_entropy", "sparse_categorical_cross_entropy"])
@given(data=st.data())
def test_cross_entropy_gradients(name, data):
    Y, A = data.draw(problems("labels" if name.startswith("sparse") else "onehot"))
    np.testing.assert_allclose(
        GRADIENTS[name](Y, A), _numeric_dA(LOSSES[name], Y, A), rtol=1e-6, atol=1e-9
    )


@given(YA=problems("binary"), scale=st.floats(0.1, 10))
def test_fused_sigmoid_bce_gradient_is_A_minus_Y_over_m(YA, scale):
    Y, A0 = YA
    Z = scale * (np.log(A0) - np.log1p(-A0))  # any logits
    A = sigmoid(Z)
    Zc = Z.copy()
    fused = L.sigmoid_binary_cross_entropy_gradient(Y, A)
    np.testing.assert_allclose(fused, (A - Y) / Y.shape[1], rtol=1e-15)
    if np.max(np.abs(Z)) < 8:  # beyond, 1 - A loses digits and the probability form with it
        numeric = numerical_gradient(lambda: L.binary_cross_entropy(Y, sigmoid(Zc)), Zc)
        np.testing.assert_allclose(fused, numeric, rtol=1e-6, atol=1e-9)
    numeric_logits = numerical_gradient(lambda: L.binary_cross_entropy_from_logits(Y, Zc), Zc)
    np.testing.assert_allclose(fused, numeric_logits, rtol=1e-6, atol=1e-9)


@given(data=st.data())
def test_fused_softmax_ce_gradient_is_A_minus_Y_over_m(data):
    Y, _ = data.draw(problems("onehot"))
    Z = data.draw(hnp.arrays(np.float64, Y.shape, elements=st.floats(-5, 5)))
    A = softmax(Z)
    Zc = Z.copy()
    numeric = numerical_gradient(lambda: L.categorical_cross_entropy(Y, softmax(Zc)), Zc)
    fused = L.softmax_cross_entropy_gradient(Y, A)
    np.testing.assert_allclose(fused, (A - Y) / Y.shape[1], rtol=1e-15)
    np.testing.assert_allclose(fused, numeric, rtol=1e-6, atol=1e-9)
    numeric_logits = numerical_gradient(lambda: L.categorical_cross_entropy_from_logits(Y, Zc), Zc)
    np.testing.assert_allclose(fused, numeric_logits, rtol=1e-6, atol=1e-9)


@given(data=st.data())
def test_sparse_equals_one_hot(data):
    y, A = data.draw(problems("labels"))
    Y = one_hot(y, A.shape[0])
    assert L.sparse_categorical_cross_entropy(y, A) == pytest.approx(
        L.categorical_cross_entropy(Y, A), rel=1e-14
    )
    np.testing.assert_allclose(
        L.sparse_categorical_cross_entropy_gradient(y, A),
        L.categorical_cross_entropy_gradient(Y, A),
        rtol=1e-14,
    )


def test_known_values():
    Y = np.array([[1.0, 0.0]])
    A = np.array([[0.8, 0.4]])
    assert L.mse(Y, A) == pytest.approx((0.2**2 + 0.4**2) / 2)
    assert L.mae(Y, A) == pytest.approx(0.3)
    assert L.binary_cross_entropy(Y, A) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)


# -- reference implementations ------------------------------------------------------------------


@given(data=st.data())
def test_against_scikit_learn(data):
    from sklearn import metrics

    Y, A = data.draw(problems("regression"))
    assert L.mse(Y, A) == pytest.approx(metrics.mean_squared_error(Y.ravel(), A.ravel()))
    assert L.mae(Y, A) == pytest.approx(metrics.mean_absolute_error(Y.ravel(), A.ravel()))
    Y, A = data.draw(problems("binary"))
    assert L.binary_cross_entropy(Y, A) == pytest.approx(
        metrics.log_loss(Y[0], A[0], labels=[0, 1])
    )
    y, A = data.draw(problems("labels"))
    k = A.shape[0]
    assert L.sparse_categorical_cross_entropy(y, A) == pytest.approx(
        metrics.log_loss(y, A.T, labels=list(range(k)))
    )


def test_against_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(3)
    Z = rng.normal(0, 3, (4, 9))
    y = rng.integers(0, 4, 9)
    zt = torch.tensor(Z.T, requires_grad=True)  # torch keeps examples as rows
    loss = F.cross_entropy(zt, torch.tensor(y))
    loss.backward()
    assert L.categorical_cross_entropy_from_logits(one_hot(y, 4), Z) == pytest.approx(
        loss.item(), rel=1e-12
    )
    np.testing.assert_allclose(
        L.softmax_cross_entropy_gradient(one_hot(y, 4), softmax(Z)), zt.grad.numpy().T, rtol=1e-10
    )
    Y = rng.integers(0, 2, (1, 9)).astype(float)
    z1 = torch.tensor(Z[:1], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(z1, torch.tensor(Y))
    loss.backward()
    assert L.binary_cross_entropy_from_logits(Y, Z[:1]) == pytest.approx(loss.item(), rel=1e-12)
    assert L.binary_cross_entropy(Y, sigmoid(Z[:1])) == pytest.approx(loss.item(), rel=1e-9)
    np.testing.assert_allclose(
        L.sigmoid_binary_cross_entropy_gradient(Y, sigmoid(Z[:1])), z1.grad.numpy(), rtol=1e-10
    )
    a = torch.tensor(sigmoid(Z[:1]))
    assert L.mse(Y, sigmoid(Z[:1])) == pytest.approx(F.mse_loss(a, torch.tensor(Y)).item())
    assert L.mae(Y, sigmoid(Z[:1])) == pytest.approx(F.l1_loss(a, torch.tensor(Y)).item())


# -- stability ----------------------------------------------------------------------------------


def _silently(f, *args):
    """``f(*args)``; any overflow, division by zero, invalid operation or warning fails.
    (Underflow to 0, as in exp(-1e4), is the exact float result and is allowed.)"""
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        return f(*args)


@pytest.mark.parametrize("z", [1e4, -1e4, 800.0, -800.0, 40.0, -40.0])
def test_log_losses_are_finite_for_extreme_logits(z):
    Z1 = np.array([[z, -z]])
    for Y in (np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])):
        A = _silently(sigmoid, Z1)
        for value in (
            _silently(L.binary_cross_entropy, Y, A),
            _silently(L.binary_cross_entropy_from_logits, Y, Z1),
        ):
            assert np.isfinite(value)
        assert np.all(np.isfinite(_silently(L.binary_cross_entropy_gradient, Y, A)))
        assert np.all(np.isfinite(_silently(L.sigmoid_binary_cross_entropy_gradient, Y, A)))
    # exact from the logits: log(1 + e^z) - y z
    assert L.binary_cross_entropy_from_logits(np.array([[0.0]]), np.array([[z]])) == (
        pytest.approx(max(z, 0) + np.log1p(np.exp(-abs(z))))
    )
    Z = np.array([[z, 0.0], [-z, z], [0.0, -z]])
    Y = one_hot(np.array([1, 2]), 3)
    A = _silently(softmax, Z)
    for value in (
        _silently(L.categorical_cross_entropy, Y, A),
        _silently(L.categorical_cross_entropy_from_logits, Y, Z),
        _silently(L.sparse_categorical_cross_entropy, np.array([1, 2]), A),
    ):
        assert np.isfinite(value)
    assert np.all(np.isfinite(_silently(L.categorical_cross_entropy_gradient, Y, A)))
    assert np.all(np.isfinite(_silently(L.softmax_cross_entropy_gradient, Y, A)))
    assert L.categorical_cross_entropy_from_logits(Y, Z) == pytest.approx(
        (
            abs(z)
            + np.log1p(2 * np.exp(-abs(z)))
            - Z[1, 0]
            + abs(z)
            + np.log1p(2 * np.exp(-abs(z)))
            - Z[2, 1]
        )
        / 2
    )


def test_confident_wrong_answer_costs_a_large_finite_loss():
    assert 20 < L.binary_cross_entropy(np.array([[1.0]]), np.array([[0.0]])) < 30


def test_float32_losses():
    Y = np.array([[1.0, 0.0]], dtype=np.float32)
    A = np.array([[1.0, 0.0]], dtype=np.float32)
    assert np.isfinite(_silently(L.binary_cross_entropy, Y, A))
    assert _silently(L.binary_cross_entropy_gradient, Y, A).dtype == np.float32


# -- bad input ----------------------------------------------------------------------------------


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"shape mismatch: Y has shape \(1, 2\).*\(1, 3\)"):
        L.mse(np.zeros((1, 2)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="A contains NaN"):
        L.mse(np.zeros((1, 2)), np.array([[0.0, np.nan]]))
    A = softmax(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="labels from 0 to 3"):
        L.sparse_categorical_cross_entropy(np.array([0, 3]), A)
    with pytest.raises(ValueError, match="labels from -1"):
        L.sparse_categorical_cross_entropy(np.array([-1, 0]), A)
    with pytest.raises(ValueError, match="integer class labels"):
        L.sparse_categorical_cross_entropy(np.array([0.5, 1.0]), A)
    with pytest.raises(ValueError, match="one integer label per column"):
        L.sparse_categorical_cross_entropy(np.array([0, 1, 2]), A)
    with pytest.raises(ValueError, match=r"labels from 0 to 3; expected 0..2"):
        one_hot(np.array([0, 3]), k=3)
    with pytest.raises(ValueError, match="loss: unknown name 'hinge'"):
        L.check_loss_name("hinge")


@given(data=st.data())
def test_unchecked_losses_give_the_same_values(data):
    for name, kind in [
        ("mse", "regression"),
        ("mae", "regression"),
        ("binary_cross_entropy", "binary"),
        ("categorical_cross_entropy", "onehot"),
        ("sparse_categorical_cross_entropy", "labels"),
    ]:
        Y, A = data.draw(problems(kind))
        assert LOSSES[name](Y, A, check=False) == LOSSES[name](Y, A)
