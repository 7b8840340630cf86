r"""Activation functions and their derivatives, side by side.

Every function takes ``Z`` (any shape; in a network ``(n[l], m)``, one column per example) and
returns an array of the same shape, except maxout, which groups rows. Each is found by name in
:data:`ACTIVATIONS` and :data:`DERIVATIVES`, and :func:`get_activation` turns a name (plus a
parameter such as ``alpha``) into an :class:`Activation` object that a layer uses for its forward
and backward pass.
"""

import numpy as np

from nnlib._checks import check_finite, check_positive

# ---------------------------------------------------------------------------------------------
# The functions g(Z) and their derivatives g'(Z), element-wise
# ---------------------------------------------------------------------------------------------


def step(Z):
    r"""Heaviside step: :math:`g(z) = 1` if :math:`z \ge 0`, else :math:`0`."""
    return (np.asarray(Z) >= 0).astype(np.result_type(Z, np.float32))


def step_derivative(Z):
    r""":math:`g'(z) = 0` for :math:`z \ne 0` (undefined at 0): no signal for gradient descent.

    Returned as zeros so it can be plotted; a network refuses to train through a step layer.
    """
    return np.zeros_like(Z, dtype=np.result_type(Z, np.float32))


def linear(Z):
    r"""Identity: :math:`g(z) = z`."""
    return np.asarray(Z) * 1


def linear_derivative(Z):
    r""":math:`g'(z) = 1`."""
    return np.ones_like(Z, dtype=np.result_type(Z, np.float32))


def sigmoid(Z):
    r"""Logistic sigmoid :math:`\sigma(z) = \dfrac{1}{1 + e^{-z}}`, range :math:`(0, 1)`.

    Computed as :math:`e^{z}/(1+e^{z})` for negative ``z`` so that no exponential overflows.
    """
    Z = np.asarray(Z)
    E = np.exp(-np.abs(Z))  # in (0, 1]: never overflows
    return np.where(Z >= 0, 1 / (1 + E), E / (1 + E))


def sigmoid_derivative(Z):
    r""":math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z))`, at most 1/4 (at :math:`z = 0`)."""
    S = sigmoid(Z)
    return S * (1 - S)


def tanh(Z):
    r"""Hyperbolic tangent :math:`\tanh z = \dfrac{e^{z} - e^{-z}}{e^{z} + e^{-z}}`, range
    :math:`(-1, 1)`; :math:`\tanh z = 2\sigma(2z) - 1`."""
    return np.tanh(Z)


def tanh_derivative(Z):
    r""":math:`\tanh'(z) = 1 - \tanh^2 z`, at most 1 (at :math:`z = 0`)."""
    return 1 - np.tanh(Z) ** 2


def relu(Z):
    r"""Rectified linear unit :math:`g(z) = \max(0, z)`."""
    return np.maximum(Z, 0)


def relu_derivative(Z):
    r""":math:`g'(z) = 1` for :math:`z > 0`, else 0 (we take 0 at :math:`z = 0`)."""
    return (np.asarray(Z) > 0).astype(np.result_type(Z, np.float32))


def leaky_relu(Z, alpha=0.01):
    r"""Leaky ReLU: :math:`g(z) = z` for :math:`z > 0`, else :math:`\alpha z`."""
    Z = np.asarray(Z)
    return np.where(Z > 0, Z, alpha * Z)


def leaky_relu_derivative(Z, alpha=0.01):
    r""":math:`g'(z) = 1` for :math:`z > 0`, else :math:`\alpha`."""
    Z = np.asarray(Z)
    return np.where(Z > 0, 1.0, alpha).astype(np.result_type(Z, np.float32))


def elu(Z, alpha=1.0):
    r"""Exponential linear unit: :math:`g(z) = z` for :math:`z > 0`, else
    :math:`\alpha (e^{z} - 1)` (Clevert et al., 2015)."""
    Z = np.asarray(Z)
    return np.where(Z > 0, Z, alpha * np.expm1(np.minimum(Z, 0)))


def elu_derivative(Z, alpha=1.0):
    r""":math:`g'(z) = 1` for :math:`z > 0`, else :math:`\alpha e^{z}`."""
    Z = np.asarray(Z)
    return np.where(Z > 0, 1.0, alpha * np.exp(np.minimum(Z, 0))).astype(
        np.result_type(Z, np.float32)
    )


def softmax(Z):
    r"""Softmax over each column: :math:`a_i = \dfrac{e^{z_i}}{\sum_j e^{z_j}}`.

    The column maximum is subtracted first (softmax does not change when a constant is added to
    every :math:`z_i`), so no exponential overflows. Columns of ``A`` sum to 1.
    """
    Z = np.asarray(Z)
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def softmax_derivative(Z):
    r"""The diagonal of the softmax Jacobian, :math:`\partial a_i / \partial z_i = a_i(1-a_i)`.

    Only the diagonal: softmax mixes the entries of a column, so backpropagation needs the whole
    Jacobian :math:`J_{ij} = a_i(\delta_{ij} - a_j)`; use :func:`softmax_backward` for that.
    """
    A = softmax(Z)
    return A * (1 - A)


def softmax_backward(dA, A):
    r"""The product of the softmax Jacobian with an upstream gradient, column by column:

    .. math:: dZ = J^\top dA = A \odot \left(dA - \textstyle\sum_i A_i\, dA_i\right)

    since :math:`J_{ij} = a_i(\delta_{ij} - a_j)` is symmetric. ``A`` is ``softmax(Z)``.
    """
    return A * (dA - np.sum(A * dA, axis=0, keepdims=True))


def maxout(Z, k=2):
    r"""Maxout with ``k`` linear pieces (Goodfellow et al., 2013): the rows of ``Z`` form
    consecutive groups of ``k`` and each group gives its maximum,

    .. math:: g(z)_i = \max_{j = 1..k} z_{(i-1)k + j}

    so ``Z`` of shape ``(n * k, m)`` gives ``(n, m)``. With the ``k`` rows of a group computed by a
    dense layer, each output is the maximum of ``k`` lines ``w_j^T x + b_j``.
    """
    Z = np.asarray(Z)
    if Z.shape[0] % k:
        raise ValueError(f"maxout: Z has {Z.shape[0]} rows, which is not a multiple of k={k}")
    return Z.reshape(Z.shape[0] // k, k, *Z.shape[1:]).max(axis=1)


def maxout_derivative(Z, k=2):
    r""":math:`\partial g_i / \partial z_r = 1` for the row :math:`r` that is the maximum of its
    group, else 0; shape of ``Z`` (ties go to the first piece)."""
    Z = np.asarray(Z)
    if Z.shape[0] % k:
        raise ValueError(f"maxout: Z has {Z.shape[0]} rows, which is not a multiple of k={k}")
    G = Z.reshape(Z.shape[0] // k, k, *Z.shape[1:])
    winner = G.argmax(axis=1)
    mask = np.zeros_like(G, dtype=np.result_type(Z, np.float32))
    np.put_along_axis(mask, np.expand_dims(winner, 1), 1, axis=1)
    return mask.reshape(Z.shape)


# ---------------------------------------------------------------------------------------------
# One table, found by name (as in scikit-learn's neural_network/_base.py)
# ---------------------------------------------------------------------------------------------

ACTIVATIONS = {
    "step": step,
    "linear": linear,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "maxout": maxout,
    "softmax": softmax,
}

DERIVATIVES = {
    "step": step_derivative,
    "linear": linear_derivative,
    "sigmoid": sigmoid_derivative,
    "tanh": tanh_derivative,
    "relu": relu_derivative,
    "leaky_relu": leaky_relu_derivative,
    "elu": elu_derivative,
    "maxout": maxout_derivative,
    "softmax": softmax_derivative,
}

#: The parameter each activation takes, with its default.
PARAMETERS = {"leaky_relu": {"alpha": 0.01}, "elu": {"alpha": 1.0}, "maxout": {"k": 2}}


class Activation:
    """An activation chosen by name, with its parameter, as a layer uses it.

    ``forward(Z)`` gives ``A = g(Z)``; ``backward(dA, Z, A)`` gives ``dZ``, the gradient of the
    loss with respect to ``Z``: ``dA * g'(Z)`` for element-wise functions, the Jacobian product
    for softmax, the routing to the winning piece for maxout.
    """

    def __init__(self, name, **params):
        if name not in ACTIVATIONS:
            raise ValueError(
                f"activation: unknown name {name!r}; expected one of {sorted(ACTIVATIONS)}"
            )
        allowed = PARAMETERS.get(name, {})
        for key in params:
            if key not in allowed:
                raise ValueError(
                    f"activation {name!r} takes no parameter {key!r}"
                    + (f"; it takes {sorted(allowed)}" if allowed else "")
                )
        self.name = name
        self.params = {**allowed, **params}
        if name == "maxout":
            k = self.params["k"]
            if not (isinstance(k, int | np.integer) and k >= 1):
                raise ValueError(f"maxout: k must be a positive integer, got {k!r}")
        elif "alpha" in self.params:
            check_finite("alpha", self.params["alpha"])
            if name == "elu":
                check_positive("alpha", self.params["alpha"])
        self.function = ACTIVATIONS[name]
        self.derivative_function = DERIVATIVES[name]

    @property
    def pieces(self):
        """How many rows of Z make one output row (``k`` for maxout, else 1)."""
        return self.params["k"] if self.name == "maxout" else 1

    def __call__(self, Z):
        return self.forward(Z)

    def forward(self, Z, out=None):
        """``A = g(Z)``; with ``out``, written into that array (ReLU, tanh, sigmoid without a
        temporary array)."""
        if out is None:
            return self.function(Z, **self.params)
        if self.name == "relu":
            return np.maximum(Z, 0, out=out)
        if self.name == "tanh":
            return np.tanh(Z, out=out)
        out[...] = self.function(Z, **self.params)
        return out

    def derivative(self, Z):
        return self.derivative_function(Z, **self.params)

    def backward(self, dA, Z, A, out=None):
        """``dZ`` from ``dA``; with ``out``, written into that array."""
        if self.name == "step":
            raise ValueError(
                "activation 'step' has no usable gradient (its derivative is 0 wherever it "
                "exists), so a network cannot be trained through it by gradient descent; "
                "use 'sigmoid' or another differentiable activation"
            )
        if self.name == "softmax":
            dZ = softmax_backward(dA, A)
        elif self.name == "maxout":
            dZ = self.derivative(Z) * np.repeat(dA, self.params["k"], axis=0)
        elif self.name == "relu":  # dA * g'(Z) with g'(Z) = (Z > 0), without a float mask
            return np.multiply(dA, Z > 0, out=out)
        elif self.name == "tanh" and A is not None:  # g'(Z) = 1 - A^2, A = tanh(Z) kept
            return np.multiply(dA, 1 - A * A, out=out)
        else:
            dZ = dA * self.derivative(Z)
        if out is None:
            return dZ
        out[...] = dZ
        return out

    def __repr__(self):
        extra = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Activation({self.name!r}{extra})"


def get_activation(activation, **params):
    """An :class:`Activation` from a name such as ``"relu"`` (or an Activation, returned as is)."""
    if isinstance(activation, Activation):
        return activation
    if not isinstance(activation, str):
        raise ValueError(
            f"activation: expected a name such as 'relu' or an Activation, got {activation!r}"
        )
    return Activation(activation, **params)
