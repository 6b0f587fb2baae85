"""A stand-in engine for the assistant's tests: it writes a script, one token a step, whatever it reads.

    engine = Scripted(bpe.encode("That is $36."), end=bpe.special["<|end|>"], vocab=bpe.vocab_size)
    reply_with_tools(engine, bpe, conversation, tools)   # the reply is the script, then <|end|>

With it a test fixes what the model writes (a calculator call, a reply) and checks what the
orchestrator, the stream or the page do with it.
"""

from types import SimpleNamespace


class Scripted:
    def __init__(self, script, end: int, vocab: int, block: int = 128):
        self.config = SimpleNamespace(block_size=block, n_layer=1, n_head=1, head_dim=1, n_embd=1)
        self.script, self.end, self.vocab = list(script), end, vocab

    def new_cache(self, batch=1):
        return None

    def logits_cached(self, cache, rows, pos, every=False):
        logits = [0.0] * self.vocab
        logits[self.script.pop(0) if self.script else self.end] = 10.0
        return [logits]
