r"""The model: dense layers in sequence and a loss.

``forward`` computes :math:`A^{[L]}` layer by layer; ``backward`` computes every gradient,
starting from the output layer's :math:`dZ^{[L]}` (:func:`nnlib.losses.output_gradient`) and
going back layer by layer (:meth:`nnlib.layers.Dense.backward`). Training (``fit``) lives in
:mod:`nnlib.training`, accuracy in :mod:`nnlib.metrics`, the fast training step in
:mod:`nnlib.fast`.

Gradients are named after their parameter with a ``d`` in front (``"dW1"`` for ``"W1"``), as in
the course; an optimizer matches ``grads["dW1"]`` to ``params["W1"]``, so the natural loop works::

    opt.step(net.parameters(), net.backward(Y))
"""

import copy

import numpy as np

from nnlib import fast, metrics, training
from nnlib._checks import check_array, check_examples, check_seed
from nnlib.activations import Activation
from nnlib.layers import Dense
from nnlib.losses import (
    CLASSIFICATION_LOSSES,
    LOSSES,
    OUTPUT_ACTIVATION,
    check_loss_name,
    check_output_activation,
    check_targets,
    output_gradient,
)
from nnlib.optimizers import get_optimizer


class Network:
    """A fully connected network.

    Args:
        layer_sizes: ``[n0, n1, ..., nL]``, the number of units per layer, inputs first.
        activations: the hidden layers' activation, a name such as ``"relu"`` (the default) or an
            :class:`~nnlib.activations.Activation`; or a list of one per layer after the input
            (``L`` of them, the output's last). In a network of one layer (``[n0, n1]``) a single
            name is that layer's activation.
        loss: a name from :data:`nnlib.losses.LOSSES`.
        output: the output layer's activation. When not given (and ``activations`` is not a
            list), it is chosen from the loss as scikit-learn does: ``"linear"`` for ``mse`` and
            ``mae``, ``"sigmoid"`` for binary cross-entropy, ``"softmax"`` for the categorical
            ones. Combinations that cannot work (a ReLU output with a cross-entropy, a softmax
            of one unit) are refused.
        init: an initializer name for every layer (default: He for the ReLU family, Xavier
            otherwise).
        seed: seeds the weights (a non-negative integer), so the same seed gives the same network.
        dtype: ``np.float64`` (default) or ``np.float32``.

    Example:
        >>> net = Network([3, 4, 1], ["relu", "sigmoid"], loss="binary_cross_entropy", seed=0)
        >>> [layer.W.shape for layer in net.layers]
        [(4, 3), (1, 4)]
    """

    def __init__(
        self,
        layer_sizes,
        activations=None,
        loss="mse",
        output=None,
        init=None,
        seed=0,
        dtype=np.float64,
    ):
        try:
            layer_sizes = list(layer_sizes)
        except TypeError:
            raise ValueError(
                f"layer_sizes must be a list of layer widths such as [2, 16, 1], got "
                f"{layer_sizes!r}"
            ) from None
        if len(layer_sizes) < 2:
            raise ValueError(
                f"layer_sizes needs at least an input and an output size, got {layer_sizes}"
            )
        self.loss_name = check_loss_name(loss)
        activations = _activation_names(activations, output, len(layer_sizes) - 1, loss)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        rng = np.random.default_rng(check_seed("seed", seed))
        self.layers = [
            Dense(n_in, n_out, activation=g, init=init, rng=rng, dtype=self.dtype)
            for n_in, n_out, g in zip(layer_sizes[:-1], layer_sizes[1:], activations, strict=True)
        ]
        out = self.layers[-1]
        check_output_activation(self.loss_name, out.activation.name, out.n_out)
        self.optimizer = None  # the optimizer the last fit used (see nnlib.training.fit)
        self._flat = None
        self._workspace = fast.Workspace()
        self.flat_parameters()

    # -- parameters ------------------------------------------------------------------------

    def parameters(self):
        """``{"W1": W1, "b1": b1, "W2": ...}``: the arrays themselves (not copies)."""
        params = {}
        for l, layer in enumerate(self.layers, start=1):
            params[f"W{l}"] = layer.W
            params[f"b{l}"] = layer.b
        return params

    def gradients(self):
        """``{"dW1": dW1, "db1": db1, ...}`` from the last :meth:`backward`."""
        grads = {}
        for l, layer in enumerate(self.layers, start=1):
            grads[f"dW{l}"] = layer.dW
            grads[f"db{l}"] = layer.db
        return grads

    def flat_parameters(self):
        """Every ``W`` and ``b`` in one flat vector; each layer's ``W`` and ``b`` are views into it
        (reshaped pieces), so changing one changes the other. Used by :mod:`nnlib.fast` to update
        all the parameters at once. If a ``W`` or ``b`` was replaced by a new array, the vector
        is made again from the current arrays."""
        arrays = [P for layer in self.layers for P in (layer.W, layer.b)]
        if self._flat is None or any(P.base is not self._flat for P in arrays):
            flat = np.concatenate([np.ravel(P) for P in arrays]).astype(self.dtype)
            start = 0
            for layer in self.layers:
                for name in ("W", "b"):
                    shape = getattr(layer, name).shape
                    end = start + int(np.prod(shape))
                    setattr(layer, name, flat[start:end].reshape(shape))
                    start = end
            self._flat = flat
        return self._flat

    def astype(self, dtype):
        """A copy of this network computing in ``dtype`` (``np.float32`` or ``np.float64``)."""
        net = copy.deepcopy(self)
        net.dtype = np.dtype(dtype)
        if net.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {net.dtype}")
        for layer in net.layers:
            layer.W, layer.b = layer.W.astype(dtype), layer.b.astype(dtype)
            layer.dW, layer.db = layer.dW.astype(dtype), layer.db.astype(dtype)
            layer.cache = None
        net._flat, net._workspace = None, fast.Workspace()
        net.flat_parameters()
        return net

    def save_weights(self, path):
        """Save every ``W`` and ``b`` to a ``.npz`` file (``np.savez``), by name."""
        np.savez(path, **self.parameters())

    def load_weights(self, path):
        """Load weights saved by :meth:`save_weights` into this network (same layer sizes)."""
        params = self.parameters()
        with np.load(path) as saved:
            if set(saved.files) != set(params):
                raise ValueError(
                    f"{path}: holds {sorted(saved.files)}, but this network has "
                    f"{sorted(params)}; load weights saved from a network of the same layers"
                )
            for name, P in params.items():
                if saved[name].shape != P.shape:
                    raise ValueError(
                        f"{path}: {name} has shape {saved[name].shape} but this network's "
                        f"{name} has shape {P.shape}"
                    )
            for name, P in params.items():
                P[...] = saved[name]

    # -- forward, loss, backward -----------------------------------------------------------

    def forward(self, X):
        """``A[L]`` for ``X`` of shape ``(n[0], m)``; each layer keeps its cache."""
        A = self.check_inputs(X)
        for layer in self.layers:
            A = layer.forward(A)
        return A

    def loss(self, Y, A=None):
        """The mean loss of the output ``A`` (by default, that of the last forward pass)."""
        if A is None:
            A = self._last_forward()[2]
        return LOSSES[self.loss_name](Y, A)

    def compute_loss(self, X, Y):
        """Forward pass on ``X`` and the mean loss against ``Y``."""
        return self.loss(Y, self.forward(X))

    def backward(self, Y):
        r"""Backpropagation from the last forward pass: ``{"dW1": ..., "db1": ..., ...}``.

        The output layer starts from :math:`dZ^{[L]}` (:func:`nnlib.losses.output_gradient`:
        :math:`(A - Y)/m` for sigmoid + binary cross-entropy and softmax + cross-entropy). Then,
        layer by layer (:meth:`nnlib.layers.Dense.backward`): :math:`dZ = dA \odot g'(Z)`,
        :math:`dW = dZ A_{prev}^\top`, :math:`db = \sum dZ`, :math:`dA_{prev} = W^\top dZ`.
        """
        out = self.layers[-1]
        A_prev, Z, A = self._last_forward()
        Y = check_targets(self.loss_name, Y, out.n_out, A.shape[1], self.dtype)
        self.check_trainable()
        dZ = output_gradient(self.loss_name, out.activation, Y, Z, A)
        dA = out.backward_from_dZ(dZ, need_dA_prev=len(self.layers) > 1)
        for i in range(len(self.layers) - 2, -1, -1):
            dA = self.layers[i].backward(dA, need_dA_prev=i > 0)
        return self.gradients()

    def _last_forward(self):
        """The output layer's cache ``(A_prev, Z, A)`` from the last forward pass."""
        if self.layers[-1].cache is None:
            raise ValueError("no forward pass yet: call forward(X) before loss(Y) or backward(Y)")
        return self.layers[-1].cache

    def check_trainable(self):
        """Refuse to backpropagate through a step layer: its derivative is 0 wherever it exists."""
        for layer in self.layers:
            layer.activation.check_trainable()

    def train_step(self, X, Y, optimizer, check=True):
        """One step of gradient descent on the batch ``(X, Y)``: forward pass, backward pass,
        and the optimizer's update of every ``W`` and ``b``. Returns the output ``A``.

        This is what :meth:`fit` does for each mini-batch, through :mod:`nnlib.fast`: the same
        formulas as ``forward``/``backward``/``optimizer.step``, in arrays reused from one step
        to the next, so the returned ``A`` is overwritten by the next step (copy it to keep it).
        ``check=False`` skips the checks of ``X`` and ``Y`` (``fit`` checks them once).
        """
        if check:
            X = self.check_inputs(X)
            Y = check_targets(self.loss_name, Y, self.layers[-1].n_out, X.shape[1], self.dtype)
            if isinstance(optimizer, str):
                raise ValueError(
                    f"optimizer: train_step needs an Optimizer object, which keeps its state "
                    f"from one step to the next (a name would make a new one at every step), "
                    f"e.g. opt = nnlib.get_optimizer({optimizer!r}) once, then train_step(X, Y, "
                    f"opt)"
                )
            optimizer = get_optimizer(optimizer)
            self.check_trainable()
        return fast.train_step(self, X, Y, optimizer, self._workspace)

    def check_inputs(self, X, name="X"):
        """``X`` checked for this network (finite, 2-D, ``n[0]`` rows, at least one column) and
        in its dtype."""
        X = check_array(name, X)
        check_examples(name, X)
        n_in = self.layers[0].n_in
        if X.shape[0] != n_in:
            hint = (
                f"; {name} looks like examples as rows: pass {name}.T (examples are columns)"
                if X.shape[1] == n_in
                else ""
            )
            raise ValueError(
                f"shape mismatch: {name} has shape {X.shape} but the first layer's W has shape "
                f"{self.layers[0].W.shape}; {name} needs {n_in} rows (one per input feature)"
                f"{hint}"
            )
        return X.astype(self.dtype, copy=False)

    # -- predictions and metrics -----------------------------------------------------------

    def predict(self, X):
        """Classes for classification (see :func:`nnlib.metrics.predicted_classes`: argmax of a
        softmax, ``A >= 0.5`` for sigmoid units), else the output ``A`` itself."""
        A = self.forward(X)
        if self.loss_name in CLASSIFICATION_LOSSES:
            return metrics.predicted_classes(self.loss_name, A)
        return A

    def predict_proba(self, X):
        """The predicted probabilities, ``A[L]``: one column per example (a classifier only)."""
        metrics.check_classification(self.loss_name)
        return self.forward(X)

    def accuracy(self, X, Y, per_label=False):
        """The fraction of examples classified right (see :mod:`nnlib.metrics`); ``Y`` as for
        :meth:`fit` (or integer labels ``(m,)`` for a softmax output). ``per_label``: for several
        sigmoid outputs, the fraction of single answers right instead of whole examples."""
        metrics.check_classification(self.loss_name)
        A = self.forward(X)
        loss, n_out = self.loss_name, self.layers[-1].n_out
        if loss == "categorical_cross_entropy" and np.ndim(Y) == 1:
            loss = "sparse_categorical_cross_entropy"  # labels given instead of one-hot columns
        Y = check_targets(loss, Y, n_out, A.shape[1], self.dtype)
        return metrics.accuracy(
            metrics.predicted_classes(self.loss_name, A),
            metrics.target_classes(self.loss_name, Y),
            per_label=per_label,
        )

    def evaluate(self, X, Y):
        """``{"loss": ..., "accuracy": ...}`` on ``(X, Y)`` (accuracy for classifiers only)."""
        A = self.forward(X)
        Y = check_targets(self.loss_name, Y, self.layers[-1].n_out, A.shape[1], self.dtype)
        result = {"loss": LOSSES[self.loss_name](Y, A)}
        if self.loss_name in CLASSIFICATION_LOSSES:
            predicted = metrics.predicted_classes(self.loss_name, A)
            result["accuracy"] = metrics.accuracy(
                predicted, metrics.target_classes(self.loss_name, Y)
            )
        return result

    # -- training --------------------------------------------------------------------------

    def fit(
        self,
        X,
        Y,
        epochs=100,
        optimizer="sgd",
        learning_rate=None,
        batch_size=None,
        shuffle=True,
        seed=0,
        loss_threshold=None,
        validation_data=None,
        patience=None,
        schedule=None,
        progress=True,
    ):
        """Train with mini-batch gradient descent; returns the history (a dict of lists, one
        entry per epoch). Every argument is explained in :func:`nnlib.training.fit`."""
        return training.fit(
            self, X, Y, epochs, optimizer, learning_rate, batch_size, shuffle, seed,
            loss_threshold, validation_data, patience, schedule, progress,
        )  # fmt: skip

    def __repr__(self):
        sizes = [self.layers[0].n_in] + [layer.n_out for layer in self.layers]
        names = [layer.activation.name for layer in self.layers]
        return f"Network({sizes}, {names}, loss={self.loss_name!r})"


def _activation_names(activations, output, n_layers, loss):
    """One activation per layer, from the arguments of :class:`Network`."""
    if isinstance(activations, list | tuple):
        if output is not None:
            raise ValueError(
                "output: the list activations already names the output layer's activation (its "
                "last entry); give output only with a single hidden activation such as 'relu'"
            )
        if len(activations) != n_layers:
            raise ValueError(
                f"activations: expected {n_layers} (one per layer after the input), "
                f"got {len(activations)}"
            )
        return list(activations)
    if activations is None:
        activations = "relu"
    elif not isinstance(activations, str | Activation):
        raise ValueError(
            f"activations: expected a name such as 'relu', an Activation, or a list of one per "
            f"layer after the input; got {activations!r}"
        )
    elif n_layers == 1 and output is None:
        return [activations]  # one layer: it is the output layer
    return [activations] * (n_layers - 1) + [output or OUTPUT_ACTIVATION[loss]]
