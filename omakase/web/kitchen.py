"""What the page shows, computed on the real model and returned as plain data.

Every function takes a loaded service.Model and the reader's (already bounded)
input, checks what depends on the model (the vocabulary, the block size), and
returns dicts and lists that the routes send as JSON unchanged. Courses are
labelled with the tokenizer's labels ("<bell>" for the bell); the page translates.
"""

from __future__ import annotations

import math

import numpy as np

from .. import service
from ..config import block_of, count_params, param_shapes
from ..engines import make_engine
from ..errors import OmakaseError
from ..sample import softmax
from ..train import running_means

TOP = 5  # candidates shown in every vote
CURVE_POINTS = 400  # a stored curve is thinned to about this many points for the page


def check_name(model: service.Model, name: str, what: str = "the name") -> list[int]:
    """Ids of name's characters, refused (one line) when a character is not in the vocabulary or the
    name with its two bells does not fit the block."""
    block = model.config.block_size
    if len(name) > block - 1:
        raise OmakaseError(f"{what} has {len(name)} characters; at most {block - 1} fit in this model's block")
    return model.tokenizer.ids(name, what)


def top_votes(probs, tokenizer, k: int = TOP) -> list[dict]:
    order = sorted(range(len(probs)), key=lambda i: probs[i], reverse=True)[:k]
    return [{"course": tokenizer.label(i), "p": float(probs[i])} for i in order]


def thin(values: list[float], points: int = CURVE_POINTS) -> list[list[float]]:
    """[[step, value], ...] with at most about `points` points: every k-th step (steps count from 1)."""
    every = max(1, math.ceil(len(values) / points))
    return [[i + 1, values[i]] for i in range(0, len(values), every)]


def describe(model: service.Model) -> dict:
    """The checkpoint as the page's header and the compare view show it: shape, training, curves."""
    c, run = model.config, model.checkpoint.run
    losses = run.get("losses") or []
    return {
        "n_layer": c.n_layer, "n_embd": c.n_embd, "n_head": c.n_head, "block_size": c.block_size,
        "vocab": model.tokenizer.chars, "vocab_size": c.vocab_size, "params": count_params(c),
        "step": run.get("step", 0), "steps": run.get("steps"), "lr": run.get("lr"),
        "batch_size": run.get("batch_size"), "seed": model.seed,
        "data": (run.get("data") or {}).get("name"), "records_here": model.dataset is not None,
        "curve": {"loss": thin(losses), "running": thin(running_means(losses))},
        "val": run.get("val") or [],  # the held-out losses measured while it trained: [{step, loss, n_docs}]
        "stream": service.is_stream(model),
    }


def graduation(model: service.Model, n: int, temperature: float, seed: int) -> dict:
    """n names at `temperature` from a fixed seed (so a shared link cooks the same names)."""
    if service.is_stream(model):
        raise OmakaseError("this checkpoint writes one continuous text; the page cooks names only")
    dishes = service.cook(model, n, temperature, seed)
    return {"temperature": temperature, "seed": seed,
            "dishes": [{"name": d.name, "kind": d.kind} for d in dishes]}


def votes(model: service.Model, name: str, temperature: float = 1.0) -> dict:
    """Course by course through [bell, name, bell]: the vote at `temperature` (top candidates) and the
    probability of the course that did come next (at temperature 1: the score)."""
    ids = check_name(model, name)
    tok, engine = model.tokenizer, model.engine
    tokens = [tok.bos] + ids + [tok.bos]
    cache, courses = engine.new_cache(), []
    for pos in range(len(tokens) - 1):
        logits = engine.logits(cache, tokens[pos], pos)
        shown = softmax(logits, temperature) if temperature > 0 else _greedy(logits)
        truth = tokens[pos + 1]
        p = softmax(logits)[truth]
        courses.append({"after": tok.label(tokens[pos]), "truth": tok.label(truth), "p_truth": p,
                        "penalty": -math.log(p) if p > 0 else None, "top": top_votes(shown, tok)})
    penalties = [c["penalty"] for c in courses]  # None where p underflowed to 0: an infinite penalty
    return {"name": name, "temperature": temperature, "courses": courses,
            "mean_loss": None if None in penalties else sum(penalties) / len(penalties)}


def _greedy(logits) -> list[float]:
    """Temperature 0: all the probability on the most likely course (what cooking then does)."""
    best = max(range(len(logits)), key=logits.__getitem__)
    return [1.0 if i == best else 0.0 for i in range(len(logits))]


def _size(v) -> float:
    return float(np.linalg.norm(v))


def assembly(model: service.Model, name: str) -> dict:
    """Every course of [bell, name] through every station, measured by the engine's trace:
    the card, each sous chef's attention, the back kitchen's filter, the stock's sizes, the vote."""
    ids = check_name(model, name)
    tok, engine = model.tokenizer, model.engine
    tokens = [tok.bos] + ids
    cache, steps = engine.new_cache(), []
    for pos, token in enumerate(tokens):
        trace: dict = {}
        logits = engine.forward_token(token, pos, cache, trace)
        probs = softmax(np.asarray(logits).tolist())
        layers = []
        for i in range(model.config.n_layer):
            stream, mid, out = trace["stream_in"][i], trace["after_attention"][i], trace["residual"][i]
            hidden = trace["mlp_hidden"][i]
            layers.append({
                "attention": trace["attention"][i],  # [head][position 0..pos]: each sous chef's shares
                "passed": [h > 0 for h in hidden],  # quality control: which back-kitchen units pass
                "hidden": hidden,
                "stock_in": _size(stream),  # the stock's size as the layer receives it (cleansed, layer 1)
                "spoonful": _size(np.subtract(mid, stream)),  # what the roundtable stirs in
                "after_attention": _size(mid),
                "back_kitchen": _size(np.subtract(out, mid)),  # what the back kitchen stirs in
                "after": _size(out),
            })
        steps.append({"pos": pos, "course": tok.label(token), "card": trace["embedding"],
                      "card_size": _size(trace["embedding"]), "layers": layers,
                      "next": tok.label(tokens[pos + 1]) if pos + 1 < len(tokens) else None,
                      "vote": top_votes(probs, tok)})
    return {"name": name, "courses": [tok.label(t) for t in tokens], "n_head": model.config.n_head,
            "n_layer": model.config.n_layer, "steps": steps}


def dials(model: service.Model) -> dict:
    """The wall of dials, matrix by matrix, with the station each belongs to (values are not sent:
    the page asks for one dial at a time)."""
    return {"params": count_params(model.config),
            "matrices": [{"matrix": name, "station": block_of(name), "rows": r, "cols": c}
                         for name, (r, c) in param_shapes(model.config)]}


def locate(model: service.Model, matrix: str, row: int, col: int) -> None:
    shapes = dict(param_shapes(model.config))
    if matrix not in shapes:
        raise OmakaseError(f"unknown matrix {matrix[:40]!r}; this model has {', '.join(shapes)}")
    rows, cols = shapes[matrix]
    if not (0 <= row < rows and 0 <= col < cols):
        raise OmakaseError(f"{matrix} is {rows} x {cols}; row {row}, column {col} is outside it")


def turn(model: service.Model, matrix: str, row: int, col: int, delta: float, name: str) -> dict:
    """Turn one dial by `delta` on a copy of the model (the loaded one is never changed) and measure
    the name's score and the vote for the course after it, before and after the turn."""
    locate(model, matrix, row, col)
    check_name(model, name)
    params = dict(model.checkpoint.params)
    params[matrix] = [list(r) for r in params[matrix]]
    before = params[matrix][row][col]
    params[matrix][row][col] = before + delta
    turned = service.Model(model.checkpoint, model.path, make_engine("numpy", model.config, params), model.dataset)
    return {"matrix": matrix, "row": row, "col": col, "station": block_of(matrix), "value": before,
            "turned": before + delta, "delta": delta,
            "before": _score_and_next(model, name), "after": _score_and_next(turned, name)}


def _score_and_next(model: service.Model, name: str) -> dict:
    v = votes(model, name, 1.0)
    return {"mean_loss": v["mean_loss"], "courses": [{"truth": c["truth"], "p_truth": c["p_truth"]}
                                                     for c in v["courses"]],
            "next": v["courses"][-1]["top"]}  # the vote after the last letter: what comes next


def compare(a: service.Model, b: service.Model, n: int, temperature: float, seed: int) -> dict:
    """Two checkpoints side by side: curves, recorded held-out loss, names at the same temperature and seed."""
    return {"runs": [{**describe(m), "names": graduation(m, n, temperature, seed)["dishes"]} for m in (a, b)],
            "temperature": temperature, "seed": seed}
