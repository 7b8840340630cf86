"""The dense layer: shapes, the formula, caches, gradients, writing into given arrays."""

import numpy as np
import pytest

from nnlib import Dense, dense_backward, dense_forward
from nnlib.gradcheck import numerical_gradient


def test_forward_is_W_A_prev_plus_b(rng):
    W = rng.standard_normal((3, 4))
    b = rng.standard_normal((3, 1))
    A_prev = rng.standard_normal((4, 5))
    Z = dense_forward(W, b, A_prev)
    assert Z.shape == (3, 5)
    for j in range(5):  # one example (column) at a time
        np.testing.assert_allclose(Z[:, j], W @ A_prev[:, j] + b[:, 0], rtol=1e-14)


def test_shape_mismatch_names_both_shapes(rng):
    with pytest.raises(ValueError, match=r"W has shape \(3, 4\).*A_prev has shape \(5, 2\)"):
        dense_forward(np.ones((3, 4)), np.ones((3, 1)), np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"A_prev has shape \(4,\)"):
        dense_forward(np.ones((3, 4)), np.ones((3, 1)), np.ones(4))
    layer = Dense(4, 3, rng=rng)
    with pytest.raises(ValueError, match=r"W has shape \(3, 4\).*\(2, 7\)"):
        layer.forward(np.ones((2, 7)))


def test_backward_formulas_against_central_differences(rng):
    W = rng.standard_normal((3, 4))
    b = rng.standard_normal((3, 1))
    A_prev = rng.standard_normal((4, 5))
    dZ = rng.standard_normal((3, 5))  # J = sum(dZ * Z) has dJ/dZ = dZ
    dW, db, dA_prev = dense_backward(dZ, W, A_prev)

    def J():
        return float(np.sum(dZ * dense_forward(W, b, A_prev)))

    for theta, analytic in ((W, dW), (b, db), (A_prev, dA_prev)):
        np.testing.assert_allclose(analytic, numerical_gradient(J, theta), rtol=1e-7, atol=1e-9)
    assert dense_backward(dZ, W, A_prev, need_dA_prev=False)[2] is None


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear", "elu", "softmax"])
def test_layer_backward_against_central_differences(activation, rng):
    layer = Dense(4, 3, activation=activation, rng=rng)
    A_prev = rng.standard_normal((4, 6))
    dA = rng.standard_normal((3, 6))
    layer.forward(A_prev)
    dA_prev = layer.backward(dA)

    def J():
        return float(np.sum(dA * layer.forward(A_prev)))

    dW, db = layer.dW.copy(), layer.db.copy()
    np.testing.assert_allclose(dW, numerical_gradient(J, layer.W), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(db, numerical_gradient(J, layer.b), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dA_prev, numerical_gradient(J, A_prev), rtol=1e-6, atol=1e-9)


def test_dense_formulas_write_into_out_arrays(rng):
    W, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 1))
    A_prev, dZ = rng.standard_normal((4, 5)), rng.standard_normal((3, 5))
    Z_out = np.empty((3, 5))
    assert dense_forward(W, b, A_prev, out=Z_out) is Z_out
    np.testing.assert_allclose(Z_out, W @ A_prev + b, rtol=1e-14)
    out = (np.empty((3, 4)), np.empty((3, 1)), np.empty((4, 5)))
    for ours, theirs, array in zip(
        dense_backward(dZ, W, A_prev, out=out), dense_backward(dZ, W, A_prev), out, strict=True
    ):
        assert ours is array
        np.testing.assert_allclose(ours, theirs, rtol=1e-14)


def test_plain_forward_returns_fresh_arrays(rng):
    layer = Dense(3, 2, rng=rng)
    A1 = layer.forward(np.ones((3, 4)))
    A1_copy = A1.copy()
    layer.forward(-np.ones((3, 4)))
    np.testing.assert_array_equal(A1, A1_copy)


def test_layer_attributes_and_cache(rng):
    layer = Dense(4, 3, activation="maxout", k=2, rng=rng)
    assert layer.W.shape == (6, 4) and layer.b.shape == (6, 1)
    assert (layer.n_in, layer.n_out) == (4, 3)
    A_prev = rng.standard_normal((4, 5))
    A = layer.forward(A_prev)
    assert A.shape == (3, 5)
    cached_A_prev, Z, cached_A = layer.cache
    assert cached_A_prev is A_prev and Z.shape == (6, 5) and cached_A is A
    assert "maxout" in repr(layer)
    assert np.all(layer.b == 0)


def test_errors(rng):
    with pytest.raises(ValueError, match="backward called before forward"):
        Dense(2, 2, rng=rng).backward(np.ones((2, 1)))
    with pytest.raises(ValueError, match="n_out must be a positive integer"):
        Dense(2, 0)
    with pytest.raises(ValueError, match="n_in must be a positive integer"):
        Dense(2.5, 3)
    with pytest.raises(ValueError, match="unknown name 'sigmod'"):
        Dense(2, 2, activation="sigmod")
    with pytest.raises(ValueError, match="init: unknown name 'glorot'"):
        Dense(2, 2, init="glorot")


def test_default_initializers(rng):
    assert Dense(200, 100, activation="relu", rng=rng).W.std() == pytest.approx(0.1, rel=0.05)
    limit = np.sqrt(6 / 300)
    W = Dense(200, 100, activation="tanh", rng=rng).W
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.95 * limit
