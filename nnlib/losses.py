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

from nnlib._checks import check_array, check_examples, check_finite, check_same_shape

EPSILON = 1e-12


def _check(Y, A, name_a="A", probabilities=False):
    """Same shapes, finite, at least one example; with ``probabilities``, both in [0, 1]."""
    Y = check_array("Y", Y)
    A = check_array(name_a, A)
    check_same_shape("Y", Y, name_a, A)
    check_examples(name_a, A)
    if probabilities:
        _check_unit_range("Y", Y, "targets: labels 0/1 or probabilities")
        _check_unit_range(name_a, A, "probabilities, e.g. the output of a sigmoid or softmax")
    return Y, A


def _check_unit_range(name, A, what):
    if A.size and (A.min() < 0 or A.max() > 1):
        raise ValueError(
            f"{name} must hold values in [0, 1] ({what}), got values from {A.min()} to {A.max()}"
        )


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
        Y, A = _check(Y, A, probabilities=True)
    A = _clip(A)
    return float(-np.sum(Y * np.log(A) + (1 - Y) * np.log1p(-A)) / A.shape[1])


def binary_cross_entropy_gradient(Y, A):
    r""":math:`\partial J / \partial A = \frac{1}{m}\left(-\frac{y}{a} + \frac{1-y}{1-a}\right)`."""
    Y, A = _check(Y, A, probabilities=True)
    A = _clip(A)
    return (-Y / A + (1 - Y) / (1 - A)) / A.shape[1]


def binary_cross_entropy_from_logits(Y, Z):
    r"""Binary cross-entropy of :math:`a = \sigma(z)`, computed from ``Z``:
    :math:`-[y\log\sigma(z) + (1-y)\log(1-\sigma(z))] = \log(1 + e^{z}) - y z`, evaluated with
    ``logaddexp`` so it stays finite for any ``Z``."""
    Y, Z = _check(Y, Z, "Z")
    _check_unit_range("Y", Y, "targets: labels 0/1 or probabilities")
    return float(np.sum(np.logaddexp(0, Z) - Y * Z) / Z.shape[1])


def sigmoid_binary_cross_entropy_gradient(Y, A):
    r"""Fused gradient of BCE after a sigmoid, with respect to ``Z``:
    :math:`\partial J/\partial Z = \frac{1}{m}(A - Y)` (the factors :math:`a(1-a)` cancel)."""
    Y, A = _check(Y, A, probabilities=True)
    return output_delta("binary_cross_entropy", Y, A)


def categorical_cross_entropy(Y, A, check=True):
    r"""Categorical cross-entropy with one-hot columns ``Y`` and probability columns ``A``:

    .. math:: J = -\frac{1}{m}\sum_i \sum_{j=1}^{k} y_j^{(i)} \log a_j^{(i)}
    """
    if check:
        Y, A = _check(Y, A, probabilities=True)
    return float(-np.sum(Y * np.log(_clip(A))) / A.shape[1])


def categorical_cross_entropy_gradient(Y, A):
    r""":math:`\partial J / \partial A = -\frac{1}{m}\,\frac{Y}{A}`."""
    Y, A = _check(Y, A, probabilities=True)
    return -Y / _clip(A) / A.shape[1]


def categorical_cross_entropy_from_logits(Y, Z):
    r"""Categorical cross-entropy of :math:`A = \operatorname{softmax}(Z)`, from ``Z``:
    :math:`-\sum_j y_j z_j + \log\sum_j e^{z_j}` per example (log-sum-exp with the maximum
    subtracted, finite for any ``Z``)."""
    Y, Z = _check(Y, Z, "Z")
    _check_unit_range("Y", Y, "targets: labels 0/1 or probabilities")
    top = Z.max(axis=0, keepdims=True)
    log_sum = top + np.log(np.sum(np.exp(Z - top), axis=0, keepdims=True))
    return float(np.sum(Y * (log_sum - Z)) / Z.shape[1])


def softmax_cross_entropy_gradient(Y, A):
    r"""Fused gradient of categorical cross-entropy after a softmax, with respect to ``Z``:
    :math:`\partial J/\partial Z = \frac{1}{m}(A - Y)`."""
    Y, A = _check(Y, A, probabilities=True)
    return output_delta("categorical_cross_entropy", Y, A)


def _check_labels(y, A):
    A = check_array("A", A)
    check_examples("A", A)
    _check_unit_range("A", A, "probabilities, e.g. the output of a softmax")
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
    """Integer labels ``(m,)`` to one-hot columns ``(k, m)`` (``k``: the number of classes,
    by default the largest label + 1)."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of labels, got shape {y.shape}")
    if y.size == 0 and k is None:
        raise ValueError("y is empty, so the number of classes is unknown; pass k")
    if (
        y.size
        and y.dtype.kind not in "iu"
        and not (y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)))
    ):
        raise ValueError(f"y must hold integer class labels, got {y.dtype} values {y[:5]!r}")
    y = y.astype(np.intp)
    k = int(y.max()) + 1 if k is None else k
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer (the number of classes), got {k!r}")
    if y.size and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"y holds labels from {y.min()} to {y.max()}; expected 0..{k - 1}")
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


#: The output activation that goes with each loss when none is named (as scikit-learn chooses
#: it): a regression outputs any real number, a probability comes from a sigmoid (one per
#: independent yes/no question) or a softmax (one distribution over the classes).
OUTPUT_ACTIVATION = {
    "mse": "linear",
    "mae": "linear",
    "binary_cross_entropy": "sigmoid",
    "categorical_cross_entropy": "softmax",
    "sparse_categorical_cross_entropy": "softmax",
}

CLASSIFICATION_LOSSES = (
    "binary_cross_entropy",
    "categorical_cross_entropy",
    "sparse_categorical_cross_entropy",
)


def check_output_activation(loss, activation, n_out):
    """Refuse an output activation that cannot produce what the loss measures."""
    if activation == "softmax" and n_out == 1:
        raise ValueError(
            "output: a softmax over one unit is always 1 and learns nothing; use 'sigmoid' "
            "for one yes/no output, or one unit per class with 'softmax'"
        )
    if loss == "binary_cross_entropy" and activation != "sigmoid":
        raise ValueError(
            f"output: binary_cross_entropy needs a probability in (0, 1) for each output unit, "
            f"i.e. output='sigmoid'; got {activation!r}"
        )
    if loss in ("categorical_cross_entropy", "sparse_categorical_cross_entropy") and (
        activation != "softmax"
    ):
        raise ValueError(
            f"output: {loss} needs a probability distribution over the classes, i.e. "
            f"output='softmax'; got {activation!r}"
        )


def output_delta(loss, Y, A, out=None):
    r""":math:`dZ^{[L]} = (A - Y)/m`, the output layer's gradient for the pairs in :data:`FUSED`.

    Why one formula for both pairs: with a sigmoid and binary cross-entropy,
    :math:`\partial J/\partial a = \frac{1}{m}\left(\frac{1-y}{1-a} - \frac{y}{a}\right)` and
    :math:`g'(z) = a(1-a)`; their product is :math:`(a - y)/m`. With a softmax and categorical
    cross-entropy, :math:`dA = -Y/(mA)` and the softmax Jacobian product gives
    :math:`A \odot (dA - \sum_i A_i dA_i) = (A \sum_i Y_i - Y)/m = (A - Y)/m`, since each
    column of ``Y`` sums to 1. Computed directly, it never divides by an ``A`` close to 0.
    For the sparse loss ``Y`` holds labels: subtract 1 at each example's label.
    ``out``: an array to write the result into (the fast path's; see :mod:`nnlib.fast`).
    """
    m = A.shape[1]
    if loss == "sparse_categorical_cross_entropy":
        if out is None:
            dZ = A.copy()
        else:
            dZ = out
            dZ[...] = A
        dZ[np.asarray(Y).reshape(-1), np.arange(m)] -= 1
    else:
        dZ = np.subtract(A, Y, out=out)
    dZ /= m
    return dZ


def output_gradient(loss, activation, Y, Z, A, out=None):
    r""":math:`dZ^{[L]}`, where backpropagation starts: :func:`output_delta` for the pairs in
    :data:`FUSED`, else the loss's :math:`dA^{[L]} = \partial J/\partial A` taken back through
    the output activation (``activation.backward``)."""
    if (activation.name, loss) in FUSED:
        return output_delta(loss, Y, A, out=out)
    return activation.backward(GRADIENTS[loss](Y, A).astype(A.dtype, copy=False), Z, A)


def check_targets(loss, Y, n_out, m, dtype=np.float64):
    """``Y`` checked for the loss and a network of ``n_out`` outputs on ``m`` examples: labels
    ``(m,)`` in ``0..n_out-1`` for the sparse loss, else ``(n_out, m)``, in [0, 1] for the
    cross-entropies (columns summing to 1 for the categorical one)."""
    if loss == "sparse_categorical_cross_entropy":
        y = np.asarray(Y)
        if y.ndim != 1 or y.shape[0] != m:
            raise ValueError(
                f"shape mismatch: Y must hold {m} integer labels, shape ({m},), for X with "
                f"{m} columns; got shape {y.shape}"
            )
        check_finite("Y", y)
        if y.dtype.kind not in "iu" and not np.all(y == np.round(y)):
            raise ValueError(f"Y must hold integer class labels, got {y.dtype} values")
        if y.size and (y.min() < 0 or y.max() >= n_out):
            raise ValueError(
                f"Y holds labels from {y.min()} to {y.max()}; expected 0..{n_out - 1} "
                f"(one output unit per class)"
            )
        return y.astype(np.intp)
    if np.ndim(Y) == 1 and loss == "binary_cross_entropy" and n_out == 1:
        Y = np.reshape(Y, (1, -1))  # labels (m,) of the one output unit
    if np.ndim(Y) == 1 and loss in CLASSIFICATION_LOSSES and n_out > 1:
        raise ValueError(
            f"Y has shape {np.shape(Y)}: {loss} needs one-hot columns of shape "
            f"({n_out}, {m}); use nnlib.one_hot(y) or loss='sparse_categorical_cross_entropy'"
        )
    Y = check_array("Y", Y).astype(dtype, copy=False)
    if Y.shape != (n_out, m):
        raise ValueError(
            f"shape mismatch: Y has shape {Y.shape} but the network outputs ({n_out}, {m}) "
            f"for X with {m} columns"
        )
    if loss in CLASSIFICATION_LOSSES:
        _check_unit_range("Y", Y, f"labels or probabilities for {loss}")
    if loss == "categorical_cross_entropy" and not np.allclose(Y.sum(axis=0), 1, atol=1e-6):
        raise ValueError(
            "Y: each column must sum to 1 for categorical_cross_entropy (one-hot labels or a "
            "probability distribution over the classes)"
        )
    return Y


def check_loss_name(name):
    if name not in LOSSES:
        raise ValueError(f"loss: unknown name {name!r}; expected one of {sorted(LOSSES)}")
    return name
