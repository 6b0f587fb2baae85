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
`search.search_tool(documents)`, which finds the sentences of the restaurant's
documents that best match a query (BM25).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from ...errors import OmakaseError
from .search import LIBRARY, search_tool
from .chat_format import ASSISTANT, DOC, END, ROLES, Rendered
from ...model import Sampler, ToolLimit, generate
from .reply import as_model, check_prompt
from ..data.world import states

CALC, CALC_END, RESULT, RESULT_END, SEARCH, SEARCH_END = (
    "<|calc|>", "<|/calc|>", "<|result|>", "<|/result|>", "<|search|>", "<|/search|>")
TOOL_SPECIALS = (CALC, CALC_END, RESULT, RESULT_END, SEARCH, SEARCH_END)
CALLS = {CALC_END: (CALC, "calc"), SEARCH_END: (SEARCH, "search")}  # closing token -> (its opener, the tool)
OPENERS = {CALC: "calc", SEARCH: "search"}
MAX_CALLS = 4  # per reply: a model looping on calls stops here
MAX_RESULT_TOKENS = 64  # a result longer than this is cut (the whole reply lives in a block of 128)
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

class ToolBox:
    """The orchestrator as generate's `tools`: after each token the model writes, a closed call is run and
    its result answered as <|result|>...<|/result|> tokens; a result's markers are never drawn."""

    def __init__(self, bpe, tools: dict[str, Tool], max_calls: int = MAX_CALLS):
        sp = bpe.special
        self.bpe, self.tools, self.max_calls = bpe, tools, max_calls
        self.closers = {sp[c]: (sp[o], tool) for c, (o, tool) in CALLS.items()}
        self.banned = [sp[RESULT], sp[RESULT_END]]  # results come from tools only
        self.calls: list[ToolCall] = []
        self._pending: ToolCall | None = None

    def answer(self, ids: list[int]) -> list[int] | None:
        if ids[-1] not in self.closers:
            return None
        opener, tool = self.closers[ids[-1]]
        if len(self.calls) == self.max_calls:
            raise ToolLimit
        query = _call_query(ids, opener, self.bpe)
        result = _run(self.tools.get(tool), tool, query)
        self._pending = ToolCall(tool, query, result)
        sp = self.bpe.special
        return [sp[RESULT]] + self.bpe.encode(result)[:MAX_RESULT_TOKENS] + [sp[RESULT_END]]

    def fed(self) -> None:
        self.calls.append(self._pending)


def reply_with_tools(model, bpe, conversation: list[dict], tools: dict[str, Tool] | None = None, max_new: int = 96,
                     temperature: float = 0.0, top_k: int = 0, seed: int = 0,
                     max_calls: int = MAX_CALLS, on_step=None) -> SaidWithTools:
    """The assistant's answer to the last user message, running every tool call it writes.

    `tools` maps "calc" and "search" to callables (None: no tools, every call is answered
    "refused: ..."). `max_new` counts the tokens the model writes, not the results.
    on_step(ids, calls), when given, is told after every step the tokens it added and the
    calls answered so far (stream.py shows a reply as it is written with it).
    """
    check_tokenizer(bpe)
    model = as_model(model, bpe)
    prompt = render_with_tools(conversation, bpe, reply=True).ids
    check_prompt(prompt, model.config.block_size)
    box = ToolBox(bpe, tools or {}, max_calls)
    made = generate(model, prompt, sampler=Sampler(temperature, top_k, seed), max_new=max_new,
                    stop=bpe.special[END], tools=box,
                    on_step=None if on_step is None else lambda _, ids: on_step(ids, box.calls))[0]
    reason = "end" if made.stopped else made.reason
    return SaidWithTools(bpe.decode(visible(made.text_ids, bpe)), made.ids, made.written, prompt, made.stopped,
                         reason, box.calls)


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


# -- answering with a search (the labelers' way) ----------------------------------------------

def search_answer(question, search: Tool) -> str:
    """How the labelers answer a fact question (labelers.Question) with the search tool: the question
    itself is the query, then the result, then their reply. Only where the result states the answer (a
    labeler does not answer from a result that lacks it); otherwise the plain reply, with no call."""
    result = search(question.text)
    if states(question.answer, result):
        return call_text("search", question.text, result) + question.reply
    return question.reply
