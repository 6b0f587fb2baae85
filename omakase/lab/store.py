"""A vector database of code: ChromaDB, filled with our own embeddings.

- Where: a folder (Chroma's embedded PersistentClient, in this process), or a Chroma
  server at http(s)://HOST:PORT (`chroma run`, its HttpClient) for people who outgrow
  one process; the same code runs against both.

- Telemetry off, our embeddings always (Chroma's default embedding function would
  try to download a model), cosine space fixed when the collection is created.
- Incremental: every chunk records its file's SHA-256; re-indexing skips files whose
  hash is unchanged, replaces the chunks of changed files and drops deleted files.
- Resumable and idempotent: chunks are written by id (path:start-end) with `upsert`, in
  batches no bigger than the client accepts, and each records how many chunks its file
  has, so a file cut short by an interruption is simply redone and nothing is doubled.
- One writer at a time: a lock file in the database folder, made with an exclusive create
  (a server needs none; see writer_lock).
- One embedder and one chunking strategy per database, recorded in the collection's
  metadata: vectors of two models, or chunks cut two ways, would not rank together.
- Chunks are embedded in pools of several files (EMBED_POOL chunks), so the embedder can sort
  them by length into batches with little padding; a file is written once its pool is embedded.
- What the embedder reads: the share of the files' non-blank lines that some chunk's vector read
  whole (coverage.py), counted per run.
- Odd files do not stop a run: a file that is not text is skipped, and code that does
  not parse is cut into windows, each with a one-line warning and a count.
- Exact reference: a NumPy brute-force search over the stored embeddings; the lab
  reports overlap@k between Chroma's approximate (HNSW) answer and the exact one
  (`omakase lab search --check-exact`; searching many times is search.py's job).
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import OmakaseError
from .chunkers import (DEFAULT_STRATEGY, STRATEGIES, Chunk, Unreadable, check_strategy, chunk_source, code_files,
                       decode_source, source_lines)
from .coverage import Coverage, file_coverage
from .embedders import Embedder

COLLECTION = "omakase_code"
CHROMA_MARKER = "chroma.sqlite3"
LOCK = "omakase-index.lock"
DEFAULT_BATCH = 1000  # records per write, for a client too old to report its own limit
EMBED_POOL = 512  # chunks embedded together across files: enough for batches of like length, little lost to Ctrl-C
DEFAULT_PORTS = {"http": 8000, "https": 443}  # 8000: what `chroma run` listens on unless told otherwise


# ---------------------------------------------------------------- a server instead of a folder

def server_address(db: Path | str) -> tuple[str, int, bool] | None:
    """(host, port, ssl) when --db is the http(s):// address of a Chroma server; None for a folder."""
    text = str(db)
    if "://" not in text:
        return None
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise OmakaseError(f"--db {text}: a Chroma server is reached over http:// or https://, not {scheme}://; "
                           f"give http://HOST:PORT, or a database folder")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port == -1 or port == 0:
        raise OmakaseError(f"--db {text}: the port is not a number from 1 to 65535; give {scheme}://HOST:PORT")
    if not parts.hostname:
        raise OmakaseError(f"--db {text}: no host; give {scheme}://HOST:PORT, e.g. {scheme}://127.0.0.1:8000")
    if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
        raise OmakaseError(f"--db {text}: give only {scheme}://HOST:PORT (Chroma's HTTP client takes no path, "
                           f"query or user)")
    return parts.hostname, port or DEFAULT_PORTS[scheme], scheme == "https"


def _no_server(db: str, host: str, port: int, problem: Exception) -> str:
    start = f"chroma run --path DIR --host {host} --port {port}"
    if isinstance(problem, ValueError) and "could not connect" in str(problem).lower():  # nothing answers
        return f"no Chroma server answers at {db}; start one with: {start}"
    said = (str(problem).strip().splitlines() or [type(problem).__name__])[0][:80]
    return f"something answers at {db}, but not as a Chroma server (it said: {said}); give the address of one, " \
           f"or start one with: {start}"


# ---------------------------------------------------------------- the database folder and its lock

def check_db(db: Path, create: bool) -> None:
    """Refuse a path that is not, and cannot become, a Chroma database; cheap, no Chroma import."""
    db = Path(db)
    if db.exists() and not db.is_dir():
        raise OmakaseError(f"{db} is a file, not a Chroma database folder; choose another database folder")
    if (db / CHROMA_MARKER).is_file():
        return
    if not create and not db.exists():
        raise OmakaseError(f"{db} does not exist, so it is not a Chroma database; index a folder into it first "
                           f"(omakase lab index PATH --db {db}), or give the --db an index was built in")
    if not create:
        raise OmakaseError(f"{db} is not a Chroma database (no {CHROMA_MARKER}); index a folder into it first "
                           f"(omakase lab index)")
    if db.exists() and any(p.name != LOCK for p in db.iterdir()):
        raise OmakaseError(f"{db} is a folder with other files but no {CHROMA_MARKER}, so not a Chroma database; "
                           f"choose an empty or new database folder")


def open_client(db: Path | str, create: bool):
    """A Chroma client for --db: a server's HttpClient for http(s)://HOST:PORT, else the folder's own."""
    server = server_address(db)
    if server is None:
        check_db(Path(db), create)
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if server is None:
        return chromadb.PersistentClient(path=str(db), settings=settings)
    host, port, ssl = server
    try:  # the client asks the server for its tenant at once, so a silent address fails here
        return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
    except Exception as e:  # refused, timed out, not Chroma, TLS: all mean "no server to use here"
        raise OmakaseError(_no_server(str(db), host, port, e)) from None


_held: set[Path] = set()  # locks this process holds: the CLI takes one, then index_folder enters it again


@contextmanager
def writer_lock(db: Path | str):
    """One writer per database folder, until the block ends (Ctrl-C included).

    The lock is a file made with an exclusive create, so of two runs only one can make it;
    it names its process, and a lock whose process is gone (kill -9, a crash) is taken over.

    A server takes no lock: the folder lock exists because two processes each opening the
    folder's SQLite with their own client can leave it unusable, while a server is the one
    process that opens its folder, and it applies each write request whole. Two runs indexing
    the same folder at once end right: chunks are upserted by id, and each run deletes a file's
    chunks before writing them again, so the last write of every file stays. (Two first runs
    racing to create the collection: one is refused; run it again.) A lock kept in the
    collection's metadata would not be one: Chroma has no compare-and-set.
    """
    if server_address(db) is not None:
        yield
        return
    check_db(db, create=True)
    lock = Path(db).absolute() / LOCK
    if lock in _held:
        yield
        return
    lock.parent.mkdir(parents=True, exist_ok=True)
    _take(lock, db)
    _held.add(lock)
    try:
        yield
    finally:
        _held.discard(lock)
        lock.unlink(missing_ok=True)


def _take(lock: Path, db: Path) -> None:
    for _ in range(2):  # the second try follows the removal of a stale lock
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = lock_owner(lock)
            if not is_stale(owner):
                raise OmakaseError(_busy(db, lock, owner)) from None
            # Two runs taking over the same stale lock at the same instant could both get through;
            # that needs two starts within milliseconds after a crash, not what a person does.
            lock.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid()} {socket.gethostname() or '-'}\n")
        return
    raise OmakaseError(_busy(db, lock, lock_owner(lock)))


def lock_owner(lock: Path) -> tuple[int, str] | None:
    """(process id, host) written in a lock file, or None if it cannot be read (yet)."""
    try:
        pid, host = lock.read_text().split()[:2]
        return int(pid), host
    except (OSError, ValueError):
        return None


def is_stale(owner: tuple[int, str] | None) -> bool:
    """True only when we can tell the writer is gone: same machine, and no process with its id."""
    if owner is None or os.name == "nt":  # on Windows, os.kill would end the process, not probe it
        return False
    pid, host = owner
    if host != (socket.gethostname() or "-"):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _busy(db: Path, lock: Path, owner: tuple[int, str] | None) -> str:
    if owner is None:
        return f"{db} is locked by {lock}, which names no process; if no other indexing run is going, delete that file"
    pid, host = owner
    where = "" if host == (socket.gethostname() or "-") else f" on {host}"
    return (f"{db} is being indexed by another run (process {pid}{where}); wait for it to finish, "
            f"or delete {lock} if that run is gone")


# ---------------------------------------------------------------- the collection and what it was built with

def find_collection(client):
    names = [c if isinstance(c, str) else c.name for c in client.list_collections()]
    return client.get_collection(COLLECTION, embedding_function=None) if COLLECTION in names else None


def open_collection(client, embedder: Embedder | None = None, root: Path | None = None,
                    strategy: str | None = None, create: bool = False):
    col = find_collection(client)
    if col is None:
        if not create:
            raise OmakaseError(f"this Chroma database has no {COLLECTION!r} collection; index a folder into it first")
        return client.create_collection(
            COLLECTION,
            embedding_function=None,  # never Chroma's default: it would download a model
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": embedder.name, "dim": embedder.dim, "root": str(root), "strategy": strategy},
        )
    check_collection(col, embedder.name if embedder else None, embedder.dim if embedder else None, root, strategy)
    return col


def check_collection(col, embedder_name: str | None = None, dim: int | None = None,
                     root: Path | None = None, strategy: str | None = None) -> None:
    """Refuse to mix models, folders or chunking strategies in one database; None skips a check."""
    meta = col.metadata or {}
    if embedder_name is not None and (meta.get("embedder") != embedder_name or dim not in (None, meta.get("dim"))):
        theirs = f"{meta.get('embedder')} ({meta.get('dim')}-d)"
        ours = embedder_name + (f" ({dim}-d)" if dim is not None else "")
        raise OmakaseError(f"this database was built with embedder {theirs}, not {ours}; "
                           f"use the same embedder, or a new database folder")
    if root is not None and meta.get("root") not in (None, str(root)):
        raise OmakaseError(f"this database indexes {meta.get('root')}, not {root}; use a new database folder for another folder")
    if strategy is None:
        return
    built = meta.get("strategy") or built_strategy(col)
    if built not in (None, strategy):
        raise OmakaseError(f"this database was built with chunking strategy {built} ({STRATEGIES.get(built, 'mixed')}), "
                           f"not {strategy} ({STRATEGIES[strategy]}); index with strategy {built} again, "
                           f"or into a new database folder")


def built_strategy(col) -> str | None:
    """For a database from before the strategy was recorded: what its chunks say ("A+C" if mixed)."""
    got = col.get(include=["metadatas"])
    found = {m.get("strategy") for m in got["metadatas"] or []} - {None}
    return "+".join(sorted(found)) or None


def check_target(db: Path | str, root: Path | None = None, strategy: str | None = None,
                 embedder_name: str | None = None, create: bool = False) -> None:
    """Every check that needs no model, so a wrong database is refused before one loads."""
    col = find_collection(open_client(db, create))
    if col is None:
        if not create:
            raise OmakaseError(f"this Chroma database has no {COLLECTION!r} collection; index a folder into it first")
        return
    check_collection(col, embedder_name, None, Path(root).resolve() if root else None, strategy)
    if not create and col.count() == 0:
        raise OmakaseError(f"the database at {db} is empty; index a folder into it first")


# ---------------------------------------------------------------- indexing

@dataclass
class IndexStats:
    files: int = 0
    files_unchanged: int = 0  # since the last run
    files_indexed: int = 0
    files_removed: int = 0  # gone from the folder (or now excluded): their chunks were dropped
    files_empty: int = 0  # nothing to embed; not counted as indexed
    files_unreadable: int = 0  # not text: skipped, with a warning
    files_windowed: int = 0  # did not parse: cut into windows, with a warning (also counted as indexed)
    chunks_added: int = 0
    chunks_total: int = 0
    truncated: int = 0  # chunks longer than the embedder reads
    lines: Coverage = field(default_factory=Coverage)  # non-blank lines of the files indexed, and those read whole
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


def max_batch_size(client) -> int:
    # Chroma refuses a bigger write (5,461 records with its SQLite backend): an 8,001-statement file crashed a run
    get = getattr(client, "get_max_batch_size", None)
    return get() if callable(get) else DEFAULT_BATCH


def index_folder(root: Path, db: Path | str, embedder: Embedder, strategy: str = DEFAULT_STRATEGY, progress=None,
                 exclude: list[str] | tuple[str, ...] = (), gitignore: bool = True, warn=None,
                 pool: int = EMBED_POOL) -> IndexStats:
    """Bring the database in line with root's code: new and changed files in, deleted ones out.

    `exclude` holds .gitignore-style patterns; with `gitignore`, root/.gitignore adds its own.
    `progress` hears each file's path when it is done; `warn` hears one line per file that was
    skipped or cut into windows. Chunks are embedded `pool` at a time (0: each file alone).
    """
    root = Path(root).resolve()
    strategy = check_strategy(strategy)
    files = code_files(root, exclude, gitignore)
    warn = warn or (lambda line: None)
    with writer_lock(db):
        client = open_client(db, create=True)
        col = open_collection(client, embedder, root, strategy, create=True)
        if not (col.metadata or {}).get("strategy"):  # built before the strategy was recorded: record it now
            col.modify(metadata={**(col.metadata or {}), "strategy": strategy})
        stored = stored_files(col)
        stats = IndexStats(files=len(files))
        current = {p.relative_to(root).as_posix(): p for p in files}
        for rel in sorted(set(stored) - set(current)):
            col.delete(where={"path": rel})
            stats.files_removed += 1
        size = max_batch_size(client)
        progress = progress or (lambda rel: None)
        t0 = time.perf_counter()
        pending: list[Pending] = []
        for rel, path in current.items():
            todo = prepare_file(col, stats, rel, path, stored.get(rel), embedder, strategy, warn)
            if todo is None:
                progress(rel)
                continue
            pending.append(todo)
            if sum(len(p.chunks) for p in pending) >= pool:
                embed_and_write(col, pending, embedder, stats, size, progress)
                pending = []
        embed_and_write(col, pending, embedder, stats, size, progress)
        stats.seconds = time.perf_counter() - t0
        stats.chunks_total = col.count()
    return stats


@dataclass
class Pending:
    """A file's chunks, waiting for their pool to be embedded."""
    rel: str
    chunks: list[Chunk]
    digest: str
    strategy: str  # "C" for a file that did not parse and was cut into windows


def prepare_file(col, stats: IndexStats, rel: str, path: Path, old: tuple[str, int, int] | None,
                 embedder: Embedder, strategy: str, warn) -> Pending | None:
    """One file: unchanged, empty or skipped (None; `stats` counts which), or chunked and waiting to be embedded."""
    try:
        data = read_bytes(path, rel)
        digest = hashlib.sha256(data).hexdigest()
        if old is not None and old[0] == digest and old[1] == old[2]:
            stats.files_unchanged += 1
            return
        source = decode_source(data, rel)
    except Unreadable as e:
        source, problem = None, e
    if old is not None:
        col.delete(where={"path": rel})  # its old chunks go, whatever the file has become
    if source is None:
        stats.files_unreadable += 1
        warn(f"{problem}; skipped")
        return
    notes: list[str] = []
    chunks = chunk_source(source, rel, strategy, on_parse_error=notes.append, reader=embedder.reader)
    if notes:
        stats.files_windowed += 1
        warn(notes[0])
    if not chunks:
        stats.files_empty += 1
        return None
    stats.lines += file_coverage(chunks, source_lines(source), embedder.reader)
    return Pending(rel, chunks, digest, "C" if notes else strategy)


def embed_and_write(col, pending: list[Pending], embedder: Embedder, stats: IndexStats, batch: int, progress) -> None:
    """Embed the pool's chunks in one call (the embedder batches them by length), then write file by file."""
    chunks = [c for p in pending for c in p.chunks]
    if not chunks:
        return
    emb = embedder.embed([c.embed_text for c in chunks])
    stats.truncated += emb.n_affected
    at = 0
    for p in pending:
        vectors = emb.vectors[at : at + len(p.chunks)]
        at += len(p.chunks)
        for i in range(0, len(p.chunks), batch):
            write(col, p.chunks[i : i + batch], vectors[i : i + batch], p.digest, len(p.chunks), p.strategy)
        stats.files_indexed += 1
        stats.chunks_added += len(p.chunks)
        progress(p.rel)


def read_bytes(path: Path, rel: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:  # gone since the listing, or no permission
        raise Unreadable(f"{rel}: cannot be read ({e.strerror})") from None


def write(col, chunks: list[Chunk], vectors, digest: str, n_chunks: int, strategy: str) -> None:
    col.upsert(  # by id: writing a chunk again, after an interruption, replaces it
        ids=[c.id for c in chunks],
        embeddings=vectors.tolist(),
        documents=[c.text for c in chunks],  # the code alone: search shows it and BM25 reads it
        metadatas=[{"path": c.path, "start_line": c.start, "end_line": c.end, "sha256": digest,
                    "n_chunks": n_chunks, "strategy": strategy, **({"header": c.header} if c.header else {})}
                   for c in chunks],
    )



def overlap_at_k(approx_ids: list[str], exact_ids: list[str]) -> float:
    return len(set(approx_ids) & set(exact_ids)) / len(exact_ids) if exact_ids else 1.0
