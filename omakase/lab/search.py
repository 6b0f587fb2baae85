"""Searching a stored index many times in one process: `omakase lab search`.

- One Searcher per database: the collection is opened once, the embedding model is loaded
  the first time a query needs it (never for bm25), and the BM25 index over the stored
  chunk texts is built the first time bm25 or hybrid is asked for.
- Methods: dense (Chroma's HNSW over the stored vectors), bm25 (the lab's code-aware BM25
  over the stored texts), hybrid (reciprocal rank fusion of the two, k = 60).
- One result per function: strategy F cuts a long function into windows that each record the
  function's def line, and a function's windows count once, at its best window's rank and
  score; a result names the function (its def line, where an editor should jump), the matched
  window's lines, and the window's first lines as a snippet.
- Notes: a search while an indexing run writes the database (or after one was stopped) says
  the index is partial; a query with no word the index holds whose best cosine is far below
  what real queries get says the match is weak.
- Filters (path globs, languages, no tests) are predicates on a chunk's path, so they
  become the set of stored paths they keep, and Chroma is asked for the top k among those
  paths' chunk ids (`ids=`): the top k of the kept chunks, not what is left of an unfiltered
  top k. At 10,000 chunks that costs 9 ms a query; `where={"path": {"$in": paths}}` says the
  same and cost 30-40 ms (benchmarks/lab_search.py, docs/lab.md).
- The exact cross-check (NumPy brute force over the stored vectors, overlap@k with Chroma's
  approximate answer) runs only when asked for: it reads every vector.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from ..errors import OmakaseError
from . import store
from .listing import LANGUAGES, language_of
from .retrievers import RRF_K, BM25Index, rrf_ranked
from .signatures import signature

METHODS = ("dense", "bm25", "hybrid")
HYBRID_DEPTH = 100  # each method's top 100 are fused; deeper ranks add less than 1/160 each
TEST_FOLDERS = {"test", "tests", "__tests__"}
TEST_FILES = ("test_*.py", "*_test.py", "*.test.js", "*.spec.js", "*.test.mjs", "*.spec.mjs", "*.test.cjs", "*.spec.cjs")
SCORE_FORMAT = {"dense": ".3f", "bm25": ".2f", "hybrid": ".4f"}  # cosine; BM25 (unbounded); sums of 1/(60 + rank)


# ---------------------------------------------------------------- what the user asked for, checked before anything loads

def check_queries(queries: list[str]) -> list[str]:
    if not queries:
        raise OmakaseError("no query: give one as an argument, one per line on standard input, or use --interactive")
    for i, q in enumerate(queries, 1):
        if not q.strip():
            which = "the query" if len(queries) == 1 else f"query {i} of {len(queries)}"
            raise OmakaseError(f"{which} is empty; say what you are looking for, in words or identifiers")
    return queries


def check_method(method: str, check_exact: bool = False) -> str:
    if method not in METHODS:
        raise OmakaseError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    if check_exact and method == "bm25":
        raise OmakaseError("--check-exact compares Chroma's approximate vector search with exact NumPy search, "
                           "and bm25 uses no vectors; use it with --method dense or hybrid")
    return method


@dataclass(frozen=True)
class Filters:
    """Which stored chunks a search may return; all three conditions must hold."""

    globs: tuple[str, ...] = ()  # fnmatch on the stored relative path (`*` crosses `/`); any one may match
    langs: tuple[str, ...] = ()  # by file extension, as the chunkers decide; any one may match
    no_tests: bool = False

    def __bool__(self) -> bool:
        return bool(self.globs or self.langs or self.no_tests)

    def keeps(self, path: str) -> bool:
        if self.globs and not any(fnmatch.fnmatchcase(path, g) for g in self.globs):
            return False
        if self.langs and language_of(path) not in self.langs:
            return False
        return not (self.no_tests and is_test_path(path))


def check_filters(globs: list[str] | None = None, langs: list[str] | None = None, no_tests: bool = False) -> Filters:
    known = sorted(set(LANGUAGES.values()))
    for g in globs or ():
        if not g.strip():
            raise OmakaseError("--path '' matches nothing; give a glob on the indexed relative path, such as 'src/*.py'")
    for lang in langs or ():
        if lang.lower() not in known:
            raise OmakaseError(f"unknown language {lang!r} for --lang; choose from {', '.join(known)}")
    return Filters(tuple(globs or ()), tuple(sorted({x.lower() for x in langs or ()})), no_tests)


def is_test_path(path: str) -> bool:
    """Under a test/, tests/ or __tests__/ folder, or named like test_x.py, x_test.py, x.test.js, x.spec.js."""
    p = PurePosixPath(path)
    return bool(TEST_FOLDERS & set(p.parts[:-1])) or any(fnmatch.fnmatchcase(p.name, g) for g in TEST_FILES)


# ---------------------------------------------------------------- answers

SNIPPET_LINES = 4  # of the matched window: enough to recognise the code, short enough to scan ten results
OVERFETCH = 4  # chunks asked for per result wanted: a long function's windows can fill the first ranks
# MiniLM's best cosine on the email package (a codebase the tests never saw; docs/lab.md): 0.50-0.75
# for 12 questions written by hand, 0.17-0.32 for 8 queries of emoji, punctuation, Chinese or Danish letters
WEAK_BELOW = {"minilm": 0.4}


@dataclass
class Result:
    id: str  # the matched chunk
    path: str
    def_line: int  # the line of the function or class the match belongs to: where an editor should jump
    start_line: int  # the matched chunk's lines (a window of a long function, or the whole of a short one)
    end_line: int
    symbol: str  # its def or class line (the chunk's first line that names something, outside functions)
    score: float  # dense: cosine similarity; bm25: BM25 score; hybrid: the fused 1/(60 + rank) sum
    method: str
    snippet: str  # the chunk's first lines

    @property
    def group(self) -> tuple[str, int]:
        return self.path, self.def_line

    def as_json(self) -> dict:
        return {"path": self.path, "symbol": self.symbol, "def_line": self.def_line, "start_line": self.start_line,
                "end_line": self.end_line, "score": round(self.score, 6), "snippet": self.snippet,
                "method": self.method}


@dataclass
class Answer:
    query: str
    method: str
    k: int
    searched: int  # chunks the filters kept (all of them without filters)
    results: list[Result] = field(default_factory=list)
    exact_overlap: float | None = None  # with --check-exact: overlap@k of Chroma's vector top k with the exact one
    partial: str | None = None  # why the index may lack files (an indexing run going on, or one stopped)
    weak_match: bool = False  # no word of the query is in the index, and the best cosine is far below the usual

    def notes(self) -> list[str]:
        out = []
        if self.partial:
            out.append(f"the index is partial: {self.partial}")
        if self.weak_match:
            out.append("weak match: no word of the query is in the index and the best score is far below "
                       "the usual; these results are hardly related")
        return out

    def as_json(self) -> dict:
        out = {"query": self.query, "method": self.method, "k": self.k, "searched": self.searched,
               "results": [r.as_json() for r in self.results]}
        if self.exact_overlap is not None:
            out["exact_overlap"] = round(self.exact_overlap, 6)
        if self.partial:
            out["partial"] = self.partial
        if self.weak_match:
            out["weak_match"] = True
        return out

    def header(self) -> str:
        return f"{self.query!r}: {self.method}, top {len(self.results)} of {self.searched} chunks, one per function"

    def rows(self) -> list[str]:
        """`path:def_line  symbol  lines a-b  score` per result, columns aligned."""
        places = [f"{r.path}:{r.def_line}" for r in self.results]
        symbols = [_cut(r.symbol, 70) for r in self.results]
        spans = [f"lines {r.start_line}-{r.end_line}" for r in self.results]
        wp, ws, wl = (max(map(len, col), default=0) for col in (places, symbols, spans))
        return [f"{place:<{wp}}  {sym:<{ws}}  {span:<{wl}}  {r.score:{SCORE_FORMAT[r.method]}}"
                for r, place, sym, span in zip(self.results, places, symbols, spans)]

    def empty_reason(self) -> str | None:
        if self.results:
            return None
        return "no chunk shares a word with the query" if self.method == "bm25" and self.searched else \
            "no chunk is left by the filters" if not self.searched else "nothing found"

    def as_text(self) -> list[str]:
        """The header, then each result's row and its snippet, indented; notes last."""
        lines = [self.header()]
        if self.empty_reason():
            lines.append(f"  ({self.empty_reason()})")
        for r, row in zip(self.results, self.rows()):
            lines.append(f"  {row}")
            lines.extend(f"      {line}" for line in r.snippet.split("\n"))
        if self.exact_overlap is not None:
            lines.append(f"  overlap@{self.k} with exact NumPy search: {self.exact_overlap:.2f}")
        lines.extend(f"  note: {n}" for n in self.notes())
        return lines


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def snippet(text: str, n: int = SNIPPET_LINES) -> str:
    """The first n lines of a chunk, dedented together (a method's window starts indented)."""
    import textwrap

    return textwrap.dedent("\n".join(line.rstrip() for line in text.split("\n")[:n]))


def result(chunk_id: str, meta: dict, text: str, score: float, method: str) -> Result:
    if meta.get("def_line"):  # strategy F records the function each window belongs to
        line, sym = meta["def_line"], meta["symbol"]
    else:
        line, sym = signature(text, meta["start_line"], meta["path"], meta.get("header", ""))
    return Result(chunk_id, meta["path"], line, meta["start_line"], meta["end_line"], sym, float(score), method,
                  snippet(text))


def one_per_function(results: list[Result], k: int) -> list[Result]:
    """The best-ranked result of each function (its best window), in rank order, at most k."""
    out, seen = [], set()
    for r in results:
        if r.group not in seen:
            seen.add(r.group)
            out.append(r)
            if len(out) == k:
                break
    return out


# ---------------------------------------------------------------- the searcher

@dataclass
class Scope:
    paths: set[str] | None  # stored paths the filters keep; None: all of them
    ids: list[str] | None  # those paths' chunk ids; None: all of them
    size: int  # how many chunks that is


class Corpus:
    """Every stored chunk's id, path and text, in a fixed order (by path, then line) for BM25 and filters."""

    def __init__(self, got: dict):
        rows = sorted(zip(got["ids"], got["metadatas"], got["documents"]),
                      key=lambda r: (r[1]["path"], r[1]["start_line"]))
        self.ids = [r[0] for r in rows]
        self.metas = [r[1] for r in rows]
        self.texts = [r[2] for r in rows]
        self.paths = [m["path"] for m in self.metas]
        self.index = {i: n for n, i in enumerate(self.ids)}


class Searcher:
    """A database opened once, asked many times; the model and the BM25 index load on first need."""

    def __init__(self, db: Path | str, embedder_factory=None):
        self.db = db  # a folder, or a server's http(s)://HOST:PORT
        self.client = store.open_client(db, create=False)
        self.col = store.open_collection(self.client)
        self.size = self.col.count()
        if self.size == 0:
            raise OmakaseError(f"the database at {db} is empty; index a folder into it first")
        self.embedder_factory = embedder_factory
        self._embedder = None
        self._corpus: Corpus | None = None
        self._bm25: BM25Index | None = None
        self._ids_by_path: dict[str, list[str]] | None = None
        self._scopes: dict[Filters, Scope] = {}  # a session asks with the same filters again and again
        self._vectors: tuple[list[str], list[str], np.ndarray] | None = None  # ids, paths, unit vectors

    # what each method needs, made once
    @property
    def embedder(self):
        if self._embedder is None:
            if self.embedder_factory is None:
                raise OmakaseError("dense and hybrid search need an embedding model; this searcher has none")
            emb = self.embedder_factory()
            store.check_collection(self.col, emb.name, emb.dim)  # the vectors must be this model's
            self._embedder = emb
        return self._embedder

    @property
    def corpus(self) -> Corpus:
        if self._corpus is None:
            self._corpus = Corpus(self.col.get(include=["metadatas", "documents"]))
        return self._corpus

    @property
    def bm25(self) -> BM25Index:
        if self._bm25 is None:
            self._bm25 = BM25Index(self.corpus.texts)
        return self._bm25

    def ids_by_path(self) -> dict[str, list[str]]:
        """Each stored path's chunk ids: read once, the first time a filter needs them."""
        if self._ids_by_path is None:
            if self._corpus is not None:  # bm25 has read everything already
                ids, metas = self._corpus.ids, self._corpus.metas
            else:
                got = self.col.get(include=["metadatas"])
                ids, metas = got["ids"], got["metadatas"]
            self._ids_by_path = {}
            for i, m in zip(ids, metas):
                self._ids_by_path.setdefault(m["path"], []).append(i)
        return self._ids_by_path

    def warm(self, method: str, check_exact: bool = False) -> None:
        """Load now what `method` needs, so that the first answer comes as fast as the next ones."""
        if method != "bm25":
            self.embedder.embed(["warm up"])
        if method != "dense":
            self.bm25.scores("warm up")
        if check_exact:
            self.vectors()

    # answering
    def search(self, query: str, k: int = 5, method: str = "dense", filters: Filters = Filters(),
               check_exact: bool = False) -> Answer:
        """The top k functions: a function's windows count once, with the best window's score and lines."""
        check_queries([query])
        check_method(method, check_exact)
        scope = self.scope(filters)
        answer = Answer(query, method, k, scope.size, partial=self.partial())
        if scope.size == 0:
            return answer
        n = min(scope.size, k * OVERFETCH)
        while True:  # ask deeper until k functions are found or every chunk is ranked
            if method == "bm25":
                ranked = self._bm25_results(query, n, scope.paths)
            else:
                dense, query_vector = self._dense(query, n if method == "dense" else max(n, HYBRID_DEPTH), scope.ids)
                ranked = dense if method == "dense" else self._fuse(query, dense, n, scope.paths)
            answer.results = one_per_function(ranked, k)
            if len(answer.results) == k or n >= scope.size or len(ranked) < n:
                break
            n = min(scope.size, 4 * n)
        if method != "bm25":
            answer.weak_match = self.is_weak(query, dense)
            if check_exact:
                exact = self.exact_top_k(query_vector, min(k, scope.size), scope.paths)
                answer.exact_overlap = store.overlap_at_k([r.id for r in dense[:k]], exact)
        return answer

    def partial(self) -> str | None:
        """Asked at each search: an indexing run may start or end while a session is open."""
        col = store.find_collection(self.client)
        return store.is_partial(self.db, col) if col is not None else None

    def is_weak(self, query: str, dense: list[Result]) -> bool:
        """No word of the query in the index, and a best cosine far below what real queries get."""
        threshold = WEAK_BELOW.get(getattr(self._embedder, "name", None))
        if not dense or (threshold is not None and dense[0].score >= threshold):
            return False
        return not (self.bm25.scores(query) > 0).any()  # read only now: most queries never need it

    def scope(self, filters: Filters) -> Scope:
        """The paths the filters keep and their chunk ids, which Chroma is asked among; None: all."""
        if not filters:
            return Scope(None, None, self.size)
        if filters not in self._scopes:
            by_path = self.ids_by_path()
            paths = {p for p in by_path if filters.keeps(p)}
            ids = [i for p in sorted(paths) for i in by_path[p]]
            everything = len(paths) == len(by_path)
            self._scopes[filters] = Scope(None if everything else paths, None if everything else ids, len(ids))
        return self._scopes[filters]

    def _dense(self, query: str, n: int, ids: list[str] | None) -> tuple[list[Result], np.ndarray]:
        qv = self.embedder.embed([query]).vectors[0]
        # `ids` limits Chroma's search to the kept chunks: a pre-filter, so the top n are among them
        res = self.col.query(query_embeddings=[qv.tolist()], n_results=min(n, self.size), ids=ids,
                             include=["documents", "metadatas", "distances"])
        hits = [result(i, m, doc, 1.0 - d, "dense")  # Chroma's cosine distance is 1 - cos
                for i, m, d, doc in zip(res["ids"][0], res["metadatas"][0], res["distances"][0], res["documents"][0])]
        return hits, qv

    def _bm25_ranked(self, query: str, n: int, allowed: set[str] | None) -> list[tuple[int, float]]:
        """(corpus position, score) of the best n chunks that share a token with the query."""
        scores = self.bm25.scores(query)
        if allowed is not None:
            scores = np.where(kept(self.corpus.paths, allowed), scores, 0.0)
        order = np.argsort(-scores, kind="stable")[:n]  # ties keep corpus order: reproducible
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]

    def _bm25_results(self, query: str, k: int, allowed: set[str] | None) -> list[Result]:
        c = self.corpus
        return [result(c.ids[i], c.metas[i], c.texts[i], s, "bm25") for i, s in self._bm25_ranked(query, k, allowed)]

    def _fuse(self, query: str, dense: list[Result], k: int, allowed: set[str] | None) -> list[Result]:
        # BM25 contributes only the chunks it matched, as in the eval's hybrid (retrievers.rrf)
        c = self.corpus
        lexical = [c.ids[i] for i, _ in self._bm25_ranked(query, HYBRID_DEPTH, allowed)]
        fused = rrf_ranked([r.id for r in dense], lexical, k=RRF_K)[:k]  # here k is how many chunks
        return [result(i, c.metas[c.index[i]], c.texts[c.index[i]], score, "hybrid") for i, score in fused]

    def exact_top_k(self, query_vector: np.ndarray, k: int, allowed: set[str] | None = None) -> list[str]:
        """The true top k by cosine, by NumPy over every stored vector the filters keep."""
        ids, paths, vecs = self.vectors()
        scores = vecs @ (query_vector / np.linalg.norm(query_vector))
        if allowed is not None:
            scores = np.where(kept(paths, allowed), scores, -np.inf)
        order = np.argsort(-scores, kind="stable")[:k]
        return [ids[i] for i in order]

    def vectors(self) -> tuple[list[str], list[str], np.ndarray]:
        """Every stored vector, normalized, with its chunk's id and path: read once, only for --check-exact."""
        if self._vectors is None:
            got = self.col.get(include=["embeddings", "metadatas"])
            vecs = np.asarray(got["embeddings"], dtype=np.float64)
            self._vectors = (got["ids"], [m["path"] for m in got["metadatas"]],
                             vecs / np.linalg.norm(vecs, axis=1, keepdims=True))
        return self._vectors


def kept(paths, allowed: set[str]) -> np.ndarray:
    """A mask over chunks: True where the chunk's path is one the filters keep."""
    return np.fromiter((p in allowed for p in paths), dtype=bool, count=len(paths))
