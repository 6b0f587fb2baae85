"""Guest questions: pretraining documents that ask the taught facts in a guest's words, answered from memory.

The base model stores the kitchen's facts as its documents state them: given a menu line cut
before the price, it goes on with the price, the more often it read it the more surely. Asked
the same fact in a guest's words after SFT, it answers about one time in ten, whatever the
exposure (docs/assistant.md, "Where the knowledge is"): storing a fact and answering a question
about it are two skills, and 3,000 such questions in mid-training, after pretraining, did not
teach the second. Allen-Zhu and Li ("Physics of Language Models: Part 3.1") found question and
answer text mixed into pretraining itself made stored facts answerable. These documents are
that text, a page of questions a server was asked:

    Questions from our guests.
    Guest: Which town does the steamed plum prawn stew come from?
    Server: The steamed plum prawn stew comes from Zennor Cove.
    ...

Only taught facts are asked (labelers.fact_questions' training side, in the labelers' templates):
no held-out or probed subject appears, so the held-out questions still measure answering a
fact that was only ever read.
"""

from __future__ import annotations

import random

from ...errors import OmakaseError
from . import labelers
from .documents import Document
from .world import World

PER_PAGE = (3, 6)  # questions on a page


def guest_question_pages(world: World, n: int, seed: int = 0) -> list[Document]:
    """n pages of PER_PAGE questions about the taught facts, each fact asked in a template drawn anew."""
    if n < 0:
        raise OmakaseError(f"guest question pages need n >= 0, got {n}")
    r = random.Random(f"guest questions|{seed}")
    facts = labelers.taught_facts(world, seed)
    if n and not facts:
        raise OmakaseError("this world has no taught facts to ask about")
    out = []
    for i in range(n):
        asked = r.sample(facts, min(r.randint(*PER_PAGE), len(facts)))
        questions = [labelers.question(f, world, r, "pretrain") for f in asked]
        lines = "\n".join(f"Guest: {q.text}\nServer: {q.reply}" for q in questions)
        out.append(Document(f"guest-questions-{i:05d}", "questions", f"Questions from our guests.\n{lines}",
                            tuple(f.id for f in asked)))
    return out
