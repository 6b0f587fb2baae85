"""Reading a retrieval test collection in the BEIR format, with errors that name the line.

    corpus.jsonl   {"_id": "d1", "title": "", "text": "...", "metadata": {...}}   one document a line
    queries.jsonl  {"_id": "q1", "text": "...", "metadata": {"tag": "lexical"}}  one query a line
    qrels.tsv      query-id <TAB> corpus-id <TAB> score   (an optional header line; score > 0 is
                   relevant and larger is more relevant; 0 marks a judged non-relevant document)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OmakaseError

SHIPPED = Path(__file__).parent / "data" / "codesearch"


@dataclass
class Doc:
    id: str
    title: str
    text: str
    metadata: dict = field(default_factory=dict)

    @property
    def full_text(self) -> str:
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass
class Query:
    id: str
    text: str
    tag: str | None = None


def read_utf8(path: Path, what: str) -> str:
    """A UTF-8 text file's text, or one line saying why it is not one (binary, another encoding)."""
    data = Path(path).read_bytes()
    if b"\0" in data:
        raise OmakaseError(f"{what} {path}: binary (it holds NUL bytes); give a UTF-8 text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise OmakaseError(f"{what} {path}: not UTF-8 text (byte {data[e.start]:#04x} at offset {e.start}); "
                           f"save it as UTF-8") from None


def _jsonl(path: Path, what: str, required: tuple[str, ...]) -> list[tuple[int, dict]]:
    path = Path(path)
    if not path.is_file():
        raise OmakaseError(f"{what} file {path} does not exist; give a {path.suffix or '.jsonl'} file in the BEIR format")
    rows = []
    for n, line in enumerate(read_utf8(path, f"{what} file").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise OmakaseError(f"{path.name} line {n}: not valid JSON ({e.msg}); each line must be one JSON object") from None
        if not isinstance(obj, dict):
            raise OmakaseError(f"{path.name} line {n}: expected a JSON object, got {type(obj).__name__}")
        for key in required:
            if not isinstance(obj.get(key), str) or (key == "_id" and not obj[key]):
                raise OmakaseError(
                    f"{path.name} line {n}: missing or non-string {key!r}; each line needs " + " and ".join(f'"{k}"' for k in required)
                )
        if what == "queries" and not obj["text"].strip():
            raise OmakaseError(f"{path.name} line {n}: the query text is empty; write what is searched for")
        rows.append((n, obj))
    if not rows:
        raise OmakaseError(f"{path.name} holds no {what}; it needs one JSON object a line")
    return rows


def _unique(rows: list[tuple[int, dict]], path: Path) -> None:
    seen: dict[str, int] = {}
    for n, obj in rows:
        if obj["_id"] in seen:
            raise OmakaseError(f"{Path(path).name} line {n}: _id {obj['_id']!r} repeats line {seen[obj['_id']]}; ids must be unique")
        seen[obj["_id"]] = n


def load_corpus(path: str | Path) -> dict[str, Doc]:
    rows = _jsonl(Path(path), "documents", ("_id", "text"))
    _unique(rows, path)
    return {o["_id"]: Doc(o["_id"], o.get("title") or "", o["text"], o.get("metadata") or {}) for _, o in rows}


def load_queries(path: str | Path) -> dict[str, Query]:
    rows = _jsonl(Path(path), "queries", ("_id", "text"))
    _unique(rows, path)
    return {o["_id"]: Query(o["_id"], o["text"], (o.get("metadata") or {}).get("tag", o.get("tag"))) for _, o in rows}


def load_qrels(path: str | Path, queries: dict[str, Query], corpus: dict[str, Doc]) -> dict[str, dict[str, int]]:
    path = Path(path)
    if not path.is_file():
        raise OmakaseError(f"qrels file {path} does not exist; give a .tsv with query-id, corpus-id, score")
    qrels: dict[str, dict[str, int]] = {}
    for n, line in enumerate(read_utf8(path, "qrels file").splitlines(), start=1):
        if not line.strip() or (n == 1 and line.lower().startswith("query-id")):
            continue
        cols = line.rstrip("\n").split("\t")
        if len(cols) != 3:
            raise OmakaseError(f"{path.name} line {n}: expected 3 tab-separated columns (query-id, corpus-id, score), got {len(cols)}")
        qid, did, score = (c.strip() for c in cols)
        try:
            grade = int(score)
        except ValueError:
            raise OmakaseError(f"{path.name} line {n}: score {score!r} is not a whole number") from None
        if qid not in queries:
            raise OmakaseError(f"{path.name} line {n}: query-id {qid!r} is not in the queries file")
        if did not in corpus:
            raise OmakaseError(f"{path.name} line {n}: corpus-id {did!r} is not in the corpus file")
        qrels.setdefault(qid, {})[did] = grade
    if not any(g > 0 for rel in qrels.values() for g in rel.values()):
        raise OmakaseError(f"{path.name} has no relevant pair (score > 0); nothing can be evaluated")
    return qrels
