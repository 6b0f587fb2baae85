"""SFT, switching the menu: the base model goes on training, now on conversations.

Nothing about the network changes: the same loss, the same optimizer (pretrain.train),
a smaller learning rate. Only the data does: conversations in the chat format
(chat.py), where the targets outside the assistant's turns are -1, so the model
is graded only on how it answers (its tool calls included, but not the results
the orchestrator gives back: tools.render_with_tools). After a few hundred steps
it answers in the format, with the labelers' manners: that is all "becoming an
assistant" is.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...plan import Plan
from .pretrain import IGNORE, train
from ..skills.tools import render_with_tools


@dataclass
class Examples:
    inputs: object  # (N, block_size) token ids, padded
    targets: object  # (N, block_size) next-token targets, IGNORE where untrained or padding
    lengths: object  # (N,) tokens of each row before the padding
    cut: int  # conversations longer than the block, cut at its end (their tails are not trained)

    def batch(self, rows):
        """The rows' inputs and targets, cut to the longest of them: padding costs compute and teaches nothing."""
        width = int(self.lengths[rows].max())
        return self.inputs[rows, :width], self.targets[rows, :width]


def examples(conversations: list[list[dict]], bpe, block_size: int) -> Examples:
    """Every conversation rendered, shifted by one and padded to the block."""
    import torch

    pad = bpe.special["<|end|>"]  # any id: padded positions are never targets and come after the text
    inputs = torch.full((len(conversations), block_size), pad, dtype=torch.long)
    targets = torch.full((len(conversations), block_size), IGNORE, dtype=torch.long)
    lengths = torch.zeros(len(conversations), dtype=torch.long)
    cut = 0
    for row, conversation in enumerate(conversations):
        r = render_with_tools(conversation, bpe)  # chat.render, plus tool calls (results untrained)
        if len(r.ids) > block_size + 1:
            cut += 1
        ids, mask = r.ids[:block_size + 1], r.mask[:block_size + 1]
        n = lengths[row] = len(ids) - 1
        inputs[row, :n] = torch.tensor(ids[:-1])
        targets[row, :n] = torch.tensor([t if m else IGNORE for t, m in zip(ids[1:], mask[1:])])
    return Examples(inputs, targets, lengths, cut)


def finetune(model, bpe, train_conversations: list[list[dict]], val_conversations: list[list[dict]],
             plan: Plan, progress=None):
    """Fine-tune in place on conversations; held-out loss on the assistant tokens of val_conversations."""
    import torch

    block = model.config.block_size
    data = examples(train_conversations, bpe, block)
    val = examples(val_conversations, bpe, block) if val_conversations else None
    val_batches = [val.batch(torch.arange(i, min(i + plan.batch_size, len(val.inputs))))
                   for i in range(0, len(val.inputs), plan.batch_size)] if val else []
    generator = torch.Generator().manual_seed(plan.seed)

    def next_batch(step):
        rows = torch.randint(0, len(data.inputs), (plan.batch_size,), generator=generator)
        return data.batch(rows)

    history = train(model, next_batch, plan, val_batches, progress)
    return history, data.cut
