"""Courses become word-pieces: a byte-level BPE tokenizer (byte pair encoding).

Ming's first kitchen served one course per character. A bigger kitchen plates
smarter: it starts from the 256 bytes (every text is bytes, so nothing is ever
unknown), finds the pair of neighbouring pieces served together most often in
the training text, and makes that pair one new piece, again and again, until
the menu has `vocab_size` entries. "t" + "h" becomes "th", "th" + "e" becomes
"the", " " + "the" becomes " the". Common words end up as one piece, rare
words as a few, and any byte sequence at all can still be written down.

    bpe = BPE.train("aaabdaaabac", vocab_size=259)   # 3 merges: aa -> 256, ab -> 257, 256 257 -> 258
    bpe.encode("aaabdaaabac")  -> [258, 100, 258, 97, 99]     ("aaab" "d" "aaab" "a" "c")
    bpe.decode([258, 100])     -> "aaabd"

Like GPT-2 and GPT-4, the text is first cut into chunks (words with their
leading space, runs of digits, punctuation, whitespace) by a regular
expression, and merges never cross a chunk's edge: " dog." stays " dog" + ".",
so the menu does not fill up with "dog." "dog!" "dog?".

Special tokens (e.g. "<|doc|>", "<|user|>") get ids after every merge. They are
never produced by `encode`: a special's spelling inside ordinary text is just
bytes, so a document cannot forge a role marker. Whoever builds a token
sequence (chat.py) puts their ids in on purpose.

Training counts each distinct chunk once, with its frequency, and after a merge
updates the pair counts of only the chunks that held the merged pair (a heap
finds the next most frequent pair), so a few MB train in seconds rather than
hours (benchmarks/bpe.py measures it beside HuggingFace tokenizers).
The model for readability is Karpathy's minbpe.
"""

from __future__ import annotations

import heapq
import json
import operator
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .errors import OmakaseError
from .files import atomic_write_text

# GPT-2's split, written for the stdlib `re`, which has no \p{L} (letter) or \p{N} (number):
# a letter is approximated by [^\W\d_] (a word character that is not a digit or "_"), a number
# by \d (decimal digits), and "not space, letter or number" by (?:[^\s\w]|_). Every character
# falls in one of the alternatives, so the chunks always join back to the whole text.
# (GPT-4's split also caps digit runs at 3 and keeps newlines apart; GPT-2's is what
# HuggingFace's ByteLevel pre-tokenizer uses, so the two are compared like for like.)
SPLIT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"""
# The same split with every digit a chunk of its own (as LLaMA's tokenizer does), so no merge ever joins
# digits: "9.11" is "9" "." "1" "1" and a number's pieces line up digit by digit. Pass it as `pattern`
# to compare a model that reads numbers digit by digit with one that reads them in BPE's pieces.
SPLIT_DIGITS = r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+|\d| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"""

Progress = Callable[[int, int], None]


class BPE:
    def __init__(self, merges: Sequence[tuple[int, int]], specials: Sequence[str] = (), pattern: str = SPLIT):
        """`merges` in the order they were learned: merge i makes token 256 + i."""
        self.merges = [tuple(p) for p in merges]
        self.ranks = {pair: 256 + i for i, pair in enumerate(self.merges)}  # a pair -> the token it becomes
        self.pattern = pattern
        self._split = re.compile(pattern)
        self._pieces = [bytes([b]) for b in range(256)]
        for a, b in self.merges:
            self._pieces.append(self._pieces[a] + self._pieces[b])
        _check_specials(specials)
        self.special = {s: len(self._pieces) + i for i, s in enumerate(specials)}
        self._pieces += [s.encode("utf-8") for s in specials]
        self.vocab_size = len(self._pieces)
        self._cache: dict[str, list[int]] = {}  # a chunk -> its ids: words repeat, so most chunks are looked up

    # --- training --------------------------------------------------------------------------------

    @classmethod
    def train(cls, text: str, vocab_size: int, specials: Sequence[str] = (), progress: Progress | None = None,
              pattern: str = SPLIT) -> "BPE":
        """Merges learned from `text` until 256 + merges + specials = vocab_size (or no pair repeats)."""
        _check_specials(specials)
        n_merges = vocab_size - 256 - len(specials)
        if n_merges < 0:
            raise OmakaseError(f"vocab_size {vocab_size} is too small: the 256 bytes and {len(specials)} special "
                               f"tokens need at least {256 + len(specials)}")
        chunks = Counter(re.findall(pattern, text))
        words = [list(chunk.encode("utf-8", "surrogateescape")) for chunk in chunks]  # each distinct chunk once
        freqs = list(chunks.values())
        pairs: dict[tuple[int, int], int] = defaultdict(int)  # pair -> how often it occurs in the text
        where: dict[tuple[int, int], set[int]] = defaultdict(set)  # pair -> the words that (may) hold it
        for w, ids in enumerate(words):
            for pair in zip(ids, ids[1:]):
                pairs[pair] += freqs[w]
                where[pair].add(w)
        # A max-heap of (-count, pair); entries go stale when a count changes and are skipped when popped.
        # Ties go to the smallest pair, so training is deterministic.
        heap = [(-count, pair) for pair, count in pairs.items()]
        heapq.heapify(heap)
        merges: list[tuple[int, int]] = []
        while len(merges) < n_merges and heap:
            negative, pair = heapq.heappop(heap)
            if pairs.get(pair) != -negative:
                continue  # stale
            if -negative < 2:
                break  # a pair seen once is memorizing, not compressing
            new = 256 + len(merges)
            merges.append(pair)
            changed = set()
            for w in where.pop(pair):
                ids, freq = words[w], freqs[w]
                merged = _merge(ids, pair, new)
                if len(merged) == len(ids):
                    continue  # an earlier merge already took this word's copy of the pair
                for p in zip(ids, ids[1:]):  # the word's old pairs leave the counts, its new pairs enter
                    pairs[p] -= freq
                    changed.add(p)
                for p in zip(merged, merged[1:]):
                    pairs[p] += freq
                    where[p].add(w)
                    changed.add(p)
                words[w] = merged
            for p in changed:
                if pairs[p] > 0:
                    heapq.heappush(heap, (-pairs[p], p))
                else:
                    del pairs[p]
            if progress:
                progress(len(merges), n_merges)
        return cls(merges, specials, pattern)

    # --- encoding and decoding -------------------------------------------------------------------

    def encode(self, text: str) -> list[int]:
        """The ids of ordinary text. A special token's spelling in `text` is plain bytes, never its id."""
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise OmakaseError(f"text holds {text[e.start]!r} at position {e.start}, a lone surrogate that is not "
                               f"valid Unicode; encode the raw bytes with encode_bytes instead") from None
        return self._encode_chunks(self._split.findall(text))

    def encode_bytes(self, data: bytes) -> list[int]:
        """The ids of any bytes at all (not UTF-8 too): undecodable bytes travel as surrogate escapes."""
        return self._encode_chunks(self._split.findall(data.decode("utf-8", "surrogateescape")))

    def _encode_chunks(self, chunks: Iterable[str]) -> list[int]:
        out: list[int] = []
        cache = self._cache
        for chunk in chunks:
            ids = cache.get(chunk)
            if ids is None:
                ids = cache[chunk] = self._encode_chunk(chunk.encode("utf-8", "surrogateescape"))
            out.extend(ids)
        return out

    def _encode_chunk(self, data: bytes) -> list[int]:
        """Replay the merges on one chunk: always the earliest-learned pair present first, as in training."""
        ids = list(data)
        while len(ids) >= 2:
            pair = min(zip(ids, ids[1:]), key=lambda p: self.ranks.get(p, float("inf")))
            if pair not in self.ranks:
                break
            ids = _merge(ids, pair, self.ranks[pair])
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        """Text for ids (special ids give their spelling); bytes that are not UTF-8 become U+FFFD."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def decode_bytes(self, ids: Sequence[int]) -> bytes:
        return b"".join([self.piece(i) for i in ids])

    def piece(self, id: int) -> bytes:
        """The bytes of one token (a special: its spelling). Any integer type will do (numpy, torch)."""
        try:
            i = operator.index(id)
        except TypeError:
            i = -1
        if not 0 <= i < self.vocab_size:
            raise OmakaseError(f"token id {id!r} is not in the vocabulary (ids 0..{self.vocab_size - 1})")
        return self._pieces[i]

    # --- more specials, saving and loading -------------------------------------------------------

    def with_specials(self, specials: Sequence[str]) -> "BPE":
        """The same merges plus more special tokens (ids appended after the ones there are)."""
        return BPE(self.merges, list(self.special) + [s for s in specials if s not in self.special], self.pattern)

    def to_dict(self) -> dict:
        return {"kind": "bpe", "pattern": self.pattern, "merges": [list(p) for p in self.merges],
                "special": dict(self.special)}

    @classmethod
    def from_dict(cls, d: dict) -> "BPE":
        try:
            if d.get("kind") != "bpe":
                raise ValueError(f"kind is {d.get('kind')!r}, not 'bpe'")
            merges = [(int(a), int(b)) for a, b in d["merges"]]
            for i, (a, b) in enumerate(merges):
                if not (0 <= a < 256 + i and 0 <= b < 256 + i):
                    raise ValueError(f"merge {i} joins {a} and {b}, which do not exist yet")
            specials = sorted(d["special"], key=d["special"].get)
            bpe = cls(merges, specials, d["pattern"])
        except (KeyError, TypeError, ValueError, AttributeError, re.error) as e:
            raise OmakaseError(f"not a BPE tokenizer ({type(e).__name__}: {e}); save one with BPE.save") from None
        if bpe.special != d["special"]:
            raise OmakaseError(f"the special tokens' ids {d['special']} do not follow the merges "
                               f"(expected {bpe.special}); the tokenizer file was edited or damaged")
        return bpe

    def save(self, path: str | Path) -> None:

        atomic_write_text(path, json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: str | Path) -> "BPE":
        path = Path(path)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise OmakaseError(f"cannot read tokenizer {path} ({e.strerror}); check the path") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise OmakaseError(f"tokenizer {path} is corrupt or truncated ({e}); train it again") from None
        if not isinstance(d, dict):
            raise OmakaseError(f"{path} is not a BPE tokenizer (no JSON object); save one with BPE.save")
        return cls.from_dict(d)

    def describe(self) -> str:
        return f"byte-level BPE: 256 bytes + {len(self.merges):,} merges + {len(self.special)} special tokens"


def _merge(ids: list[int], pair: tuple[int, int], new: int) -> list[int]:
    """`ids` with every non-overlapping occurrence of `pair`, left to right, replaced by `new`."""
    out, i, a, b = [], 0, pair[0], pair[1]
    while i < len(ids):
        if ids[i] == a and i + 1 < len(ids) and ids[i + 1] == b:
            out.append(new)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def _check_specials(specials: Sequence[str]) -> None:
    if isinstance(specials, str):
        raise OmakaseError(f"special tokens are a list of strings, got the string {specials!r}; wrap it in a list")
    if not all(isinstance(s, str) and s for s in specials):
        raise OmakaseError(f"special tokens must be non-empty strings, got {list(specials)!r}")
    if len(set(specials)) != len(specials):
        raise OmakaseError(f"special tokens repeat: {list(specials)!r}; give each once")
