"""nnlib: a small, vectorized NumPy neural-network library for the course.

Notation (examples are columns): ``X`` is ``(n[0], m)``; ``W[l]`` is ``(n[l], n[l-1])``;
``b[l]`` is ``(n[l], 1)``; ``Z[l] = W[l] A[l-1] + b[l]``; ``A[l] = g(Z[l])``.

Modules, one per concept: :mod:`~nnlib.activations`, :mod:`~nnlib.losses`,
:mod:`~nnlib.layers`, :mod:`~nnlib.network`, :mod:`~nnlib.optimizers`,
:mod:`~nnlib.initializers`, :mod:`~nnlib.gradcheck`, :mod:`~nnlib.datasets`,
:mod:`~nnlib.widgets` (imported on demand: it needs ipywidgets).
"""

from nnlib import activations, datasets, gradcheck, initializers, layers, losses, optimizers
from nnlib.activations import ACTIVATIONS, DERIVATIVES, Activation, get_activation
from nnlib.gradcheck import gradient_check, numerical_gradient, relative_error
from nnlib.initializers import INITIALIZERS, get_initializer
from nnlib.layers import Dense, dense_backward, dense_forward
from nnlib.losses import GRADIENTS, LOSSES, one_hot
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
    "LOSSES",
    "OPTIMIZERS",
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
    "get_activation",
    "get_initializer",
    "get_optimizer",
    "gradcheck",
    "gradient_check",
    "initializers",
    "layers",
    "losses",
    "numerical_gradient",
    "one_hot",
    "optimizers",
    "relative_error",
]
