r"""Gradient checking by central differences.

For every entry :math:`\theta_i` of every parameter,

.. math:: \frac{\partial J}{\partial \theta_i} \approx
          \frac{J(\theta_i + \varepsilon) - J(\theta_i - \varepsilon)}{2\varepsilon}

with an error of order :math:`\varepsilon^2`, and compare with what backpropagation gives.
"""

import numpy as np


def numerical_gradient(f, theta, epsilon=1e-6):
    """Central-difference gradient of the scalar function ``f()`` with respect to the array
    ``theta``, which is changed in place and restored entry by entry."""
    grad = np.zeros_like(theta, dtype=np.float64)
    flat = theta.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + epsilon
        plus = f()
        flat[i] = old - epsilon
        minus = f()
        flat[i] = old
        grad.reshape(-1)[i] = (plus - minus) / (2 * epsilon)
    return grad


def relative_error(analytic, numeric):
    r"""The largest entry-wise difference, relative to the size of the gradient:
    :math:`\max_i |a_i - n_i| \,/\, \max(\max_i |a_i|, \max_i |n_i|)` (0 when both are 0)."""
    scale = max(np.max(np.abs(analytic), initial=0), np.max(np.abs(numeric), initial=0))
    return 0.0 if scale == 0 else float(np.max(np.abs(analytic - numeric)) / scale)


def gradient_check(network, X, Y, epsilon=1e-6):
    """Compare the network's backpropagated gradients with central differences.

    Returns ``{"W1": error, "b1": error, ...}``, each the worst relative error of that
    parameter's entries (see :func:`relative_error`). Below about 1e-7 in float64 means the
    backward pass is right.
    """
    network.forward(X)
    network.backward(Y)
    grads = {k: v.copy() for k, v in network.gradients().items()}
    errors = {}
    for name, theta in network.parameters().items():
        numeric = numerical_gradient(lambda: network.compute_loss(X, Y), theta, epsilon)
        errors[name] = relative_error(grads[name], numeric)
    return errors
