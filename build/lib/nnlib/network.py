r"""A network: dense layers in sequence, a loss, and the complete training algorithm.

1. Initialize the weights and biases.
2. Repeat for each epoch, over mini-batches of the (shuffled) training set:
   forward pass, loss, backward pass, update.
3. Stop after ``epochs`` epochs, or as soon as an epoch's loss falls below ``loss_threshold``.
"""

import numpy as np

from nnlib._checks import check_array, check_finite, check_positive
from nnlib.activations import Activation
from nnlib.layers import Dense
from nnlib.losses import FUSED, GRADIENTS, LOSSES, check_loss_name
from nnlib.optimizers import OPTIMIZERS, get_optimizer

CLASSIFICATION_LOSSES = (
    "binary_cross_entropy",
    "categorical_cross_entropy",
    "sparse_categorical_cross_entropy",
)


class Network:
    """A fully connected network.

    Args:
        layer_sizes: ``[n0, n1, ..., nL]``, the number of units per layer, inputs first.
        activations: one per layer after the input (``L`` of them): names such as ``"relu"``
            or :class:`~nnlib.activations.Activation` objects; a single name is used for every
            hidden layer, with ``output`` for the last.
        loss: a name from :data:`nnlib.losses.LOSSES`.
        init: an initializer name for every layer (default: He for the ReLU family, Xavier
            otherwise).
        seed: seeds the weights, so the same seed gives the same network.
        dtype: ``np.float64`` (default) or ``np.float32``.

    Example:
        >>> net = Network([3, 4, 1], ["relu", "sigmoid"], loss="binary_cross_entropy", seed=0)
        >>> [layer.W.shape for layer in net.layers]
        [(4, 3), (1, 4)]
    """

    def __init__(
        self,
        layer_sizes,
        activations="relu",
        loss="mse",
        output=None,
        init=None,
        seed=0,
        dtype=np.float64,
    ):
        layer_sizes = list(layer_sizes)
        if len(layer_sizes) < 2:
            raise ValueError(
                f"layer_sizes needs at least an input and an output size, got {layer_sizes}"
            )
        n_layers = len(layer_sizes) - 1
        if isinstance(activations, str | Activation):
            activations = [activations] * (n_layers - 1) + [output or activations]
        activations = list(activations)
        if len(activations) != n_layers:
            raise ValueError(
                f"activations: expected {n_layers} (one per layer after the input), "
                f"got {len(activations)}"
            )
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self.loss_name = check_loss_name(loss)
        rng = np.random.default_rng(seed)
        self.layers = [
            Dense(n_in, n_out, activation=g, init=init, rng=rng, dtype=self.dtype)
            for n_in, n_out, g in zip(layer_sizes[:-1], layer_sizes[1:], activations, strict=True)
        ]
        self._pack_parameters()

    # -- parameters ------------------------------------------------------------------------

    def parameters(self):
        """``{"W1": W1, "b1": b1, "W2": ...}``: the arrays themselves (not copies)."""
        params = {}
        for l, layer in enumerate(self.layers, start=1):
            params[f"W{l}"] = layer.W
            params[f"b{l}"] = layer.b
        return params

    def gradients(self):
        """``{"W1": dW1, "b1": db1, ...}`` from the last backward pass (keys match parameters)."""
        grads = {}
        for l, layer in enumerate(self.layers, start=1):
            grads[f"W{l}"] = layer.dW
            grads[f"b{l}"] = layer.db
        return grads

    def _pack_parameters(self):
        """Place every ``W`` and ``b`` in one flat array, and every ``dW`` and ``db`` that
        training computes in another: each layer's arrays are views (reshaped pieces) of them.

        Nothing changes for the layers, which still see ordinary arrays of the usual shapes.
        What it buys: a built-in optimizer can then update all the parameters with a dozen NumPy
        calls on the two flat arrays instead of a dozen calls per array. For small layers, as in
        the course, those calls cost more than the arithmetic. (Every built-in optimizer works
        entry by entry, so the result is exactly the same; its state, such as Adam's ``m`` and
        ``v``, is then kept under the key ``"all"``.) If a ``W`` or ``b`` is replaced by a new
        array, or the optimizer is a custom subclass, training falls back to the parameters by
        name (``"W1"``, ``"b1"``, ...).
        """
        arrays = [a for layer in self.layers for a in (layer.W, layer.b)]
        self._flat_params = np.empty(sum(a.size for a in arrays), dtype=self.dtype)
        self._flat_grads = np.zeros_like(self._flat_params)
        start = 0
        for layer in self.layers:
            for name in ("W", "b"):
                old = getattr(layer, name)
                end = start + old.size
                view = self._flat_params[start:end].reshape(old.shape)
                view[...] = old
                setattr(layer, name, view)
                # the layer's own dW/db buffers (see Dense._buffer) become views too
                layer._buffers[("d" + name, old.shape)] = self._flat_grads[start:end].reshape(
                    old.shape
                )
                start = end

    def _packed(self):
        """True while every W, b, dW, db still lives in the flat arrays (not replaced)."""
        return all(
            layer.W.base is self._flat_params
            and layer.b.base is self._flat_params
            and layer.dW.base is self._flat_grads
            and layer.db.base is self._flat_grads
            for layer in self.layers
        )

    # -- forward, loss, backward -----------------------------------------------------------

    def forward(self, X):
        """``A[L]`` for ``X`` of shape ``(n[0], m)``; each layer keeps its cache."""
        X = check_array("X", X)
        return self._forward(X.astype(self.dtype, copy=False))

    def _forward(self, A, reuse_buffers=False):
        for layer in self.layers:
            A = layer.forward(A, reuse_buffers=reuse_buffers)
        return A

    def loss(self, Y, A=None):
        """The mean loss of the output ``A`` (by default, that of the last forward pass)."""
        if A is None:
            A = self.layers[-1]._cache()[2]
        return LOSSES[self.loss_name](Y, A)

    def compute_loss(self, X, Y):
        """Forward pass on ``X`` and the mean loss against ``Y``."""
        return self.loss(Y, self.forward(X))

    def _output_dZ(self, Y, A):
        """:math:`dZ^{[L]} = (A - Y)/m` for the fused output/loss pairs."""
        m = A.shape[1]
        if self.loss_name == "sparse_categorical_cross_entropy":
            dZ = A.copy()
            dZ[np.asarray(Y).reshape(-1).astype(np.intp), np.arange(m)] -= 1
        else:
            dZ = A - Y
        dZ /= m
        return dZ

    def backward(self, Y):
        r"""Backpropagation from the last forward pass: ``{"dW1": ..., "db1": ..., ...}``.

        See :meth:`_backward` for the steps.
        """
        return self._backward(Y)

    def _backward(self, Y, reuse_buffers=False):
        r"""Backpropagation (``reuse_buffers``: see :meth:`nnlib.layers.Dense.forward`).

        The output layer starts from :math:`dZ^{[L]} = (A - Y)/m` when the pair (activation,
        loss) allows it (sigmoid + binary cross-entropy, softmax + cross-entropy), else from
        :math:`dA^{[L]} = \partial J/\partial A` of the loss. Then, layer by layer:
        :math:`dZ = dA \odot g'(Z)`, :math:`dW = dZ A_{prev}^\top`, :math:`db = \sum dZ`,
        :math:`dA_{prev} = W^\top dZ`.
        """
        out = self.layers[-1]
        A = out._cache()[2]
        if self.loss_name != "sparse_categorical_cross_entropy":
            Y = np.asarray(Y, dtype=self.dtype)
            if Y.shape != A.shape:
                raise ValueError(
                    f"shape mismatch: Y has shape {Y.shape} but the network's output A has "
                    f"shape {A.shape}"
                )
        self._check_trainable()
        if (out.activation.name, self.loss_name) in FUSED:
            dZ = self._output_dZ(Y, A)
            dA = out.backward_from_dZ(dZ, len(self.layers) > 1, reuse_buffers=reuse_buffers)
        else:
            dA = GRADIENTS[self.loss_name](Y, A).astype(self.dtype, copy=False)
            dA = out.backward(dA, len(self.layers) > 1, reuse_buffers=reuse_buffers)
        for i in range(len(self.layers) - 2, -1, -1):
            dA = self.layers[i].backward(dA, need_dA_prev=i > 0, reuse_buffers=reuse_buffers)
        return {f"d{k}": v for k, v in self.gradients().items()}

    def _check_trainable(self):
        """Refuse to backpropagate through a step layer: its derivative is 0 wherever it exists.

        The error and its message come from :meth:`nnlib.activations.Activation.backward`.
        """
        for layer in self.layers:
            if layer.activation.name == "step":
                layer.activation.backward(None, None, None)

    def train_step(self, X, Y, optimizer):
        """One step of gradient descent on the batch ``(X, Y)``: forward pass, backward pass,
        and the optimizer's update of every ``W`` and ``b``. Returns the output ``A``.

        This is what :meth:`fit` does for each mini-batch. The layers reuse their arrays from
        one step to the next (see :meth:`nnlib.layers.Dense._buffer`), so the returned ``A`` is
        overwritten by the next step: copy it to keep it.
        """
        A = self._forward(np.asarray(X, dtype=self.dtype), reuse_buffers=True)
        self._backward(Y, reuse_buffers=True)
        if type(optimizer) in OPTIMIZERS.values() and self._packed():
            # all parameters at once (see _pack_parameters)
            optimizer.step({"all": self._flat_params}, {"all": self._flat_grads})
        else:
            optimizer.step(self.parameters(), self.gradients())
        return A

    # -- predictions -----------------------------------------------------------------------

    def predict(self, X):
        """Class labels for classification (argmax of a softmax, ``A >= 0.5`` for one sigmoid
        unit), else the output ``A`` itself."""
        A = self.forward(X)
        return self._labels(A)

    def _labels(self, A):
        if self.loss_name in CLASSIFICATION_LOSSES:
            if A.shape[0] == 1:
                return (A[0] >= 0.5).astype(np.intp)
            return A.argmax(axis=0)
        return A

    def accuracy(self, X, Y):
        """The fraction of examples classified correctly."""
        return float(np.mean(self.predict(X) == _labels_of(Y)))

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
        progress=True,
    ):
        """Train with mini-batch gradient descent; returns the history.

        Args:
            X: inputs ``(n[0], m)``. Y: targets ``(n[L], m)``, or labels ``(m,)`` for the
                sparse loss.
            epochs: the most passes over the data.
            optimizer: a name (``"sgd"``, ``"adam"``, ...) or an Optimizer object.
            learning_rate: with an optimizer name: its learning rate (else its default).
            batch_size: examples per update (``None``: the whole set, batch gradient descent).
            shuffle, seed: reshuffle the examples every epoch, from this seed.
            loss_threshold: stop as soon as an epoch's mean loss is below this.
            validation_data: ``(X_val, Y_val)``, evaluated after each epoch.
            progress: show a progress bar (tqdm; a widget in notebooks).

        Returns:
            dict of lists, one entry per epoch: ``"loss"`` (mean over the epoch's batches),
            ``"accuracy"`` for classification, ``"val_loss"``/``"val_accuracy"`` with validation
            data.
        """
        X = check_array("X", X).astype(self.dtype, copy=False)
        Y = self._check_targets(Y, X.shape[1])
        if X.shape[0] != self.layers[0].n_in:
            raise ValueError(
                f"shape mismatch: X has shape {X.shape} but the first layer's W has shape "
                f"{self.layers[0].W.shape}; X needs {self.layers[0].n_in} rows"
            )
        if not (isinstance(epochs, int | np.integer) and epochs >= 1):
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
        m = X.shape[1]
        batch_size = m if batch_size is None else batch_size
        if not (isinstance(batch_size, int | np.integer) and batch_size >= 1):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if loss_threshold is not None:
            check_positive("loss_threshold", loss_threshold, allow_zero=True)
        if isinstance(optimizer, str):
            kwargs = {} if learning_rate is None else {"learning_rate": learning_rate}
            optimizer = get_optimizer(optimizer, **kwargs)
        elif learning_rate is not None:
            raise ValueError("learning_rate: give it to the Optimizer object, not to fit")
        self._check_trainable()  # before any work, not at the first batch
        classify = self.loss_name in CLASSIFICATION_LOSSES
        labels = _labels_of(Y) if classify else None
        history = {"loss": []}
        if classify:
            history["accuracy"] = []
        if validation_data is not None:
            history["val_loss"] = []
            if classify:
                history["val_accuracy"] = []

        rng = np.random.default_rng(seed)
        # The examples as rows, so that gathering a mini-batch copies whole rows (fast); a
        # batch is then X_rows[idx].T, again of shape (n[0], batch), written into one array.
        X_rows = np.ascontiguousarray(X.T)
        batch_rows = {}
        bar = _progress_bar(epochs, progress)
        for _ in range(epochs):
            order = rng.permutation(m) if shuffle else np.arange(m)
            total_loss, correct = 0.0, 0
            for start in range(0, m, batch_size):
                idx = order[start : start + batch_size]
                if batch_size >= m and not shuffle:
                    X_batch, Y_batch = X, Y
                else:
                    if len(idx) not in batch_rows:
                        batch_rows[len(idx)] = np.empty((len(idx), X.shape[0]), dtype=X.dtype)
                    X_batch = np.take(X_rows, idx, axis=0, out=batch_rows[len(idx)]).T
                    Y_batch = Y[..., idx]
                A = self.train_step(X_batch, Y_batch, optimizer)
                # the loss and accuracy of this batch, before the update
                total_loss += LOSSES[self.loss_name](Y_batch, A, check=False) * len(idx)
                if classify:
                    correct += int(np.count_nonzero(self._labels(A) == labels[idx]))
            history["loss"].append(total_loss / m)
            if classify:
                history["accuracy"].append(correct / m)
            if validation_data is not None:
                X_val, Y_val = validation_data
                history["val_loss"].append(self.compute_loss(X_val, Y_val))
                if classify:
                    history["val_accuracy"].append(self.accuracy(X_val, Y_val))
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{history['loss'][-1]:.4g}")
            if not np.isfinite(history["loss"][-1]):
                if bar is not None:
                    bar.close()
                raise FloatingPointError(
                    f"the loss became {history['loss'][-1]} at epoch {len(history['loss'])}: "
                    "training diverged; try a smaller learning_rate"
                )
            if loss_threshold is not None and history["loss"][-1] < loss_threshold:
                break
        if bar is not None:
            bar.close()
        return history

    def _check_targets(self, Y, m):
        n_out = self.layers[-1].n_out
        if self.loss_name == "sparse_categorical_cross_entropy":
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
        if np.ndim(Y) == 1 and self.loss_name in CLASSIFICATION_LOSSES and n_out > 1:
            raise ValueError(
                f"Y has shape {np.shape(Y)}: {self.loss_name} needs one-hot columns of shape "
                f"({n_out}, {m}); use nnlib.one_hot(y) or loss='sparse_categorical_cross_entropy'"
            )
        Y = check_array("Y", Y).astype(self.dtype, copy=False)
        if Y.shape != (n_out, m):
            raise ValueError(
                f"shape mismatch: Y has shape {Y.shape} but the network outputs ({n_out}, {m}) "
                f"for X with {m} columns"
            )
        if self.loss_name in CLASSIFICATION_LOSSES and (Y.min() < 0 or Y.max() > 1):
            raise ValueError(
                f"Y must hold labels or probabilities in [0, 1] for {self.loss_name}, got values "
                f"from {Y.min()} to {Y.max()}"
            )
        return Y

    def __repr__(self):
        sizes = [self.layers[0].n_in] + [layer.n_out for layer in self.layers]
        names = [layer.activation.name for layer in self.layers]
        return f"Network({sizes}, {names}, loss={self.loss_name!r})"


def _labels_of(Y):
    """Integer labels from one-hot columns, a (1, m) row of 0/1, or labels themselves."""
    Y = np.asarray(Y)
    if Y.ndim == 2 and Y.shape[0] > 1:
        return Y.argmax(axis=0)
    return Y.reshape(-1).astype(np.intp)


def _progress_bar(total, enabled):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="epochs", leave=False)
