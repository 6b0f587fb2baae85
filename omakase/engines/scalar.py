"""Ming's kitchen: the GPT computed one scalar at a time, standard library only.

Every number is an autograd `Value` built from the six techniques, one token at
a time with a KV cache, exactly as Karpathy's microgpt does it, so the losses
match the reference step for step. It is faster than the reference because
sums are one n-ary node, constants are not nodes, only the target's
probability enters the loss graph, backward sorts by serial number instead
of recursing, and the cyclic garbage collector rests while a graph is alive.
"""

from __future__ import annotations

from ..adam import Adam
from ..autograd import MUL, Value, add, dot, no_cycle_collector
from ..config import GPTConfig, param_shapes


def linear(x: list[Value], w: list[list[Value]]) -> list[Value]:
    """y = W x, rows of W are output features."""
    return [dot(row, x) for row in w]


def rmsnorm(x: list[Value]) -> list[Value]:
    """The palate cleanser: x * (mean(x^2) + 1e-5) ** -0.5, no learned gain."""
    mean_square = add([Value(xi.data * xi.data, (xi, xi), (xi.data, xi.data), MUL) for xi in x]) * len(x) ** -1
    scale = (mean_square + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def softmax_exps(logits: list[Value]) -> tuple[list[Value], Value]:
    """exp(logit - max) for each logit and their total; the max is a plain constant."""
    max_logit = max(v.data for v in logits)
    exps = [(v - max_logit).exp() for v in logits]
    return exps, add(exps)


def softmax(logits: list[Value]) -> list[Value]:
    exps, total = softmax_exps(logits)
    inv = total**-1
    return [e * inv for e in exps]


class ScalarEngine:
    """Forward on Values, backward by the chain rule, Adam one dial at a time."""

    name = "scalar"
    eval_batch = 1  # documents per graph when only measuring a loss (one small graph at a time)

    def __init__(self, config: GPTConfig, params: dict, moments: tuple[dict, dict] | None = None):
        self.config = config
        self.names = [name for name, _ in param_shapes(config)]
        self.state = {name: [[Value(float(x)) for x in row] for row in params[name]] for name in self.names}
        self.flat = [p for name in self.names for row in self.state[name] for p in row]
        if moments is None:
            self.m = [0.0] * len(self.flat)
            self.v = [0.0] * len(self.flat)
        else:
            self.m = [x for name in self.names for row in moments[0][name] for x in row]
            self.v = [x for name in self.names for row in moments[1][name] for x in row]

    # --- the forward pass ---------------------------------------------------
    def new_cache(self, batch: int = 1):
        """The sous chefs' notebooks, one per row: per layer, the keys and values of every served course."""
        return [([[] for _ in range(self.config.n_layer)], [[] for _ in range(self.config.n_layer)])
                for _ in range(batch)]

    def forward_token(self, token: int, pos: int, cache, trace: dict | None = None) -> list[Value]:
        """Logits for the next token after `token` at position `pos`, appending to the KV cache (one row).

        If `trace` is a dict, the intermediate vectors are recorded in it (for the tour).
        """
        return self._forward(token, pos, cache[0], trace)

    def _forward(self, token: int, pos: int, notebook, trace: dict | None = None) -> list[Value]:
        cfg, s = self.config, self.state
        keys, values = notebook
        hd = cfg.head_dim
        x = [t + p for t, p in zip(s["wte"][token], s["wpe"][pos])]
        if trace is not None:
            trace["embedding"] = [v.data for v in x]  # flavor card + position tag, before the first cleanser
        x = rmsnorm(x)
        for li in range(cfg.n_layer):
            residual = x
            x = rmsnorm(x)
            q = linear(x, s[f"layer{li}.attn_wq"])
            del keys[li][pos:], values[li][pos:]  # a rewound cache is overwritten from pos on, as in the other engines
            keys[li].append(linear(x, s[f"layer{li}.attn_wk"]))
            values[li].append(linear(x, s[f"layer{li}.attn_wv"]))
            heads, weights_per_head = [], []
            for h in range(cfg.n_head):
                lo, hi = h * hd, (h + 1) * hd
                scores = [dot(q[lo:hi], k[lo:hi]) * (hd**0.5) ** -1 for k in keys[li]]
                weights = softmax(scores)
                weights_per_head.append([w.data for w in weights])
                heads += [add([w * v[j] for w, v in zip(weights, values[li])]) for j in range(lo, hi)]
            x = [a + b for a, b in zip(linear(heads, s[f"layer{li}.attn_wo"]), residual)]
            if trace is not None:  # the stream before and after the roundtable's spoonful is added
                trace.setdefault("stream_in", []).append([v.data for v in residual])
                trace.setdefault("after_attention", []).append([v.data for v in x])
            residual = x
            hidden = [h.relu() for h in linear(rmsnorm(x), s[f"layer{li}.mlp_fc1"])]
            x = [a + b for a, b in zip(linear(hidden, s[f"layer{li}.mlp_fc2"]), residual)]
            if trace is not None:
                trace.setdefault("attention", []).append(weights_per_head)
                trace.setdefault("mlp_hidden", []).append([h.data for h in hidden])
                trace.setdefault("mlp_pre", []).append([h._children[0].data for h in hidden])  # before ReLU
                trace.setdefault("residual", []).append([v.data for v in x])
        return linear(x, s["lm_head"])

    def logits(self, cache, token: int, pos: int) -> list[float]:
        return [v.data for v in self.forward_token(token, pos, cache)]

    def logits_cached(self, cache, rows: list[list[int]], pos: int, every: bool = False) -> list:
        """Per row, the logits after its last token (every=True: after each of its tokens); the rows' tokens
        go in at positions pos, pos+1, ... one at a time, as the reference serves them."""
        out = []
        for notebook, row in zip(cache, rows):
            steps = [[v.data for v in self._forward(token, pos + i, notebook)] for i, token in enumerate(row)]
            out.append(steps if every else steps[-1])
        return out

    def logits_recomputed(self, rows: list[list[int]]) -> list[list[float]]:
        """Per row, the logits after its last token, the whole row served again from position 0."""
        return self.logits_cached(self.new_cache(len(rows)), rows, 0)

    def loss_graph(self, docs: list[list[int]]) -> Value:
        """The loss as a graph of Values: mean over every predicted position of -log p(target).

        Only this engine has such a graph: it is where the six techniques can be counted
        (autograd.count_techniques) and traced node by node (the tour and the web page do).
        Call it inside autograd.no_cycle_collector() when speed matters.
        """
        losses = []
        for tokens in docs:
            cache = self.new_cache()
            for pos in range(min(self.config.block_size, len(tokens) - 1)):
                exps, total = softmax_exps(self.forward_token(tokens[pos], pos, cache))
                p_target = exps[tokens[pos + 1]] * total**-1
                losses.append(-p_target.log())
        return (1 / len(losses)) * add(losses)

    def course_graph(self, tokens: list[int], pos: int) -> Value:
        """One course's penalty as a graph: -log p(tokens[pos + 1]) after tokens[: pos + 1]. Its
        backward() leaves each dial's influence on that one course in the dial's .grad: "too salty"
        traced back (the tour and the web page)."""
        cache = self.new_cache()
        for p in range(pos + 1):
            logits = self.forward_token(tokens[p], p, cache)
        exps, total = softmax_exps(logits)
        return -(exps[tokens[pos + 1]] * total**-1).log()

    def loss(self, docs: list[list[int]]) -> float:
        with no_cycle_collector():
            return self.loss_graph(docs).data

    # --- training -----------------------------------------------------------
    def loss_and_grads(self, docs: list[list[int]]) -> float:
        for p in self.flat:  # gradients are this loss's alone, as in every engine
            p.grad = 0.0
        with no_cycle_collector():
            loss = self.loss_graph(docs)
            loss.backward()
        return loss.data

    def grads(self) -> dict[str, list[list[float]]]:
        return {name: [[p.grad for p in row] for row in self.state[name]] for name in self.names}

    def clip_grads(self, max_norm: float) -> float:
        """The cap on the gas valve: scale every gradient by max_norm / norm when the norm is larger."""
        norm = sum(p.grad * p.grad for p in self.flat) ** 0.5
        if norm > max_norm:
            for p in self.flat:
                p.grad *= max_norm / norm
        return norm

    def update(self, adam: Adam, lr: float, t: int) -> None:
        """One Adam update of every dial, then clear the gradients (t counts updates from 1)."""
        m, v, rule = self.m, self.v, adam.rule
        for i, p in enumerate(self.flat):
            p.data, m[i], v[i] = rule(p.data, p.grad, m[i], v[i], lr, t)
            p.grad = 0.0

    # --- export -------------------------------------------------------------
    def params(self) -> dict[str, list[list[float]]]:
        return {name: [[p.data for p in row] for row in self.state[name]] for name in self.names}

    def moments(self) -> tuple[dict, dict]:
        return _unflatten(self.config, self.m), _unflatten(self.config, self.v)


def _unflatten(config: GPTConfig, flat: list[float]) -> dict[str, list[list[float]]]:
    out, i = {}, 0
    for name, (rows, cols) in param_shapes(config):
        out[name] = [flat[i + r * cols : i + (r + 1) * cols] for r in range(rows)]
        i += rows * cols
    return out

