"""`omakase lab serve`: one process keeps an index and its model loaded and answers searches over HTTP.

A one-shot `lab search` spends seconds loading torch and MiniLM before it embeds a query in
tens of milliseconds. Kept resident, the load is paid once:

    GET /search?q=...&k=5[&method=dense|bm25|hybrid][&path=GLOB...][&lang=...][&no_tests=true]
        -> the JSON object `lab search --json` prints for the query (same fields, same rows)
    GET /health -> {"chunks": N, "db": "..."}

A bad query answers 400 with {"error": "..."}: the same one line the command would print.
`Client` is what `lab search --server URL` uses. The server binds 127.0.0.1 unless told
otherwise: it has no authentication, and its answers quote the indexed code.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request

from ..errors import OmakaseError
from .search import Searcher, check_filters


def create_app(searcher: Searcher):
    from fastapi import FastAPI, Query
    from fastapi.responses import JSONResponse

    app = FastAPI(title="omakase lab search", docs_url=None, redoc_url=None)
    one_at_a_time = threading.Lock()  # the searcher's lazy parts and Chroma's client are not shared across threads

    @app.get("/health")
    def health() -> dict:
        return {"chunks": searcher.size, "db": str(searcher.db)}

    @app.get("/search")
    def search(q: str = "", k: int = 5, method: str = "dense", path: list[str] = Query(default=[]),
               lang: list[str] = Query(default=[]), no_tests: bool = False, check_exact: bool = False):
        try:
            if not 1 <= k <= 1000:
                raise OmakaseError(f"k must be between 1 and 1000, got {k}")
            filters = check_filters(path, lang, no_tests)
            with one_at_a_time:
                return searcher.search(q, k, method, filters, check_exact).as_json()
        except OmakaseError as e:
            return JSONResponse({"error": str(e)}, status_code=400)

    return app


class Client:
    """Searches through a running server; `answers()` says whether one is there."""

    def __init__(self, url: str, options: dict, timeout: float = 30.0):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise OmakaseError(f"--server {url}: give the server's address, such as http://127.0.0.1:8765")
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.options = {k: v for k, v in options.items() if v not in (None, False, [])}
        self.timeout = timeout

    def _get(self, path: str, params: dict, timeout: float) -> dict:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params, doseq=True)}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            try:
                said = json.loads(e.read()).get("error")
            except (ValueError, AttributeError):
                said = None
            raise OmakaseError(said or f"the lab server at {self.base} answered HTTP {e.code}") from None

    def answers(self) -> bool:
        try:
            return "chunks" in self._get("/health", {}, 2.0)
        except (OSError, ValueError, OmakaseError):
            return False

    def search(self, query: str, k: int) -> dict:
        try:
            return self._get("/search", {"q": query, "k": k, **self.options}, self.timeout)
        except (OSError, ValueError) as e:
            raise OmakaseError(f"the lab server at {self.base} stopped answering ({e}); start it again or search "
                               f"without --server") from None
