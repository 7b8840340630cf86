"""Activations: values, derivatives against central differences, reference implementations."""

import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

from nnlib import ACTIVATIONS, DERIVATIVES, Activation, get_activation
from nnlib.activations import softmax_backward
from nnlib.gradcheck import numerical_gradient


def central_difference(f, Z, h=1e-6):
    """Element-wise derivative of an element-wise function ``f`` by central differences."""
    return (f(Z + h) - f(Z - h)) / (2 * h)


SMOOTH = ["linear", "sigmoid", "tanh"]
KINKED = ["relu", "leaky_relu", "elu"]  # a kink (or a jump in g'' for elu) at z = 0


def matrices(low=-5.0, high=5.0, away_from_zero=0.0, max_side=5):
    """Random 2-D float64 arrays; entries at least ``away_from_zero`` from 0."""
    values = st.floats(low, high, allow_nan=False, allow_infinity=False)
    if away_from_zero:
        values = values.filter(lambda z: abs(z) >= away_from_zero)
    return hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=max_side),
        elements=values,
    )


@pytest.mark.parametrize("name", SMOOTH)
@given(Z=matrices())
def test_smooth_derivatives_match_central_differences(name, Z):
    g = ACTIVATIONS[name]
    np.testing.assert_allclose(DERIVATIVES[name](Z), central_difference(g, Z), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", KINKED)
@pytest.mark.parametrize("alpha", [0.01, 0.3, 1.0, 2.0])
@given(Z=matrices(away_from_zero=1e-3))
def test_kinked_derivatives_match_central_differences_away_from_the_kink(name, alpha, Z):
    params = {} if name == "relu" else {"alpha": alpha}
    act = get_activation(name, **params)
    np.testing.assert_allclose(
        act.derivative(Z), central_difference(act.forward, Z), rtol=1e-6, atol=1e-9
    )


@given(Z=matrices(), data=st.data())
def test_softmax_backward_is_the_jacobian_product(Z, data):
    """dZ = J^T dA equals the gradient of sum(dA * softmax(Z)) with respect to Z."""
    dA = data.draw(hnp.arrays(np.float64, Z.shape, elements=st.floats(-3, 3)))
    A = ACTIVATIONS["softmax"](Z)
    Zc = Z.copy()
    numeric = numerical_gradient(lambda: np.sum(dA * ACTIVATIONS["softmax"](Zc)), Zc)
    np.testing.assert_allclose(softmax_backward(dA, Z, A), numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(softmax_backward(dA, Z), numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(get_activation("softmax").backward(dA, Z, A), numeric, atol=1e-8)
    # the same as the full Jacobian (DERIVATIVES["softmax"]) times dA, column by column
    J = DERIVATIVES["softmax"](Z)
    np.testing.assert_allclose(np.einsum("ijm,im->jm", J, dA), numeric, rtol=1e-6, atol=1e-8)


@given(Z=matrices())
def test_softmax_derivative_is_the_whole_jacobian(Z):
    """J[i, j, c] = d a_i / d z_j for column c, by central differences."""
    J = DERIVATIVES["softmax"](Z)
    assert J.shape == (Z.shape[0], Z.shape[0], Z.shape[1])
    for j in range(Z.shape[0]):
        bump = np.zeros_like(Z)
        bump[j] = 1e-6
        change = (ACTIVATIONS["softmax"](Z + bump) - ACTIVATIONS["softmax"](Z - bump)) / 2e-6
        np.testing.assert_allclose(J[:, j], change, rtol=1e-6, atol=1e-9)


def test_the_tables_are_what_trains():
    """Replacing an entry of DERIVATIVES changes backpropagation, in the plain path and in fit."""
    import nnlib
    from nnlib import Network

    X = np.random.default_rng(0).standard_normal((2, 8))
    Y = np.random.default_rng(1).standard_normal((1, 8))
    net = Network([2, 4, 1], "relu", loss="mse", seed=0)
    net.forward(X)
    before = net.backward(Y)["dW1"].copy()
    original = nnlib.DERIVATIVES["relu"]
    try:
        nnlib.DERIVATIVES["relu"] = lambda Z: 2 * original(Z)
        net.forward(X)
        np.testing.assert_allclose(net.backward(Y)["dW1"], 2 * before)
        relu = nnlib.ACTIVATIONS["relu"]
        nnlib.ACTIVATIONS["relu"] = lambda Z: np.maximum(Z, 0) * 0
        try:
            assert not np.any(net.forward(X) - net.layers[-1].b)  # hidden layer outputs 0
        finally:
            nnlib.ACTIVATIONS["relu"] = relu
    finally:
        nnlib.DERIVATIVES["relu"] = original


@pytest.mark.parametrize("k", [1, 2, 3])
@given(data=st.data())
def test_maxout_backward_routes_the_gradient_to_the_winner(k, data):
    n = data.draw(st.integers(1, 3))
    m = data.draw(st.integers(1, 4))
    # distinct values, at least 1e-3 apart, so that no small change swaps the winner
    pool = data.draw(st.permutations(range(n * k * m)))
    Z = (np.array(pool, dtype=np.float64).reshape(n * k, m) - n * k * m / 2) * 0.01
    dA = data.draw(hnp.arrays(np.float64, (n, m), elements=st.floats(-3, 3)))
    act = get_activation("maxout", k=k)
    A = act.forward(Z)
    assert A.shape == (n, m)
    Zc = Z.copy()
    numeric = numerical_gradient(lambda: np.sum(dA * act.forward(Zc)), Zc)
    np.testing.assert_allclose(act.backward(dA, Z, A), numeric, rtol=1e-6, atol=1e-8)


def test_maxout_is_the_max_of_each_group_of_k_rows():
    Z = np.array([[1.0, -2.0], [3.0, -1.0], [0.0, 5.0], [-4.0, 4.0]])
    np.testing.assert_array_equal(ACTIVATIONS["maxout"](Z, k=2), [[3.0, -1.0], [0.0, 5.0]])
    with pytest.raises(ValueError, match="multiple of k"):
        ACTIVATIONS["maxout"](np.ones((3, 2)), k=2)


@pytest.mark.parametrize("name", SMOOTH + KINKED)
@given(Z=matrices(away_from_zero=1e-3), data=st.data())
def test_activation_backward_is_dA_times_derivative(name, Z, data):
    dA = data.draw(hnp.arrays(np.float64, Z.shape, elements=st.floats(-3, 3)))
    act = get_activation(name)
    A = act.forward(Z)
    expected = dA * act.derivative(Z)
    np.testing.assert_allclose(act.backward(dA, Z, A), expected, rtol=1e-12, atol=1e-15)


def test_step_values_and_no_gradient():
    Z = np.array([[-2.0, -1e-9, 0.0, 3.0]])
    np.testing.assert_array_equal(ACTIVATIONS["step"](Z), [[0, 0, 1, 1]])
    np.testing.assert_array_equal(DERIVATIVES["step"](Z), 0)
    with pytest.raises(ValueError, match="no usable gradient"):
        get_activation("step").backward(np.ones_like(Z), Z, ACTIVATIONS["step"](Z))


def test_known_values():
    z = np.array([[-1.0, 0.0, 2.0]])
    np.testing.assert_allclose(ACTIVATIONS["leaky_relu"](z, alpha=0.1), [[-0.1, 0.0, 2.0]])
    np.testing.assert_allclose(ACTIVATIONS["elu"](z, alpha=2.0), [[2 * (np.exp(-1) - 1), 0, 2]])
    np.testing.assert_allclose(ACTIVATIONS["sigmoid"](np.zeros((1, 1))), 0.5)
    np.testing.assert_allclose(DERIVATIVES["sigmoid"](np.zeros((1, 1))), 0.25)
    np.testing.assert_allclose(ACTIVATIONS["softmax"](np.zeros((4, 2))), 0.25)


def test_found_by_name():
    assert set(ACTIVATIONS) == set(DERIVATIVES)
    assert {"step", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "maxout"} <= set(
        ACTIVATIONS
    )
    assert "softmax" in ACTIVATIONS
    act = get_activation("leaky_relu", alpha=0.2)
    assert act.params == {"alpha": 0.2} and get_activation(act) is act
    assert "alpha=0.2" in repr(act)
    assert get_activation("maxout", k=3).pieces == 3


# -- reference implementations ------------------------------------------------------------------


def _sklearn(name, Z):
    """scikit-learn's activation ``name`` applied (in place, as it works) to a copy of ``Z``."""
    from sklearn.neural_network._base import ACTIVATIONS as SK

    out = Z.copy()
    result = SK[name](out)
    return out if result is None else result


@given(Z=matrices(low=-30, high=30))
def test_against_scikit_learn(Z):
    pairs = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
    for sk_name, name in pairs.items():
        np.testing.assert_allclose(ACTIVATIONS[name](Z), _sklearn(sk_name, Z), rtol=1e-12)
    # scikit-learn keeps examples as rows: its softmax works along axis 1
    np.testing.assert_allclose(
        ACTIVATIONS["softmax"](Z), _sklearn("softmax", Z.T).T, rtol=1e-12, atol=1e-300
    )


@given(Z=matrices(low=-30, high=30, away_from_zero=1e-3), data=st.data())
def test_backward_against_scikit_learn_derivatives(Z, data):
    """scikit-learn's DERIVATIVES multiply an upstream gradient in place by g'(z), computed from
    the activation's output."""
    from sklearn.neural_network._base import DERIVATIVES as SK

    dA = data.draw(hnp.arrays(np.float64, Z.shape, elements=st.floats(-3, 3)))
    pairs = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
    for sk_name, name in pairs.items():
        act = get_activation(name)
        A = act.forward(Z)
        delta = dA.copy()
        SK[sk_name](A, delta)
        np.testing.assert_allclose(act.backward(dA, Z, A), delta, rtol=1e-12, atol=1e-300)


@given(Z=matrices(away_from_zero=1e-3))
def test_step_derivative_is_the_central_difference_away_from_0(Z):
    np.testing.assert_array_equal(
        DERIVATIVES["step"](Z), central_difference(ACTIVATIONS["step"], Z)
    )


@given(Z=matrices(low=-700, high=700))
def test_against_scipy(Z):
    np.testing.assert_allclose(ACTIVATIONS["sigmoid"](Z), special.expit(Z), rtol=1e-12)
    np.testing.assert_allclose(
        ACTIVATIONS["softmax"](Z), special.softmax(Z, axis=0), rtol=1e-12, atol=1e-300
    )


def test_against_torch_with_autograd():
    torch = pytest.importorskip("torch")
    Z = np.random.default_rng(1).uniform(-4, 4, (5, 7))
    Z[np.abs(Z) < 1e-3] = 0.5
    upstream = np.random.default_rng(2).standard_normal(Z.shape)
    fns = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.01),
        "elu": lambda t: torch.nn.functional.elu(t, 1.0),
        "softmax": lambda t: torch.softmax(t, dim=0),
    }
    for name, fn in fns.items():
        t = torch.tensor(Z, requires_grad=True)
        out = fn(t)
        out.backward(torch.tensor(upstream))
        act = get_activation(name)
        A = act.forward(Z)
        np.testing.assert_allclose(A, out.detach().numpy(), rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(
            act.backward(upstream, Z, A), t.grad.numpy(), rtol=1e-10, atol=1e-14, err_msg=name
        )


# -- stability and dtypes -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sigmoid", "softmax", "tanh", "elu", "relu"])
def test_extreme_inputs_are_finite_and_silent(name):
    Z = np.array([[-1e4, -800.0, -30.0, 0.0, 30.0, 800.0, 1e4]]).T @ np.ones((1, 3))
    Z = np.vstack([Z, -Z])  # softmax columns with both extremes
    # Overflow, division by zero and invalid operations raise; underflow to 0 (exp(-1e4)) is the
    # exact float result, not an error, and NumPy stays silent about it by default.
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        A = ACTIVATIONS[name](Z)
        D = DERIVATIVES[name](Z)
    assert np.all(np.isfinite(A)) and np.all(np.isfinite(D))
    if name == "sigmoid":
        assert A[0, 0] == 0.0 and A[6, 0] == 1.0
    if name == "softmax":
        np.testing.assert_allclose(A.sum(axis=0), 1.0)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_float32_stays_float32(name):
    Z = np.linspace(-3, 3, 12, dtype=np.float32).reshape(4, 3)
    assert ACTIVATIONS[name](Z).dtype == np.float32
    assert DERIVATIVES[name](Z).dtype == np.float32


def test_bad_names_and_parameters():
    with pytest.raises(ValueError, match="unknown name 'relux'"):
        get_activation("relux")
    with pytest.raises(ValueError, match="takes no parameter 'alpha'"):
        Activation("relu", alpha=0.1)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        Activation("maxout", k=0)
    with pytest.raises(ValueError, match="alpha"):
        Activation("elu", alpha=-1.0)
    with pytest.raises(ValueError, match="activation"):
        get_activation(3)
