"""Scalar autograd with exactly six techniques.

Every number Ming computes while cooking is a `Value` that remembers which
technique made it and from what. There are six techniques and no seventh:

    add   (combine)        a + b + ...   n-ary: still one "combine"
    mul   (blend)          a * b
    pow   (reduce)         a ** c        c is a plain constant
    log   (extract)        log(a)
    exp   (ferment)        exp(a)
    relu  (quality check)  max(0, a)

Negation, subtraction and division are compositions: -a = a * -1,
a - b = a + (b * -1), a / b = a * b ** -1.

Each node stores its local gradients when it is made; `backward()` walks the
graph from the loss back to the leaves and multiplies the influences along
each path (the chain rule), adding them up where a value was used twice.
That is "tracing 'too salty' back to the dial".
"""

from __future__ import annotations

import gc
import itertools
import math
from collections import Counter
from contextlib import contextmanager

ADD, MUL, POW, LOG, EXP, RELU = "add", "mul", "pow", "log", "exp", "relu"
TECHNIQUES = (ADD, MUL, POW, LOG, EXP, RELU)
LEAF = "leaf"  # parameters and inputs: made by no technique

# Every node gets a serial number when it is made. A node's children always
# exist before it does, so sorting by serial number is a topological order:
# no recursive sort is needed in backward().
_serial = itertools.count()


class Value:
    __slots__ = ("data", "grad", "op", "_children", "_local_grads", "_serial")

    def __init__(self, data: float, children: tuple = (), local_grads: tuple = (), op: str = LEAF):
        self.data = data
        self.grad = 0.0
        self.op = op
        self._children = children
        self._local_grads = local_grads
        self._serial = next(_serial)

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}, op={self.op})"

    # --- the six techniques -------------------------------------------------
    def __add__(self, other):
        if isinstance(other, Value):
            return Value(self.data + other.data, (self, other), (1.0, 1.0), ADD)
        return Value(self.data + other, (self,), (1.0,), ADD)  # a constant is not a node

    def __mul__(self, other):
        if isinstance(other, Value):
            return Value(self.data * other.data, (self, other), (other.data, self.data), MUL)
        return Value(self.data * other, (self,), (other,), MUL)

    def __pow__(self, exponent: float):
        if isinstance(exponent, Value):
            raise TypeError("pow takes a constant exponent")
        return Value(self.data**exponent, (self,), (exponent * self.data ** (exponent - 1),), POW)

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,), LOG)

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,), EXP)

    def relu(self):
        return Value(max(0.0, self.data), (self,), (float(self.data > 0),), RELU)

    # --- compositions -------------------------------------------------------
    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    # --- the chain rule -----------------------------------------------------
    def backward(self) -> None:
        """Fill .grad of every node this value depends on with d(self)/d(node)."""
        self.grad = 1.0
        for node in _inner_nodes(self):
            g = node.grad
            if g:  # a zero influence adds nothing below (ReLU zeros many)
                for child, local in zip(node._children, node._local_grads):
                    child.grad += local * g


def add(values) -> Value:
    """n-ary combine: one node for a whole sum, added left to right like the reference."""
    values = tuple(values)
    total = 0.0
    for v in values:  # not sum(): Python 3.12+ compensates float sums, the reference does not
        total += v.data
    return Value(total, values, (1.0,) * len(values), ADD)


def dot(weights, xs) -> Value:
    """sum_i w_i * x_i as len(xs) blend nodes and one combine node."""
    return add([Value(w.data * x.data, (w, x), (x.data, w.data), MUL) for w, x in zip(weights, xs)])


def _inner_nodes(root: Value) -> list[Value]:
    """Every non-leaf node reachable from root, latest made first: each node before its children."""
    found, stack = {root._serial: root}, [root]
    while stack:
        for child in stack.pop()._children:
            if child._children and child._serial not in found:
                found[child._serial] = child
                stack.append(child)
    return [found[serial] for serial in sorted(found, reverse=True)]


@contextmanager
def no_cycle_collector():
    """Pause Python's cyclic garbage collector while a graph is built and traced.

    A graph of Values has no cycles (children never point back), so reference
    counting frees it. The cyclic collector would only rescan the tens of
    thousands of fresh nodes of each step again and again; in a process that
    holds many other objects, that costs more than the arithmetic itself.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def count_techniques(root: Value) -> Counter:
    """How many nodes of each technique the graph under root holds, plus its leaves."""
    counts = Counter({t: 0 for t in TECHNIQUES})
    leaves = set()
    for node in _inner_nodes(root):
        counts[node.op] += 1
        leaves.update(c for c in node._children if not c._children)
    counts[LEAF] = len(leaves)
    return counts
