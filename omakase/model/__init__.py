"""The model layer: one Model, one load, one generate (with one KV cache and one sampler), one held-out loss.

Design. Every model in the house is the same GPT with a vocabulary (Ming's
characters, the assistant's BPE). An *engine* computes it (engines/: scalar,
numpy, torch); the `Engine` protocol is the contract for both worlds: the
assistant's GPT is the torch engine around the same nn.Module its training
stages update (Model.around). A *Model* is an engine plus its tokenizer and
what made it. Everything that writes text goes through `generate`, which asks
the engine for one thing: the logits after each row's last token, with the KV
cache (`KVCache.feed` -> engine.logits_cached) or without it
(engine.logits_recomputed, the oracle, and the only way a SequenceBackend
such as an ONNX graph decodes). The token is chosen by a `Sampler`.

    load.py       Model, load(path), save(stage folder)
    sampler.py    Sampler: temperature (0 = greedy), top-k, the seeded stream; softmax
    kv_cache.py   KVCache: the engine's cache, the position, rewinding
    generate.py   generate(model, prompt, *, sampler, max_new, stop, tools, n): the one decode loop
    held_out.py   held_out_loss(model, token_lists)
    backend.py    SequenceBackend: ids -> logits, no cache (quantized, pruned, ONNX)

Adding a decode feature, e.g. top-p (nucleus) sampling, is one place,
sampler.py: a `top_p` argument checked in Sampler.__init__ (0 < top_p <= 1)
and one step in Sampler.probabilities, on the softmax's probs (random.choices
takes weights, so the kept ones need no renormalizing):

    if self.top_p < 1:
        order = sorted(range(len(probs)), key=probs.__getitem__, reverse=True)
        kept, mass = set(), 0.0
        for i in order:
            kept.add(i); mass += probs[i]
            if mass >= self.top_p: break
        probs = [p if i in kept else 0.0 for i, p in enumerate(probs)]

Ming's cook and write, the assistant's replies and tool calls, RL rollouts,
DPO's greedy replies, evaluation, every serving hack, speculative decoding's
draws and the web page then have it, and the cache oracle in
tests/test_generate.py checks it on every engine.
"""

from .backend import SequenceBackend
from .generate import Generated, ToolLimit, generate
from .held_out import held_out_loss
from .kv_cache import KVCache
from .load import MODEL_FILE, Model, load, save
from .sampler import Sampler, softmax

__all__ = ["Generated", "KVCache", "MODEL_FILE", "Model", "Sampler", "SequenceBackend", "ToolLimit", "generate",
           "held_out_loss", "load", "save", "softmax"]
