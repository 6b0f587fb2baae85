"""What the page shows, computed on the real model and returned as plain data.

Every function takes a loaded model.Model and the reader's (already bounded)
input, checks what depends on the model (the vocabulary, the block size), and
returns dicts and lists that the routes send as JSON unchanged. Courses are
labelled with the tokenizer's labels ("<bell>" for the bell); the page translates.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .. import anatomy, inference
from ..config import count_params, param_shapes
from ..engines import make_engine
from ..errors import OmakaseError
from ..model import Model
from ..sample import softmax
from ..train import running_means

TOP = 5  # candidates shown in every vote
CURVE_POINTS = 400  # a stored curve is thinned to about this many points for the page


def check_name(model: Model, name: str, what: str = "the name") -> list[int]:
    """Ids of name's characters, refused (one line) when a character is not in the vocabulary or the
    name with its two bells does not fit the block."""
    block = model.config.block_size
    if not name:
        raise OmakaseError(f"{what} is empty: type at least one course (a letter) to serve")
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


def describe(model: Model) -> dict:
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
        "held_out": held_out(model),
        "stream": inference.is_stream(model),
    }


_held_out: dict[tuple, dict | None] = {}  # (path, mtime) -> the measurement: once per version of a checkpoint file


def held_out(model: Model) -> dict | None:
    """The mean loss on every held-out document of the run's split, the set `omakase eval` and the tour
    measure (the seeded shuffle's last 10%), with its size; None when the data is not on this machine."""
    key = (str(model.path), model.path.stat().st_mtime_ns if model.path else 0)
    if key not in _held_out:
        parts = inference.split_of(model)
        if parts is None or not parts.val:
            _held_out[key] = None
        else:
            e = inference.evaluate(model, "val")
            _held_out[key] = {"loss": e.loss, "documents": e.documents, "studied_from": len(parts.train),
                              "records": len(model.dataset.docs), "data": e.data_name}
    return _held_out[key]


def graduation(model: Model, n: int, temperature: float, seed: int | None) -> dict:
    """n names at `temperature`, from `seed` or (None) the run's own random stream: the names `omakase cook`
    cooks with the same settings, and the tour at that temperature (so a shared link cooks the same names)."""
    if inference.is_stream(model):
        raise OmakaseError("this checkpoint writes one continuous text; the page cooks names only")
    dishes = inference.cook(model, n, temperature, seed)
    return {"temperature": temperature, "seed": seed,
            "dishes": [{"name": d.name, "kind": d.kind} for d in dishes]}


def votes(model: Model, name: str, temperature: float = 1.0) -> dict:
    """Course by course through [bell, name, bell]: Ming's whole vote at `temperature` (every course's share,
    in the vocabulary's order) and the share it gives the course that did come next, at that temperature."""
    ids = check_name(model, name)
    tok, engine = model.tokenizer, model.engine
    tokens = [tok.bos] + ids + [tok.bos]
    cache, courses = engine.new_cache(), []
    for pos in range(len(tokens) - 1):
        logits = engine.logits(cache, tokens[pos], pos)
        shares = softmax(logits, temperature) if temperature > 0 else _greedy(logits)
        truth = tokens[pos + 1]
        courses.append({"after": tok.label(tokens[pos]), "truth": tok.label(truth), "truth_share": shares[truth],
                        "shares": [float(p) for p in shares]})
    return {"name": name, "temperature": temperature, "labels": [tok.label(i) for i in range(tok.vocab_size)],
            "courses": courses}


def scorecard(model: Model, name: str) -> dict:
    """The diner's scorecard of a name: at each course the share Ming gave the true course (at temperature 1,
    the vote training is scored on) and the penalty -ln p, then the mean."""
    check_name(model, name)
    scored = inference.score(model, [name])[0]
    return {"name": name, "courses": [{"truth": c.course, "p": c.p, "penalty": c.penalty} for c in scored.courses],
            "mean_loss": scored.mean_loss, "blind": math.log(model.config.vocab_size)}


def records(model: Model, name: str) -> dict:
    """Chapter 1 on a name: is it in the records (kept for study or held out) and did this run study it
    (training cooks the study pile in its shuffled order, batch after batch, from the start); and does order
    matter to Ming: the mean loss of the name and of the same courses served backwards."""
    check_name(model, name)
    parts = inference.split_of(model)
    dishes = model.run.get("step", 0) * (model.run.get("batch_size") or 1)  # menus cooked while training
    where, dish = "unknown", None
    if parts is not None:
        study = {doc: i for i, doc in reversed(list(enumerate(parts.train)))}  # each menu's first place in the pile
        where = "studied" if name in study else "held_out" if name in set(parts.val) else "absent"
        if study.get(name, dishes) < dishes:  # the pile is cooked from its start, so the first place is reached first
            dish = study[name] + 1
    backwards = name[::-1]
    scored = inference.score(model, [name, backwards])
    return {"name": name, "where": where, "dish": dish, "dishes": dishes,
            "study_pile": None if parts is None else len(parts.train), "backwards": backwards,
            "loss": scored[0].mean_loss, "backwards_loss": scored[1].mean_loss}


def courses(model: Model, name: str) -> dict:
    """Chapter 2 on a name: each course's number, its flavor card and the position tag of its place (the
    closing bell is only ever predicted, never served at a place, so it has no tag)."""
    ids = check_name(model, name)
    tok, params = model.tokenizer, model.checkpoint.params
    tokens = [tok.bos] + ids + [tok.bos]
    return {"name": name, "courses": [{"course": tok.label(t), "number": t, "card": params["wte"][t],
                                       "tag": params["wpe"][pos] if pos < len(tokens) - 1 else None}
                                      for pos, t in enumerate(tokens)]}


def _greedy(logits) -> list[float]:
    """Temperature 0: all the probability on the most likely course (what cooking then does)."""
    best = max(range(len(logits)), key=logits.__getitem__)
    return [1.0 if i == best else 0.0 for i in range(len(logits))]


def assembly(model: Model, name: str) -> dict:
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
                "stock_in": anatomy.size(stream),  # the stock's size as the layer receives it (cleansed, layer 1)
                "spoonful": anatomy.size(np.subtract(mid, stream)),  # what the roundtable stirs in
                "after_attention": anatomy.size(mid),
                "back_kitchen": anatomy.size(np.subtract(out, mid)),  # what the back kitchen stirs in
                "after": anatomy.size(out),
            })
        steps.append({"pos": pos, "course": tok.label(token), "card": trace["embedding"],
                      "card_size": anatomy.size(trace["embedding"]), "layers": layers,
                      "next": tok.label(tokens[pos + 1]) if pos + 1 < len(tokens) else None,
                      "vote": top_votes(probs, tok)})
    return {"name": name, "courses": [tok.label(t) for t in tokens], "n_head": model.config.n_head,
            "n_layer": model.config.n_layer, "steps": steps}


def dials(model: Model) -> dict:
    """The wall of dials, matrix by matrix, with its station and what each row and column is in the kitchen
    (values are not sent: the page asks for one dial at a time)."""
    c, tok = model.config, model.tokenizer
    return {"params": count_params(c), "n_layer": c.n_layer,
            "matrices": [{"matrix": name, "station": anatomy.station_of(name), "kind": anatomy.kind_of(name)[1],
                          "layer": anatomy.kind_of(name)[0], "rows": r, "cols": cols,
                          "row_parts": [anatomy.row_parts(c, tok, name, i) for i in range(r)],
                          "col_parts": [anatomy.col_parts(c, name, j) for j in range(cols)]}
                         for name, (r, cols) in param_shapes(c)]}


def turn(model: Model, matrix: str, row: int, col: int, delta: float, name: str) -> dict:
    """Turn one dial by `delta` on a copy of the model (the loaded one is never changed) and measure
    the name's score and the vote for the course after it, before and after the turn."""
    anatomy.check_dial(model.config, matrix, row, col)
    check_name(model, name)
    before = model.checkpoint.params[matrix][row][col]
    params = anatomy.turned(model.checkpoint.params, (matrix, row, col), delta)
    turned = dataclasses.replace(model, engine=make_engine("numpy", model.config, params))
    return {"matrix": matrix, "row": row, "col": col, "value": before,
            "dial": anatomy.dial_parts(model.config, model.tokenizer, matrix, row, col),
            "turned": before + delta, "delta": delta,
            "before": _score_and_next(model, name), "after": _score_and_next(turned, name)}


def _score_and_next(model: Model, name: str) -> dict:
    v = votes(model, name, 1.0)  # at temperature 1: the vote a name is scored on
    p = [c["truth_share"] for c in v["courses"]]
    return {"mean_loss": None if 0 in p else -sum(math.log(x) for x in p) / len(p),  # a zero share: no finite loss
            "courses": [{"truth": c["truth"], "p": c["truth_share"]} for c in v["courses"]],
            "next": top_votes(v["courses"][-1]["shares"], model.tokenizer)}  # the vote after the last letter


def compare(a: Model, b: Model, n: int, temperature: float, seed: int | None) -> dict:
    """Two checkpoints side by side: curves, recorded held-out loss, names at the same temperature and seed."""
    return {"runs": [{**describe(m), "names": graduation(m, n, temperature, seed)["dishes"]} for m in (a, b)],
            "temperature": temperature, "seed": seed}
