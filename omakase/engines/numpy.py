"""Ming's fast kitchen: the same GPT on NumPy arrays, with a hand-written backward.

The model is exactly the scalar kitchen's (see scalar.py); only the way the
numbers are computed changes:

- a whole document goes through at once, every position side by side, and a
  causal mask stops a position from looking at later ones;
- a mini-batch of documents goes through together, right-padded to the longest
  one; padded positions never reach the loss, and (causal mask + right padding)
  no real position ever looks at a padded one, so their gradients are exactly 0;
- the backward pass is written by hand. Every rule below is the array form of
  one of the six techniques of autograd.py, named in a comment, so the two
  kitchens can be read side by side:

      add    c = a + b          da += dc,          db += dc      (a sum: every term gets dc)
      mul    c = a * b          da += dc * b,      db += dc * a  (a matmul is many mul + add)
      pow    c = a ** k         da += dc * k * a ** (k - 1)
      log    c = log(a)         da += dc / a
      exp    c = exp(a)         da += dc * c
      relu   c = max(0, a)      da += dc * (a > 0)

All parameters live in one flat float64 buffer (gradients and Adam's m, v
likewise), each matrix a view into it, so Adam is one vectorized call of the
very same `adam.rule` the scalar engine applies one dial at a time.
"""

from __future__ import annotations

import numpy as np

from ..adam import Adam
from ..config import GPTConfig, param_shapes

EPS = 1e-5  # rmsnorm's guard against dividing by zero, as in the reference


def rmsnorm(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The palate cleanser on the last axis: x * (mean(x^2) + eps) ** -0.5. Returns (y, scale)."""
    mean_square = (x * x).mean(-1, keepdims=True)
    scale = (mean_square + EPS) ** -0.5
    return x * scale, scale


def rmsnorm_backward(dy: np.ndarray, x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """dx for y = rmsnorm(x), one technique per line."""
    dx = dy * scale  # mul: y = x * scale ...
    dscale = (dy * x).sum(-1, keepdims=True)  # ... and scale was used by every feature: add them up
    # pow: scale = a ** -0.5 with a = mean_square + eps, so da = dscale * -0.5 * a ** -1.5 = -0.5 * scale ** 3
    dmean_square = dscale * (-0.5 * scale**3)  # add: + eps passes the gradient through unchanged
    dsquare = dmean_square / x.shape[-1]  # mul by the constant 1/n, then add: every x_i * x_i gets a share
    return dx + dsquare * 2 * x  # mul: x_i * x_i uses x_i twice, so dx_i += dsquare * x_i, twice


def _views(buffer: np.ndarray, config: GPTConfig) -> tuple[dict, list[dict]]:
    """Per-matrix views into a flat buffer, and per layer the views one step of the model uses.

    The layer's query, key and value matrices sit next to each other in the
    buffer (that is the reference's init order), so one (3d, d) view holds all
    three: one matmul makes q, k and v.
    """
    matrices, offsets, offset = {}, {}, 0
    for name, (rows, cols) in param_shapes(config):
        matrices[name] = buffer[offset : offset + rows * cols].reshape(rows, cols)
        offsets[name] = offset
        offset += rows * cols
    d = config.n_embd
    layers = []
    for i in range(config.n_layer):
        start = offsets[f"layer{i}.attn_wq"]
        layers.append(
            {
                "qkv": buffer[start : start + 3 * d * d].reshape(3 * d, d),
                "wo": matrices[f"layer{i}.attn_wo"],
                "fc1": matrices[f"layer{i}.mlp_fc1"],
                "fc2": matrices[f"layer{i}.mlp_fc2"],
            }
        )
    return matrices, layers


class NumpyEngine:
    """Forward on arrays, backward by hand, Adam on the whole flat buffer at once."""

    name = "numpy"
    # documents per forward pass when only measuring a loss: small enough that a pass's arrays stay in the
    # CPU's cache (on names, the whole held-out set measured twice as fast as with 512)
    eval_batch = 64

    def __init__(self, config: GPTConfig, params: dict, moments: tuple[dict, dict] | None = None):
        self.config = config
        self.names = [name for name, _ in param_shapes(config)]
        self.data = self._flatten(params)
        self.grad = np.zeros_like(self.data)
        if moments is None:
            self.m, self.v = np.zeros_like(self.data), np.zeros_like(self.data)
        else:
            self.m, self.v = self._flatten(moments[0]), self._flatten(moments[1])
        self.w, self.w_layers = _views(self.data, config)
        self.g, self.g_layers = _views(self.grad, config)
        self.attn_scale = (config.head_dim**0.5) ** -1  # the scalar engine's constant, computed the same way
        # 0 where a position may look (itself and earlier ones), -inf where it may not: exp(-inf) = 0
        block = config.block_size
        self.causal = np.triu(np.full((block, block), -np.inf), k=1)

    def _flatten(self, nested: dict) -> np.ndarray:
        return np.concatenate([np.asarray(nested[name], dtype=np.float64).ravel() for name in self.names])

    # --- the batch ----------------------------------------------------------
    def _batch(self, docs: list[list[int]]):
        """Inputs, targets and a mask of real positions, (B, T) each; docs cut to block_size predictions."""
        cut = [tokens[: self.config.block_size + 1] for tokens in docs]
        T = max(len(tokens) for tokens in cut) - 1
        inputs = np.zeros((len(cut), T), dtype=np.intp)  # padding reads token 0: any token would do
        targets = np.zeros((len(cut), T), dtype=np.intp)
        real = np.zeros((len(cut), T), dtype=bool)
        for b, tokens in enumerate(cut):
            n = len(tokens) - 1
            inputs[b, :n], targets[b, :n], real[b, :n] = tokens[:-1], tokens[1:], True
        return inputs, targets, real

    # --- the forward pass ---------------------------------------------------
    def forward(self, inputs: np.ndarray, cache=None, pos0: int = 0) -> tuple[np.ndarray, list]:
        """Logits (B, T, vocab) at every position of token ids inputs (B, T), and what backward needs.

        The one forward pass, for training and cooking alike. Without a cache the T tokens are
        positions 0..T-1 of each document. With a cache (cooking, B = 1) they are positions
        pos0..pos0+T-1: their keys and values are written into the cache and each position
        attends to every cached position up to itself.
        """
        cfg, w = self.config, self.w
        B, T = inputs.shape
        H, hd, C = cfg.n_head, cfg.head_dim, cfg.n_embd
        end = pos0 + T
        emb = w["wte"][inputs] + w["wpe"][pos0:end]
        x, scale0 = rmsnorm(emb)
        saved = [(emb, scale0)]
        for li, layer in enumerate(self.w_layers):
            x_in = x
            xn, scale1 = rmsnorm(x_in)
            # (B, T, 3, H, hd) -> (3, B, H, T, hd): every head of every document at once
            q, k, v = (xn @ layer["qkv"].T).reshape(B, T, 3, H, hd).transpose(2, 0, 3, 1, 4)
            if cache is not None:  # the notebooks: keys and values of every course served so far
                keys, values = cache
                keys[li, :, :, pos0:end], values[li, :, :, pos0:end] = k, v
                k, v = keys[li, :, :, :end], values[li, :, :, :end]
            scores = (q @ k.swapaxes(-1, -2)) * self.attn_scale + self.causal[pos0:end, :end]
            exps = np.exp(scores - scores.max(-1, keepdims=True))  # the max is a constant, as in scalar.py
            total = exps.sum(-1, keepdims=True)
            inv = total**-1
            weights = exps * inv
            heads = (weights @ v).transpose(0, 2, 1, 3).reshape(B, T, C)
            x_mid = heads @ layer["wo"].T + x_in
            xn2, scale2 = rmsnorm(x_mid)
            pre = xn2 @ layer["fc1"].T
            hidden = np.maximum(pre, 0.0)
            x = hidden @ layer["fc2"].T + x_mid
            saved.append((x_in, xn, scale1, q, k, v, exps, total, inv, weights, heads, x_mid, xn2, scale2, pre, hidden))
        saved.append(x)
        return x @ w["lm_head"].T, saved

    def _nll(self, logits: np.ndarray, targets: np.ndarray):
        """-log p(target) at every position (flattened), and the pieces the backward pass needs."""
        V = logits.shape[-1]
        logits = logits.reshape(-1, V)
        rows, targets = np.arange(len(logits)), targets.ravel()
        exps = np.exp(logits - logits.max(-1, keepdims=True))
        total = exps.sum(-1)
        inv = total**-1
        p_target = exps[rows, targets] * inv
        return -np.log(p_target), (rows, targets, exps, total, inv, p_target)

    def loss(self, docs: list[list[int]]) -> float:
        """Mean -log p(target) over every real position; a long list of docs goes eval_batch at a time."""
        total, count = 0.0, 0
        for start in range(0, len(docs), self.eval_batch):
            inputs, targets, real = self._batch(docs[start : start + self.eval_batch])
            nll, _ = self._nll(self.forward(inputs)[0], targets)
            total += nll[real.ravel()].sum()
            count += int(real.sum())
        return float(total / count)

    # --- the backward pass --------------------------------------------------
    # A diverging run overflows; the training loop sees the non-finite loss and stops, so numpy's
    # warnings would only add noise.
    @np.errstate(over="ignore", invalid="ignore", divide="ignore")
    def loss_and_grads(self, docs: list[list[int]]) -> float:
        """Token-weighted mean loss of the batch; fills the gradient buffer (replacing what it held)."""
        cfg, w, g = self.config, self.w, self.g
        inputs, targets, real = self._batch(docs)
        B, T = inputs.shape
        H, hd, C = cfg.n_head, cfg.head_dim, cfg.n_embd
        logits, saved = self.forward(inputs)
        nll, (rows, targets, exps, total, inv, p_target) = self._nll(logits, targets)
        real = real.ravel()
        n = int(real.sum())
        loss = nll[real].sum() * (1 / n)
        self.grad.fill(0.0)  # every view below is written once, except wte's rows (added per token)

        # loss = (1/n) * add(-log(p_target)) over the real positions; p_target = exps[target] * total ** -1
        dnll = real * (1 / n)  # add, then mul by the constant 1/n (padded positions get 0)
        dp = dnll * -1 / p_target  # mul by -1, then log: d log(a) = 1 / a
        de_target = dp * inv  # mul: p_target = exps[target] * inv
        dinv = dp * exps[rows, targets]
        dtotal = dinv * (-1 * total**-2)  # pow: inv = total ** -1
        dexps = np.empty_like(exps)
        dexps[:] = dtotal[:, None]  # add: every exp went into the total ...
        dexps[rows, targets] += de_target  # ... and the target's also into p_target
        dlogits = dexps * exps  # exp: d exp(a) = exp(a); the subtracted max is a constant

        # logits = x @ lm_head.T: a matmul is mul + add, so dW = dy.T @ x and dx = dy @ W
        x = saved.pop().reshape(-1, C)
        g["lm_head"][:] = dlogits.T @ x
        dx = (dlogits @ w["lm_head"]).reshape(B, T, C)

        for layer, grad, acts in reversed(list(zip(self.w_layers, self.g_layers, saved[1:]))):
            x_in, xn, scale1, q, k, v, exps, total, inv, weights, heads, x_mid, xn2, scale2, pre, hidden = acts
            # MLP: x = hidden @ fc2.T + x_mid (add: the residual gets dx unchanged)
            dx2d = dx.reshape(-1, C)
            grad["fc2"][:] = dx2d.T @ hidden.reshape(-1, 4 * C)
            dhidden = dx @ layer["fc2"]
            dpre = dhidden * (pre > 0)  # relu: only the dishes that passed the quality check
            grad["fc1"][:] = dpre.reshape(-1, 4 * C).T @ xn2.reshape(-1, C)
            dx_mid = dx + rmsnorm_backward(dpre @ layer["fc1"], x_mid, scale2)

            # attention: x_mid = heads @ wo.T + x_in (add: the residual gets dx_mid unchanged)
            grad["wo"][:] = dx_mid.reshape(-1, C).T @ heads.reshape(-1, C)
            dheads = (dx_mid @ layer["wo"]).reshape(B, T, H, hd).transpose(0, 2, 1, 3)
            # heads = weights @ v: mul + add
            dweights = dheads @ v.swapaxes(-1, -2)
            dv = weights.swapaxes(-1, -2) @ dheads
            # weights = exps * inv (mul), inv = total ** -1 (pow), total = add(exps), exps = exp(scores - max)
            dexps = dweights * inv
            dinv = (dweights * exps).sum(-1, keepdims=True)
            dtotal = dinv * (-1 * total**-2)
            dscores = (dexps + dtotal) * exps  # add: every exp went into the total; then exp
            dscores *= self.attn_scale  # mul by the constant 1/sqrt(head_dim); masked entries have exps = 0
            # scores = q @ k.T: mul + add
            dq = dscores @ k
            dk = dscores.swapaxes(-1, -2) @ q
            # undo the head split: (3, B, H, T, hd) -> (B*T, 3*C), then q, k, v = xn @ qkv.T
            dqkv = np.stack([dq, dk, dv]).transpose(1, 3, 0, 2, 4).reshape(B * T, 3 * C)
            grad["qkv"][:] = dqkv.T @ xn.reshape(-1, C)
            dx = dx_mid + rmsnorm_backward((dqkv @ layer["qkv"]).reshape(B, T, C), x_in, scale1)

        # x = rmsnorm(wte[token] + wpe[pos]): add, so both rows get demb
        emb, scale0 = saved[0]
        demb = rmsnorm_backward(dx, emb, scale0)
        np.add.at(g["wte"], inputs, demb)  # a token used twice gets both shares
        g["wpe"][:T] = demb.sum(0)
        return float(loss)

    def grads(self) -> dict[str, list[list[float]]]:
        return {name: self.g[name].tolist() for name in self.names}

    def clip_grads(self, max_norm: float) -> float:
        """The cap on the gas valve: scale every gradient by max_norm / norm when the norm is larger."""
        norm = float(np.sqrt((self.grad * self.grad).sum()))
        if norm > max_norm:
            self.grad *= max_norm / norm
        return norm

    def update(self, adam: Adam, lr: float, t: int) -> None:
        """One Adam update of every dial at once, then clear the gradients (t counts updates from 1)."""
        self.data[:], self.m, self.v = adam.rule(self.data, self.grad, self.m, self.v, lr, t)
        self.grad.fill(0.0)

    # --- one token at a time, for cooking -----------------------------------
    def new_cache(self, batch: int = 1):
        """The sous chefs' notebooks: per layer, row and head, room for the keys and values of block_size courses."""
        cfg = self.config
        shape = (cfg.n_layer, batch, cfg.n_head, cfg.block_size, cfg.head_dim)
        return np.zeros(shape), np.zeros(shape)

    def forward_token(self, token: int, pos: int, cache, trace: dict | None = None) -> np.ndarray:
        """Logits for the next token after `token` at `pos`: the forward pass with B = T = 1 and the cache.

        If `trace` is a dict, the intermediate vectors are recorded in it (see engines.Engine).
        """
        logits, saved = self.forward(np.array([[token]]), cache, pos)
        if trace is not None:
            trace["embedding"] = saved[0][0][0, 0].tolist()  # flavor card + position tag, before the cleanser
            layers = saved[1:-1]
            outputs = [acts[0] for acts in layers[1:]] + [saved[-1]]  # a layer's output is the next one's input
            for acts, out in zip(layers, outputs):
                x_in, weights, x_mid, pre, hidden = acts[0], acts[9], acts[11], acts[14], acts[15]
                for key, value in (("stream_in", x_in[0, 0]), ("attention", weights[0, :, 0]),
                                   ("after_attention", x_mid[0, 0]), ("mlp_pre", pre[0, 0]),
                                   ("mlp_hidden", hidden[0, 0]), ("residual", out[0, 0])):
                    trace.setdefault(key, []).append(value.tolist())
        return logits[0, 0]

    def logits(self, cache, token: int, pos: int) -> list[float]:
        return self.forward_token(token, pos, cache).tolist()

    def logits_cached(self, cache, rows: list[list[int]], pos: int, every: bool = False) -> list:
        """Per row, the logits after its last token (every=True: after each of its tokens). Each row goes
        through alone, one token at a time, as cooking always has: the floats of a name do not depend on
        what else is in the batch."""
        keys, values = cache
        out = []
        for b, row in enumerate(rows):
            notebook = keys[:, b : b + 1], values[:, b : b + 1]  # views: the forward pass writes through them
            steps = [self.forward(np.array([[token]]), notebook, pos + i)[0][0, 0].tolist()
                     for i, token in enumerate(row)]
            out.append(steps if every else steps[-1])
        return out

    def logits_recomputed(self, rows: list[list[int]]) -> list[list[float]]:
        """Per row, the logits after its last token, every position computed again (no cache)."""
        return [self.forward(np.array([row]))[0][0, -1].tolist() for row in rows]

    # --- export -------------------------------------------------------------
    def params(self) -> dict[str, list[list[float]]]:
        return {name: self.w[name].tolist() for name in self.names}

    def moments(self) -> tuple[dict, dict]:
        m, _ = _views(self.m, self.config)
        v, _ = _views(self.v, self.config)
        return {name: m[name].tolist() for name in self.names}, {name: v[name].tolist() for name in self.names}
