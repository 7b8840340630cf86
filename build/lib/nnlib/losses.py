r"""Loss functions and their gradients.

Convention: ``Y`` holds the targets and ``A`` the network's output, one column per example
(``(n_out, m)``). Every loss is the **mean over the m examples** of a per-example loss, and every
``*_gradient`` returns :math:`\partial J / \partial A`, the gradient of that mean (so it carries the
factor :math:`1/m`). The fused gradients return :math:`\partial J / \partial Z` for the output
layer's ``Z`` directly.

Probabilities are clipped to :math:`[\varepsilon, 1-\varepsilon]` before a logarithm, so a
confident wrong answer costs a large but finite loss. The ``*_from_logits`` forms take ``Z``
instead of ``A`` and are exact and stable for any finite ``Z``.
"""

import numpy as np

from nnlib._checks import check_array, check_same_shape

EPSILON = 1e-12


def _check(Y, A, name_a="A"):
    Y = check_array("Y", Y)
    A = check_array(name_a, A)
    check_same_shape("Y", Y, name_a, A)
    return Y, A


def _clip(A):
    eps = EPSILON
    if A.dtype.kind == "f" and A.dtype != np.float64:  # float32: 1 - 1e-12 would round to 1
        eps = max(EPSILON, float(np.finfo(A.dtype).eps))
    return np.clip(A, eps, 1 - eps)


def mse(Y, A, check=True):
    r"""Mean squared error over every entry: :math:`J = \frac{1}{m\,n}\sum (y - a)^2`
    (with one output, :math:`\frac{1}{m}\sum_i (y^{(i)} - a^{(i)})^2`).

    Like every loss, ``check=False`` skips the checks of the inputs (for
    :meth:`nnlib.network.Network.fit`, whose inputs are already checked)."""
    if check:
        Y, A = _check(Y, A)
    return float(np.mean((A - Y) ** 2))


def mse_gradient(Y, A):
    r""":math:`\partial J / \partial A = \frac{2}{m\,n}(A - Y)`."""
    Y, A = _check(Y, A)
    return 2 * (A - Y) / A.size


def mae(Y, A, check=True):
    r"""Mean absolute error: :math:`J = \frac{1}{m\,n}\sum |y - a|`."""
    if check:
        Y, A = _check(Y, A)
    return float(np.mean(np.abs(A - Y)))


def mae_gradient(Y, A):
    r""":math:`\partial J / \partial A = \frac{1}{m\,n}\operatorname{sign}(A - Y)` (0 where
    :math:`a = y`, where the absolute value has no derivative)."""
    Y, A = _check(Y, A)
    return np.sign(A - Y) / A.size


def binary_cross_entropy(Y, A, check=True):
    r"""Binary cross-entropy for probabilities ``A`` of the class 1:

    .. math:: J = -\frac{1}{m}\sum_i \left[y\log a + (1-y)\log(1-a)\right]
    """
    if check:
        Y, A = _check(Y, A)
    A = _clip(A)
    return float(-np.sum(Y * np.log(A) + (1 - Y) * np.log1p(-A)) / A.shape[1])


def binary_cross_entropy_gradient(Y, A):
    r""":math:`\partial J / \partial A = \frac{1}{m}\left(-\frac{y}{a} + \frac{1-y}{1-a}\right)`."""
    Y, A = _check(Y, A)
    A = _clip(A)
    return (-Y / A + (1 - Y) / (1 - A)) / A.shape[1]


def binary_cross_entropy_from_logits(Y, Z):
    r"""Binary cross-entropy of :math:`a = \sigma(z)`, computed from ``Z``:
    :math:`-[y\log\sigma(z) + (1-y)\log(1-\sigma(z))] = \log(1 + e^{z}) - y z`, evaluated with
    ``logaddexp`` so it stays finite for any ``Z``."""
    Y, Z = _check(Y, Z, "Z")
    return float(np.sum(np.logaddexp(0, Z) - Y * Z) / Z.shape[1])


def sigmoid_binary_cross_entropy_gradient(Y, A):
    r"""Fused gradient of BCE after a sigmoid, with respect to ``Z``:
    :math:`\partial J/\partial Z = \frac{1}{m}(A - Y)` (the factors :math:`a(1-a)` cancel)."""
    Y, A = _check(Y, A)
    return (A - Y) / A.shape[1]


def categorical_cross_entropy(Y, A, check=True):
    r"""Categorical cross-entropy with one-hot columns ``Y`` and probability columns ``A``:

    .. math:: J = -\frac{1}{m}\sum_i \sum_{j=1}^{k} y_j^{(i)} \log a_j^{(i)}
    """
    if check:
        Y, A = _check(Y, A)
    return float(-np.sum(Y * np.log(_clip(A))) / A.shape[1])


def categorical_cross_entropy_gradient(Y, A):
    r""":math:`\partial J / \partial A = -\frac{1}{m}\,\frac{Y}{A}`."""
    Y, A = _check(Y, A)
    return -Y / _clip(A) / A.shape[1]


def categorical_cross_entropy_from_logits(Y, Z):
    r"""Categorical cross-entropy of :math:`A = \operatorname{softmax}(Z)`, from ``Z``:
    :math:`-\sum_j y_j z_j + \log\sum_j e^{z_j}` per example (log-sum-exp with the maximum
    subtracted, finite for any ``Z``)."""
    Y, Z = _check(Y, Z, "Z")
    top = Z.max(axis=0, keepdims=True)
    log_sum = top + np.log(np.sum(np.exp(Z - top), axis=0, keepdims=True))
    return float(np.sum(Y * (log_sum - Z)) / Z.shape[1])


def softmax_cross_entropy_gradient(Y, A):
    r"""Fused gradient of categorical cross-entropy after a softmax, with respect to ``Z``:
    :math:`\partial J/\partial Z = \frac{1}{m}(A - Y)`."""
    Y, A = _check(Y, A)
    return (A - Y) / A.shape[1]


def _check_labels(y, A):
    A = check_array("A", A)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[0] == 1:
        y = y[0]
    if y.ndim != 1 or y.shape[0] != A.shape[1]:
        raise ValueError(
            f"shape mismatch: y must hold one integer label per column of A, i.e. shape "
            f"({A.shape[1]},), got {np.shape(y)} for A of shape {A.shape}"
        )
    if y.dtype.kind not in "iu" and not (
        y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y))
    ):
        raise ValueError(f"y must hold integer class labels, got dtype {y.dtype}")
    y = y.astype(np.intp)
    if y.size and (y.min() < 0 or y.max() >= A.shape[0]):
        raise ValueError(
            f"y holds labels from {y.min()} to {y.max()}; expected 0..{A.shape[0] - 1} "
            f"(one row of A per class)"
        )
    return y, A


def sparse_categorical_cross_entropy(y, A, check=True):
    r"""Categorical cross-entropy with integer labels ``y`` (shape ``(m,)``) instead of one-hot
    columns: :math:`J = -\frac{1}{m}\sum_i \log a^{(i)}_{y^{(i)}}`. Same value as
    :func:`categorical_cross_entropy` with ``one_hot(y)``, without building the one-hot matrix."""
    if check:
        y, A = _check_labels(y, A)
    return float(-np.sum(np.log(_clip(A[y, np.arange(A.shape[1])]))) / A.shape[1])


def sparse_categorical_cross_entropy_gradient(y, A):
    r""":math:`\partial J/\partial a_j^{(i)} = -\frac{1}{m\,a_j^{(i)}}` for :math:`j = y^{(i)}`,
    else 0."""
    y, A = _check_labels(y, A)
    cols = np.arange(A.shape[1])
    dA = np.zeros_like(A)
    dA[y, cols] = -1 / _clip(A[y, cols]) / A.shape[1]
    return dA


def one_hot(y, k=None):
    """Integer labels ``(m,)`` to one-hot columns ``(k, m)``."""
    y = np.asarray(y)
    if y.dtype.kind not in "iu" and not (
        y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y))
    ):
        raise ValueError(f"y must hold integer class labels, got {y.dtype} values {y[:5]!r}")
    y = y.astype(np.intp)
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of labels, got shape {y.shape}")
    k = int(y.max()) + 1 if k is None else k
    if y.size and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"y holds labels outside 0..{k - 1}")
    Y = np.zeros((k, y.size))
    Y[y, np.arange(y.size)] = 1
    return Y


LOSSES = {
    "mse": mse,
    "mae": mae,
    "binary_cross_entropy": binary_cross_entropy,
    "categorical_cross_entropy": categorical_cross_entropy,
    "sparse_categorical_cross_entropy": sparse_categorical_cross_entropy,
}

GRADIENTS = {
    "mse": mse_gradient,
    "mae": mae_gradient,
    "binary_cross_entropy": binary_cross_entropy_gradient,
    "categorical_cross_entropy": categorical_cross_entropy_gradient,
    "sparse_categorical_cross_entropy": sparse_categorical_cross_entropy_gradient,
}

#: Output activation + loss pairs whose gradient with respect to Z is (A - Y) / m.
FUSED = {
    ("sigmoid", "binary_cross_entropy"),
    ("softmax", "categorical_cross_entropy"),
    ("softmax", "sparse_categorical_cross_entropy"),
}


def check_loss_name(name):
    if name not in LOSSES:
        raise ValueError(f"loss: unknown name {name!r}; expected one of {sorted(LOSSES)}")
    return name
