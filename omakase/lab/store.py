"""A vector database of code: ChromaDB's embedded PersistentClient, filled with our own embeddings.

- Telemetry off, our embeddings always (Chroma's default embedding function would
  try to download a model), cosine space fixed when the collection is created.
- Incremental: every chunk records its file's SHA-256; re-indexing skips files whose
  hash is unchanged, replaces the chunks of changed files and drops deleted files.
- Resumable: a file's chunks go in with one `add`, and each records how many
  chunks its file has, so a file cut short by an interruption is simply redone.
- Exact reference: a NumPy brute-force search over the stored embeddings; the lab
  reports overlap@k between Chroma's approximate (HNSW) answer and the exact one.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import OmakaseError
from .chunkers import STRATEGIES, chunk_file, code_files
from .embedders import Embedder

COLLECTION = "omakase_code"
CHROMA_MARKER = "chroma.sqlite3"


def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def open_client(db: Path, create: bool):
    db = Path(db)
    if db.exists() and not db.is_dir():
        raise OmakaseError(f"{db} is a file, not a Chroma database folder; choose another --db")
    is_chroma = (db / CHROMA_MARKER).is_file()
    if not is_chroma:
        if not create:
            raise OmakaseError(f"{db} is not a Chroma database (no {CHROMA_MARKER}); build one with `omakase lab index PATH --db {db}`")
        if db.exists() and any(db.iterdir()):
            raise OmakaseError(f"{db} is a folder with other files but no {CHROMA_MARKER}, so not a Chroma database; choose an empty or new --db")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings

    return chromadb.PersistentClient(path=str(db), settings=Settings(anonymized_telemetry=False))


def open_collection(client, embedder: Embedder | None, root: Path | None, create: bool):
    names = [c if isinstance(c, str) else c.name for c in client.list_collections()]
    if COLLECTION not in names:
        if not create:
            raise OmakaseError(f"this Chroma database has no {COLLECTION!r} collection; run `omakase lab index` first")
        return client.create_collection(
            COLLECTION,
            embedding_function=None,  # never Chroma's default: it would download a model
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": embedder.name, "dim": embedder.dim, "root": str(root)},
        )
    col = client.get_collection(COLLECTION, embedding_function=None)
    meta = col.metadata or {}
    if embedder is not None and (meta.get("embedder"), meta.get("dim")) != (embedder.name, embedder.dim):
        raise OmakaseError(
            f"this database was built with embedder {meta.get('embedder')} ({meta.get('dim')}-d), not {embedder.name} "
            f"({embedder.dim}-d); use the same --embedder or a new --db"
        )
    if root is not None and meta.get("root") not in (None, str(root)):
        raise OmakaseError(f"this database indexes {meta.get('root')}, not {root}; use a new --db for another folder")
    return col


@dataclass
class IndexStats:
    files: int = 0
    files_skipped: int = 0  # unchanged since the last run
    files_indexed: int = 0
    files_removed: int = 0
    chunks_added: int = 0
    chunks_total: int = 0
    truncated: int = 0  # chunks longer than the embedder reads
    seconds: float = 0.0

    @property
    def chunks_per_second(self) -> float:
        return self.chunks_added / self.seconds if self.seconds else 0.0


def stored_files(col) -> dict[str, tuple[str, int, int]]:
    """path -> (file hash, chunks the file should have, chunks stored), from the chunks' metadata."""
    got = col.get(include=["metadatas"])
    files: dict[str, tuple[str, int, int]] = {}
    for meta in got["metadatas"] or []:
        path = meta["path"]
        h, want, have = files.get(path, (meta["sha256"], meta["n_chunks"], 0))
        if h != meta["sha256"]:
            h = "mixed"  # leftovers of two versions: redo the file
        files[path] = (h, want, have + 1)
    return files


def index_folder(root: Path, db: Path, embedder: Embedder, strategy: str = "A", progress=None) -> IndexStats:
    root = Path(root).resolve()
    if strategy not in STRATEGIES:
        raise OmakaseError(f"unknown chunking strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    files = code_files(root)
    client = open_client(db, create=True)
    col = open_collection(client, embedder, root, create=True)
    stored = stored_files(col)
    stats = IndexStats(files=len(files))
    current = {p.relative_to(root).as_posix(): p for p in files}
    for rel in sorted(set(stored) - set(current)):
        col.delete(where={"path": rel})
        stats.files_removed += 1
    t0 = time.perf_counter()
    for rel, path in current.items():
        digest = file_hash(path)
        h, want, have = stored.get(rel, (None, 0, 0))
        if h == digest and want == have:
            stats.files_skipped += 1
        else:
            if rel in stored:
                col.delete(where={"path": rel})
            chunks = chunk_file(path, rel, strategy)
            if chunks:
                emb = embedder.embed([c.text for c in chunks])
                stats.truncated += emb.n_affected
                col.add(
                    ids=[f"{rel}:{c.start}-{c.end}" for c in chunks],
                    embeddings=emb.vectors.tolist(),
                    documents=[c.text for c in chunks],
                    metadatas=[{"path": rel, "start_line": c.start, "end_line": c.end, "sha256": digest,
                                "n_chunks": len(chunks), "strategy": strategy} for c in chunks],
                )
            stats.files_indexed += 1
            stats.chunks_added += len(chunks)
        if progress:
            progress(rel)
    stats.seconds = time.perf_counter() - t0
    stats.chunks_total = col.count()
    return stats


@dataclass
class Hit:
    path: str
    start_line: int
    end_line: int
    score: float  # cosine similarity
    text: str


def search(db: Path, query: str, embedder: Embedder, k: int = 5) -> tuple[list[Hit], list[str]]:
    """Chroma's top k, and the exact top k ids by NumPy brute force over the same stored vectors."""
    col = open_collection(open_client(db, create=False), embedder, None, create=False)
    n = col.count()
    if n == 0:
        raise OmakaseError(f"the database at {db} is empty; index a folder first")
    k = min(k, n)
    qv = embedder.embed([query]).vectors[0]
    res = col.query(query_embeddings=[qv.tolist()], n_results=k, include=["documents", "metadatas", "distances"])
    hits = [
        Hit(m["path"], m["start_line"], m["end_line"], 1.0 - d, doc)  # Chroma's cosine distance is 1 - cos
        for m, d, doc in zip(res["metadatas"][0], res["distances"][0], res["documents"][0])
    ]
    return hits, exact_top_k(col, qv, k)


def exact_top_k(col, query_vector: np.ndarray, k: int) -> list[str]:
    got = col.get(include=["embeddings"])
    ids, vecs = got["ids"], np.asarray(got["embeddings"], dtype=np.float64)
    vecs = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    q = query_vector / np.linalg.norm(query_vector)
    order = np.argsort(-(vecs @ q), kind="stable")[:k]
    return [ids[i] for i in order]


def overlap_at_k(approx_ids: list[str], exact_ids: list[str]) -> float:
    return len(set(approx_ids) & set(exact_ids)) / len(exact_ids) if exact_ids else 1.0
