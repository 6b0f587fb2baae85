"""The KV cache (the sous chefs' notebooks): every earlier position's keys and values, kept.

Without it each new token recomputes the whole prefix; with it, a step costs
one position's forward pass. The storage is the engine's own
(`engine.new_cache(batch)`: lists of Values, NumPy arrays or torch tensors,
allocated nowhere else); this class adds what decoding needs on top: the
position reached, the block's room, and rewinding (speculative decoding
drops the drafts the target rejected: their entries are overwritten when
those positions come again).
"""

from __future__ import annotations

from ..errors import OmakaseError


class KVCache:
    def __init__(self, engine, batch: int = 1):
        self.engine, self.batch = engine, batch
        self.store = engine.new_cache(batch)
        self.pos = 0  # positions whose keys and values are held

    def feed(self, rows: list[list[int]], every: bool = False) -> list:
        """Feed each row's tokens (all rows equally long) at the next positions; per row the logits after
        its last token, or after each of its tokens with every=True."""
        if len(rows) != self.batch or len({len(r) for r in rows}) != 1:
            raise OmakaseError(f"feed {self.batch} rows of one length at a time, got lengths {[len(r) for r in rows]}")
        end = self.pos + len(rows[0])
        if end > self.engine.config.block_size:
            raise OmakaseError(f"{end} positions do not fit in the block of {self.engine.config.block_size}")
        logits = self.engine.logits_cached(self.store, rows, self.pos, every)
        self.pos = end
        return logits

    def rewind(self, pos: int) -> None:
        """Forget every position from `pos` on."""
        if not 0 <= pos <= self.pos:
            raise OmakaseError(f"can rewind to a position in 0..{self.pos}, got {pos}")
        self.pos = pos
