"""Talking to a model: a conversation or a document start in, what the model writes out.

`reply` renders a conversation in the chat format with an open assistant turn
and lets the model answer until <|end|>; `continue_text` asks a base model to
continue a document (what a base model does with anything) until the next
<|doc|>. Both are omakase.model.generate with the chat format's stop token:
temperature is the risk dial (0: always the likeliest token), top-k keeps only
the k likeliest tokens. Replies that run tools are tools.reply_with_tools.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import OmakaseError
from ...model import Model, Sampler, generate
from .chat_format import END, document, render


@dataclass
class Said:
    text: str  # the new tokens decoded, <|end|> not included
    ids: list[int]  # the new tokens, <|end|> included when the model stopped there
    prompt_ids: list[int]
    stopped: bool  # True when the model wrote <|end|>; False when it ran out of room or length


def as_model(model, bpe) -> Model:
    """A Model for a loaded Model, an engine, or a torch GPT (a model in training talks with its current
    weights)."""
    if isinstance(model, Model):
        return model
    if hasattr(model, "logits_cached"):
        return Model(model, bpe)
    return Model.around(model, bpe)


def check_prompt(prompt_ids: list[int], block: int) -> None:
    if not prompt_ids:
        raise OmakaseError("the prompt is empty; say something")
    if len(prompt_ids) >= block:
        raise OmakaseError(f"the prompt is {len(prompt_ids)} tokens, but this model reads at most {block}; "
                           f"shorten it")


def _say(model, bpe, prompt: list[int], stop: int, max_new: int, temperature: float, top_k: int, seed: int) -> Said:
    model = as_model(model, bpe)
    check_prompt(prompt, model.config.block_size)
    made = generate(model, prompt, sampler=Sampler(temperature, top_k, seed), max_new=max_new, stop=stop)[0]
    return Said(bpe.decode(made.text_ids), made.ids, prompt, made.stopped)


def reply(model, bpe, conversation: list[dict], max_new: int = 96, temperature: float = 0.0, top_k: int = 0,
          seed: int = 0) -> Said:
    """The assistant's answer to the last user message of a conversation."""
    return _say(model, bpe, render(conversation, bpe, reply=True).ids, bpe.special[END], max_new, temperature,
                top_k, seed)


def continue_text(model, bpe, text: str, max_new: int = 96, temperature: float = 0.0, top_k: int = 0,
                  seed: int = 0) -> Said:
    """What a model writes after the start of a document (it stops at the next document's <|doc|>)."""
    return _say(model, bpe, document(text, bpe), bpe.special["<|doc|>"], max_new, temperature, top_k, seed)
