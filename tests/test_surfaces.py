"""The optimizer race's test surfaces: gradients against central differences."""

import numpy as np
import pytest

from nnlib import SGD, numerical_gradient, relative_error, surfaces

SURFACES = [surfaces.bowl(), surfaces.rosenbrock(), surfaces.double_well()]


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
def test_gradient_matches_central_differences(surface):
    rng = np.random.default_rng(0)
    for _ in range(5):
        p = np.array([rng.uniform(*surface.xlim), rng.uniform(*surface.ylim)])
        numeric = numerical_gradient(lambda p=p: surface.f(p), p, epsilon=1e-6)
        assert relative_error(surface.grad(p), numeric) < 1e-6


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
def test_gradient_vanishes_at_the_minima(surface):
    for p in surface.minima:
        assert np.allclose(surface.grad(p), 0, atol=1e-6)


def test_saddle_point_is_stationary_and_not_a_minimum():
    surface = surfaces.double_well()
    p = surfaces.saddle_point()
    assert np.allclose(surface.grad(p), 0, atol=1e-9)
    assert surface.f(p + [1e-3, 0]) < surface.f(p) < surface.f(p + [0, 1e-3])


def test_run_walks_downhill_with_gradient_descent():
    surface = surfaces.bowl()
    path = surfaces.run(surface, SGD(learning_rate=0.05), steps=50)
    assert path.shape == (51, 2)
    assert surface.f(path[-1]) < surface.f(path[0])
