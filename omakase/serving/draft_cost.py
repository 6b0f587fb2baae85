"""What a draft may cost: speculative decoding against the draft/target call-cost ratio.

A round of speculative decoding buys (accepted drafts + 1) tokens for the draft's calls plus
one verifying target call. With c the cost of a draft call and v that of the verifying call,
both in target calls, the speed-up over the target alone is

    predicted = tokens per round / (draft calls per round x c + v)

so a draft pays only when it is both right often and far cheaper than the target. The
drafts here span the cost ratio against one target, none of them trained for it:

    prompt lookup          lookup.py: drafts found in the context, no forward pass (c = 0;
                           the search itself is Python, timed inside the measured run)
    early exit after l     the target's own first l layers and its lm_head (no training,
                           the same vocabulary): a call costs about l / n_layer of the target's
    a small trained draft  when one is given (speculate.py's, e.g. 1 layer 16 wide)

Each row: acceptance rate, the measured c, the predicted speed-up from them, and the measured
one (timed in turns with the target alone, greedy, the same prompts as speculate.measure).
"""

from __future__ import annotations

from dataclasses import replace

from .. import inference
from ..engines.torch import GPT, TorchEngine
from ..errors import OmakaseError
from ..model import Model, Sampler, generate
from . import frozen
from .lookup import lookup_generate
from .measured import Measured, Plot
from .speculate import Stats, call_seconds, prompts_of, speculative_generate
from ..timing import alternate_seconds, machine


def early_exit(target: Model, layers: int) -> Model:
    """A draft made of the target's first `layers` layers and its lm_head, sharing the target's tensors."""
    network = target.network
    if not 1 <= layers < network.config.n_layer:
        raise OmakaseError(f"an early exit needs 1 to {network.config.n_layer - 1} layers, got {layers}")
    short = GPT(replace(network.config, n_layer=layers)).eval()
    for name in short.names:
        key = name.replace(".", "_")
        short.mats[key] = network.mats[key]  # the same Parameter: nothing copied, nothing trained
    short.to(network.w("wte").device)
    return Model(TorchEngine.around(short), target.tokenizer, target.run)


def measure(target: Model, draft: Model | None = None, k: int = 4, n_new: int | None = None, repeats: int = 5,
            progress=None) -> Measured:
    """Acceptance, cost ratio, predicted and measured speed-up for prompt lookup, every early exit of the
    target and (when given) a small trained draft, k drafts per round, greedy."""
    stream = inference.is_stream(target)
    prompts = prompts_of(target.tokenizer, frozen.held_out(target) if stream else None)
    fits = min(target.config.block_size, draft.config.block_size if draft else target.config.block_size)
    fits -= max(map(len, prompts)) - 1
    n_new = fits if n_new is None else min(n_new, fits)
    stop = None if stream else target.tokenizer.bos  # a name ends at the bell
    drafts = [("prompt lookup", None)]
    drafts += [(f"early exit after layer {n}", early_exit(target, n)) for n in range(1, target.config.n_layer)]
    if draft is not None:
        drafts.append((f"small draft ({draft.config.n_layer}x{draft.config.n_embd})", draft))

    def speculative(model):
        outs, stats = [], Stats()
        for p in prompts:
            if model is None:
                out, s = lookup_generate(target, p, n_new, k, Sampler(0.0), stop)
            else:
                out, s = speculative_generate(target, model, p, n_new, k, Sampler(0.0), stop)
            outs.append(out), stats.add(s)
        return outs, stats

    def alone():
        return [generate(target, p, sampler=Sampler(0.0), max_new=n_new, stop=stop)[0].ids for p in prompts]

    greedy = alone()
    tokens = sum(map(len, greedy))
    target_s, verify_s = call_seconds(target, 1, repeats), call_seconds(target, k + 1, repeats)
    rows = []
    for i, (name, model) in enumerate(drafts):
        outs, stats = speculative(model)
        rounds = stats.target_calls
        cost = 0.0 if model is None else call_seconds(model, 1, repeats) / target_s
        per_round = tokens / rounds  # greedy: the same tokens as the target alone (checked in the last column)
        predicted = per_round / (stats.draft_calls / rounds * cost + verify_s / target_s)
        spec_t, alone_t = alternate_seconds([lambda m=model: speculative(m), alone], repeats)
        rows.append([name, round(cost, 3), round(stats.accepted / max(stats.drafted, 1), 3),
                     round(stats.drafted / rounds, 2), round(per_round, 2), round(predicted, 3),
                     round(alone_t.median / spec_t.median, 3), round(max(spec_t.spread, alone_t.spread), 3),
                     outs == greedy])
        if progress:
            progress(i + 1, len(drafts), name)
    m = Measured("drafts", f"What a draft may cost: speculative decoding with k={k} against the draft's call cost",
                 ["draft", "cost ratio", "acceptance rate", "drafts per round", "tokens per round",
                  "predicted speed-up", "measured speed-up", "spread", "identical to greedy"], rows,
                 plot=Plot("cost ratio", ["predicted speed-up", "measured speed-up"],
                           "draft call / target call (seconds)", "speed-up over the target alone", hline=1.0),
                 setup={"target": target.config.to_dict(), "k": k, "n_new": n_new, "repeats": repeats,
                        "prompts": [target.tokenizer.decode(p) or "<bell>" for p in prompts],
                        "temperature": 0, "tokens": tokens, "target call ms": round(target_s * 1e3, 4),
                        "verify call ms": round(verify_s * 1e3, 4),
                        "predicted": "tokens per round / (draft calls per round x cost ratio + verifying call "
                                     "/ target call), from the measured acceptance and call times",
                        "spread": "(slowest - fastest) / median of the repeats, the larger of the two timings",
                        **machine()})
    m.notes = notes(m)
    return m


def notes(m: Measured) -> list[str]:
    rows = [dict(zip(m.columns, r)) for r in m.rows]
    best = max(rows, key=lambda r: r["measured speed-up"])
    gap = max(abs(r["predicted speed-up"] - r["measured speed-up"]) / r["measured speed-up"] for r in rows)
    lead = "Fastest" if best["measured speed-up"] > 1 else "No draft beat the target alone here; the least slow"
    out = [f"{lead}: {best['draft']}, {best['measured speed-up']:.2f}x the target alone's tokens/s (predicted "
           f"{best['predicted speed-up']:.2f}x), acceptance {best['acceptance rate']:.2f} at a cost ratio of "
           f"{best['cost ratio']:.2f}.",
           f"The prediction from acceptance and cost ratio came within {gap:.0%} of the measured speed-up for "
           f"every draft (the repeats spread by up to {max(r['spread'] for r in rows):.0%}); what it leaves out "
           f"is the Python around the calls (drafting, comparing, rewinding)."]
    exits = [r for r in rows if r["draft"].startswith("early exit")]
    if exits:
        out.append("Early exits: " + "; ".join(f"{r['draft'].removeprefix('early exit after ')} costs "
                                              f"{r['cost ratio']:.2f} of a target call and is accepted "
                                              f"{r['acceptance rate']:.0%} of the time -> {r['measured speed-up']:.2f}x"
                                              for r in exits) + ".")
    lookup = next(r for r in rows if r["draft"] == "prompt lookup")
    out.append(f"Prompt lookup drafted {lookup['drafts per round']:.2f} tokens per round (only where the context "
               f"repeats itself) and {lookup['acceptance rate']:.0%} of them were kept: "
               f"{lookup['measured speed-up']:.2f}x.")
    same = all(r["identical to greedy"] for r in rows)
    out.append("Every draft gave the target's greedy output, token for token." if same else
               "Some draft did NOT give the target's greedy output.")
    return out
