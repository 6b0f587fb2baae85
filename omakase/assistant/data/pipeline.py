"""Step 1 of the notes, "preprocess the internet": the kitchen's internet cleaned as the web is.

Real pretraining sets (FineWeb, The Pile, RefinedWeb) are built by a pipeline of
filters, each throwing documents away. Ours has the same steps, small enough to
read, and counts what each one keeps:

  1. exact duplicates   the same text up to case and whitespace: keep the first copy.
  2. near duplicates    texts that share most of their word 5-grams (a reposted
                        page with a word changed): MinHash + LSH, keep the first.
  3. quality filter     a few explained rules (too short, mostly symbols, the
                        same line or word over and over), each removal counted.
  4. split              train and validation by whole document (never a document
                        cut in two, so validation text was never seen in training),
                        stratified by kind so every kind is measured.

Real text is mixed in (`real_text_documents`: tinyshakespeare cut into documents of
a few speeches), so the base model reads more than our restaurant.

A document is any object with `.id`, `.kind`, `.text` and `.facts` (documents.py's
Document). Every step is a pure function `step(documents, ...) -> (kept, removed)`
with `removed` = {document id: reason}; `run_pipeline` chains them and counts.

Near-duplicate search uses datasketch (https://github.com/ekzhu/datasketch, MIT
licence per its package metadata; version 2.0.0 measured): `MinHash` estimates the
Jaccard similarity of two shingle sets from 128 seeded hash permutations, and
`MinHashLSH` finds the candidates above a threshold without comparing every pair.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

from ...errors import OmakaseError
from .documents import Document

NGRAM = 5  # words per shingle: long enough that sharing many means sharing text
THRESHOLD = 0.8  # Jaccard similarity at or above which two documents are near duplicates
NUM_PERM = 128  # MinHash permutations: the estimate's standard error is about 0.03 at J = 0.9
LSH_WEIGHTS = (0.05, 0.95)  # the index's cost of a false candidate vs a missed pair: recall first
VAL_FRACTION = 0.1

# The quality rules (in the spirit of Gopher's and C4's heuristics, at toy scale).
MIN_WORDS = 10  # fewer words than this carry no text worth learning from
MIN_LETTER_SHARE = 0.6  # letters among the non-space characters: below this it is symbols, numbers, markup
MAX_REPEATED_LINE_SHARE = 0.3  # characters in lines that repeat an earlier line: boilerplate and spam
MAX_TOP_WORD_SHARE = 0.3  # the most common word's share of all words: "buy buy buy cheap cheap"

WORD = re.compile(r"\w+")


def real_text_documents(text: str, kind: str = "shakespeare", max_chars: int = 2000) -> list:
    """Real text as documents: speeches (blocks separated by blank lines) grouped in order
    until the next would pass `max_chars`. A speech longer than that is one document
    alone (it is never cut). Ids are "<kind>:<n>"; real text states no facts of our world."""
    if max_chars < 1:
        raise OmakaseError(f"max_chars must be positive, got {max_chars}")
    speeches = [s.strip() for s in re.split(r"\n\s*\n", text) if s.strip()]
    if not speeches:
        raise OmakaseError(f"the {kind} text is empty; give the real text's contents (e.g. tinyshakespeare)")
    groups, current = [], []
    for speech in speeches:
        if current and len("\n\n".join(current + [speech])) > max_chars:
            groups.append(current)
            current = []
        current.append(speech)
    groups.append(current)
    return [Document(id=f"{kind}:{i}", kind=kind, text="\n\n".join(g), facts=()) for i, g in enumerate(groups)]


def normalised(text: str) -> str:
    """The text as exact deduplication compares it: whitespace collapsed, case folded."""
    return " ".join(text.split()).casefold()


def exact_duplicates(documents: Sequence) -> tuple[list, dict[str, str]]:
    """Drop every document whose normalised text was already seen; the first copy stays."""
    first: dict[str, str] = {}  # digest -> id of the document that had it first
    kept, removed = [], {}
    for doc in documents:
        digest = hashlib.sha256(normalised(doc.text).encode("utf-8")).hexdigest()
        if digest in first:
            removed[doc.id] = f"exact duplicate of {first[digest]}"
        else:
            first[digest] = doc.id
            kept.append(doc)
    return kept, removed


def shingles(text: str, n: int = NGRAM) -> set[str]:
    """Word n-grams of the case-folded text; a text of fewer than n words gets
    character n-grams instead (it has no word n-gram)."""
    words = WORD.findall(text.casefold())
    if len(words) >= n:
        return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}
    flat = normalised(text)
    return {flat[i:i + n] for i in range(max(1, len(flat) - n + 1))} if flat else set()


def near_duplicates(documents: Sequence, threshold: float = THRESHOLD, num_perm: int = NUM_PERM,
                    seed: int = 0) -> tuple[list, dict[str, str]]:
    """Drop every document whose shingles overlap an earlier kept document's by a
    Jaccard similarity of at least `threshold` (MinHash estimate); the first stays."""
    if not 0.0 < threshold <= 1.0:
        raise OmakaseError(f"the near-duplicate threshold must be in (0, 1], got {threshold}")
    try:
        from datasketch import MinHash, MinHashLSH
    except ImportError:
        raise OmakaseError('near-duplicate removal needs datasketch; from the checkout: '
                           'pip install -e ".[assistant]"') from None
    order = {doc.id: i for i, doc in enumerate(documents)}
    sets = [sorted(shingles(doc.text)) for doc in documents]
    sketches = MinHash.bulk([[s.encode("utf-8") for s in shingle_set] for shingle_set in sets],
                            num_perm=num_perm, seed=seed)
    # The index holds kept documents only, and each document is queried before it is
    # inserted: so a document is compared with the kept ones before it, and the first
    # of a cluster is the one that stays.
    # weights (false positive, false negative): datasketch's default (0.5, 0.5) picks 9 bands
    # of 13 rows, which misses 7% of pairs at J = 0.9 (1 - (1 - 0.9**13)**9); weighting
    # misses 19 times more picks 16 bands of 8: 0.01% missed at J = 0.9, 5% at J = 0.8.
    # A false candidate only costs one MinHash comparison below.
    index = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=LSH_WEIGHTS)
    kept_sketch: dict[str, object] = {}
    kept, removed = [], {}
    for doc, shingle_set, sketch in zip(documents, sets, sketches):
        if not shingle_set:  # nothing to compare (an empty text): the quality filter decides
            kept.append(doc)
            continue
        # LSH candidates are approximate: confirm each with the MinHash estimate, and
        # take the earliest twin (the index's answer is a set, in no fixed order).
        twins = [key for key in index.query(sketch) if sketch.jaccard(kept_sketch[key]) >= threshold]
        if twins:
            twin = min(twins, key=order.__getitem__)
            removed[doc.id] = f"near duplicate of {twin} (Jaccard ~ {sketch.jaccard(kept_sketch[twin]):.2f})"
        else:
            index.insert(doc.id, sketch)
            kept_sketch[doc.id] = sketch
            kept.append(doc)
    return kept, removed


def quality_problem(text: str, min_words: int = MIN_WORDS) -> str | None:
    """The first quality rule `text` breaks, or None when it passes them all."""
    words = WORD.findall(text.casefold())
    if len(words) < min_words:
        return "too short"
    visible = [c for c in text if not c.isspace()]
    if sum(c.isalpha() for c in visible) < MIN_LETTER_SHARE * len(visible):
        return "mostly symbols"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    seen, repeated_chars = set(), 0
    for line in lines:
        if line.casefold() in seen:
            repeated_chars += len(line)
        seen.add(line.casefold())
    if repeated_chars > MAX_REPEATED_LINE_SHARE * sum(len(line) for line in lines):
        return "repeated lines"
    if Counter(words).most_common(1)[0][1] > MAX_TOP_WORD_SHARE * len(words):
        return "one word repeated"
    return None


def quality_filter(documents: Sequence, min_words: int = MIN_WORDS) -> tuple[list, dict[str, str]]:
    """Drop documents that break a quality rule; the reason is the rule's name."""
    kept, removed = [], {}
    for doc in documents:
        problem = quality_problem(doc.text, min_words)
        if problem:
            removed[doc.id] = problem
        else:
            kept.append(doc)
    return kept, removed


def split_by_document(documents: Sequence, val_fraction: float = VAL_FRACTION,
                      seed: int = 0) -> tuple[list, list]:
    """Whole documents to train or validation. Within each kind a seeded shuffle picks
    round(n * val_fraction) documents for validation, at least one and at most n - 1
    when the kind has two or more (so each kind is in both); both lists keep input order."""
    if not 0.0 <= val_fraction < 1.0:
        raise OmakaseError(f"the validation fraction must be in [0, 1), got {val_fraction}")
    rng = random.Random(seed)
    by_kind: dict[str, list[int]] = {}
    for i, doc in enumerate(documents):
        by_kind.setdefault(doc.kind, []).append(i)
    held_out: set[int] = set()
    for kind in sorted(by_kind):  # sorted: the draw does not depend on which kind came first
        members = by_kind[kind]
        n_val = round(len(members) * val_fraction)
        if val_fraction > 0 and len(members) >= 2:
            n_val = min(max(n_val, 1), len(members) - 1)
        held_out.update(rng.sample(members, n_val))
    train = [doc for i, doc in enumerate(documents) if i not in held_out]
    val = [doc for i, doc in enumerate(documents) if i in held_out]
    return train, val


def fact_mentions(documents: Sequence) -> Counter:
    """How many of `documents` mention each fact: what a step's removals cost the world's facts."""
    return Counter(fact for doc in documents for fact in doc.facts)


@dataclass
class PipelineResult:
    train: list
    val: list
    removed: dict[str, str]  # document id -> why it was removed
    steps: list[dict]  # {"step", "documents", "tokens", "removed"}: what is left after each step
    quality_reasons: dict[str, int] = field(default_factory=dict)  # quality rule -> documents it removed


def _check(documents: Sequence) -> None:
    if not documents:
        raise OmakaseError("the pipeline got no documents; give it the world's documents and/or real text")
    seen = set()
    for doc in documents:
        if not all(hasattr(doc, name) for name in ("id", "kind", "text", "facts")):
            raise OmakaseError(f"{doc!r:.60} is not a document; give objects with .id, .kind, .text and .facts")
        if not isinstance(doc.text, str):
            raise OmakaseError(f"document {doc.id} has a text of type {type(doc.text).__name__}; texts are strings")
        if doc.id in seen:
            raise OmakaseError(f"two documents have the id {doc.id!r}; document ids must be unique")
        seen.add(doc.id)


def run_pipeline(documents: Sequence, seed: int = 0, count_tokens: Callable = len,
                 val_fraction: float = VAL_FRACTION, threshold: float = THRESHOLD,
                 min_words: int = MIN_WORDS, progress: Callable[[dict], None] | None = None) -> PipelineResult:
    """Every step in order, counted. `count_tokens(text)` gives a number (characters by
    default) or a sequence of ids (e.g. a BPE's `encode`), whose length is counted.
    `progress(row)` is called with each step's row when it is done."""
    _check(documents)
    tokens = {}
    for doc in documents:
        n = count_tokens(doc.text)
        tokens[doc.id] = n if isinstance(n, int) else len(n)
    steps: list[dict] = []

    def record(step: str, kept: Sequence, removed: int) -> None:
        row = {"step": step, "documents": len(kept), "tokens": sum(tokens[d.id] for d in kept), "removed": removed}
        steps.append(row)
        if progress:
            progress(row)

    record("input", documents, 0)
    removed: dict[str, str] = {}
    kept, gone = exact_duplicates(documents)
    removed.update(gone)
    record("exact duplicates", kept, len(gone))
    kept, gone = near_duplicates(kept, threshold=threshold, seed=seed)
    removed.update(gone)
    record("near duplicates", kept, len(gone))
    kept, gone = quality_filter(kept, min_words=min_words)
    removed.update(gone)
    record("quality filter", kept, len(gone))
    quality_reasons = dict(Counter(gone.values()).most_common())
    train, val = split_by_document(kept, val_fraction=val_fraction, seed=seed)
    record("train", train, 0)
    record("validation", val, 0)
    return PipelineResult(train, val, removed, steps, quality_reasons)
