r"""Optimizers: how a gradient becomes a change of the parameters.

Each optimizer's ``step(params, grads)`` takes two dicts: ``params`` by name (``"W1"``, ``"b1"``,
...) and ``grads`` named as the course names gradients (``"dW1"``, ``"db1"``, what
``Network.backward`` returns; the parameter's own name is accepted too). It updates the arrays of
``params`` **in place** and keeps its own state (velocities, caches) per parameter name, so::

    opt.step(net.parameters(), net.backward(Y))

is one step of gradient descent. ``t`` counts the steps taken. Written as in the original
papers; hyperparameters are checked when the optimizer is made.
"""

import numpy as np

from nnlib._checks import check_positive, check_unit_interval


class Optimizer:
    """Base class: holds ``learning_rate`` and the step count ``t``.

    ``elementwise = True`` declares that ``update`` treats every entry of every parameter alike
    (true of every optimizer here). ``fit`` then hands it all the parameters at once, as one flat
    vector under the name ``"all"`` (see :mod:`nnlib.fast`): the same result, fewer NumPy calls,
    and the state kept under ``"all"``. A subclass that treats parameters differently by name
    (say, no update of the biases) leaves it ``False`` and gets them one by one.
    """

    elementwise = False

    def __init__(self, learning_rate):
        self.learning_rate = check_positive("learning_rate", learning_rate)
        self.t = 0
        self.state = {}

    def step(self, params, grads):
        self.t += 1
        for key, W in params.items():
            if "d" + key in grads:
                dW = grads["d" + key]
            elif key in grads:
                dW = grads[key]
            else:
                raise ValueError(
                    f"grads has no entry {'d' + key!r} (or {key!r}) for parameter {key!r}; "
                    f"it has {sorted(grads)}"
                )
            dW = np.asarray(dW)
            if dW.shape != W.shape:
                raise ValueError(
                    f"shape mismatch: parameter {key!r} has shape {W.shape} but its gradient "
                    f"has shape {dW.shape}"
                )
            self.update(key, W, dW)

    def update(self, key, W, dW):  # pragma: no cover - each subclass defines it
        raise NotImplementedError

    def _buffer(self, key, name, like):
        """A state array for one parameter, created as zeros on the first step."""
        slot = self.state.setdefault(key, {})
        if name not in slot:
            slot[name] = np.zeros_like(like)
        return slot[name]

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k not in ("t", "state"))
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    r"""Gradient descent (stochastic when the gradient comes from a mini-batch).

    .. math:: W \leftarrow W - \eta\, dW
    """

    elementwise = True

    def __init__(self, learning_rate=0.01):
        super().__init__(learning_rate)

    def update(self, key, W, dW):
        W -= self.learning_rate * dW


class Momentum(Optimizer):
    r"""Gradient descent with momentum, in either of two forms.

    ``form="average"`` (exponential average of the gradients):

    .. math::
        v \leftarrow \beta v + (1-\beta)\, dW, \qquad W \leftarrow W - \eta\, v

    ``form="velocity"`` (Polyak's heavy ball, 1964; Sutskever et al., 2013):

    .. math::
        v \leftarrow \beta v - \eta\, dW, \qquad W \leftarrow W + v

    How they relate: starting from :math:`v = 0`, both move :math:`W` by a geometric sum of past
    gradients, :math:`\sum_k \beta^k\, dW_{t-k}`, times :math:`-\eta(1-\beta)` in the average
    form and :math:`-\eta` in the velocity form. So the velocity form with learning rate
    :math:`\eta` takes exactly the steps of the average form with :math:`\eta / (1-\beta)`:
    same path, the average form's steps are :math:`1/(1-\beta)` times smaller (10 times for
    :math:`\beta = 0.9`) at the same :math:`\eta`.

    Args:
        learning_rate: :math:`\eta > 0`.
        beta: :math:`\beta \in [0, 1)`, the fraction of the velocity kept (0.9 is usual).
        form: ``"average"`` or ``"velocity"``.
    """

    elementwise = True

    def __init__(self, learning_rate=0.01, beta=0.9, form="average"):
        super().__init__(learning_rate)
        self.beta = check_unit_interval("beta", beta)
        if form not in ("average", "velocity"):
            raise ValueError(f"form must be 'average' or 'velocity', got {form!r}")
        self.form = form

    def update(self, key, W, dW):
        v = self._buffer(key, "v", W)
        v *= self.beta
        if self.form == "average":
            v += (1 - self.beta) * dW
            W -= self.learning_rate * v
        else:
            v -= self.learning_rate * dW
            W += v


class Nesterov(Optimizer):
    r"""Nesterov's accelerated gradient (Nesterov, 1983), as Sutskever et al. (2013) write it:

    .. math::
        v \leftarrow \beta v - \eta\, \nabla J(W + \beta v), \qquad W \leftarrow W + v

    The gradient is taken at the look-ahead point :math:`W + \beta v`. A network computes its
    gradient at the parameters it holds, so (as in Bengio et al., 2013, and PyTorch) we store the
    look-ahead point :math:`\tilde W = W + \beta v` itself; the same algorithm then reads

    .. math::
        v \leftarrow \beta v - \eta\, d\tilde W, \qquad
        \tilde W \leftarrow \tilde W + \beta v - \eta\, d\tilde W
    """

    elementwise = True

    def __init__(self, learning_rate=0.01, beta=0.9):
        super().__init__(learning_rate)
        self.beta = check_unit_interval("beta", beta)

    def update(self, key, W, dW):
        v = self._buffer(key, "v", W)
        v *= self.beta
        v -= self.learning_rate * dW
        W += self.beta * v - self.learning_rate * dW


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan & Singer, 2011): each weight's step shrinks with the sum of its
    squared gradients so far.

    .. math::
        G \leftarrow G + dW^2, \qquad W \leftarrow W - \frac{\eta}{\sqrt{G} + \varepsilon}\, dW

    :math:`\varepsilon` is the paper's :math:`\delta` in
    :math:`\delta I + \operatorname{diag}(G)^{1/2}`, added outside the root; the default
    :math:`10^{-10}` is PyTorch's and only guards the division.
    """

    elementwise = True

    def __init__(self, learning_rate=0.01, epsilon=1e-10):
        super().__init__(learning_rate)
        self.epsilon = check_positive("epsilon", epsilon)

    def update(self, key, W, dW):
        G = self._buffer(key, "G", W)
        G += dW * dW
        W -= self.learning_rate * dW / (np.sqrt(G) + self.epsilon)


class RMSProp(Optimizer):
    r"""RMSProp (Tieleman & Hinton, 2012, lecture 6e): Adagrad with a decaying average of the
    squared gradients instead of their sum.

    .. math::
        S \leftarrow \rho S + (1-\rho)\, dW^2, \qquad
        W \leftarrow W - \frac{\eta}{\sqrt{S} + \varepsilon}\, dW

    Defaults: :math:`\eta = 0.001`, :math:`\rho = 0.9` (the lecture's),
    :math:`\varepsilon = 10^{-8}`.
    """

    elementwise = True

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-8):
        super().__init__(learning_rate)
        self.rho = check_unit_interval("rho", rho)
        self.epsilon = check_positive("epsilon", epsilon)

    def update(self, key, W, dW):
        S = self._buffer(key, "S", W)
        S *= self.rho
        S += (1 - self.rho) * dW * dW
        W -= self.learning_rate * dW / (np.sqrt(S) + self.epsilon)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015, Algorithm 1).

    .. math::
        m &\leftarrow \beta_1 m + (1-\beta_1)\, dW \\
        v &\leftarrow \beta_2 v + (1-\beta_2)\, dW^2 \\
        \hat m &= m / (1-\beta_1^t), \qquad \hat v = v / (1-\beta_2^t) \\
        W &\leftarrow W - \eta\, \hat m / (\sqrt{\hat v} + \varepsilon)

    The paper's defaults: :math:`\eta = 0.001`, :math:`\beta_1 = 0.9`, :math:`\beta_2 = 0.999`,
    :math:`\varepsilon = 10^{-8}`. Computed in place, with the bias corrections folded into one
    step size :math:`\eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)` as the paper's Section 2 suggests
    (with :math:`\varepsilon` scaled to match, so the result is Algorithm 1's exactly).
    """

    elementwise = True

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
        super().__init__(learning_rate)
        self.beta1 = check_unit_interval("beta1", beta1)
        self.beta2 = check_unit_interval("beta2", beta2)
        self.epsilon = check_positive("epsilon", epsilon)

    def update(self, key, W, dW):
        m = self._buffer(key, "m", W)
        v = self._buffer(key, "v", W)
        tmp = self._buffer(key, "tmp", W)
        m *= self.beta1
        np.multiply(dW, 1 - self.beta1, out=tmp)
        m += tmp
        v *= self.beta2
        np.multiply(dW, dW, out=tmp)
        tmp *= 1 - self.beta2
        v += tmp
        correction2 = np.sqrt(1 - self.beta2**self.t)
        step_size = self.learning_rate * correction2 / (1 - self.beta1**self.t)
        # sqrt(v_hat) + eps == (sqrt(v) + eps * sqrt(1 - beta2^t)) / sqrt(1 - beta2^t)
        np.sqrt(v, out=tmp)
        tmp += self.epsilon * correction2
        np.divide(m, tmp, out=tmp)
        tmp *= step_size
        W -= tmp


OPTIMIZERS = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": Adagrad,
    "rmsprop": RMSProp,
    "adam": Adam,
}


def get_optimizer(optimizer, **kwargs):
    """An optimizer from its name (``"adam"``) and hyperparameters, or an Optimizer as is."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        raise ValueError(
            f"optimizer: got the class {optimizer.__name__}, expected an object made from it, "
            f"e.g. {optimizer.__name__}() or {optimizer.__name__}(learning_rate=0.01)"
        )
    if not isinstance(optimizer, str) or optimizer not in OPTIMIZERS:
        raise ValueError(
            f"optimizer: unknown name {optimizer!r}; expected one of {sorted(OPTIMIZERS)}"
        )
    return OPTIMIZERS[optimizer](**kwargs)
