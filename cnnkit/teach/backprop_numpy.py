"""The 2-2-2 sigmoid network of notebook 00 worked by hand, in float64 NumPy.

Every quantity is named as in article 000 (see :mod:`cnnkit.teach.backprop` for the network, the
article's numbers and the Keras side): :func:`forward` the forward pass, :func:`chain_rule` one
weight's gradient as the article's product of factors, :func:`gradients` all eight at once,
:func:`step` and :func:`train` gradient descent in either update order (:data:`ORDERS`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from cnnkit._checks import check_choice

__all__ = ["ARTICLE", "ORDERS", "ChainRule", "Forward", "Network", "Training", "chain_rule", "forward",
           "gradients", "sigmoid", "step", "train"]

ORDERS = ("simultaneous", "output_first")


@dataclass(frozen=True)
class Network:
    """Weights, data and learning rate of the 2-2-2 network (defaults: the article's).

    Attributes:
        w: w1..w8 (w1, w2: i1, i2 → h1; w3, w4: i1, i2 → h2; w5, w6: h1, h2 → o1; w7, w8: h1, h2 → o2).
        b1, b2: the hidden and the output bias (one per layer, not trained).
        inputs, targets: the single training example.
        lr: the learning rate of gradient descent.
    """

    w: tuple[float, ...] = (0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55)
    b1: float = 0.35
    b2: float = 0.60
    inputs: tuple[float, float] = (0.05, 0.10)
    targets: tuple[float, float] = (0.01, 0.99)
    lr: float = 0.5

    def __post_init__(self):
        if len(self.w) != 8:
            raise ValueError(f"Network needs the 8 weights w1..w8, got {len(self.w)}: {self.w!r}")

    @property
    def hidden(self) -> np.ndarray:
        """``W[j, i]``: weight from input i to hidden neuron j, ``[[w1, w2], [w3, w4]]``."""
        return np.array(self.w[:4], dtype="float64").reshape(2, 2)

    @property
    def output(self) -> np.ndarray:
        """``W[k, j]``: weight from hidden neuron j to output k, ``[[w5, w6], [w7, w8]]``."""
        return np.array(self.w[4:], dtype="float64").reshape(2, 2)

    def with_weights(self, hidden: np.ndarray, output: np.ndarray) -> "Network":
        """A copy with new weight matrices (biases, data and learning rate kept)."""
        w = np.concatenate([np.ravel(hidden), np.ravel(output)])
        return dataclasses.replace(self, w=tuple(float(v) for v in w))


ARTICLE = Network()


@dataclass(frozen=True)
class Forward:
    """Every quantity of the forward pass, named as in the article (``E_*`` are errors)."""

    net_h1: float
    net_h2: float
    out_h1: float
    out_h2: float
    net_o1: float
    net_o2: float
    out_o1: float
    out_o2: float
    E_o1: float
    E_o2: float
    E_total: float


@dataclass(frozen=True)
class ChainRule:
    """∂E_total/∂w for one weight as the product the article writes out, and the updated weight.

    Attributes:
        weight: ``"w1"`` … ``"w8"``.
        factors: the chain-rule factors in order (their product is ``gradient``).
        gradient: ∂E_total/∂w.
        old, new: the weight before and after one step ``w − lr · gradient``.
    """

    weight: str
    factors: dict[str, float]
    gradient: float
    old: float
    new: float


@dataclass(frozen=True)
class Training:
    """The result of :func:`train`: the final network and ``errors[k]`` = E_total after k steps."""

    network: Network
    errors: np.ndarray

    @property
    def final(self) -> Forward:
        """The forward pass of the trained network."""
        return forward(self.network)


def sigmoid(x):
    """The logistic function 1 / (1 + e^−x)."""
    return 1.0 / (1.0 + np.exp(-x))


def _pass(net: Network) -> tuple[np.ndarray, ...]:
    x, t = np.array(net.inputs), np.array(net.targets)
    net_h = net.hidden @ x + net.b1
    out_h = sigmoid(net_h)
    net_o = net.output @ out_h + net.b2
    out_o = sigmoid(net_o)
    return x, t, net_h, out_h, net_o, out_o


def forward(net: Network = ARTICLE) -> Forward:
    """The forward pass: net and out of every neuron, the two output errors and E_total."""
    _, t, net_h, out_h, net_o, out_o = _pass(net)
    e = 0.5 * (t - out_o) ** 2
    return Forward(*net_h, *out_h, *net_o, *out_o, *e, float(e.sum()))


def chain_rule(net: Network = ARTICLE, weight: str = "w5") -> ChainRule:
    """∂E_total/∂weight written out as the article's product of factors.

    Output weight w5..w8 (w from h_j to o_k): ∂E/∂out_ok · ∂out_ok/∂net_ok · ∂net_ok/∂w, where
    ∂net_ok/∂w = out_hj. Hidden weight w1..w4 (w from i_i to h_j): ∂E/∂out_hj · ∂out_hj/∂net_hj · i_i,
    where ∂E/∂out_hj = ∂E_o1/∂out_hj + ∂E_o2/∂out_hj sums the two paths through the outputs
    (each ∂E_ok/∂net_ok · w_kj, at the *old* output weights).

    Args:
        net: the network (default: the article's).
        weight: ``"w1"`` … ``"w8"``.
    """
    names = [f"w{k}" for k in range(1, 9)]
    check_choice("weight", weight, names, where="chain_rule")
    x, t, _, out_h, _, out_o = _pass(net)
    k = names.index(weight)
    if k >= 4:  # output weight: row o, column h of the output matrix
        o, h = divmod(k - 4, 2)
        factors = {f"dE/dout_o{o + 1}": out_o[o] - t[o],
                   f"dout_o{o + 1}/dnet_o{o + 1}": out_o[o] * (1 - out_o[o]),
                   f"dnet_o{o + 1}/d{weight}": out_h[h]}
        product = list(factors.values())
    else:  # hidden weight: row h, column i of the hidden matrix
        h, i = divmod(k, 2)
        delta_o = (out_o - t) * out_o * (1 - out_o)  # ∂E_ok/∂net_ok
        paths = delta_o * net.output[:, h]  # ∂E_ok/∂out_h, one per output
        factors = {f"dE_o1/dout_h{h + 1}": paths[0], f"dE_o2/dout_h{h + 1}": paths[1],
                   f"dE/dout_h{h + 1}": paths.sum(),
                   f"dout_h{h + 1}/dnet_h{h + 1}": out_h[h] * (1 - out_h[h]),
                   f"dnet_h{h + 1}/d{weight}": x[i]}
        product = list(factors.values())[2:]  # the two paths are already summed in dE/dout_h
    gradient = float(np.prod(product))
    old = net.w[k]
    return ChainRule(weight, {n: float(v) for n, v in factors.items()}, gradient, old, old - net.lr * gradient)


def _backward(net: Network, hidden: np.ndarray, output: np.ndarray, order: str) -> tuple[np.ndarray, ...]:
    """(∂E/∂hidden, ∂E/∂output, E_total) at the weight matrices ``hidden`` and ``output``."""
    x, t = np.array(net.inputs), np.array(net.targets)
    out_h = sigmoid(hidden @ x + net.b1)
    out_o = sigmoid(output @ out_h + net.b2)
    delta_o = (out_o - t) * out_o * (1 - out_o)  # ∂E/∂net_o
    grad_output = np.outer(delta_o, out_h)
    through = output - net.lr * grad_output if order == "output_first" else output
    delta_h = (through.T @ delta_o) * out_h * (1 - out_h)  # ∂E/∂net_h
    return np.outer(delta_h, x), grad_output, 0.5 * float(np.sum((t - out_o) ** 2))


def _check_order(order: str) -> None:
    check_choice("order", order, ORDERS)


def gradients(net: Network = ARTICLE, order: str = "simultaneous") -> np.ndarray:
    """∂E_total/∂w1..w8 in one vectorised backward pass (the deltas of the two layers).

    Args:
        net: the network.
        order: ``"simultaneous"`` (true gradient: everything at the current weights) or
            ``"output_first"`` (the hidden deltas go through w5..w8 already updated, as the
            program behind the article's reported errors did).
    """
    _check_order(order)
    grad_hidden, grad_output, _ = _backward(net, net.hidden, net.output, order)
    return np.concatenate([grad_hidden.ravel(), grad_output.ravel()])


def step(net: Network = ARTICLE, order: str = "simultaneous") -> Network:
    """One gradient-descent step on w1..w8 (the biases stay as they are, as in the article)."""
    w = np.array(net.w) - net.lr * gradients(net, order)
    return net.with_weights(w[:4], w[4:])


def train(net: Network = ARTICLE, steps: int = 10_000, order: str = "simultaneous") -> Training:
    """``steps`` gradient-descent steps; records E_total before the first and after every step."""
    _check_order(order)
    if not (isinstance(steps, int) and steps >= 0):
        raise ValueError(f"steps must be a non-negative int, got {steps!r}")
    hidden, output = net.hidden, net.output
    errors = np.empty(steps + 1)
    for k in range(steps):
        grad_hidden, grad_output, errors[k] = _backward(net, hidden, output, order)
        hidden, output = hidden - net.lr * grad_hidden, output - net.lr * grad_output
    trained = net.with_weights(hidden, output)
    errors[steps] = forward(trained).E_total
    return Training(trained, errors)
