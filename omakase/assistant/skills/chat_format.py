"""The chat menu: a conversation written in special tokens, and which of its tokens are trained.

A base model only continues documents. To make it answer, conversations are
written in a format of its own: every message opens with its role's special
token and closes with <|end|>, the whole conversation opens with <|doc|> like
any document. SFT ("switching the menu") trains on such conversations, but only
on what the assistant says: the loss mask is 1 on the assistant's tokens and
its closing <|end|> (so it learns to stop), 0 on the system prompt and the
user's words, which it only reads.

    <|doc|><|system|>You are Ming.<|end|><|user|>Who are you?<|end|><|assistant|>I'm Ming.<|end|>
                                                                                  ^^^^^^^^^^^^^^^ trained

Special tokens come from the tokenizer's special table: plain text that spells
"<|end|>" is encoded as ordinary bytes, so a user cannot forge a turn.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import OmakaseError

DOC, SYSTEM, USER, ASSISTANT, END = "<|doc|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"
SPECIALS = (DOC, SYSTEM, USER, ASSISTANT, END)
ROLES = {"system": SYSTEM, "user": USER, "assistant": ASSISTANT}


@dataclass
class Rendered:
    ids: list[int]
    mask: list[int]  # 1 where the token is a training target (the assistant's words and their <|end|>)


def render(conversation: list[dict], bpe, reply: bool = False) -> Rendered:
    """Token ids and loss mask of a conversation ([{"role", "content"}, ...]).

    With reply=True the rendering ends with an open <|assistant|> turn: the prompt a model
    completes to answer the last user message.
    """
    ids, mask = [bpe.special[DOC]], [0]
    for i, message in enumerate(conversation):
        role = message.get("role")
        if role not in ROLES:
            raise OmakaseError(f"message {i + 1} has role {role!r}; a role is one of {', '.join(ROLES)}")
        body = bpe.encode(message["content"]) + [bpe.special[END]]
        trained = 1 if role == "assistant" else 0
        ids += [bpe.special[ROLES[role]]] + body
        mask += [0] + [trained] * len(body)
    if reply:
        ids.append(bpe.special[ASSISTANT])
        mask.append(0)
    return Rendered(ids, mask)


def document(text: str, bpe) -> list[int]:
    """A pretraining document: <|doc|> then its text."""
    return [bpe.special[DOC]] + bpe.encode(text)


def token_rows(ids: list[int], mask: list[int], bpe) -> list[tuple[int, str, bool]]:
    """(id, the token as text, trained?) for each token: what `chat --show-tokens` prints."""
    return [(t, bpe.piece(t).decode("utf-8", errors="replace"), bool(m)) for t, m in zip(ids, mask)]
