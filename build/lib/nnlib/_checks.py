"""Input checks shared by the modules: each error names the argument and what was expected."""

import numbers

import numpy as np


def check_finite(name, value):
    """A real number or array with no NaN or infinity."""
    if isinstance(value, numbers.Number) and not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        what = "NaN" if np.any(np.isnan(arr)) else "an infinite value"
        raise ValueError(f"{name} contains {what}; expected finite numbers")
    return value


def check_positive(name, value, allow_zero=False):
    check_finite(name, value)
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return value


def check_unit_interval(name, value):
    """A number in [0, 1), as the β's of momentum, RMSProp and Adam."""
    check_finite(name, value)
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return value


def check_array(name, X, ndim=2):
    """A finite float array of ``ndim`` dimensions."""
    X = np.asarray(X)
    if X.ndim != ndim:
        raise ValueError(
            f"{name} must be a {ndim}-D array (features x examples), got shape {X.shape}"
        )
    check_finite(name, X)
    return X


def check_same_shape(name_a, A, name_b, B):
    if np.shape(A) != np.shape(B):
        raise ValueError(
            f"shape mismatch: {name_a} has shape {np.shape(A)} but {name_b} has shape "
            f"{np.shape(B)}; they must be equal"
        )
