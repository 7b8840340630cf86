r"""Weight initializers.

Each returns ``W`` of shape ``(n_out, n_in)``, i.e. ``(n[l], n[l-1])``; biases start at zero.
``rng`` is a ``numpy.random.Generator`` (seeded by the caller, so every run gives the same numbers).
"""

import numpy as np


def zeros(n_out, n_in, rng=None, dtype=np.float64):
    r""":math:`W = 0`. Every unit of a layer then computes the same thing and receives the same
    gradient, so they stay identical forever: the symmetry is never broken."""
    return np.zeros((n_out, n_in), dtype=dtype)


def small_random(n_out, n_in, rng=None, dtype=np.float64, scale=0.01):
    r""":math:`W_{ij} \sim \mathcal{N}(0, \text{scale}^2)`, ``scale = 0.01`` by default: breaks the
    symmetry, but in a deep network the signal shrinks layer after layer."""
    rng = np.random.default_rng(rng)
    return (scale * rng.standard_normal((n_out, n_in))).astype(dtype)


def xavier_uniform(n_out, n_in, rng=None, dtype=np.float64):
    r"""Glorot & Bengio (2010), uniform:
    :math:`W_{ij} \sim U\!\left[-\sqrt{6/(n_{in}+n_{out})},\ \sqrt{6/(n_{in}+n_{out})}\right]`,
    so :math:`\operatorname{Var}(W_{ij}) = 2/(n_{in}+n_{out})`. Suited to tanh and sigmoid."""
    rng = np.random.default_rng(rng)
    limit = np.sqrt(6 / (n_in + n_out))
    return rng.uniform(-limit, limit, (n_out, n_in)).astype(dtype)


def xavier_normal(n_out, n_in, rng=None, dtype=np.float64):
    r"""Glorot & Bengio (2010), normal: :math:`W_{ij} \sim \mathcal{N}(0,\ 2/(n_{in}+n_{out}))`."""
    rng = np.random.default_rng(rng)
    return (np.sqrt(2 / (n_in + n_out)) * rng.standard_normal((n_out, n_in))).astype(dtype)


def he(n_out, n_in, rng=None, dtype=np.float64):
    r"""He et al. (2015), normal: :math:`W_{ij} \sim \mathcal{N}(0,\ 2/n_{in})`. ReLU zeroes half of
    its inputs on average; the factor 2 makes up for it and keeps the variance of ``Z`` constant
    from layer to layer."""
    rng = np.random.default_rng(rng)
    return (np.sqrt(2 / n_in) * rng.standard_normal((n_out, n_in))).astype(dtype)


INITIALIZERS = {
    "zeros": zeros,
    "small_random": small_random,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he": he,
}


def get_initializer(init):
    """An initializer from its name (or a callable, returned as is)."""
    if callable(init):
        return init
    if init not in INITIALIZERS:
        raise ValueError(f"init: unknown name {init!r}; expected one of {sorted(INITIALIZERS)}")
    return INITIALIZERS[init]
