"""Tools through special tokens: the model writes a call, the orchestrator answers it, the model reads on.

A model that cannot add writes <|calc|>3*12+2*7<|/calc|>; one that read a fact
once writes <|search|>Who cooks the smoked yuzu eel bowl?<|/search|>. When the sampled
token closes a call, the orchestrator stops sampling, runs the tool on the
call's text, appends <|result|>value<|/result|> to the sequence and lets the
model continue with the same KV cache, as if it had read the result all along:

    <|assistant|><|calc|>3*12+2*7<|/calc|><|result|>50<|/result|>That is $50.<|end|>
                 ^^^^^^^^^^^^^^^^^^^^^^^^^ model  ^^^^^^^^^^^^^^^^^^^^^^^^ tool ^^^^^^^^^^^^^^^^^^ model

The model never writes a result: <|result|> and <|/result|> are masked out of
its choices at sampling time, and in SFT data (render_with_tools) their tokens
have loss mask 0, as the system's and user's words do. A tool's result is
ordinary text (bpe.encode), so a search hit that spells "<|end|>" cannot end a turn.

Tools are plain callables, text -> text: `calculator.calculator_tool` and
`search_tool(documents)`, which finds the sentences of the restaurant's documents
that best match a query, with the tasting lab's BM25 (bm25s, in the `lab` extra)
or, without it, a small BM25 of our own; or dense MiniLM vectors when asked.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from ..errors import OmakaseError
from ..lab.code_tokens import code_tokens
from .chat import ASSISTANT, DOC, END, ROLES, Rendered
from .talk import pick
from .world import states

CALC, CALC_END, RESULT, RESULT_END, SEARCH, SEARCH_END = (
    "<|calc|>", "<|/calc|>", "<|result|>", "<|/result|>", "<|search|>", "<|/search|>")
TOOL_SPECIALS = (CALC, CALC_END, RESULT, RESULT_END, SEARCH, SEARCH_END)
CALLS = {CALC_END: (CALC, "calc"), SEARCH_END: (SEARCH, "search")}  # closing token -> (its opener, the tool)
OPENERS = {CALC: "calc", SEARCH: "search"}
MAX_CALLS = 4  # per reply: a model looping on calls stops here
MAX_RESULT_TOKENS = 64  # a result longer than this is cut (the whole reply lives in a block of 128)
SEARCH_K = 4  # sentences a search returns: a dish's name is in many sentences, the one with the asked fact
# is often not the first (its words are "comes from", the question's "origin"); 4 fit in the block
SEARCH_CHARS = 240  # a search result: a few sentences, not whole documents
LIBRARY = "library.json"  # in an assistant build's folder: the documents its search tool reads
MARKERS = re.compile("(" + "|".join(re.escape(s) for s in TOOL_SPECIALS) + ")")

Tool = Callable[[str], str]


@dataclass
class ToolCall:
    tool: str  # "calc" or "search"
    query: str  # what the model wrote between the markers
    result: str  # what went back (a value, search hits or "refused: ...")


@dataclass
class SaidWithTools:
    text: str  # what the guest reads: the model's words outside calls and results, <|end|> not included
    ids: list[int]  # every new token: the model's, the results', and <|end|> when it stopped there
    written: list[bool]  # per new token: True when the model wrote it, False when the orchestrator did
    prompt_ids: list[int]
    stopped: bool  # True when the model wrote <|end|>
    reason: str  # "end", "length" (max_new), "block" (the block is full) or "calls" (more than max_calls)
    calls: list[ToolCall] = field(default_factory=list)


def has_tool_tokens(bpe) -> bool:
    return all(s in bpe.special for s in TOOL_SPECIALS)


def kitchen_tools(build_folder) -> dict[str, Tool]:
    """The tools of an assistant build: the calculator, and the search over the documents the build saved
    in LIBRARY; without that file (a model folder moved on its own) there is no "search"."""
    import json
    from pathlib import Path

    from .calculator import calculator_tool

    try:
        library = json.loads((Path(build_folder) / LIBRARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"calc": calculator_tool}
    return {"calc": calculator_tool, "search": search_tool(library)}


def check_tokenizer(bpe) -> None:
    missing = [s for s in TOOL_SPECIALS if s not in bpe.special]
    if missing:
        raise OmakaseError(f"this tokenizer has no tool tokens ({', '.join(missing)}); build it with "
                           f"specials chat.SPECIALS + tools.TOOL_SPECIALS (or bpe.with_specials(TOOL_SPECIALS))")


def call_text(tool: str, query: str, result: str) -> str:
    """A tool call and its result as an assistant message spells them in SFT data."""
    opener = {v: k for k, v in OPENERS.items()}[tool]
    return f"{opener}{query}{opener.replace('<|', '<|/')}{RESULT}{result}{RESULT_END}"


# -- rendering SFT conversations ---------------------------------------------------------------

def render_with_tools(conversation: list[dict], bpe, reply: bool = False) -> Rendered:
    """chat.render, with tool markers in the assistant's content turned into their special ids.

    Mask 1 on what the model writes (its words, its calls, <|end|>), 0 on the results
    between <|result|> and <|/result|> (the orchestrator writes those). Markers in system
    or user messages stay plain bytes: a guest cannot forge a call or a result. A
    conversation without markers renders exactly as chat.render does, with any tokenizer.
    """
    ids, mask = [bpe.special[DOC]], [0]
    for i, message in enumerate(conversation):
        role = message.get("role")
        if role not in ROLES:
            raise OmakaseError(f"message {i + 1} has role {role!r}; a role is one of {', '.join(ROLES)}")
        ids.append(bpe.special[ROLES[role]])
        mask.append(0)
        if role == "assistant":
            body, trained = _assistant_tokens(message["content"], bpe, i + 1)
        else:
            body = bpe.encode(message["content"])
            trained = [0] * len(body)
        ids += body + [bpe.special[END]]
        mask += trained + [1 if role == "assistant" else 0]
    if reply:
        ids.append(bpe.special[ASSISTANT])
        mask.append(0)
    return Rendered(ids, mask)


def _assistant_tokens(content: str, bpe, number: int) -> tuple[list[int], list[int]]:
    """Ids and mask of an assistant message; each call must be followed at once by its result."""
    ids: list[int] = []
    mask: list[int] = []
    expect = None  # the marker that must come next: a call's closer, <|result|> or <|/result|>
    for part in MARKERS.split(content):
        if part in TOOL_SPECIALS:
            check_tokenizer(bpe)  # only a call needs the tool tokens
            if part != expect and not (expect is None and part in OPENERS):
                raise OmakaseError(f"message {number}: {part} where {expect or 'text or a call'} belongs; write "
                                   f"calls as {CALC}3*4{CALC_END}{RESULT}12{RESULT_END}")
            expect = {RESULT: RESULT_END, RESULT_END: None}.get(part, RESULT if part in CALLS else
                                                                  part.replace("<|", "<|/"))
            ids.append(bpe.special[part])
            mask.append(0 if part in (RESULT, RESULT_END) else 1)
        elif part:
            if expect == RESULT:
                raise OmakaseError(f"message {number}: text between a call and its {RESULT}; the result comes "
                                   "right after the call")
            piece = bpe.encode(part)
            ids += piece
            mask += [0 if expect == RESULT_END else 1] * len(piece)
    if expect is not None:
        raise OmakaseError(f"message {number} ends before its {expect}; close every call and give its result")
    return ids, mask


# -- the orchestrator ------------------------------------------------------------------------

def reply_with_tools(model, bpe, conversation: list[dict], tools: dict[str, Tool] | None = None, max_new: int = 96,
                     temperature: float = 0.0, top_k: int = 0, seed: int = 0,
                     max_calls: int = MAX_CALLS) -> SaidWithTools:
    """The assistant's answer to the last user message, running every tool call it writes.

    `tools` maps "calc" and "search" to callables (None: no tools, every call is answered
    "refused: ..."). `max_new` counts the tokens the model writes, not the results.
    """
    import torch

    from ..serving.generate import new_cache

    check_tokenizer(bpe)
    tools = tools or {}
    prompt = render_with_tools(conversation, bpe, reply=True).ids
    block = model.config.block_size
    if len(prompt) >= block:
        raise OmakaseError(f"the prompt is {len(prompt)} tokens, but this model reads at most {block}; shorten it")
    if temperature < 0:
        raise OmakaseError(f"temperature must be >= 0, got {temperature}")
    sp = bpe.special
    closers = {sp[c]: (sp[o], tool) for c, (o, tool) in CALLS.items()}
    forbidden = [sp[RESULT], sp[RESULT_END]]  # results come from tools only
    generator = torch.Generator().manual_seed(seed)
    new: list[int] = []
    written: list[bool] = []
    calls: list[ToolCall] = []
    reason = "length"
    with torch.inference_mode():
        cache = new_cache(model, 1)
        device = model.w("wte").device  # CUDA when the model is there
        logits = model(torch.tensor([prompt], device=device), cache, 0)[0, -1]
        pos = len(prompt)  # the position of the next token fed to the model
        while sum(written) < max_new:
            logits = logits.clone()
            logits[forbidden] = float("-inf")
            token = pick(logits, temperature, top_k, generator)
            new.append(token)
            written.append(True)
            if token == sp[END]:
                reason = "end"
                break
            feed = [token]
            if token in closers:
                opener, tool = closers[token]
                if len(calls) == max_calls:
                    reason = "calls"
                    break
                query = _call_query(new, opener, bpe)
                result = _run(tools.get(tool), tool, query)
                feed += [sp[RESULT]] + bpe.encode(result)[:MAX_RESULT_TOKENS] + [sp[RESULT_END]]
            if pos + len(feed) > block:
                reason = "block"
                break
            if len(feed) > 1:  # a call was answered: its result goes in as if the model had read it
                calls.append(ToolCall(tool, query, result))
                new += feed[1:]
                written += [False] * (len(feed) - 1)
            logits = model(torch.tensor([feed], device=device), cache, pos)[0, -1]
            pos += len(feed)
    stopped = reason == "end"
    return SaidWithTools(bpe.decode(visible(new[:-1] if stopped else new, bpe)), new, written, prompt, stopped,
                         reason, calls)


def as_written(said: SaidWithTools, bpe) -> str:
    """The reply as the conversation keeps it (the next turn's context, SFT data): tool calls and their
    results included. A malformed call (a closer without its opener, a call cut off by the length limit)
    cannot be rendered again: then it is what the guest reads."""
    content = bpe.decode(said.ids[:-1] if said.stopped else said.ids)
    try:
        _assistant_tokens(content, bpe, 0)
    except OmakaseError:
        return said.text
    return content


def _call_query(new: list[int], opener: int, bpe) -> str:
    """The text between the call's opener and its closer (the last token of `new`)."""
    start = max((i for i, t in enumerate(new[:-1]) if t == opener), default=None)
    if start is None or bpe.special[RESULT_END] in new[start:]:
        return ""  # a closer with no opener since the last result: an empty call
    return bpe.decode(new[start + 1:-1]).strip()


def _run(tool: Tool | None, name: str, query: str) -> str:
    if tool is None:
        return f"refused: there is no {name} tool here"
    if not query:
        return f"refused: the {name} call is empty"
    try:
        return " ".join(str(tool(query)).split())  # one line
    except OmakaseError as e:
        return f"refused: {e}"


def visible(ids: list[int], bpe) -> list[int]:
    """The ids a guest reads: everything outside calls and results (an unclosed call hides its tail)."""
    inside = {bpe.special[s] for s in (CALC, SEARCH, RESULT)}
    leave = {bpe.special[s] for s in (CALC_END, SEARCH_END, RESULT_END)}
    out, hidden = [], False
    for t in ids:
        if t in inside:
            hidden = True
        elif t in leave:
            hidden = False
        elif not hidden:
            out.append(t)
    return out


# -- search -----------------------------------------------------------------------------------

def chunks(documents: list[str]) -> list[str]:
    """The documents' sentences, each once, in order: a fact is stated in one sentence."""
    seen: dict[str, None] = {}
    for doc in documents:
        for sentence in re.split(r"(?<=[.!?])\s+|\n+", doc):
            sentence = sentence.strip()
            if len(code_tokens(sentence)) >= 2:
                seen.setdefault(sentence, None)
    return list(seen)


def search_tool(documents: list[str], k: int = SEARCH_K, method: str = "bm25", max_chars: int = SEARCH_CHARS) -> Tool:
    """A search over the documents' sentences: query -> the best k matching sentences, at most max_chars.

    method "bm25": bm25s through the lab's BM25Index when the `lab` extra is installed, else
    StdlibBM25 below (the same formula and tokens, no dependencies); "dense": MiniLM cosine
    similarity (the `lab` extra).
    """
    if k < 1:
        raise OmakaseError(f"k must be at least 1, got {k}")
    pieces = chunks(documents)
    if not pieces:
        raise OmakaseError("there is nothing to search: the documents hold no sentences")
    if method == "bm25":
        scores = _bm25_scores(pieces)
    elif method == "dense":
        scores = _dense_scores(pieces)
    else:
        raise OmakaseError(f"unknown search method {method!r}; choose bm25 or dense")

    def search(query: str) -> str:
        s = scores(query)
        order = sorted(range(len(pieces)), key=lambda i: -s[i])
        top = [pieces[i] for i in order[:k] if s[i] > 0]
        if not top:
            return f"no results for {query!r}"
        return _cut(" ".join(top), max_chars)

    return search


def search_answer(question, search: Tool) -> str:
    """How the labelers answer a fact question (labelers.Question) with the search tool: the question
    itself is the query, then the result, then their reply. Only where the result states the answer (a
    labeler does not answer from a result that lacks it); otherwise the plain reply, with no call."""
    result = search(question.text)
    if states(question.answer, result):
        return call_text("search", question.text, result) + question.reply
    return question.reply


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1].rsplit(" ", 1)[0] + "…"


def _bm25_scores(pieces: list[str]) -> Callable[[str], list[float]]:
    try:
        from ..lab.retrievers import BM25Index

        index = BM25Index(pieces)
        return lambda query: index.scores(query).tolist()
    except ImportError:  # no `lab` extra: bm25s (or numpy) is missing
        return StdlibBM25(pieces).scores


def _dense_scores(pieces: list[str]) -> Callable[[str], list[float]]:
    from ..lab.embedders import MiniLM
    from ..lab.retrievers import dense_scores

    embedder = MiniLM()
    vectors = embedder.embed(pieces).vectors
    return lambda query: dense_scores(vectors, embedder.embed([query]).vectors)[0].tolist()


class StdlibBM25:
    """Okapi BM25 in plain Python, for machines without the `lab` extra (bm25s does the same, faster).

    score(q, d) = sum over query terms t of idf(t) * tf / (tf + k1 * (1 - b + b * |d| / avgdl)),
    idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)): Lucene's variant, bm25s's default (Okapi's
    extra factor (k1 + 1) scales every score alike, so the ranking is the same either way).
    """

    def __init__(self, docs: list[str], k1: float = 1.5, b: float = 0.75):
        self.k1, self.b = k1, b
        self.counts = [Counter(code_tokens(d)) for d in docs]
        self.lengths = [sum(c.values()) for c in self.counts]
        self.avgdl = sum(self.lengths) / len(docs) if docs else 0.0
        df = Counter(t for c in self.counts for t in c)
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.postings: dict[str, list[int]] = {}
        for i, c in enumerate(self.counts):
            for t in c:
                self.postings.setdefault(t, []).append(i)

    def scores(self, query: str) -> list[float]:
        out = [0.0] * len(self.counts)
        for t in set(code_tokens(query)):
            for i in self.postings.get(t, ()):
                tf = self.counts[i][t]
                norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avgdl)
                out[i] += self.idf[t] * tf / (tf + norm)
        return out
