"""The datasets: shapes, labels, reproducibility, no download."""

import numpy as np
import pytest

from nnlib import datasets


def test_study_hours_and_three_points():
    hours, grades = datasets.study_hours()
    assert hours.shape == grades.shape == (5,)
    x, y = datasets.three_points()
    assert x.shape == y.shape == (3,)
    assert x.dtype == y.dtype == np.float64


def test_xor():
    X, y = datasets.xor()
    assert X.shape == (2, 4)
    np.testing.assert_array_equal(y, np.logical_xor(X[0], X[1]).astype(int))


@pytest.mark.parametrize("m", [1, 7, 200])
def test_two_moons(m):
    X, y = datasets.two_moons(m=m, noise=0.1, seed=3)
    assert X.shape == (2, m) and y.shape == (m,)
    assert set(y) <= {0, 1} and abs(np.sum(y == 0) - np.sum(y == 1)) <= 1
    X2, y2 = datasets.two_moons(m=m, noise=0.1, seed=3)
    np.testing.assert_array_equal(X, X2)
    X0, _ = datasets.two_moons(m=m, noise=0.0)
    if m == 200:  # without noise the upper moon lies on the unit circle
        np.testing.assert_allclose(np.hypot(X0[0, :100], X0[1, :100]), 1.0)


def test_spirals():
    X, y = datasets.spirals(m_per_class=50, classes=4, seed=1)
    assert X.shape == (2, 200) and y.shape == (200,)
    np.testing.assert_array_equal(np.bincount(y), [50] * 4)
    assert np.all(np.hypot(X[0], X[1]) <= 1 + 1e-12)
    np.testing.assert_array_equal(X, datasets.spirals(m_per_class=50, classes=4, seed=1)[0])


def test_digits():
    X, y, images = datasets.digits()
    assert X.shape == (64, 1797) and y.shape == (1797,) and images.shape == (1797, 8, 8)
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(y) == set(range(10))
    np.testing.assert_allclose(X[:, 5], images[5].ravel() / 16)


def test_train_test_split():
    X = np.arange(20.0).reshape(2, 10)
    y = np.arange(10)
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_fraction=0.3, seed=1)
    assert X_train.shape == (2, 7) and X_test.shape == (2, 3)
    np.testing.assert_array_equal(X_train[0], y_train)  # columns stay with their labels
    assert sorted(np.concatenate([y_train, y_test])) == list(range(10))
    Y = np.vstack([y, y])
    assert datasets.train_test_split(X, Y)[2].shape == (2, 8)
    with pytest.raises(ValueError, match="shape mismatch: X has 10 columns"):
        datasets.train_test_split(X, np.arange(9))
    with pytest.raises(ValueError, match="test_fraction must be in"):
        datasets.train_test_split(X, y, test_fraction=1.0)
