r"""Accuracy: how often the predicted classes are right, defined for each classification loss.

- **softmax + categorical cross-entropy** (one class per example): the class is the row of the
  largest probability; accuracy is the fraction of examples whose class is right.
- **sigmoid + binary cross-entropy**, one output unit: the class is 1 when
  :math:`a \ge 0.5`; the target's class is 1 when :math:`y \ge 0.5` (so soft targets such as
  0.1/0.9 count as 0/1).
- **sigmoid + binary cross-entropy, several output units** (multilabel: several independent
  yes/no answers per example): an example counts as right only if every answer is right
  (exact match, scikit-learn's ``accuracy_score``); ``per_label=True`` gives the fraction of
  right answers instead.
- **regression** (MSE, MAE): there are no classes, so there is no accuracy; use the loss.
"""

import numpy as np

from nnlib.losses import CLASSIFICATION_LOSSES


def predicted_classes(loss, A):
    """Classes from the network's output ``A``: ``(m,)`` labels for one softmax or sigmoid
    output, ``(n, m)`` 0/1 answers for several sigmoid units."""
    check_classification(loss)
    if loss == "binary_cross_entropy":
        answers = (A >= 0.5).astype(np.intp)
        return answers[0] if A.shape[0] == 1 else answers
    return A.argmax(axis=0)


def target_classes(loss, Y):
    """Classes from checked targets ``Y`` (see :func:`nnlib.losses.check_targets`), in the form
    :func:`predicted_classes` gives them. Labels ``(m,)`` are returned as they are."""
    check_classification(loss)
    Y = np.asarray(Y)
    if Y.ndim == 1:
        return Y.astype(np.intp)
    if loss == "binary_cross_entropy":
        answers = (Y >= 0.5).astype(np.intp)
        return answers[0] if Y.shape[0] == 1 else answers
    return Y.argmax(axis=0)


def count_correct(predicted, target, per_label=False):
    """How many examples are right (every answer right, for multilabel), or with
    ``per_label`` how many single answers are right."""
    right = predicted == target
    if right.ndim == 2 and not per_label:
        right = right.all(axis=0)
    return int(np.count_nonzero(right))


def accuracy(predicted, target, per_label=False):
    """The fraction of examples classified right (see the module's docstring)."""
    predicted, target = np.asarray(predicted), np.asarray(target)
    if predicted.shape != target.shape:
        raise ValueError(
            f"shape mismatch: the predicted classes have shape {predicted.shape} but the "
            f"targets {target.shape}; they must be equal (one label per example)"
        )
    if predicted.size == 0:
        raise ValueError("accuracy of no examples is undefined; expected at least one")
    total = predicted.size if per_label else predicted.shape[-1]
    return count_correct(predicted, target, per_label) / total


def check_classification(loss):
    if loss not in CLASSIFICATION_LOSSES:
        raise ValueError(
            f"accuracy is defined for classification (losses {', '.join(CLASSIFICATION_LOSSES)}); "
            f"this network's loss is {loss!r}, a regression: measure it with its loss instead "
            f"(net.evaluate(X, Y) or net.compute_loss(X, Y))"
        )
