"""Small datasets that need no download. Inputs come as columns: ``X`` is ``(n_features, m)``.

Labels ``y`` are integer arrays of shape ``(m,)``; :func:`nnlib.losses.one_hot` turns them into
one-hot columns.
"""

import numpy as np


def study_hours():
    """Hours studied and the grade obtained, five students: ``(hours, grades)``, 1-D arrays."""
    hours = np.array([2.0, 4.0, 6.0, 8.0, 10.0])
    grades = np.array([3.0, 5.0, 4.0, 6.0, 8.0])
    return hours, grades


def three_points():
    """The three points of the step-by-step gradient-descent example: ``(x, y)``, 1-D arrays."""
    return np.array([0.5, 2.0, 1.0]), np.array([0.8, 1.0, 1.5])


def xor():
    """The four XOR points: ``X`` of shape ``(2, 4)`` and labels ``y`` = x1 XOR x2."""
    X = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    return X, y


def two_moons(m=200, noise=0.1, seed=0):
    """Two interleaving half circles, ``m`` points in all: ``X (2, m)``, ``y (m,)`` in {0, 1}."""
    rng = np.random.default_rng(seed)
    m0 = m // 2
    t0 = np.linspace(0, np.pi, m0)
    t1 = np.linspace(0, np.pi, m - m0)
    X = np.hstack(
        [np.vstack([np.cos(t0), np.sin(t0)]), np.vstack([1 - np.cos(t1), 0.5 - np.sin(t1)])]
    )
    X += noise * rng.standard_normal(X.shape)
    y = np.concatenate([np.zeros(m0, dtype=np.intp), np.ones(m - m0, dtype=np.intp)])
    return X, y


def spirals(m_per_class=100, classes=3, noise=0.2, seed=0):
    """``classes`` interleaved spiral arms (the classic CS231n data): ``X (2, m)``, ``y (m,)``."""
    rng = np.random.default_rng(seed)
    X = np.zeros((2, m_per_class * classes))
    y = np.zeros(m_per_class * classes, dtype=np.intp)
    for k in range(classes):
        idx = slice(m_per_class * k, m_per_class * (k + 1))
        r = np.linspace(0.0, 1.0, m_per_class)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, m_per_class) + noise * rng.standard_normal(
            m_per_class
        )
        X[:, idx] = np.vstack([r * np.sin(t), r * np.cos(t)])
        y[idx] = k
    return X, y


def digits():
    """The 8x8 handwritten digits bundled with scikit-learn (1797 images, classes 0-9).

    Returns ``X (64, 1797)`` with pixel values scaled to [0, 1], ``y (1797,)`` and the images
    ``(1797, 8, 8)`` for plotting.
    """
    from sklearn.datasets import load_digits

    data = load_digits()
    X = (data.data.T / 16.0).astype(np.float64)
    return X, data.target.astype(np.intp), data.images


def train_test_split(X, y, test_fraction=0.2, seed=0):
    """Shuffle the columns with ``seed`` and split: ``X_train, X_test, y_train, y_test``.

    ``y`` may be labels ``(m,)`` or columns ``(k, m)``.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    m = X.shape[1]
    if y.shape[-1] != m:
        raise ValueError(f"shape mismatch: X has {m} columns (examples) but y has shape {y.shape}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    order = np.random.default_rng(seed).permutation(m)
    n_test = int(round(m * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return X[:, train], X[:, test], y[..., train], y[..., test]
