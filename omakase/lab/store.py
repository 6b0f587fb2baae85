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
- Every batch is written as soon as it is embedded: the run's chunks are sorted by length
  (a batch is padded to its longest text) and embedded `batch_size` at a time, and Ctrl-C
  keeps every batch written so far. A rerun embeds only the chunks a file still lacks.
- Paths are stored relative to the indexed folder, so a moved or renamed checkout keeps its
  index: the new root is bound automatically when every stored file is found under it, or
  with `rebind`. The collection records whether its last run finished (`complete`), so a
  search can say that it is answering from a partial index.
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
from . import extra
from collections import Counter

from .chunkers import DEFAULT_STRATEGY, STRATEGIES, Chunk, Unreadable, check_strategy, chunk_source, decode_source, source_lines
from .coverage import Coverage, file_coverage
from .embedders import Embedder
from .listing import GENERATED_FILE, MAX_FILE_SIZE, NOT_TEXT, Listing, generated_reason, list_folder, size_text

COLLECTION = "omakase_code"
CHROMA_MARKER = "chroma.sqlite3"
LOCK = "omakase-index.lock"
DEFAULT_BATCH = 1000  # records per write, for a client too old to report its own limit
EMBED_BATCH = 32  # chunks a batch, for an embedder that does not say (MiniLM: its own batch_size)
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
    chromadb = extra("chromadb")
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if server is None:
        try:
            client = chromadb.PersistentClient(path=str(db), settings=settings)
            client.list_collections()  # the SQLite file is opened lazily: read it now
            return client
        except Exception as e:  # Chroma's own errors: a file that is not SQLite, a schema from another version
            said = (str(e).strip().splitlines() or [type(e).__name__])[0][:100]
            raise OmakaseError(f"{Path(db) / CHROMA_MARKER} cannot be opened as a Chroma database ({said}); "
                               f"give the --db an index was built in, or a new folder") from None
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
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        _take(lock, db)
    except PermissionError:
        raise OmakaseError(f"--db {db}: cannot write there (permission denied); give a database folder you can "
                           f"write, or copy it somewhere writable") from None
    except OSError as e:  # read-only file system, disk full
        raise OmakaseError(f"--db {db}: cannot write there ({e.strerror}); give a database folder you can write") from None
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
            metadata={"embedder": embedder.name, "dim": embedder.dim, "root": str(root), "strategy": strategy,
                      "complete": False, "def_lines": True},
        )
    check_collection(col, embedder.name if embedder else None, embedder.dim if embedder else None, strategy)
    return col


def check_collection(col, embedder_name: str | None = None, dim: int | None = None, strategy: str | None = None) -> None:
    """Refuse to mix models or chunking strategies in one database; None skips a check."""
    meta = col.metadata or {}
    if embedder_name is not None and (meta.get("embedder") != embedder_name or dim not in (None, meta.get("dim"))):
        theirs = f"{meta.get('embedder')} ({meta.get('dim')}-d)"
        ours = embedder_name + (f" ({dim}-d)" if dim is not None else "")
        raise OmakaseError(f"this database was built with embedder {theirs}, not {ours}; "
                           f"use the same embedder, or a new database folder")
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


MOVED_SHARE = 0.9  # of the stored files found under a new root, for it to count as the same code moved


def other_root(col, root: Path, rels: set[str], rebind: bool = False) -> str | None:
    """The root this database was built from, when it is not `root` and may be re-bound to it; else None.

    Paths are stored relative to the root, so a checkout that was moved or renamed needs only
    its new root recorded: that happens when `rebind` is asked for, or when the stored files are
    (nearly all) found under the new root. Another folder's code is refused.
    """
    old = (col.metadata or {}).get("root")
    if old in (None, str(root)):
        return None
    stored = set(stored_files(col))
    found = len(stored & rels) / len(stored) if stored else 1.0
    if rebind or found >= MOVED_SHARE:
        return old
    raise OmakaseError(f"this database indexes {old}, not {root} (only {100 * found:.0f}% of its files are there); "
                       f"if this is the same code moved, pass --rebind; for another folder, use a new database folder")


def check_target(db: Path | str, listing: Listing | None = None, strategy: str | None = None,
                 embedder_name: str | None = None, create: bool = False, rebind: bool = False) -> None:
    """Every check that needs no model, so a wrong database is refused before one loads."""
    col = find_collection(open_client(db, create))
    if col is None:
        if not create:
            raise OmakaseError(f"this Chroma database has no {COLLECTION!r} collection; index a folder into it first")
        return
    check_collection(col, embedder_name, None, strategy)
    if listing is not None:
        other_root(col, listing.root, {listing.rel(p) for p in listing.files}, rebind)
    if not create and col.count() == 0:
        raise OmakaseError(f"the database at {db} is empty; index a folder into it first")


def is_partial(db: Path | str, col) -> str | None:
    """Why the index may not hold every file yet (an indexing run going on, or one stopped); None when complete."""
    if server_address(db) is None:
        owner = lock_owner(Path(db) / LOCK)
        if owner is not None and not is_stale(owner):
            return f"an indexing run (process {owner[0]}) is writing it now"
    if (col.metadata or {}).get("complete") is False:
        return "its last indexing run stopped before the end; run `omakase lab index` again to finish it"
    return None


# ---------------------------------------------------------------- indexing

@dataclass
class IndexStats:
    files: int = 0  # code files listed for indexing
    files_unchanged: int = 0  # since the last run
    files_indexed: int = 0  # every chunk written
    files_resumed: int = 0  # of those, files a stopped run had begun: only their missing chunks were embedded
    files_removed: int = 0  # gone from the folder (or now left out): their chunks were dropped
    files_empty: int = 0  # nothing to embed; not counted as indexed
    files_windowed: int = 0  # did not parse: cut into windows, with a warning (also counted as indexed)
    skipped_folders: Counter = field(default_factory=Counter)  # reason -> count (listing.py's reasons)
    skipped_files: Counter = field(default_factory=Counter)
    max_file_size: int | None = MAX_FILE_SIZE
    rebound_from: str | None = None  # the root the database had, when this run bound it to a moved checkout
    chunks_added: int = 0
    chunks_total: int = 0
    truncated: int = 0  # chunks longer than the embedder reads
    lines: Coverage = field(default_factory=Coverage)  # non-blank lines of the files indexed, and those read whole
    seconds: float = 0.0

    @property
    def chunks_per_second(self) -> float:
        return self.chunks_added / self.seconds if self.seconds else 0.0


@dataclass
class Progress:
    """Where a run is: reading files (`done`/`total` files), then embedding (`done`/`total` chunks)."""

    stage: str  # "reading" or "embedding"
    done: int
    total: int
    work_done: int = 0  # embedding: characters embedded so far (a batch costs about its length)
    work_total: int = 0
    seconds: float = 0.0  # since the stage began

    @property
    def eta_seconds(self) -> float | None:
        if self.stage != "embedding" or not self.work_done or not self.seconds:
            return None
        return self.seconds * (self.work_total - self.work_done) / self.work_done


def stored_files(col) -> dict[str, tuple[str, int, set[str]]]:
    """path -> (file hash, chunks the file should have, ids of the chunks stored), from the chunks' metadata."""
    got = col.get(include=["metadatas"])
    files: dict[str, tuple[str, int, set[str]]] = {}
    for chunk_id, meta in zip(got["ids"], got["metadatas"] or []):
        path = meta["path"]
        h, want, have = files.get(path, (meta["sha256"], meta["n_chunks"], set()))
        if h != meta["sha256"]:
            h = "mixed"  # leftovers of two versions: redo the file
        have.add(chunk_id)
        files[path] = (h, want, have)
    return files


def max_batch_size(client) -> int:
    # Chroma refuses a bigger write (5,461 records with its SQLite backend): an 8,001-statement file crashed a run
    get = getattr(client, "get_max_batch_size", None)
    return get() if callable(get) else DEFAULT_BATCH


def index_folder(root: Path, db: Path | str, embedder: Embedder, strategy: str = DEFAULT_STRATEGY, progress=None,
                 exclude: list[str] | tuple[str, ...] = (), gitignore: bool = True, warn=None,
                 batch_size: int | None = None, max_file_size: int | None = MAX_FILE_SIZE,
                 rebind: bool = False, listing: Listing | None = None) -> IndexStats:
    """Bring the database in line with root's code: new and changed files in, deleted ones out.

    `exclude` holds .gitignore-style patterns, read after the folder's own .gitignore files
    (`gitignore`). `progress` hears a Progress after each file read and each batch written;
    `warn` hears one line per file that was skipped or cut into windows. Chunks are embedded
    `batch_size` at a time (default: the embedder's own), shortest first, and each batch is
    written before the next is embedded. `listing`: root's listing made already with the same
    options (the command line lists before the model loads, to refuse an empty folder).
    """
    strategy = check_strategy(strategy)
    listing = listing or list_folder(root, exclude, gitignore, max_file_size)
    root = listing.root
    warn = warn or (lambda line: None)
    progress = progress or (lambda p: None)
    stats = IndexStats(files=len(listing.files), skipped_folders=Counter(listing.skipped_folders),
                       skipped_files=Counter(listing.skipped_files), max_file_size=max_file_size)
    for rel, size in listing.too_big:
        warn(f"{rel}: {size_text(size)}, over the {size_text(max_file_size)} limit (--max-file-size); skipped")
    with writer_lock(db):
        client = open_client(db, create=True)
        col = open_collection(client, embedder, root, strategy, create=True)
        current = {listing.rel(p): p for p in listing.files}
        stats.rebound_from = other_root(col, root, set(current), rebind)
        # recorded before any write, so that a search meanwhile, or after a Ctrl-C, knows the index is partial
        col.modify(metadata={**(col.metadata or {}), "strategy": strategy, "root": str(root), "complete": False})
        stored = stored_files(col)
        # a database from before chunks recorded their function's def line: label its F chunks, embedding nothing
        relabel = strategy == "F" and not (col.metadata or {}).get("def_lines")
        for rel in sorted(set(stored) - set(current)):
            col.delete(where={"path": rel})
            stats.files_removed += 1
        t0 = time.perf_counter()
        pending: list[Pending] = []
        for n, (rel, path) in enumerate(current.items(), 1):
            todo = prepare_file(col, stats, rel, path, stored.get(rel), embedder, strategy, warn, relabel)
            if todo is not None:
                pending.append(todo)
            progress(Progress("reading", n, len(current), seconds=time.perf_counter() - t0))
        embed_and_write(col, pending, embedder, stats, min(max_batch_size(client), batch_size or
                                                           getattr(embedder, "batch_size", EMBED_BATCH)), progress)
        stats.seconds = time.perf_counter() - t0
        stats.chunks_total = col.count()
        col.modify(metadata={**(col.metadata or {}), "complete": True, "def_lines": True})
    return stats


@dataclass
class Pending:
    """A file's chunks still to embed (all of them, or those a stopped run did not write)."""
    rel: str
    chunks: list[Chunk]
    digest: str
    n_chunks: int  # the file's chunks in all, recorded with each so a rerun can tell a file is whole
    strategy: str  # "C" for a file that did not parse and was cut into windows
    resumed: bool = False


def prepare_file(col, stats: IndexStats, rel: str, path: Path, old: tuple[str, int, set[str]] | None,
                 embedder: Embedder, strategy: str, warn, relabel: bool = False) -> Pending | None:
    """One file: unchanged, empty or skipped (None; `stats` counts which), or chunked and waiting to be embedded.

    With `relabel`, an unchanged file's stored chunks get the def lines they lack (strategy F's
    chunks are the same for the same text, so their vectors stay).
    """
    problem = None
    try:
        data = read_bytes(path, rel)
        digest = hashlib.sha256(data).hexdigest()
        if old is not None and old[0] == digest and old[1] == len(old[2]):
            stats.files_unchanged += 1
            if relabel:
                add_def_lines(col, rel, decode_source(data, rel), digest, embedder, old[2])
            return None
        source = decode_source(data, rel)
    except Unreadable as e:
        source, problem = None, e
    resuming = old is not None and source is not None and old[0] == digest
    if old is not None and not resuming:
        col.delete(where={"path": rel})  # its old chunks go, whatever the file has become
    if source is None:
        stats.skipped_files[NOT_TEXT] += 1
        warn(f"{problem}; skipped")
        return None
    generated = generated_reason(source, rel)
    if generated:
        stats.skipped_files[GENERATED_FILE] += 1
        if old is not None:
            col.delete(where={"path": rel})
        warn(f"{rel}: {generated}; skipped")
        return None
    notes: list[str] = []
    chunks = chunk_source(source, rel, strategy, on_parse_error=notes.append, reader=embedder.reader)
    if notes:
        stats.files_windowed += 1
        warn(notes[0])
    if not chunks:
        stats.files_empty += 1
        return None
    stats.lines += file_coverage(chunks, source_lines(source), embedder.reader)
    todo = [c for c in chunks if c.id not in old[2]] if resuming else chunks
    return Pending(rel, todo, digest, len(chunks), "C" if notes else strategy, resumed=resuming)


def add_def_lines(col, rel: str, source: str, digest: str, embedder: Embedder, stored: set[str]) -> None:
    """Record the def line of each stored F chunk of an unchanged file (a file cut into windows has none)."""
    chunks = chunk_source(source, rel, "F", on_parse_error=lambda note: None, reader=embedder.reader)
    p = Pending(rel, chunks, digest, len(chunks), "F")
    labelled = [c for c in chunks if c.def_line and c.id in stored]
    if labelled:
        col.update(ids=[c.id for c in labelled], metadatas=[chunk_metadata(c, p) for c in labelled])


def embed_and_write(col, pending: list[Pending], embedder: Embedder, stats: IndexStats, batch: int, progress) -> None:
    """Embed every pending chunk, shortest first, `batch` at a time, writing each batch before the next."""
    queue = sorted(((len(c.embed_text), n, c) for n, p in enumerate(pending) for c in p.chunks),
                   key=lambda t: t[0])  # stable: like lengths keep file order
    left = [len(p.chunks) for p in pending]
    for n, p in enumerate(pending):
        if not left[n]:  # a resumed file that lacked nothing
            _file_done(stats, p)
    total_chars = sum(t[0] for t in queue)
    done = done_chars = 0
    t0 = time.perf_counter()
    progress(Progress("embedding", 0, len(queue), 0, total_chars))
    for b in range(0, len(queue), batch):
        part = queue[b : b + batch]
        emb = embedder.embed([c.embed_text for _, _, c in part])
        stats.truncated += emb.n_affected
        write(col, [(c, pending[n]) for _, n, c in part], emb.vectors)
        for _, n, _ in part:
            left[n] -= 1
            stats.chunks_added += 1
            if not left[n]:
                _file_done(stats, pending[n])
        done += len(part)
        done_chars += sum(t[0] for t in part)
        progress(Progress("embedding", done, len(queue), done_chars, total_chars, time.perf_counter() - t0))


def _file_done(stats: IndexStats, p: Pending) -> None:
    stats.files_indexed += 1
    stats.files_resumed += p.resumed


def read_bytes(path: Path, rel: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:  # gone since the listing, or no permission
        raise Unreadable(f"{rel}: cannot be read ({e.strerror})") from None


def write(col, chunks: list[tuple[Chunk, Pending]], vectors) -> None:
    """Upsert chunks (each with its file) by id: writing a chunk again, after an interruption, replaces it."""
    col.upsert(
        ids=[c.id for c, _ in chunks],
        embeddings=vectors.tolist(),
        documents=[c.text for c, _ in chunks],  # the code alone: search shows it and BM25 reads it
        metadatas=[chunk_metadata(c, p) for c, p in chunks],
    )


def chunk_metadata(c: Chunk, p: Pending) -> dict:
    return {"path": c.path, "start_line": c.start, "end_line": c.end, "sha256": p.digest, "n_chunks": p.n_chunks,
            "strategy": p.strategy, **({"header": c.header} if c.header else {}),
            **({"def_line": c.def_line, "symbol": c.symbol} if c.def_line else {})}


def overlap_at_k(approx_ids: list[str], exact_ids: list[str]) -> float:
    return len(set(approx_ids) & set(exact_ids)) / len(exact_ids) if exact_ids else 1.0
