"""Shared settings for nnlib's tests.

Hypothesis runs a fixed number of derandomized examples (same cases on every run, no deadline:
the machine is shared), and BLAS uses one thread (the machine has two cores for many users).
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "nnlib",
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("nnlib")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
