"""Fixtures the assistant's tests share: the small world and a small BPE trained on its documents."""

import pytest

from omakase.assistant.skills import chat_format, tools
from omakase.assistant.data.documents import write_documents
from omakase.assistant.data.world import make_world
from omakase.bpe import BPE


@pytest.fixture(scope="module")
def small_world():
    return make_world(0, "small")


@pytest.fixture(scope="module")
def small_bpe(small_world):
    """316 tokens (60 merges and the chat and tool specials) learned from the small world's documents."""
    text = "\n".join(d.text for d in write_documents(small_world, 0))
    return BPE.train(text, 256 + 60, specials=chat_format.SPECIALS + tools.TOOL_SPECIALS)
