r"""Two-dimensional test functions for watching optimizers move, each with its gradient.

Every surface is a :class:`Surface`: ``f(p)`` and ``grad(p)`` take a point ``p = [x, y]`` (an
array of shape ``(2,)``), and it carries a start point and a plotting window. The gradients are
written by hand; the chapter on optimizers checks each one against finite differences.

- :func:`bowl`: an elongated quadratic, :math:`f = \tfrac12(x^2 + \kappa y^2)`, one minimum at 0.
- :func:`rosenbrock`: :math:`f = (a - x)^2 + b\,(y - x^2)^2`, a curved narrow valley, minimum at
  :math:`(a, a^2)`.
- :func:`double_well`: :math:`f = (x^2 - 1)^2 + c\,x + y^2`, two minima of different depth
  separated by a saddle point.
"""

import numpy as np


class Surface:
    """A function of two variables with its gradient, a start point and a plotting window.

    Args:
        name: a short title for plots.
        f: ``f(p)``, a number for ``p`` of shape ``(2,)`` (also works on a grid: ``p`` of shape
            ``(2, ...)`` gives an array of values).
        grad: ``grad(p)``, an array of shape ``(2,)``.
        start: the default starting point ``[x0, y0]``.
        xlim, ylim: the plotting window, ``(low, high)``.
        minima: the points where ``f`` has a local minimum (the first is the global one).
    """

    def __init__(self, name, f, grad, start, xlim, ylim, minima):
        self.name = name
        self.f = f
        self.grad = grad
        self.start = np.array(start, dtype=float)
        self.xlim = xlim
        self.ylim = ylim
        self.minima = [np.array(p, dtype=float) for p in minima]

    def __call__(self, p):
        return self.f(p)

    def grid(self, n=200):
        """``X, Y, F``: the surface on an ``n x n`` grid of the window, for contour plots."""
        xs = np.linspace(*self.xlim, n)
        ys = np.linspace(*self.ylim, n)
        X, Y = np.meshgrid(xs, ys)
        return X, Y, self.f(np.array([X, Y]))

    def __repr__(self):
        return f"Surface({self.name!r})"


def _point(p):
    p = np.asarray(p, dtype=float)
    if p.shape[:1] != (2,):
        raise ValueError(f"p must be a point [x, y] of shape (2,), got shape {p.shape}")
    return p


def bowl(kappa=10.0):
    r""":math:`f(x, y) = \tfrac12 (x^2 + \kappa y^2)`: a valley ``kappa`` times steeper across
    (``y``) than along (``x``). Its gradient is :math:`(x, \kappa y)`."""
    if not kappa > 0:
        raise ValueError(f"kappa must be > 0, got {kappa!r}")

    def f(p):
        x, y = _point(p)
        return 0.5 * (x**2 + kappa * y**2)

    def grad(p):
        x, y = _point(p)
        return np.array([x, kappa * y])

    return Surface("bowl", f, grad, [-4.0, 1.0], (-4.5, 1.5), (-1.5, 1.5), [[0.0, 0.0]])


def rosenbrock(a=1.0, b=100.0):
    r""":math:`f(x, y) = (a - x)^2 + b\,(y - x^2)^2` (Rosenbrock, 1960). Gradient:
    :math:`\partial_x f = -2(a - x) - 4 b x (y - x^2)`, :math:`\partial_y f = 2 b (y - x^2)`."""
    if not b > 0:
        raise ValueError(f"b must be > 0, got {b!r}")

    def f(p):
        x, y = _point(p)
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def grad(p):
        x, y = _point(p)
        return np.array([-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)])

    return Surface("Rosenbrock", f, grad, [-1.5, 2.0], (-2.0, 2.0), (-1.0, 3.0), [[a, a**2]])


def double_well(c=0.3):
    r""":math:`f(x, y) = (x^2 - 1)^2 + c\,x + y^2`. For small ``c > 0`` it has a deeper minimum
    near :math:`x = -1`, a shallower one near :math:`x = 1`, and a saddle point between them on
    the line :math:`y = 0`. Gradient: :math:`(4x(x^2 - 1) + c,\ 2y)`."""
    c = float(c)
    if not 0 <= c < 0.7:
        raise ValueError(f"c must be in [0, 0.7) so that both minima exist, got {c!r}")

    def f(p):
        x, y = _point(p)
        return (x**2 - 1) ** 2 + c * x + y**2

    def grad(p):
        x, y = _point(p)
        return np.array([4 * x * (x**2 - 1) + c, 2 * y])

    # the stationary points on y = 0 are the real roots of 4x^3 - 4x + c
    roots = np.sort(np.roots([4.0, 0.0, -4.0, c]).real)
    return Surface(
        "double well",
        f,
        grad,
        [1.9, 1.5],
        (-2.0, 2.0),
        (-1.6, 1.6),
        [[roots[0], 0.0], [roots[2], 0.0]],
    )


def saddle_point(c=0.3):
    """The saddle point of :func:`double_well` (the middle root of ``4x^3 - 4x + c``, ``y = 0``)."""
    roots = np.sort(np.roots([4.0, 0.0, -4.0, float(c)]).real)
    return np.array([roots[1], 0.0])


def run(surface, optimizer, steps=100, start=None):
    """Let an nnlib optimizer walk on a surface: the path, an array of shape ``(steps + 1, 2)``.

    The point is the only parameter, ``params = {"p": p}``; each step computes
    ``grads = {"p": surface.grad(p)}`` and calls ``optimizer.step(params, grads)``, which moves
    ``p`` in place. A path that leaves the window by far (or overflows) stops early.
    """
    p = np.array(surface.start if start is None else start, dtype=float)
    params = {"p": p}
    path = [p.copy()]
    size = max(np.ptp(surface.xlim), np.ptp(surface.ylim))
    for _ in range(steps):
        optimizer.step(params, {"p": surface.grad(p)})
        path.append(p.copy())
        if not np.all(np.isfinite(p)) or np.abs(p).max() > 10 * size:
            break
    return np.array(path)
