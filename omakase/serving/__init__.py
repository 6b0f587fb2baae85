"""Service: the restaurant's efficiency hacks, each one measured on our own models.

After graduation the recipe book is laminated (a frozen model: no gradients, no
optimizer, frozen.py), the judge and the sensei leave, and the kitchen gets faster:

    kv.py         whipped cream kept in the fridge: the KV cache
    batch.py      eight cakes on one tray: batching
    quantize.py   pre-measured spice packets: INT8 weights
    prune.py      removing rarely used pans: pruning
    onnx_run.py   mise-en-place stations: ONNX and onnxruntime
    speculate.py  frosting while it bakes: speculative decoding
    lookup.py     the menu drafts itself: prompt lookup, speculation with no draft model
    draft_cost.py what a draft may cost: early exits, prompt lookup, a small draft
    sweep.py      where the KV cache and INT8 start to pay: random-weight GPTs up to 92 M parameters
    drift.py      complaints, a night closed, fine-tuning, reopening: drift

Each hack returns a `Measured` (report.py): a table of numbers measured in this
run (medians of several repeats, warm-up excluded), sentences computed from
them, and which columns to draw. The CLI (`omakase service`) only prints, saves
and draws them. Everything here needs PyTorch (the `torch` extra); ONNX needs
the `service` extra.
"""
