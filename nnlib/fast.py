r"""The fast path of training: the same formulas as the plain path, with less overhead.

:meth:`nnlib.network.Network.train_step` (and so ``fit``) runs one training step here. It computes
exactly what ``Network.forward``, ``Network.backward`` and ``optimizer.step`` compute, by calling
the same functions (:func:`~nnlib.layers.dense_forward`, :func:`~nnlib.layers.dense_backward`,
``layer.activation.forward``/``backward`` from the tables, :func:`~nnlib.losses.output_gradient`);
``tests/test_fast.py`` checks that both paths give the same numbers. Two things differ:

- **Reused arrays.** ``Z``, ``dZ`` of the output, ``dW``, ``db`` and ``dA_prev`` are written
  (NumPy's ``out=``) into arrays kept from one step to the next, one set per batch size. A step of
  a big layer makes arrays of megabytes; asking the operating system for fresh memory at every
  step costs page faults that can take as long as the arithmetic. The price: the ``A`` that a
  step returns is overwritten by the next step (copy it to keep it).
- **One flat vector for all the parameters.** Every ``W`` and ``b`` of the network is a view into
  one vector (:meth:`~nnlib.network.Network.flat_parameters`), and every gradient a view into
  another, so the optimizer updates everything with a dozen NumPy calls instead of a dozen per
  array (for small layers the calls cost more than the arithmetic). An optimizer that declares
  ``elementwise = True`` (every nnlib optimizer: each works entry by entry, so the result is the
  same as parameter by parameter) receives ``{"all": parameters}`` and ``{"dall": gradients}``
  and keeps its state under ``"all"``; any other gets the parameters by name.
"""

import numpy as np

from nnlib.layers import dense_backward, dense_forward
from nnlib.losses import output_gradient


class Workspace:
    """The arrays one network reuses from one training step to the next."""

    def __init__(self):
        self.arrays = {}
        self.flat_grads = None
        self.grads = None  # per layer: (dW, db), views into flat_grads

    def array(self, name, shape, dtype):
        """An array of ``shape`` kept under ``name`` (made on first use, or if shape changes)."""
        key = (name, shape)
        arr = self.arrays.get(key)
        if arr is None or arr.dtype != dtype:
            arr = self.arrays[key] = np.empty(shape, dtype=dtype)
        return arr

    def gradient_views(self, layers, flat_params):
        """``[(dW, db), ...]``: views into one flat gradient vector shaped like the parameters."""
        if (
            self.flat_grads is None
            or self.flat_grads.shape != flat_params.shape
            or (self.flat_grads.dtype != flat_params.dtype)
        ):
            self.flat_grads = np.zeros_like(flat_params)
            self.grads, start = [], 0
            for layer in layers:
                views = []
                for P in (layer.W, layer.b):
                    views.append(self.flat_grads[start : start + P.size].reshape(P.shape))
                    start += P.size
                self.grads.append(tuple(views))
        return self.grads


def train_step(network, X, Y, optimizer, workspace):
    """Forward pass, backward pass and update on ``(X, Y)``, already checked; returns ``A``."""
    layers, dtype = network.layers, network.dtype
    flat_params = network.flat_parameters()
    grads = workspace.gradient_views(layers, flat_params)
    m = X.shape[1]

    # forward pass: Z = W A_prev + b, A = g(Z), keeping (A_prev, Z, A) per layer
    caches, A = [], X
    for l, layer in enumerate(layers):
        Z_out = workspace.array(f"Z{l}", (layer.W.shape[0], m), dtype)
        Z = dense_forward(layer.W, layer.b, A, out=Z_out)
        A_prev, A = A, layer.activation.forward(Z)
        caches.append((A_prev, Z, A))

    # backward pass, from dZ of the output layer
    L = len(layers)
    A_prev, Z, A = caches[-1]
    dZ = output_gradient(
        network.loss_name, layers[-1].activation, Y, Z, A, out=workspace.array("dZ", A.shape, dtype)
    )
    dA = None
    for l in range(L - 1, -1, -1):
        A_prev, Z, A = caches[l]
        if l < L - 1:  # dZ = dA * g'(Z), or the Jacobian product (softmax, maxout)
            dZ = layers[l].activation.backward(dA, Z, A)
        need_dA_prev = l > 0
        out = (*grads[l], workspace.array(f"dA{l}", A_prev.shape, dtype) if need_dA_prev else None)
        _, _, dA = dense_backward(dZ, layers[l].W, A_prev, need_dA_prev, out=out)

    if optimizer.elementwise:  # every parameter at once
        optimizer.step({"all": flat_params}, {"dall": workspace.flat_grads})
    else:  # by name, "W1" with "dW1", ...
        named = {}
        for l, (dW, db) in enumerate(grads, start=1):
            named[f"dW{l}"], named[f"db{l}"] = dW, db
        optimizer.step(network.parameters(), named)
    return caches[-1][2]
