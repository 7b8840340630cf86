r"""The dense layer: :math:`Z^{[l]} = W^{[l]} A^{[l-1]} + b^{[l]}`, :math:`A^{[l]} = g(Z^{[l]})`.

Shapes, with examples as columns: ``W`` is ``(n[l], n[l-1])``, ``b`` is ``(n[l], 1)``,
``A_prev`` is ``(n[l-1], m)``, ``Z`` and ``A`` are ``(n[l], m)``. (A maxout layer with ``k``
pieces computes ``k * n[l]`` rows of ``Z`` and keeps the maximum of each group of ``k``.)
"""

import numpy as np

from nnlib.activations import get_activation
from nnlib.initializers import get_initializer

#: The initializer a layer gets when none is named: He for the ReLU family, Xavier otherwise.
DEFAULT_INIT = {"relu": "he", "leaky_relu": "he", "elu": "he", "maxout": "he"}


def dense_forward(W, b, A_prev):
    r""":math:`Z = W A_{prev} + b`, with ``b`` broadcast over the ``m`` columns.

    Raises a ValueError naming both shapes when ``W`` and ``A_prev`` do not fit together.
    """
    _check_fits(W, A_prev)
    Z = W @ A_prev
    Z += b
    return Z


def _check_fits(W, A_prev):
    if np.ndim(A_prev) != 2 or W.shape[1] != A_prev.shape[0]:
        raise ValueError(
            f"shape mismatch: W has shape {W.shape}, so A_prev must have {W.shape[1]} rows "
            f"(one per input feature, examples as columns), but A_prev has shape "
            f"{np.shape(A_prev)}"
        )


def dense_backward(dZ, W, A_prev, need_dA_prev=True):
    r"""Gradients of the loss from :math:`dZ = \partial J/\partial Z`:

    .. math::
        dW = dZ\, A_{prev}^\top, \qquad db = \textstyle\sum_{\text{columns}} dZ, \qquad
        dA_{prev} = W^\top dZ

    (the :math:`1/m` of the mean loss is already inside ``dZ``).
    """
    dW = dZ @ A_prev.T
    db = dZ.sum(axis=1, keepdims=True)
    dA_prev = W.T @ dZ if need_dA_prev else None
    return dW, db, dA_prev


class Dense:
    """A fully connected layer of ``n_out`` units fed by ``n_in`` inputs.

    ``forward`` keeps ``A_prev``, ``Z`` and ``A`` (the cache) for ``backward``, which stores
    ``dW`` and ``db`` on the layer and returns ``dA_prev`` for the layer before.
    """

    def __init__(
        self, n_in, n_out, activation="relu", init=None, rng=None, dtype=np.float64, **params
    ):
        for name, n in (("n_in", n_in), ("n_out", n_out)):
            if not (isinstance(n, int | np.integer) and n >= 1):
                raise ValueError(f"{name} must be a positive integer, got {n!r}")
        self.activation = get_activation(activation, **params)
        init = init or DEFAULT_INIT.get(self.activation.name, "xavier_uniform")
        rows = n_out * self.activation.pieces
        self.W = np.asarray(get_initializer(init)(rows, n_in, rng=rng, dtype=dtype), dtype=dtype)
        self.b = np.zeros((rows, 1), dtype=dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.cache = None
        self._buffers = {}  # see _buffer

    @property
    def n_in(self):
        return self.W.shape[1]

    @property
    def n_out(self):
        return self.W.shape[0] // self.activation.pieces

    def forward(self, A_prev, reuse_buffers=False):
        """``A = g(W A_prev + b)``; keeps ``(A_prev, Z, A)`` as the cache for ``backward``.

        ``reuse_buffers=True`` (used by :meth:`nnlib.network.Network.fit`) writes ``Z`` and
        ``A`` into arrays this layer keeps from one call to the next (one set per batch size)
        instead of new ones, so the result is overwritten by the next call: see
        :meth:`_buffer`.
        """
        if not reuse_buffers:  # the plain path: every call makes new arrays
            Z = dense_forward(self.W, self.b, A_prev)
            A = self.activation.forward(Z)
        else:
            _check_fits(self.W, A_prev)
            m = A_prev.shape[1]
            Z = np.matmul(self.W, A_prev, out=self._buffer("Z", (self.W.shape[0], m)))
            Z += self.b
            A = self.activation.forward(Z, out=self._buffer("A", (self.n_out, m)))
        self.cache = (A_prev, Z, A)
        return A

    def backward(self, dA, need_dA_prev=True, reuse_buffers=False):
        """From ``dA`` (gradient with respect to this layer's output) to ``dA_prev``."""
        A_prev, Z, A = self._cache()
        out = self._buffer("dZ", Z.shape) if reuse_buffers else None
        dZ = self.activation.backward(dA, Z, A, out=out)
        return self.backward_from_dZ(dZ, need_dA_prev, reuse_buffers)

    def backward_from_dZ(self, dZ, need_dA_prev=True, reuse_buffers=False):
        """As ``backward``, starting from ``dZ`` (used for the fused output gradients)."""
        A_prev = self._cache()[0]
        if not reuse_buffers:  # the plain path
            self.dW, self.db, dA_prev = dense_backward(dZ, self.W, A_prev, need_dA_prev)
            return dA_prev
        # The same formulas, written into arrays this layer keeps (see _buffer).
        self.dW = np.matmul(dZ, A_prev.T, out=self._buffer("dW", self.W.shape))
        # db, the sum of the columns of dZ, as the product dZ @ (a column of m ones): the same
        # numbers, and for these sizes NumPy computes the product faster than the sum.
        ones = self._buffer("ones", (dZ.shape[1], 1), fill=1)
        self.db = np.matmul(dZ, ones, out=self._buffer("db", self.b.shape))
        if not need_dA_prev:
            return None
        return np.matmul(self.W.T, dZ, out=self._buffer("dA_prev", A_prev.shape))

    def _buffer(self, name, shape, fill=None):
        """An array of ``shape`` that this layer keeps and reuses from one batch to the next.

        Why: a training step of a big layer makes arrays of megabytes (``Z``, ``dW``, ...).
        Asking the operating system for fresh memory at every step costs page faults, which
        can take longer than the arithmetic itself. Writing into the same arrays each time
        (NumPy's ``out=`` argument) avoids that. The price: an array returned with
        ``reuse_buffers=True`` is overwritten by the next call with the same batch size.
        """
        key = (name, shape)
        buf = self._buffers.get(key)
        if buf is None or buf.dtype != self.W.dtype:
            buf = self._buffers[key] = np.empty(shape, dtype=self.W.dtype)
            if fill is not None:
                buf.fill(fill)
        return buf

    def _cache(self):
        if self.cache is None:
            raise ValueError("backward called before forward: this layer has no cache yet")
        return self.cache

    def __repr__(self):
        return f"Dense({self.n_in} -> {self.n_out}, {self.activation!r})"
