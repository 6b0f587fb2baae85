"""Tracing "too salty", node by node, on graphs the autograd engine itself builds.

The page steps through a graph: first the forward values in the order they were
made, then the influences flowing back. To show each step, this module reads the
nodes' children and local gradients (the engine's own record of each technique)
and replays the chain rule one edge at a time; the replay ends at the very
gradients Value.backward() computes (tests check that), so nothing is drawn
that the engine did not do.

On a real course, the path from the penalty down to a dial is labelled with the
station each node belongs to: a node whose value is one the scalar kitchen's own
trace recorded at a station (the card and tag, the cleansed stock, a sous chef's
share, the stock after the roundtable, a back-kitchen unit, the stock after the
back kitchen, a score of the vote) is named after it, and the nodes in between
belong to the station of the next named node on the way up to the penalty.
"""

from __future__ import annotations

from collections import deque

from .. import anatomy, inference
from ..model import Model
from ..autograd import TECHNIQUES, Value, count_techniques
from ..config import count_params
from ..engines import make_engine
from ..engines.scalar import softmax_exps
from ..errors import OmakaseError
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
    """The salt-and-sugar example (anatomy.salt_and_sugar), traced by the engine."""
    example = anatomy.salt_and_sugar()
    taste = example["taste"]
    steps = replay(taste, {id(v): name for name, v in example.items()})
    taste.backward()
    return {**steps, "engine": {"salt": example["salt"].grad, "sugar": example["sugar"].grad}}


def course(model: Model, name: str, path_to: int = 0) -> dict:
    """Ming's worst course of `name`, traced back to every dial with the scalar engine: the path the
    influence takes from the penalty to one of the dials that matter most (`path_to`: 0 is the first;
    each node with its station), the six techniques counted, the top dials, and each one nudged to
    measure whether the penalty moves as its influence predicts."""
    if not 0 <= path_to < TOP_DIALS:
        raise OmakaseError(f"the path goes to one of the {TOP_DIALS} dials that matter most: 0 to {TOP_DIALS - 1}, "
                           f"got {path_to}")
    if count_params(model.config) > SCALAR_LIMIT:
        raise OmakaseError(f"tracing node by node is for models up to {SCALAR_LIMIT:,} dials; this one has "
                           f"{count_params(model.config):,}")
    ids = check_name(model, name)
    tok = model.tokenizer
    tokens = [tok.bos] + ids + [tok.bos]
    fast = inference.score(model, [name])[0].courses
    worst = min(range(len(fast)), key=lambda i: fast[i].p)  # the course Ming got most wrong
    engine = make_engine("scalar", model.checkpoint)
    penalty = engine.course_graph(tokens, worst)
    penalty.backward()
    flat = [v.grad for v in engine.flat]
    top = sorted(range(len(flat)), key=lambda i: abs(flat[i]), reverse=True)[:TOP_DIALS]
    counts = count_techniques(penalty)
    dials = []
    for i in top:
        matrix, row, col = anatomy.locate(model.config, i)
        measured = anatomy.nudge(model.checkpoint, (matrix, row, col), NUDGE, tokens, worst) - penalty.data
        dials.append({"dial": anatomy.dial_parts(model.config, tok, matrix, row, col), "matrix": matrix,
                      "row": row, "col": col, "influence": flat[i], "predicted": flat[i] * NUDGE,
                      "measured": measured})
    path = _path(penalty, engine.flat[top[path_to]])
    _name_stations(path, _stations(model, tokens[: worst + 2]), dials[path_to]["dial"])
    return {"name": name, "context": [tok.label(t) for t in tokens[: worst + 1]],
            "truth": tok.label(tokens[worst + 1]), "p": fast[worst].p, "penalty": penalty.data,
            "path": path, "path_to": path_to, "dials": dials, "nudge": NUDGE,
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


def _stations(model: Model, tokens: list[int]) -> dict[float, dict]:
    """value -> where the scalar kitchen made it, for every value its trace records while serving all of
    `tokens` but the last, and the share and the penalty the vote then gives the last (as course_graph does).

    The scalar kitchen is deterministic, so a node of the course's graph holds exactly the value the
    trace recorded at its station. Later stations are entered first: where two stations hold the same
    value (a later line's incoming stock is the earlier line's outgoing one), the later station names it."""
    tok, engine = model.tokenizer, make_engine("scalar", model.checkpoint)
    cache, where, served, truth = engine.new_cache(), {}, tokens[:-1], tokens[-1]

    def note(values, station: str, what: str, **more) -> None:
        for i, v in enumerate(values):
            if v != 0.0:  # zeros (units dumped by quality control) name nothing
                where.setdefault(v, {"station": station, "what": what, "number": i + 1, **more})

    for pos, token in enumerate(served):
        trace: dict = {}
        logits = engine.forward_token(token, pos, cache, trace)
        at = {"pos": pos + 1, "course": tok.label(token)}
        for i, v in enumerate(logits):
            where.setdefault(v.data, {"station": "vote", "what": "score", "for": tok.label(i), **at})
        for li in reversed(range(model.config.n_layer)):
            line = {**at, "line": li + 1 if model.config.n_layer > 1 else None}
            note(trace["residual"][li], "back_kitchen", "stock_after", **line)
            note(trace["mlp_hidden"][li], "back_kitchen", "unit_passed", **line)
            note(trace["mlp_pre"][li], "back_kitchen", "unit", **line)
            note(trace["after_attention"][li], "roundtable", "stock_after", **line)
            for h, shares in enumerate(trace["attention"][li]):
                for j, share in enumerate(shares):
                    where.setdefault(share, {"station": "roundtable", "what": "share", "chef": h + 1,
                                             "to": j + 1, **line})
            note(trace["stream_in"][li], "cleanser", "stock_in", **line)
        note(trace["embedding"], "card", "card_and_tag", **at)
    exps, total = softmax_exps(logits)  # the last course's vote, in percentages, and its penalty
    share = exps[truth] * total**-1
    where[share.data] = {"station": "vote", "what": "share", "for": tok.label(truth), **at}
    where[share.log().data] = {"station": "penalty", "what": "penalty"}
    return where


def _name_stations(path: list[dict], where: dict[float, dict], dial: dict) -> None:
    """Give each node of the path (penalty first, dial last) its "where": the penalty, a recorded station
    value, the dial, or (in between) the station of the nearest named node above it."""
    above = {"station": "vote", "what": "inside"}  # between the penalty and the first score: the vote's percentages
    for i, node in enumerate(path):
        if i == 0:
            node["where"] = {"station": "penalty", "what": "penalty"}
        elif i == len(path) - 1:
            node["where"] = {"station": dial["station"], "what": "dial"}
        elif node["value"] in where:
            node["where"] = above = where[node["value"]]
        else:
            node["where"] = {"station": above["station"], "what": "inside", "line": above.get("line")}
