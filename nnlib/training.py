r"""The training loop: the complete algorithm of the course.

1. Initialize the weights and biases (done when the :class:`~nnlib.network.Network` is made).
2. Repeat for each epoch, over mini-batches of the (shuffled) training set:
   forward pass, loss, backward pass, update (:meth:`~nnlib.network.Network.train_step`).
3. Stop after ``epochs`` epochs, as soon as an epoch's loss falls below ``loss_threshold``, or
   when the validation loss has not improved for ``patience`` epochs (early stopping).
"""

import warnings

import numpy as np

from nnlib import metrics
from nnlib._checks import check_positive, check_positive_int, check_seed
from nnlib.losses import CLASSIFICATION_LOSSES, LOSSES, check_targets
from nnlib.optimizers import get_optimizer


def fit(
    network,
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
    """Train ``network`` with mini-batch gradient descent; returns the history.

    Args:
        X: inputs ``(n[0], m)``. Y: targets ``(n[L], m)``, or labels ``(m,)`` for the
            sparse loss.
        epochs: the most passes over the data.
        optimizer: an Optimizer object (``nnlib.Adam(1e-3)``), or a name (``"sgd"``,
            ``"adam"``, ...). A name makes a **new** optimizer at each call, with fresh state
            (Adam's moments, momentum's velocity); to continue training with the same state,
            pass the object again: ``network.optimizer`` holds the one the last ``fit`` used.
        learning_rate: with an optimizer name: its learning rate (else its default).
        batch_size: examples per update (``None``: the whole set, batch gradient descent).
        shuffle, seed: reshuffle the examples every epoch, from this seed.
        loss_threshold: stop as soon as an epoch's mean loss is below this.
        validation_data: ``(X_val, Y_val)``, evaluated after each epoch.
        patience: with validation data, stop when the validation loss has not improved for this
            many epochs, and put back the weights of the best epoch (early stopping).
        schedule: a function ``schedule(epoch, learning_rate) -> learning_rate`` called before
            each epoch (``epoch`` counts from 0), e.g. ``lambda e, lr: 0.1 * 0.5 ** (e // 10)``.
        progress: show a progress bar (tqdm; a widget in notebooks).

    Returns:
        dict of lists, one entry per epoch: ``"loss"`` (mean over the epoch's batches, each
        before its update), ``"accuracy"`` for classification, ``"val_loss"``/``"val_accuracy"``
        with validation data, ``"learning_rate"`` with a schedule; with ``patience``, also
        ``"best_epoch"`` (an int, counted from 0), the epoch whose weights were kept.
    """
    X = network.check_inputs(X)
    m = X.shape[1]
    loss_name = network.loss_name
    Y = check_targets(loss_name, Y, network.layers[-1].n_out, m, network.dtype)
    check_positive_int("epochs", epochs)
    batch_size = m if batch_size is None else check_positive_int("batch_size", batch_size)
    if loss_threshold is not None:
        check_positive("loss_threshold", loss_threshold, allow_zero=True)
    check_seed("seed", seed)
    default_optimizer = optimizer == "sgd" and learning_rate is None
    if isinstance(optimizer, str):
        kwargs = {} if learning_rate is None else {"learning_rate": learning_rate}
        optimizer = get_optimizer(optimizer, **kwargs)
    else:
        optimizer = get_optimizer(optimizer)  # refuses a class, or anything else
        if learning_rate is not None:
            raise ValueError("learning_rate: give it to the Optimizer object, not to fit")
    if patience is not None:
        check_positive_int("patience", patience)
        if validation_data is None:
            raise ValueError("patience: early stopping needs validation_data=(X_val, Y_val)")
    if schedule is not None and not callable(schedule):
        raise ValueError("schedule must be a function (epoch, learning_rate) -> learning_rate")
    if validation_data is not None:
        validation_data = _check_validation(network, validation_data)
    network.check_trainable()  # before any work, not at the first batch
    network.optimizer = optimizer

    classify = loss_name in CLASSIFICATION_LOSSES
    labels = metrics.target_classes(loss_name, Y) if classify else None
    history = {"loss": []}
    if classify:
        history["accuracy"] = []
    if validation_data is not None:
        history["val_loss"] = []
        if classify:
            history["val_accuracy"] = []
    if schedule is not None:
        history["learning_rate"] = []
    best = None  # (validation loss, epoch, copy of the weights) for early stopping

    rng = np.random.default_rng(seed)
    # The examples as rows, so that gathering a mini-batch copies whole rows (fast); a batch is
    # then X_rows[idx].T, again of shape (n[0], batch), gathered into an array kept per size.
    X_rows = np.ascontiguousarray(X.T)
    batch_rows = {}
    bar = _progress_bar(epochs, progress)
    try:
        for epoch in range(epochs):
            if schedule is not None:
                optimizer.learning_rate = check_positive(
                    "schedule's learning_rate", schedule(epoch, optimizer.learning_rate)
                )
                history["learning_rate"].append(optimizer.learning_rate)
            order = rng.permutation(m) if shuffle else np.arange(m)
            total_loss, correct = 0.0, 0
            for start in range(0, m, batch_size):
                idx = order[start : start + batch_size]
                if batch_size >= m and not shuffle:
                    X_batch, Y_batch = X, Y
                else:
                    rows = batch_rows.get(len(idx))
                    if rows is None:
                        rows = batch_rows[len(idx)] = np.empty((len(idx), X.shape[0]), X.dtype)
                    X_batch = np.take(X_rows, idx, axis=0, out=rows).T
                    Y_batch = Y[..., idx]
                A = network.train_step(X_batch, Y_batch, optimizer, check=False)
                # the loss and accuracy of this batch, before the update
                total_loss += LOSSES[loss_name](Y_batch, A, check=False) * len(idx)
                if classify:
                    predicted = metrics.predicted_classes(loss_name, A)
                    correct += metrics.count_correct(predicted, labels[..., idx])
            history["loss"].append(total_loss / m)
            if classify:
                history["accuracy"].append(correct / m)
            if validation_data is not None:
                result = network.evaluate(*validation_data)
                history["val_loss"].append(result["loss"])
                if classify:
                    history["val_accuracy"].append(result["accuracy"])
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{history['loss'][-1]:.4g}")
            if not np.isfinite(history["loss"][-1]):
                raise FloatingPointError(
                    f"the loss became {history['loss'][-1]} at epoch {epoch + 1}: "
                    "training diverged; try a smaller learning_rate"
                )
            if patience is not None:
                if best is None or history["val_loss"][-1] < best[0]:
                    best = (history["val_loss"][-1], epoch, network.flat_parameters().copy())
                elif epoch - best[1] >= patience:
                    break
            if loss_threshold is not None and history["loss"][-1] < loss_threshold:
                break
    finally:
        if bar is not None:
            bar.close()
    if best is not None:  # early stopping: put back the best epoch's weights
        network.flat_parameters()[...] = best[2]
        history["best_epoch"] = best[1]
    if default_optimizer and len(history["loss"]) > 1:
        _hint_if_stalled(history["loss"])
    return history


def _check_validation(network, validation_data):
    try:
        X_val, Y_val = validation_data
    except (TypeError, ValueError):
        raise ValueError("validation_data must be a pair (X_val, Y_val)") from None
    X_val = network.check_inputs(X_val, "X_val")
    n_out = network.layers[-1].n_out
    return X_val, check_targets(network.loss_name, Y_val, n_out, X_val.shape[1], network.dtype)


def _hint_if_stalled(losses):
    """With fit's default optimizer (SGD, learning rate 0.01), say so when the loss did not even
    halve: that learning rate is small for many problems (XOR needs about 1, or Adam)."""
    if losses[-1] > 0.5 * losses[0]:
        warnings.warn(
            f"the loss hardly fell ({losses[0]:.4g} -> {losses[-1]:.4g}) with fit's default "
            f"optimizer, SGD with learning_rate=0.01; try a larger learning_rate, more epochs, "
            f"or optimizer='adam'",
            UserWarning,
            stacklevel=4,  # the caller of Network.fit
        )


def _progress_bar(total, enabled):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="epochs", leave=False)
