"""Pre-measured spice packets: INT8 weights, our own per-row version and PyTorch's dynamic quantization.

Symmetric int8 per output channel: each row of a weight matrix (one output
feature) gets one float scale, max|row| / 127, and its values become integers
in [-127, 127]; the row is read back as int8 * scale. Storing a weight takes one
byte instead of four (plus one float per row), and each value moves by at most
scale / 2.

Our GPT multiplies raw matrices (`x @ W.T`), while torch.ao.quantization.
quantize_dynamic only replaces nn.Linear modules; so LinearGPT holds the very
same matrices in nn.Linear / nn.Embedding modules and repeats GPT.forward
(measured here without a cache; the size sweep, sweep.py, decodes with one).
Every variant measured here is a LinearGPT with some of its modules swapped:

    float32            the matrices as they are
    int8 dequantize    ours: int8 weights + scales, turned back into float for every matmul
                       (weight-only: activations stay float; wte/wpe quantized too by default)
    int8 _int_mm       ours: the same int8 weights, activations quantized per token on the
                       fly and multiplied with torch._int_mm (int8 x int8 -> int32)
    int8 torch dynamic quantize_dynamic(qint8): nn.Linear only (lm_head included,
                       wte/wpe stay float32), per-tensor weight scale, activations
                       quantized per batch on the fly
"""

from __future__ import annotations

import io
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from ..engines.torch import GPT, padded_batch, rmsnorm
from ..model import Model, Sampler, SequenceBackend, generate, held_out_loss
from . import frozen
from .measured import Measured, Plot
from ..timing import alternate_seconds, machine

BLOCK = ("attn_wq", "attn_wk", "attn_wv", "attn_wo", "mlp_fc1", "mlp_fc2")  # the matrices of one layer


def quantize_rows(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8 per row: (int8 values, float32 scale per row), w ~ values * scale[:, None].

    A row of zeros gets scale 0 (its values are 0 and read back exactly)."""
    w = w.detach().float()
    scale = w.abs().amax(dim=1) / 127
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))  # no 0/0 for an all-zero row
    values = torch.round(w / safe[:, None]).clamp(-127, 127).to(torch.int8)
    return values, scale


def dequantize(values: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """The float32 matrix that int8 `values` with per-row `scale` stand for."""
    return values.float() * scale[:, None]


def _linear(weight: torch.Tensor) -> nn.Linear:
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
    layer.weight = nn.Parameter(weight, requires_grad=False)
    return layer


class LinearGPT(nn.Module):
    """GPT.forward with its matrices held by nn.Linear(bias=False) and nn.Embedding modules, so that
    module-swapping tools (quantize_dynamic) can reach them. Float32 copies of `model`'s weights. It decodes
    with a cache of its own (new_cache) where the size sweep times a cached decoding step."""

    def __init__(self, model: GPT):
        super().__init__()
        self.config = cfg = model.config
        weight = lambda name: model.w(name).detach().float().clone()  # noqa: E731
        self.wte = nn.Embedding.from_pretrained(weight("wte"))
        self.wpe = nn.Embedding.from_pretrained(weight("wpe"))
        self.layers = nn.ModuleList(nn.ModuleDict({m: _linear(weight(f"layer{i}.{m}")) for m in BLOCK})
                                    for i in range(cfg.n_layer))
        self.lm_head = _linear(weight("lm_head"))

    def new_cache(self, batch: int = 1):
        """Room for the keys and values of block_size positions per layer, in float32 (GPT.new_cache's layout):
        an int8 model decodes with a float cache, its weights alone are int8."""
        cfg = self.config
        shape = (batch, cfg.n_head, cfg.block_size, cfg.head_dim)
        return [torch.zeros(shape) for _ in range(cfg.n_layer)], [torch.zeros(shape) for _ in range(cfg.n_layer)]

    def forward(self, inputs: torch.Tensor, cache=None, pos0: int = 0) -> torch.Tensor:
        """Logits (B, T, vocab); with a cache (new_cache) the tokens sit at positions pos0.. and attend to
        every cached position up to their own, as GPT.forward decodes."""
        cfg = self.config
        B, T = inputs.shape
        H, hd = cfg.n_head, cfg.head_dim
        end = pos0 + T
        x = rmsnorm(self.wte(inputs) + self.wpe(torch.arange(pos0, end, device=inputs.device)))
        for i, layer in enumerate(self.layers):
            xn = rmsnorm(x)
            q, k, v = (layer[m](xn).view(B, T, H, hd).transpose(1, 2) for m in ("attn_wq", "attn_wk", "attn_wv"))
            if cache is None:
                heads = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:  # position pos0 + t sees the cached positions 0 .. pos0 + t
                keys, values = cache
                keys[i][:, :, pos0:end], values[i][:, :, pos0:end] = k, v
                seen = torch.ones(T, end, dtype=torch.bool, device=inputs.device).tril(pos0)
                heads = F.scaled_dot_product_attention(q, keys[i][:, :, :end], values[i][:, :, :end], attn_mask=seen)
            heads = heads.transpose(1, 2).reshape(B, T, cfg.n_embd)
            x = layer["attn_wo"](heads) + x
            x = layer["mlp_fc2"](F.relu(layer["mlp_fc1"](rmsnorm(x)))) + x
        return self.lm_head(x)


class Int8Linear(nn.Module):
    """y = x @ W.T with W stored as int8 rows and a float scale per row.

    kernel "dequantize": W is rebuilt in float32 for every call (weight-only int8: saves memory, not time).
    kernel "int_mm": x is quantized per token (per row) too, torch._int_mm multiplies the int8
    matrices into int32, and the two scales are applied to the result."""

    def __init__(self, weight: torch.Tensor, kernel: str = "dequantize"):
        super().__init__()
        if kernel not in ("dequantize", "int_mm"):
            raise ValueError(f"unknown kernel {kernel!r}: dequantize or int_mm")
        self.kernel = kernel
        values, scale = quantize_rows(weight)
        self.register_buffer("values", values)
        self.register_buffer("scale", scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kernel == "dequantize":
            return x @ dequantize(self.values, self.scale).T
        flat = x.reshape(-1, x.shape[-1])
        x_values, x_scale = quantize_rows(flat)
        acc = torch._int_mm(x_values, self.values.T)  # (tokens, out) int32, exact integer sums
        y = acc.float() * x_scale[:, None] * self.scale[None, :]
        return y.view(*x.shape[:-1], -1)


class Int8Embedding(nn.Module):
    """Rows looked up as int8 and scaled: only the rows read are turned back into float."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        values, scale = quantize_rows(weight)
        self.register_buffer("values", values)
        self.register_buffer("scale", scale)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.values[ids].float() * self.scale[ids].unsqueeze(-1)


def int8_gpt(model: GPT, kernel: str = "dequantize", embeddings: bool = True) -> LinearGPT:
    """Our int8 model: every matrix product weight (attention, MLP, lm_head) int8 per row; wte and
    wpe too when `embeddings`. Same forward as LinearGPT."""
    quantized = LinearGPT(model)
    for layer in quantized.layers:
        for m in BLOCK:
            layer[m] = Int8Linear(layer[m].weight, kernel)
    quantized.lm_head = Int8Linear(quantized.lm_head.weight, kernel)
    if embeddings:
        quantized.wte, quantized.wpe = Int8Embedding(quantized.wte.weight), Int8Embedding(quantized.wpe.weight)
    return quantized


def torch_dynamic_int8(model: GPT) -> tuple[nn.Module, list[str]]:
    """PyTorch's anchor: quantize_dynamic(LinearGPT, {nn.Linear}, qint8), and the warnings it raised
    (torch.ao.quantization is deprecated in recent versions but still works)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quantized = torch.ao.quantization.quantize_dynamic(LinearGPT(model), {nn.Linear}, dtype=torch.qint8)
    return quantized, sorted({w.category.__name__ for w in caught})


def saved_bytes(module: nn.Module) -> int:
    """Length of torch.save(state_dict): the file on disk, with pickling's overhead."""
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def _int_mm_works() -> str | None:
    """None when torch._int_mm runs on this CPU, else why not."""
    try:
        torch._int_mm(torch.ones(17, 16, dtype=torch.int8), torch.ones(16, 8, dtype=torch.int8))
        return None
    except (RuntimeError, AttributeError) as error:
        return str(error).splitlines()[0]


def greedy_recomputed(module: nn.Module, prompt: list[int], n_new: int) -> list[int]:
    """n_new greedy tokens from a module without a cache (the whole prefix every step), through generate."""
    backend = Model(SequenceBackend(module, module.config, "int8"), None)
    return generate(backend, prompt, sampler=Sampler(0.0), max_new=n_new, cache=False)[0].ids


def measure(served: Model, repeats: int = 5, docs: int = 1000, progress=None) -> Measured:
    """Size, forward and generation speed, and held-out loss of float32 and three int8 variants."""
    model, cfg = served.network, served.config
    sample = frozen.sample_of(frozen.held_out(served), docs)
    inputs, targets = padded_batch(sample, cfg.block_size)
    tokens = int((targets >= 0).sum())
    bell = [served.tokenizer.bos]
    n_new = cfg.block_size  # from the bell to a full block, the whole prefix recomputed each step
    dynamic, caught = torch_dynamic_int8(model)
    variants = [("float32", LinearGPT(model)), ("int8 ours, dequantize", int8_gpt(model, "dequantize"))]
    int_mm_problem = _int_mm_works()
    if int_mm_problem is None:
        variants.append(("int8 ours, _int_mm", int8_gpt(model, "int_mm")))
    variants.append(("int8 torch dynamic", dynamic))
    rows = []
    for done, (name, module) in enumerate(variants):
        if progress:
            progress(done, len(variants), name)
        loss = held_out_loss(module, sample)
        rows.append([name, frozen.weight_bytes(module), saved_bytes(module), loss])
    if progress:
        progress(len(variants), len(variants), "timing")
    with torch.inference_mode():  # timed in turns, so every ratio compares runs taken side by side
        forward_t = alternate_seconds([lambda m=m: m(inputs) for _, m in variants], repeats)
    generation_t = alternate_seconds([lambda m=m: greedy_recomputed(m, bell, n_new) for _, m in variants], repeats)
    forward, generation = [t.median for t in forward_t], [t.median for t in generation_t]
    base = rows[0]
    rows = [[name, wb, sb, wb / base[1], tokens / f, forward[0] / f, n_new / g, generation[0] / g, loss, loss - base[3],
             round(max(ft.spread, gt.spread), 3)]
            for (name, wb, sb, loss), f, g, ft, gt in zip(rows, forward, generation, forward_t, generation_t)]
    columns = ["variant", "weight bytes", "saved bytes", "size x", "forward tokens/s",
               "forward x", "generate tokens/s", "generate x", "held-out loss", "loss change", "spread"]
    result = Measured("quantize", "INT8 weights: size, speed and held-out loss", columns, rows, setup={
        "model": served.path.name, "config": cfg.to_dict(), "repeats": repeats, "held_out_docs": len(sample),
        "forward_batch": list(inputs.shape), "forward_tokens": tokens, "generate_tokens": n_new,
        "generate": "batch 1, greedy from the bell, no cache (the whole prefix every step)",
        "float32": "LinearGPT: the GPT's matrices in nn.Linear/nn.Embedding (the same logits)",
        "ours": "symmetric int8 per output row, float32 scale per row; attention, MLP, lm_head, wte, wpe",
        "torch_dynamic": "torch.ao.quantization.quantize_dynamic qint8 on nn.Linear (per-tensor weight scale); "
                         "wte/wpe float32", "torch_dynamic_warnings": caught,
        "int_mm": int_mm_problem or "available",
        "spread": "(slowest - fastest) / median of the repeats, the larger of forward and generation", **machine()})
    result.notes = _notes(result)
    result.plot = Plot(x="variant", y=["forward x", "generate x", "size x"],
                       xlabel="variant", ylabel="ratio to float32")
    return result


def _notes(result: Measured) -> list[str]:
    notes = []
    for row in result.rows[1:]:
        r = dict(zip(result.columns, row))
        notes.append(f"{r['variant']}: {r['size x']:.2f}x the float32 weight bytes "
                     f"({r['weight bytes']:,} vs {result.rows[0][1]:,}), forward at {r['forward x']:.2f}x "
                     f"and generation at {r['generate x']:.2f}x the float32 tokens/s, "
                     f"held-out loss {r['held-out loss']:.4f} ({r['loss change']:+.4f}).")
    col = result.columns.index
    fwd = max(result.rows[1:], key=lambda row: row[col("forward x")])
    gen = max(result.rows[1:], key=lambda row: row[col("generate x")])
    verdict = "held" if max(fwd[col("forward x")], gen[col("generate x")]) >= 4 else "did not hold"
    notes.append(f"The analogy's '4x faster' {verdict} here: the fastest int8 variants ran the batch forward at "
                 f"{fwd[col('forward x')]:.2f}x ({fwd[0]}) and generation at "
                 f"{gen[col('generate x')]:.2f}x ({gen[0]}) the float32 speed on this CPU.")
    return notes
