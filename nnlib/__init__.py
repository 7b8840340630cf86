"""nnlib: a small, vectorized NumPy neural-network library for the course.

Notation (examples are columns): ``X`` is ``(n[0], m)``; ``W[l]`` is ``(n[l], n[l-1])``;
``b[l]`` is ``(n[l], 1)``; ``Z[l] = W[l] A[l-1] + b[l]``; ``A[l] = g(Z[l])``.

Modules, one per concept, in the order of the chapters:

- :mod:`~nnlib.activations`: each g(Z) with its derivative, the tables ACTIVATIONS/DERIVATIVES
- :mod:`~nnlib.losses`: each loss with its gradient; the output layer's dZ = (A - Y)/m
- :mod:`~nnlib.initializers`: zeros, small random, Xavier, He
- :mod:`~nnlib.layers`: Z = W A_prev + b forward, dW, db, dA_prev backward
- :mod:`~nnlib.network`: the model (forward, backward, predict, accuracy, save/load)
- :mod:`~nnlib.optimizers`: SGD, momentum, Nesterov, Adagrad, RMSProp, Adam
- :mod:`~nnlib.training`: the training loop (fit), early stopping, schedules
- :mod:`~nnlib.metrics`: accuracy for each kind of classification
- :mod:`~nnlib.gradcheck`: central differences
- :mod:`~nnlib.fast`: the same training step with reused arrays (what fit runs)
- :mod:`~nnlib.datasets`, :mod:`~nnlib.surfaces`, :mod:`~nnlib.widgets` (imported on demand:
  it needs ipywidgets).

Gradients are named ``"dW1"``, ``"db1"``, ... and optimizers match them to ``"W1"``, ``"b1"``.
"""

from nnlib import (
    activations,
    datasets,
    fast,
    gradcheck,
    initializers,
    layers,
    losses,
    metrics,
    optimizers,
    training,
)
from nnlib.activations import (
    ACTIVATIONS,
    DERIVATIVES,
    JACOBIAN_PRODUCTS,
    Activation,
    get_activation,
)
from nnlib.gradcheck import gradient_check, numerical_gradient, relative_error
from nnlib.initializers import INITIALIZERS, get_initializer
from nnlib.layers import Dense, dense_backward, dense_forward
from nnlib.losses import GRADIENTS, LOSSES, OUTPUT_ACTIVATION, one_hot
from nnlib.network import Network
from nnlib.optimizers import (
    OPTIMIZERS,
    SGD,
    Adagrad,
    Adam,
    Momentum,
    Nesterov,
    Optimizer,
    RMSProp,
    get_optimizer,
)

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "DERIVATIVES",
    "GRADIENTS",
    "INITIALIZERS",
    "JACOBIAN_PRODUCTS",
    "LOSSES",
    "OPTIMIZERS",
    "OUTPUT_ACTIVATION",
    "SGD",
    "Activation",
    "Adagrad",
    "Adam",
    "Dense",
    "Momentum",
    "Nesterov",
    "Network",
    "Optimizer",
    "RMSProp",
    "activations",
    "datasets",
    "dense_backward",
    "dense_forward",
    "fast",
    "get_activation",
    "get_initializer",
    "get_optimizer",
    "gradcheck",
    "gradient_check",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "numerical_gradient",
    "one_hot",
    "optimizers",
    "relative_error",
    "training",
]
