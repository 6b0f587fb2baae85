"""The Michelin kitchen: the same GPT as a PyTorch nn.Module, with PyTorch's autograd.

The model is exactly the scalar kitchen's (see scalar.py) and the fast
kitchen's (numpy.py): RMSNorm without a gain, ReLU, no biases, an untied output
layer, and an extra RMSNorm right after the embeddings; the parameters have the
same names, shapes and init order (config.py). Only the computing changes:
tensors on CPU or CUDA, backward by autograd, any float dtype.

In float64 on the CPU it gives the other engines' losses and gradients to
1e-10 (tests/test_engines.py). In float32 or bfloat16 it is a little less exact
(benchmarks/dtypes.py measures how much); on CUDA in float32, bfloat16 autocast is on.

When torch.distributed is initialized (torchrun), each process computes its
share of the batch and the gradients are summed across processes, weighted by
how many tokens each share had, so every process holds exactly the gradient of
the whole batch: the training loop does not know it runs on several stoves.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..adam import Adam
from ..config import GPTConfig, param_shapes
from ..distributed import rank_and_world
from ..errors import OmakaseError

EPS = 1e-5  # rmsnorm's guard, as in the reference
INIT_STD = 0.02  # GPT-2's; the reference's 0.08 suits 16-wide Ming, not a few hundred wide
DTYPES = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16}


def rmsnorm(x: torch.Tensor) -> torch.Tensor:
    """The palate cleanser: x * (mean(x^2) + eps) ** -0.5, no learned gain."""
    return x * (x.pow(2).mean(-1, keepdim=True) + EPS).rsqrt()


def pick_device(name: str = "auto") -> torch.device:
    """auto: CUDA when present, else the CPU. Asking for a device that is absent is one clear line."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    available = {"cpu": True, "cuda": torch.cuda.is_available(),
                 "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()}
    if name not in available:
        raise OmakaseError(f"unknown device {name!r}; choose auto, cpu, cuda or mps")
    if not available[name]:
        raise OmakaseError(f"device {name} is not available on this machine; use cpu (or auto)")
    return torch.device(name)


class GPT(nn.Module):
    """Ming as an nn.Module. Matrices are stored as in the checkpoint: rows are output features."""

    def __init__(self, config: GPTConfig, dropout: float = 0.0):
        super().__init__()
        self.config = config
        self.dropout = dropout  # burners turned off at random, while training only
        self.names = [name for name, _ in param_shapes(config)]
        # nn.ParameterDict keys may not hold dots: "layer0.attn_wq" is stored as "layer0_attn_wq"
        self.mats = nn.ParameterDict({name.replace(".", "_"): nn.Parameter(torch.empty(shape))
                                      for name, shape in param_shapes(config)})
        block = config.block_size
        self.register_buffer("causal", torch.ones(block, block, dtype=torch.bool).tril(), persistent=False)

    def w(self, name: str) -> torch.Tensor:
        return self.mats[name.replace(".", "_")]

    def new_cache(self, batch: int = 1):
        """The sous chefs' notebooks: per layer, room for the keys and values of block_size positions of
        `batch` rows, in the weights' dtype and on their device."""
        cfg, like = self.config, self.w("wte")
        shape = (batch, cfg.n_head, cfg.block_size, cfg.head_dim)
        make = lambda: [torch.zeros(shape, dtype=like.dtype, device=like.device) for _ in range(cfg.n_layer)]  # noqa: E731
        return make(), make()

    def forward(self, inputs: torch.Tensor, cache=None, pos0: int = 0, hidden: bool = False) -> torch.Tensor:
        """Logits (B, T, vocab) for token ids (B, T) at positions pos0..pos0+T-1.

        The one forward pass, for training and cooking alike. With a cache (the sous chefs'
        notebooks) the new keys and values are written into it and each position attends to
        every cached position up to itself; without one the tokens are positions 0..T-1.
        hidden=True returns the final hidden states (B, T, n_embd) instead, before lm_head:
        what a head other than the vocabulary's (the reward model's score) reads.
        """
        cfg = self.config
        B, T = inputs.shape
        H, hd = cfg.n_head, cfg.head_dim
        end = pos0 + T
        hidden_states = hidden
        drop = lambda t: F.dropout(t, self.dropout, self.training) if self.dropout else t  # noqa: E731
        x = rmsnorm(drop(self.w("wte")[inputs] + self.w("wpe")[pos0:end]))
        self.trace = []  # per layer, when cooking with a cache: what forward_token's trace reports
        for i in range(cfg.n_layer):
            x_in = x
            xn = rmsnorm(x_in)
            q, k, v = (xn @ self.w(f"layer{i}.attn_{m}").T for m in ("wq", "wk", "wv"))
            q, k, v = (t.view(B, T, H, hd).transpose(1, 2) for t in (q, k, v))  # (B, H, T, hd)
            if cache is None:  # training and scoring: PyTorch's fused attention, causal, on whole documents
                heads = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0,
                                                       is_causal=True)
            else:  # cooking: the notebooks hold every earlier course's keys and values
                keys, values = cache
                keys[i][:, :, pos0:end], values[i][:, :, pos0:end] = k, v
                k, v = keys[i][:, :, :end], values[i][:, :, :end]
                scores = (q @ k.transpose(-1, -2)) * (hd**-0.5)
                weights = scores.masked_fill(~self.causal[pos0:end, :end], float("-inf")).softmax(-1)
                heads = weights @ v
            heads = heads.transpose(1, 2).reshape(B, T, cfg.n_embd)
            x_mid = drop(heads @ self.w(f"layer{i}.attn_wo").T) + x_in  # the spoonful of stock: a residual add
            pre = rmsnorm(x_mid) @ self.w(f"layer{i}.mlp_fc1").T
            hidden = F.relu(pre)  # the back kitchen's quality check
            x = drop(hidden @ self.w(f"layer{i}.mlp_fc2").T) + x_mid
            if cache is not None:
                self.trace.append((x_in, weights, x_mid, pre, hidden, x))
        return x if hidden_states else x @ self.w("lm_head").T


def init_gpt(config: GPTConfig, seed: int, std: float = INIT_STD) -> GPT:
    """A GPT with every parameter drawn from N(0, std), reproducibly from the seed (in the config's order:
    the same seed, the same model). The assistant's models start here; Ming starts from config.init_params,
    the reference's own draws."""
    model = GPT(config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, shape in param_shapes(config):
            model.w(name).copy_(torch.randn(shape, generator=generator) * std)
    return model


class TorchEngine:
    """Forward in PyTorch, backward by autograd, Adam on every tensor (the reference's rule)."""

    name = "torch"
    eval_batch = 512  # documents per forward pass when only measuring a loss

    def __init__(self, config: GPTConfig, params: dict, moments: tuple[dict, dict] | None = None,
                 dtype: str = "float64", device: str = "cpu", dropout: float = 0.0, micro_batch: int = 0,
                 compile: bool = False, autocast: bool | None = None):
        if dtype not in DTYPES:
            raise OmakaseError(f"unknown dtype {dtype!r}; choose one of: {', '.join(DTYPES)}")
        self.config = config
        self.device = pick_device(device)
        self.dtype = DTYPES[dtype]
        if micro_batch < 0:
            raise OmakaseError(f"micro-batch must be >= 0 (0 = the whole share at once), got {micro_batch}")
        self.micro_batch = micro_batch  # gradient accumulation: documents per forward pass while training
        # bfloat16 autocast: float32 dials, the big matrix products in bfloat16; by default on CUDA only,
        # where it is the usual choice (on a CPU it is slower than float32)
        self.autocast = self.device.type == "cuda" and self.dtype == torch.float32 if autocast is None else autocast
        self.model = GPT(config, dropout).to(self.device).eval()  # dropout only inside loss_and_grads
        self._setup(compile)
        with torch.no_grad():
            for name in self.model.names:
                self.model.w(name).data = torch.tensor(params[name], dtype=torch.float64).to(self.device, self.dtype)
        self.tensors = [self.model.w(name) for name in self.model.names]
        if moments is None:  # Adam's m and v are made at the first update: a model that only cooks needs none
            self.m = self.v = None
        else:
            self.m, self.v = ([torch.tensor(mom[n], dtype=torch.float64).to(self.device, self.adam_dtype)
                               for n in self.model.names] for mom in moments)

    @classmethod
    def around(cls, model: GPT) -> "TorchEngine":
        """An engine computing with `model` itself (not a copy): its dtype and device, its weights as they
        change (a model being trained cooks with the dials it has now)."""
        engine = cls.__new__(cls)
        engine.config, engine.model = model.config, model
        like = model.w("wte")
        engine.device, engine.dtype, engine.micro_batch = like.device, like.dtype, 0
        engine.autocast = False
        engine._setup(False)
        engine.tensors = [model.w(name) for name in model.names]
        engine.m = engine.v = None
        return engine

    def _setup(self, compile: bool) -> None:
        # torch.compile fuses the whole-batch forward (training and measuring); cooking's one token at a
        # time with the cache stays eager, where compiling would only add graph breaks
        self.batch_forward = torch.compile(self.model) if compile else self.model
        # Adam works in float64 for a float64 model (exact) and in float32 otherwise (bfloat16 is too coarse)
        self.adam_dtype = torch.float64 if self.dtype == torch.float64 else torch.float32

    def _adam_state(self) -> None:
        if self.m is None:
            self.m = [torch.zeros_like(p, dtype=self.adam_dtype) for p in self.tensors]
            self.v = [torch.zeros_like(p, dtype=self.adam_dtype) for p in self.tensors]

    # --- the batch ----------------------------------------------------------
    def _summed_nll(self, docs: list[list[int]]) -> tuple[torch.Tensor, int]:
        """Sum of -log p(target) over every real position, and how many positions there were."""
        inputs, targets = padded_batch(docs, self.config.block_size, self.device)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            logits = self.batch_forward(inputs)
        logits = logits.to(torch.float64 if self.dtype == torch.float64 else torch.float32)
        nll = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-1, reduction="sum")
        return nll, int((targets >= 0).sum())

    # --- training -----------------------------------------------------------
    def loss_and_grads(self, docs: list[list[int]]) -> float:
        """Token-weighted mean loss of the batch; the gradients replace any held before.

        Under torch.distributed each process takes every world_size-th document; the summed
        losses and gradients are added across processes and divided by the batch's token count,
        which is exactly the single-process mean.
        """
        rank, world = rank_and_world()
        share = docs[rank::world]
        for p in self.tensors:
            p.grad = None
        self.model.train()
        summed, n, step = 0.0, 0, self.micro_batch or max(len(share), 1)
        for start in range(0, len(share), step):  # gradient accumulation: backward per micro-batch, sums add up
            nll, count = self._summed_nll(share[start : start + step])
            nll.backward()
            summed, n = summed + float(nll.detach()), n + count
        self.model.eval()
        total = torch.tensor([summed, float(n)], dtype=torch.float64, device=self.device)
        grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in self.tensors]
        if world > 1:
            import torch.distributed as dist

            dist.all_reduce(total)
            for g in grads:
                dist.all_reduce(g)
        count = total[1].item()
        for p, g in zip(self.tensors, grads):
            p.grad = g / count
        return total[0].item() / count

    @torch.no_grad()
    def loss(self, docs: list[list[int]]) -> float:
        """Mean -log p(target) over every real position, eval_batch documents at a time."""
        total, count = 0.0, 0
        for start in range(0, len(docs), self.eval_batch):
            nll, n = self._summed_nll(docs[start : start + self.eval_batch])
            total, count = total + float(nll), count + n
        return total / count

    def grads(self) -> dict[str, list[list[float]]]:
        return {name: (torch.zeros_like(p) if p.grad is None else p.grad).double().tolist()
                for name, p in zip(self.model.names, self.tensors)}

    @torch.no_grad()
    def clip_grads(self, max_norm: float) -> float:
        """The cap on the gas valve: scale every gradient by max_norm / norm when the norm is larger."""
        norm = sum(float((p.grad.double() ** 2).sum()) for p in self.tensors if p.grad is not None) ** 0.5
        if norm > max_norm:
            for p in self.tensors:
                if p.grad is not None:
                    p.grad.mul_(max_norm / norm)
        return norm

    @torch.no_grad()
    def update(self, adam: Adam, lr: float, t: int) -> None:
        """One Adam update of every dial (the very same adam.rule, on tensors), then clear the gradients."""
        self._adam_state()
        for i, p in enumerate(self.tensors):
            g = torch.zeros_like(p, dtype=self.adam_dtype) if p.grad is None else p.grad.to(self.adam_dtype)
            new, self.m[i], self.v[i] = adam.rule(p.to(self.adam_dtype), g, self.m[i], self.v[i], lr, t)
            p.copy_(new)
            p.grad = None

    # --- one token at a time, for cooking -----------------------------------
    def new_cache(self, batch: int = 1):
        """The sous chefs' notebooks for `batch` rows (GPT.new_cache)."""
        return self.model.new_cache(batch)

    @torch.no_grad()
    def forward_token(self, token: int, pos: int, cache, trace: dict | None = None) -> torch.Tensor:
        """Logits after `token` at `pos` (the forward pass with B = T = 1 and the cache)."""
        x = torch.tensor([[token]], device=self.device)
        logits = self.model(x, cache, pos)[0, 0]
        if trace is not None:
            w = self.model.w
            trace["embedding"] = (w("wte")[token] + w("wpe")[pos]).double().tolist()
            for x_in, weights, x_mid, pre, hidden, out in self.model.trace:
                for key, value in (("stream_in", x_in[0, 0]), ("attention", weights[0, :, 0, : pos + 1]),
                                   ("after_attention", x_mid[0, 0]), ("mlp_pre", pre[0, 0]),
                                   ("mlp_hidden", hidden[0, 0]), ("residual", out[0, 0])):
                    trace.setdefault(key, []).append(value.double().tolist())
        return logits

    def logits(self, cache, token: int, pos: int) -> list[float]:
        return self.forward_token(token, pos, cache).double().tolist()

    @torch.inference_mode()
    def logits_cached(self, cache, rows: list[list[int]], pos: int, every: bool = False) -> list:
        """Per row, the logits after its last token (every=True: after each of its tokens): every row and
        position in ONE forward pass with the cache (the rows have the same length)."""
        logits = self.model(torch.tensor(rows, device=self.device), cache, pos)
        return (logits if every else logits[:, -1]).double().tolist()

    @torch.inference_mode()
    def logits_recomputed(self, rows: list[list[int]]) -> list[list[float]]:
        """Per row, the logits after its last token, the whole rows in one forward pass without a cache."""
        return self.model(torch.tensor(rows, device=self.device))[:, -1].double().tolist()

    # --- export -------------------------------------------------------------
    def params(self) -> dict[str, list[list[float]]]:
        return {name: p.detach().double().tolist() for name, p in zip(self.model.names, self.tensors)}

    def moments(self) -> tuple[dict, dict]:
        self._adam_state()
        names = self.model.names
        return ({n: m.double().tolist() for n, m in zip(names, self.m)},
                {n: v.double().tolist() for n, v in zip(names, self.v)})


class ReferenceAdam(torch.optim.Optimizer):
    """Ming's hand-written Adam (adam.py) as a torch optimizer, for fit.py: the very arithmetic of
    TorchEngine.update (the rule in float64 for a float64 model, else float32), moments in the lists
    m and v (an engine's own, when given, so its checkpoint holds them)."""

    def __init__(self, params, adam: Adam, lr: float = 0.01, m: list | None = None, v: list | None = None):
        super().__init__(list(params), {"lr": lr})
        self.adam, self.t = adam, 0
        tensors = [p for group in self.param_groups for p in group["params"]]
        exact = lambda p: torch.float64 if p.dtype == torch.float64 else torch.float32  # noqa: E731
        self.m = m if m is not None else [torch.zeros_like(p, dtype=exact(p)) for p in tensors]
        self.v = v if v is not None else [torch.zeros_like(p, dtype=exact(p)) for p in tensors]

    @torch.no_grad()
    def step(self, closure=None) -> None:
        self.t += 1
        tensors = [(p, group["lr"]) for group in self.param_groups for p in group["params"]]
        for i, (p, lr) in enumerate(tensors):
            dtype = self.m[i].dtype
            g = torch.zeros_like(p, dtype=dtype) if p.grad is None else p.grad.to(dtype)
            new, self.m[i], self.v[i] = self.adam.rule(p.to(dtype), g, self.m[i], self.v[i], lr, self.t)
            p.copy_(new)


def padded_batch(docs: list[list[int]], block_size: int, device="cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs, targets (-1 where padded), (B, T) each; docs cut to block_size predictions."""
    cut = [tokens[: block_size + 1] for tokens in docs]
    T = max(len(tokens) for tokens in cut) - 1
    inputs = torch.zeros((len(cut), T), dtype=torch.long)
    targets = torch.full((len(cut), T), -1, dtype=torch.long)
    for b, tokens in enumerate(cut):
        n = len(tokens) - 1
        inputs[b, :n] = torch.tensor(tokens[:-1])
        targets[b, :n] = torch.tensor(tokens[1:])
    return inputs.to(device), targets.to(device)
