"""Tracing "too salty", node by node, on graphs the autograd engine itself builds.

The page steps through a graph: first the forward values in the order they were
made, then the influences flowing back. To show each step, this module reads the
nodes' children and local gradients (the engine's own record of each technique)
and replays the chain rule one edge at a time; the replay ends at the very
gradients Value.backward() computes (tests check that), so nothing is drawn
that the engine did not do.
"""

from __future__ import annotations

from collections import deque

from .. import service
from ..autograd import TECHNIQUES, Value, count_techniques
from ..config import block_of, count_params, dial_name, param_shapes
from ..engines import make_engine
from ..errors import OmakaseError
from ..sample import course_penalty
from .kitchen import check_name

NUDGE = 0.001  # the tour's nudge: small enough that the influence predicts the change well
TOP_DIALS = 5
SCALAR_LIMIT = 50_000  # parameters: above this a scalar graph of one course is too slow for a web request


def _nodes(root: Value) -> list[Value]:
    """Every node under root (leaves too), in the order they were made: a forward order."""
    seen, stack = {id(root): root}, [root]
    while stack:
        for child in stack.pop()._children:
            if id(child) not in seen:
                seen[id(child)] = child
                stack.append(child)
    return sorted(seen.values(), key=lambda v: v._serial)


def replay(root: Value, names: dict) -> dict:
    """The forward steps (each node made, its technique and value) and the backward steps
    (one edge at a time: influence += local gradient x the parent's influence)."""
    nodes = _nodes(root)
    ids = {id(v): i for i, v in enumerate(nodes)}
    forward = [{"node": ids[id(v)], "name": names.get(id(v), f"#{ids[id(v)]}"), "op": v.op, "value": v.data,
                "inputs": [ids[id(c)] for c in v._children]} for v in nodes]
    grads = [0.0] * len(nodes)
    grads[ids[id(root)]] = 1.0
    backward = []
    for v in reversed(nodes):  # the latest made first: every node before its children, as backward() goes
        i = ids[id(v)]
        for child, local in zip(v._children, v._local_grads):
            j = ids[id(child)]
            grads[j] += local * grads[i]
            backward.append({"from": i, "to": j, "op": v.op, "local": local, "flow": local * grads[i],
                             "influence": grads[j]})
    return {"forward": forward, "backward": backward, "influence": grads}


def worked() -> dict:
    """The salt-and-sugar example: taste = salt x sugar + salt, traced by the engine."""
    salt, sugar = Value(2.0), Value(3.0)
    blend = salt * sugar
    taste = blend + salt
    steps = replay(taste, {id(salt): "salt", id(sugar): "sugar", id(blend): "blend", id(taste): "taste"})
    taste.backward()
    return {**steps, "engine": {"salt": salt.grad, "sugar": sugar.grad}}


def course(model: service.Model, name: str) -> dict:
    """Ming's worst course of `name`, traced back to every dial with the scalar engine: the path the
    influence takes from the penalty to the dial that matters most, the six techniques counted,
    the top dials, and each one nudged to measure whether the penalty moves as its influence predicts."""
    if count_params(model.config) > SCALAR_LIMIT:
        raise OmakaseError(f"tracing node by node is for models up to {SCALAR_LIMIT:,} dials; this one has "
                           f"{count_params(model.config):,}")
    ids = check_name(model, name)
    tok = model.tokenizer
    tokens = [tok.bos] + ids + [tok.bos]
    fast = service.score(model, [name])[0].courses
    worst = min(range(len(fast)), key=lambda i: fast[i].p)  # the course Ming got most wrong
    engine = make_engine("scalar", model.checkpoint)
    penalty = engine.course_graph(tokens, worst)
    penalty.backward()
    flat = [v.grad for v in engine.flat]
    top = sorted(range(len(flat)), key=lambda i: abs(flat[i]), reverse=True)[:TOP_DIALS]
    counts = count_techniques(penalty)
    shapes = param_shapes(model.config)
    dials = []
    for i in top:
        matrix, row, col = _locate(shapes, i)
        measured = _nudged(model, matrix, row, col, tokens, worst) - penalty.data
        dials.append({"dial": dial_name(model.config, i), "matrix": matrix, "row": row, "col": col,
                      "station": block_of(matrix), "influence": flat[i], "predicted": flat[i] * NUDGE,
                      "measured": measured})
    return {"name": name, "context": [tok.label(t) for t in tokens[: worst + 1]],
            "truth": tok.label(tokens[worst + 1]), "p": fast[worst].p, "penalty": penalty.data,
            "path": _path(penalty, engine.flat[top[0]]), "dials": dials, "nudge": NUDGE,
            "techniques": {t: counts[t] for t in TECHNIQUES}, "leaves": counts["leaf"],
            "nodes": sum(counts[t] for t in TECHNIQUES), "params": len(flat)}


def _path(root: Value, target: Value) -> list[dict]:
    """One route from the penalty down to the dial (the shortest), each node with its technique,
    value and influence on the penalty."""
    parent, queue = {id(root): None}, deque([root])
    while queue:
        v = queue.popleft()
        if v is target:
            break
        for child in v._children:
            if id(child) not in parent:
                parent[id(child)] = v
                queue.append(child)
    route, v = [], target
    while v is not None:
        route.append({"op": v.op, "value": v.data, "influence": v.grad})
        v = parent.get(id(v))
    return route[::-1]


def _locate(shapes, dial: int) -> tuple[str, int, int]:
    for matrix, (rows, cols) in shapes:
        if dial < rows * cols:
            return matrix, dial // cols, dial % cols
        dial -= rows * cols
    raise IndexError("dial index out of range")


def _nudged(model: service.Model, matrix: str, row: int, col: int, tokens: list[int], worst: int) -> float:
    """The course's penalty, measured again on a copy of the model with one dial turned up by NUDGE."""
    params = dict(model.checkpoint.params)
    params[matrix] = [list(r) for r in params[matrix]]
    params[matrix][row][col] += NUDGE
    return course_penalty(make_engine("numpy", model.config, params), tokens, worst)
