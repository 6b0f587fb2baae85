"""A reply as it is written: tools.reply_with_tools, reporting each step as an event.

The model writes one token per step; a guest should see it at once, not at the
end. `stream_reply` runs the very loop `reply_with_tools` runs (so the streamed
reply is the reply `omakase assistant chat` prints) and tells `on_event`, in
order, plain dicts ready for JSON:

    {"kind": "prompt", "tokens": 41, "block": 128, "pieces": [[id, "piece"], ...]}
                                   the conversation as the model reads it (pieces on request)
    {"kind": "text", "text": "That is", "id": 712}
                                   new characters the guest reads, after the token `id`
    {"kind": "call_start", "tool": "calc"}
    {"kind": "call_text", "text": "3*12"}
                                   the model opened a call and writes its text (the expression,
                                   the query), which the guest's reply does not include
    {"kind": "call", "tool": "calc", "query": "3*12+2*7", "result": "50"}
                                   the call closed and its result went in
    {"kind": "end", "reason": "end", "text": ..., "written": ..., "tokens": 23,
     "reply": [[id, "piece", written], ...]}
                                   why it stopped: "end" (the model wrote <|end|>), "length"
                                   (max_new), "block" (the context is full) or "calls" (too many);
                                   `tokens` the model wrote (results not counted), `written` what
                                   the conversation keeps (calls included), the reply's pieces
                                   on request (written: False for a tool's)

A token is bytes, and a character may span two tokens: text events hold back an
unfinished UTF-8 character until its last byte comes, so the text events joined
are exactly the reply's text. To stop a reply early, raise from on_event: the
exception leaves through generate.
"""

from __future__ import annotations

import codecs
from typing import Callable

from .chat_format import END
from .reply import as_model, check_prompt
from .tools import (CALLS, OPENERS, SaidWithTools, Tool, as_written, check_tokenizer, render_with_tools,
                    reply_with_tools, visible)

Event = dict


def stream_reply(model, bpe, conversation: list[dict], tools: dict[str, Tool] | None,
                 on_event: Callable[[Event], None], *, max_new: int = 96, temperature: float = 0.0, top_k: int = 0,
                 seed: int = 0, show_tokens: bool = False) -> SaidWithTools:
    """reply_with_tools(model, bpe, conversation, tools, ...), telling on_event what happens as it happens;
    returns the same SaidWithTools. show_tokens: the prompt's and the reply's pieces go in the events too."""
    check_tokenizer(bpe)
    model = as_model(model, bpe)
    prompt = render_with_tools(conversation, bpe, reply=True).ids
    check_prompt(prompt, model.config.block_size)
    on_event({"kind": "prompt", "tokens": len(prompt), "block": model.config.block_size,
              **({"pieces": pieces(prompt, bpe)} if show_tokens else {})})
    watch = _Watcher(bpe, on_event)
    said = reply_with_tools(model, bpe, conversation, tools, max_new, temperature, top_k, seed, on_step=watch.step)
    watch.finish()
    on_event({"kind": "end", "reason": said.reason, "text": said.text, "written": as_written(said, bpe),
              "tokens": sum(said.written),
              **({"reply": [[i, p, w] for (i, p), w in zip(pieces(said.ids, bpe), said.written)]}
                 if show_tokens else {})})
    return said


def pieces(ids: list[int], bpe) -> list[list]:
    """[id, the token's bytes as text] per token (a piece that is part of a character shows U+FFFD)."""
    return [[i, bpe.piece(i).decode("utf-8", errors="replace")] for i in ids]


class _Watcher:
    """reply_with_tools' on_step: turns each step's new tokens into events."""

    def __init__(self, bpe, on_event):
        self.bpe, self.on_event = bpe, on_event
        self.end = bpe.special[END]
        self.openers = {bpe.special[s]: tool for s, tool in OPENERS.items()}
        self.closers = {bpe.special[s] for s in CALLS}
        self.call = None  # while a call is open: the decoder of its text
        self.ids: list[int] = []
        self.shown = 0  # visible ids already decoded
        self.calls = 0  # calls already reported
        self.utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")  # holds back half a character

    def step(self, new: list[int], calls) -> None:
        self.ids += new
        token = new[0]  # the model's; a tool's answer comes after it in the same step
        if token in self.openers:
            self.call = codecs.getincrementaldecoder("utf-8")(errors="replace")
            self.on_event({"kind": "call_start", "tool": self.openers[token]})
        elif token in self.closers:
            self.call = None
        elif self.call is not None and token != self.end:
            text = self.call.decode(self.bpe.piece(token))
            if text:
                self.on_event({"kind": "call_text", "text": text})
        for call in calls[self.calls:]:
            self.on_event({"kind": "call", "tool": call.tool, "query": call.query, "result": call.result})
        self.calls = len(calls)
        seen = visible([t for t in self.ids if t != self.end], self.bpe)  # <|end|> comes only as the last token
        text = self.utf8.decode(self.bpe.decode_bytes(seen[self.shown:]))
        self.shown = len(seen)
        if text:
            self.on_event({"kind": "text", "text": text, "id": token})

    def finish(self) -> None:
        rest = self.utf8.decode(b"", final=True)  # a reply cut inside a character: U+FFFD, as bpe.decode gives
        if rest:
            self.on_event({"kind": "text", "text": rest, "id": None})
